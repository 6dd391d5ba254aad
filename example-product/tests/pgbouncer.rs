//! The six queries through PgBouncer in transaction-pooling mode (the pooler
//! a product runs at five or more services): the same results as on a
//! direct connection, with the same product role.

use example_product::{queries, setup};
use idpviews_testdb::{PgBouncer, TestDb};

#[test]
fn the_six_queries_give_the_same_results_through_pgbouncer() {
    let db = TestDb::new();
    let role = db.role_name("fuel_app");
    let mut prepared = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    let password = String::from_utf8(
        prepared
            .product_config
            .get_password()
            .expect("the product role has a password")
            .to_vec(),
    )
    .unwrap();
    let bouncer = PgBouncer::start(&db, &[(role.as_str(), password.as_str())])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut pooled = postgres::Client::connect(
        &bouncer.url_for_role(&role, Some(&password)),
        postgres::NoTls,
    )
    .expect("connect through PgBouncer");
    let direct = &mut prepared.product;

    let tenant = queries::list_drivers(direct).unwrap()[0]
        .user
        .tenant_id
        .expect("a tenant");
    assert_eq!(
        queries::list_drivers(&mut pooled).unwrap(),
        queries::list_drivers(direct).unwrap()
    );
    assert_eq!(
        queries::search_drivers_by_first_name(&mut pooled, "moham").unwrap(),
        queries::search_drivers_by_first_name(direct, "moham").unwrap()
    );
    assert_eq!(
        queries::drivers_in_tenant(&mut pooled, tenant).unwrap(),
        queries::drivers_in_tenant(direct, tenant).unwrap()
    );
    assert_eq!(
        queries::drivers_with_orders(&mut pooled).unwrap(),
        queries::drivers_with_orders(direct).unwrap()
    );
    assert_eq!(
        queries::try_write_through_view(&mut pooled).unwrap(),
        queries::try_write_through_view(direct).unwrap()
    );
    assert_eq!(
        queries::page_of_drivers(&mut pooled, 1, 2).unwrap(),
        queries::page_of_drivers(direct, 1, 2).unwrap()
    );
    assert!(!queries::list_drivers(&mut pooled).unwrap().is_empty());
}
