//! A tenant-isolated package on a streaming hot standby (real clusters started by the test
//! harness): the tenant declaration (no transaction id needed), the tenant filter and `verify`
//! work read-only; `apply` refuses.

mod db_fixture;

use db_fixture::*;
use idpviews::tenant::{current_tenant, set_tenant};
use idpviews_testdb::replication::clusters;
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn tenant_isolated_views_work_on_a_hot_standby() {
    let clusters = clusters().unwrap();
    let db = clusters.primary().create_db().unwrap();
    let mut admin = db.connect();
    admin.batch_execute(IDP_SQL).unwrap();
    admin
        .execute(
            r#"INSERT INTO "idp"."Tenant" ("id", "name") VALUES ($1::text::uuid, 'A'), ($2::text::uuid, 'B')"#,
            &[&TENANT_A, &TENANT_B],
        )
        .unwrap();
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        for (id, email) in users {
            admin
                .execute(
                    r#"INSERT INTO "idp"."User" ("id", "email", "password", "tenant_id")
                       VALUES ($1::text::uuid, $2, 'secret-hash', $3::text::uuid)"#,
                    &[id, email, &tenant],
                )
                .unwrap();
        }
    }
    let package = package(&views_tenant(&db));
    idpviews::apply(&mut admin, &package).unwrap();
    let role = db.create_role("product", Some("pw")).unwrap();
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .unwrap();

    let standby = clusters.standby().unwrap();
    clusters.wait_for_standby(Duration::from_secs(60)).unwrap();
    let connect = |user: &str, password: Option<&str>| {
        let mut c = postgres::Config::new();
        c.host("127.0.0.1")
            .port(standby.port())
            .dbname(db.name())
            .user(user)
            .connect_timeout(Duration::from_secs(10));
        if let Some(pw) = password {
            c.password(pw);
        }
        c.connect(postgres::NoTls).unwrap()
    };
    let mut p = connect(&role, Some("pw"));
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, tenant).unwrap();
        let emails: BTreeSet<String> = tx
            .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(emails, users.iter().map(|(_, e)| e.to_string()).collect());
        assert_eq!(current_tenant(&mut tx).unwrap().as_deref(), Some(tenant));
        let xid: Option<i64> = tx
            .query_one("SELECT txid_current_if_assigned()", &[])
            .unwrap()
            .get(0);
        assert_eq!(xid, None, "the tenant declaration needs no transaction id");
        tx.commit().unwrap();
    }
    // No tenant declared: no rows, never all rows.
    let n: i64 = p
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let report = idpviews::verify(&mut p, &package).unwrap();
    assert!(report.is_ok(), "{report}");
    let e = idpviews::apply(&mut connect("postgres", None), &package).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("read-only standby: apply on the primary"),
        "{e}"
    );
}
