//! The generated SQL on a real PostgreSQL: applies from many connections
//! at once and again (idempotent), creates views whose columns and types
//! are exactly what the manifest says, rejects every write even from a
//! superuser, isolates tenants, and upgrades a previous package in place
//! when columns are appended.

mod generate_support;

use generate_support::*;
use idpviews_build::generate::{GeneratedPackage, ADVISORY_LOCK_KEY, TENANT_SETTING};
use idpviews_build::manifest::{Manifest, SQL_FILE};
use idpviews_testdb::TestDb;
use std::path::{Path, PathBuf};

const ALL_TYPES_TABLES: &str = r#"
CREATE SCHEMA idp;
CREATE SCHEMA audit;
CREATE TYPE idp.account_role AS ENUM ('OWNER', 'member', 'GUEST');
CREATE TABLE idp.accounts (
  id            uuid PRIMARY KEY,
  handle        varchar(64) NOT NULL UNIQUE,
  code          char(2) NOT NULL,
  nickname      text,
  ip            inet,
  age           integer,
  small         smallint NOT NULL,
  big           bigint NOT NULL,
  score         double precision NOT NULL,
  ratio         real,
  balance       numeric(65,30) NOT NULL,
  price         numeric(10,2) NOT NULL,
  active        boolean NOT NULL DEFAULT true,
  born          date,
  seen_at       timestamptz(6),
  wake_at       time(0),
  local_at      timestamp(6) NOT NULL,
  created_at    timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at    timestamp(3) NOT NULL,
  settings      jsonb NOT NULL DEFAULT '{}',
  legacy        json,
  avatar        bytea,
  tags          text[],
  scores        integer[],
  role          idp.account_role NOT NULL DEFAULT 'member',
  roles         idp.account_role[],
  tenant_id     uuid NOT NULL,
  password_hash text NOT NULL,
  locked_until  timestamp(3)
);
CREATE TABLE audit.memberships (
  account_id uuid NOT NULL REFERENCES idp.accounts (id),
  group_id   integer NOT NULL,
  since      timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (account_id, group_id)
);
INSERT INTO idp.accounts (id, handle, code, small, big, score, balance, price, local_at,
                          updated_at, role, roles, tenant_id, password_hash, tags)
VALUES
  ('00000000-0000-0000-0000-00000000000a', 'alice', 'de', 1, 10, 1.5, 2, 3.25, now(), now(),
   'member', '{OWNER,member}', '11111111-1111-1111-1111-111111111111', 'secret-hash-a', '{x}'),
  ('00000000-0000-0000-0000-00000000000b', 'bob', 'fr', 2, 20, 2.5, 3, 4.50, now(), now(),
   'OWNER', '{}', '11111111-1111-1111-1111-111111111111', 'secret-hash-b', '{}'),
  ('00000000-0000-0000-0000-00000000000c', 'carol', 'it', 3, 30, 3.5, 4, 5.75, now(), now(),
   'GUEST', NULL, '22222222-2222-2222-2222-222222222222', 'secret-hash-c', NULL);
INSERT INTO audit.memberships (account_id, group_id)
VALUES ('00000000-0000-0000-0000-00000000000a', 1), ('00000000-0000-0000-0000-00000000000b', 1);
"#;

/// The example IDP's tables (as `prisma migrate` creates them).
const EXAMPLE_TABLES: &str = r#"
CREATE SCHEMA idp;
CREATE TYPE idp.user_type AS ENUM ('ADMIN', 'DRIVER', 'DISPATCHER', 'customer');
CREATE TABLE idp.tenants (
  id uuid PRIMARY KEY, name text NOT NULL, slug text NOT NULL UNIQUE,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE idp.users (
  id uuid PRIMARY KEY, email text UNIQUE, first_name text, last_name text,
  mobile_number varchar(32), password text NOT NULL, pin text,
  user_types idp.user_type[], is_active boolean NOT NULL DEFAULT true,
  tenant_id uuid REFERENCES idp.tenants (id), avatar_url text,
  refresh_token_version integer NOT NULL DEFAULT 0,
  failed_login_attempts integer NOT NULL DEFAULT 0, locked_until timestamptz(6),
  should_change_password boolean NOT NULL DEFAULT false,
  last_password_change_at timestamp(3), last_login_at timestamp(3), metadata jsonb,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp(3) NOT NULL
);
CREATE TABLE idp.roles (
  id uuid PRIMARY KEY, name text NOT NULL, permissions text[],
  tenant_id uuid REFERENCES idp.tenants (id),
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (tenant_id, name)
);
INSERT INTO idp.tenants (id, name, slug) VALUES ('11111111-1111-1111-1111-111111111111', 'Acme', 'acme');
INSERT INTO idp.users (id, email, first_name, password, user_types, tenant_id, avatar_url, updated_at)
VALUES ('00000000-0000-0000-0000-00000000000a', 'mo@example.com', 'Mohammed', 'pw',
        '{DRIVER,customer}', '11111111-1111-1111-1111-111111111111', 'https://a/1.png', now());
"#;

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cases/generate")
        .join(name)
}

fn package(case_dir: &Path, out: &Path) -> GeneratedPackage {
    generate(case_dir, out).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// The `all_types` package (its tenant-isolated views need no role of
/// their own).
fn all_types_package(_db: &TestDb, out: &Path) -> GeneratedPackage {
    package(&case("all_types"), out)
}

/// `(column, format_type)` of a relation, in column order.
fn columns(client: &mut postgres::Client, schema: &str, rel: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            &[&schema, &rel],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The view's columns and types are exactly the manifest's.
fn assert_matches_manifest(client: &mut postgres::Client, m: &Manifest) {
    for v in &m.views {
        let want: Vec<(String, String)> = v
            .columns
            .iter()
            .map(|c| (c.column.clone(), c.sql_type.clone()))
            .collect();
        assert_eq!(columns(client, &m.schema, &v.name), want, "view {}", v.name);
        // information_schema agrees that it is a view, in our schema
        let kind: String = client
            .query_one(
                "SELECT table_type::text FROM information_schema.tables
                  WHERE table_schema = $1 AND table_name = $2",
                &[&m.schema, &v.name],
            )
            .unwrap()
            .get(0);
        assert_eq!(kind, "VIEW");
        let comment: Option<String> = client
            .query_one(
                "SELECT obj_description(format('%I.%I', $1::text, $2::text)::regclass, 'pg_class')",
                &[&m.schema, &v.name],
            )
            .unwrap()
            .get(0);
        let comment = comment.expect("COMMENT ON VIEW");
        assert!(
            comment.starts_with("Generated by idpviews from IDP model"),
            "{comment}"
        );
        assert!(comment.contains(&v.model), "{comment}");
    }
}

/// Every kind of write through every view fails with SQLSTATE 25006, even
/// for a superuser and even when it matches no row; the data is unchanged.
fn assert_read_only(client: &mut postgres::Client, m: &Manifest) {
    for v in &m.views {
        let view = format!("\"{}\".\"{}\"", m.schema, v.name);
        let col = &v.columns[0].column;
        let writes = [
            format!("INSERT INTO {view} (\"{col}\") SELECT \"{col}\" FROM {view} LIMIT 1"),
            format!("INSERT INTO {view} DEFAULT VALUES"),
            format!("UPDATE {view} SET \"{col}\" = \"{col}\""),
            format!("UPDATE {view} SET \"{col}\" = \"{col}\" WHERE false"),
            format!("DELETE FROM {view}"),
            format!("DELETE FROM {view} WHERE false"),
        ];
        for sql in writes {
            let before: i64 = client
                .query_one(&format!("SELECT count(*) FROM {view}"), &[])
                .unwrap()
                .get(0);
            let err = client.batch_execute(&sql).expect_err(&sql);
            let db = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err}"));
            assert_eq!(db.code().code(), "25006", "{sql}: {}", db.message());
            assert!(db.message().contains("read-only"), "{}", db.message());
            assert!(
                db.message().contains(&v.name),
                "names the view: {}",
                db.message()
            );
            let after: i64 = client
                .query_one(&format!("SELECT count(*) FROM {view}"), &[])
                .unwrap()
                .get(0);
            assert_eq!(before, after, "{sql} changed rows");
        }
    }
}

#[test]
fn all_types_apply_concurrently_idempotently_and_read_only() {
    let db = TestDb::new();
    let mut client = db.connect();
    let is_superuser: String = client
        .query_one("SELECT current_setting('is_superuser')", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        is_superuser, "on",
        "the read-only check must run as a superuser"
    );
    client.batch_execute(ALL_TYPES_TABLES).unwrap();

    let out = tempfile::tempdir().unwrap();
    let p = all_types_package(&db, out.path());
    let sql = p.file(SQL_FILE).unwrap().to_owned();
    assert!(sql.contains(&format!("pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")));

    // 8 connections apply the package at the same moment on a fresh database
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let mut c = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
                    barrier.wait();
                    c.batch_execute(&sql)
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().expect("concurrent apply");
        }
    });
    // and twice more, one after the other
    client.batch_execute(&sql).unwrap();
    client.batch_execute(&sql).unwrap();

    let m = p.manifest();
    assert_eq!(m.schema, "shared_views");
    assert_matches_manifest(&mut client, m);
    assert_read_only(&mut client, m);

    // nothing but the listed columns: the password hash is not there
    let all: Vec<String> = columns(&mut client, "shared_views", "AllTypes")
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert!(!all.contains(&"password_hash".to_owned()));
    assert_eq!(all.len(), 28);

    // enums read as plain text, with their database labels
    let rows = client
        .query(
            "SELECT role, roles FROM shared_views.\"AllTypes\" ORDER BY handle",
            &[],
        )
        .unwrap();
    let roles: Vec<(String, Option<Vec<String>>)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        roles,
        [
            ("member".into(), Some(vec!["OWNER".into(), "member".into()])),
            ("OWNER".into(), Some(vec![])),
            ("GUEST".into(), None),
        ]
    );
    // a label the IDP adds later reads as a plain string too
    client
        .batch_execute("ALTER TYPE idp.account_role ADD VALUE 'AUDITOR'")
        .unwrap();
    client
        .batch_execute("UPDATE idp.accounts SET role = 'AUDITOR' WHERE handle = 'carol'")
        .unwrap();
    let role: String = client
        .query_one(
            "SELECT role FROM shared_views.\"AllTypes\" WHERE handle = 'carol'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(role, "AUDITOR");

    // the compound id of the membership table is readable through the view
    let n: i64 = client
        .query_one("SELECT count(*) FROM shared_views.\"IdpMembership\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[test]
fn tenant_isolated_view_shows_only_the_callers_tenant() {
    let db = TestDb::new();
    let mut client = db.connect();
    client.batch_execute(ALL_TYPES_TABLES).unwrap();
    let out = tempfile::tempdir().unwrap();
    let p = all_types_package(&db, out.path());
    client.batch_execute(p.file(SQL_FILE).unwrap()).unwrap();

    let count = |c: &mut postgres::Client| -> i64 {
        c.query_one("SELECT count(*) FROM shared_views.\"TenantAccount\"", &[])
            .unwrap()
            .get(0)
    };
    // never set: nothing
    assert_eq!(count(&mut client), 0);
    // set per transaction: only that tenant's rows
    let mut tx = client.transaction().unwrap();
    tx.execute(
        "SELECT shared_views.set_tenant($1)",
        &[&"11111111-1111-1111-1111-111111111111"],
    )
    .unwrap();
    let handles: Vec<String> = tx
        .query(
            "SELECT handle FROM shared_views.\"TenantAccount\" ORDER BY handle",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(handles, ["alice", "bob"]);
    tx.commit().unwrap();
    // after the transaction: nothing
    assert_eq!(count(&mut client), 0);
    // a session-level SET of the setting is no tenant
    client
        .batch_execute(&format!(
            "SET {TENANT_SETTING} = '22222222-2222-2222-2222-222222222222'"
        ))
        .unwrap();
    assert_eq!(count(&mut client), 0);
    // the other tenant, declared in its transaction
    let mut tx = client.transaction().unwrap();
    tx.execute(
        "SELECT shared_views.set_tenant($1)",
        &[&"22222222-2222-2222-2222-222222222222"],
    )
    .unwrap();
    let n: i64 = tx
        .query_one("SELECT count(*) FROM shared_views.\"TenantAccount\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    tx.commit().unwrap();
    // the plain view of the same model is not filtered
    let all: i64 = client
        .query_one("SELECT count(*) FROM shared_views.\"AllTypes\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(all, 3);
}

#[test]
fn previous_package_upgrades_in_place_when_columns_are_appended() {
    let db = TestDb::new();
    let mut client = db.connect();
    client.batch_execute(EXAMPLE_TABLES).unwrap();

    let case_dir = case("append_upgrade");
    let previous_sql = std::fs::read_to_string(case_dir.join("previous").join(SQL_FILE)).unwrap();
    // a format-1 package, as the generator's breaking-change guard reads it
    let previous = Manifest::from_previous_json(
        &std::fs::read_to_string(case_dir.join("previous/idp-views.lock")).unwrap(),
    )
    .unwrap();
    client.batch_execute(&previous_sql).unwrap();
    assert_matches_manifest(&mut client, &previous);

    // the new package, generated against the previous one (no breaking change)
    let out = tempfile::tempdir().unwrap();
    copy_files(&case_dir.join("previous"), out.path());
    let p = package(&case_dir, out.path());
    client.batch_execute(p.file(SQL_FILE).unwrap()).unwrap();
    assert_matches_manifest(&mut client, p.manifest());
    assert_read_only(&mut client, p.manifest());

    let old = previous.view("IdpUser").unwrap().columns.len();
    let new = p.manifest().view("IdpUser").unwrap().columns.len();
    assert!(new > old, "columns were appended");
    let row = client
        .query_one(
            "SELECT first_name, avatar_url, user_types FROM idp_views.\"IdpUser\"",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Mohammed");
    assert_eq!(row.get::<_, String>(1), "https://a/1.png");
    assert_eq!(row.get::<_, Vec<String>>(2), ["DRIVER", "customer"]);

    // applying the old package over the new one is not possible in place
    // (it would drop columns), and the failed transaction changes nothing
    let err = client.batch_execute(&previous_sql).unwrap_err();
    assert!(
        err.to_string().contains("cannot drop columns from view")
            || err
                .as_db_error()
                .is_some_and(|e| e.message().contains("cannot drop columns from view")),
        "{err}"
    );
    // the file's own BEGIN left the session in the failed transaction
    client.batch_execute("ROLLBACK").unwrap();
    assert_matches_manifest(&mut client, p.manifest());
}
