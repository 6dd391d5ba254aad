//! Fuzz target: lexer + parser + semantic analysis + renderer on arbitrary
//! bytes. Must never panic, hang or blow up.
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
    let _schema = prisma::analyze(&files, &mut diags);
    // rendering the diagnostics exercises every span
    let _ = diags.render(&sources, false);
    // the renderer must not panic either, and its output must parse
    let rendered = prisma::render(&files[0]);
    let mut again = SourceMap::new();
    let id2 = again.add("rendered.prisma", rendered);
    let mut d2 = Diagnostics::new();
    let _ = prisma::parse_file(&again, id2, &mut d2);
});
