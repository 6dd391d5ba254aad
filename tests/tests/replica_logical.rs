//! Logical replication of the package's columns to a product's own database, on real clusters
//! started by the test harness: a primary with `wal_level = logical` (the IDP) and a subscriber
//! cluster (the product). Every wait is bounded.

mod db_fixture;

use db_fixture::*;
use idpviews::replica::{self, PublishOptions, SubscribeOptions, TableState, UpgradeOptions};
use idpviews::Package;
use idpviews_testdb::replication::{clusters, wait_until};
use idpviews_testdb::TestDb;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// The IDP database on the replication primary, with the fixture's tables and users.
fn idp_db() -> TestDb {
    let db = clusters().unwrap().primary().create_db().unwrap();
    let mut c = db.connect();
    c.batch_execute(IDP_SQL).unwrap();
    c.execute(
        r#"INSERT INTO "idp"."Tenant" ("id", "name") VALUES ($1::text::uuid, 'A'), ($2::text::uuid, 'B')"#,
        &[&TENANT_A, &TENANT_B],
    )
    .unwrap();
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        for (id, email) in users {
            insert_user(&mut c, id, email, tenant);
        }
    }
    // A table the package does not read: the replication role must not read it.
    c.batch_execute(r#"CREATE TABLE "idp"."Session" (id int PRIMARY KEY, token text)"#)
        .unwrap();
    db
}

fn insert_user(c: &mut postgres::Client, id: &str, email: &str, tenant: &str) {
    c.execute(
        r#"INSERT INTO "idp"."User" ("id", "email", "first_name", "password", "user_types", "tenant_id")
           VALUES ($1::text::uuid, $2, 'First', 'secret-hash', ARRAY['DRIVER']::"idp"."user_type"[], $3::text::uuid)"#,
        &[&id, &email, &tenant],
    )
    .unwrap();
}

struct Pair {
    idp: TestDb,
    product: TestDb,
    role: String,
    subscription: String,
}

/// Publishes `package` on a fresh IDP database and subscribes a fresh product database to it,
/// as the replication role; waits for the initial copy.
fn replicate(package: &Package, tenant: Option<&str>) -> Pair {
    let idp = idp_db();
    let role = idp.role_name("replica");
    let opts = PublishOptions {
        publication: "idpviews".into(),
        role: role.clone(),
        tenant: tenant.map(str::to_owned),
    };
    let mut admin = idp.connect();
    let plan = replica::publication_plan(Some(&mut admin), package, &opts).unwrap();
    plan.execute(&mut admin).unwrap();

    let product = clusters()
        .unwrap()
        .subscriber()
        .unwrap()
        .create_db()
        .unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} dbname={} user={role} password=never-printed",
        clusters().unwrap().primary().port(),
        idp.name()
    );
    let mut as_replica: postgres::Client = conninfo
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap();
    let tables = replica::publication_tables(&mut as_replica, package, "idpviews").unwrap();
    let subscription = format!("s_{}", product.name());
    let mut p = product.connect();
    let done = replica::subscribe(
        &mut p,
        package,
        &tables,
        &SubscribeOptions {
            publication: "idpviews".into(),
            subscription: Some(subscription.clone()),
            publisher: conninfo,
        },
    )
    .unwrap();
    assert_eq!(done.subscription, subscription);
    replica::wait_ready(&mut p, &subscription, WAIT).unwrap();
    Pair {
        idp,
        product,
        role,
        subscription,
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // The slot lives on the shared primary: drop the subscription (and its slot) first.
        if let Ok(mut p) = self.product.try_connect() {
            let _ = p.batch_execute(&format!(
                "DROP SUBSCRIPTION IF EXISTS \"{}\"",
                self.subscription
            ));
        }
    }
}

const USERS_SQL: &str = r#"SELECT id::text, email, first_name, user_types::text[]::text, tenant_id::text, created_at::text FROM "idp"."User" ORDER BY id"#;
const VIEW_SQL: &str = r#"SELECT id::text, email, first_name, user_types::text, tenant_id::text, created_at::text FROM idp_views."IdpUser" ORDER BY id"#;

type UserRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn rows(c: &mut postgres::Client, sql: &str) -> Vec<UserRow> {
    c.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

/// Waits until the product's view shows `expected` (bounded).
fn converge(product: &mut postgres::Client, expected: impl Fn() -> Vec<UserRow>, what: &str) {
    let mut last = Vec::new();
    let r = wait_until(WAIT, what, || {
        last = rows(product, VIEW_SQL);
        Ok(last == expected())
    });
    if let Err(e) = r {
        panic!("{e}\nproduct: {last:#?}\nexpected: {:#?}", expected());
    }
}

fn columns(c: &mut postgres::Client, schema: &str, table: &str) -> Vec<String> {
    c.query(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = format('%I.%I', $1::text, $2::text)::regclass \
         AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        &[&schema, &table],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn published_columns(c: &mut postgres::Client) -> Vec<(String, Vec<String>, Option<String>)> {
    c.query(
        "SELECT tablename::text, attnames::text[], rowfilter FROM pg_publication_tables WHERE pubname = 'idpviews' ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn errors(product: &mut postgres::Client, subscription: &str) -> (i64, i64) {
    let s = replica::status(product, Some(subscription)).unwrap();
    (s[0].apply_errors, s[0].sync_errors)
}

#[test]
fn the_product_database_converges_and_never_holds_a_secret() {
    let package = package(VIEWS_BASE);
    let pair = replicate(&package, None);
    let mut idp = pair.idp.connect();
    let mut product = pair.product.connect();

    // Initial copy.
    converge(
        &mut product,
        || rows(&mut pair.idp.connect(), USERS_SQL),
        "the initial copy",
    );
    assert_eq!(rows(&mut product, VIEW_SQL).len(), 5);

    // Exactly the allowlisted columns, in the publication and in the product database.
    let user_cols = vec![
        "id",
        "email",
        "first_name",
        "user_types",
        "tenant_id",
        "created_at",
    ];
    let published = published_columns(&mut idp);
    assert_eq!(published.len(), 2, "{published:?}");
    for (table, cols, filter) in &published {
        assert!(filter.is_none());
        assert!(
            !cols.iter().any(|c| c == "password" || c == "nickname"),
            "{table}: {cols:?}"
        );
    }
    let user_pub: BTreeSet<&str> = published[1].1.iter().map(String::as_str).collect();
    assert_eq!(user_pub, user_cols.iter().copied().collect());
    assert_eq!(columns(&mut product, "idp", "User"), user_cols);
    assert_eq!(columns(&mut product, "idp", "Tenant"), vec!["id", "name"]);
    // The IDP's index on a published column is there too, so queries are planned alike.
    let indexed: String = product
        .query_one(
            r#"SELECT string_agg(pg_get_indexdef(indexrelid), '; ') FROM pg_index WHERE indrelid = '"idp"."User"'::regclass"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert!(indexed.contains("btree (tenant_id)"), "{indexed}");

    // Inserts, updates (one touching only the secret column), deletes.
    let new_user = "0190a000-0000-7000-8000-0000000000c1";
    insert_user(&mut idp, new_user, "c1@tenant-a.example", TENANT_A);
    idp.batch_execute(&format!(
        r#"UPDATE "idp"."User" SET email = 'a1-new@tenant-a.example', user_types = '{{ADMIN,DISPATCHER}}' WHERE id = '{}';
           UPDATE "idp"."User" SET password = 'rotated-hash' WHERE id = '{}';
           DELETE FROM "idp"."User" WHERE id = '{}';"#,
        USERS_A[0].0, USERS_A[1].0, USERS_B[1].0
    ))
    .unwrap();
    converge(
        &mut product,
        || rows(&mut pair.idp.connect(), USERS_SQL),
        "the changes",
    );
    assert_eq!(errors(&mut product, &pair.subscription), (0, 0));
    // The secret-only update reached nothing but the published columns.
    assert_eq!(columns(&mut product, "idp", "User"), user_cols);
    let n: i64 = product
        .query_one(
            r#"SELECT count(*) FROM "idp"."User" WHERE email = 'c1@tenant-a.example'"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);

    // The product database verifies, replica tables included; a secret column added by hand is
    // an error.
    let report = idpviews::verify(&mut product, &package).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(
        report.to_string().contains("replica table idp.User"),
        "{report}"
    );
    product
        .batch_execute(r#"ALTER TABLE "idp"."User" ADD COLUMN password text"#)
        .unwrap();
    let report = idpviews::verify(&mut product, &package).unwrap();
    assert!(!report.is_ok(), "{report}");
    assert!(
        report
            .to_string()
            .contains("column password is not in the package"),
        "{report}"
    );
    product
        .batch_execute(r#"ALTER TABLE "idp"."User" DROP COLUMN password"#)
        .unwrap();

    // Status: healthy, every table streaming, lag measured on the publisher.
    let mut status = replica::status(&mut product, Some(&pair.subscription)).unwrap();
    let s = &mut status[0];
    assert!(s.enabled && s.worker_running, "{s}");
    assert!(s.tables.iter().all(|t| t.state == TableState::Ready), "{s}");
    s.lag = replica::publisher_lag(&mut idp, &pair.subscription).unwrap();
    assert!(s.lag.is_some(), "{s}");
    assert!(s.problems(None, None).is_empty(), "{s}");
    // Broken: disabled.
    product
        .batch_execute(&format!(
            "ALTER SUBSCRIPTION \"{}\" DISABLE",
            pair.subscription
        ))
        .unwrap();
    let status = replica::status(&mut product, Some(&pair.subscription)).unwrap();
    assert!(!status[0].problems(None, None).is_empty());
}

#[test]
fn the_replication_role_reads_only_the_published_columns() {
    let package = package(VIEWS_BASE);
    let pair = replicate(&package, None);
    let mut config: postgres::Config = pair.idp.url_for_role(&pair.role, None).parse().unwrap();
    config.user(&pair.role);
    let mut r = config.connect(postgres::NoTls).unwrap();
    r.query(r#"SELECT id, email FROM "idp"."User""#, &[])
        .unwrap();
    for denied in [
        r#"SELECT password FROM "idp"."User""#,
        r#"SELECT nickname FROM "idp"."User""#,
        r#"SELECT * FROM "idp"."User""#,
        r#"SELECT token FROM "idp"."Session""#,
        r#"UPDATE "idp"."User" SET email = 'x'"#,
    ] {
        let e = r.query(denied, &[]).unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{denied}: {e}");
    }
}

#[test]
fn a_tenant_publication_holds_exactly_that_tenants_rows_also_after_moves() {
    let package = package(VIEWS_BASE);
    let pair = replicate(&package, Some(TENANT_A));
    let mut idp = pair.idp.connect();
    let mut product = pair.product.connect();
    let tenant_rows = |c: &mut postgres::Client| -> Vec<UserRow> {
        rows(c, USERS_SQL)
            .into_iter()
            .filter(|r| r.4 == TENANT_A)
            .collect()
    };
    converge(
        &mut product,
        || tenant_rows(&mut pair.idp.connect()),
        "tenant A's initial copy",
    );
    assert_eq!(rows(&mut product, VIEW_SQL).len(), USERS_A.len());

    // What it cost the IDP: the identity is a unique index (id, tenant_id).
    let (ident, index): (String, String) = idp
        .query_one(
            r#"SELECT c.relreplident::text, i.indexrelid::regclass::text FROM pg_class c
               JOIN pg_index i ON i.indrelid = c.oid AND i.indisreplident WHERE c.oid = '"idp"."User"'::regclass"#,
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(ident, "i");
    assert!(index.contains("idpviews_identity"), "{index}");
    let published = published_columns(&mut idp);
    let user = published.iter().find(|p| p.0 == "User").unwrap();
    assert!(user.2.as_deref().unwrap().contains(TENANT_A), "{user:?}");

    // a1 moves out of A, b1 moves into A, a2 changes, a new A user arrives, a B user changes.
    idp.batch_execute(&format!(
        r#"UPDATE "idp"."User" SET tenant_id = '{TENANT_B}' WHERE id = '{}';
           UPDATE "idp"."User" SET tenant_id = '{TENANT_A}', first_name = 'Moved' WHERE id = '{}';
           UPDATE "idp"."User" SET email = 'a2-new@tenant-a.example' WHERE id = '{}';
           UPDATE "idp"."User" SET email = 'b2-new@tenant-b.example' WHERE id = '{}';"#,
        USERS_A[0].0, USERS_B[0].0, USERS_A[1].0, USERS_B[1].0
    ))
    .unwrap();
    insert_user(
        &mut idp,
        "0190a000-0000-7000-8000-0000000000a9",
        "a9@tenant-a.example",
        TENANT_A,
    );
    converge(
        &mut product,
        || tenant_rows(&mut pair.idp.connect()),
        "tenant A after the moves",
    );
    let ids: BTreeSet<String> = rows(&mut product, VIEW_SQL)
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert!(!ids.contains(USERS_A[0].0) && ids.contains(USERS_B[0].0));
    // Moving back and deleting.
    idp.batch_execute(&format!(
        r#"UPDATE "idp"."User" SET tenant_id = '{TENANT_A}' WHERE id = '{}';
           DELETE FROM "idp"."User" WHERE id = '{}';"#,
        USERS_A[0].0, USERS_B[0].0
    ))
    .unwrap();
    converge(
        &mut product,
        || tenant_rows(&mut pair.idp.connect()),
        "tenant A after moving back",
    );
    assert_eq!(errors(&mut product, &pair.subscription), (0, 0));
    let report = idpviews::verify(&mut product, &package).unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn an_append_only_upgrade_while_writes_continue_loses_nothing() {
    let old = package(VIEWS_USER_ONLY);
    let new = package(VIEWS_APPENDED); // + User.nickname, + the Tenant table
    let pair = replicate(&old, None);
    let mut product = pair.product.connect();

    let stop = Arc::new(AtomicBool::new(false));
    let writer =
        {
            let stop = stop.clone();
            let mut c = pair.idp.connect();
            std::thread::spawn(move || {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) && i < 100_000 {
                    let id = format!("0190a000-0000-7000-8000-{:012x}", 0x100000 + i);
                    c.execute(
                    r#"INSERT INTO "idp"."User" ("id", "email", "password", "nickname", "tenant_id")
                       VALUES ($1::text::uuid, $2, 'h', $3, $4::text::uuid)"#,
                    &[&id, &format!("w{i}@example"), &format!("nick{i}"), &TENANT_A],
                )
                .unwrap();
                    c.execute(
                        r#"UPDATE "idp"."User" SET nickname = $1 WHERE id = $2::text::uuid"#,
                        &[&format!("renamed{i}"), &USERS_A[(i % 3) as usize].0],
                    )
                    .unwrap();
                    i += 1;
                }
                i
            })
        };
    std::thread::sleep(Duration::from_millis(300)); // writes before the upgrade too
    let done = replica::upgrade(
        &mut pair.idp.connect(),
        &mut product,
        &new,
        &UpgradeOptions {
            publication: "idpviews".into(),
            subscription: Some(pair.subscription.clone()),
            timeout: WAIT,
        },
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // and after
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0);
    assert_eq!(done.added_tables, vec!["idp.Tenant"]);
    assert_eq!(done.added_columns, vec!["idp.User.nickname"]);

    let with_nick =
        |c: &mut postgres::Client, sql: &str| -> Vec<(String, Option<String>, Option<String>)> {
            c.query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        };
    let idp_sql = r#"SELECT id::text, email, nickname FROM "idp"."User" ORDER BY id"#;
    let view_sql = r#"SELECT id::text, email, nickname FROM idp_views."IdpUser" ORDER BY id"#;
    let mut last = Vec::new();
    wait_until(WAIT, "the product to hold every write", || {
        last = with_nick(&mut product, view_sql);
        Ok(last == with_nick(&mut pair.idp.connect(), idp_sql))
    })
    .unwrap_or_else(|e| {
        let idp_rows = with_nick(&mut pair.idp.connect(), idp_sql);
        let diff: Vec<_> = idp_rows
            .iter()
            .filter(|r| !last.contains(r))
            .take(5)
            .collect();
        panic!(
            "{e}: product has {} rows, IDP {}; e.g. missing {diff:?}",
            last.len(),
            idp_rows.len()
        )
    });
    let nicknames = last.iter().filter(|r| r.2.is_some()).count();
    assert!(
        nicknames >= written as usize,
        "{nicknames} nicknames for {written} writes"
    );
    let tenants: i64 = product
        .query_one(r#"SELECT count(*) FROM idp_views."IdpTenant""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(tenants, 2);
    assert_eq!(errors(&mut product, &pair.subscription), (0, 0));
    let report = idpviews::verify(&mut product, &new).unwrap();
    assert!(report.is_ok(), "{report}");

    // A second run changes nothing; a breaking change is refused and changes nothing.
    let opts = UpgradeOptions {
        publication: "idpviews".into(),
        subscription: None,
        timeout: WAIT,
    };
    let again = replica::upgrade(&mut pair.idp.connect(), &mut product, &new, &opts).unwrap();
    assert!(again.is_unchanged());
    let before = published_columns(&mut pair.idp.connect());
    let e = replica::upgrade(
        &mut pair.idp.connect(),
        &mut product,
        &package(VIEWS_DROPPED_EMAIL),
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("refusing a breaking change"), "{e}");
    assert!(e.contains("idp.User.email"), "{e}");
    assert!(e.contains("ALTER PUBLICATION"), "{e}");
    assert_eq!(published_columns(&mut pair.idp.connect()), before);
    assert_eq!(
        columns(&mut product, "idp", "User"),
        vec![
            "id",
            "email",
            "first_name",
            "user_types",
            "tenant_id",
            "created_at",
            "nickname"
        ]
    );
}

#[test]
fn tables_the_publication_cannot_carry_safely_are_refused() {
    let package = package(VIEWS_BASE);
    let idp = idp_db();
    let mut c = idp.connect();
    let opts = PublishOptions {
        role: idp.role_name("replica"),
        ..PublishOptions::default()
    };
    // FULL would put every column, secrets included, in the stream.
    c.batch_execute(r#"ALTER TABLE "idp"."User" REPLICA IDENTITY FULL"#)
        .unwrap();
    let e = replica::publication_plan(Some(&mut c), &package, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("REPLICA IDENTITY FULL"), "{e}");
    // A key that is not allowlisted would leave the IDP beyond the allowlist.
    c.batch_execute(r#"ALTER TABLE "idp"."User" REPLICA IDENTITY DEFAULT"#)
        .unwrap();
    let no_key = db_fixture::package(
        "schema = \"idp_views\"\n[views.IdpTenant]\nmodel = \"Tenant\"\nfields = [\"name\"]\n",
    );
    let e = replica::publication_plan(Some(&mut c), &no_key, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`id` are not allowlisted"), "{e}");
    // No identity: published UPDATEs would fail on the IDP.
    c.batch_execute(r#"ALTER TABLE "idp"."User" REPLICA IDENTITY NOTHING"#)
        .unwrap();
    let e = replica::publication_plan(Some(&mut c), &package, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no replica identity"), "{e}");
    c.batch_execute(r#"ALTER TABLE "idp"."User" REPLICA IDENTITY DEFAULT"#)
        .unwrap();
    // A nullable tenant column cannot be in the identity a tenant filter needs.
    c.batch_execute(r#"ALTER TABLE "idp"."User" ALTER COLUMN tenant_id DROP NOT NULL"#)
        .unwrap();
    let tenant = PublishOptions {
        tenant: Some(TENANT_A.into()),
        ..opts.clone()
    };
    let e = replica::publication_plan(Some(&mut c), &package, &tenant)
        .unwrap_err()
        .to_string();
    assert!(e.contains("may be NULL"), "{e}");
    // Nothing was created.
    let n: i64 = c
        .query_one("SELECT count(*) FROM pg_publication", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // The printed SQL guards the identity it assumes: run on a table whose key differs, it aborts.
    let printed = replica::publication_plan(None, &package, &opts).unwrap();
    c.batch_execute(
        r#"ALTER TABLE "idp"."User" ALTER COLUMN tenant_id SET NOT NULL;
           CREATE UNIQUE INDEX user_tenant_id ON "idp"."User" (tenant_id, id);
           ALTER TABLE "idp"."User" REPLICA IDENTITY USING INDEX user_tenant_id"#,
    )
    .unwrap();
    let e = printed.execute(&mut c).unwrap_err().to_string();
    assert!(
        e.contains("replica identity of idp.User is not (id)"),
        "{e}"
    );
    let n: i64 = c
        .query_one("SELECT count(*) FROM pg_publication", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}
