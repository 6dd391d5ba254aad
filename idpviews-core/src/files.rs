//! File names: the views package an IDP generates and the build output a
//! product's build script writes.

/// File name of the manifest inside a views package.
pub const MANIFEST_FILE: &str = "idp-views.lock";
/// File name of the Prisma views inside a views package.
pub const PRISMA_FILE: &str = "idp-views.prisma";
/// File name of the SQL inside a views package.
pub const SQL_FILE: &str = "create-idp-views.sql";
/// File name of the manifest (with product relations) in `$OUT_DIR/idpviews/`.
pub const OUT_MANIFEST_FILE: &str = "views.json";
/// Subdirectory of `$OUT_DIR` the build script writes and `include_views!()` reads.
pub const OUT_SUBDIR: &str = "idpviews";
