//! idpviews-build: the library behind idpviews.
//!
//! - a Prisma schema parser with spanned, collected diagnostics ([`prisma`]);
//! - the IDP-side allowlist generator that emits the shared views package
//!   ([`generate`], feature `generate`, on by default; products turn it off);
//! - the product-side relations merge for `build.rs` ([`merge`],
//!   [`Product`]);
//! - renderers for Prisma and SQL, the one write path ([`fs`]) and the one
//!   drift/bless path ([`drift`]).
//!
//! What every side shares (manifest, file names, SQL quoting, identifier
//! rules, markers, object names) is owned by `idpviews-core` and re-exported
//! here under the same paths.

#[cfg(feature = "generate")]
mod allowlist;
mod cargo;
pub mod diagnostics;
pub mod drift;
pub mod error;
pub mod fs;
#[cfg(feature = "generate")]
pub mod generate;
pub mod merge;
pub mod prisma;
mod product;
pub mod relations_conf;
pub mod source;

// The shared rules live in `idpviews-core`; their paths here keep working.
pub use idpviews_core::{files, ident, manifest, markers, names, sql, suggest, types};

pub use diagnostics::{Diagnostic, Diagnostics, Level, Span};
pub use error::Error;
pub use product::{compile_product, Output, Product, BLESS_ENV, OUT_SUBDIR};
pub use source::{FileId, SourceFile, SourceMap};
