//! `idpviews validate` end to end: the built binary on real files.

use std::path::Path;
use std::process::{Command, Output};

fn validate(path: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .arg("validate")
        .arg("--schema")
        .arg(path)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("run idpviews")
}

const USER: &str = "model User {\n  id    String @id\n  posts Post[]\n}\n";
const POST: &str =
    "model Post {\n  id       Int    @id\n  authorId String\n  author   User   @relation(fields: [authorId], references: [id])\n}\n";

#[test]
fn a_valid_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.prisma");
    std::fs::write(&file, format!("{USER}\n{POST}")).unwrap();
    let out = validate(&file, &["--verbose"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (1 file(s), 2 model(s)"));
    assert!(out.stderr.is_empty());
}

#[test]
fn a_directory_is_one_schema_across_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models/user.prisma"), USER).unwrap();
    std::fs::write(dir.path().join("post.prisma"), POST).unwrap();
    let out = validate(dir.path(), &["-v"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 file(s)"));

    // names resolve across files, so a typo in one file is found against the other
    std::fs::write(
        dir.path().join("post.prisma"),
        POST.replace("author   User", "author   Usr"),
    )
    .unwrap();
    let out = validate(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean `User`?"), "{stderr}");
    assert!(stderr.contains("post.prisma:4:12"), "{stderr}");
}

#[test]
fn an_invalid_file_exits_1_with_rustc_style_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.prisma");
    std::fs::write(
        &file,
        "model User {\n  id String @id\n  email Strng\n  name String @default(\"open)\n}\n",
    )
    .unwrap();
    let out = validate(&file, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: type `Strng` is neither a built-in type"),
        "{stderr}"
    );
    assert!(stderr.contains("bad.prisma:3:9"), "{stderr}");
    assert!(
        stderr.contains("  |         ^^^^^ unknown type"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= help: did you mean `String`?"),
        "{stderr}"
    );
    assert!(stderr.contains("error: unterminated string"), "{stderr}");
    assert!(
        stderr.contains("aborting due to 2 previous errors"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\x1b["),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(["validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = validate(Path::new("/nonexistent/schema.prisma"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/schema.prisma"));
    let help = Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(["validate", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit status"));
}
