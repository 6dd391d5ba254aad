//! Parse + semantic analysis throughput.
//!
//! `cargo bench -p idpviews-build --bench parse`
//!
//! - a synthetic schema of 1,000 models x 30 fields (enums, relations,
//!   native types, maps, indexes), generated here;
//! - the whole Prisma conformance corpus (`../shared/corpus/prisma`), each
//!   file parsed and analysed on its own.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use idpviews_build::prisma;
use idpviews_build::{Diagnostics, SourceMap};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

const MODELS: usize = 1_000;
const ENUMS: usize = 50;

/// 1,000 models of exactly 30 fields each, chained by relations.
fn synthetic_schema() -> String {
    let mut s = String::from(
        "datasource db {\n  provider = \"postgresql\"\n  schemas  = [\"idp\"]\n}\n\n\
         generator client {\n  provider        = \"prisma-client\"\n  previewFeatures = [\"views\"]\n}\n\n",
    );
    for e in 0..ENUMS {
        let _ = writeln!(s, "enum Kind{e} {{");
        for v in 0..5 {
            let _ = writeln!(s, "  VALUE_{v} @map(\"value_{v}\")");
        }
        let _ = writeln!(s, "\n  @@schema(\"idp\")\n}}\n");
    }
    let scalars = [
        ("String", " @db.VarChar(255)"),
        ("String?", ""),
        ("Int", " @default(0)"),
        ("BigInt?", ""),
        ("Boolean", " @default(false)"),
        ("DateTime", " @default(now()) @db.Timestamptz(6)"),
        ("Decimal?", " @db.Decimal(10, 2)"),
        ("Float", " @default(1.5)"),
        ("Json?", ""),
        ("String[]", ""),
    ];
    for m in 0..MODELS {
        let _ = writeln!(s, "/// Model number {m}.\nmodel Model{m} {{");
        let _ = writeln!(s, "  id        String   @id @default(uuid()) @db.Uuid");
        let _ = writeln!(s, "  kind      Kind{}   @default(VALUE_0)", m % ENUMS);
        // 3 relation-related fields: parent link (or 2 scalars for the first)
        if m > 0 {
            let _ = writeln!(s, "  parentId  String?  @map(\"parent_id\") @db.Uuid");
            let _ = writeln!(
                s,
                "  parent    Model{}? @relation(fields: [parentId], references: [id], onDelete: Cascade)",
                m - 1
            );
        } else {
            let _ = writeln!(s, "  rootA     String?\n  rootB     String?");
        }
        if m + 1 < MODELS {
            let _ = writeln!(s, "  children  Model{}[]", m + 1);
        } else {
            let _ = writeln!(s, "  leaf      Boolean  @default(true)");
        }
        // 25 scalar fields
        for f in 0..25 {
            let (ty, attrs) = scalars[f % scalars.len()];
            let _ = writeln!(
                s,
                "  field{f:<4} {ty}{attrs} @map(\"field_{f}\") // column {f}"
            );
        }
        let _ = writeln!(
            s,
            "\n  @@unique([field0, field2])\n  @@index([kind])\n  @@map(\"model_{m}\")\n  @@schema(\"idp\")\n}}\n"
        );
    }
    s
}

fn parse_and_analyze(sources: &SourceMap) -> usize {
    let mut diags = Diagnostics::new();
    let files: Vec<_> = sources
        .files()
        .iter()
        .map(|f| prisma::parse_file(sources, f.id, &mut diags))
        .collect();
    let schema = prisma::analyze(&files, &mut diags);
    schema.models.len() + diags.len()
}

/// Thread CPU time of `iters` runs of `work`; `finish` (e.g. freeing the
/// result) runs outside the measurement.
fn cpu_time<T>(iters: u64, mut work: impl FnMut() -> T, finish: impl Fn(T)) -> Duration {
    let mut total = 0;
    for _ in 0..iters {
        let start = thread_cpu_ns().unwrap_or_default();
        let out = work();
        total += thread_cpu_ns().unwrap_or_default().saturating_sub(start);
        finish(out);
    }
    Duration::from_nanos(total)
}

/// CPU time of the current thread in nanoseconds (Linux `schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/prisma");
    let mut out = Vec::new();
    for sub in ["valid", "invalid", "reformat", "realworld", "unjudged"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            out.extend(entries.flatten().map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let text = synthetic_schema();
    let mut sources = SourceMap::new();
    sources.add("synthetic.prisma", text.clone());
    {
        // the benchmark measures a valid schema
        let mut diags = Diagnostics::new();
        let f = prisma::parse_file(&sources, idpviews_build::FileId(0), &mut diags);
        let schema = prisma::analyze(&[f], &mut diags);
        assert!(!diags.has_errors(), "{}", diags.render(&sources, false));
        let fields: usize = schema.models.iter().map(|m| m.fields.len()).sum();
        assert_eq!((schema.models.len(), fields), (MODELS, MODELS * 30));
    }
    let mut g = c.benchmark_group("parse+analyze");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Bytes(text.len() as u64));
    // the headline: parse + analyze, freeing the results included
    g.bench_function("1000 models x 30 fields", |b| {
        b.iter(|| parse_and_analyze(black_box(&sources)))
    });
    // the same in CPU time of the benchmark thread: what it costs on one
    // core, whatever else the machine is doing (wall time above suffers
    // when other processes compete for the cores); then the two stages
    // apart, each without freeing its result
    if thread_cpu_ns().is_some() {
        g.bench_function("1000 models x 30 fields (thread CPU time)", |b| {
            b.iter_custom(|iters| {
                cpu_time(
                    iters,
                    || black_box(parse_and_analyze(black_box(&sources))),
                    drop,
                )
            })
        });
        g.bench_function(
            "1000 models x 30 fields: parse only (thread CPU time)",
            |b| {
                b.iter_custom(|iters| {
                    cpu_time(
                        iters,
                        || {
                            let mut diags = Diagnostics::new();
                            prisma::parse_file(
                                black_box(&sources),
                                idpviews_build::FileId(0),
                                &mut diags,
                            )
                        },
                        drop,
                    )
                })
            },
        );
        let parsed = {
            let mut diags = Diagnostics::new();
            [prisma::parse_file(
                &sources,
                idpviews_build::FileId(0),
                &mut diags,
            )]
        };
        g.bench_function(
            "1000 models x 30 fields: analyze only (thread CPU time)",
            |b| {
                b.iter_custom(|iters| {
                    cpu_time(
                        iters,
                        || {
                            let mut diags = Diagnostics::new();
                            prisma::analyze(black_box(&parsed), &mut diags)
                        },
                        drop,
                    )
                })
            },
        );
    }

    let corpus: Vec<(PathBuf, SourceMap)> = corpus_files()
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let mut s = SourceMap::new();
            s.add(p.clone(), text);
            Some((p, s))
        })
        .collect();
    if corpus.is_empty() {
        eprintln!("corpus not found next to the repository: skipping the corpus benchmark");
    } else {
        let bytes: usize = corpus
            .iter()
            .map(|(_, s)| s.get(idpviews_build::FileId(0)).text.len())
            .sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("corpus ({} files)", corpus.len()), |b| {
            b.iter(|| {
                corpus
                    .iter()
                    .map(|(_, s)| parse_and_analyze(black_box(s)))
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
