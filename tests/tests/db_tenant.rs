//! Tenant isolation with a real product role: `IdpUser` is tenant-isolated
//! (`tenant_column = "tenantId"`); the product sets its tenant per
//! transaction with `idpviews::tenant::set_tenant`.
//!
//! The three attacks of the issue: reading another tenant's rows by any
//! query, a leaky function (`RAISE NOTICE` in `WHERE`), and forgetting to
//! set the tenant. Isolation is row-level security on `idp."User"` applied
//! to the view's owner (a role of each test's own, dropped with its
//! database); the IDP's own roles keep seeing every row.

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
    let package = package(&views_tenant(&db));
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

    // Control: the same attack against the same filter written as a plain
    // view `WHERE` (owned by a superuser, so no row-level security) does see
    // other tenants' rows, so the test above can fail.
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
        "without row-level security the leak is expected: {seen:?}"
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

#[test]
fn the_view_is_flattened_into_the_callers_query() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    let plan: Vec<String> = tx
        .query(
            r#"EXPLAIN SELECT u.email FROM product.driver d JOIN idp_views."IdpUser" u ON u.id = d."idpUserId""#,
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    // A security_barrier view would be a "Subquery Scan"; here the tenant
    // policy is a condition on the table itself.
    assert!(!plan.contains("Subquery Scan"), "{plan}");
    assert!(plan.contains("idpviews.tenant_id"), "{plan}");
}

#[test]
fn the_idp_table_owner_and_other_roles_still_see_every_row() {
    let db = idp_db();
    let mut admin = db.connect();
    // The IDP's own role owns its tables; another role has grants on them.
    let idp_owner = db.create_role("idp_owner", Some(PASSWORD)).unwrap();
    let other = db.create_role("idp_other", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&format!(
            r#"ALTER TABLE idp."User" OWNER TO "{idp_owner}";
               GRANT USAGE ON SCHEMA idp TO "{idp_owner}", "{other}";
               GRANT SELECT, INSERT, UPDATE ON idp."User" TO "{other}";
               GRANT SELECT ON idp."Tenant" TO "{idp_owner}";"#
        ))
        .unwrap();
    let package = package(&views_tenant(&db));
    idpviews::apply(&mut admin, &package).unwrap();
    let row_security: bool = admin
        .query_one(
            r#"SELECT relrowsecurity FROM pg_class WHERE oid = 'idp."User"'::regclass"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert!(row_security);

    let all = USERS_A.len() + USERS_B.len();
    for (role, new_id) in [
        (&idp_owner, "0190a000-0000-7000-8000-0000000000c1"),
        (&other, "0190a000-0000-7000-8000-0000000000c2"),
    ] {
        let mut c = connect(&db, role, None);
        // With or without a tenant declared: every row, as before.
        let n: i64 = c
            .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n as usize, all, "{role}");
        let mut tx = c.transaction().unwrap();
        set_tenant(&mut tx, TENANT_A).unwrap();
        let n: i64 = tx
            .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n as usize, all, "{role}");
        // Writes keep working (the permissive policy's WITH CHECK).
        tx.execute(
            r#"INSERT INTO idp."User" (id, email, password, tenant_id)
               VALUES ($1::text::uuid, 'new@tenant-b.example', 'x', $2::text::uuid)"#,
            &[&new_id, &TENANT_B],
        )
        .unwrap();
        let updated = tx
            .execute(
                r#"UPDATE idp."User" SET nickname = 'n' WHERE tenant_id = $1::text::uuid"#,
                &[&TENANT_B],
            )
            .unwrap();
        assert_eq!(updated as usize, USERS_B.len() + 1, "{role}");
        tx.rollback().unwrap();
    }
}

#[test]
fn reapplying_is_idempotent_and_a_later_tenant_view_is_readable() {
    let db = idp_db();
    let mut admin = db.connect();
    // The product gets its grants while only the plain view exists.
    let first = package(
        r#"
schema = "idp_views"

[views.IdpTenant]
model = "Tenant"
fields = ["id", "name"]
"#,
    );
    idpviews::apply(&mut admin, &first).unwrap();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&idpviews::grants_sql(&first.manifest, &role, "product").unwrap())
        .unwrap();

    // Then the tenant-isolated view arrives, applied three times (twice
    // through `apply`, once as the plain SQL script `psql -f` would run).
    let package = package(&views_tenant(&db));
    idpviews::apply(&mut admin, &package).unwrap();
    let state = |c: &mut postgres::Client| -> Vec<String> {
        c.query(
            r#"SELECT polname || ' ' || polpermissive::text || ' ' || polcmd::text || ' ' ||
                      array_to_string(ARRAY(SELECT coalesce(nullif(r, 0)::regrole::text, 'public') FROM unnest(polroles) r), ',') || ' ' ||
                      pg_get_expr(polqual, polrelid)
               FROM pg_policy WHERE polrelid = 'idp."User"'::regclass
               UNION ALL
               SELECT 'owner ' || relowner::regrole::text FROM pg_class WHERE oid = 'idp_views."IdpUser"'::regclass
               UNION ALL
               SELECT 'acl ' || coalesce(relacl::text, '') FROM pg_class WHERE oid = 'idp."User"'::regclass
               ORDER BY 1"#,
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let before = state(&mut admin);
    assert_eq!(
        before.iter().filter(|l| l.starts_with("idpviews_")).count(),
        2,
        "{before:?}"
    );
    // Re-applying does not lock the IDP table against its readers: an open
    // transaction reading idp."User" does not block it.
    let mut reader = db.connect();
    let mut reading = reader.transaction().unwrap();
    reading
        .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
        .unwrap();
    admin.batch_execute("SET lock_timeout = '3s'").unwrap();
    idpviews::apply(&mut admin, &package).unwrap();
    admin.batch_execute(&package.sql).unwrap();
    reading.commit().unwrap();
    assert_eq!(state(&mut admin), before);
    let report = idpviews::verify(&mut admin, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");

    let mut p = connect(&db, &role, None);
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_B).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_B));
    tx.commit().unwrap();
}

#[test]
fn two_tenant_columns_on_one_table_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&schema, IDP_PRISMA).unwrap();
    std::fs::write(
        &config,
        r#"
[views.IdpUser]
model = "User"
fields = ["id", "email"]
tenant_column = "tenantId"

[views.IdpUserById]
model = "User"
fields = ["id", "email"]
tenant_column = "id"
"#,
    )
    .unwrap();
    let e = idpviews_build::generate::Generator::new(&schema, &config, dir.path().join("out"))
        .generate()
        .expect_err("two tenant columns");
    let text = e.render(false);
    assert!(
        text.contains("views `IdpUser` and `IdpUserById` isolate tenants of \"idp\".\"User\" by different columns"),
        "{text}"
    );
}

#[test]
fn dropping_the_database_leaves_no_owner_role_behind() {
    let db = idp_db();
    let owner = tenant_owner(&db);
    {
        let mut c = db.connect();
        idpviews::apply(&mut c, &package(&views_tenant(&db))).unwrap();
    }
    let other = idpviews_testdb::TestDb::new();
    let exists = |c: &mut postgres::Client| -> bool {
        c.query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = $1",
            &[&owner],
        )
        .unwrap()
        .get::<_, i64>(0)
            == 1
    };
    let mut c = other.connect();
    assert!(exists(&mut c));
    drop(db);
    assert!(!exists(&mut c), "role {owner} left behind");
}

#[test]
fn the_idp_table_owner_can_apply_without_being_a_superuser() {
    let db = idp_db();
    let mut admin = db.connect();
    let idp_admin = db.role_name("idp_admin");
    admin
        .batch_execute(&format!(
            r#"CREATE ROLE "{idp_admin}" LOGIN CREATEROLE PASSWORD '{PASSWORD}';
               GRANT CREATE ON DATABASE "{}" TO "{idp_admin}";
               ALTER SCHEMA idp OWNER TO "{idp_admin}";
               ALTER TABLE idp."User" OWNER TO "{idp_admin}";
               ALTER TABLE idp."Tenant" OWNER TO "{idp_admin}";
               ALTER TYPE idp.user_type OWNER TO "{idp_admin}";"#,
            db.name()
        ))
        .unwrap();
    let package = package(&views_tenant(&db));
    let mut c = connect(&db, &idp_admin, None);
    idpviews::apply(&mut c, &package).unwrap();
    idpviews::apply(&mut c, &package).unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
    // The IDP's owner still sees every row of its table.
    let n: i64 = c
        .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n as usize, USERS_A.len() + USERS_B.len());
    // Through the view: the declared tenant only.
    let mut tx = c.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_A));
    tx.commit().unwrap();
}
