//! `idpviews generate` end to end: the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example() -> (PathBuf, PathBuf) {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/generate/example");
    (case.join("schema"), case.join("idp-views.toml"))
}

fn idpviews(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn generate(schema: &Path, config: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate",
        "--schema",
        schema.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    idpviews(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn generate_then_check_then_drift() {
    let (schema, config) = example();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("packages/idp-views");

    // --check on a missing package: stale, writes nothing
    let o = generate(&schema, &config, &out, &["--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!out.exists());

    let o = generate(&schema, &config, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).matches("wrote ").count(), 3);
    for f in ["idp-views.prisma", "create-idp-views.sql", "idp-views.lock"] {
        assert!(out.join(f).is_file(), "{f}");
    }

    let o = generate(&schema, &config, &out, &["--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("up to date"));

    // a hand edit is drift: exit 1, a unified diff, the fix; nothing written
    let prisma = out.join("idp-views.prisma");
    let edited = std::fs::read_to_string(&prisma)
        .unwrap()
        .replace("  avatarUrl ", "  avatar    ");
    assert_ne!(edited, std::fs::read_to_string(&prisma).unwrap());
    std::fs::write(&prisma, &edited).unwrap();
    let before = snapshot(&out);
    let o = generate(&schema, &config, &out, &["--check"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("idp-views.prisma` is out of date"), "{err}");
    assert!(err.contains("(committed)\n+++ "), "{err}");
    assert!(err.contains("\n@@ -"), "{err}");
    assert!(err.contains("\n-  avatar "), "{err}");
    assert!(err.contains("\n+  avatarUrl "), "{err}");
    assert!(
        err.contains("help: run `idpviews generate --schema"),
        "{err}"
    );
    assert_eq!(snapshot(&out), before);

    // regenerating repairs it, and only the edited file is written
    let o = generate(&schema, &config, &out, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("wrote {}", prisma.display())
    );
}

#[test]
fn breaking_change_fails_and_leaves_the_package_untouched() {
    let (schema, config) = example();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pkg");
    assert_eq!(generate(&schema, &config, &out, &[]).status.code(), Some(0));
    let before = snapshot(&out);

    // drop `avatarUrl` from IdpUser
    let reduced = dir.path().join("idp-views.toml");
    let toml = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\"avatarUrl\", ", "");
    assert_ne!(toml, std::fs::read_to_string(&config).unwrap());
    std::fs::write(&reduced, toml).unwrap();

    let o = generate(&schema, &reduced, &out, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("breaking change: column `avatarUrl` of view `IdpUser` was"),
        "{err}"
    );
    assert!(err.contains("--allow-breaking"), "{err}");
    assert_eq!(
        snapshot(&out),
        before,
        "a failed run leaves the package as it was"
    );

    let o = generate(&schema, &reduced, &out, &["--allow-breaking"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: breaking change"), "{err}");
    assert_ne!(snapshot(&out), before);
}

#[test]
fn errors_and_usage() {
    let (schema, _) = example();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idp-views.toml");
    std::fs::write(
        &config,
        "[views.IdpUser]\nmodel = \"User\"\nfields = [\"id\", \"password\"]\n",
    )
    .unwrap();
    let o = generate(&schema, &config, &dir.path().join("out"), &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("error: field `password` of `User` holds a secret (password)"),
        "{err}"
    );
    assert!(err.contains("idp-views.toml:3:17"), "{err}");
    assert!(!dir.path().join("out").exists());

    // a missing input is an error naming the path, not a panic
    let o = generate(
        &schema,
        &dir.path().join("nope.toml"),
        &dir.path().join("out"),
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("nope.toml"));

    // usage errors exit 2
    let o = idpviews(&["generate", "--schema", "x"]);
    assert_eq!(o.status.code(), Some(2));
    let o = idpviews(&["generate", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("--allow-breaking"));
}
