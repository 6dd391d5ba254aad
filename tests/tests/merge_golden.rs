//! Golden cases for the product-side merge (`idp-relations.conf` into the
//! views package), one directory per case under `cases/merge/`:
//!
//! - `idp-relations.conf`: the product's relations (required);
//! - `product/`: the product's Prisma schema (optional: without it the
//!   merge runs as the PoC's `add-relations.sh` did, unchecked);
//! - `product-dir`: optional, a file naming a product schema directory
//!   elsewhere, relative to the case (its `idp-views.prisma` is skipped);
//! - `views-dir`: optional, a file naming the package directory relative to
//!   the case (default `../package`); the `example-product` case uses the
//!   generator-made package of `example-idp/`;
//! - `expected/idp-views.prisma`, `expected/views.json`: the expected outputs.
//!
//! One test per case (`tests/build.rs`). `IDPVIEWS_BLESS=1 cargo test -p
//! idpviews-tests --test merge_golden` rewrites the expectations. To add a
//! case, add a directory and bless.

use idpviews_build::{prisma, Product};
use idpviews_tests::golden::Golden;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    idpviews_tests::golden::cases("merge", |p| p.join("idp-relations.conf").is_file())
}

idpviews_tests::include_cases!("merge");

/// One case: the merged outputs equal `expected/`, and a second run
/// writes nothing.
fn run_case(case: &Path) {
    let mut golden = Golden::new("merge_golden", case);
    let out = tempfile::tempdir().unwrap();
    let views = match std::fs::read_to_string(case.join("views-dir")) {
        Ok(rel) => case.join(rel.trim()),
        Err(_) => PathBuf::from("cases/merge/package"),
    };
    let mut p = Product::new();
    p.views_dir(&views)
        .relations(case.join("idp-relations.conf"))
        .out_dir(out.path())
        .cargo_metadata(false)
        .bless(false);
    if case.join("product").is_dir() {
        p.product_schema(case.join("product"));
    } else if let Ok(rel) = std::fs::read_to_string(case.join("product-dir")) {
        // a product schema elsewhere (e.g. the example product), minus
        // its committed merged copy
        let product = out.path().join("product");
        std::fs::create_dir_all(&product).unwrap();
        for e in std::fs::read_dir(case.join(rel.trim())).unwrap() {
            let e = e.unwrap();
            if e.file_name() != "idp-views.prisma" {
                std::fs::copy(e.path(), product.join(e.file_name())).unwrap();
            }
        }
        p.product_schema(product);
    }
    let output = match p.compile() {
        Ok(o) => o,
        Err(e) => panic!("{}: {}", case.display(), e.render(false)),
    };
    // the outputs are in OUT_DIR/idpviews, and the SQL is the package's
    assert_eq!(output.dir, out.path().join("idpviews"));
    let sql = std::fs::read_to_string(&output.sql_path).unwrap();
    assert_eq!(
        sql,
        std::fs::read_to_string(views.join("create-idp-views.sql")).unwrap()
    );
    let merged = std::fs::read_to_string(&output.prisma_path).unwrap();
    assert_eq!(merged, output.merged);
    let json = std::fs::read_to_string(&output.manifest_path).unwrap();
    // views.json is a complete manifest with the resolved relations
    let manifest = idpviews_build::manifest::Manifest::from_json(&json)
        .unwrap_or_else(|e| panic!("{}: views.json: {e}", case.display()));
    assert_eq!(manifest.relations, output.relations);

    // the merged file is a fixed point of the canonical renderer and parses cleanly
    let mut sources = idpviews_build::SourceMap::new();
    let id = sources.add("merged.prisma", merged.clone());
    let mut diags = idpviews_build::Diagnostics::new();
    let file = prisma::parse_file(&sources, id, &mut diags);
    assert!(
        !diags.has_errors(),
        "{}: {}",
        case.display(),
        diags.render(&sources, false)
    );
    let files = [file];
    assert_eq!(
        prisma::render(&files[0]),
        merged,
        "{}: not canonical",
        case.display()
    );

    golden.check(&case.join("expected/idp-views.prisma"), &merged);
    golden.check(&case.join("expected/views.json"), &json);

    // a second run writes nothing (mtimes stay put)
    let again = p.compile().unwrap();
    assert!(
        again.written.is_empty(),
        "{}: rewrote {:?}",
        case.display(),
        again.written
    );
    golden.finish();
}

/// The merged file next to the product's own models is accepted by
/// Prisma 7's validator (for every golden case with a product schema).
#[test]
fn merged_schemas_pass_prisma_7_validate() {
    let mut checked = 0;
    for case in cases().iter().filter(|c| c.join("product").is_dir()) {
        // (cases with a `product-dir` are validated by their own crates)
        let dir = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(case.join("product")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
        std::fs::copy(
            case.join("expected/idp-views.prisma"),
            dir.path().join("idp-views.prisma"),
        )
        .unwrap();
        if let Err(e) = idpviews_testdb::prisma::validate(dir.path()) {
            panic!(
                "{}: Prisma 7 rejects the merged schema:\n{e}",
                case.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 2);
}
