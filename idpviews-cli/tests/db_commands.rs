//! `idpviews apply | verify | grants | audit` end to end: the example IDP's
//! package against a fresh database, through the real binary.

use idpviews_build::manifest::{Manifest, ManifestRelation, OUT_MANIFEST_FILE, SQL_FILE};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn idpviews(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run idpviews")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn apply_verify_grants_audit() {
    let package = root().join("example-idp/packages/idp-views");
    let package = package.to_str().unwrap();
    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    c.batch_execute(
        &std::fs::read_to_string(root().join("example-idp/sql/001_idp_tables.sql")).unwrap(),
    )
    .unwrap();
    c.batch_execute(
        &std::fs::read_to_string(root().join("example-idp/sql/002_idp_seed.sql")).unwrap(),
    )
    .unwrap();

    // verify before apply: the schema is missing.
    let out = idpviews(&["verify", "--database-url", db.url(), "--views", package]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("schema \"idp_views\" does not exist"),
        "{}",
        text(&out.stdout)
    );

    // apply, twice.
    let out = idpviews(&["apply", "--database-url", db.url(), "--views", package]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("IdpUser: created"),
        "{}",
        text(&out.stdout)
    );
    let out = idpviews(&["apply", "--database-url", db.url(), "--views", package]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("IdpUser: unchanged"),
        "{}",
        text(&out.stdout)
    );

    // verify: a table and exit 0.
    let out = idpviews(&["verify", "--database-url", db.url(), "--views", package]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("OBJECT"), "{stdout}");
    assert!(stdout.contains("0 errors, 0 warnings"), "{stdout}");

    // grants: SQL on stdout; bad names are usage errors.
    let out = idpviews(&[
        "grants",
        "--views",
        package,
        "--role",
        "fuel_app",
        "--product-schema",
        "fuel_logistics",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(r#"GRANT USAGE ON SCHEMA "idp_views" TO "fuel_app";"#));
    let out = idpviews(&[
        "grants",
        "--views",
        package,
        "--role",
        "public",
        "--product-schema",
        "fuel_logistics",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("reserved"),
        "{}",
        text(&out.stderr)
    );

    // audit: needs views.json with relations, as the build script writes it.
    let out = idpviews(&["audit", "--database-url", db.url(), "--views", package]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no product relations"),
        "{}",
        text(&out.stderr)
    );

    c.batch_execute("CREATE SCHEMA fuel_logistics").unwrap();
    c.batch_execute(
        &std::fs::read_to_string(root().join("example-product/sql/001_product_tables.sql"))
            .unwrap(),
    )
    .unwrap();
    c.batch_execute(
        &std::fs::read_to_string(root().join("example-product/sql/002_product_seed.sql")).unwrap(),
    )
    .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let mut manifest = Manifest::from_json(
        &std::fs::read_to_string(Path::new(package).join("idp-views.lock")).unwrap(),
    )
    .unwrap();
    manifest.relations.push(ManifestRelation {
        view: "IdpUser".into(),
        view_field: "drivers".into(),
        model: "Driver".into(),
        model_schema: "fuel_logistics".into(),
        model_table: "drivers".into(),
        model_field: "idpUser".into(),
        fk_columns: vec!["idp_user_id".into()],
        references: vec!["id".into()],
        list: true,
    });
    std::fs::write(out_dir.path().join(OUT_MANIFEST_FILE), manifest.to_json()).unwrap();
    std::fs::copy(
        Path::new(package).join(SQL_FILE),
        out_dir.path().join(SQL_FILE),
    )
    .unwrap();
    let views_json = out_dir.path().to_str().unwrap();

    let out = idpviews(&["audit", "--database-url", db.url(), "--views", views_json]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("no orphan rows"),
        "{}",
        text(&out.stdout)
    );

    // Without a build script: the vendored package plus the product's conf and schema.
    let conf = root().join("example-product/idp-relations.conf");
    let product_schema = root().join("example-product/prisma/schema");
    let from_conf = [
        "audit",
        "--database-url",
        db.url(),
        "--views",
        package,
        "--relations",
        conf.to_str().unwrap(),
        "--product-schema",
        product_schema.to_str().unwrap(),
    ];
    let out = idpviews(&from_conf);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no orphan rows"));

    // The IDP deletes Omar: his driver row is now an orphan.
    c.batch_execute(r#"DELETE FROM idp.users WHERE id = '0190a000-0000-7000-8000-000000000103'"#)
        .unwrap();
    let out = idpviews(&["audit", "--database-url", db.url(), "--views", views_json]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Driver.idp_user_id -> IdpUser.id  1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("id=0190b000-0000-7000-8000-000000000003 idp_user_id=0190a000-0000-7000-8000-000000000103"),
        "{stdout}"
    );
    let out = idpviews(&from_conf);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), stdout, "both ways find the same orphan");

    // No URL: a usage error that names the fix; a bad server: exit 1 without the password.
    let out = idpviews(&["verify", "--views", package]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--database-url"));
    let out = idpviews(&[
        "verify",
        "--database-url",
        "postgres://someone:s3cret@127.0.0.1:1/nowhere",
        "--views",
        package,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !text(&out.stderr).contains("s3cret"),
        "{}",
        text(&out.stderr)
    );
}
