//! Decoding cost of the generated structs versus hand-written code.
//!
//! One query over 100,000 rows of the `IdpUser` view (11 columns: uuid,
//! text, varchar, `text[]` enum, text enum, boolean, timestamp, NULLs) is
//! fetched once; then, in the same run and interleaved, the rows are decoded
//! (a) with the generated `IdpUser::from_row` and (b) with hand-written
//! `row.get(i)` code into an identical struct. Prints the medians and
//! their ratio (target: <= 1.02), plus the prefixed (JOIN) decoding.
//!
//! `cargo bench -p idpviews --bench decode` (release); `DECODE_ROWS` and
//! `DECODE_ROUNDS` override 100000 and 15.

use idpviews::{FromRow, Prefixed};
use std::hint::black_box;
use std::time::{Duration, Instant};

mod idp {
    idpviews::include_views!(path = "benches/fixture");
}

use idp::{IdpUser, UserStatus, UserType};

/// What someone would write by hand for the same query.
#[derive(Debug, Clone, PartialEq)]
struct HandUser {
    id: uuid::Uuid,
    email: Option<String>,
    first_name: String,
    last_name: String,
    mobile_number: Option<String>,
    user_types: Vec<UserType>,
    status: UserStatus,
    is_active: bool,
    tenant_id: uuid::Uuid,
    avatar_url: Option<String>,
    created_at: chrono::NaiveDateTime,
}

fn hand_decode(row: &postgres::Row) -> HandUser {
    HandUser {
        id: row.get(0),
        email: row.get(1),
        first_name: row.get(2),
        last_name: row.get(3),
        mobile_number: row.get(4),
        user_types: row.get(5),
        status: row.get(6),
        is_active: row.get(7),
        tenant_id: row.get(8),
        avatar_url: row.get(9),
        created_at: row.get(10),
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n = env_usize("DECODE_ROWS", 100_000);
    let rounds = env_usize("DECODE_ROUNDS", 15);
    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    c.batch_execute(include_str!("../../tests/ui/fixtures/basic/idp-tables.sql"))
        .expect("IDP tables");
    c.batch_execute(&idp::package().sql).expect("views");
    c.batch_execute(&format!(
        r#"INSERT INTO idp."Tenant" VALUES ('00000000-0000-0000-0000-00000000000a', 'Acme', 'acme');
           INSERT INTO idp."User" (id, email, password, first_name, last_name, "mobileNumber",
                                   "userTypes", status, "isActive", "tenantId", "avatarUrl")
           SELECT gen_random_uuid(),
                  CASE WHEN i % 3 = 0 THEN NULL ELSE 'user' || i || '@example.com' END,
                  'pw', 'First' || i, 'Last' || i,
                  CASE WHEN i % 2 = 0 THEN NULL ELSE '+49' || i END,
                  CASE WHEN i % 4 = 0 THEN '{{DRIVER,ADMIN}}'::idp.user_type[] ELSE '{{DISPATCHER}}' END,
                  CASE WHEN i % 5 = 0 THEN 'suspended'::idp.user_status ELSE 'active' END,
                  i % 7 <> 0, '00000000-0000-0000-0000-00000000000a',
                  CASE WHEN i % 2 = 0 THEN 'https://cdn.example.com/' || i || '.png' END
           FROM generate_series(1, {n}) AS i;
           ANALYZE idp."User";"#
    ))
    .expect("rows");

    let rows = c.query(IdpUser::SELECT, &[]).expect("query");
    assert_eq!(rows.len(), n);
    // Same values both ways.
    for row in rows.iter().take(1000) {
        let g = IdpUser::from_row(row).expect("decode");
        let h = hand_decode(row);
        assert_eq!(
            (g.id, &g.email, &g.user_types, &g.status, g.created_at),
            (h.id, &h.email, &h.user_types, &h.status, h.created_at)
        );
    }

    let join_sql = format!(
        "SELECT 1 AS \"x\", {} FROM {} u",
        IdpUser::select_list_as("u", "u__"),
        IdpUser::FROM
    );
    let join_rows = c.query(&join_sql, &[]).expect("join query");

    let mut generated = Vec::new();
    let mut hand = Vec::new();
    let mut prefixed = Vec::new();
    let mut hand_prefixed = Vec::new();
    for round in 0..rounds + 2 {
        // Alternate which goes first, so neither always runs on a warmer cache.
        let order: [u8; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let t = Instant::now();
            if which == 0 {
                for row in &rows {
                    black_box(IdpUser::from_row(black_box(row)).expect("decode"));
                }
            } else {
                for row in &rows {
                    black_box(hand_decode(black_box(row)));
                }
            }
            let d = t.elapsed();
            if round >= 2 {
                if which == 0 {
                    generated.push(d)
                } else {
                    hand.push(d)
                }
            }
        }
        // JOIN rows: positions found once by name, then by position; versus
        // hand-written code that reads the same positions.
        let t = Instant::now();
        let p = Prefixed::<IdpUser>::new(join_rows[0].columns(), "u__").expect("columns");
        for row in &join_rows {
            black_box(p.decode(black_box(row)).expect("decode"));
        }
        let d1 = t.elapsed();
        let t = Instant::now();
        for row in &join_rows {
            black_box(HandUser {
                id: row.get(1),
                email: row.get(2),
                first_name: row.get(3),
                last_name: row.get(4),
                mobile_number: row.get(5),
                user_types: row.get(6),
                status: row.get(7),
                is_active: row.get(8),
                tenant_id: row.get(9),
                avatar_url: row.get(10),
                created_at: row.get(11),
            });
        }
        let d2 = t.elapsed();
        if round >= 2 {
            prefixed.push(d1);
            hand_prefixed.push(d2);
        }
    }
    let (g, h) = (median(generated), median(hand));
    let (pg, ph) = (median(prefixed), median(hand_prefixed));
    let ratio = g.as_secs_f64() / h.as_secs_f64();
    let pratio = pg.as_secs_f64() / ph.as_secs_f64();
    println!("decode {n} IdpUser rows (11 columns), median of {rounds} interleaved rounds:");
    println!(
        "  generated FromRow::from_row : {g:>10.2?}  ({:.0} ns/row)",
        g.as_nanos() as f64 / n as f64
    );
    println!(
        "  hand-written row.get(i)     : {h:>10.2?}  ({:.0} ns/row)",
        h.as_nanos() as f64 / n as f64
    );
    println!("  ratio generated/hand        : {ratio:.3} (target <= 1.02)");
    println!("  prefixed (JOIN) Prefixed    : {pg:>10.2?}");
    println!("  hand-written, same positions: {ph:>10.2?}");
    println!("  ratio prefixed/hand         : {pratio:.3}");
}
