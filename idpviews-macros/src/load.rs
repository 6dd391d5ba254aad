//! Finding and reading the views manifest.
//!
//! - `include_views!()`: `$OUT_DIR/idpviews/views.json` and
//!   `$OUT_DIR/idpviews/create-idp-views.sql`, written by `idpviews-build`
//!   in the crate's build script (`OUT_DIR` is set by cargo for crates with
//!   a build script).
//! - `include_views!(path = "dir")`: `dir` relative to the crate's
//!   `CARGO_MANIFEST_DIR`, else to the source file of the call (absolute
//!   paths as they are): a build output directory (`views.json`) or a
//!   vendored views package (`idp-views.lock`).
//!
//! The generated code embeds the files it read with `include_str!`, so
//! changing them re-expands the macro.

use idpviews_core::files::{MANIFEST_FILE, OUT_MANIFEST_FILE, OUT_SUBDIR, SQL_FILE};
use idpviews_core::manifest::{Manifest, ManifestError};
use proc_macro2::Span;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use syn::LitStr;

/// A manifest and where it came from.
pub(crate) struct Loaded {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) manifest_path: PathBuf,
    /// The package SQL, when present next to the manifest.
    pub(crate) sql_path: Option<PathBuf>,
}

pub(crate) fn load(path: Option<&LitStr>) -> syn::Result<Loaded> {
    let (dir, span) = match path {
        Some(lit) => {
            let rel = PathBuf::from(lit.value());
            let dir = if rel.is_absolute() {
                rel
            } else {
                resolve_relative(&rel).ok_or_else(|| {
                    syn::Error::new(
                        lit.span(),
                        format!(
                            "no directory `{}` relative to the crate root (CARGO_MANIFEST_DIR) \
                             or to this source file",
                            rel.display()
                        ),
                    )
                })?
            };
            (dir, lit.span())
        }
        None => {
            let out = std::env::var_os("OUT_DIR").ok_or_else(|| {
                syn::Error::new(
                    Span::call_site(),
                    "OUT_DIR is not set, so there are no views to include\n\
                     help: `include_views!()` reads what `idpviews-build` writes in the crate's build script: \
                     add a `build.rs` that runs it, or name a views package with `include_views!(path = \"<dir>\")`",
                )
            })?;
            (PathBuf::from(out).join(OUT_SUBDIR), Span::call_site())
        }
    };
    let manifest_path = [OUT_MANIFEST_FILE, MANIFEST_FILE]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            syn::Error::new(
                span,
                format!(
                    "no views manifest in `{}` (looked for `{OUT_MANIFEST_FILE}` and `{MANIFEST_FILE}`){}",
                    dir.display(),
                    if path.is_none() {
                        "\nhelp: does the build script run `idpviews-build`?"
                    } else {
                        ""
                    }
                ),
            )
        })?;
    let manifest = read_manifest(&manifest_path).map_err(|msg| syn::Error::new(span, msg))?;
    let sql = dir.join(SQL_FILE);
    Ok(Loaded {
        manifest,
        sql_path: sql.is_file().then_some(sql),
        manifest_path,
    })
}

/// A relative `path`: against `CARGO_MANIFEST_DIR` (like sqlx), else
/// against the directory of the source file holding the macro call (like
/// `include_str!`; this is what works for trybuild's copies of a crate).
fn resolve_relative(rel: &Path) -> Option<PathBuf> {
    if let Some(base) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let dir = PathBuf::from(base).join(rel);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    if proc_macro::is_available() {
        let file = proc_macro::Span::call_site().local_file()?;
        let dir = file.parent()?.join(rel);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    None
}

type Cache = BTreeMap<PathBuf, (std::time::SystemTime, u64, Arc<Manifest>)>;

/// Parses a manifest, once per file version within a compiler process
/// (many `#[row]` structs read the same one).
fn read_manifest(path: &Path) -> Result<Arc<Manifest>, String> {
    static CACHE: Mutex<Cache> = Mutex::new(BTreeMap::new());
    let meta = std::fs::metadata(path).ok();
    let stamp = meta
        .as_ref()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    if let Some((mtime, len)) = stamp {
        let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((t, l, m)) = cache.get(path) {
            if *t == mtime && *l == len {
                return Ok(m.clone());
            }
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let manifest = Manifest::from_json(&text).map_err(|e| match e {
        ManifestError::Format(e) => format!("`{}`: {e}", path.display()),
        ManifestError::Json(e) => {
            format!("`{}` is not a valid views manifest: {e}", path.display())
        }
    })?;
    // integrity: the embedded package is checked again at run time
    // (`Package::from_parts`, with the SQL); fail the build early instead
    manifest
        .check_self(&path.display().to_string())
        .map_err(|e| e.to_string())?;
    let manifest = Arc::new(manifest);
    if let Some((mtime, len)) = stamp {
        CACHE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_path_buf(), (mtime, len, manifest.clone()));
    }
    Ok(manifest)
}
