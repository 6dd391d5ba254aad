//! `verify` on a 300-view package (and the package integrity check), with
//! baselines measured in the same run.
//!
//! ```text
//! cargo bench -p idpviews-tests --bench verify
//! ```
//!
//! Builds a fresh database (dropped afterwards) with 300 IDP tables of 13
//! columns (one of them a `password` no view exposes), generates a
//! 300-view package with the real generator (12 columns per view), applies
//! it, then times, alternating on one connection:
//!
//! - `verify` (the exact checks: query trees, dependencies, triggers,
//!   function, applied record);
//! - the pre-#11 verify's catalog queries (columns, triggers, rules of the
//!   views schema), as raw SQL: the baseline;
//! - one plain catalog query (the views' columns);
//!
//! and `Package::from_dir` (manifest self-hash + file hashes + parse) vs
//! reading and parsing the same files without the checks. Not run by
//! `cargo test` (it exits at once without `--bench`).

use idpviews::Package;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const VIEWS: usize = 300;
const ROUNDS: usize = 30;

const OLD_VERIFY_SQL: [&str; 3] = [
    "SELECT c.relname::text, c.relkind::text, coalesce(c.reloptions, '{}')::text[], \
            a.attname::text, format_type(a.atttypid, a.atttypmod) \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     WHERE n.nspname = 'idp_views' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname, a.attnum",
    "SELECT c.relname::text, t.tgtype::int4, t.tgenabled::text, pn.nspname::text, p.proname::text \
     FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid \
     JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace \
     WHERE n.nspname = 'idp_views' AND NOT t.tgisinternal ORDER BY c.relname, t.tgname",
    "SELECT c.relname::text, r.rulename::text FROM pg_catalog.pg_rewrite r \
     JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = 'idp_views' AND r.ev_type <> '1' ORDER BY c.relname, r.rulename",
];

/// The new catalog reads of `verify`, as raw SQL, for the breakdown.
const NEW_SQL: [(&str, &str); 4] = [
    ("`pg_get_viewdef` of every view", "SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid) FROM pg_catalog.pg_class c \
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'idp_views' AND c.relkind = 'v'"),
    ("query trees (`pg_rewrite.ev_action::text`)", "SELECT c.relname::text, r.ev_action::text FROM pg_catalog.pg_class c \
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
      JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN' \
      WHERE n.nspname = 'idp_views' AND c.relkind = 'v'"),
    ("dependencies (`pg_depend`)", "SELECT c.relname::text, rn.nspname::text, rc.relname::text, d.refobjsubid::int4 \
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
      JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid \
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid \
      LEFT JOIN pg_catalog.pg_class rc ON d.refclassid = 'pg_catalog.pg_class'::regclass AND rc.oid = d.refobjid \
      LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace \
      WHERE n.nspname = 'idp_views' AND c.relkind = 'v' AND NOT (d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid)"),
    ("the applied record (schema comment)", "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace') \
      FROM pg_catalog.pg_namespace n WHERE n.nspname = 'idp_views'"),
];

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("verify: skipped (run it with `cargo bench -p idpviews-tests --bench verify`)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (prisma, toml, tables) = inputs();
    std::fs::write(tmp.path().join("schema.prisma"), prisma).unwrap();
    std::fs::write(tmp.path().join("idp-views.toml"), toml).unwrap();
    let out = tmp.path().join("package");
    idpviews_build::generate::Generator::new(
        tmp.path().join("schema.prisma"),
        tmp.path().join("idp-views.toml"),
        &out,
    )
    .generate()
    .unwrap_or_else(|e| panic!("generate failed:\n{}", e.render(false)))
    .write()
    .unwrap();
    let package = Package::from_dir(&out).unwrap();
    assert_eq!(package.manifest.views.len(), VIEWS);

    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    c.batch_execute(&tables).unwrap();
    idpviews::apply(&mut c, &package).unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");

    let (mut new, mut old, mut plain, mut load, mut read) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut parts: Vec<Vec<Duration>> = vec![vec![]; NEW_SQL.len()];
    for _ in 0..ROUNDS {
        for (i, (_, sql)) in NEW_SQL.iter().enumerate() {
            parts[i].push(time(|| {
                c.query(*sql, &[]).unwrap();
            }));
        }
        new.push(time(|| {
            idpviews::verify(&mut c, &package).unwrap();
        }));
        old.push(time(|| {
            for sql in OLD_VERIFY_SQL {
                c.query(sql, &[]).unwrap();
            }
        }));
        plain.push(time(|| {
            c.query(OLD_VERIFY_SQL[0], &[]).unwrap();
        }));
        load.push(time(|| {
            Package::from_dir(&out).unwrap();
        }));
        read.push(time(|| {
            let json = std::fs::read_to_string(out.join("idp-views.lock")).unwrap();
            let _sql = std::fs::read_to_string(out.join("create-idp-views.sql")).unwrap();
            let _prisma = std::fs::read_to_string(out.join("idp-views.prisma")).unwrap();
            idpviews_build::manifest::Manifest::from_json(&json).unwrap();
        }));
    }
    let version: String = c.query_one("SHOW server_version", &[]).unwrap().get(0);
    let (new, old, plain, load, read) = (
        median(new),
        median(old),
        median(plain),
        median(load),
        median(read),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("## verify, {VIEWS} views x 12 columns (PostgreSQL {version}, median of {ROUNDS})\n");
    println!("| what | median | ratio |\n|---|---:|---:|");
    println!(
        "| `verify` (exact checks) | {:.1} ms | {:.2}x the pre-#11 queries |",
        ms(new),
        ms(new) / ms(old)
    );
    println!(
        "| pre-#11 verify's catalog queries (baseline) | {:.1} ms | 1.00x |",
        ms(old)
    );
    println!(
        "| one catalog query (the views' columns) | {:.1} ms | {:.2}x |",
        ms(plain),
        ms(plain) / ms(old)
    );
    for ((what, _), times) in NEW_SQL.iter().zip(parts) {
        let t = median(times);
        println!(
            "| of which: {what} | {:.1} ms | {:.2}x |",
            ms(t),
            ms(t) / ms(old)
        );
    }
    println!(
        "| `Package::from_dir` (self-hash + file hashes + parse) | {:.1} ms | {:.2}x reading + parsing without checks ({:.1} ms) |",
        ms(load),
        ms(load) / ms(read),
        ms(read)
    );
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The Prisma schema, the allowlist and the tables: `VIEWS` models of 13
/// fields, each exposed but `password`.
fn inputs() -> (String, String, String) {
    let mut prisma =
        String::from("datasource db {\n  provider = \"postgresql\"\n  schemas  = [\"idp\"]\n}\n\n");
    let mut toml = String::from("schema = \"idp_views\"\n");
    let mut sql = String::from("CREATE SCHEMA idp;\n");
    for m in 0..VIEWS {
        let _ = write!(
            prisma,
            "model Model{m} {{\n  id String @id @db.Uuid\n  tenantId String @map(\"tenant_id\") @db.Uuid\n  \
             name String\n  email String?\n  phone String?\n  city String?\n  country String?\n  \
             score Int\n  active Boolean\n  note String?\n  createdAt DateTime @map(\"created_at\")\n  \
             updatedAt DateTime @map(\"updated_at\")\n  password String\n\n  @@map(\"model_{m}\")\n  @@schema(\"idp\")\n}}\n\n"
        );
        let _ = write!(
            toml,
            "\n[views.IdpModel{m}]\nmodel = \"Model{m}\"\nfields = [\"id\", \"tenantId\", \"name\", \"email\", \"phone\", \
             \"city\", \"country\", \"score\", \"active\", \"note\", \"createdAt\", \"updatedAt\"]\n"
        );
        let _ = writeln!(
            sql,
            "CREATE TABLE idp.model_{m} (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL, \
             email text, phone text, city text, country text, score integer NOT NULL, active boolean NOT NULL, \
             note text, created_at timestamp(3) NOT NULL, updated_at timestamp(3) NOT NULL, password text NOT NULL);"
        );
    }
    (prisma, toml, sql)
}
