//! Role isolation with a real product role: `idpviews::grants_sql` applied
//! by the admin, then everything tried as the product, and as other roles
//! (the IDP's own, a bystander) to show that nothing changed for them.

mod db_fixture;

use db_fixture::*;
use idpviews::GrantsOptions;
use std::sync::{Arc, Mutex};

const PRODUCT_SCHEMA: &str = "fuel_logistics";
const PASSWORD: &str = "product-password";

fn connect_as(db: &idpviews_testdb::TestDb, role: &str) -> postgres::Client {
    postgres::Client::connect(&db.url_for_role(role, Some(PASSWORD)), postgres::NoTls)
        .expect("connect as the product role")
}

/// An admin connection that keeps the server's notices and warnings.
fn admin_with_notices(db: &idpviews_testdb::TestDb) -> (postgres::Client, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    let mut config: postgres::Config = db.url().parse().unwrap();
    config.notice_callback(move |n| {
        sink.lock()
            .unwrap()
            .push(format!("{}: {}", n.severity(), n.message()))
    });
    (config.connect(postgres::NoTls).unwrap(), notices)
}

#[test]
fn product_role_reads_views_and_nothing_else() {
    let db = idp_db();
    let (mut admin, notices) = admin_with_notices(&db);
    // A sloppy IDP that granted PUBLIC access: the grants report it, and
    // take it back only with `revoke_public`.
    admin
        .batch_execute(
            r#"GRANT USAGE ON SCHEMA idp TO PUBLIC; GRANT SELECT ON idp."User" TO PUBLIC;"#,
        )
        .unwrap();
    // Only IdpUser at first; IdpTenant comes with a later package.
    idpviews::apply(&mut admin, &package(VIEWS_USER_ONLY)).unwrap();
    // A product table created by the admin before the grants (e.g. by an
    // earlier migration run as the admin).
    admin
        .batch_execute(&format!(
            r#"CREATE SCHEMA {PRODUCT_SCHEMA};
               CREATE TABLE {PRODUCT_SCHEMA}."Legacy" (id serial PRIMARY KEY, note text);"#
        ))
        .unwrap();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    let other = db.create_role("bystander", Some(PASSWORD)).unwrap();
    let sql =
        idpviews::grants_sql(&package(VIEWS_USER_ONLY).manifest, &role, PRODUCT_SCHEMA).unwrap();
    assert!(!sql.contains(PASSWORD));
    assert!(!sql.contains("FROM PUBLIC"), "{sql}");
    admin.batch_execute(&sql).expect("the grants apply");
    // Reported, not changed: PUBLIC (so the bystander, and the product) can
    // still read the table directly.
    let seen = notices.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|n| n.starts_with("WARNING") && n.contains("PUBLIC holds SELECT on idp.\"User\"")),
        "{seen:?}"
    );
    let mut b = connect_as(&db, &other);
    let n: i64 = b
        .query_one(r#"SELECT count(*) FROM idp."User""#, &[])
        .expect("PUBLIC's rights are left alone without revoke_public")
        .get(0);
    assert_eq!(n, 5);
    // The explicit opt-in revokes them (on the IDP tables only); idempotent.
    let options = GrantsOptions {
        revoke_public: true,
        ..GrantsOptions::default()
    };
    let sql = idpviews::grants_sql_with(
        &package(VIEWS_USER_ONLY).manifest,
        &role,
        PRODUCT_SCHEMA,
        &options,
    )
    .unwrap();
    assert!(
        sql.contains(r#"REVOKE ALL ON TABLE "idp"."User" FROM PUBLIC;"#),
        "{sql}"
    );
    admin.batch_execute(&sql).expect("the grants apply");
    admin.batch_execute(&sql).expect("the grants apply twice");
    notices.lock().unwrap().clear();
    admin
        .batch_execute(
            &idpviews::grants_sql(&package(VIEWS_USER_ONLY).manifest, &role, PRODUCT_SCHEMA)
                .unwrap(),
        )
        .unwrap();
    assert!(
        !notices
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("PUBLIC holds")),
        "nothing left to report"
    );

    let mut p = connect_as(&db, &role);

    // Nothing on idp: not the table, not the schema.
    for q in [
        r#"SELECT * FROM idp."User""#,
        r#"SELECT password FROM idp."User""#,
        r#"SELECT count(*) FROM idp."Tenant""#,
    ] {
        let e = p.query(q, &[]).expect_err(q);
        assert_eq!(sqlstate(&e), "42501", "{q}: {e}");
    }
    // PUBLIC lost its rights on the table (revoke_public).
    let e = b
        .query(r#"SELECT * FROM idp."User""#, &[])
        .expect_err("PUBLIC");
    assert_eq!(sqlstate(&e), "42501");

    // The views are readable.
    let n: i64 = p
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5);

    // Writes through the views are denied.
    for q in [
        r#"INSERT INTO idp_views."IdpUser" (id, tenant_id) VALUES (gen_random_uuid(), gen_random_uuid())"#,
        r#"UPDATE idp_views."IdpUser" SET email = 'x@example.com'"#,
        r#"DELETE FROM idp_views."IdpUser""#,
        r#"CREATE VIEW idp_views."Mine" AS SELECT 1 AS one"#,
    ] {
        let e = p.execute(q, &[]).expect_err(q);
        assert_eq!(sqlstate(&e), "42501", "{q}: {e}");
    }

    // Its own schema is fully usable: DDL for migrations, DML, sequences.
    p.batch_execute(&format!(
        r#"CREATE TABLE {PRODUCT_SCHEMA}."Driver" (id serial PRIMARY KEY, "idpUserId" uuid NOT NULL);
           CREATE INDEX ON {PRODUCT_SCHEMA}."Driver" ("idpUserId");
           ALTER TABLE {PRODUCT_SCHEMA}."Driver" ADD COLUMN licence text;
           INSERT INTO {PRODUCT_SCHEMA}."Driver" ("idpUserId") SELECT id FROM idp_views."IdpUser";
           UPDATE {PRODUCT_SCHEMA}."Driver" SET licence = 'B';
           DELETE FROM {PRODUCT_SCHEMA}."Driver" WHERE id = 1;
           CREATE VIEW {PRODUCT_SCHEMA}.driver_emails AS
             SELECT d.id, u.email FROM {PRODUCT_SCHEMA}."Driver" d JOIN idp_views."IdpUser" u ON u.id = d."idpUserId";
           CREATE FUNCTION {PRODUCT_SCHEMA}.one() RETURNS int LANGUAGE sql AS 'SELECT 1';
           INSERT INTO {PRODUCT_SCHEMA}."Legacy" (note) VALUES ('ok');
           UPDATE {PRODUCT_SCHEMA}."Legacy" SET note = 'still ok';
           TRUNCATE {PRODUCT_SCHEMA}."Legacy";"#
    ))
    .expect("the product schema is usable");
    let n: i64 = p
        .query_one(
            &format!("SELECT count(*) FROM {PRODUCT_SCHEMA}.driver_emails"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 4);
    p.batch_execute(&format!(r#"DROP TABLE {PRODUCT_SCHEMA}."Driver" CASCADE"#))
        .expect("drop its own table");

    // A view added after the grants is readable (default privileges).
    idpviews::apply(&mut admin, &package(VIEWS_BASE)).unwrap();
    let n: i64 = p
        .query_one(r#"SELECT count(*) FROM idp_views."IdpTenant""#, &[])
        .expect("a later view is readable")
        .get(0);
    assert_eq!(n, 2);
    // ... and just as read-only.
    let e = p
        .execute(r#"DELETE FROM idp_views."IdpTenant""#, &[])
        .expect_err("read-only");
    assert_eq!(sqlstate(&e), "42501");

    // The bystander got nothing on the views.
    let e = b
        .query(r#"SELECT * FROM idp_views."IdpUser""#, &[])
        .expect_err("no grants, no views");
    assert_eq!(sqlstate(&e), "42501");
}

#[test]
fn invalid_names_are_refused() {
    let m = package(VIEWS_BASE).manifest;
    for (role, schema) in [
        ("", "p"),
        ("public", "p"),
        ("pg_monitor", "p"),
        ("r", "idp"),
        ("r", "idp_views"),
        ("r", ""),
    ] {
        let e = idpviews::grants_sql(&m, role, schema).expect_err("refused");
        assert!(matches!(e, idpviews::Error::InvalidInput(_)), "{e:?}");
    }
    // Odd but valid names are quoted, not refused.
    let sql = idpviews::grants_sql(&m, "Fuel App\"; DROP TABLE x; --", "Fuel Logistics").unwrap();
    assert!(
        sql.contains(r#"TO "Fuel App""; DROP TABLE x; --";"#),
        "{sql}"
    );
}

/// Every real-world Prisma IDP keeps its tables in `public`. The grants
/// must leave `public` alone: a second IDP role keeps its table grants, a
/// bystander keeps calling an extension-style function installed there,
/// and the product role still gets nothing on the IDP tables.
#[test]
fn grants_change_nothing_for_other_roles_when_the_idp_lives_in_public() {
    let db = idpviews_testdb::TestDb::new();
    let mut admin = db.connect();
    let sql = IDP_SQL
        .replace("CREATE SCHEMA \"idp\";", "")
        .replace("\"idp\"", "\"public\"");
    admin
        .batch_execute(&sql)
        .expect("the IDP's tables in public");
    admin
        .batch_execute(&format!(
            r#"INSERT INTO public."Tenant" VALUES ('{TENANT_A}', 'A');
               INSERT INTO public."User" (id, email, password, tenant_id)
                 VALUES ('{}', 'a1@tenant-a.example', 'x', '{TENANT_A}');
               CREATE FUNCTION public.ext_similarity(a text, b text) RETURNS int
                 LANGUAGE sql IMMUTABLE AS 'SELECT length(a) + length(b)';"#,
            USERS_A[0].0
        ))
        .unwrap();
    let package = package_in_public();
    idpviews::apply(&mut admin, &package).expect("apply");
    let idp_app = db.create_role("idp_app", Some(PASSWORD)).unwrap();
    let bystander = db.create_role("bystander", Some(PASSWORD)).unwrap();
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&format!(
            r#"GRANT SELECT, INSERT, UPDATE ON public."User", public."Tenant" TO "{idp_app}";
               GRANT SELECT ON public."User" TO "{role}";"#
        ))
        .unwrap();

    for revoke_public in [false, true] {
        let options = GrantsOptions {
            revoke_public,
            ..GrantsOptions::default()
        };
        let sql =
            idpviews::grants_sql_with(&package.manifest, &role, PRODUCT_SCHEMA, &options).unwrap();
        assert!(!sql.contains(r#"SCHEMA "public" FROM PUBLIC"#), "{sql}");
        admin.batch_execute(&sql).expect("the grants apply");

        // The IDP's second role: its own grants, untouched.
        let mut idp = connect_as(&db, &idp_app);
        let n: i64 = idp
            .query_one(r#"SELECT count(*) FROM public."User""#, &[])
            .expect("the IDP role still reads its table")
            .get(0);
        assert_eq!(n, 1);
        let mut tx = idp.transaction().unwrap();
        tx.execute(
            r#"INSERT INTO public."User" (id, email, password, tenant_id)
               VALUES (gen_random_uuid(), 'new@tenant-a.example', 'x', $1::text::uuid)"#,
            &[&TENANT_A],
        )
        .expect("the IDP role still writes its table");
        tx.rollback().unwrap();

        // An extension's function in public: still callable by everyone.
        for who in [&bystander, &idp_app, &role] {
            let mut c = connect_as(&db, who);
            let n: i32 = c
                .query_one("SELECT public.ext_similarity('ab', 'c')", &[])
                .unwrap_or_else(|e| panic!("{who} calls the extension function: {e}"))
                .get(0);
            assert_eq!(n, 3);
        }

        // The product: its own earlier grant on the IDP table is gone; the views work.
        let mut p = connect_as(&db, &role);
        let e = p
            .query(r#"SELECT email FROM public."User""#, &[])
            .expect_err("the product role has nothing on the IDP tables");
        assert_eq!(sqlstate(&e), "42501", "{e}");
        let e = p
            .batch_execute(r#"CREATE TABLE public.mine (id int)"#)
            .expect_err("no CREATE in the IDP's schema");
        assert_eq!(sqlstate(&e), "42501", "{e}");
        let n: i64 = p
            .query_one(r#"SELECT count(*) FROM idp_views."IdpTenant""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 1);
    }
}

/// [`VIEWS_BASE`] over the IDP schema moved to `public`.
fn package_in_public() -> idpviews::Package {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = dir.path().join("schema.prisma");
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&schema, IDP_PRISMA.replace("\"idp\"", "\"public\"")).unwrap();
    std::fs::write(&config, VIEWS_BASE).unwrap();
    let generated =
        idpviews_build::generate::Generator::new(&schema, &config, dir.path().join("out"))
            .generate()
            .unwrap_or_else(|e| panic!("generate failed:\n{}", e.render(false)));
    assert_eq!(generated.manifest().views[0].source_schema, "public");
    idpviews::Package {
        manifest: generated.manifest().clone(),
        sql: generated
            .file(idpviews_build::manifest::SQL_FILE)
            .unwrap()
            .to_owned()
            .into(),
    }
}
