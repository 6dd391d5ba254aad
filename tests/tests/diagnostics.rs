//! Golden diagnostics: every `tests/cases/diagnostics/*.prisma` is a schema
//! whose trailing block of `//` comment lines is the expected rendered
//! output of parse + analyze (psl's convention: the last run of lines
//! starting with `//`, with `// ` removed; an empty block means "no
//! diagnostics").
//!
//! Add a case by adding a file; write its expectation with
//! `IDPVIEWS_BLESS=1 cargo test -p idpviews-tests --test diagnostics`.

use idpviews_build::prisma;
use idpviews_build::{Diagnostics, SourceMap};
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/diagnostics")
}

/// Splits a case into (schema part, expected output).
fn split_expectation(text: &str) -> (&str, String) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut start = lines.len();
    while start > 0 && lines[start - 1].trim_end().starts_with("//") {
        start -= 1;
    }
    // blank lines directly after the schema are not part of the block
    let schema_len: usize = lines[..start].iter().map(|l| l.len()).sum();
    let expected: String = lines[start..]
        .iter()
        .map(|l| {
            let l = l.trim_end_matches(['\n', '\r']);
            let l = l.strip_prefix("//").unwrap_or(l);
            let l = l.strip_prefix(' ').unwrap_or(l);
            format!("{l}\n")
        })
        .collect();
    (&text[..schema_len], expected)
}

/// The rendered diagnostics of one case (path shown as the file name).
fn actual(name: &str, text: &str) -> String {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text);
    let mut diags = Diagnostics::new();
    let file = prisma::parse_file(&sources, id, &mut diags);
    prisma::analyze(&[file], &mut diags);
    diags.render(&sources, false)
}

/// The case text with its expectation block replaced by `rendered`.
fn blessed(schema: &str, rendered: &str) -> String {
    let mut out = schema.trim_end().to_string();
    out.push('\n');
    if !rendered.is_empty() {
        out.push('\n');
        for line in rendered.trim_end().lines() {
            if line.is_empty() {
                out.push_str("//\n");
            } else {
                out.push_str(&format!("// {line}\n"));
            }
        }
    }
    out
}

/// A line diff (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[test]
fn golden_diagnostics() {
    let bless = std::env::var_os("IDPVIEWS_BLESS").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases/diagnostics exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "prisma"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no diagnostics cases found");
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("read case");
        let (schema, expected) = split_expectation(&text);
        let got = actual(&name, schema);
        if got.trim_end() == expected.trim_end() {
            continue;
        }
        if bless {
            std::fs::write(path, blessed(schema, &got)).expect("write blessed case");
            println!("blessed {name}");
        } else {
            failures.push(format!(
                "{name}: diagnostics differ (- expected, + actual):\n{}",
                diff(expected.trim_end(), got.trim_end())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\n{} of {} case(s) differ; if the new output is right, run\n    IDPVIEWS_BLESS=1 cargo test -p idpviews-tests --test diagnostics",
        failures.join("\n"),
        failures.len(),
        paths.len()
    );
}

#[test]
fn expectation_block_is_the_last_comment_run() {
    let (schema, expected) =
        split_expectation("model A {\n  // inside\n}\n\n// error: x\n//\n// y\n");
    assert_eq!(schema, "model A {\n  // inside\n}\n\n");
    assert_eq!(expected, "error: x\n\ny\n");
    assert_eq!(
        blessed(schema, "error: x\n\ny\n"),
        "model A {\n  // inside\n}\n\n// error: x\n//\n// y\n"
    );
    assert!(diff("a\nb", "a\nc").contains("- b\n+ c"));
}
