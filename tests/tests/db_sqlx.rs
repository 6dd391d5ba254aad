//! The database operations on a sqlx connection (the `sqlx` feature of
//! `idpviews`) against a real PostgreSQL: `apply_sqlx`, `verify_sqlx`,
//! `audit_sqlx`, `tenant::{set_tenant_sqlx, current_tenant_sqlx}` do what the
//! `postgres` functions do (same reports), inside a sqlx transaction where
//! that makes sense (`&mut tx`), and refuse where it does not.

mod db_fixture;

use db_fixture::*;
use idpviews::tenant::{current_tenant_sqlx, set_tenant_in_sqlx, set_tenant_sqlx};
use idpviews::{apply_sqlx, apply_sqlx_with, audit_sqlx, verify_sqlx, ApplyOptions, Error};
use idpviews_build::manifest::ManifestRelation;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use std::collections::BTreeSet;
use std::time::Duration;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `f` on a current-thread runtime.
fn run<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

async fn connect(url: &str) -> PgConnection {
    tokio::time::timeout(Duration::from_secs(20), PgConnection::connect(url))
        .await
        .unwrap_or_else(|_| panic!("sqlx: no connection to {url} within 20 s"))
        .unwrap_or_else(|e| panic!("sqlx cannot connect to {url}: {e}"))
}

/// The futures are `Send`: a service can run them on a multi-threaded
/// runtime (`tokio::spawn`, axum handlers).
#[allow(dead_code)]
fn futures_are_send(conn: &mut PgConnection, package: &idpviews::Package) {
    fn send<T: Send>(_: T) {}
    send(apply_sqlx(conn, package));
    send(verify_sqlx(conn, package));
    send(audit_sqlx(conn, package));
    send(set_tenant_sqlx(conn, "t"));
    send(current_tenant_sqlx(conn));
}

#[test]
fn apply_verify_tamper_repair() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut pg = db.connect();
    // One runtime, entered per step: the `postgres` client (the reference)
    // blocks, so it runs between the sqlx steps.
    let rt = runtime();
    let mut conn = rt.block_on(connect(db.url()));
    let report = rt.block_on(async {
        let applied = apply_sqlx(&mut conn, &package).await.unwrap();
        assert!(!applied.is_noop(), "{applied}");
        assert_eq!(applied.attempts, 1);
        // A second apply changes nothing.
        assert!(apply_sqlx(&mut conn, &package).await.unwrap().is_noop());
        verify_sqlx(&mut conn, &package).await.unwrap()
    });
    assert!(report.is_ok(), "{report}");
    // The same report as through the `postgres` client.
    let expected = idpviews::verify(&mut pg, &package).unwrap();
    assert_eq!(report.to_string(), expected.to_string());

    // A write rule on a view: verify fails, apply repairs it.
    let report = rt.block_on(async {
        sqlx::raw_sql(
            r#"CREATE RULE sneaky AS ON UPDATE TO idp_views."IdpTenant"
               DO INSTEAD UPDATE idp."Tenant" SET name = NEW.name WHERE id = OLD.id"#,
        )
        .execute(&mut conn)
        .await
        .unwrap();
        verify_sqlx(&mut conn, &package).await.unwrap()
    });
    assert!(!report.is_ok(), "{report}");
    assert!(report.to_string().contains("sneaky"), "{report}");
    let expected = idpviews::verify(&mut pg, &package).unwrap();
    assert_eq!(report.to_string(), expected.to_string());
    let err = report.into_result().unwrap_err();
    assert!(matches!(err, Error::Verify(_)), "{err}");

    let (applied, report) = rt.block_on(async {
        let applied = apply_sqlx(&mut conn, &package).await.unwrap();
        (applied, verify_sqlx(&mut conn, &package).await.unwrap())
    });
    assert!(
        applied.repaired.iter().any(|r| r.contains("sneaky")),
        "{applied}"
    );
    assert!(report.is_ok(), "{report}");
    assert!(idpviews::verify(&mut pg, &package).unwrap().is_ok());
    // Nothing was left prepared on the server by the operations.
    let prepared: i64 = rt
        .block_on(
            sqlx::query_scalar("SELECT count(*) FROM pg_prepared_statements")
                .persistent(false)
                .fetch_one(&mut conn),
        )
        .unwrap();
    assert_eq!(prepared, 0);
    rt.block_on(conn.close()).unwrap();
}

#[test]
fn verify_runs_inside_a_transaction_and_apply_refuses_one() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    run(async {
        let mut conn = connect(db.url()).await;
        let mut tx = conn.begin().await.unwrap();
        let err = apply_sqlx(&mut tx, &package).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("&mut tx"), "{err}");
        tx.rollback().await.unwrap();
        // Nothing was created.
        let schema: Option<String> =
            sqlx::query_scalar("SELECT to_regnamespace('idp_views')::text")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(schema, None);

        apply_sqlx(&mut conn, &package).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let report = verify_sqlx(&mut tx, &package).await.unwrap();
        assert!(report.is_ok(), "{report}");
        tx.commit().await.unwrap();
        conn.close().await.unwrap();

        // A pooled connection, and a pool's transaction.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(20))
            .connect(db.url())
            .await
            .unwrap();
        let applied = apply_sqlx(&mut pool.acquire().await.unwrap(), &package)
            .await
            .unwrap();
        assert!(applied.is_noop(), "{applied}");
        let report = verify_sqlx(&mut pool.acquire().await.unwrap(), &package)
            .await
            .unwrap();
        assert!(report.is_ok(), "{report}");
        let mut tx = pool.begin().await.unwrap();
        assert!(verify_sqlx(&mut tx, &package).await.unwrap().is_ok());
        tx.rollback().await.unwrap();
        pool.close().await;
    });
}

#[test]
fn a_held_advisory_lock_blocks_apply_and_names_the_holder() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut holder = db.connect();
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&idpviews::apply::DEFAULT_LOCK_KEY],
        )
        .unwrap();
    run(async {
        let mut conn = connect(db.url()).await;
        let options = ApplyOptions {
            lock_timeout: Duration::from_millis(50),
            retries: 1,
            backoff: Duration::from_millis(10),
            ..ApplyOptions::default()
        };
        let err = apply_sqlx_with(&mut conn, &package, &options)
            .await
            .unwrap_err();
        let Error::Blocked(blocked) = &err else {
            panic!("not blocked: {err}");
        };
        assert_eq!(blocked.attempts, 2, "{err}");
        assert!(blocked.waiting_for.contains("advisory lock"), "{err}");
        assert!(
            blocked
                .sessions
                .iter()
                .any(|s| s.pid == holder_pid && s.granted),
            "{err}"
        );
        // Nothing was created; the connection is usable (no transaction left open).
        assert!(!conn.is_in_transaction());
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'idp_views'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(n, 0);
        conn.close().await.unwrap();
    });
}

#[test]
fn set_tenant_in_a_sqlx_transaction_shows_only_that_tenants_rows() {
    let db = idp_db();
    let mut admin = db.connect();
    let package = package(&views_tenant(&db));
    let password = "product-password";
    let role = db.create_role("product", Some(password)).unwrap();
    run(async {
        let mut conn = connect(db.url()).await;
        apply_sqlx(&mut conn, &package).await.unwrap();
        conn.close().await.unwrap();
    });
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .unwrap();
    run(async {
        let mut conn = connect(&db.url_for_role(&role, Some(password))).await;
        for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
            let mut tx = conn.begin().await.unwrap();
            set_tenant_sqlx(&mut tx, tenant).await.unwrap();
            assert_eq!(
                current_tenant_sqlx(&mut tx).await.unwrap().as_deref(),
                Some(tenant)
            );
            let emails: BTreeSet<String> = sqlx::query(r#"SELECT email FROM idp_views."IdpUser""#)
                .fetch_all(&mut *tx)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
            let expected: BTreeSet<String> = users.iter().map(|(_, e)| (*e).to_owned()).collect();
            assert_eq!(emails, expected);
            tx.commit().await.unwrap();
        }
        // The declaration ended with the transaction.
        assert_eq!(current_tenant_sqlx(&mut conn).await.unwrap(), None);
        let n: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM idp_views."IdpUser""#)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "no tenant declared: no rows");

        // Outside a transaction the declaration would not outlive its statement: refused.
        let err = set_tenant_sqlx(&mut conn, TENANT_A).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        // An empty tenant is refused as with `postgres`.
        let mut tx = conn.begin().await.unwrap();
        let err = set_tenant_sqlx(&mut tx, "").await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        // A database error keeps its SQLSTATE and context.
        let err = set_tenant_in_sqlx(&mut tx, "no_such_schema", TENANT_A)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Sqlx { .. }), "{err:?}");
        assert_eq!(err.sqlstate(), Some("3F000"), "{err}");
        assert!(
            err.to_string()
                .starts_with("declaring the tenant (SELECT \"no_such_schema\""),
            "{err}"
        );
        tx.rollback().await.unwrap();
        conn.close().await.unwrap();
    });
}

#[test]
fn audit_finds_the_same_orphans_as_postgres() {
    let db = idp_db();
    let mut pg = db.connect();
    let mut package = package(VIEWS_BASE);
    package.manifest.relations = vec![ManifestRelation {
        view: "IdpUser".into(),
        view_field: "drivers".into(),
        model: "Driver".into(),
        model_schema: "fuel_logistics".into(),
        model_table: "Driver".into(),
        model_field: "idpUser".into(),
        fk_columns: vec!["idpUserId".into()],
        references: vec!["id".into()],
        list: true,
    }];
    idpviews::apply(&mut pg, &package).unwrap();
    pg.batch_execute(&format!(
        r#"CREATE SCHEMA fuel_logistics;
           CREATE TABLE fuel_logistics."Driver" (id int PRIMARY KEY, "idpUserId" uuid);
           INSERT INTO fuel_logistics."Driver" VALUES
             (1, '{}'), (2, '0190a000-0000-7000-8000-0000000000d1'), (3, NULL),
             (4, '0190a000-0000-7000-8000-0000000000d2');"#,
        USERS_A[0].0
    ))
    .unwrap();
    let expected = idpviews::audit(&mut pg, &package).unwrap();
    assert!(
        matches!(
            expected.relations[0].outcome,
            idpviews::AuditOutcome::Checked { orphans: 2, .. }
        ),
        "{expected}"
    );
    run(async {
        let mut conn = connect(db.url()).await;
        let report = audit_sqlx(&mut conn, &package).await.unwrap();
        assert_eq!(report, expected);
        conn.close().await.unwrap();
    });
}
