//! IDP migrations with the views in place (`idpviews::migration::wrap`,
//! the `wrap-migration` command): widen a varchar, change a type, drop an
//! exposed column, drop a hidden column, rename a table (`@@map`), with
//! product readers running throughout.
//!
//! The migrations are written in the exact form Prisma Migrate's PostgreSQL
//! renderer emits (`-- AlterTable` comments, `ALTER TABLE "schema"."table"
//! ALTER COLUMN "c" SET DATA TYPE VARCHAR(200);`, ...): `prisma migrate diff`
//! needs the schema-engine binary, which cannot be downloaded here. They
//! run the way Prisma runs them: the whole file as one simple-query message.

mod db_fixture;

use db_fixture::*;
use idpviews::Package;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A package generated from a changed IDP schema.
fn package_from(prisma: &str, allowlist: &str) -> Package {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = dir.path().join("schema.prisma");
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&schema, prisma).unwrap();
    std::fs::write(&config, allowlist).unwrap();
    let generated =
        idpviews_build::generate::Generator::new(&schema, &config, dir.path().join("out"))
            .allow_breaking(true)
            .generate()
            .unwrap_or_else(|e| panic!("generate failed:\n{}", e.render(false)));
    Package {
        manifest: generated.manifest().clone(),
        sql: generated
            .file(idpviews_build::manifest::SQL_FILE)
            .unwrap()
            .to_owned()
            .into(),
    }
}

/// Product readers on their own connections, querying until stopped.
struct Readers {
    stop: AtomicBool,
    queries: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

/// Runs `during` while 4 readers run `sql` in a loop; returns the queries
/// they made. Fails on any reader error.
fn with_readers(db: &idpviews_testdb::TestDb, sql: &str, during: impl FnOnce()) -> usize {
    let readers = Readers {
        stop: AtomicBool::new(false),
        queries: AtomicUsize::new(0),
        errors: Mutex::new(Vec::new()),
    };
    std::thread::scope(|s| {
        for _ in 0..4 {
            let r = &readers;
            let mut c = db.connect();
            s.spawn(move || {
                while !r.stop.load(Ordering::Relaxed) {
                    match c.simple_query(sql) {
                        Ok(_) => {
                            r.queries.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => r.errors.lock().unwrap().push(format!("{e:?}")),
                    }
                }
            });
        }
        // readers are running before the migration starts
        while readers.queries.load(Ordering::Relaxed) < 20 {
            std::thread::sleep(Duration::from_millis(5));
        }
        during();
        let after = readers.queries.load(Ordering::Relaxed);
        while readers.queries.load(Ordering::Relaxed) < after + 20 {
            std::thread::sleep(Duration::from_millis(5));
        }
        readers.stop.store(true, Ordering::Relaxed);
    });
    let errors = readers.errors.into_inner().unwrap();
    assert!(errors.is_empty(), "readers got errors: {errors:#?}");
    readers.queries.into_inner()
}

fn view_oid(c: &mut postgres::Client, view: &str) -> u32 {
    c.query_one(
        &format!("SELECT 'idp_views.\"{view}\"'::regclass::oid"),
        &[],
    )
    .unwrap()
    .get(0)
}

fn column_type(c: &mut postgres::Client, view: &str, column: &str) -> Option<String> {
    c.query_opt(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped",
        &[&format!("idp_views.\"{view}\""), &column],
    )
    .unwrap()
    .map(|r| r.get(0))
}

/// Runs one migration end to end: v1 applied, readers running, the wrapped
/// migration run as Prisma runs it, then `apply` of v2 (the deploy step);
/// `verify` agrees with v2.
fn migrate(
    db: &idpviews_testdb::TestDb,
    v2: &Package,
    migration: &str,
    reader_sql: &str,
) -> idpviews::migration::Wrapped {
    let wrapped = idpviews::migration::wrap(v2, migration, Duration::from_secs(5)).unwrap();
    let sql = wrapped.sql.clone().expect("the migration is wrapped");
    let mut c = db.connect();
    assert_eq!(
        idpviews::migration::dependents(&mut c, v2, &wrapped).unwrap(),
        []
    );
    with_readers(db, reader_sql, || {
        let mut c = db.connect();
        c.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("the wrapped migration failed: {e:?}\n{sql}"));
    });
    let mut c = db.connect();
    let applied = idpviews::apply(&mut c, v2).expect("apply the new package");
    let report = idpviews::verify(&mut c, v2).unwrap();
    assert!(report.is_ok(), "{applied}\n{report}");
    wrapped
}

#[test]
fn widen_a_varchar() {
    let v1_prisma = IDP_PRISMA.replace(
        "@map(\"first_name\")",
        "@map(\"first_name\") @db.VarChar(50)",
    );
    let v2_prisma = IDP_PRISMA.replace(
        "@map(\"first_name\")",
        "@map(\"first_name\") @db.VarChar(200)",
    );
    let db = idp_db();
    let mut c = db.connect();
    c.batch_execute(r#"ALTER TABLE "idp"."User" ALTER COLUMN "first_name" TYPE varchar(50)"#)
        .unwrap();
    idpviews::apply(&mut c, &package_from(&v1_prisma, VIEWS_BASE)).unwrap();
    let migration = "-- AlterTable\nALTER TABLE \"idp\".\"User\" ALTER COLUMN \"first_name\" SET DATA TYPE VARCHAR(200);\n";
    // Without the wrapper, PostgreSQL refuses.
    let e = c
        .batch_execute(migration)
        .expect_err("a view reads the column");
    assert_eq!(sqlstate(&e), "0A000");
    let v2 = package_from(&v2_prisma, VIEWS_BASE);
    let wrapped = migrate(&db, &v2, migration, "SELECT * FROM idp_views.\"IdpUser\"");
    assert_eq!(wrapped.views, ["IdpUser"]);
    assert_eq!(
        column_type(&mut c, "IdpUser", "first_name").as_deref(),
        Some("character varying(200)")
    );
    // The re-created view is read-only like the rest.
    let e = c
        .batch_execute("DELETE FROM idp_views.\"IdpUser\"")
        .expect_err("read-only");
    assert_eq!(sqlstate(&e), "25006");
}

#[test]
fn change_a_type() {
    let v2_prisma = IDP_PRISMA.replace(
        "@map(\"created_at\")",
        "@map(\"created_at\") @db.Timestamptz(3)",
    );
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    let tenant_oid = view_oid(&mut c, "IdpTenant");
    let migration = "-- AlterTable\nALTER TABLE \"idp\".\"User\" ALTER COLUMN \"created_at\" SET DATA TYPE TIMESTAMPTZ(3);\n";
    let v2 = package_from(&v2_prisma, VIEWS_BASE);
    migrate(&db, &v2, migration, "SELECT * FROM idp_views.\"IdpUser\"");
    assert_eq!(
        column_type(&mut c, "IdpUser", "created_at").as_deref(),
        Some("timestamp(3) with time zone")
    );
    // A view that does not read the column was not touched.
    assert_eq!(view_oid(&mut c, "IdpTenant"), tenant_oid);
}

#[test]
fn drop_an_exposed_column() {
    let v2_prisma = IDP_PRISMA.replace("  email     String?\n", "");
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_APPENDED)).unwrap();
    let migration = "-- AlterTable\nALTER TABLE \"idp\".\"User\" DROP COLUMN \"email\";\n";
    let v2 = package_from(&v2_prisma, VIEWS_DROPPED_EMAIL);
    // The readers stopped reading `email` before (the recipe's step 1).
    migrate(
        &db,
        &v2,
        migration,
        "SELECT id, first_name FROM idp_views.\"IdpUser\"",
    );
    assert_eq!(column_type(&mut c, "IdpUser", "email"), None);
}

#[test]
fn drop_a_hidden_column_needs_nothing() {
    let v2_prisma = IDP_PRISMA.replace("  password  String\n", "");
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    let oid = view_oid(&mut c, "IdpUser");
    let migration = "-- AlterTable\nALTER TABLE \"idp\".\"User\" DROP COLUMN \"password\";\n";
    let v2 = package_from(&v2_prisma, VIEWS_BASE);
    // Wrapped, it drops no view (no view reads the column) ...
    migrate(&db, &v2, migration, "SELECT * FROM idp_views.\"IdpUser\"");
    assert_eq!(view_oid(&mut c, "IdpUser"), oid, "the view was re-created");
    // ... and the same kind of migration runs unwrapped as well.
    c.batch_execute("-- AlterTable\nALTER TABLE \"idp\".\"User\" DROP COLUMN \"nickname\";\n")
        .unwrap();
    assert_eq!(view_oid(&mut c, "IdpUser"), oid);
    // A migration on a table no view reads is left as it is.
    let other = "-- CreateTable\nCREATE TABLE \"idp\".\"Audit\" (\"id\" UUID NOT NULL);\n";
    let w = idpviews::migration::wrap(&v2, other, Duration::from_secs(3)).unwrap();
    assert_eq!(w.sql, None);
}

#[test]
fn rename_a_table_through_map() {
    let v2_prisma = IDP_PRISMA.replace(
        "  @@index([tenantId])\n",
        "  @@index([tenantId])\n  @@map(\"AppUser\")\n",
    );
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    let migration = "-- RenameTable\nALTER TABLE \"idp\".\"User\" RENAME TO \"AppUser\";\n";
    let v2 = package_from(&v2_prisma, VIEWS_BASE);
    assert_eq!(v2.manifest.view("IdpUser").unwrap().source_table, "AppUser");
    migrate(&db, &v2, migration, "SELECT * FROM idp_views.\"IdpUser\"");
    let def: String = c
        .query_one(
            "SELECT pg_get_viewdef('idp_views.\"IdpUser\"'::regclass)",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(def.contains("\"AppUser\""), "{def}");
}

#[test]
fn a_product_object_over_an_affected_view_stops_the_migration() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    c.batch_execute(
        r#"CREATE SCHEMA product; CREATE VIEW product.emails AS SELECT email FROM idp_views."IdpUser";"#,
    )
    .unwrap();
    let before = views_snapshot(&mut c);
    let v2_prisma = IDP_PRISMA.replace(
        "@map(\"created_at\")",
        "@map(\"created_at\") @db.Timestamptz(3)",
    );
    let migration = "-- AlterTable\nALTER TABLE \"idp\".\"User\" ALTER COLUMN \"created_at\" SET DATA TYPE TIMESTAMPTZ(3);\n";
    let v2 = package_from(&v2_prisma, VIEWS_BASE);
    let wrapped = idpviews::migration::wrap(&v2, migration, Duration::from_secs(3)).unwrap();
    // Up front, against the database as it is now ...
    let found = idpviews::migration::dependents(&mut c, &v2, &wrapped).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "IdpUser");
    assert!(found[0].1.contains("product.emails"), "{found:?}");
    // ... and when the file runs.
    let e = c
        .batch_execute(&wrapped.sql.unwrap())
        .expect_err("a product view depends on IdpUser");
    let db_error = e.as_db_error().expect("a database error");
    assert!(
        db_error.message().contains("product objects depend on it")
            && db_error.message().contains("product.emails"),
        "{}",
        db_error.message()
    );
    // Nothing changed: the views, the product view and the column type.
    assert_eq!(views_snapshot(&mut c), before);
    let n: i64 = c
        .query_one("SELECT count(*) FROM product.emails", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5);
}

#[test]
fn unwrappable_migrations_are_refused_with_a_position() {
    let v = package(VIEWS_BASE);
    for (sql, needle) in [
        (
            "-- x\nALTER TABLE \"idp\".\"User\" DROP COLUMN \"email\" CASCADE;",
            "2:1: ",
        ),
        (
            "BEGIN;\nALTER TABLE \"idp\".\"User\" DROP COLUMN \"email\";\nCOMMIT;",
            "1:1: ",
        ),
        (
            "CREATE INDEX CONCURRENTLY \"i\" ON \"idp\".\"User\" (\"email\");",
            "1:1: ",
        ),
    ] {
        let e = idpviews::migration::wrap(&v, sql, Duration::from_secs(3)).expect_err(sql);
        assert!(e.to_string().starts_with(needle), "{e}");
    }
    let wrapped = idpviews::migration::wrap(
        &v,
        "ALTER TABLE \"idp\".\"User\" DROP COLUMN \"email\";",
        Duration::from_secs(3),
    )
    .unwrap()
    .sql
    .unwrap();
    let e = idpviews::migration::wrap(&v, &wrapped, Duration::from_secs(3)).expect_err("twice");
    assert!(e.to_string().contains("already wrapped"), "{e}");
}
