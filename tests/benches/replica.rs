//! Scale out through logical replication, measured on real clusters on loopback (started by the
//! test harness: a logical primary = the IDP, a subscriber cluster = the product's own database):
//!
//! 1. initial copy of 1M users: time, and the bytes the table-sync worker ships (PostgreSQL 15
//!    copies in COPY text format: the same `COPY (SELECT <columns> ...) TO STDOUT` measured here)
//!    with the package's column list vs the whole table;
//! 2. steady-state lag p50/p99 under ~1,000 user updates per second for 20 s;
//! 3. the seed's queries on the product's own database vs on the shared database (ratio).
//!
//! ```text
//! cargo bench -p idpviews-tests --bench replica
//! ```
//!
//! Not run by `cargo test` (it exits at once without `--bench`). `IDPVIEWS_BENCH_USERS` scales
//! the data down for a smoke run; `IDPVIEWS_BENCH_SECONDS` sets the lag run's length.

use idpviews::replica::{self, PublishOptions, SubscribeOptions};
use idpviews::Package;
use idpviews_testdb::replication::clusters;
use idpviews_testdb::TestDb;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

const TENANTS: i64 = 1_000;
const WAIT: Duration = Duration::from_secs(900);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("replica: skipped (run it with `cargo bench -p idpviews-tests --bench replica`)");
        return;
    }
    let users: i64 = env_or("IDPVIEWS_BENCH_USERS", 1_000_000);
    let seconds: u64 = env_or("IDPVIEWS_BENCH_SECONDS", 20);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let package = Package::from_dir(&root.join("example-idp/packages/idp-views")).unwrap();
    let clusters = clusters().expect("replication clusters");

    // The shared database: IDP tables with secrets filled in, the views, the product's tables.
    let shared = clusters.primary().create_db().unwrap();
    let mut idp = shared.connect();
    let started = Instant::now();
    load(&mut idp, root, users);
    idpviews::apply(&mut idp, &package).unwrap();
    idp.batch_execute("VACUUM ANALYZE").unwrap();
    let version: String = idp.query_one("SHOW server_version", &[]).unwrap().get(0);
    println!("## Logical replication to a product's own database ({users} users)\n");
    println!(
        "PostgreSQL {version}, primary and subscriber clusters on loopback (fsync off); data \
         loaded in {:.1} s.\n",
        started.elapsed().as_secs_f64()
    );

    // 1. Initial copy: the package's columns vs the whole table.
    let role = shared.role_name("replica");
    let opts = PublishOptions {
        role: role.clone(),
        ..PublishOptions::default()
    };
    replica::publication_plan(Some(&mut idp), &package, &opts)
        .unwrap()
        .execute(&mut idp)
        .unwrap();
    let columns: String = idp
        .query_one(
            "SELECT array_to_string(attnames, ', ') FROM pg_publication_tables \
             WHERE pubname = 'idpviews' AND tablename = 'users'",
            &[],
        )
        .unwrap()
        .get(0);
    let listed_bytes = copy_bytes(&mut idp, &format!("SELECT {columns} FROM idp.users"));
    let whole_bytes = copy_bytes(&mut idp, "SELECT * FROM idp.users");

    let product = clusters.subscriber().unwrap().create_db().unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} dbname={} user={role}",
        clusters.primary().port(),
        shared.name()
    );
    let mut as_replica: postgres::Client = conninfo
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap();
    let tables = replica::publication_tables(&mut as_replica, &package, "idpviews").unwrap();
    let mut p = product.connect();
    let sub = format!("s_{}", product.name());
    let t = Instant::now();
    replica::subscribe(
        &mut p,
        &package,
        &tables,
        &SubscribeOptions {
            publication: "idpviews".into(),
            subscription: Some(sub.clone()),
            publisher: conninfo.clone(),
        },
    )
    .unwrap();
    let _drop = DropSubscription(&product, sub.clone());
    replica::wait_ready(&mut p, &sub, WAIT).unwrap();
    let listed_time = t.elapsed();

    // The whole table, for comparison: every column (enum arrays as text), no column list.
    idp.batch_execute(&format!(
        "CREATE PUBLICATION whole FOR TABLE idp.users; GRANT SELECT ON idp.users TO \"{role}\";"
    ))
    .unwrap();
    let whole_db = clusters.subscriber().unwrap().create_db().unwrap();
    let mut w = whole_db.connect();
    let ddl: String = idp
        .query_one(
            "SELECT string_agg(format('%I %s', attname, CASE WHEN atttypid = 'idp.user_type[]'::regtype \
             THEN 'text[]' ELSE format_type(atttypid, atttypmod) END), ', ' ORDER BY attnum) \
             FROM pg_attribute WHERE attrelid = 'idp.users'::regclass AND attnum > 0 AND NOT attisdropped",
            &[],
        )
        .unwrap()
        .get(0);
    // The same indexes as the package's replica table (the IDP's, `subscribe` copies them).
    w.batch_execute(&format!(
        "CREATE SCHEMA idp; CREATE TABLE idp.users ({ddl}, PRIMARY KEY (id));
         CREATE INDEX ON idp.users (email); CREATE INDEX ON idp.users (tenant_id);
         CREATE INDEX ON idp.users (first_name);"
    ))
    .unwrap();
    let indexes: i64 = p
        .query_one(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'idp.users'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        indexes, 4,
        "the replica table's indexes changed: update the comparison"
    );
    let whole_sub = format!("w_{}", whole_db.name());
    let t = Instant::now();
    w.batch_execute(&format!(
        "CREATE SUBSCRIPTION \"{whole_sub}\" CONNECTION '{conninfo}' PUBLICATION whole \
         WITH (slot_name = '{whole_sub}')"
    ))
    .unwrap();
    let _drop_whole = DropSubscription(&whole_db, whole_sub.clone());
    replica::wait_ready(&mut w, &whole_sub, WAIT).unwrap();
    let whole_time = t.elapsed();
    w.batch_execute(&format!("ALTER SUBSCRIPTION \"{whole_sub}\" DISABLE"))
        .unwrap();

    println!("### Initial copy of `idp.users`\n");
    println!("| publication | copy time | bytes shipped (COPY text) |");
    println!("|---|---:|---:|");
    println!(
        "| package column list ({} columns) | {:.1} s | {} |",
        columns.split(", ").count(),
        listed_time.as_secs_f64(),
        mb(listed_bytes)
    );
    println!(
        "| whole table | {:.1} s | {} |",
        whole_time.as_secs_f64(),
        mb(whole_bytes)
    );
    println!(
        "\nColumn list / whole table: time {:.2}x, bytes {:.2}x. (Both subscriber tables have the \
         same four indexes; the column-list time includes the package's two other, small tables.)\n",
        listed_time.as_secs_f64() / whole_time.as_secs_f64(),
        listed_bytes as f64 / whole_bytes as f64
    );

    // 2. Steady-state lag under ~1,000 updates/s.
    lag(&shared, &product, &sub, users, seconds);

    // 3. The seed's queries: product database vs shared database.
    for sql in [
        "CREATE SCHEMA IF NOT EXISTS fuel_logistics",
        &std::fs::read_to_string(root.join("example-product/sql/001_product_tables.sql")).unwrap(),
        &product_rows_sql(users),
        "VACUUM ANALYZE",
    ] {
        p.batch_execute(sql).unwrap();
    }
    queries(&mut idp, &mut p);
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The bytes of `COPY (<select>) TO STDOUT`, what the table-sync worker streams.
fn copy_bytes(c: &mut postgres::Client, select: &str) -> u64 {
    let mut reader = c
        .copy_out(&format!("COPY ({select}) TO STDOUT"))
        .expect("copy out");
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).expect("read copy");
        if n == 0 {
            return total;
        }
        total += n as u64;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// ~1,000 user updates per second on the IDP for `seconds`; the product database is sampled
/// every 10 ms for the age of its newest `updated_at` (set to `clock_timestamp()` by each
/// update; both clusters share the machine's clock), the publisher every 100 ms for the
/// unconfirmed WAL bytes of the slot.
fn lag(shared: &TestDb, product: &TestDb, sub: &str, users: i64, seconds: u64) {
    let mut p = product.connect();
    p.batch_execute("CREATE INDEX users_updated_at ON idp.users (updated_at)")
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Two connections of ~500 updates/s each; commits flushed (`synchronous_commit = on`: the
    // walsender only sends flushed WAL, and the test clusters default to off).
    let writers: Vec<_> = (0..2i64)
        .map(|w| {
            let stop = stop.clone();
            let mut c = shared.connect();
            std::thread::spawn(move || {
                c.batch_execute("SET synchronous_commit = on").unwrap();
                let stmt = c
                    .prepare(
                        "UPDATE idp.users SET first_name = 'Name' || $1::int8, \
                         updated_at = clock_timestamp() \
                         WHERE id = ('10000000-0000-4000-8000-' || lpad(to_hex($2::int8), 12, '0'))::uuid",
                    )
                    .unwrap();
                let start = Instant::now();
                let mut k: i64 = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let due = start + Duration::from_micros(k as u64 * 2000);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let user = 1 + (k * 7919 + w * 104_729) % users;
                    c.execute(&stmt, &[&k, &user]).unwrap();
                    k += 1;
                }
                (k, start.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1)); // warm up
    let mut idp = shared.connect();
    let mut ages = Vec::new();
    let mut bytes = Vec::new();
    let start = Instant::now();
    let mut i = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let age: f64 = p
            .query_one(
                "SELECT extract(epoch FROM clock_timestamp()::timestamp - max(updated_at))::float8 \
                 FROM idp.users",
                &[],
            )
            .unwrap()
            .get(0);
        ages.push(age * 1000.0);
        if i.is_multiple_of(10) {
            if let Some(l) = replica::publisher_lag(&mut idp, sub).unwrap() {
                bytes.push(l.bytes as f64);
            }
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let done: Vec<(i64, Duration)> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let updates: i64 = done.iter().map(|d| d.0).sum();
    let elapsed = done.iter().map(|d| d.1).max().unwrap();
    ages.sort_by(f64::total_cmp);
    bytes.sort_by(f64::total_cmp);
    let errors = replica::status(&mut p, Some(sub)).unwrap()[0].apply_errors;
    println!("### Steady-state lag\n");
    println!(
        "{updates} updates in {:.1} s ({:.0}/s, two connections, one row each, commits flushed); {} samples of \
         the product database's newest `updated_at`, {} of the slot; apply errors: {errors}.\n",
        elapsed.as_secs_f64(),
        updates as f64 / elapsed.as_secs_f64(),
        ages.len(),
        bytes.len()
    );
    println!("| | p50 | p99 | max |");
    println!("|---|---:|---:|---:|");
    println!(
        "| lag (ms; age of the newest update the product sees) | {:.1} | {:.1} | {:.1} |",
        percentile(&ages, 0.5),
        percentile(&ages, 0.99),
        percentile(&ages, 1.0)
    );
    println!(
        "| unconfirmed WAL (bytes, publisher's slot) | {:.0} | {:.0} | {:.0} |\n",
        percentile(&bytes, 0.5),
        percentile(&bytes, 0.99),
        percentile(&bytes, 1.0)
    );
}

/// The seed's queries (README "Test Results" 1, 2, 3, 4, 6), through `idp_views."IdpUser"`.
const QUERIES: &[(&str, &str)] = &[
    (
        "1 join + include (first 100 drivers with their user)",
        "SELECT d.id, d.license_number, u.id, u.email, u.first_name, u.last_name, u.user_types \
         FROM fuel_logistics.drivers d JOIN idp_views.\"IdpUser\" u ON u.id = d.idp_user_id \
         ORDER BY d.id LIMIT 100",
    ),
    (
        "2 name search (firstName contains 'Mohammed', insensitive)",
        "SELECT d.id, u.first_name, u.last_name FROM fuel_logistics.drivers d \
         JOIN idp_views.\"IdpUser\" u ON u.id = d.idp_user_id WHERE u.first_name ILIKE '%mohammed%' \
         ORDER BY d.id LIMIT 50",
    ),
    (
        "3 tenant filter (drivers whose user is in tenant $1)",
        "SELECT d.id, u.email FROM fuel_logistics.drivers d JOIN idp_views.\"IdpUser\" u \
         ON u.id = d.idp_user_id WHERE u.tenant_id = $1::text::uuid",
    ),
    (
        "4 nested include (driver + user + orders)",
        "SELECT d.id, u.email, o.id, o.litres FROM fuel_logistics.drivers d \
         JOIN idp_views.\"IdpUser\" u ON u.id = d.idp_user_id \
         JOIN fuel_logistics.orders o ON o.driver_id = d.id ORDER BY d.id, o.id LIMIT 100",
    ),
    (
        "6a page (skip 40, take 20, include user names)",
        "SELECT d.id, u.first_name, u.last_name FROM fuel_logistics.drivers d \
         JOIN idp_views.\"IdpUser\" u ON u.id = d.idp_user_id ORDER BY d.id LIMIT 20 OFFSET 40",
    ),
    (
        "6b count (drivers with a user)",
        "SELECT count(*) FROM fuel_logistics.drivers d JOIN idp_views.\"IdpUser\" u \
         ON u.id = d.idp_user_id",
    ),
];

fn queries(shared: &mut postgres::Client, product: &mut postgres::Client) {
    println!("### The seed's queries: product database vs shared database\n");
    println!("Median of prepared executions, alternating the two databases (ABBA); ratio = own / shared.\n");
    println!("| query | shared | own database | ratio |");
    println!("|---|---:|---:|---:|");
    let tenant = "00000000-0000-4000-8000-000000000007".to_string();
    let mut ratios = Vec::new();
    for (name, sql) in QUERIES {
        let s1 = shared.prepare(sql).unwrap();
        let s2 = product.prepare(sql).unwrap();
        let run = |c: &mut postgres::Client, s: &postgres::Statement| {
            let t = Instant::now();
            if s.params().is_empty() {
                c.query(s, &[]).unwrap();
            } else {
                c.query(s, &[&tenant]).unwrap();
            }
            t.elapsed()
        };
        for _ in 0..6 {
            run(shared, &s1);
            run(product, &s2);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let start = Instant::now();
        let mut i = 0;
        while (start.elapsed() < Duration::from_secs(6) || i < 10) && i < 400 {
            if i % 2 == 0 {
                a.push(run(shared, &s1));
                b.push(run(product, &s2));
            } else {
                b.push(run(product, &s2));
                a.push(run(shared, &s1));
            }
            i += 1;
        }
        a.sort();
        b.sort();
        let (ma, mb) = (a[a.len() / 2], b[b.len() / 2]);
        let ratio = mb.as_secs_f64() / ma.as_secs_f64();
        ratios.push(ratio);
        println!(
            "| {name} | {:.3} ms | {:.3} ms | {ratio:.3}x |",
            ma.as_secs_f64() * 1e3,
            mb.as_secs_f64() * 1e3
        );
    }
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    println!("\nGeometric mean {geo:.3}x.\n");
}

fn load(c: &mut postgres::Client, root: &Path, users: i64) {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    c.batch_execute(&read("example-idp/sql/001_idp_tables.sql"))
        .unwrap();
    c.batch_execute("CREATE SCHEMA IF NOT EXISTS fuel_logistics")
        .unwrap();
    c.batch_execute(&read("example-product/sql/001_product_tables.sql"))
        .unwrap();
    // Secrets as an IDP holds them: an argon2id hash, a PIN hash, login state, metadata.
    c.batch_execute(&format!(
        r#"
SET synchronous_commit = off;
INSERT INTO idp.tenants (id, name, slug)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Tenant ' || g, 'tenant-' || g
FROM generate_series(1, {TENANTS}) g;

INSERT INTO idp.users (id, email, first_name, last_name, mobile_number, password, pin, user_types,
                       is_active, tenant_id, refresh_token_version, failed_login_attempts,
                       last_password_change_at, last_login_at, metadata, created_at, updated_at)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'user' || g || '@example.com',
       CASE WHEN g % 997 = 7 THEN 'Mohammed' ELSE 'Name' || (g % 5000) END,
       'Surname' || (g % 7919),
       '+9715' || lpad(g::text, 8, '0'),
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5(g::text) || '$' || md5((g * 31)::text) || md5((g * 37)::text),
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5((g * 41)::text),
       ARRAY['DRIVER']::idp.user_type[], true,
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + g % {TENANTS}), 12, '0'))::uuid,
       g % 7, g % 3, timestamp '2025-06-01', timestamp '2026-01-02',
       jsonb_build_object('locale', 'en', 'theme', 'dark', 'signup', 'web', 'seq', g),
       timestamp '2026-01-01' + g * interval '1 second', timestamp '2026-01-01'
FROM generate_series(1, {users}) g;
{product}
"#,
        product = product_rows_sql(users)
    ))
    .unwrap();
}

/// The example product's drivers and orders (50 drivers, 250 orders per tenant at 1M users).
fn product_rows_sql(users: i64) -> String {
    let drivers = users / 20;
    let orders = drivers * 5;
    format!(
        r#"
INSERT INTO fuel_logistics.drivers (id, idp_user_id, license_number)
SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       ('10000000-0000-4000-8000-' || lpad(to_hex(g * 19), 12, '0'))::uuid,
       'LIC-' || g
FROM generate_series(1, {drivers}) g;
INSERT INTO fuel_logistics.orders (id, driver_id, litres)
SELECT ('30000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       ('20000000-0000-4000-8000-' || lpad(to_hex(1 + g % {drivers}), 12, '0'))::uuid,
       (g % 500) + 0.5
FROM generate_series(1, {orders}) g;
"#
    )
}

struct DropSubscription<'a>(&'a TestDb, String);

impl Drop for DropSubscription<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.try_connect() {
            let _ = c.batch_execute(&format!("DROP SUBSCRIPTION IF EXISTS \"{}\"", self.1));
        }
    }
}
