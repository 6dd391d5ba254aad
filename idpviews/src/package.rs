//! A views package as a service sees it: the manifest it was compiled
//! against and the SQL that creates the views.

use crate::manifest::{Manifest, MANIFEST_FILE, OUT_MANIFEST_FILE, PRISMA_FILE, SQL_FILE};
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
    /// `include_str!` by generated code. Checks integrity: the manifest
    /// against its own hash and the SQL against the manifest's hash of it
    /// ([`Manifest::check_files`]); a mismatch is an error naming the file.
    pub fn from_parts(
        manifest_json: &str,
        sql: impl Into<Cow<'static, str>>,
    ) -> Result<Package, PackageError> {
        Package::from_named_parts(MANIFEST_FILE, manifest_json, sql.into(), &[])
    }

    fn from_named_parts(
        manifest_name: &str,
        manifest_json: &str,
        sql: Cow<'static, str>,
        other_files: &[(&str, &[u8])],
    ) -> Result<Package, PackageError> {
        let manifest = Manifest::from_json(manifest_json).map_err(|e| {
            // a newer format may have fields this version does not know
            let format = serde_json::from_str::<serde_json::Value>(manifest_json)
                .ok()
                .and_then(|v| v.get("format")?.as_u64());
            match format {
                Some(f) if f > u64::from(crate::manifest::MANIFEST_FORMAT) => {
                    PackageError(format!(
                        "the views manifest has format {f}, this idpviews reads formats up to {}: \
                     upgrade idpviews",
                        crate::manifest::MANIFEST_FORMAT
                    ))
                }
                _ => PackageError(format!("the views manifest is not valid: {e}")),
            }
        })?;
        let mut files = vec![(SQL_FILE, sql.as_bytes())];
        files.extend_from_slice(other_files);
        manifest
            .check_files(manifest_name, &files)
            .map_err(|e| PackageError(e.to_string()))?;
        Ok(Package { manifest, sql })
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
        // A vendored package's Prisma file is covered too (the build
        // script's merged copy carries product relations: not the package's).
        let prisma = if manifest_name == MANIFEST_FILE {
            Some(read(PRISMA_FILE)?)
        } else {
            None
        };
        let others: Vec<(&str, &[u8])> =
            prisma.iter().map(|p| (PRISMA_FILE, p.as_bytes())).collect();
        Package::from_named_parts(manifest_name, &json, sql.into(), &others)
            .map_err(|e| PackageError(format!("{}: {}", dir.display(), e.0)))
    }
}
