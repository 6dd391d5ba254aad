//! Real `cargo build`s of a throwaway product crate that depends on
//! `idpviews-build` by path, as a product would.
//!
//! All builds share one target directory (`<workspace>/target/throwaway`)
//! and run one after the other inside a single test, so `idpviews-build`
//! is compiled once. The workspace `Cargo.lock` is copied into the crate and
//! builds run `--offline`: no network, no resolution.
//!
//! The product's build script appends its `OUT_DIR` to a log file on every
//! run: that is how the tests see whether Cargo reran it.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Crate {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    runs_log: PathBuf,
    target: PathBuf,
}

struct Build {
    ok: bool,
    stderr: String,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

const BUILD_RS_HEAD: &str = r#"
use std::io::Write as _;
fn main() {
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(RUNS_LOG).unwrap();
    writeln!(log, "{}", std::env::var("OUT_DIR").unwrap()).unwrap();
"#;

impl Crate {
    fn new() -> Crate {
        let ws = workspace();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("product");
        let runs_log = tmp.path().join("runs.log");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"throwaway-product\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [build-dependencies]\nidpviews-build = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
                ws.join("idpviews-build").display().to_string()
            ),
        )
        .unwrap();
        std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        std::fs::copy(
            ws.join("rust-toolchain.toml"),
            dir.join("rust-toolchain.toml"),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/main.rs"),
            "const VIEWS: &str = include_str!(concat!(env!(\"OUT_DIR\"), \"/idpviews/views.json\"));\n\
             fn main() { println!(\"{}\", VIEWS.len()); }\n",
        )
        .unwrap();
        copy_dir(
            &ws.join("tests/cases/merge/package"),
            &dir.join("idp-views"),
        );
        copy_dir(
            &ws.join("tests/cases/merge/multiple-relations/product"),
            &dir.join("prisma/schema"),
        );
        std::fs::copy(
            ws.join("tests/cases/merge/multiple-relations/idp-relations.conf"),
            dir.join("idp-relations.conf"),
        )
        .unwrap();
        let c = Crate {
            _tmp: tmp,
            dir,
            runs_log,
            target: ws.join("target/throwaway"),
        };
        c.build_rs(
            r#"idpviews_build::Product::new()
        .views_dir("idp-views")
        .relations("idp-relations.conf")
        .product_schema("prisma/schema")
        .compile_or_exit();"#,
        );
        c
    }

    fn build_rs(&self, body: &str) {
        std::fs::write(
            self.dir.join("build.rs"),
            format!(
                "const RUNS_LOG: &str = {:?};\n{BUILD_RS_HEAD}    {body}\n}}\n",
                self.runs_log.display().to_string()
            ),
        )
        .unwrap();
    }

    fn build_env(&self, env: &[(&str, &str)]) -> Build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--offline", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("IDPVIEWS_BLESS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("cargo runs");
        Build {
            ok: out.status.success(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn build(&self) -> Build {
        self.build_env(&[])
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.runs_log)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn out_dir(&self) -> PathBuf {
        let log = std::fs::read_to_string(&self.runs_log).unwrap();
        PathBuf::from(log.lines().last().unwrap()).join("idpviews")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

#[track_caller]
fn assert_ok(b: &Build, what: &str) {
    assert!(b.ok, "{what}: build failed:\n{}", b.stderr);
}

#[track_caller]
fn assert_fails_with(b: &Build, needles: &[&str], what: &str) {
    assert!(!b.ok, "{what}: build succeeded, expected a failure");
    for n in needles {
        assert!(
            b.stderr.contains(n),
            "{what}: stderr lacks {n:?}:\n{}",
            b.stderr
        );
    }
    assert!(
        !b.stderr.contains("panicked") && !b.stderr.contains("RUST_BACKTRACE"),
        "{what}: the build script panicked:\n{}",
        b.stderr
    );
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

/// Waits so that a later write gets a distinct mtime.
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn cargo_builds_of_a_product_crate() {
    let c = Crate::new();

    // 1. success: the outputs are in OUT_DIR/idpviews
    let b = c.build();
    assert_ok(&b, "first build");
    assert_eq!(c.runs(), 1);
    let out = c.out_dir();
    let merged = std::fs::read_to_string(out.join("idp-views.prisma")).unwrap();
    let expected = std::fs::read_to_string(
        workspace().join("tests/cases/merge/multiple-relations/expected/idp-views.prisma"),
    )
    .unwrap();
    assert_eq!(merged, expected);
    assert_eq!(
        std::fs::read(out.join("create-idp-views.sql")).unwrap(),
        std::fs::read(c.path("idp-views/create-idp-views.sql")).unwrap()
    );
    let json = std::fs::read_to_string(out.join("views.json")).unwrap();
    assert!(json.contains("\"fk_columns\""), "{json}");
    let merged_mtime = mtime(&out.join("idp-views.prisma"));

    // 2. a no-op build does not rerun the build script
    assert_ok(&c.build(), "no-op build");
    assert_eq!(c.runs(), 1, "a no-op build reran the build script");

    // 3. an edit to an unrelated source file does not rerun it either
    tick();
    std::fs::write(
        c.path("src/main.rs"),
        std::fs::read_to_string(c.path("src/main.rs")).unwrap() + "// edit\n",
    )
    .unwrap();
    assert_ok(&c.build(), "unrelated edit");
    assert_eq!(c.runs(), 1, "an unrelated edit reran the build script");

    // 4. touching an input reruns it, but unchanged outputs keep their mtime
    tick();
    let conf = std::fs::read_to_string(c.path("idp-relations.conf")).unwrap();
    std::fs::write(c.path("idp-relations.conf"), &conf).unwrap();
    assert_ok(&c.build(), "touched conf");
    assert_eq!(
        c.runs(),
        2,
        "touching the conf did not rerun the build script"
    );
    assert_eq!(
        mtime(&out.join("idp-views.prisma")),
        merged_mtime,
        "an unchanged output was rewritten"
    );

    // 5. a file added to the product schema directory reruns it
    tick();
    std::fs::write(
        c.path("prisma/schema/vehicle.prisma"),
        "model Vehicle {\n  id String @id\n\n  @@schema(\"fuel_logistics\")\n}\n",
    )
    .unwrap();
    assert_ok(&c.build(), "added schema file");
    assert_eq!(
        c.runs(),
        3,
        "a new schema file did not rerun the build script"
    );

    // 6. each failure mode fails the build with its message, no panic
    std::fs::write(
        c.path("idp-relations.conf"),
        format!("{conf}IdpUsr:vehicles Vehicle[]\n"),
    )
    .unwrap();
    let b = c.build();
    assert_fails_with(
        &b,
        &[
            "unknown view `IdpUsr`",
            "idp-relations.conf:10:1",
            "did you mean `IdpUser`?",
        ],
        "unknown view",
    );
    // cargo::error= headlines (Cargo >= 1.84) appear too
    assert!(
        b.stderr
            .contains("error: throwaway-product@0.1.0: idpviews: unknown view"),
        "{}",
        b.stderr
    );

    std::fs::write(
        c.path("idp-relations.conf"),
        format!("{conf}IdpUser:email Vehicle[]\n"),
    )
    .unwrap();
    assert_fails_with(
        &c.build(),
        &["collides with the column `IdpUser.email`"],
        "collision",
    );

    std::fs::write(
        c.path("idp-relations.conf"),
        format!("{conf}IdpUser:vehicles Vehicle[]\n"),
    )
    .unwrap();
    assert_fails_with(
        &c.build(),
        &[
            "the model `Vehicle` has no relation field to the view `IdpUser`",
            "idpUser IdpUser @relation(fields: [idpUserId], references: [id])",
        ],
        "missing opposite field",
    );
    std::fs::write(c.path("idp-relations.conf"), &conf).unwrap();

    let config = std::fs::read_to_string(c.path("prisma/schema/_config.prisma")).unwrap();
    std::fs::write(
        c.path("prisma/schema/_config.prisma"),
        config.replace(", \"idp_views\"", ""),
    )
    .unwrap();
    assert_fails_with(
        &c.build(),
        &["does not list `idp_views`"],
        "datasource schemas",
    );
    std::fs::write(
        c.path("prisma/schema/_config.prisma"),
        config.replace("previewFeatures = [\"views\"]", ""),
    )
    .unwrap();
    assert_fails_with(
        &c.build(),
        &["does not enable the `views` preview feature"],
        "preview feature",
    );
    std::fs::write(c.path("prisma/schema/_config.prisma"), &config).unwrap();

    let pkg = std::fs::read_to_string(c.path("idp-views/idp-views.prisma")).unwrap();
    std::fs::write(
        c.path("idp-views/idp-views.prisma"),
        pkg.replace("  name String\n", "  name String\n  secret String\n"),
    )
    .unwrap();
    assert_fails_with(
        &c.build(),
        &[
            "Products never edit files in the vendored package",
            "idp-views.lock",
        ],
        "hand edit",
    );
    std::fs::write(c.path("idp-views/idp-views.prisma"), &pkg).unwrap();

    // an uninitialised submodule: missing, then empty
    std::fs::rename(c.path("idp-views"), c.path("vendored")).unwrap();
    assert_fails_with(
        &c.build(),
        &["git submodule update --init", "does not exist"],
        "missing views dir",
    );
    assert_fails_with(
        &c.build(),
        &["git submodule update --init"],
        "missing views dir, again",
    );
    std::fs::create_dir(c.path("idp-views")).unwrap();
    assert_fails_with(
        &c.build(),
        &["git submodule update --init", "is empty"],
        "empty views dir",
    );
    std::fs::remove_dir(c.path("idp-views")).unwrap();
    std::fs::rename(c.path("vendored"), c.path("idp-views")).unwrap();
    assert_ok(&c.build(), "restored");
    let runs = c.runs();
    assert_ok(&c.build(), "no-op after the failures");
    assert_eq!(
        c.runs(),
        runs,
        "a no-op build after recovering reran the build script"
    );

    // 7. drift against a committed copy; bless rewrites it
    c.build_rs(
        r#"idpviews_build::Product::new()
        .views_dir("idp-views")
        .relations("idp-relations.conf")
        .product_schema("prisma/schema")
        .committed("prisma/schema/idp-views.prisma")
        .compile_or_exit();"#,
    );
    let committed = c.path("prisma/schema/idp-views.prisma");
    std::fs::write(&committed, &pkg).unwrap();
    assert_fails_with(
        &c.build(),
        &[
            "is out of date",
            "+  drivers        Driver[]",
            "IDPVIEWS_BLESS=1 cargo build",
        ],
        "drift",
    );
    assert_eq!(
        std::fs::read_to_string(&committed).unwrap(),
        pkg,
        "drift rewrote the committed file without bless"
    );
    // only `1` blesses
    for value in ["0", "false", ""] {
        assert_fails_with(
            &c.build_env(&[("IDPVIEWS_BLESS", value)]),
            &["is out of date"],
            "IDPVIEWS_BLESS that is not 1",
        );
        assert_eq!(std::fs::read_to_string(&committed).unwrap(), pkg);
    }
    assert_ok(&c.build_env(&[("IDPVIEWS_BLESS", "1")]), "bless");
    assert_eq!(
        std::fs::read_to_string(&committed).unwrap(),
        merged,
        "bless did not rewrite the committed file"
    );
    assert_ok(&c.build(), "after bless");
    let runs = c.runs();
    assert_ok(&c.build(), "no-op after bless");
    assert_eq!(
        c.runs(),
        runs,
        "a no-op build after bless reran the build script"
    );

    // 8. the one-call shortcut on the conventional layout
    c.build_rs("idpviews_build::compile_product();");
    assert_ok(&c.build(), "shortcut");
    let runs = c.runs();
    assert_ok(&c.build(), "shortcut no-op");
    assert_eq!(
        c.runs(),
        runs,
        "a no-op build with the shortcut reran the build script"
    );
    assert_eq!(
        std::fs::read_to_string(c.out_dir().join("idp-views.prisma")).unwrap(),
        merged
    );

    // 9. the shortcut without `prisma/schema` (a Rust-only product): the
    // missing path is not watched, so Cargo does not rerun forever
    std::fs::rename(c.path("prisma"), c.path("prisma-moved")).unwrap();
    let before = c.runs();
    assert_ok(&c.build(), "shortcut without a product schema");
    assert_eq!(c.runs(), before + 1);
    // unchecked relations cannot be resolved: views.json has none
    let json = std::fs::read_to_string(c.out_dir().join("views.json")).unwrap();
    assert!(!json.contains("\"relations\""), "{json}");
    let runs = c.runs();
    assert_ok(&c.build(), "shortcut without a product schema, no-op");
    assert_eq!(
        c.runs(),
        runs,
        "a missing optional input made Cargo rerun the build script"
    );
}
