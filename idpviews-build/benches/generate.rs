//! `idpviews generate` on a big IDP: a synthetic multi-file schema of
//! 1,000 models x 30 fields with 300 views (15 columns each, enums and
//! tenant-isolated views included).
//!
//! `cargo bench -p idpviews-build --bench generate`
//!
//! - `generate`: read + parse + analyse the schema, parse the allowlist, run
//!   every guard (including the breaking-change comparison with the previous
//!   manifest), render the Prisma file, the SQL and the manifest;
//! - `generate+check`: the same plus comparing with the package on disk
//!   (the CI drift gate, `--check`), which is up to date;
//! - `parse_only`: loading, parsing and analysing the schema alone, to
//!   tell the parser's share from the generator's.
//!
//! `IDPVIEWS_BENCH_INPUTS=<dir>` also writes the inputs to `<dir>`.

use criterion::{criterion_group, criterion_main, Criterion};
use idpviews_build::generate::Generator;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const MODELS: usize = 1_000;
const FILES: usize = 10;
const VIEWS: usize = 300;
const ENUMS: usize = 50;

/// Writes `schema/*.prisma` and `idp-views.toml` into `dir`.
fn write_inputs(dir: &Path) {
    let schema = dir.join("schema");
    std::fs::create_dir_all(&schema).unwrap();
    std::fs::write(
        schema.join("_config.prisma"),
        "datasource db {\n  provider = \"postgresql\"\n  schemas  = [\"idp\"]\n}\n\n\
         generator client {\n  provider = \"prisma-client-js\"\n}\n",
    )
    .unwrap();
    let mut enums = String::new();
    for e in 0..ENUMS {
        let _ = writeln!(enums, "enum Kind{e} {{");
        for v in 0..5 {
            let _ = writeln!(enums, "  VALUE_{v} @map(\"value_{v}\")");
        }
        let _ = writeln!(enums, "\n  @@map(\"kind_{e}\")\n  @@schema(\"idp\")\n}}\n");
    }
    std::fs::write(schema.join("enums.prisma"), enums).unwrap();
    let per_file = MODELS / FILES;
    for f in 0..FILES {
        let mut s = String::new();
        for m in f * per_file..(f + 1) * per_file {
            let _ = writeln!(s, "/// Model number {m}.\nmodel Model{m} {{");
            let _ = writeln!(s, "  id         String    @id @default(uuid()) @db.Uuid");
            let _ = writeln!(s, "  tenantId   String    @map(\"tenant_id\") @db.Uuid");
            let _ = writeln!(s, "  kind       Kind{}     @default(VALUE_0)", m % ENUMS);
            let _ = writeln!(s, "  kinds      Kind{}[]   @map(\"kind_list\")", m % ENUMS);
            let _ = writeln!(
                s,
                "  /// The name.\n  name       String    @db.VarChar(255)"
            );
            let _ = writeln!(s, "  email      String?   @unique");
            let _ = writeln!(s, "  count      Int       @default(0)");
            let _ = writeln!(s, "  big        BigInt?");
            let _ = writeln!(
                s,
                "  active     Boolean   @default(true) @map(\"is_active\")"
            );
            let _ = writeln!(
                s,
                "  seenAt     DateTime? @map(\"seen_at\") @db.Timestamptz(6)"
            );
            let _ = writeln!(s, "  price      Decimal?  @db.Decimal(10, 2)");
            let _ = writeln!(s, "  score      Float     @default(1.5)");
            let _ = writeln!(s, "  data       Json?");
            let _ = writeln!(s, "  tags       String[]");
            let _ = writeln!(s, "  passwordHash String  @map(\"password_hash\")");
            for x in 0..13 {
                let _ = writeln!(s, "  extra{x}    String?   @map(\"extra_{x}\")");
            }
            let _ = writeln!(
                s,
                "  createdAt  DateTime  @default(now()) @map(\"created_at\")"
            );
            let _ = writeln!(s, "  updatedAt  DateTime  @updatedAt @map(\"updated_at\")");
            let _ = writeln!(
                s,
                "\n  @@index([tenantId])\n  @@map(\"model_{m}\")\n  @@schema(\"idp\")\n}}\n"
            );
        }
        std::fs::write(schema.join(format!("models_{f:02}.prisma")), s).unwrap();
    }
    let mut toml = String::from("schema = \"idp_views\"\n");
    for v in 0..VIEWS {
        let _ = writeln!(
            toml,
            "\n[views.IdpModel{v}]\nmodel = \"Model{}\"\nfields = [\"id\", \"tenantId\", \"kind\", \"kinds\", \"name\", \"email\", \"count\", \"big\", \"active\", \"seenAt\", \"price\", \"score\", \"data\", \"tags\", \"createdAt\"]",
            v * 3
        );
        if v % 10 == 0 {
            let _ = writeln!(toml, "tenant_column = \"tenantId\"");
        }
    }
    std::fs::write(dir.join("idp-views.toml"), toml).unwrap();
}

fn bench(c: &mut Criterion) {
    // `IDPVIEWS_BENCH_INPUTS=<dir>`: also write the inputs there, to time
    // the CLI as a whole (`idpviews generate --schema <dir>/schema ...`)
    if let Some(keep) = std::env::var_os("IDPVIEWS_BENCH_INPUTS") {
        write_inputs(Path::new(&keep));
    }
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let out = dir.path().join("packages/idp-views");
    let gen = Generator::new(
        dir.path().join("schema"),
        dir.path().join("idp-views.toml"),
        &out,
    );
    // a previous package is in place, so the breaking-change guard runs too
    let written = gen.run().unwrap();
    assert_eq!(written.len(), 3);
    let bytes: usize = std::fs::read_dir(dir.path().join("schema"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len() as usize)
        .sum();
    let p = gen.generate().unwrap();
    eprintln!(
        "schema: {MODELS} models in {} files, {:.2} MB; {VIEWS} views; package: {} bytes",
        FILES + 2,
        bytes as f64 / 1e6,
        p.files().iter().map(|f| f.contents.len()).sum::<usize>()
    );

    let mut g = c.benchmark_group("generate");
    // for comparison: only loading, parsing and analysing the schema
    g.bench_function("1000_models_parse_only", |b| {
        b.iter(|| {
            let mut sources = idpviews_build::SourceMap::new();
            let mut diags = idpviews_build::Diagnostics::new();
            let files =
                idpviews_build::prisma::load(&dir.path().join("schema"), &mut sources, &mut diags)
                    .unwrap();
            black_box(idpviews_build::prisma::analyze(&files, &mut diags))
        })
    });
    g.sample_size(30).measurement_time(Duration::from_secs(10));
    g.bench_function("1000_models_300_views", |b| {
        b.iter(|| black_box(gen.generate().unwrap()))
    });
    g.bench_function("1000_models_300_views+check", |b| {
        b.iter(|| gen.check().unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
