//! Golden diagnostics: every `tests/cases/diagnostics/*.prisma` is a schema
//! whose trailing block of `//` comment lines is the expected rendered
//! output of parse + analyze (psl's convention: the last run of lines
//! starting with `//`, with `// ` removed; an empty block means "no
//! diagnostics").
//!
//! One test per case file (`tests/build.rs`). Add a case by adding a file;
//! write its expectation with
//! `IDPVIEWS_BLESS=1 cargo test -p idpviews-tests --test diagnostics`.

use idpviews_build::prisma;
use idpviews_build::{Diagnostics, SourceMap};
use idpviews_tests::golden::Golden;
use std::path::Path;

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

idpviews_tests::include_cases!("diagnostics");

/// One case: parse + analyze output equals the trailing comment block.
fn run_case(path: &Path) {
    let mut golden = Golden::new("diagnostics", path);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).expect("read case");
    let (schema, expected) = split_expectation(&text);
    let got = actual(&name, schema);
    let want = format!("{}\n", expected.trim_end());
    let got = format!("{}\n", got.trim_end());
    golden.compare(path, &want, &got, |path, got| {
        std::fs::write(path, blessed(schema, got)).expect("write blessed case")
    });
    golden.finish();
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
}
