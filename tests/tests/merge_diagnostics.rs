//! Diagnostics of the product-side merge: one directory per check under
//! `cases/merge-diagnostics/`, each holding
//!
//! - `idp-relations.conf` (required);
//! - the product schema: a `product/` directory, or a `product-dir` file
//!   naming one relative to the case (none: the merge runs unchecked);
//! - `views-dir`: optional, the package directory relative to the case
//!   (default `cases/merge/package`);
//! - `committed.prisma`: optional, the committed merged copy (drift check);
//! - `expected.stderr`: the rendered error, exactly as a build prints it.
//!
//! `IDPVIEWS_BLESS=1 cargo test -p idpviews-tests --test merge_diagnostics`
//! rewrites the expectations. To add a case, add a directory and bless.

use idpviews_build::Product;
use std::path::{Path, PathBuf};

fn bless() -> bool {
    std::env::var("IDPVIEWS_BLESS").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn read_rel(case: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_to_string(case.join(name))
        .ok()
        .map(|rel| normalize(&case.join(rel.trim())))
}

/// `a/b/../c` -> `a/c`, so displayed paths stay short and stable.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[test]
fn merge_diagnostics_cases() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("cases/merge-diagnostics")
        .expect("cases/merge-diagnostics exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("idp-relations.conf").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "expected the diagnostics cases, found {cases:?}"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let out = tempfile::tempdir().unwrap();
        let views =
            read_rel(case, "views-dir").unwrap_or_else(|| PathBuf::from("cases/merge/package"));
        let mut p = Product::new();
        p.views_dir(&views)
            .relations(case.join("idp-relations.conf"))
            .out_dir(out.path())
            .cargo_metadata(false)
            .bless(false);
        if case.join("product").is_dir() {
            p.product_schema(case.join("product"));
        } else if let Some(dir) = read_rel(case, "product-dir") {
            p.product_schema(dir);
        }
        if case.join("committed.prisma").is_file() {
            p.committed(case.join("committed.prisma"));
        }
        let actual = match p.compile() {
            Ok(_) => {
                failures.push(format!(
                    "{}: expected an error, the merge succeeded",
                    case.display()
                ));
                continue;
            }
            Err(e) => e.render(false),
        };
        // the committed file is never written without bless
        let committed = case.join("committed.prisma");
        if committed.is_file() {
            let before = std::fs::read(&committed).unwrap();
            assert!(p.compile().is_err());
            assert_eq!(
                std::fs::read(&committed).unwrap(),
                before,
                "{}",
                case.display()
            );
        }
        let expected_path = case.join("expected.stderr");
        if bless() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{} differs (IDPVIEWS_BLESS=1 to update):\n{}",
                expected_path.display(),
                idpviews_build::drift::unified_diff("expected", "actual", &expected, &actual)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
