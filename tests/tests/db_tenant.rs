//! Tenant isolation with a real product role: `IdpUser` is tenant-isolated
//! (`tenant_column = "tenantId"`); the product sets its tenant per
//! transaction with `idpviews::tenant::set_tenant`.
//!
//! The three attacks of the issue: reading another tenant's rows by any
//! query, a leaky function (`RAISE NOTICE` in `WHERE`), and forgetting to
//! set the tenant.

mod db_fixture;

use db_fixture::*;
use idpviews::tenant::{current_tenant, set_tenant};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "product-password";
const SEQ_SCAN_ONLY: &str =
    "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off;";

struct Setup {
    db: idpviews_testdb::TestDb,
    role: String,
}

fn setup() -> Setup {
    let db = idp_db();
    let mut admin = db.connect();
    let package = package(VIEWS_TENANT);
    idpviews::apply(&mut admin, &package).unwrap();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .unwrap();
    assert!(idpviews::verify(&mut admin, &package).unwrap().is_ok());
    // The product's drivers reference users of both tenants.
    let mut p = connect(&db, &role, None);
    p.batch_execute(
        r#"CREATE TABLE product.driver (id serial PRIMARY KEY, "idpUserId" uuid NOT NULL);
           CREATE FUNCTION product.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
             $$ BEGIN RAISE NOTICE 'saw %', $1; RETURN true; END $$;"#,
    )
    .unwrap();
    for (id, _) in USERS_A.iter().chain(USERS_B.iter()) {
        p.execute(
            r#"INSERT INTO product.driver ("idpUserId") VALUES ($1::text::uuid)"#,
            &[id],
        )
        .unwrap();
    }
    Setup { db, role }
}

fn connect(
    db: &idpviews_testdb::TestDb,
    role: &str,
    notices: Option<Arc<Mutex<Vec<String>>>>,
) -> postgres::Client {
    let mut config: postgres::Config = db.url_for_role(role, Some(PASSWORD)).parse().unwrap();
    if let Some(notices) = notices {
        config.notice_callback(move |n| notices.lock().unwrap().push(n.message().to_owned()));
    }
    config.connect(postgres::NoTls).unwrap()
}

fn emails(rows: &[postgres::Row]) -> BTreeSet<String> {
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

fn tenant_emails(users: &[(&str, &str)]) -> BTreeSet<String> {
    users.iter().map(|(_, e)| (*e).to_owned()).collect()
}

#[test]
fn the_right_tenant_sees_exactly_its_rows() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, tenant).unwrap();
        assert_eq!(current_tenant(&mut tx).unwrap().as_deref(), Some(tenant));
        let rows = tx
            .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
            .unwrap();
        assert_eq!(emails(&rows), tenant_emails(users));
        tx.commit().unwrap();
    }
    // Not tenant-isolated: every tenant row.
    let n: i64 = p
        .query_one(r#"SELECT count(*) FROM idp_views."IdpTenant""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[test]
fn no_query_reads_another_tenants_rows() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    let b_ids: Vec<&str> = USERS_B.iter().map(|(id, _)| *id).collect();
    let queries = [
        // Filtering on the other tenant or its ids directly.
        format!(r#"SELECT email FROM idp_views."IdpUser" WHERE tenant_id = '{TENANT_B}'"#),
        format!(r#"SELECT email FROM idp_views."IdpUser" WHERE id = '{}'"#, b_ids[0]),
        format!(
            r#"SELECT email FROM idp_views."IdpUser" WHERE id = ANY('{{{}}}'::uuid[])"#,
            b_ids.join(",")
        ),
        // Through the product's own rows, which do reference B's users.
        r#"SELECT u.email FROM product.driver d JOIN idp_views."IdpUser" u ON u.id = d."idpUserId""#.into(),
        r#"SELECT (SELECT u.email FROM idp_views."IdpUser" u WHERE u.id = d."idpUserId") FROM product.driver d"#
            .into(),
        r#"SELECT u.email FROM product.driver d, LATERAL (SELECT email FROM idp_views."IdpUser" u WHERE u.id = d."idpUserId") u"#
            .into(),
        // Set operations, CTEs, aggregates, ordering.
        r#"WITH all_users AS (SELECT * FROM idp_views."IdpUser") SELECT email FROM all_users"#.into(),
        r#"SELECT email FROM idp_views."IdpUser" UNION ALL SELECT email FROM idp_views."IdpUser""#.into(),
        r#"SELECT string_agg(email, ',' ORDER BY email) FROM idp_views."IdpUser""#.into(),
        r#"SELECT email FROM idp_views."IdpUser" ORDER BY email DESC LIMIT 100"#.into(),
        // An error-based probe: a B row would make it fail with division by zero.
        format!(
            r#"SELECT email FROM idp_views."IdpUser" WHERE 1 / (CASE WHEN tenant_id = '{TENANT_B}' THEN 0 ELSE 1 END) = 1"#
        ),
    ];
    let b_emails = tenant_emails(&USERS_B);
    for q in &queries {
        let rows = tx
            .query(q.as_str(), &[])
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        for row in &rows {
            let value: Option<String> = row.get(0);
            if let Some(v) = value {
                for b in &b_emails {
                    assert!(!v.contains(b.as_str()), "{q} returned tenant B's {b}");
                }
            }
        }
    }
    // The tables behind the views stay out of reach.
    let e = tx
        .query(r#"SELECT email FROM idp."User""#, &[])
        .expect_err("no access to idp");
    assert_eq!(sqlstate(&e), "42501");
}

#[test]
fn a_leaky_function_sees_no_filtered_out_rows() {
    let s = setup();
    let notices = Arc::new(Mutex::new(Vec::new()));
    let mut p = connect(&s.db, &s.role, Some(notices.clone()));
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    // A sequential scan reads every tenant's rows: the attack's best case.
    tx.batch_execute(SEQ_SCAN_ONLY).unwrap();
    let rows = tx
        .query(
            r#"SELECT email FROM idp_views."IdpUser" WHERE product.leak(email)"#,
            &[],
        )
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_A));
    tx.query(
        r#"SELECT count(*) FROM product.driver d JOIN idp_views."IdpUser" u ON u.id = d."idpUserId" WHERE product.leak(u.email)"#,
        &[],
    )
    .unwrap();
    tx.commit().unwrap();
    let seen = notices.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the leaky function ran");
    for n in &seen {
        for (_, b) in USERS_B {
            assert!(!n.contains(b), "the leaky function saw tenant B's row: {n}");
        }
    }

    // Control: the same attack against the same filter WITHOUT
    // security_barrier does see other tenants' rows, so the test above can
    // fail.
    let mut admin = s.db.connect();
    admin
        .batch_execute(&format!(
            r#"CREATE VIEW idp_views.leaky_control AS SELECT * FROM idp."User"
                 WHERE tenant_id = CAST(NULLIF(current_setting('idpviews.tenant_id', true), '') AS uuid);
               GRANT SELECT ON idp_views.leaky_control TO "{}";"#,
            s.role
        ))
        .unwrap();
    notices.lock().unwrap().clear();
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    tx.batch_execute(SEQ_SCAN_ONLY).unwrap();
    tx.query(
        r#"SELECT email FROM idp_views.leaky_control WHERE product.leak(email)"#,
        &[],
    )
    .unwrap();
    tx.commit().unwrap();
    let seen = notices.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|n| USERS_B.iter().any(|(_, b)| n.contains(b))),
        "without security_barrier the leak is expected: {seen:?}"
    );
}

#[test]
fn forgetting_the_tenant_returns_nothing() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let count = |c: &mut dyn FnMut(&str) -> i64| c(r#"SELECT count(*) FROM idp_views."IdpUser""#);

    // Never set, outside a transaction.
    assert_eq!(count(&mut |q| p.query_one(q, &[]).unwrap().get(0)), 0);
    // Never set, inside a transaction.
    {
        let mut tx = p.transaction().unwrap();
        assert_eq!(current_tenant(&mut tx).unwrap(), None);
        assert_eq!(count(&mut |q| tx.query_one(q, &[]).unwrap().get(0)), 0);
        tx.commit().unwrap();
    }
    // Set in an earlier transaction on the same (pooled) connection.
    {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, TENANT_A).unwrap();
        assert_eq!(count(&mut |q| tx.query_one(q, &[]).unwrap().get(0)), 3);
        tx.commit().unwrap();
    }
    assert_eq!(count(&mut |q| p.query_one(q, &[]).unwrap().get(0)), 0);
    {
        let mut tx = p.transaction().unwrap();
        assert_eq!(current_tenant(&mut tx).unwrap(), None);
        assert_eq!(count(&mut |q| tx.query_one(q, &[]).unwrap().get(0)), 0);
        tx.commit().unwrap();
    }
    // Also after a rollback.
    {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, TENANT_B).unwrap();
        tx.rollback().unwrap();
    }
    assert_eq!(count(&mut |q| p.query_one(q, &[]).unwrap().get(0)), 0);
    // A join through the view finds nothing either.
    let n: i64 = p
        .query_one(
            r#"SELECT count(u.id) FROM product.driver d LEFT JOIN idp_views."IdpUser" u ON u.id = d."idpUserId""#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // An empty tenant is refused, a malformed one is an error, never a wider match.
    let mut tx = p.transaction().unwrap();
    assert!(matches!(
        set_tenant(&mut tx, ""),
        Err(idpviews::Error::InvalidInput(_))
    ));
    set_tenant(&mut tx, "' OR true --").unwrap();
    let e = tx
        .query(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .expect_err("not a uuid");
    assert_eq!(sqlstate(&e), "22P02");
}

#[test]
fn set_tenant_async_scopes_the_transaction() {
    let s = setup();
    let url = s.db.url_for_role(&s.role, Some(PASSWORD));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (inside, after) = rt.block_on(async move {
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let tx = client.transaction().await.unwrap();
        idpviews::tenant::set_tenant_async(&tx, TENANT_B)
            .await
            .unwrap();
        let inside: i64 = tx
            .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
            .await
            .unwrap()
            .get(0);
        tx.commit().await.unwrap();
        let after: i64 = client
            .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
            .await
            .unwrap()
            .get(0);
        (inside, after)
    });
    assert_eq!((inside, after), (2, 0));
}
