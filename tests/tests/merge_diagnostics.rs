//! Diagnostics of the product-side merge: one directory per check under
//! `cases/merge-diagnostics/`, each holding
//!
//! - `idp-relations.conf` (required);
//! - the product schema: a `product/` directory, or a `product-dir` file
//!   naming one relative to the case (none: the merge runs unchecked);
//! - `views-dir`: optional, the package directory relative to the case
//!   (default `cases/merge/package`);
//! - `committed.prisma`: optional, the committed merged copy (drift check);
//! - `expected.txt`: the rendered error, exactly as a build prints it.
//!
//! One test per case (`tests/build.rs`). `IDPVIEWS_BLESS=1 cargo test -p
//! idpviews-tests --test merge_diagnostics` rewrites the expectations. To
//! add a case, add a directory and bless.

use idpviews_build::Product;
use idpviews_tests::golden::Golden;
use std::path::{Path, PathBuf};

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

idpviews_tests::include_cases!("merge_diagnostics");

/// One case: the merge fails with the rendered error of `expected.txt`, and
/// never writes the committed file.
fn run_case(case: &Path) {
    let mut golden = Golden::new("merge_diagnostics", case);
    let out = tempfile::tempdir().unwrap();
    let views = read_rel(case, "views-dir").unwrap_or_else(|| PathBuf::from("cases/merge/package"));
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
        Ok(_) => panic!("{}: expected an error, the merge succeeded", case.display()),
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
    golden.check(&case.join("expected.txt"), &actual);
    golden.finish();
}

/// Our checks are not stricter than Prisma: for each relation check, the
/// same inputs merged *unchecked* (as the PoC's script did) are rejected by
/// Prisma 7's own validator too.
#[test]
fn prisma_7_rejects_what_the_relation_checks_reject() {
    use idpviews_build::{merge, prisma, relations_conf, Diagnostics, SourceMap};
    let cases = [
        "missing-opposite-field",
        "references-not-unique",
        "list-optional-mismatch",
        "fk-type-mismatch",
        "required-view-side",
        "ambiguous-relations",
        "relation-name-missing",
        "missing-conf-line",
        "target-model-missing",
        "datasource-missing-schema",
        "generator-missing-views",
    ];
    let mut accepted = Vec::new();
    for name in cases {
        let case = Path::new("cases/merge-diagnostics").join(name);
        let product = if case.join("product").is_dir() {
            case.join("product")
        } else {
            read_rel(&case, "product-dir").expect("a product schema")
        };
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let pkg = sources
            .load(Path::new("cases/merge/package/idp-views.prisma"))
            .unwrap();
        let mut ast = prisma::parse_file(&sources, pkg, &mut diags);
        let conf = sources.load(&case.join("idp-relations.conf")).unwrap();
        let rels = relations_conf::parse(&sources, conf, &mut diags);
        assert!(
            !diags.has_errors(),
            "{name}: {}",
            diags.render(&sources, false)
        );
        merge::inject_unchecked(&mut ast, &rels);
        let dir = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(&product).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
        std::fs::write(dir.path().join("idp-views.prisma"), prisma::render(&ast)).unwrap();
        if idpviews_testdb::prisma::validate(dir.path()).is_ok() {
            accepted.push(name);
        }
    }
    assert!(
        accepted.is_empty(),
        "Prisma 7 accepts what we reject: {accepted:?}"
    );
}
