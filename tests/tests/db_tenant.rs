//! Tenant isolation with a real product role: `IdpUser` is tenant-isolated
//! (`tenant_column = "tenantId"`); the product declares its tenant per
//! transaction with `idpviews::tenant::set_tenant` (`SELECT
//! idp_views.set_tenant($1)`).
//!
//! The attacks of the issues: reading another tenant's rows by any query, a
//! leaky function (`RAISE NOTICE` in `WHERE`), forgetting the tenant, a
//! session-level or stale tenant. Isolation is the tenant filter and column
//! masks inside the view; the IDP's tables are not changed, so the IDP's own
//! operations (COPY FROM, pg_dump, its query plans, applying as a plain IDP
//! role) work as before, and a restore without owners fails closed.

mod db_fixture;

use db_fixture::*;
use idpviews::tenant::{current_tenant, set_tenant};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::Command;
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
    // view `WHERE` without the column masks does see other tenants' rows, so
    // the test above can fail.
    let mut admin = s.db.connect();
    admin
        .batch_execute(&format!(
            r#"CREATE VIEW idp_views.leaky_control AS SELECT * FROM idp."User"
                 WHERE tenant_id = (SELECT CAST(idp_views.current_tenant() AS uuid));
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
        "without the column masks the leak is expected: {seen:?}"
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
    // A session-level SET of the setting (an easy mistake, and what a pooled
    // connection may carry into another client's transaction) is no tenant,
    // nor a value copied from an earlier transaction of this session.
    p.batch_execute(&format!("SET idpviews.tenant_id = '{TENANT_A}'"))
        .unwrap();
    assert_eq!(count(&mut |q| p.query_one(q, &[]).unwrap().get(0)), 0);
    let stale: String = {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, TENANT_A).unwrap();
        let v = tx
            .query_one("SELECT current_setting('idpviews.tenant_id')", &[])
            .unwrap()
            .get(0);
        tx.commit().unwrap();
        v
    };
    p.execute(
        "SELECT set_config('idpviews.tenant_id', $1, false)",
        &[&stale],
    )
    .unwrap();
    {
        let mut tx = p.transaction().unwrap();
        assert_eq!(current_tenant(&mut tx).unwrap(), None);
        assert_eq!(count(&mut |q| tx.query_one(q, &[]).unwrap().get(0)), 0);
        tx.commit().unwrap();
    }
    // `set_tenant` outside a transaction block lasts for that statement only.
    p.batch_execute(&format!("SELECT idp_views.set_tenant('{TENANT_A}')"))
        .unwrap();
    assert_eq!(count(&mut |q| p.query_one(q, &[]).unwrap().get(0)), 0);
    p.batch_execute("RESET idpviews.tenant_id").unwrap();
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
    let e = tx
        .batch_execute("SELECT idp_views.set_tenant('')")
        .expect_err("empty tenant");
    assert_eq!(sqlstate(&e), "22023");
    tx.rollback().unwrap();
    let mut tx = p.transaction().unwrap();
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
    // filter is a condition on the table itself, with the tenant computed
    // once (an InitPlan) and the IDP's index on the id used for the join.
    assert!(!plan.contains("Subquery Scan"), "{plan}");
    assert!(plan.contains("InitPlan"), "{plan}");
    assert!(plan.contains("Index Cond: (tenant_id = $"), "{plan}");
}

/// docs/database.md, "Speed": the tenant column is not masked, so a
/// product's own condition on it (`tenant_id = $1`) is an index condition on
/// the IDP's tenant index, merged with the view's own check (per-tenant
/// plans, BENCHMARKS.md); passing another tenant than the declared one
/// returns no rows.
#[test]
fn a_products_tenant_condition_is_an_index_condition() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let sql = r#"SELECT email FROM idp_views."IdpUser" WHERE tenant_id = $1::text::uuid"#;
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    // A few rows only: without this the planner reads the tiny table
    // sequentially whatever the condition.
    tx.batch_execute("SET LOCAL enable_seqscan = off").unwrap();
    let rows = tx.query(sql, &[&TENANT_A]).unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_A));
    let plan: Vec<String> = tx
        .query(format!("EXPLAIN {sql}").as_str(), &[&TENANT_A])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    // A custom plan: the product's tenant is a literal of the index
    // condition on the tenant index, the view's check a one-time filter.
    assert!(plan.contains("User_tenant_id_idx"), "{plan}");
    assert!(
        plan.contains(&format!("Index Cond: (tenant_id = '{TENANT_A}'::uuid)")),
        "{plan}"
    );
    assert!(!plan.contains("ELSE NULL::uuid END"), "{plan}");
    // Another tenant than the declared one: no rows, with and without
    // the index.
    let seq_scan = format!("SET LOCAL enable_seqscan = on; {SEQ_SCAN_ONLY}");
    for scans in ["", seq_scan.as_str()] {
        tx.batch_execute(scans).unwrap();
        let plan: Vec<String> = tx
            .query(format!("EXPLAIN {sql}").as_str(), &[&TENANT_B])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let plan = plan.join("\n");
        assert_eq!(plan.contains("Seq Scan"), !scans.is_empty(), "{plan}");
        let rows = tx.query(sql, &[&TENANT_B]).unwrap();
        assert!(rows.is_empty(), "{scans}: {:?}", emails(&rows));
        let n: i64 = tx
            .query_one(
                r#"SELECT count(*) FROM idp_views."IdpUser" WHERE tenant_id = $1::text::uuid OR tenant_id IS NULL"#,
                &[&TENANT_B],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{scans}");
    }
    tx.commit().unwrap();
    // No tenant declared: no rows, whatever tenant the query passes.
    for tenant in [TENANT_A, TENANT_B] {
        assert!(p.query(sql, &[&tenant]).unwrap().is_empty(), "{tenant}");
    }
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
    // The IDP's table is not changed: no row-level security, no policy.
    let (row_security, policies): (bool, i64) = admin
        .query_one(
            r#"SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid)
               FROM pg_class c WHERE oid = 'idp."User"'::regclass"#,
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert!(!row_security && policies == 0);

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
        tx.execute(
            "SELECT set_config('idpviews.tenant_id', $1, true)",
            &[&TENANT_A],
        )
        .unwrap();
        let n: i64 = tx
            .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n as usize, all, "{role}");
        // Writes keep working, INSERT ... RETURNING and COPY FROM too (which
        // row-level security on the table refuses to non-owners).
        let returned: String = tx
            .query_one(
                r#"INSERT INTO idp."User" (id, email, password, tenant_id)
                   VALUES ($1::text::uuid, 'new@tenant-b.example', 'x', $2::text::uuid)
                   RETURNING email"#,
                &[&new_id, &TENANT_B],
            )
            .unwrap()
            .get(0);
        assert_eq!(returned, "new@tenant-b.example");
        let mut copy = tx
            .copy_in(r#"COPY idp."User" (id, email, password, tenant_id) FROM STDIN"#)
            .unwrap_or_else(|e| panic!("{role}: COPY FROM: {e}"));
        copy.write_all(
            format!(
                "{}\tcopied@tenant-a.example\tx\t{TENANT_A}\n",
                new_id.replace("c", "d")
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            copy.finish()
                .unwrap_or_else(|e| panic!("{role}: COPY FROM: {e}")),
            1
        );
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
fn the_idp_table_owner_can_apply_without_being_a_superuser_or_creating_roles() {
    let db = idp_db();
    let mut admin = db.connect();
    let idp_admin = db.role_name("idp_admin");
    admin
        .batch_execute(&format!(
            r#"CREATE ROLE "{idp_admin}" LOGIN PASSWORD '{PASSWORD}';
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

/// Runs a PostgreSQL client program (`pg_dump`, `psql`); a missing binary is
/// a failure that says so, never a skip.
fn run_tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{program}` ({e}): install the PostgreSQL client programs (Debian: postgresql-client)")
    });
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_backup_role_with_select_dumps_with_plain_pg_dump() {
    let s = setup();
    let mut admin = s.db.connect();
    let backup = s.db.create_role("backup", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&format!(
            r#"GRANT USAGE ON SCHEMA idp, idp_views, product TO "{backup}";
               GRANT SELECT ON ALL TABLES IN SCHEMA idp, product TO "{backup}";"#
        ))
        .unwrap();
    let url = s.db.url_for_role(&backup, Some(PASSWORD));
    // No --enable-row-security needed: nothing on the IDP tables changed.
    let dump = run_tool("pg_dump", &["--dbname", &url, "--schema", "idp"]);
    for (_, email) in USERS_A.iter().chain(USERS_B.iter()) {
        assert!(dump.contains(email), "{email} missing in the dump");
    }
}

#[test]
fn a_restore_without_owners_fails_closed() {
    let s = setup();
    let dump = run_tool(
        "pg_dump",
        &[
            "--dbname",
            s.db.url(),
            "--no-owner",
            "--no-acl",
            "--schema",
            "idp",
            "--schema",
            "idp_views",
        ],
    );
    // Restored by another role (here the server's admin, a superuser: the
    // view's new owner); the earlier row-level security design then showed
    // every tenant's rows with no tenant declared.
    let restored = idpviews_testdb::TestDb::new();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), dump).unwrap();
    run_tool(
        "psql",
        &[
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            restored.url(),
            "-f",
            file.path().to_str().unwrap(),
        ],
    );
    let mut c = restored.connect();
    let n: i64 = c
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "no tenant declared: no rows");
    let mut tx = c.transaction().unwrap();
    set_tenant(&mut tx, TENANT_B).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_B));
    tx.commit().unwrap();
    // And the package still verifies there.
    let report = idpviews::verify(&mut c, &package(&views_tenant(&restored))).unwrap();
    assert!(report.is_ok(), "{report}");
}

/// The estimated rows of the top plan node of `sql`.
fn estimate(c: &mut postgres::Client, sql: &str) -> f64 {
    let plan: serde_json::Value = c
        .query_one(&format!("EXPLAIN (FORMAT JSON) {sql}"), &[])
        .unwrap()
        .get(0);
    plan[0]["Plan"]["Plan Rows"].as_f64().unwrap()
}

#[test]
fn the_idps_own_query_plans_do_not_change() {
    let db = idp_db();
    let mut admin = db.connect();
    admin
        .batch_execute(&format!(
            r#"INSERT INTO idp."User" (id, email, first_name, password, user_types, tenant_id)
               SELECT gen_random_uuid(), 'u' || g || '@x.example', 'mohammed' || (g % 50), 'x',
                      CASE WHEN g % 3 = 0 THEN ARRAY['DRIVER'] ELSE ARRAY['ADMIN'] END::idp.user_type[],
                      '{TENANT_A}'
               FROM generate_series(1, 3000) g;
               ANALYZE idp."User";"#
        ))
        .unwrap();
    // An IDP service role that does not own the tables.
    let service = db.create_role("idp_service", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&format!(
            r#"GRANT USAGE ON SCHEMA idp TO "{service}"; GRANT SELECT ON idp."User" TO "{service}";"#
        ))
        .unwrap();
    let queries = [
        r#"SELECT * FROM idp."User" WHERE first_name ILIKE 'mohammed1%'"#,
        r#"SELECT * FROM idp."User" WHERE user_types @> '{DRIVER}'"#,
    ];
    let mut c = connect(&db, &service, None);
    let before: Vec<f64> = queries.iter().map(|q| estimate(&mut c, q)).collect();
    idpviews::apply(&mut admin, &package(&views_tenant(&db))).unwrap();
    let after: Vec<f64> = queries.iter().map(|q| estimate(&mut c, q)).collect();
    assert_eq!(before, after);
    // Control: row-level security on the table (the earlier design, even
    // with an allow-all policy) does change them for this role.
    admin
        .batch_execute(
            r#"ALTER TABLE idp."User" ENABLE ROW LEVEL SECURITY;
               CREATE POLICY allow_all ON idp."User" USING (true);"#,
        )
        .unwrap();
    let with_rls: Vec<f64> = queries.iter().map(|q| estimate(&mut c, q)).collect();
    assert_ne!(before, with_rls, "the control should change the estimates");
}

#[test]
fn a_prepared_statement_serves_every_tenant() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let stmt = p
        .prepare(r#"SELECT email FROM idp_views."IdpUser" ORDER BY email"#)
        .unwrap();
    // No tenant first (a plan for "no rows" must not stick), then each tenant,
    // more than five times (PostgreSQL then may switch to a generic plan).
    for round in 0..8 {
        assert!(p.query(&stmt, &[]).unwrap().is_empty());
        for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
            let mut tx = p.transaction().unwrap();
            set_tenant(&mut tx, tenant).unwrap();
            let rows = tx.query(&stmt, &[]).unwrap();
            assert_eq!(emails(&rows), tenant_emails(users), "round {round}");
            tx.commit().unwrap();
        }
    }
    // The estimate does not depend on the declared tenant.
    let mut tx = p.transaction().unwrap();
    let none = estimate_tx(&mut tx);
    set_tenant(&mut tx, TENANT_A).unwrap();
    assert_eq!(estimate_tx(&mut tx), none);
    tx.commit().unwrap();
}

fn estimate_tx(tx: &mut postgres::Transaction<'_>) -> f64 {
    let plan: serde_json::Value = tx
        .query_one(
            r#"EXPLAIN (FORMAT JSON) SELECT * FROM idp_views."IdpUser""#,
            &[],
        )
        .unwrap()
        .get(0);
    plan[0]["Plan"]["Plan Rows"].as_f64().unwrap()
}

/// The threat model of docs/database.md, claim by claim, as a hostile
/// product role.
#[test]
fn threat_model_what_a_hostile_product_role_can_and_cannot_do() {
    let s = setup();
    let mut admin = s.db.connect();
    // A row that belongs to no tenant (an IDP-wide admin, say).
    let orphan = ("0190a000-0000-7000-8000-0000000000f1", "root@idp.example");
    admin
        .batch_execute(&format!(
            r#"ALTER TABLE idp."User" ALTER COLUMN tenant_id DROP NOT NULL;
               INSERT INTO idp."User" (id, email, password) VALUES ('{}', '{}', 'x');"#,
            orphan.0, orphan.1
        ))
        .unwrap();
    let notices = Arc::new(Mutex::new(Vec::new()));
    let mut p = connect(&s.db, &s.role, Some(notices.clone()));

    // It can declare any tenant (one role serves every tenant): the boundary
    // is against bugs in product code, not against the product role.
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_B).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_B));
    tx.commit().unwrap();

    // It can never reach: the IDP tables, a row of no tenant through any
    // declaration (an empty tenant is refused; a forged empty value is no
    // tenant), any column but the id and the tenant id of another tenant's
    // rows through a leaky function or an error, even on a sequential scan.
    let e = p
        .query(r#"SELECT count(*) FROM idp."User""#, &[])
        .expect_err("no access to idp");
    assert_eq!(sqlstate(&e), "42501");
    // Nor can it change the tenant functions or the views.
    for sql in [
        format!("CREATE OR REPLACE FUNCTION idp_views.current_tenant() RETURNS text LANGUAGE sql STABLE AS $$ SELECT '{TENANT_B}'::text $$"),
        r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS SELECT * FROM idp_views."IdpTenant""#.to_owned(),
        "ALTER FUNCTION idp_views.set_tenant(text) SECURITY DEFINER".to_owned(),
    ] {
        let e = p.batch_execute(&sql).expect_err("not the owner");
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
    for forged in ["", "/", "x/"] {
        let mut tx = p.transaction().unwrap();
        tx.execute(
            "SELECT set_config('idpviews.tenant_id', EXTRACT(epoch FROM transaction_timestamp())::text || $1, true)",
            &[&forged],
        )
        .unwrap();
        let n: i64 = tx
            .query_one(
                r#"SELECT count(*) FROM idp_views."IdpUser" WHERE tenant_id IS NULL OR id = $1::text::uuid"#,
                &[&orphan.0],
            )
            .map(|r| r.get(0))
            .unwrap_or(0);
        assert_eq!(n, 0, "{forged:?}");
        tx.rollback().unwrap();
    }
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    tx.batch_execute(SEQ_SCAN_ONLY).unwrap();
    tx.batch_execute(
        r#"CREATE FUNCTION product.leak_row(uuid, text, uuid) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
             $$ BEGIN RAISE NOTICE 'row % % %', $1, $2, $3; RETURN true; END $$;
           CREATE FUNCTION product.leak_id(uuid) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
             $$ BEGIN RAISE NOTICE 'id %', $1; RETURN true; END $$;
           CREATE FUNCTION product.leak_tenant(uuid, uuid) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
             $$ BEGIN RAISE NOTICE 'tenant % %', $1, $2; RETURN true; END $$;"#,
    )
    .unwrap();
    tx.query(
        r#"SELECT 1 FROM idp_views."IdpUser" u WHERE product.leak_id(u.id) AND product.leak(u.email)"#,
        &[],
    )
    .unwrap();
    tx.query(
        r#"SELECT 1 FROM idp_views."IdpUser" u WHERE product.leak_tenant(u.id, u.tenant_id) AND product.leak_row(u.id, u.email, u.tenant_id)"#,
        &[],
    )
    .unwrap();
    let probe = format!(
        r#"SELECT 1 FROM idp_views."IdpUser" WHERE 1 / (CASE WHEN email = '{}' THEN 0 ELSE 1 END) = 1"#,
        orphan.1
    );
    tx.query(probe.as_str(), &[])
        .unwrap_or_else(|e| panic!("{probe}: an error reveals a hidden row: {e}"));
    tx.commit().unwrap();
    let seen = notices.lock().unwrap().clone();
    assert!(
        seen.len() > USERS_A.len(),
        "the leaky function ran on other rows: {seen:?}"
    );
    for n in &seen {
        for (_, email) in USERS_B.iter().chain([&orphan]) {
            assert!(!n.contains(email), "the leaky function saw {email}: {n}");
        }
    }
    // What it can still learn (the side channels docs/database.md names): the
    // ids of rows outside its tenant (the join key is not masked), their
    // tenant ids (the tenant column is not masked: per-tenant plans for the
    // product's own tenant condition) and how many rows the table holds (the
    // leaky function's calls, or EXPLAIN ANALYZE's "Rows Removed by Filter"
    // on a sequential scan).
    assert!(seen.iter().any(|n| n.contains(orphan.0)), "{seen:?}");
    // The (id, tenant id) pairs the leak saw are exactly what declaring each
    // tenant shows, plus the ids of rows of no tenant with a NULL tenant id
    // (`RAISE NOTICE` prints NULL as `<NULL>`); nothing else.
    let leaked: BTreeSet<(String, String)> = seen
        .iter()
        .filter_map(|n| n.strip_prefix("tenant "))
        .filter_map(|n| n.split_once(' '))
        .map(|(id, tenant)| (id.to_owned(), tenant.to_owned()))
        .collect();
    let mut declared = BTreeSet::new();
    for tenant in [TENANT_A, TENANT_B] {
        let mut tx = p.transaction().unwrap();
        set_tenant(&mut tx, tenant).unwrap();
        for row in tx
            .query(
                r#"SELECT id::text, tenant_id::text FROM idp_views."IdpUser""#,
                &[],
            )
            .unwrap()
        {
            declared.insert((row.get::<_, String>(0), row.get::<_, String>(1)));
        }
        tx.commit().unwrap();
    }
    declared.insert((orphan.0.to_owned(), "<NULL>".to_owned()));
    assert_eq!(leaked, declared, "{seen:?}");
    assert!(
        seen.iter()
            .any(|n| n.starts_with("tenant ") && n.contains(TENANT_B)),
        "{seen:?}"
    );
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    tx.batch_execute(SEQ_SCAN_ONLY).unwrap();
    let plan: Vec<String> = tx
        .query(r#"EXPLAIN ANALYZE SELECT * FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let removed = USERS_B.len() + 1;
    assert!(
        plan.iter()
            .any(|l| l.contains(&format!("Rows Removed by Filter: {removed}"))),
        "{plan:?}"
    );
    tx.commit().unwrap();
}

#[test]
fn verify_reports_a_tenant_view_that_lost_its_isolation() {
    let db = idp_db();
    let package = package(&views_tenant(&db));
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
    let errors = |c: &mut postgres::Client| {
        let report = idpviews::verify(c, &package).unwrap();
        let kinds: Vec<idpviews::FindingKind> = report
            .findings()
            .filter(|f| f.severity == idpviews::Severity::Error)
            .map(|f| f.kind.clone())
            .collect();
        (kinds, report.to_string())
    };
    let def: String = c
        .query_one(
            r#"SELECT pg_get_viewdef('idp_views."IdpUser"'::regclass)"#,
            &[],
        )
        .unwrap()
        .get(0);
    let def = def.trim().trim_end_matches(';');
    let tampered = [
        // the filter dropped (every tenant's rows)
        def[..def.rfind("WHERE").unwrap()].to_owned(),
        // one column unmasked
        def.replacen(
            "CASE\n            WHEN (\"User\".tenant_id = ( SELECT (idp_views.current_tenant())::uuid AS current_tenant)) THEN \"User\".email\n            ELSE NULL::text\n        END AS email",
            "\"User\".email",
            1,
        ),
    ];
    assert_ne!(tampered[1], def, "the mask pattern changed:\n{def}");
    // the mask moved from the e-mail to the (unmasked) tenant column: the
    // same number of masks
    let mask = "CASE\n            WHEN (\"User\".tenant_id = ( SELECT (idp_views.current_tenant())::uuid AS current_tenant)) THEN \"User\".email\n            ELSE NULL::text\n        END AS email";
    let moved = tampered[1].replacen(
        "\"User\".tenant_id,",
        &format!(
            "{},",
            mask.replace("\"User\".email", "\"User\".tenant_id")
                .replace("NULL::text", "NULL::uuid")
                .replace("AS email", "AS tenant_id")
        ),
        1,
    );
    assert_ne!(
        moved, tampered[1],
        "the tenant column pattern changed:\n{def}"
    );
    // a condition OR-ed to the filter
    let where_at = def.rfind("WHERE").unwrap();
    let widened = format!("{} OR true", def);
    let tampered = [tampered[0].clone(), tampered[1].clone(), moved, widened];
    assert!(where_at > 0);
    for view in tampered {
        c.batch_execute(&format!(
            r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS {view}"#
        ))
        .unwrap();
        let (kinds, text) = errors(&mut c);
        // (and, with the applied record, the recorded definition differs)
        assert!(
            kinds.contains(&idpviews::FindingKind::NoTenantFilter)
                && kinds.iter().all(|k| matches!(
                    k,
                    idpviews::FindingKind::NoTenantFilter
                        | idpviews::FindingKind::ChangedSinceApply
                )),
            "{text}"
        );
        assert!(text.contains("tenant isolation is"), "{text}");
        idpviews::apply(&mut c, &package).unwrap();
        assert!(idpviews::verify(&mut c, &package).unwrap().is_ok());
    }
    // The tenant functions replaced: one that returns a fixed tenant, one
    // made SECURITY DEFINER, the previous idpviews version's
    // `current_tenant()` (the same check as a SQL function, inlined at every
    // use: applying the package upgrades it).
    for sql in [
        idpviews_tests::earlier::current_tenant_sql("idp_views"),
        format!(
            "CREATE OR REPLACE FUNCTION idp_views.current_tenant() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT '{TENANT_A}'::text $$"
        ),
        "ALTER FUNCTION idp_views.set_tenant(text) SECURITY DEFINER".to_owned(),
        // an earlier idpviews version's set_tenant, returning void (which
        // Prisma's $queryRaw cannot read): applying replaces it
        idpviews_tests::earlier::set_tenant_void("idp_views"),
        "DROP FUNCTION idp_views.set_tenant(text)".to_owned(),
    ] {
        c.batch_execute(&sql).unwrap();
        let (kinds, text) = errors(&mut c);
        assert!(
            matches!(kinds.as_slice(), [idpviews::FindingKind::TenantFunction { .. }]),
            "{sql}: {text}"
        );
        idpviews::apply(&mut c, &package).unwrap();
        assert!(idpviews::verify(&mut c, &package).unwrap().is_ok(), "{sql}");
    }
    // The package SQL itself (as a first apply or a migration tool runs it)
    // replaces an earlier void set_tenant too.
    c.batch_execute(&idpviews_tests::earlier::set_tenant_void("idp_views"))
        .unwrap();
    assert!(!idpviews::verify(&mut c, &package).unwrap().is_ok());
    c.batch_execute(&package.sql).unwrap();
    let declared: String = c
        .query_one("SELECT idp_views.set_tenant('t')", &[])
        .unwrap()
        .get(0);
    assert_eq!(declared, "t");
    assert!(idpviews::verify(&mut c, &package).unwrap().is_ok());
}

#[test]
fn applying_removes_the_row_level_security_of_the_earlier_design() {
    let db = idp_db();
    let mut c = db.connect();
    c.batch_execute(
        r#"ALTER TABLE idp."User" ENABLE ROW LEVEL SECURITY;
           CREATE POLICY idpviews_all ON idp."User" AS PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (true);
           CREATE POLICY idpviews_tenant_reader ON idp."User" AS RESTRICTIVE FOR SELECT TO PUBLIC USING (false);"#,
    )
    .unwrap();
    idpviews::apply(&mut c, &package(&views_tenant(&db))).unwrap();
    let (row_security, policies): (bool, i64) = c
        .query_one(
            r#"SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid)
               FROM pg_class c WHERE oid = 'idp."User"'::regclass"#,
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert!(!row_security && policies == 0);
}

/// What a hot standby allows: a read-only transaction that never gets a
/// transaction id. Declaring the tenant and reading through the view need
/// none (a standby would refuse to assign one).
#[test]
fn declaring_a_tenant_needs_no_transaction_id() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let mut tx = p.transaction().unwrap();
    tx.batch_execute("SET TRANSACTION READ ONLY").unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    let rows = tx
        .query(r#"SELECT email FROM idp_views."IdpUser""#, &[])
        .unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_A));
    let xid: Option<String> = tx
        .query_one("SELECT pg_current_xact_id_if_assigned()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(xid, None, "no transaction id was assigned");
    tx.commit().unwrap();
}

/// Parallel workers see the tenant the leader declared (the setting and the
/// transaction start time are handed to them): a parallel plan returns the
/// tenant's rows, no fewer.
#[test]
fn parallel_workers_see_the_declared_tenant() {
    let s = setup();
    let mut p = connect(&s.db, &s.role, None);
    let mut tx = p.transaction().unwrap();
    set_tenant(&mut tx, TENANT_A).unwrap();
    tx.batch_execute(
        "SELECT set_config(name, 'on', true) FROM pg_settings
           WHERE name IN ('force_parallel_mode', 'debug_parallel_query');
         SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
         SET LOCAL min_parallel_table_scan_size = 0;",
    )
    .unwrap();
    tx.batch_execute(SEQ_SCAN_ONLY).unwrap();
    let sql = r#"SELECT email FROM idp_views."IdpUser""#;
    let plan: Vec<String> = tx
        .query(&format!("EXPLAIN {sql}"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(plan.iter().any(|l| l.contains("Gather")), "{plan:?}");
    let rows = tx.query(sql, &[]).unwrap();
    assert_eq!(emails(&rows), tenant_emails(&USERS_A));
    tx.commit().unwrap();
}
