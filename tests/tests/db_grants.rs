//! Role isolation with a real product role: `idpviews::grants_sql` applied
//! by the admin, then everything tried as the product.

mod db_fixture;

use db_fixture::*;

const PRODUCT_SCHEMA: &str = "fuel_logistics";
const PASSWORD: &str = "product-password";

fn connect_as(db: &idpviews_testdb::TestDb, role: &str) -> postgres::Client {
    postgres::Client::connect(&db.url_for_role(role, Some(PASSWORD)), postgres::NoTls)
        .expect("connect as the product role")
}

#[test]
fn product_role_reads_views_and_nothing_else() {
    let db = idp_db();
    let mut admin = db.connect();
    // A sloppy IDP that granted PUBLIC access: the grants take it back.
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
    admin.batch_execute(&sql).expect("the grants apply");
    // Idempotent.
    admin.batch_execute(&sql).expect("the grants apply twice");

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
    // PUBLIC lost its rights too.
    let mut b = connect_as(&db, &other);
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
