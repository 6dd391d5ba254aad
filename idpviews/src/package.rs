//! A views package as a service sees it: the manifest it was compiled
//! against and the SQL that creates the views.

use crate::manifest::{Manifest, MANIFEST_FILE, OUT_MANIFEST_FILE, SQL_FILE};
use std::borrow::Cow;
use std::path::Path;

/// The views package: what [`crate::apply()`], [`crate::verify()`],
/// [`crate::grants`] and [`crate::audit()`] work from.
///
/// Generated code gets one from `include_views!()` (`views::package()`),
/// built from the files the build script wrote into `OUT_DIR`; the CLI
/// reads one from a package directory.
#[derive(Debug, Clone)]
pub struct Package {
    pub manifest: Manifest,
    pub sql: Cow<'static, str>,
}

/// Reading a package failed.
#[derive(Debug)]
pub struct PackageError(pub String);

impl std::fmt::Display for PackageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackageError {}

impl Package {
    /// From the manifest JSON and the SQL text, e.g. embedded with
    /// `include_str!` by generated code.
    pub fn from_parts(
        manifest_json: &str,
        sql: impl Into<Cow<'static, str>>,
    ) -> Result<Package, PackageError> {
        let manifest = Manifest::from_json(manifest_json)
            .map_err(|e| PackageError(format!("the views manifest is not valid: {e}")))?;
        Ok(Package {
            manifest,
            sql: sql.into(),
        })
    }

    /// From a directory: a vendored package (`idp-views.lock` +
    /// `create-idp-views.sql`) or a build script's `$OUT_DIR/idpviews/`
    /// (`views.json` + `create-idp-views.sql`, relations included).
    pub fn from_dir(dir: &Path) -> Result<Package, PackageError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| {
                PackageError(format!("cannot read `{}`: {e}", dir.join(name).display()))
            })
        };
        let manifest_name = if dir.join(OUT_MANIFEST_FILE).is_file() {
            OUT_MANIFEST_FILE
        } else {
            MANIFEST_FILE
        };
        let json = read(manifest_name)?;
        let sql = read(SQL_FILE)?;
        Package::from_parts(&json, sql)
            .map_err(|e| PackageError(format!("{}: {}", dir.join(manifest_name).display(), e.0)))
    }
}
