//! Our canonical renderer against `prisma format` (the corpus's
//! `reformat/` pairs), and the round-trip properties on every corpus file:
//! `parse(render(parse(x)))` is the same model as `parse(x)`, and
//! rendering is idempotent.

mod common;

use common::{check, corpus_dir, manifest};
use idpviews_build::prisma;
use std::path::{Path, PathBuf};

/// Prisma's expected output for a reformat input, if the corpus has it.
fn expected_output(input: &Path) -> Option<PathBuf> {
    let name = input.file_name()?.to_str()?;
    let stem = name.strip_suffix(".prisma")?;
    let single = input.with_file_name(format!("{stem}.reformatted.prisma"));
    if single.is_file() {
        return Some(single);
    }
    // multi-file cases: `case__File.prisma` -> `case.reformatted__File.prisma`
    let (case, file) = stem.rsplit_once("__")?;
    let multi = input.with_file_name(format!("{case}.reformatted__{file}.prisma"));
    multi.is_file().then_some(multi)
}

#[test]
fn renderings_match_prisma_format_where_counted() {
    let dir = corpus_dir();
    let (mut pairs, mut equal) = (0, 0);
    let mut differing = Vec::new();
    for e in manifest().iter().filter(|e| e.category == "reformat_input") {
        let input = dir.join(&e.file);
        let Some(output) = expected_output(&input) else {
            continue;
        };
        pairs += 1;
        let o = check(std::slice::from_ref(&input));
        let ours = prisma::render(&o.files[0]);
        let theirs = std::fs::read_to_string(&output).expect("read expected output");
        if ours == theirs {
            equal += 1;
        } else {
            differing.push(input.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    println!("reformat: {equal} of {pairs} renderings equal Prisma's output");
    for d in &differing {
        println!("  differs: {d}");
    }
    assert!(
        pairs >= 20,
        "expected the corpus's reformat pairs, found {pairs}"
    );
    // guard against regressions of the layout rules
    assert!(
        equal * 2 >= pairs,
        "only {equal} of {pairs} renderings match"
    );
}

#[test]
fn render_round_trips_and_is_idempotent_on_the_corpus() {
    let dir = corpus_dir();
    let mut checked = 0;
    for e in manifest() {
        let path = dir.join(&e.file);
        let first = check(std::slice::from_ref(&path));
        if first.diags.has_errors() {
            continue; // the round trip is promised for schemas that parse
        }
        let rendered = prisma::render(&first.files[0]);
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &rendered).unwrap();
        let second = check(&[tmp.path().to_path_buf()]);
        assert!(
            !second.diags.has_errors(),
            "{}: our rendering does not parse:\n{}\n{rendered}",
            e.file,
            second.diags.render(&second.sources, false)
        );
        assert_eq!(
            first.schema.without_spans(),
            second.schema.without_spans(),
            "{}: the rendering is a different model",
            e.file
        );
        let again = prisma::render(&second.files[0]);
        assert_eq!(rendered, again, "{}: render is not idempotent", e.file);
        checked += 1;
    }
    println!("round trip: {checked} schemas");
    assert!(checked > 100);
}
