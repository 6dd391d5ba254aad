//! The orphan audit against a real PostgreSQL: product rows whose
//! reference to an IDP view points at a deleted user (or, for a
//! tenant-isolated view, a user of another tenant) are found, and only they.

mod db_fixture;

use db_fixture::*;
use idpviews::{AuditOutcome, Package};
use idpviews_build::manifest::ManifestRelation;

const DELETED_1: &str = "0190a000-0000-7000-8000-0000000000d1";
const DELETED_2: &str = "0190a000-0000-7000-8000-0000000000d2";

fn relation(model: &str, fk: &str) -> ManifestRelation {
    ManifestRelation {
        view: "IdpUser".into(),
        view_field: format!("{}s", model.to_lowercase()),
        model: model.into(),
        model_schema: "fuel_logistics".into(),
        model_table: model.into(),
        model_field: "idpUser".into(),
        fk_columns: vec![fk.into()],
        references: vec!["id".into()],
        list: true,
    }
}

/// The package with the product's relations, as the build script's
/// `views.json` has them.
fn with_relations(mut package: Package) -> Package {
    package.manifest.relations = vec![
        relation("Driver", "idpUserId"),
        relation("Order", "customerId"),
    ];
    package
}

/// Drivers: one per user of both tenants, two pointing at users deleted
/// since, one with no user. Orders: all pointing at existing users.
fn seed_product(c: &mut postgres::Client) {
    c.batch_execute(
        r#"CREATE SCHEMA IF NOT EXISTS fuel_logistics;
           CREATE TABLE fuel_logistics."Driver" (id int PRIMARY KEY, "idpUserId" uuid);
           CREATE TABLE fuel_logistics."Order" (id int PRIMARY KEY, "customerId" uuid NOT NULL);"#,
    )
    .unwrap();
    let mut id = 0;
    for (user, _) in USERS_A.iter().chain(USERS_B.iter()) {
        id += 1;
        c.execute(
            r#"INSERT INTO fuel_logistics."Driver" VALUES ($1, $2::text::uuid)"#,
            &[&id, user],
        )
        .unwrap();
        c.execute(
            r#"INSERT INTO fuel_logistics."Order" VALUES ($1, $2::text::uuid)"#,
            &[&id, user],
        )
        .unwrap();
    }
    // Users that existed, were referenced, then deleted by the IDP.
    for (n, deleted) in [(100, DELETED_2), (101, DELETED_1)] {
        c.execute(
            r#"INSERT INTO idp."User" (id, password, tenant_id) VALUES ($1::text::uuid, 'x', $2::text::uuid)"#,
            &[&deleted, &TENANT_A],
        )
        .unwrap();
        c.execute(
            r#"INSERT INTO fuel_logistics."Driver" VALUES ($1, $2::text::uuid)"#,
            &[&n, &deleted],
        )
        .unwrap();
        c.execute(
            r#"DELETE FROM idp."User" WHERE id = $1::text::uuid"#,
            &[&deleted],
        )
        .unwrap();
    }
    c.execute(
        r#"INSERT INTO fuel_logistics."Driver" VALUES (200, NULL)"#,
        &[],
    )
    .unwrap();
}

fn sample_ids(outcome: &AuditOutcome) -> Vec<(String, String)> {
    match outcome {
        AuditOutcome::Checked { sample, .. } => sample
            .iter()
            .map(|row| {
                assert_eq!(row[0].0, "id");
                assert_eq!(row[1].0, "idpUserId");
                (
                    row[0].1.clone().unwrap_or_default(),
                    row[1].1.clone().unwrap_or_default(),
                )
            })
            .collect(),
        AuditOutcome::Skipped { reason } => panic!("skipped: {reason}"),
    }
}

#[test]
fn finds_the_seeded_orphans_and_only_them() {
    let db = idp_db();
    let mut c = db.connect();
    let package = with_relations(package(VIEWS_BASE));
    idpviews::apply(&mut c, &package).unwrap();
    seed_product(&mut c);

    let report = idpviews::audit(&mut c, &package).unwrap();
    assert_eq!(report.relations.len(), 2);
    let driver = &report.relations[0];
    assert_eq!(driver.relation, "Driver.idpUserId -> IdpUser.id");
    assert!(
        matches!(driver.outcome, AuditOutcome::Checked { orphans: 2, .. }),
        "{report}"
    );
    // Sampled in primary-key order, with the key and the dangling reference.
    assert_eq!(
        sample_ids(&driver.outcome),
        [
            ("100".to_owned(), DELETED_2.to_owned()),
            ("101".to_owned(), DELETED_1.to_owned())
        ]
    );
    assert!(
        matches!(
            report.relations[1].outcome,
            AuditOutcome::Checked { orphans: 0, .. }
        ),
        "{report}"
    );
    assert_eq!(report.orphans(), 2);
    assert!(!report.is_clean());
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "\"fuel_logistics\".\"Driver\" id=100 idpUserId={DELETED_2}"
        )),
        "{text}"
    );
    assert!(text.ends_with("2 orphan row(s): they reference IDP rows that do not exist (deleted) or are not visible (another tenant)"), "{text}");

    // Fixing the data makes the audit clean.
    c.batch_execute(r#"DELETE FROM fuel_logistics."Driver" WHERE id IN (100, 101)"#)
        .unwrap();
    let report = idpviews::audit(&mut c, &package).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.orphans(), 0);
}

#[test]
fn a_product_role_can_audit() {
    let db = idp_db();
    let mut c = db.connect();
    let package = with_relations(package(VIEWS_BASE));
    idpviews::apply(&mut c, &package).unwrap();
    let role = db.create_role("auditor", Some("pw")).unwrap();
    c.batch_execute(&idpviews::grants_sql(&package.manifest, &role, "fuel_logistics").unwrap())
        .unwrap();
    seed_product(&mut c);
    c.batch_execute(&format!(
        r#"GRANT SELECT ON ALL TABLES IN SCHEMA fuel_logistics TO "{role}""#
    ))
    .unwrap();
    let mut p =
        postgres::Client::connect(&db.url_for_role(&role, Some("pw")), postgres::NoTls).unwrap();
    let report = idpviews::audit(&mut p, &package).unwrap();
    assert_eq!(report.orphans(), 2, "{report}");
}

#[test]
fn tenant_isolated_views_are_audited_per_tenant() {
    let db = idp_db();
    let mut c = db.connect();
    let package = with_relations(package(&views_tenant(&db)));
    idpviews::apply(&mut c, &package).unwrap();
    seed_product(&mut c);

    // Without a tenant every row would look orphaned: skipped, not reported.
    let report = idpviews::audit(&mut c, &package).unwrap();
    assert!(
        report
            .relations
            .iter()
            .all(|r| matches!(r.outcome, AuditOutcome::Skipped { .. })),
        "{report}"
    );
    assert!(!report.is_clean());
    assert!(
        report
            .to_string()
            .contains("skipped: IdpUser is tenant-isolated and no tenant is set"),
        "{report}"
    );

    // As tenant A: the deleted users and tenant B's users are not visible.
    let mut tx = c.transaction().unwrap();
    idpviews::tenant::set_tenant(&mut tx, TENANT_A).unwrap();
    let report = idpviews::audit(&mut tx, &package).unwrap();
    let expected: Vec<(String, String)> = [
        ("4", USERS_B[0].0),
        ("5", USERS_B[1].0),
        ("100", DELETED_2),
        ("101", DELETED_1),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(
        sample_ids(&report.relations[0].outcome),
        expected,
        "{report}"
    );
    assert!(
        matches!(
            report.relations[1].outcome,
            AuditOutcome::Checked { orphans: 2, .. }
        ),
        "{report}"
    );
}

#[test]
fn a_missing_product_table_is_skipped() {
    let db = idp_db();
    let mut c = db.connect();
    let package = with_relations(package(VIEWS_BASE));
    idpviews::apply(&mut c, &package).unwrap();
    let report = idpviews::audit(&mut c, &package).unwrap();
    assert!(
        matches!(&report.relations[0].outcome, AuditOutcome::Skipped { reason } if reason.contains("does not exist")),
        "{report}"
    );
}
