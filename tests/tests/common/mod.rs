//! Shared helpers for the Prisma conformance tests: the corpus location,
//! its manifest, and running the parser on a set of files.

#![allow(dead_code)] // each test binary uses a different subset

use idpviews_build::prisma::{self, ast, model};
use idpviews_build::{Diagnostics, SourceMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `../shared/corpus/prisma` relative to the repository root.
pub fn corpus_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository");
    let dir = root.join("../shared/corpus/prisma");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "the Prisma conformance corpus is missing: expected {}/MANIFEST.tsv \
         (the corpus lives next to the repository, in ../shared/corpus/prisma)",
        dir.display()
    );
    dir
}

/// One row of `MANIFEST.tsv`.
#[derive(Clone, Debug)]
pub struct Entry {
    pub file: String,
    pub verdict: String,
    pub category: String,
    pub group: String,
}

/// Reads `MANIFEST.tsv` (columns by header name).
pub fn manifest() -> Vec<Entry> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("manifest header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no `{name}` column"))
    };
    let (file, verdict, category, group) =
        (col("file"), col("verdict"), col("category"), col("group"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| cells.get(i).copied().unwrap_or_default().to_string();
            Entry {
                file: get(file),
                verdict: get(verdict),
                category: get(category),
                group: get(group),
            }
        })
        .collect()
}

/// The outcome of parsing and analysing some files as one schema.
pub struct Outcome {
    pub sources: SourceMap,
    pub files: Vec<ast::SchemaFile>,
    pub schema: model::Schema,
    pub diags: Diagnostics,
    pub elapsed: Duration,
}

/// Parses and analyses `paths` as one schema on a worker thread, failing
/// the test (with the file names) on a panic or when it takes over 10 s.
pub fn check(paths: &[PathBuf]) -> Outcome {
    let owned = paths.to_vec();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let mut files = Vec::new();
        for p in &owned {
            let text = std::fs::read_to_string(p).expect("read corpus file");
            let id = sources.add(p.clone(), text);
            files.push(prisma::parse_file(&sources, id, &mut diags));
        }
        let schema = prisma::analyze(&files, &mut diags);
        let elapsed = start.elapsed();
        let _ = tx.send(Outcome {
            sources,
            files,
            schema,
            diags,
            elapsed,
        });
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(o) => o,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("parser hangs on {paths:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("parser panics on {paths:?}"),
    }
}
