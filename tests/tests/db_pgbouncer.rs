//! Through PgBouncer in transaction-pooling mode (what products with five or
//! more services run): `apply`, `verify`, the grants and the tenant helpers
//! work through it, and no tenant declared by one client ever grants rows
//! to another client served by the same server connection.

mod db_fixture;

use db_fixture::*;
use idpviews::tenant::{current_tenant, set_tenant};
use idpviews_testdb::PgBouncer;

const PASSWORD: &str = "product-password";

fn admin_role(db: &idpviews_testdb::TestDb) -> String {
    let config: postgres::Config = db.url().parse().unwrap();
    config.get_user().unwrap_or("postgres").to_owned()
}

fn through(bouncer: &PgBouncer, role: &str, password: Option<&str>) -> postgres::Client {
    postgres::Client::connect(&bouncer.url_for_role(role, password), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect as {role} through PgBouncer: {e}"))
}

#[test]
fn apply_verify_grants_and_tenants_through_pgbouncer() {
    let db = idp_db();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    let bouncer =
        PgBouncer::start(&db, &[(role.as_str(), PASSWORD)]).unwrap_or_else(|e| panic!("{e}"));
    let admin_config: postgres::Config = db.url().parse().unwrap();
    let admin_pw = admin_config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let mut admin = through(&bouncer, &admin_role(&db), admin_pw.as_deref());

    let package = package(&views_tenant(&db));
    idpviews::apply(&mut admin, &package).expect("apply through PgBouncer");
    let again = idpviews::apply(&mut admin, &package).expect("apply again through PgBouncer");
    assert!(again
        .views
        .iter()
        .all(|(_, c)| *c == idpviews::ViewChange::Unchanged));
    let report = idpviews::verify(&mut admin, &package).expect("verify through PgBouncer");
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .expect("grants through PgBouncer");

    let mut p = through(&bouncer, &role, Some(PASSWORD));
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, tenant).unwrap();
        assert_eq!(current_tenant(&mut tx).unwrap().as_deref(), Some(tenant));
        let n: i64 = tx
            .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n as usize, users.len());
        tx.commit().unwrap();
    }
    let report = idpviews::verify(&mut p, &package).expect("verify as the product");
    assert!(report.is_ok(), "{report}");
}

#[test]
fn no_tenant_passes_from_one_client_to_another() {
    let db = idp_db();
    let mut admin = db.connect();
    let package = package(&views_tenant(&db));
    idpviews::apply(&mut admin, &package).unwrap();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .unwrap();
    let bouncer =
        PgBouncer::start(&db, &[(role.as_str(), PASSWORD)]).unwrap_or_else(|e| panic!("{e}"));
    let backend = |c: &mut postgres::Client| -> i32 {
        c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
    };

    // Client A declares its tenant properly, then makes every mistake that
    // leaves something on the server connection: a session-level SET and a
    // set_tenant outside a transaction block.
    let mut a = through(&bouncer, &role, Some(PASSWORD));
    let mut tx = a.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    let n: i64 = tx
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n as usize, USERS_A.len());
    tx.commit().unwrap();
    a.batch_execute(&format!(
        "SET idpviews.tenant_id = '{TENANT_A}'; SELECT idp_views.set_tenant('{TENANT_A}')"
    ))
    .unwrap();
    let a_backend = backend(&mut a);

    // Client B, same role, served by the same server connection (the pool
    // holds one): it sees what A left on the connection...
    let mut b = through(&bouncer, &role, Some(PASSWORD));
    assert_eq!(backend(&mut b), a_backend, "one server connection for both");
    let left: Option<String> = b
        .query_one("SELECT current_setting('idpviews.tenant_id', true)", &[])
        .unwrap()
        .get(0);
    assert!(
        left.is_some_and(|v| v.contains(TENANT_A)),
        "A's SET stayed on the connection"
    );
    // ... and no tenant: no rows, outside and inside a transaction.
    let n: i64 = b
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let mut tx = b.transaction().unwrap();
    assert_eq!(current_tenant(&mut tx).unwrap(), None);
    let n: i64 = tx
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    tx.commit().unwrap();
    // B's own declaration gives B its own tenant, and only in its transaction.
    let mut tx = b.transaction().unwrap();
    set_tenant(&mut tx, TENANT_B).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(rows.len(), USERS_B.len());
    tx.commit().unwrap();
    let n: i64 = a
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "nothing of B's reaches A either");
}
