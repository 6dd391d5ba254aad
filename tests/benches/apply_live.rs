//! Applying on a live database, 300 views: re-apply of an unchanged package
//! (the new apply) against the old full apply (the package SQL as it is,
//! every view `CREATE OR REPLACE`d) in the same run, the strongest lock each
//! takes per view, and how long readers of a view wait while one view among
//! 300 gets an appended column.
//!
//! ```text
//! cargo bench -p idpviews-tests --bench apply_live
//! ```
//!
//! Not run by `cargo test` (it exits at once without `--bench`).

use idpviews::{ApplyOptions, Package};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const VIEWS: usize = 300;
const RUNS: usize = 7;

fn prisma(extra_column_in: Option<usize>) -> String {
    let mut s =
        String::from("datasource db {\n  provider = \"postgresql\"\n  schemas  = [\"idp\"]\n}\n\n");
    for i in 0..VIEWS {
        s.push_str(&format!(
            "model M{i} {{\n  id        String   @id @db.Uuid\n  name      String\n  email     String?\n  \
             amount    Int\n  secret    String\n  createdAt DateTime @default(now()) @map(\"created_at\")\n"
        ));
        if extra_column_in == Some(i) {
            s.push_str("  nickname  String?\n");
        }
        s.push_str("\n  @@map(\"m");
        s.push_str(&i.to_string());
        s.push_str("\")\n  @@schema(\"idp\")\n}\n\n");
    }
    s
}

fn allowlist(extra_column_in: Option<usize>) -> String {
    let mut s = String::from("schema = \"idp_views\"\n");
    for i in 0..VIEWS {
        let extra = if extra_column_in == Some(i) {
            ", \"nickname\""
        } else {
            ""
        };
        s.push_str(&format!(
            "\n[views.V{i}]\nmodel = \"M{i}\"\nfields = [\"id\", \"name\", \"email\", \"amount\", \"createdAt\"{extra}]\n"
        ));
    }
    s
}

fn package(extra_column_in: Option<usize>) -> Package {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.prisma"), prisma(extra_column_in)).unwrap();
    std::fs::write(
        dir.path().join("idp-views.toml"),
        allowlist(extra_column_in),
    )
    .unwrap();
    let g = idpviews_build::generate::Generator::new(
        dir.path().join("schema.prisma"),
        dir.path().join("idp-views.toml"),
        dir.path().join("out"),
    )
    .allow_breaking(true)
    .generate()
    .unwrap_or_else(|e| panic!("{}", e.render(false)));
    Package {
        manifest: g.manifest().clone(),
        sql: g
            .file(idpviews_build::manifest::SQL_FILE)
            .unwrap()
            .to_owned()
            .into(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The strongest lock the old full apply takes per view: its SQL run in a
/// transaction, `pg_locks` read before the rollback.
fn old_apply_locks(c: &mut postgres::Client, p: &Package) -> Vec<(String, i64)> {
    let body = p.sql.replace("BEGIN;", "").replace("COMMIT;", "");
    c.batch_execute(&format!("BEGIN; {body}")).unwrap();
    let rows = c
        .query(
            "SELECT mode::text, count(DISTINCT relation) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'idp_views'::regnamespace AND c.relkind = 'v' \
             GROUP BY mode ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    c.batch_execute("ROLLBACK").unwrap();
    rows
}

/// Readers of one view in a loop; the longest single query while `during` runs.
fn reader_wait(
    db: &idpviews_testdb::TestDb,
    view: &str,
    during: impl FnOnce(),
) -> (Duration, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let worst = Arc::new(Mutex::new((Duration::ZERO, 0usize)));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (stop, worst) = (stop.clone(), worst.clone());
            let mut c = db.connect();
            let sql = format!("SELECT * FROM idp_views.\"{view}\" LIMIT 1");
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    c.simple_query(&sql).expect("reader");
                    let e = t.elapsed();
                    let mut w = worst.lock().unwrap();
                    w.0 = w.0.max(e);
                    w.1 += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    *worst.lock().unwrap() = (Duration::ZERO, 0);
    during();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let result = *worst.lock().unwrap();
    result
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "apply_live: skipped (run it with `cargo bench -p idpviews-tests --bench apply_live`)"
        );
        return;
    }
    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    let mut ddl = String::from("CREATE SCHEMA idp;\n");
    for i in 0..VIEWS {
        ddl.push_str(&format!(
            "CREATE TABLE idp.m{i} (id uuid PRIMARY KEY, name text NOT NULL, email text, amount int4 NOT NULL, \
             secret text NOT NULL, created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, nickname text);\n\
             INSERT INTO idp.m{i} SELECT gen_random_uuid(), 'n' || g, NULL, g, 's', now(), NULL FROM generate_series(1, 100) g;\n"
        ));
    }
    c.batch_execute(&ddl).unwrap();
    let v1 = package(None);
    let v2 = package(Some(150));
    let version: String = c.query_one("SHOW server_version", &[]).unwrap().get(0);

    let t = Instant::now();
    idpviews::apply(&mut c, &v1).unwrap();
    let first = t.elapsed();

    // Re-apply of the unchanged package, new vs old, alternating.
    let (mut new, mut old) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let applied = idpviews::apply(&mut c, &v1).unwrap();
        new.push(t.elapsed());
        assert!(applied.is_noop());
        let t = Instant::now();
        c.batch_execute(&v1.sql).unwrap();
        old.push(t.elapsed());
    }
    // the old apply left the record stale? (it does not write it; the view
    // definitions are the same, so the next re-apply is still a no-op)
    let (new, old) = (median(new), median(old));

    // Strongest lock per view.
    let old_locks = old_apply_locks(&mut c, &v1);
    // New: with another session holding EXCLUSIVE (conflicts with every mode
    // but ACCESS SHARE) on all 300 views, the re-apply still completes.
    let mut holder = db.connect();
    let all: Vec<String> = (0..VIEWS).map(|i| format!("idp_views.\"V{i}\"")).collect();
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {} IN EXCLUSIVE MODE;",
            all.join(", ")
        ))
        .unwrap();
    let t = Instant::now();
    let held = idpviews::apply_with(
        &mut c,
        &v1,
        &ApplyOptions::default()
            .lock_timeout(Duration::from_secs(2))
            .retries(0),
    );
    let held_time = t.elapsed();
    holder.batch_execute("ROLLBACK").unwrap();
    let new_lock = match held {
        Ok(a) if a.is_noop() => {
            "at most ACCESS SHARE (completed while EXCLUSIVE was held on all 300 views)"
        }
        Ok(_) => "changed something (unexpected)",
        Err(_) => "waited for the EXCLUSIVE holder (unexpected)",
    };

    // Append-only upgrade of V150: how long its readers wait, new vs old,
    // alternating, each from a fresh v1 schema.
    let (idle_worst, idle_n) = reader_wait(&db, "V150", || {
        std::thread::sleep(Duration::from_millis(500))
    });
    let (mut new_up, mut new_wait, mut old_up, mut old_wait) = (vec![], vec![], vec![], vec![]);
    let mut c2 = db.connect();
    for _ in 0..5 {
        c2.batch_execute("DROP SCHEMA idp_views CASCADE").unwrap();
        idpviews::apply(&mut c2, &v1).unwrap();
        let mut up = Duration::ZERO;
        let (worst, _) = reader_wait(&db, "V150", || {
            let t = Instant::now();
            let a = idpviews::apply(&mut c2, &v2).unwrap();
            up = t.elapsed();
            assert_eq!(
                a.views
                    .iter()
                    .filter(|(_, ch)| !matches!(ch, idpviews::ViewChange::Unchanged))
                    .count(),
                1
            );
        });
        new_up.push(up);
        new_wait.push(worst);
        // old: the full v2 SQL (every view replaced) over v1's definitions
        c2.batch_execute("DROP SCHEMA idp_views CASCADE").unwrap();
        c2.batch_execute(&v1.sql).unwrap();
        let (worst, _) = reader_wait(&db, "V150", || {
            let t = Instant::now();
            c2.batch_execute(&v2.sql).unwrap();
            up = t.elapsed();
        });
        old_up.push(up);
        old_wait.push(worst);
    }
    let (up_time, new_worst, old_up_time, old_worst) = (
        median(new_up),
        median(new_wait),
        median(old_up),
        median(old_wait),
    );

    println!("## Apply on a live database ({VIEWS} views)\n");
    println!("PostgreSQL {version}; medians of {RUNS} alternating runs; first apply (create) {:.0} ms.\n", ms(first));
    println!("| | wall time | strongest lock per view |");
    println!("|---|---|---|");
    println!(
        "| re-apply, unchanged package (new) | {:.1} ms ({:.3}x) | {new_lock} |",
        ms(new),
        new.as_secs_f64() / old.as_secs_f64()
    );
    println!(
        "| old full apply (package SQL as is, baseline) | {:.1} ms (1x) | {} |",
        ms(old),
        old_locks
            .iter()
            .map(|(m, n)| format!("{m} on {n} views"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "\n(re-apply with EXCLUSIVE held on all views: {:.1} ms)\n",
        ms(held_time)
    );
    println!("| append `nickname` to V150 of {VIEWS} (median of 5) | apply wall time | longest V150 reader query |");
    println!("|---|---|---|");
    println!(
        "| no apply (2 readers alone, 500 ms, {idle_n} queries) | - | {:.2} ms |",
        ms(idle_worst)
    );
    println!(
        "| new apply (only V150 replaced) | {:.1} ms | {:.2} ms ({:.2}x) |",
        ms(up_time),
        ms(new_worst),
        new_worst.as_secs_f64() / old_worst.as_secs_f64()
    );
    println!(
        "| old full apply (every view replaced, baseline) | {:.1} ms | {:.2} ms (1x) |",
        ms(old_up_time),
        ms(old_worst)
    );
}
