//! `idpviews::apply` against a real PostgreSQL: idempotent, serialized,
//! append-only upgrades in place, breaking changes refused with the
//! database unchanged.

mod db_fixture;

use db_fixture::*;
use idpviews::{Error, ViewChange};

fn columns(c: &mut postgres::Client, view: &str) -> Vec<String> {
    c.query(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 \
         AND NOT attisdropped ORDER BY attnum",
        &[&format!("idp_views.\"{view}\"")],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[test]
fn apply_twice_is_idempotent() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut c = db.connect();

    let first = idpviews::apply(&mut c, &package).expect("first apply");
    assert_eq!(
        first.views,
        vec![
            ("IdpUser".to_owned(), ViewChange::Created),
            ("IdpTenant".to_owned(), ViewChange::Created)
        ]
    );
    let before = views_snapshot(&mut c);

    let second = idpviews::apply(&mut c, &package).expect("second apply");
    assert_eq!(
        second.views,
        vec![
            ("IdpUser".to_owned(), ViewChange::Unchanged),
            ("IdpTenant".to_owned(), ViewChange::Unchanged)
        ]
    );
    assert_eq!(views_snapshot(&mut c), before);
    assert_eq!(
        columns(&mut c, "IdpUser"),
        [
            "id",
            "email",
            "first_name",
            "user_types",
            "tenant_id",
            "created_at"
        ]
    );
    let n: i64 = c
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5);
    // No transaction is left open: SAVEPOINT outside a transaction block fails.
    let e = c
        .batch_execute("SAVEPOINT probe")
        .expect_err("not in a transaction");
    assert_eq!(sqlstate(&e), "25P01");
}

#[test]
fn apply_from_16_connections_at_once() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let barrier = std::sync::Barrier::new(16);
    let results: Vec<Result<idpviews::Applied, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (db, package, barrier) = (&db, &package, &barrier);
                s.spawn(move || {
                    let mut c = db.connect();
                    barrier.wait();
                    idpviews::apply(&mut c, package).map_err(|e| e.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut created = 0;
    for r in &results {
        let applied = r
            .as_ref()
            .unwrap_or_else(|e| panic!("a concurrent apply failed: {e}"));
        if applied.views.iter().all(|(_, c)| *c == ViewChange::Created) {
            created += 1;
        }
    }
    // Serialized by the advisory lock: exactly one saw an empty schema.
    assert_eq!(created, 1, "{results:?}");
    let mut c = db.connect();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
}

#[test]
fn append_only_upgrade_works_in_place() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    // A dependent object of the product (a view on the view) survives the
    // upgrade: the view is replaced in place, not dropped.
    c.batch_execute(
        r#"CREATE SCHEMA product; CREATE VIEW product.emails AS SELECT email FROM idp_views."IdpUser";"#,
    )
    .unwrap();

    let upgraded = package(VIEWS_APPENDED);
    let applied = idpviews::apply(&mut c, &upgraded).expect("append-only upgrade");
    assert_eq!(
        applied.views,
        vec![
            (
                "IdpUser".to_owned(),
                ViewChange::Appended(vec!["nickname".to_owned()])
            ),
            ("IdpTenant".to_owned(), ViewChange::Unchanged)
        ]
    );
    assert_eq!(
        columns(&mut c, "IdpUser"),
        [
            "id",
            "email",
            "first_name",
            "user_types",
            "tenant_id",
            "created_at",
            "nickname"
        ]
    );
    let n: i64 = c
        .query_one("SELECT count(*) FROM product.emails", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5);
    assert!(idpviews::verify(&mut c, &upgraded).unwrap().is_ok());
}

#[test]
fn breaking_change_fails_and_leaves_the_database_unchanged() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_APPENDED)).unwrap();
    let before = views_snapshot(&mut c);

    // `email` removed from the allowlist (and a new view added, which must
    // not be created either).
    let mut breaking = package(VIEWS_DROPPED_EMAIL);
    let extra = breaking.sql.replace(
        "COMMIT;",
        "CREATE VIEW idp_views.\"Extra\" AS SELECT 1 AS one;\nCOMMIT;",
    );
    breaking.sql = extra.into();
    let err = idpviews::apply(&mut c, &breaking).expect_err("a dropped column cannot be applied");
    let Error::Incompatible(problems) = &err else {
        panic!("expected Error::Incompatible, got {err:?}");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.view == "IdpUser" && p.column.as_deref() == Some("email")),
        "{problems:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("\"idp_views\".\"IdpUser\" column \"email\""),
        "{message}"
    );
    assert!(message.contains("dropped or renamed"), "{message}");
    assert!(
        message.contains("DROP VIEW \"idp_views\".\"IdpUser\""),
        "{message}"
    );
    assert!(message.contains("revert"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(views_snapshot(&mut c), before, "the database changed");

    // A retyped column is named too.
    c.batch_execute(r#"ALTER TABLE idp."User" ALTER COLUMN created_at TYPE timestamp(6);"#)
        .expect_err("PostgreSQL refuses to retype a column a view uses");
    let mut retyped = package(VIEWS_APPENDED);
    for v in &mut retyped.manifest.views {
        for col in &mut v.columns {
            if col.column == "created_at" {
                col.sql_type = "timestamp(6) without time zone".into();
            }
        }
    }
    let err = idpviews::apply(&mut c, &retyped).expect_err("a retyped column cannot be applied");
    let message = err.to_string();
    assert!(
        message.contains("column \"created_at\": changes type from timestamp(3) without time zone to timestamp(6) without time zone"),
        "{message}"
    );
    assert_eq!(views_snapshot(&mut c), before, "the database changed");

    // The connection is still usable and the old package still applies.
    idpviews::apply(&mut c, &package(VIEWS_APPENDED)).expect("re-apply the applied package");
}

#[test]
fn a_failing_package_statement_rolls_back_everything() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    let before = views_snapshot(&mut c);
    let mut broken = package(VIEWS_APPENDED);
    broken.sql = broken
        .sql
        .replace("COMMIT;", "SELECT * FROM no_such_table;\nCOMMIT;")
        .into();
    let err = idpviews::apply(&mut c, &broken).expect_err("the package fails");
    assert_eq!(err.sqlstate(), Some("42P01"), "{err}");
    assert!(
        err.to_string().contains("the database is unchanged"),
        "{err}"
    );
    assert_eq!(views_snapshot(&mut c), before);
}

#[test]
fn apply_async_works_and_is_send() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let url = db.url().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let applied = rt.block_on(async move {
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        // `tokio::spawn` requires the future to be `Send`.
        tokio::spawn(async move {
            idpviews::apply_async(&mut client, &package)
                .await
                .map_err(|e| e.to_string())?;
            let report = idpviews::verify_async(&client, &package)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(report)
        })
        .await
        .unwrap()
    });
    let report = applied.expect("async apply + verify");
    assert!(report.is_ok(), "{report}");
}
