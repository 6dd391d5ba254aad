//! `idpviews merge` end to end: the built binary on the merge test cases
//! (`tests/cases/merge/`), as a TypeScript product's CI would run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/merge")
}

fn merge(out: &Path, relations: &Path, product: Option<&Path>, check: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idpviews"));
    cmd.arg("merge")
        .arg("--views")
        .arg(cases().join("package"))
        .arg("--relations")
        .arg(relations)
        .arg("--out")
        .arg(out)
        .env("NO_COLOR", "1");
    if let Some(p) = product {
        cmd.arg("--product-schema").arg(p);
    }
    if check {
        cmd.arg("--check");
    }
    cmd.output().expect("run idpviews")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn merge_writes_then_check_passes_then_detects_staleness() {
    let case = cases().join("multiple-relations");
    let dir = tempfile::tempdir().unwrap();
    // the product schema directory holds the output too, as in the PoC
    let schema = dir.path().join("prisma/schema");
    std::fs::create_dir_all(&schema).unwrap();
    for f in ["_config.prisma", "models.prisma"] {
        std::fs::copy(case.join("product").join(f), schema.join(f)).unwrap();
    }
    let out = schema.join("idp-views.prisma");
    let conf = case.join("idp-relations.conf");

    // --check on a missing file: stale, nothing written
    let o = merge(&out, &conf, Some(&schema), true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is out of date"), "{}", stderr(&o));
    assert!(!out.exists());

    let o = merge(&out, &conf, Some(&schema), false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected = std::fs::read_to_string(case.join("expected/idp-views.prisma")).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);

    // the output inside the product schema is not read as product input
    let o = merge(&out, &conf, Some(&schema), true);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // a conf change makes --check fail with a diff, and writes nothing
    let conf2 = dir.path().join("idp-relations.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf2, text.replace("IdpTenant:drivers Driver[]", "")).unwrap();
    std::fs::write(
        schema.join("models.prisma"),
        std::fs::read_to_string(schema.join("models.prisma"))
            .unwrap()
            .replace(
                "tenant      IdpTenant? @relation(fields: [tenantCode], references: [code])",
                "",
            ),
    )
    .unwrap();
    let o = merge(&out, &conf2, Some(&schema), true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("-  drivers Driver[]"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("idpviews merge --views"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

#[test]
fn merge_reports_diagnostics_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("idp-relations.conf");
    std::fs::write(&conf, "IdpUsr:drivers Driver[]\n").unwrap();
    let out = dir.path().join("idp-views.prisma");
    let o = merge(&out, &conf, None, false);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error: unknown view `IdpUsr`"), "{err}");
    assert!(err.contains("idp-relations.conf:1:1"), "{err}");
    assert!(err.contains("did you mean `IdpUser`?"), "{err}");
    assert!(!out.exists());
}

#[test]
fn merge_without_product_schema_is_the_poc_script() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idp-views.prisma");
    let case = cases().join("poc-no-product-schema");
    let o = merge(&out, &case.join("idp-relations.conf"), None, false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(case.join("expected/idp-views.prisma")).unwrap()
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(["merge", "--views", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
