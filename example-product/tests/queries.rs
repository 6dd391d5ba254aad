//! The six queries against a fresh database, with real assertions: every
//! result is checked against plain SQL run as the admin on the IDP tables.

use example_product::idp::UserType;
use example_product::{queries, setup};
use idpviews_testdb::TestDb;
use std::collections::BTreeMap;
use uuid::Uuid;

struct Fixture {
    product: postgres::Client,
    admin: postgres::Client,
    /// Keeps the database alive for the test; dropped last.
    _db: TestDb,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let role = db.role_name("fuel_app");
    let prepared = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        admin: db.connect(),
        product: prepared.product,
        _db: db,
    }
}

/// `idp_user_id -> (first_name, tenant_id)` straight from the IDP table.
fn idp_users(admin: &mut postgres::Client) -> BTreeMap<Uuid, (Option<String>, Option<Uuid>)> {
    admin
        .query(
            r#"SELECT "id", "first_name", "tenant_id" FROM "idp"."users""#,
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

#[test]
fn list_drivers_joins_each_driver_to_its_idp_user() {
    let mut f = fixture();
    let drivers = queries::list_drivers(&mut f.product).unwrap();
    let count: i64 = f
        .admin
        .query_one(r#"SELECT count(*) FROM "fuel_logistics"."drivers""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(drivers.len() as i64, count);
    assert_eq!(drivers.len(), 3);
    let users = idp_users(&mut f.admin);
    for d in &drivers {
        assert_eq!(d.user.id, d.driver.idp_user_id);
        assert_eq!(users[&d.user.id].0, d.user.first_name);
        assert_eq!(users[&d.user.id].1, d.user.tenant_id);
    }
    let sara = drivers
        .iter()
        .find(|d| d.user.first_name.as_deref() == Some("Sara"))
        .unwrap();
    assert_eq!(
        sara.user.user_types,
        vec![UserType::Driver, UserType::Dispatcher]
    );
}

#[test]
fn search_by_first_name_is_case_insensitive_and_returns_only_matches() {
    let mut f = fixture();
    for needle in ["moham", "MOHAMMED", "a", "zz", "%", "_"] {
        let found = queries::search_drivers_by_first_name(&mut f.product, needle).unwrap();
        let expected: i64 = f
            .admin
            .query_one(
                r#"SELECT count(*) FROM "fuel_logistics"."drivers" d
                   JOIN "idp"."users" u ON u."id" = d."idp_user_id"
                   WHERE strpos(lower(u."first_name"), lower($1)) > 0"#,
                &[&needle],
            )
            .unwrap()
            .get(0);
        assert_eq!(found.len() as i64, expected, "needle {needle:?}");
        for d in &found {
            let first = d.user.first_name.as_deref().unwrap().to_lowercase();
            assert!(first.contains(&needle.to_lowercase()), "{first} ~ {needle}");
        }
    }
    let mohammed = queries::search_drivers_by_first_name(&mut f.product, "moham").unwrap();
    assert_eq!(mohammed.len(), 1);
    assert_eq!(mohammed[0].user.last_name.as_deref(), Some("Ali"));
}

#[test]
fn filter_by_tenant_returns_exactly_that_tenants_drivers() {
    let mut f = fixture();
    let tenants: Vec<Uuid> = f
        .admin
        .query(r#"SELECT "id" FROM "idp"."tenants""#, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tenants.len(), 2);
    let mut seen = 0;
    for tenant in tenants {
        let drivers = queries::drivers_in_tenant(&mut f.product, tenant).unwrap();
        assert!(drivers.iter().all(|d| d.user.tenant_id == Some(tenant)));
        seen += drivers.len();
    }
    // every seeded driver's user has a tenant: the tenants partition them
    assert_eq!(seen, queries::list_drivers(&mut f.product).unwrap().len());
    assert!(queries::drivers_in_tenant(&mut f.product, Uuid::nil())
        .unwrap()
        .is_empty());
}

#[test]
fn nested_include_returns_every_order_under_its_driver() {
    let mut f = fixture();
    let drivers = queries::drivers_with_orders(&mut f.product).unwrap();
    assert_eq!(drivers.len(), 3);
    let orders: usize = drivers.iter().map(|d| d.orders.len()).sum();
    assert_eq!(orders, 9);
    for d in &drivers {
        assert_eq!(d.user.id, d.driver.idp_user_id);
        assert!(d.orders.iter().all(|o| o.driver_id == d.driver.id));
        let expected: i64 = f
            .admin
            .query_one(
                r#"SELECT count(*) FROM "fuel_logistics"."orders" WHERE "driver_id" = $1"#,
                &[&d.driver.id],
            )
            .unwrap()
            .get(0);
        assert_eq!(d.orders.len() as i64, expected);
    }
}

#[test]
fn writes_through_views_are_rejected_for_the_product_and_the_owner() {
    let mut f = fixture();
    let as_product = queries::try_write_through_view(&mut f.product).unwrap();
    assert_eq!(as_product.code, "42501", "{as_product:?}");
    let as_admin = queries::try_write_through_view(&mut f.admin).unwrap();
    assert_eq!(as_admin.code, "25006", "{as_admin:?}");
    // nothing changed
    let mallory: i64 = f
        .admin
        .query_one(
            r#"SELECT count(*) FROM "idp"."users" WHERE "first_name" = 'Mallory'"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(mallory, 0);
    // and the product role cannot read the IDP tables at all
    let err = f
        .product
        .query(r#"SELECT "password" FROM "idp"."users""#, &[])
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42501"), "{err}");
}

#[test]
fn pages_join_up_to_the_whole_list() {
    let mut f = fixture();
    let all = queries::list_drivers(&mut f.product).unwrap();
    for take in 1..=4 {
        let mut joined = Vec::new();
        let mut skip = 0;
        loop {
            let page = queries::page_of_drivers(&mut f.product, skip, take).unwrap();
            assert_eq!(page.total, all.len() as i64);
            assert!(page.items.len() as i64 <= take);
            if page.items.is_empty() {
                break;
            }
            skip += page.items.len() as i64;
            joined.extend(page.items);
        }
        let expected: Vec<_> = all
            .iter()
            .map(|d| (d.driver.id, d.user.first_name.clone()))
            .collect();
        let got: Vec<_> = joined
            .iter()
            .map(|(d, n)| (d.id, n.first_name.clone()))
            .collect();
        assert_eq!(got, expected, "take {take}");
    }
}

#[test]
fn setup_is_idempotent_and_the_database_verifies() {
    let db = TestDb::new();
    let role = db.role_name("fuel_app");
    let first = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    drop(first);
    let mut second = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    let report = idpviews::verify(&mut second.product, example_product::idp::package()).unwrap();
    assert!(report.is_ok(), "{report}");
    let drivers = queries::list_drivers(&mut second.product).unwrap();
    assert_eq!(drivers.len(), 3);
    let audit = idpviews::audit(&mut second.product, example_product::idp::package()).unwrap();
    assert!(audit.to_string().contains("no orphan rows"), "{audit}");
}
