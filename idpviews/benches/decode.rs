//! Decoding cost of the generated structs versus hand-written code.
//!
//! One query over 100,000 rows of the `IdpUser` view (11 columns: uuid,
//! text, varchar, `text[]` enum, text enum, boolean, timestamp, NULLs) is
//! fetched once; then, in the same run and interleaved, the rows are decoded
//! (a) with the generated `IdpUser::from_row` and (b) with hand-written
//! `row.get(i)` code into an identical struct. Prints the medians and
//! their ratio (target: <= 1.02), plus the prefixed (JOIN) decoding.
//!
//! The same rows fetched through sqlx are decoded (c) with the generated
//! `sqlx::FromRow` (the `sqlx` feature) and (d) with a hand-written
//! `#[derive(sqlx::FromRow)]` struct, both by column name.
//!
//! `cargo bench -p idpviews --bench decode --features sqlx` (release);
//! `DECODE_ROWS` and `DECODE_ROUNDS` override 100000 and 31.

use idpviews::{FromRow, Prefixed};
use sqlx::postgres::PgRow;
use sqlx::Connection;
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

/// What a sqlx user would write by hand: the derive, by column name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct DeriveUser {
    id: uuid::Uuid,
    email: Option<String>,
    first_name: String,
    last_name: String,
    #[sqlx(rename = "mobileNumber")]
    mobile_number: Option<String>,
    #[sqlx(rename = "userTypes")]
    user_types: Vec<UserType>,
    status: UserStatus,
    #[sqlx(rename = "isActive")]
    is_active: bool,
    #[sqlx(rename = "tenantId")]
    tenant_id: uuid::Uuid,
    #[sqlx(rename = "avatarUrl")]
    avatar_url: Option<String>,
    #[sqlx(rename = "createdAt")]
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

/// Decodes slice `k` of its rows, discarding the results.
type Decoder<'a> = dyn Fn(usize) + 'a;

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

    // The same rows through sqlx.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let pg_rows: Vec<PgRow> = rt.block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(db.url())
            .await
            .expect("sqlx connect");
        let rows = sqlx::query(IdpUser::SELECT)
            .fetch_all(&mut conn)
            .await
            .expect("sqlx query");
        conn.close().await.expect("sqlx close");
        rows
    });
    assert_eq!(pg_rows.len(), n);
    for (row, pg) in rows.iter().zip(&pg_rows).take(1000) {
        let g = IdpUser::from_row(row).expect("decode");
        let s: IdpUser = sqlx::FromRow::from_row(pg).expect("sqlx decode");
        let d: DeriveUser = sqlx::FromRow::from_row(pg).expect("sqlx derive");
        assert_eq!(g, s);
        assert_eq!(
            (d.id, &d.email, &d.user_types, &d.status, d.created_at),
            (s.id, &s.email, &s.user_types, &s.status, s.created_at)
        );
    }

    // The machine may be busy: time short slices of 5,000 rows, alternating
    // between the decoders many times, and keep for each slice its
    // fastest time per decoder (what the code costs when not preempted),
    // plus the median over whole passes.
    const SLICE: usize = 5_000;
    let slices: Vec<&[postgres::Row]> = rows.chunks(SLICE).collect();
    let join_slices: Vec<&[postgres::Row]> = join_rows.chunks(SLICE).collect();
    let pg_slices: Vec<&[PgRow]> = pg_rows.chunks(SLICE).collect();
    let p = Prefixed::<IdpUser>::new(join_rows[0].columns(), "u__").expect("columns");
    let decoders: [&Decoder; 6] = [
        &|k| {
            for row in slices[k] {
                black_box(IdpUser::from_row(black_box(row)).expect("decode"));
            }
        },
        &|k| {
            for row in slices[k] {
                black_box(hand_decode(black_box(row)));
            }
        },
        &|k| {
            for row in join_slices[k] {
                black_box(p.decode(black_box(row)).expect("decode"));
            }
        },
        &|k| {
            for row in join_slices[k] {
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
        &|k| {
            for row in pg_slices[k] {
                let u: IdpUser = sqlx::FromRow::from_row(black_box(row)).expect("decode");
                black_box(u);
            }
        },
        &|k| {
            for row in pg_slices[k] {
                let u: DeriveUser = sqlx::FromRow::from_row(black_box(row)).expect("decode");
                black_box(u);
            }
        },
    ];
    const D: usize = 6;
    // best[decoder][slice]
    let mut best = vec![vec![Duration::MAX; slices.len()]; D];
    let mut passes: Vec<Vec<Duration>> = vec![Vec::new(); D];
    // `k` is a slice number, passed to the decoders and indexing `best[d]`.
    #[allow(clippy::needless_range_loop)]
    for round in 0..rounds {
        let mut total = [Duration::ZERO; D];
        for k in 0..slices.len() {
            for step in 0..D {
                // Alternate the order so that no decoder always goes first.
                let d = if round % 2 == 0 { step } else { D - 1 - step };
                let t = Instant::now();
                decoders[d](k);
                let e = t.elapsed();
                total[d] += e;
                best[d][k] = best[d][k].min(e);
            }
        }
        for d in 0..D {
            passes[d].push(total[d]);
        }
    }
    let best: Vec<Duration> = best.iter().map(|v| v.iter().sum()).collect();
    let medians: Vec<Duration> = passes.into_iter().map(median).collect();
    let r = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let per_row = |d: Duration| d.as_nanos() as f64 / n as f64;
    let line = |label: &str, d: usize| {
        println!(
            "  {label:<28}: {:>9.2?} / {:>9.2?}  ({:.0} / {:.0} ns/row)",
            medians[d],
            best[d],
            per_row(medians[d]),
            per_row(best[d])
        );
    };
    let ratio = |label: &str, a: usize, b: usize, target: &str| {
        println!(
            "  {label:<28}: {:.3} / {:.3}{target}",
            r(medians[a], medians[b]),
            r(best[a], best[b])
        );
    };
    println!("decode {n} IdpUser rows (11 columns), {rounds} interleaved rounds (median pass / sum of fastest 5k-row slices):");
    line("generated FromRow::from_row", 0);
    line("hand-written row.get(i)", 1);
    ratio("ratio generated/hand", 0, 1, "  (target <= 1.02)");
    line("prefixed (JOIN), Prefixed", 2);
    line("hand-written, same positions", 3);
    ratio("ratio prefixed/hand", 2, 3, "");
    line("sqlx: generated FromRow", 4);
    line("sqlx: #[derive(FromRow)]", 5);
    ratio("ratio sqlx generated/derive", 4, 5, "  (target <= 1.02)");
}
