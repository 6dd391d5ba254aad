//! Conformance of the Prisma parser against Prisma's own verdicts
//! (`../shared/corpus/prisma`, see its README and `MANIFEST.tsv`).
//!
//! - every `valid` schema parses and analyses with zero errors;
//! - no file, valid or not, panics or hangs;
//! - the share of `invalid` schemas we reject is printed.

mod common;

use common::{check, corpus_dir, manifest};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Schemas to check: one per ungrouped file, one per `group`.
fn units() -> Vec<(String, Vec<PathBuf>)> {
    let dir = corpus_dir();
    let mut groups: BTreeMap<String, (String, Vec<PathBuf>)> = BTreeMap::new();
    let mut out = Vec::new();
    for e in manifest() {
        let path = dir.join(&e.file);
        if e.group.is_empty() {
            out.push((e.verdict, vec![path]));
        } else {
            groups
                .entry(e.group.clone())
                .or_insert_with(|| (e.verdict.clone(), Vec::new()))
                .1
                .push(path);
        }
    }
    out.extend(groups.into_values());
    out
}

#[test]
fn valid_schemas_have_no_errors_and_nothing_panics_or_hangs() {
    let mut failures = Vec::new();
    let mut incomplete = Vec::new();
    let (mut valid, mut invalid, mut rejected, mut other) = (0, 0, 0, 0);
    let mut slowest = (std::time::Duration::ZERO, PathBuf::new());
    for (verdict, paths) in units() {
        let o = check(&paths);
        // every diagnostic points somewhere and says what to do
        for d in o.diags.iter() {
            if d.span.is_none() || d.label.is_none() || d.help.is_none() {
                incomplete.push(format!("{}: {}", paths[0].display(), d.message));
            }
        }
        if o.elapsed > slowest.0 {
            slowest = (o.elapsed, paths[0].clone());
        }
        match verdict.as_str() {
            "valid" => {
                valid += 1;
                if o.diags.has_errors() {
                    failures.push(format!(
                        "{}:\n{}",
                        paths[0].display(),
                        o.diags.render(&o.sources, false)
                    ));
                }
            }
            "invalid" => {
                invalid += 1;
                if o.diags.has_errors() {
                    rejected += 1;
                }
            }
            _ => other += 1,
        }
    }
    println!(
        "corpus: {valid} valid schemas, {} accepted; {invalid} invalid schemas, {rejected} rejected ({:.1}%); {other} without verdict parsed; slowest {:?} ({})",
        valid - failures.len(),
        100.0 * rejected as f64 / invalid.max(1) as f64,
        slowest.0,
        slowest.1.display()
    );
    assert!(
        valid > 100,
        "the manifest lists too few valid schemas: {valid}"
    );
    assert!(
        incomplete.is_empty(),
        "diagnostics without span, label or help:\n{}",
        incomplete.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} valid schema(s) were rejected:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
