//! Stage 1, the vendored package: read `idp-views.lock`, check its format
//! and the content hashes of `idp-views.prisma` and `create-idp-views.sql`
//! (products never edit the package), parse the Prisma file, check its
//! `@@schema`.

use crate::diagnostics::{Diagnostics, Span};
use crate::ident::is_plain_ident;
use crate::manifest::{self, MANIFEST_FILE, PRISMA_FILE, SQL_FILE};
use crate::prisma::ast::{self, BlockKind};
use crate::source::{FileId, SourceMap};
use crate::{prisma, Error};
use std::path::{Path, PathBuf};

const SUBMODULE_HELP: &str =
    "the package is usually a git submodule: run `git submodule update --init`";

/// A vendored views package, read and verified against its manifest.
#[derive(Debug, Clone)]
pub struct VendoredPackage {
    pub dir: PathBuf,
    /// What the build reads from `idp-views.lock` (the whole text is
    /// passed on to `views.json` unchanged, plus the relations).
    pub manifest: ManifestHead,
    /// `idp-views.lock` in the source map.
    pub manifest_file: FileId,
    /// `idp-views.prisma` in the source map.
    pub prisma_file: FileId,
    pub ast: ast::SchemaFile,
    /// `create-idp-views.sql`, verbatim.
    pub sql: String,
    /// The files read (for `rerun-if-changed`).
    pub files_read: Vec<PathBuf>,
}

/// The parts of the package manifest the build checks. The views are not
/// deserialized here (the merge reads the Prisma file): `views.json` is the
/// manifest text with the relations spliced in, which keeps the build
/// script fast even unoptimised.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ManifestHead {
    pub format: u32,
    pub schema: String,
    pub files: std::collections::BTreeMap<String, String>,
    /// Must be absent in a package.
    #[serde(default)]
    relations: Option<serde::de::IgnoredAny>,
}

/// Reads the package in `dir`: manifest, Prisma file and SQL; checks the
/// content hashes (products never edit the package). Problems are pushed to
/// `diags` and `Ok(None)` is returned; `Err` only for unreadable files.
pub fn load_package(
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Option<VendoredPackage>, Error> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            diags
                .error_unspanned(format!(
                    "the views package `{}` does not exist",
                    dir.display()
                ))
                .help(SUBMODULE_HELP);
            return Ok(None);
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    if empty {
        diags
            .error_unspanned(format!(
                "the views package `{}` is empty (an uninitialised git submodule?)",
                dir.display()
            ))
            .help(SUBMODULE_HELP);
        return Ok(None);
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    if !manifest_path.is_file() {
        diags
            .error_unspanned(format!(
                "`{}` is not a views package: `{MANIFEST_FILE}` is missing",
                dir.display()
            ))
            .help(format!(
                "point `views_dir` at the directory `idpviews generate` wrote; {SUBMODULE_HELP}"
            ));
        return Ok(None);
    }
    let manifest_id = sources.load(&manifest_path)?;
    let mut files_read = vec![manifest_path.clone()];
    let manifest = match serde_json::from_str::<ManifestHead>(&sources.get(manifest_id).text) {
        Ok(m) => m,
        Err(e) => {
            let file = sources.get(manifest_id);
            let offset = file.line_start(e.line()) + e.column().saturating_sub(1);
            diags
                .error(
                    Span::new(manifest_id, offset, offset + 1),
                    format!("cannot read the package manifest: {e}"),
                )
                .label("here")
                .help(format!(
                    "products never edit files in the vendored package; restore it with `git -C {} checkout -- .` or regenerate it in the IDP",
                    dir.display()
                ));
            return Ok(None);
        }
    };
    if manifest.relations.is_some() {
        diags
            .error_unspanned(format!(
                "the package manifest `{}` holds product relations",
                manifest_path.display()
            ))
            .help("a views package never holds relations: regenerate it in the IDP");
        return Ok(None);
    }
    if let Err(e) = manifest::check_format(manifest.format) {
        diags
            .error_unspanned(format!("the views package `{}`: {e}", dir.display()))
            .help("upgrade `idpviews-build` to the version the IDP generated the package with");
        return Ok(None);
    }
    // The manifest's own hash, then the files against it (one check, in
    // `manifest`, for every reader of a package).
    let full = match manifest::Manifest::from_json(&sources.get(manifest_id).text) {
        Ok(full) => full
            .check_self(&manifest_path.display().to_string())
            .map(|()| full),
        Err(e) => Err(manifest::IntegrityError {
            file: manifest_path.display().to_string(),
            problem: format!("is not a valid manifest ({e}); {}", manifest::REGENERATE),
        }),
    };
    let full = match full {
        Ok(full) => full,
        Err(e) => {
            diags.error_unspanned(e.to_string()).help(format!(
                "products never edit files in the vendored package; restore it with `git -C {} checkout -- .` or regenerate it in the IDP",
                dir.display()
            ));
            return Ok(None);
        }
    };
    let mut texts = Vec::new();
    let mut ok = true;
    for name in [PRISMA_FILE, SQL_FILE] {
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                diags
                    .error_unspanned(format!(
                        "the views package `{}` has no `{name}`",
                        dir.display()
                    ))
                    .help(format!(
                        "products never edit files in the vendored package; restore it with `git -C {} checkout -- .`",
                        dir.display()
                    ));
                ok = false;
                continue;
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        files_read.push(path.clone());
        if let Err(e) = full.check_file(name, &bytes) {
            let d = diags.error_unspanned(format!(
                "`{}` was modified: its content does not match the hash in `{MANIFEST_FILE}`",
                path.display()
            ));
            d.note(e.to_string());
            d.help(format!(
                "Products never edit files in the vendored package; put product relations in `idp-relations.conf` and restore the package with `git -C {} checkout -- .` (changes to the views belong in the IDP's `idp-views.toml`)",
                dir.display()
            ));
            ok = false;
        }
        match String::from_utf8(bytes) {
            Ok(t) => texts.push(t),
            Err(_) => {
                diags.error_unspanned(format!("`{}` is not UTF-8", path.display()));
                ok = false;
            }
        }
    }
    if !ok {
        return Ok(None);
    }
    let sql = texts.pop().unwrap_or_default();
    let prisma_text = texts.pop().unwrap_or_default();
    let prisma_file = sources.add(dir.join(PRISMA_FILE), prisma_text);
    let ast = prisma::parse_file(sources, prisma_file, diags);
    Ok(Some(VendoredPackage {
        dir: dir.to_path_buf(),
        manifest,
        manifest_file: manifest_id,
        prisma_file,
        ast,
        sql,
        files_read,
    }))
}

/// `@@schema` of the package: one valid identifier, the manifest's schema.
pub(super) fn check_package_schema(package: &VendoredPackage, diags: &mut Diagnostics) {
    let expected = &package.manifest.schema;
    for block in package.ast.blocks().filter(|b| b.kind == BlockKind::View) {
        for attr in block.attributes().filter(|a| a.path_is("schema")) {
            let Some(ast::Expr::String(lit)) = attr.arg("name") else {
                continue;
            };
            if !is_plain_ident(&lit.value) {
                diags
                    .error(lit.span, format!("the package's schema `{}` is not a valid identifier", lit.value))
                    .label("invalid schema name")
                    .help("schema names are `[A-Za-z_][A-Za-z0-9_]*` (at most 63 bytes); the IDP must fix `schema` in `idp-views.toml` and regenerate");
                return;
            } else if lit.value != *expected {
                diags
                    .error(
                        lit.span,
                        format!(
                            "the view `{}` is in schema `{}`, the manifest says `{expected}`",
                            block.name.name, lit.value
                        ),
                    )
                    .label("inconsistent schema")
                    .help("the package is inconsistent: regenerate it in the IDP");
                return;
            }
        }
    }
    if !is_plain_ident(expected) {
        diags
            .error_unspanned(format!("the package's schema `{expected}` is not a valid identifier"))
            .help("schema names are `[A-Za-z_][A-Za-z0-9_]*` (at most 63 bytes); the IDP must fix `schema` in `idp-views.toml` and regenerate");
    }
}
