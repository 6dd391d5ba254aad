//! Prisma 7's own verdict on the golden diagnostics cases
//! (`tests/cases/diagnostics`), through the Prisma CLI in `tools/prisma`
//! (see `idpviews_testdb::prisma`):
//!
//! - a case where `idpviews validate` reports an error is one Prisma 7
//!   rejects too (we never refuse what Prisma accepts);
//! - the validate rules that follow Prisma 7 (native type prefix, enum
//!   defaults, default functions, views preview feature) are rejected by
//!   Prisma 7; so are the two we only warn about on purpose (unknown
//!   preview features, Prisma 6's `url`), which Prisma 7 refuses but which
//!   do not change what idpviews generates.

use std::path::{Path, PathBuf};

/// The schema part of a case (without the trailing `//` expectation block)
/// and whether that block reports an error.
fn case(path: &Path) -> (String, bool) {
    let text = std::fs::read_to_string(path).expect("read case");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut start = lines.len();
    while start > 0 && lines[start - 1].trim_end().starts_with("//") {
        start -= 1;
    }
    let errors = lines[start..].iter().any(|l| l.starts_with("// error"));
    (lines[..start].concat(), errors)
}

fn prisma_rejects(name: &str, schema: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, schema).unwrap();
    idpviews_testdb::prisma::validate(&file).is_err()
}

#[test]
fn prisma_7_rejects_what_validate_rejects() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/diagnostics");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "prisma"))
        .collect();
    paths.sort();
    // the Prisma CLI must be there: a missing tool is a failure, not a skip
    idpviews_testdb::prisma::cli().unwrap_or_else(|e| panic!("{e}"));
    let prisma_rejected = [
        "native_type_prefix_not_datasource.prisma",
        "enum_default_names_no_value.prisma",
        "unknown_default_function.prisma",
        "view_without_views_preview_feature.prisma",
        "unknown_preview_feature.prisma",
        "datasource_url_prisma6.prisma",
    ];
    let mut wrong = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (schema, we_reject) = case(path);
        let listed = prisma_rejected.contains(&name.as_str());
        if !we_reject && !listed {
            continue;
        }
        if !prisma_rejects(&name, &schema) {
            wrong.push(name);
        }
    }
    for name in prisma_rejected {
        assert!(dir.join(name).is_file(), "case {name} is missing");
    }
    assert!(
        wrong.is_empty(),
        "Prisma 7 accepts these cases, which we expect it to reject: {wrong:?}"
    );
}
