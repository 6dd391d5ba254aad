//! `idpviews::verify` against a real PostgreSQL: passes on a fresh apply and
//! reports each kind of drift.

mod db_fixture;

use db_fixture::*;
use idpviews::{FindingKind, Severity, VerifyReport};
use idpviews_build::manifest::ManifestEnumValue;

/// A database with the base package applied, the package, and a connection.
fn applied() -> (idpviews_testdb::TestDb, idpviews::Package, postgres::Client) {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).expect("apply");
    (db, package, c)
}

fn kinds(report: &VerifyReport, severity: Severity) -> Vec<FindingKind> {
    report
        .findings()
        .filter(|f| f.severity == severity)
        .map(|f| f.kind.clone())
        .collect()
}

#[test]
fn passes_on_a_fresh_apply() {
    let (_db, package, mut c) = applied();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.errors(), report.warnings()), (0, 0), "{report}");
    let text = report.to_string();
    assert!(text.contains("view IdpUser"), "{text}");
    assert!(text.contains("enum idp.user_type"), "{text}");
    assert!(
        text.ends_with("0 errors, 0 warnings: the database matches the views package"),
        "{text}"
    );
    assert!(report.into_result().is_ok());
}

#[test]
fn reports_a_missing_view() {
    let (_db, package, mut c) = applied();
    c.batch_execute(r#"DROP VIEW idp_views."IdpTenant""#)
        .unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert_eq!(
        kinds(&report, Severity::Error),
        [FindingKind::MissingView],
        "{report}"
    );
    let err = report.into_result().expect_err("fails fast");
    let text = squeeze(&err.to_string());
    assert!(
        text.contains("view IdpTenant error view \"idp_views\".\"IdpTenant\" does not exist"),
        "{text}"
    );
    assert!(text.contains("1 error, 0 warnings"), "{text}");
}

#[test]
fn reports_a_missing_schema() {
    let db = idp_db();
    let mut c = db.connect();
    let report = idpviews::verify(&mut c, &package(VIEWS_BASE)).unwrap();
    assert_eq!(
        kinds(&report, Severity::Error),
        [FindingKind::MissingSchema],
        "{report}"
    );
}

/// Replaces `IdpUser` with another definition, keeping it read-only.
fn replace_user_view(c: &mut postgres::Client, select: &str) {
    c.batch_execute(&format!(
        r#"DROP VIEW idp_views."IdpUser";
           CREATE VIEW idp_views."IdpUser" AS {select};
           CREATE TRIGGER idpviews_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON idp_views."IdpUser"
             FOR EACH ROW EXECUTE FUNCTION idp_views.idpviews_reject_write();
           CREATE TRIGGER idpviews_read_only_statement BEFORE INSERT OR UPDATE OR DELETE ON idp_views."IdpUser"
             FOR EACH STATEMENT EXECUTE FUNCTION idp_views.idpviews_reject_write();"#
    ))
    .unwrap();
}

#[test]
fn reports_a_missing_column() {
    let (_db, package, mut c) = applied();
    replace_user_view(
        &mut c,
        r#"SELECT id, first_name, user_types::text[] AS user_types, tenant_id, created_at FROM idp."User""#,
    );
    let report = idpviews::verify(&mut c, &package).unwrap();
    let errors = kinds(&report, Severity::Error);
    assert!(
        errors.contains(&FindingKind::MissingColumn {
            column: "email".into()
        }),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("missing column \"email\" (text)"),
        "{report}"
    );
}

#[test]
fn reports_a_retyped_column() {
    let (_db, package, mut c) = applied();
    replace_user_view(
        &mut c,
        r#"SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id,
                  created_at::text AS created_at FROM idp."User""#,
    );
    let report = idpviews::verify(&mut c, &package).unwrap();
    // (the replaced definition is also not the one apply recorded)
    assert_eq!(
        kinds(&report, Severity::Error),
        [
            FindingKind::ColumnType {
                column: "created_at".into(),
                expected: "timestamp(3) without time zone".into(),
                found: "text".into()
            },
            FindingKind::ChangedSinceApply
        ],
        "{report}"
    );
}

#[test]
fn reports_a_missing_enum_label() {
    let (_db, mut package, mut c) = applied();
    // The service knows a label the database lacks.
    package.manifest.enums[0].values.push(ManifestEnumValue {
        name: "AUDITOR".into(),
        label: "AUDITOR".into(),
    });
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert_eq!(
        kinds(&report, Severity::Error),
        [FindingKind::MissingEnumLabel {
            label: "AUDITOR".into()
        }],
        "{report}"
    );
}

#[test]
fn reports_an_extra_enum_label_as_a_warning() {
    let (_db, package, mut c) = applied();
    c.batch_execute(r#"ALTER TYPE idp.user_type ADD VALUE 'SUPERVISOR'"#)
        .unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        kinds(&report, Severity::Warning),
        [FindingKind::ExtraEnumLabel {
            label: "SUPERVISOR".into()
        }],
        "{report}"
    );
    assert!(
        report.to_string().contains("decode as UserType::Unknown"),
        "{report}"
    );
}

#[test]
fn reports_a_writable_view() {
    let (_db, package, mut c) = applied();
    c.batch_execute(
        r#"DROP TRIGGER idpviews_read_only ON idp_views."IdpUser";
           DROP TRIGGER IF EXISTS idpviews_read_only_statement ON idp_views."IdpUser";"#,
    )
    .unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert_eq!(
        kinds(&report, Severity::Error),
        [FindingKind::Writable {
            events: vec!["INSERT", "UPDATE", "DELETE"]
        }],
        "{report}"
    );
    // The finding is real: the owner can now write IDP data through the view.
    let n = c
        .execute(r#"UPDATE idp_views."IdpUser" SET email = email"#, &[])
        .expect("the view is writable");
    assert_eq!(n, 5);
    // Re-applying restores the trigger.
    idpviews::apply(&mut c, &package).unwrap();
    assert!(idpviews::verify(&mut c, &package).unwrap().is_ok());
    let e = c
        .execute(r#"UPDATE idp_views."IdpUser" SET email = email"#, &[])
        .expect_err("read-only again");
    assert_eq!(sqlstate(&e), "25006");
}

#[test]
fn a_write_rule_is_reported() {
    let (_db, package, mut c) = applied();
    c.batch_execute(
        r#"CREATE RULE sneaky AS ON UPDATE TO idp_views."IdpTenant"
             DO INSTEAD UPDATE idp."Tenant" SET name = NEW.name WHERE id = OLD.id"#,
    )
    .unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert_eq!(
        kinds(&report, Severity::Error),
        [FindingKind::WriteRule {
            rule: "sneaky".into()
        }],
        "{report}"
    );
    // The finding is real: the rule bypasses the read-only trigger.
    let n = c
        .execute(r#"UPDATE idp_views."IdpTenant" SET name = name"#, &[])
        .expect("the rule writes through");
    assert_eq!(n, 2);
}

/// Whitespace runs as one space (the table pads columns).
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_product_role_can_verify() {
    let (db, package, mut c) = applied();
    let role = db.create_role("verifier", Some("pw")).unwrap();
    c.batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .unwrap();
    let mut as_product =
        postgres::Client::connect(&db.url_for_role(&role, Some("pw")), postgres::NoTls).unwrap();
    let report = idpviews::verify(&mut as_product, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
}
