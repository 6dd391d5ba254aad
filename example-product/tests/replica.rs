//! The example product, unchanged, on the two scale-out paths (real clusters started by the test
//! harness): a streaming hot standby of the shared database, and its own database fed by
//! logical replication of the package's columns.

use example_product::idp;
use example_product::{queries, setup};
use idpviews::replica::{self, PublishOptions, SubscribeOptions};
use idpviews_testdb::replication::clusters;
use idpviews_testdb::TestDb;
use std::time::Duration;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(60);
const GULF_FUEL: &str = "0190a000-0000-7000-8000-000000000001";

/// A connection to `db` on `port` as the product role of `config`.
fn connect_as(config: &postgres::Config, port: u16, db: &str) -> postgres::Client {
    let mut c = postgres::Config::new();
    c.host("127.0.0.1")
        .port(port)
        .dbname(db)
        .user(config.get_user().unwrap())
        .password(config.get_password().unwrap())
        .connect_timeout(Duration::from_secs(10));
    c.connect(postgres::NoTls).unwrap()
}

/// The six queries' results, comparable across databases.
fn six_queries(c: &mut postgres::Client) -> Vec<String> {
    let tenant = Uuid::parse_str(GULF_FUEL).unwrap();
    vec![
        format!("{:?}", queries::list_drivers(c).unwrap()),
        format!(
            "{:?}",
            queries::search_drivers_by_first_name(c, "moham").unwrap()
        ),
        format!("{:?}", queries::drivers_in_tenant(c, tenant).unwrap()),
        format!("{:?}", queries::drivers_with_orders(c).unwrap()),
        format!("{:?}", queries::try_write_through_view(c).unwrap()),
        format!("{:?}", queries::page_of_drivers(c, 1, 2).unwrap()),
    ]
}

#[test]
fn on_a_hot_standby_reads_verify_and_audit_work_and_apply_refuses() {
    let clusters = clusters().unwrap();
    let db = clusters.primary().create_db().unwrap();
    let role = db.role_name("fuel_app");
    let prepared = setup::prepare(db.url(), &role).unwrap();
    let on_primary = six_queries(&mut { prepared.product });
    let standby = clusters.standby().unwrap();
    clusters.wait_for_standby(WAIT).unwrap();
    let mut s = connect_as(&prepared.product_config, standby.port(), db.name());
    let in_recovery: bool = s
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap()
        .get(0);
    assert!(in_recovery, "connected to the standby");

    // Typed reads, and the write through a view refused: the same results as on the primary.
    let on_standby = six_queries(&mut s);
    assert_eq!(on_standby, on_primary);

    // verify and audit read catalogs and views only.
    let report = idpviews::verify(&mut s, idp::package()).unwrap();
    assert!(report.is_ok(), "{report}");
    let audit = idpviews::audit(&mut s, idp::package()).unwrap();
    assert!(audit.is_clean(), "{audit}");

    // apply refuses, as the superuser too.
    let mut admin = connect_admin(standby.port(), db.name());
    let e = idpviews::apply(&mut admin, idp::package()).unwrap_err();
    assert!(matches!(e, idpviews::Error::ReadOnlyStandby));
    assert!(
        e.to_string()
            .starts_with("read-only standby: apply on the primary"),
        "{e}"
    );
}

fn connect_admin(port: u16, db: &str) -> postgres::Client {
    let mut c = postgres::Config::new();
    c.host("127.0.0.1")
        .port(port)
        .dbname(db)
        .user("postgres")
        .connect_timeout(Duration::from_secs(10));
    c.connect(postgres::NoTls).unwrap()
}

#[test]
fn the_six_queries_run_unchanged_on_the_products_own_database() {
    // The shared database, as the product runs today.
    let shared = TestDb::new();
    let shared_role = shared.role_name("fuel_app");
    let mut on_shared = setup::prepare(shared.url(), &shared_role).unwrap().product;
    let expected = six_queries(&mut on_shared);

    // The IDP on the replication primary, publishing the package's columns.
    let clusters = clusters().unwrap();
    let idp_db = clusters.primary().create_db().unwrap();
    let mut idp_admin = idp_db.connect();
    idp_admin.batch_execute(setup::IDP_TABLES_SQL).unwrap();
    idp_admin.batch_execute(setup::IDP_SEED_SQL).unwrap();
    let replication_role = idp_db.role_name("replica");
    let opts = PublishOptions {
        role: replication_role.clone(),
        ..PublishOptions::default()
    };
    replica::publication_plan(Some(&mut idp_admin), idp::package(), &opts)
        .unwrap()
        .execute(&mut idp_admin)
        .unwrap();

    // The product's own database: replica tables, views, subscription; then, as before, the
    // product role, its grants, its tables and seed.
    let product_db = clusters.subscriber().unwrap().create_db().unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} dbname={} user={replication_role}",
        clusters.primary().port(),
        idp_db.name()
    );
    let mut as_replica: postgres::Client = conninfo
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap();
    let tables =
        replica::publication_tables(&mut as_replica, idp::package(), &opts.publication).unwrap();
    let mut admin = product_db.connect();
    let subscription = format!("s_{}", product_db.name());
    replica::subscribe(
        &mut admin,
        idp::package(),
        &tables,
        &SubscribeOptions {
            publication: opts.publication.clone(),
            subscription: Some(subscription.clone()),
            publisher: conninfo,
        },
    )
    .unwrap();
    let _drop_first = DropSubscription(&product_db, subscription.clone());
    {
        replica::wait_ready(&mut admin, &subscription, WAIT).unwrap();
        let role = product_db.role_name("fuel_app");
        admin
            .batch_execute(&format!(
                "CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw';
                 CREATE SCHEMA \"{}\" AUTHORIZATION \"{role}\";",
                setup::PRODUCT_SCHEMA
            ))
            .unwrap();
        admin
            .batch_execute(
                &idpviews::grants_sql(&idp::package().manifest, &role, setup::PRODUCT_SCHEMA)
                    .unwrap(),
            )
            .unwrap();
        let mut product = postgres::Config::new()
            .host("127.0.0.1")
            .port(clusters.subscriber().unwrap().port())
            .dbname(product_db.name())
            .user(&role)
            .password("pw")
            .connect(postgres::NoTls)
            .unwrap();
        product.batch_execute(setup::PRODUCT_TABLES_SQL).unwrap();
        product.batch_execute(setup::PRODUCT_SEED_SQL).unwrap();
        assert_eq!(six_queries(&mut product), expected);
        let report = idpviews::verify(&mut product, idp::package()).unwrap();
        assert!(report.is_ok(), "{report}");
        // No secret column crossed over.
        let secrets: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = '\"idp\".\"users\"'::regclass \
                 AND attname IN ('password', 'pin', 'refresh_token_version', 'metadata')",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(secrets, 0);
    }
}

/// Drops the subscription (and its slot on the primary) before the database goes: PostgreSQL
/// does not drop a database that holds one.
struct DropSubscription<'a>(&'a TestDb, String);

impl Drop for DropSubscription<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.try_connect() {
            let _ = c.batch_execute(&format!("DROP SUBSCRIPTION IF EXISTS \"{}\"", self.1));
        }
    }
}
