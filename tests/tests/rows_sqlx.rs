//! Typed rows through sqlx (the `sqlx` feature of `idpviews`) on a real
//! PostgreSQL: `sqlx::query_as` decodes the generated structs and `#[row]`
//! projections (every supported column type, NULLs, enums with unknown
//! labels, `SELECT *`), the enums bind as parameters, and `Prefixed`
//! decodes JOIN rows of a `PgRow`.
//!
//! Fixture: `tests/ui/fixtures/basic`, as `rows_pg.rs`.

use idpviews::{Prefixed, RowErrorKind};
use idpviews_testdb::TestDb;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

mod basic_rows;

use basic_rows::idp::{IdpSample, IdpTenant, IdpUser, UserStatus, UserType};
use basic_rows::{setup, uuid, Contact, ALICE, BOB, TENANT};

/// Runs `f` with a sqlx connection to `db`, on a current-thread runtime.
fn with_sqlx<F>(db: &TestDb, f: F)
where
    F: AsyncFnOnce(&mut PgConnection),
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let connect = PgConnection::connect(db.url());
        let mut conn = tokio::time::timeout(std::time::Duration::from_secs(20), connect)
            .await
            .unwrap_or_else(|_| panic!("sqlx: no connection to {} within 20 s", db.url()))
            .unwrap_or_else(|e| panic!("sqlx cannot connect to {}: {e}", db.url()));
        f(&mut conn).await;
        conn.close().await.unwrap();
    });
}

#[test]
fn every_type_and_nulls_decode_like_postgres() {
    let db = TestDb::new();
    let mut pg = setup(&db);
    // The `postgres` decoding is the reference (rows_pg.rs checks it value by value).
    let sql = format!("{} ORDER BY \"id\"", IdpSample::SELECT);
    let expected: Vec<IdpSample> =
        idpviews::row::decode_all(&pg.query(&sql, &[]).unwrap()).unwrap();
    assert_eq!(expected.len(), 2);
    assert!(expected[0].amount.is_some() && expected[1].amount.is_none());
    let users_sql = format!("{} ORDER BY \"first_name\"", IdpUser::SELECT);
    let expected_users: Vec<IdpUser> =
        idpviews::row::decode_all(&pg.query(&users_sql, &[]).unwrap()).unwrap();
    with_sqlx(&db, async |conn| {
        let got: Vec<IdpSample> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(got, expected);
        let users: Vec<IdpUser> = sqlx::query_as(sqlx::AssertSqlSafe(users_sql.clone()))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(users, expected_users);
        assert_eq!(users[0].user_types, vec![UserType::Driver, UserType::Admin]);
        assert_eq!(users[0].status, UserStatus::PendingReview);
        // By name: `SELECT *` in the view's own column order decodes too.
        let star: Vec<IdpTenant> = sqlx::query_as(r#"SELECT * FROM "idp_views"."IdpTenant""#)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(star.len(), 1);
        assert_eq!(
            (star[0].name.as_str(), star[0].slug.as_str()),
            ("Acme", "acme")
        );
    });
}

#[test]
fn projections_decode_by_name_whatever_the_column_order() {
    let db = TestDb::new();
    drop(setup(&db));
    with_sqlx(&db, async |conn| {
        let contacts: Vec<Contact> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY \"first_name\"",
            Contact::SELECT
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let alice = Contact {
            id: uuid(ALICE),
            first_name: "Alice".into(),
            email: Some("alice@example.com".into()),
            user_types: vec![UserType::Driver, UserType::Admin],
            phone: Some("+100".into()),
        };
        assert_eq!(contacts[0], alice);
        assert_eq!(contacts[1].email, None);
        // Every column of the view, in the view's order (not the struct's):
        // each field still gets its own column, including the two text
        // columns `first_name` and `email` that a positional decoder would mix up.
        let star: Contact = sqlx::query_as(
            r#"SELECT * FROM "idp_views"."IdpUser" WHERE "id" = '00000000-0000-0000-0000-000000000001'"#,
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(star, alice);
    });
}

#[test]
fn enums_decode_unknown_labels_and_bind_as_parameters() {
    let db = TestDb::new();
    let mut pg = setup(&db);
    pg.batch_execute("ALTER TYPE idp.user_type ADD VALUE 'AUDITOR'")
        .unwrap();
    pg.batch_execute(&format!(
        r#"INSERT INTO idp."User" (id, password, first_name, last_name, "userTypes", status, "tenantId")
           VALUES ('00000000-0000-0000-0000-000000000003', 'pw', 'Nia', 'New', '{{AUDITOR,DRIVER}}',
                   'active', '{TENANT}');"#
    ))
    .unwrap();
    with_sqlx(&db, async |conn| {
        let newbie: IdpUser = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE \"first_name\" = 'Nia'",
            IdpUser::SELECT
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(
            newbie.user_types,
            vec![UserType::Unknown("AUDITOR".into()), UserType::Driver]
        );
        // Straight from the IDP's enum types (not the views' text).
        let row = sqlx::query(r#"SELECT "userTypes", status FROM idp."User" WHERE id = $1"#)
            .bind(uuid(ALICE))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let types: Vec<UserType> = row.try_get(0).unwrap();
        let status: UserStatus = row.try_get(1).unwrap();
        assert_eq!(types, vec![UserType::Driver, UserType::Admin]);
        assert_eq!(status, UserStatus::PendingReview);
        // As a parameter (text, as the views expose it); an unknown label too.
        for (value, count) in [
            (UserType::Driver, 2_i64),
            (UserType::Unknown("AUDITOR".into()), 1),
            (UserType::FleetManager, 0),
        ] {
            let n: i64 = sqlx::query_scalar(
                r#"SELECT count(*) FROM idp_views."IdpUser" WHERE $1 = ANY("userTypes")"#,
            )
            .bind(&value)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            assert_eq!(n, count, "{value}");
        }
        // A type that is not text is refused, not misread.
        let e = sqlx::query(r#"SELECT 42 AS "n""#)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .try_get::<UserType, _>(0)
            .unwrap_err();
        assert!(e.to_string().contains("mismatched types"), "{e}");
    });
}

#[test]
fn prefixed_join_decoding_works_on_pg_rows() {
    let db = TestDb::new();
    let mut pg = setup(&db);
    pg.batch_execute(&format!(
        r#"CREATE SCHEMA fuel;
           CREATE TABLE fuel."Driver" (id uuid PRIMARY KEY, "idpUserId" uuid NOT NULL, licence text NOT NULL);
           INSERT INTO fuel."Driver" VALUES
             ('00000000-0000-0000-0000-0000000000d1', '{ALICE}', 'L-1'),
             ('00000000-0000-0000-0000-0000000000d2', '{BOB}', 'L-2'),
             ('00000000-0000-0000-0000-0000000000d3', '00000000-0000-0000-0000-0000000000ff', 'L-3');"#
    ))
    .unwrap();
    let sql = format!(
        r#"SELECT d."id" AS "d__id", d."licence" AS "d__licence", {}
           FROM fuel."Driver" d LEFT JOIN {} u ON u."id" = d."idpUserId"
           ORDER BY d."licence""#,
        IdpUser::select_list_as("u", "u__"),
        IdpUser::FROM,
    );
    let expected: Vec<Option<IdpUser>> = {
        let rows = pg.query(&sql, &[]).unwrap();
        let p = Prefixed::<IdpUser>::new(rows[0].columns(), "u__").unwrap();
        rows.iter().map(|r| p.decode_optional(r).unwrap()).collect()
    };
    with_sqlx(&db, async |conn| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        let users = IdpUser::prefixed(rows[0].columns(), "u__").unwrap();
        let sides: Vec<Option<IdpUser>> = rows
            .iter()
            .map(|r| users.decode_optional(r).unwrap())
            .collect();
        assert_eq!(sides, expected);
        assert_eq!(sides[0].as_ref().unwrap().first_name, "Alice");
        assert_eq!(sides[2], None);
        let licence: String = rows[0].try_get("d__licence").unwrap();
        assert_eq!(licence, "L-1");
        // A projection from the same rows.
        let contacts = Prefixed::<Contact>::new(rows[0].columns(), "u__").unwrap();
        assert_eq!(contacts.decode(&rows[1]).unwrap().first_name, "Bob");
        // The missing side of the LEFT JOIN is NULL where `IdpUser` has none:
        // `decode` (unlike `decode_optional`) fails, naming view and column.
        let e = users.decode(&rows[2]).unwrap_err();
        assert_eq!((e.view(), e.column()), ("IdpUser", "id"));
        assert!(matches!(e.kind(), RowErrorKind::Sqlx(_)));
        assert!(e
            .to_string()
            .starts_with("cannot decode column `id` of view `IdpUser`: "));
        // An alias that is not there.
        let e = Prefixed::<IdpUser>::new(rows[0].columns(), "x__").unwrap_err();
        assert!(matches!(e.kind(), RowErrorKind::MissingColumn { name } if name == "x__id"));
    });
}

#[test]
fn decoding_errors_name_the_column() {
    let db = TestDb::new();
    with_sqlx(&db, async |conn| {
        // NULL where the struct has no `Option`.
        let e = sqlx::query_as::<_, IdpTenant>(
            r#"SELECT NULL::uuid AS "id", 'Acme'::text AS "name", 'acme'::text AS "slug""#,
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap_err();
        assert!(e.to_string().contains("\"id\""), "{e}");
        // A missing column.
        let e = sqlx::query_as::<_, IdpTenant>(r#"SELECT gen_random_uuid() AS "id""#)
            .fetch_one(&mut *conn)
            .await
            .unwrap_err();
        assert!(
            matches!(e, sqlx::Error::ColumnNotFound(ref c) if c == "name"),
            "{e}"
        );
        // A wrong type.
        let e = sqlx::query_as::<_, IdpTenant>(
            r#"SELECT gen_random_uuid() AS "id", 42 AS "name", 'acme'::text AS "slug""#,
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap_err();
        assert!(e.to_string().contains("mismatched types"), "{e}");
    });
}
