//! idpviews-core: the rules every side of idpviews shares, each with one
//! owner.
//!
//! The generator and the build-script merge (`idpviews-build`), the proc
//! macros (`idpviews-macros`) and the runtime (`idpviews`) all depend on
//! this crate, so it stays small: serde, serde_json and sha2 only. It holds
//!
//! - [`manifest`]: the views manifest types and the one format check;
//! - [`files`]: the names of the files in a views package and in the build
//!   output;
//! - [`sql`]: SQL quoting; [`ident`]: what PostgreSQL accepts as a name;
//! - [`names`]: names of the database objects the package SQL creates and
//!   the runtime checks (triggers, the tenant functions and setting, the lock);
//! - [`markers`]: the product-relation markers in `idp-views.prisma`;
//! - [`types`]: PostgreSQL type-name helpers;
//! - [`suggest`]: "did you mean" suggestions.

pub mod files;
pub mod ident;
pub mod manifest;
pub mod markers;
pub mod names;
pub mod sql;
pub mod suggest;
pub mod types;

pub use manifest::{check_format, FormatError, Manifest, ManifestError};
