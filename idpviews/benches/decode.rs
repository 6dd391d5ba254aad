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
//! `DECODE_ROUNDS` override 100000 and 31.

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

/// Decodes a slice of rows, discarding the results.
type Decoder<'a> = dyn Fn(&[postgres::Row]) + 'a;

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
    let rounds = env_usize("DECODE_ROUNDS", 31);
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

    // The machine may be busy: time short slices of 5,000 rows, alternating
    // between the two decoders many times, and keep for each slice its
    // fastest time per decoder (what the code costs when not preempted),
    // plus the median over whole passes.
    const SLICE: usize = 5_000;
    let slices: Vec<&[postgres::Row]> = rows.chunks(SLICE).collect();
    let join_slices: Vec<&[postgres::Row]> = join_rows.chunks(SLICE).collect();
    let p = Prefixed::<IdpUser>::new(join_rows[0].columns(), "u__").expect("columns");
    let decoders: [&Decoder; 4] = [
        &|rows| {
            for row in rows {
                black_box(IdpUser::from_row(black_box(row)).expect("decode"));
            }
        },
        &|rows| {
            for row in rows {
                black_box(hand_decode(black_box(row)));
            }
        },
        &|rows| {
            for row in rows {
                black_box(p.decode(black_box(row)).expect("decode"));
            }
        },
        &|rows| {
            for row in rows {
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
        },
    ];
    // best[decoder][slice]
    let mut best = vec![vec![Duration::MAX; slices.len()]; 4];
    let mut passes: Vec<Vec<Duration>> = vec![Vec::new(); 4];
    for round in 0..rounds {
        let mut total = [Duration::ZERO; 4];
        for k in 0..slices.len() {
            for step in 0..4 {
                // Alternate the order so that no decoder always goes first.
                let d = if round % 2 == 0 { step } else { 3 - step };
                let input = if d < 2 { slices[k] } else { join_slices[k] };
                let t = Instant::now();
                decoders[d](input);
                let e = t.elapsed();
                total[d] += e;
                best[d][k] = best[d][k].min(e);
            }
        }
        for d in 0..4 {
            passes[d].push(total[d]);
        }
    }
    let best: Vec<Duration> = best.iter().map(|v| v.iter().sum()).collect();
    let mut medians = passes.into_iter().map(median);
    let (g, h, pg, ph) = (
        medians.next().unwrap_or_default(),
        medians.next().unwrap_or_default(),
        medians.next().unwrap_or_default(),
        medians.next().unwrap_or_default(),
    );
    let (gmin, hmin, pmin, phmin) = (best[0], best[1], best[2], best[3]);
    let r = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let per_row = |d: Duration| d.as_nanos() as f64 / n as f64;
    println!("decode {n} IdpUser rows (11 columns), {rounds} interleaved rounds (median pass / sum of fastest 5k-row slices):");
    println!(
        "  generated FromRow::from_row : {g:>9.2?} / {gmin:>9.2?}  ({:.0} / {:.0} ns/row)",
        per_row(g),
        per_row(gmin)
    );
    println!(
        "  hand-written row.get(i)     : {h:>9.2?} / {hmin:>9.2?}  ({:.0} / {:.0} ns/row)",
        per_row(h),
        per_row(hmin)
    );
    println!(
        "  ratio generated/hand        : {:.3} / {:.3}  (target <= 1.02)",
        r(g, h),
        r(gmin, hmin)
    );
    println!("  prefixed (JOIN), Prefixed   : {pg:>9.2?} / {pmin:>9.2?}");
    println!("  hand-written, same positions: {ph:>9.2?} / {phmin:>9.2?}");
    println!(
        "  ratio prefixed/hand         : {:.3} / {:.3}",
        r(pg, ph),
        r(pmin, phmin)
    );
}
