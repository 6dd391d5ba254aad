//! Typed rows on a real PostgreSQL: the structs `include_views!` generates
//! (and `#[idpviews::row]` projections) decode every supported column type,
//! NULLs, enums (including a label the code does not know) and JOIN rows,
//! with both `postgres` and `tokio-postgres`.
//!
//! Fixture: `tests/ui/fixtures/basic` (a views manifest, the views SQL, and
//! `idp-tables.sql` with the IDP tables behind them).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use idpviews::{FromRow, Prefixed, RowErrorKind};
use idpviews_testdb::TestDb;
use rust_decimal::Decimal;
use std::str::FromStr;
use uuid::Uuid;

mod basic_rows;

use basic_rows::idp::{IdpSample, IdpTenant, IdpUser, UserStatus, UserType};
use basic_rows::{idp, setup, uuid, Contact, ALICE, BOB, TENANT};

const NEWBIE: &str = "00000000-0000-0000-0000-000000000003";

fn expected_samples() -> Vec<IdpSample> {
    vec![
        IdpSample {
            id: 1,
            small: Some(7),
            big: Some(9_000_000_000),
            ratio: Some(1.5),
            approx: Some(2.25),
            amount: Some(Decimal::from_str("12345.6789").unwrap()),
            flag: Some(true),
            created_at: Some(
                NaiveDateTime::parse_from_str("2024-01-02 03:04:05.678", "%Y-%m-%d %H:%M:%S%.f")
                    .unwrap(),
            ),
            seen_at: Some(
                DateTime::parse_from_rfc3339("2024-01-02T01:04:05.123456Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            day: Some(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            clock: Some(NaiveTime::from_hms_milli_opt(13, 14, 15, 500).unwrap()),
            data: Some(serde_json::json!({"a": [1, 2]})),
            plain_json: Some(serde_json::json!({"b": null})),
            blob: Some(vec![0x00, 0xff]),
            code: Some("ab ".to_string()),
            label: Some("hello".to_string()),
            r#ref: Some(uuid(ALICE)),
            r#type: Some("keyword".to_string()),
            tags: vec!["x".to_string(), "y".to_string()],
            scores: vec![1, 2, 3],
            kind: Some(UserType::Admin),
        },
        IdpSample {
            id: 2,
            small: None,
            big: None,
            ratio: None,
            approx: None,
            amount: None,
            flag: None,
            created_at: None,
            seen_at: None,
            day: None,
            clock: None,
            data: None,
            plain_json: None,
            blob: None,
            code: None,
            label: None,
            r#ref: None,
            r#type: None,
            tags: vec![],
            scores: vec![],
            kind: None,
        },
    ]
}

fn alice() -> IdpUser {
    IdpUser {
        id: uuid(ALICE),
        email: Some("alice@example.com".into()),
        first_name: "Alice".into(),
        last_name: "Archer".into(),
        mobile_number: Some("+100".into()),
        user_types: vec![UserType::Driver, UserType::Admin],
        status: UserStatus::PendingReview,
        is_active: true,
        tenant_id: uuid(TENANT),
        avatar_url: None,
        created_at: NaiveDateTime::parse_from_str(
            "2024-01-02 03:04:05.678",
            "%Y-%m-%d %H:%M:%S%.f",
        )
        .unwrap(),
    }
}

#[test]
fn every_type_and_nulls_decode_with_postgres() {
    let db = TestDb::new();
    let mut c = setup(&db);
    // The generated statement, with every identifier quoted.
    assert!(IdpSample::SELECT.starts_with(r#"SELECT "id", "small", "big""#));
    assert!(IdpSample::SELECT.ends_with(r#"FROM "idp_views"."IdpSample""#));
    let rows = c
        .query(&format!("{} ORDER BY \"id\"", IdpSample::SELECT), &[])
        .unwrap();
    let got: Vec<IdpSample> = idpviews::row::decode_all(&rows).unwrap();
    assert_eq!(got, expected_samples());
    // `TryFrom<&Row>` is the same decoding.
    let one = IdpSample::try_from(&rows[0]).unwrap();
    assert_eq!(one, expected_samples()[0]);
}

#[test]
fn every_type_and_nulls_decode_with_tokio_postgres() {
    let db = TestDb::new();
    drop(setup(&db));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        let conn = tokio::spawn(conn);
        let rows = client
            .query(&format!("{} ORDER BY \"id\"", IdpSample::SELECT), &[])
            .await
            .unwrap();
        let got = rows
            .iter()
            .map(IdpSample::from_row)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(got, expected_samples());
        let users = client
            .query(&format!("{} ORDER BY \"first_name\"", IdpUser::SELECT), &[])
            .await
            .unwrap();
        let alice_row = IdpUser::try_from(&users[0]).unwrap();
        assert_eq!(alice_row, alice());
        drop(client);
        conn.await.unwrap().unwrap();
    });
}

#[test]
fn users_and_enums_decode_and_unknown_labels_do_not_fail() {
    let db = TestDb::new();
    let mut c = setup(&db);
    let rows = c
        .query(&format!("{} ORDER BY \"first_name\"", IdpUser::SELECT), &[])
        .unwrap();
    let users: Vec<IdpUser> = idpviews::row::decode_all(&rows).unwrap();
    assert_eq!(users[0], alice());
    assert_eq!(users[1].email, None);
    assert_eq!(users[1].user_types, vec![]);
    assert_eq!(users[1].status, UserStatus::Active);

    // The IDP adds enum labels this code was not compiled with.
    // (Separate statements: a new label must be committed before use.)
    c.batch_execute("ALTER TYPE idp.user_type ADD VALUE 'AUDITOR'")
        .unwrap();
    c.batch_execute("ALTER TYPE idp.user_status ADD VALUE 'archived'")
        .unwrap();
    c.batch_execute(&format!(
        r#"INSERT INTO idp."User" (id, password, first_name, last_name, "userTypes", status, "tenantId")
           VALUES ('{NEWBIE}', 'pw', 'Nia', 'New', '{{AUDITOR,DRIVER}}', 'archived', '{TENANT}');"#
    ))
    .unwrap();
    let row = c
        .query_one(
            &format!("{} WHERE \"id\" = $1", IdpUser::SELECT),
            &[&uuid(NEWBIE)],
        )
        .unwrap();
    let newbie = IdpUser::from_row(&row).unwrap();
    assert_eq!(
        newbie.user_types,
        vec![UserType::Unknown("AUDITOR".into()), UserType::Driver]
    );
    assert_eq!(newbie.status, UserStatus::Unknown("archived".into()));
    assert!(!newbie.status.is_known());
    assert_eq!(newbie.status.to_string(), "archived");

    // Straight from the IDP's enum types too (not only the text the views expose).
    let row = c
        .query_one(
            r#"SELECT "userTypes", status FROM idp."User" WHERE id = $1"#,
            &[&uuid(ALICE)],
        )
        .unwrap();
    let types: Vec<UserType> = row.get(0);
    let status: UserStatus = row.get(1);
    assert_eq!(types, vec![UserType::Driver, UserType::Admin]);
    assert_eq!(status, UserStatus::PendingReview);

    // As parameters: text for the views, the enum type for the tables.
    let n: i64 = c
        .query_one(
            r#"SELECT count(*) FROM idp_views."IdpUser" WHERE $1 = ANY("userTypes")"#,
            &[&UserType::Driver],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    let n: i64 = c
        .query_one(
            r#"SELECT count(*) FROM idp."User" WHERE status = $1"#,
            &[&UserStatus::PendingReview],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn enum_api() {
    assert_eq!(UserStatus::PendingReview.as_str(), "pending_review");
    assert_eq!(
        UserStatus::PendingReview.prisma_name(),
        Some("PENDING_REVIEW")
    );
    assert_eq!("suspended".parse::<UserStatus>(), Ok(UserStatus::Suspended));
    assert_eq!(
        "SUSPENDED".parse::<UserStatus>(),
        Ok(UserStatus::Unknown("SUSPENDED".into()))
    );
    assert_eq!(UserType::FleetManager.to_string(), "FLEET_MANAGER");
    assert_eq!(
        UserType::LABELS,
        &["DRIVER", "DISPATCHER", "FLEET_MANAGER", "ADMIN"]
    );
    assert_eq!(UserType::VALUES.len(), 4);
    assert_eq!(UserType::DB_NAME, "user_type");
    assert_eq!(UserStatus::DB_SCHEMA, "idp");
}

#[test]
fn constants_and_package() {
    assert_eq!(idp::SCHEMA, "idp_views");
    assert_eq!(IdpTenant::VIEW, "IdpTenant");
    assert_eq!(IdpTenant::COLUMNS, &["id", "name", "slug"]);
    assert_eq!(IdpTenant::FROM, r#""idp_views"."IdpTenant""#);
    assert_eq!(IdpTenant::SELECT_LIST, r#""id", "name", "slug""#);
    assert_eq!(
        IdpTenant::SELECT,
        r#"SELECT "id", "name", "slug" FROM "idp_views"."IdpTenant""#
    );
    // `@map`ped columns: the Rust field is the Prisma field, the SQL is the column.
    assert_eq!(&IdpUser::COLUMNS[2..4], &["first_name", "last_name"]);
    assert_eq!(
        IdpUser::select_list_as("u", "u__").split(", ").nth(2),
        Some(r#""u"."first_name" AS "u__first_name""#)
    );
    let p = idp::package();
    assert_eq!(p.manifest.schema, "idp_views");
    assert_eq!(p.manifest.views.len(), 3);
    assert!(p
        .sql
        .contains(r#"CREATE OR REPLACE VIEW "idp_views"."IdpUser""#));
    assert!(std::ptr::eq(p, idp::package()));
}

#[test]
fn serde_uses_prisma_field_names_and_enum_labels() {
    let json = serde_json::to_value(alice()).unwrap();
    assert_eq!(json["firstName"], "Alice");
    assert_eq!(json["userTypes"], serde_json::json!(["DRIVER", "ADMIN"]));
    assert_eq!(json["status"], "pending_review");
    assert!(json.get("first_name").is_none());
    let back: IdpUser = serde_json::from_value(json).unwrap();
    assert_eq!(back, alice());
    let unknown: UserType = serde_json::from_str("\"AUDITOR\"").unwrap();
    assert_eq!(unknown, UserType::Unknown("AUDITOR".into()));
}

#[test]
fn join_of_product_table_and_view_decodes_both_sides() {
    let db = TestDb::new();
    let mut c = setup(&db);
    c.batch_execute(&format!(
        r#"CREATE SCHEMA fuel;
           CREATE TABLE fuel."Driver" (id uuid PRIMARY KEY, "idpUserId" uuid NOT NULL, licence text NOT NULL);
           INSERT INTO fuel."Driver" VALUES
             ('00000000-0000-0000-0000-0000000000d1', '{ALICE}', 'L-1'),
             ('00000000-0000-0000-0000-0000000000d2', '{BOB}', 'L-2'),
             ('00000000-0000-0000-0000-0000000000d3', '00000000-0000-0000-0000-0000000000ff', 'L-3');"#
    ))
    .unwrap();
    // Both sides have an `id`: the view's columns are aliased `u__<column>`.
    let sql = format!(
        r#"SELECT d."id" AS "d__id", d."licence" AS "d__licence", {}
           FROM fuel."Driver" d JOIN {} u ON u."id" = d."idpUserId"
           ORDER BY d."licence""#,
        IdpUser::select_list_as("u", "u__"),
        IdpUser::FROM,
    );
    let rows = c.query(&sql, &[]).unwrap();
    assert_eq!(rows.len(), 2);
    let users = Prefixed::<IdpUser>::new(rows[0].columns(), "u__").unwrap();
    let decoded: Vec<(Uuid, String, IdpUser)> = rows
        .iter()
        .map(|r| {
            (
                r.get("d__id"),
                r.get("d__licence"),
                users.decode(r).unwrap(),
            )
        })
        .collect();
    assert_eq!(decoded[0].0, uuid("00000000-0000-0000-0000-0000000000d1"));
    assert_eq!(decoded[0].1, "L-1");
    assert_eq!(decoded[0].2, alice());
    assert_eq!(decoded[1].2.first_name, "Bob");
    // The one-row form looks the names up itself.
    assert_eq!(
        IdpUser::from_row_prefixed(&rows[0], "u__").unwrap(),
        alice()
    );
    // A projection decodes out of the same rows.
    let contact = Contact::from_row_prefixed(&rows[0], "u__").unwrap();
    assert_eq!(contact.first_name, "Alice");

    // LEFT JOIN: a driver whose IDP user is gone decodes as `None`.
    let sql = sql.replace(" JOIN ", " LEFT JOIN ");
    let rows = c.query(&sql, &[]).unwrap();
    assert_eq!(rows.len(), 3);
    let users = IdpUser::prefixed(rows[0].columns(), "u__").unwrap();
    let sides: Vec<Option<IdpUser>> = rows
        .iter()
        .map(|r| users.decode_optional(r).unwrap())
        .collect();
    assert_eq!(sides[0], Some(alice()));
    assert!(sides[1].is_some());
    assert_eq!(sides[2], None);

    // A missing alias is an error that names the column.
    let e = Prefixed::<IdpUser>::new(rows[0].columns(), "x__").unwrap_err();
    assert!(matches!(e.kind(), RowErrorKind::MissingColumn { name } if name == "x__id"));
    assert_eq!(
        e.to_string(),
        "the result has no column `x__id` (column `id` of view `IdpUser`)"
    );
}

#[test]
fn projection_selects_and_decodes_its_columns() {
    let db = TestDb::new();
    let mut c = setup(&db);
    assert_eq!(
        Contact::SELECT,
        r#"SELECT "id", "first_name", "email", "userTypes", "mobileNumber" FROM "idp_views"."IdpUser""#
    );
    assert_eq!(<Contact as FromRow>::VIEW, "IdpUser");
    let rows = c
        .query(&format!("{} ORDER BY \"first_name\"", Contact::SELECT), &[])
        .unwrap();
    let contacts: Vec<Contact> = idpviews::row::decode_all(&rows).unwrap();
    assert_eq!(
        contacts[0],
        Contact {
            id: uuid(ALICE),
            first_name: "Alice".into(),
            email: Some("alice@example.com".into()),
            user_types: vec![UserType::Driver, UserType::Admin],
            phone: Some("+100".into()),
        }
    );
    assert_eq!(contacts[1].email, None);
}

#[test]
fn decoding_errors_name_the_view_and_column() {
    let db = TestDb::new();
    let mut c = db.connect();
    // NULL where the struct has no `Option`.
    let row = c
        .query_one("SELECT NULL::uuid, 'Acme'::text, 'acme'::text", &[])
        .unwrap();
    let e = IdpTenant::from_row(&row).unwrap_err();
    assert_eq!((e.view(), e.column()), ("IdpTenant", "id"));
    assert!(matches!(e.kind(), RowErrorKind::Decode(_)));
    assert!(e
        .to_string()
        .starts_with("cannot decode column `id` of view `IdpTenant`: "));
    // A wrong type.
    let row = c
        .query_one("SELECT gen_random_uuid(), 42, 'acme'::text", &[])
        .unwrap();
    let e = IdpTenant::from_row(&row).unwrap_err();
    assert_eq!(e.column(), "name");
    // Too few columns.
    let row = c.query_one("SELECT gen_random_uuid()", &[]).unwrap();
    assert_eq!(IdpTenant::from_row(&row).unwrap_err().column(), "name");
    // Wrong number of positions.
    let e = IdpTenant::from_row_at(&row, &[0]).unwrap_err();
    assert!(matches!(
        e.kind(),
        RowErrorKind::IndexCount {
            expected: 3,
            got: 1
        }
    ));
}
