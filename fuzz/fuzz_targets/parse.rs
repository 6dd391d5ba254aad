//! Fuzz target: lexer + parser + semantic analysis + renderer on arbitrary
//! bytes. Must never panic, hang or blow up; and for inputs without
//! errors, the canonical rendering must parse to the same model and be a
//! fixed point of the renderer.
//!
//! Run: `cargo +nightly fuzz run parse fuzz/corpus/parse` (seeds: the
//! Prisma conformance corpus, see fuzz/README.md).
#![no_main]

use idpviews_build::prisma;
use idpviews_build::{Diagnostics, SourceMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = SourceMap::new();
    let id = sources.add("fuzz.prisma", text.into_owned());
    let mut diags = Diagnostics::new();
    let file = prisma::parse_file(&sources, id, &mut diags);
    let files = [file];
    let schema = prisma::analyze(&files, &mut diags);
    // rendering the diagnostics exercises every span
    let _ = diags.render(&sources, false);
    // the renderer must not panic on any tree
    let rendered = prisma::render(&files[0]);
    let mut again = SourceMap::new();
    let id2 = again.add("rendered.prisma", rendered.clone());
    let mut d2 = Diagnostics::new();
    let file2 = prisma::parse_file(&again, id2, &mut d2);
    let files2 = [file2];
    let schema2 = prisma::analyze(&files2, &mut d2);
    if !diags.has_errors() {
        assert!(
            !d2.has_errors(),
            "the rendering of a valid schema does not parse:\n{}\n{rendered}",
            d2.render(&again, false)
        );
        assert_eq!(
            schema.without_spans(),
            schema2.without_spans(),
            "the rendering is a different model:\n{rendered}"
        );
        assert_eq!(
            rendered,
            prisma::render(&files2[0]),
            "render is not idempotent"
        );
    }
});
