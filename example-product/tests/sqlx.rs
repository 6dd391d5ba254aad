//! The sqlx variant (`src/sqlx_queries.rs`, `src/bin/sqlx.rs`) on a real
//! database, connected as the least-privilege product role: the same
//! answers as the `postgres` queries, and the example program runs.

use example_product::idp::{IdpUser, UserType};
use example_product::{queries, setup, sqlx_queries};
use idpviews_testdb::TestDb;
use sqlx::Connection;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sqlx_queries_match_the_postgres_queries() {
    let db = TestDb::new();
    let role = db.role_name("fuel_app");
    let mut prepared = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    let expected = queries::list_drivers(&mut prepared.product).unwrap();
    assert_eq!(expected.len(), 3);
    let mut admin = db.connect();
    let drivers_in_idp: i64 = admin
        .query_one(
            r#"SELECT count(*) FROM "idp"."users" WHERE 'DRIVER' = ANY("user_types"::text[])"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert!(drivers_in_idp > 0);
    runtime().block_on(async {
        let mut conn = sqlx_queries::connect(&prepared.product_config)
            .await
            .unwrap_or_else(|e| panic!("sqlx cannot connect as {role}: {e}"));
        // The product role, not the admin.
        let user: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(user, role);
        // The views package through sqlx: already applied by the setup, so
        // unchanged; verify as the product role passes.
        let mut admin = sqlx_queries::connect(&db.url().parse().unwrap())
            .await
            .unwrap();
        let (applied, report) = sqlx_queries::apply_and_verify(&mut admin, &mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(applied.is_noop(), "{applied}");
        assert!(report.is_ok(), "{report}");
        // A tampered view: verify through sqlx fails, apply through sqlx repairs.
        sqlx::raw_sql(r#"DROP TRIGGER idpviews_read_only ON "idp_views"."IdpUser""#)
            .execute(&mut admin)
            .await
            .unwrap();
        let report = idpviews::verify_sqlx(&mut conn, example_product::idp::package())
            .await
            .unwrap();
        assert!(!report.is_ok(), "{report}");
        let e = sqlx_queries::apply_and_verify(&mut admin, &mut conn).await;
        let (applied, _) = e.unwrap_or_else(|e| panic!("{e}"));
        assert!(!applied.repaired.is_empty(), "{applied}");
        admin.close().await.unwrap();
        // Query 1: same drivers, same IDP users, decoded from PgRows.
        let got = sqlx_queries::list_drivers(&mut conn).await.unwrap();
        assert_eq!(got, expected);
        // `query_as::<_, IdpUser>` with an enum parameter.
        let users: Vec<IdpUser> = sqlx_queries::users_of_type(&mut conn, &UserType::Driver)
            .await
            .unwrap();
        assert_eq!(users.len() as i64, drivers_in_idp);
        assert!(users
            .iter()
            .all(|u| u.user_types.contains(&UserType::Driver)));
        // The product role still cannot read the IDP's tables through sqlx.
        let e = sqlx::query("SELECT 1 FROM \"idp\".\"users\"")
            .fetch_all(&mut conn)
            .await
            .unwrap_err();
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{e}");
        conn.close().await.unwrap();
    });
}

#[test]
fn the_sqlx_example_runs() {
    let exe = env!("CARGO_BIN_EXE_sqlx");
    let out = std::process::Command::new(exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("connected through sqlx as the product role"),
        "{stdout}"
    );
    assert!(
        stdout.contains("applied the views package to schema \"idp_views\" (nothing changed)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 errors, 0 warnings: the database matches the views package"),
        "{stdout}"
    );
    assert!(stdout.contains("Drivers with their IDP user"), "{stdout}");
    let users = stdout
        .split("IDP users of type DRIVER")
        .nth(1)
        .unwrap_or_else(|| panic!("no user list:\n{stdout}"));
    assert!(
        users.lines().filter(|l| l.starts_with("  ")).count() >= 1,
        "{stdout}"
    );
}
