//! The product side of idpviews, for a product crate's `build.rs`.
//!
//! ```no_run
//! // build.rs (build-dependency: idpviews-build)
//! fn main() {
//!     idpviews_build::Product::new()
//!         .views_dir("idp-views")                          // the vendored package (git submodule)
//!         .relations("idp-relations.conf")
//!         .product_schema("prisma/schema")                 // the product's own Prisma models
//!         .committed("prisma/schema/idp-views.prisma")     // the copy Prisma CLI users commit
//!         .compile_or_exit();
//! }
//! ```
//!
//! It writes, in `$OUT_DIR/idpviews/` and only when their content changes:
//! `idp-views.prisma` (the merged views), `create-idp-views.sql` (the
//! package SQL) and `views.json` (the package manifest with the product's
//! relations resolved), which `idpviews::include_views!()` reads.
//!
//! In the product's `Cargo.toml`:
//!
//! ```toml
//! [build-dependencies]
//! # no default features: the `generate` feature is the IDP-side generator
//! idpviews-build = { version = "0.1", default-features = false }
//! ```
//!
//! Cargo reruns the build script only when an input it read changes (each
//! file, and the package and schema directories for added files) or when
//! `IDPVIEWS_BLESS` changes. Problems are rendered like rustc diagnostics
//! on stderr and the build fails (`exit(1)`, plus `cargo::error=` headlines
//! on Cargo 1.84+); a stale committed copy fails with a unified diff until
//! `IDPVIEWS_BLESS=1 cargo build` rewrites it (the only write outside
//! `OUT_DIR`). [`compile_product`] is the one-call form for the
//! conventional layout.

// the examples are build scripts: `fn main` is the point
#![allow(clippy::needless_doctest_main)]

use crate::cargo;
use crate::diagnostics::Diagnostics;
use crate::manifest::{ManifestRelation, OUT_MANIFEST_FILE, PRISMA_FILE, SQL_FILE};
use crate::merge::{self, Merged, ProductSchema};
use crate::relations_conf;
use crate::source::SourceMap;
use crate::Error;
use std::path::{Path, PathBuf};

pub use crate::drift::BLESS_ENV;

pub use crate::files::OUT_SUBDIR;

/// Longest drift diff shown, in lines.
const MAX_DIFF_LINES: usize = 60;

/// Configuration of the product-side build: the builder a `build.rs` uses.
#[derive(Clone, Debug)]
pub struct Product {
    views_dir: PathBuf,
    relations: Option<PathBuf>,
    product_schema: Option<PathBuf>,
    committed: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    cargo_metadata: bool,
    bless: Option<bool>,
}

impl Default for Product {
    fn default() -> Self {
        Self::new()
    }
}

/// What a successful [`Product::compile`] produced.
#[derive(Clone, Debug)]
pub struct Output {
    /// `$OUT_DIR/idpviews`.
    pub dir: PathBuf,
    /// The merged Prisma file in [`Output::dir`].
    pub prisma_path: PathBuf,
    /// The package SQL in [`Output::dir`].
    pub sql_path: PathBuf,
    /// `views.json` in [`Output::dir`].
    pub manifest_path: PathBuf,
    /// The merged Prisma text.
    pub merged: String,
    /// The product relations written to `views.json`.
    pub relations: Vec<ManifestRelation>,
    /// Files this run wrote (unchanged files are not rewritten).
    pub written: Vec<PathBuf>,
    /// The `cargo:` directives of this run (printed when
    /// [`Product::cargo_metadata`] is on).
    pub directives: Vec<String>,
}

impl Product {
    /// A configuration with the package in `idp-views/` and nothing else.
    pub fn new() -> Self {
        Product {
            views_dir: PathBuf::from("idp-views"),
            relations: None,
            product_schema: None,
            committed: None,
            out_dir: None,
            cargo_metadata: true,
            bless: None,
        }
    }

    /// The vendored views package (default `idp-views`).
    pub fn views_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.views_dir = dir.as_ref().to_path_buf();
        self
    }

    /// The product's `idp-relations.conf`.
    pub fn relations(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.relations = Some(path.as_ref().to_path_buf());
        self
    }

    /// The product's Prisma schema (file or directory), to check the
    /// relations against and resolve their columns.
    pub fn product_schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.product_schema = Some(path.as_ref().to_path_buf());
        self
    }

    /// A committed copy of the merged Prisma file: the build fails when it
    /// is stale; `IDPVIEWS_BLESS=1 cargo build` rewrites it.
    pub fn committed(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.committed = Some(path.as_ref().to_path_buf());
        self
    }

    /// Where to write instead of `$OUT_DIR` (the `idpviews/` subdirectory
    /// is still added).
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether to print `cargo:` directives (default: on).
    pub fn cargo_metadata(&mut self, on: bool) -> &mut Self {
        self.cargo_metadata = on;
        self
    }

    /// Rewrite the committed file instead of failing on drift (default:
    /// whether `IDPVIEWS_BLESS=1` is set, see [`crate::drift::bless_requested`]).
    pub fn bless(&mut self, on: bool) -> &mut Self {
        self.bless = Some(on);
        self
    }

    /// Runs the merge and writes the outputs.
    ///
    /// # Errors
    /// [`Error::Diagnostics`] for problems in the inputs, [`Error::Drift`]
    /// when the committed file is stale, [`Error::Io`] and
    /// [`Error::MissingEnv`] otherwise.
    pub fn compile(&self) -> Result<Output, Error> {
        let mut directives = Vec::new();
        let result = self.run(&mut directives);
        if self.cargo_metadata {
            cargo::emit(&directives);
        }
        result.map(|mut out| {
            out.directives = directives;
            out
        })
    }

    /// [`Product::compile`] for `build.rs`: on error, renders it to stderr
    /// (and `cargo::error=` where supported) and exits with status 1, so the
    /// user sees diagnostics, not a panic backtrace.
    pub fn compile_or_exit(&self) -> Output {
        match self.compile() {
            Ok(out) => out,
            Err(e) => cargo::fail(&e),
        }
    }

    fn bless_enabled(&self) -> bool {
        self.bless.unwrap_or_else(crate::drift::bless_requested)
    }

    /// Reads, checks and merges the inputs without writing anything: what
    /// `idpviews merge` uses. The committed file, when set, is left out of
    /// the product schema.
    ///
    /// # Errors
    /// [`Error::Diagnostics`] for problems in the inputs, [`Error::Io`].
    pub fn merge(&self) -> Result<(Merged, String), Error> {
        self.merge_inputs(&mut Vec::new())
    }

    /// The merge plus the package SQL; records `rerun-if-changed` inputs.
    fn merge_inputs(&self, directives: &mut Vec<String>) -> Result<(Merged, String), Error> {
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();

        // a missing path is never watched: Cargo would rerun forever
        if self.views_dir.is_dir() {
            cargo::rerun_if_changed(directives, &self.views_dir);
        }
        let package = merge::load_package(&self.views_dir, &mut sources, &mut diags)?;
        if let Some(p) = &package {
            for f in &p.files_read {
                cargo::rerun_if_changed(directives, f);
            }
        }

        let mut relations = Vec::new();
        let mut relations_file = None;
        if let Some(path) = &self.relations {
            if path.is_file() {
                cargo::rerun_if_changed(directives, path);
                let id = sources.load(path)?;
                relations_file = Some(id);
                relations = relations_conf::parse(&sources, id, &mut diags);
            } else {
                diags
                    .error_unspanned(format!(
                        "the relations file `{}` does not exist",
                        path.display()
                    ))
                    .help("create it: one `View:field Model[]` per line (an empty file is fine)");
            }
        }

        let mut product = None::<ProductSchema>;
        if let Some(path) = &self.product_schema {
            if path.exists() {
                let schema = merge::load_product_schema(
                    path,
                    self.committed.as_deref(),
                    &mut sources,
                    &mut diags,
                )?;
                for d in &schema.dirs {
                    cargo::rerun_if_changed(directives, d);
                }
                for f in &schema.paths {
                    cargo::rerun_if_changed(directives, f);
                }
                if schema.files.is_empty() {
                    diags
                        .error_unspanned(format!(
                            "the product schema `{}` holds no `.prisma` file",
                            path.display()
                        ))
                        .help("point `product_schema` at the product's Prisma schema directory");
                }
                product = Some(schema);
            } else {
                diags
                    .error_unspanned(format!(
                        "the product schema `{}` does not exist",
                        path.display()
                    ))
                    .help(
                        "point `product_schema` at the product's Prisma schema (file or directory)",
                    );
            }
        }
        if let Some(c) = &self.committed {
            if c.is_file() {
                cargo::rerun_if_changed(directives, c);
            }
        }

        let Some(package) = package.filter(|_| !diags.has_errors()) else {
            return Err(Error::Diagnostics {
                diagnostics: sorted(diags),
                sources,
            });
        };
        let merged = merge::merge(
            &package,
            &relations,
            relations_file,
            product.as_ref(),
            &sources,
            &mut diags,
        );
        let merged = match merged {
            Some(m) if !diags.has_errors() => m,
            _ => {
                return Err(Error::Diagnostics {
                    diagnostics: sorted(diags),
                    sources,
                })
            }
        };
        for w in diags.iter() {
            let mut text = String::new();
            crate::diagnostics::render_one(&mut text, w, &sources, false);
            cargo::warning(directives, &text);
        }
        if self.product_schema.is_none() && !relations.is_empty() {
            cargo::warning(
                directives,
                "idpviews: the relations were merged unchecked and are not in views.json (no `product_schema`): set `.product_schema(...)` to check them and enable the orphan audit",
            );
        }
        Ok((merged, package.sql))
    }

    fn run(&self, directives: &mut Vec<String>) -> Result<Output, Error> {
        cargo::rerun_if_env_changed(directives, BLESS_ENV);
        let out_root = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::MissingEnv("OUT_DIR"))?,
        };
        let (merged, sql) = self.merge_inputs(directives)?;

        let dir = out_root.join(OUT_SUBDIR);
        let prisma_path = dir.join(PRISMA_FILE);
        let sql_path = dir.join(SQL_FILE);
        let manifest_path = dir.join(OUT_MANIFEST_FILE);
        let mut written = crate::fs::write_files_if_changed(&[
            (&prisma_path, merged.prisma.as_bytes()),
            (&sql_path, sql.as_bytes()),
            (&manifest_path, merged.views_json.as_bytes()),
        ])?;

        if let Some(committed) = &self.committed {
            let name = committed.display().to_string();
            let stale = crate::drift::stale_file(
                committed,
                &merged.prisma,
                &name,
                &format!("{name} (merged)"),
            )?;
            if let Some((path, diff)) = stale {
                if self.bless_enabled() {
                    written.extend(crate::fs::write_files_if_changed(&[(
                        committed,
                        merged.prisma.as_bytes(),
                    )])?);
                    cargo::warning(
                        directives,
                        &format!("idpviews: rewrote `{name}` ({BLESS_ENV}=1 is set); commit it"),
                    );
                } else {
                    return Err(Error::Drift {
                        files: vec![(path, shorten(&diff))],
                        fix: format!(
                            "run `{BLESS_ENV}=1 cargo build` to rewrite `{name}`, then commit it"
                        ),
                    });
                }
            }
        }

        Ok(Output {
            dir,
            prisma_path,
            sql_path,
            manifest_path,
            merged: merged.prisma,
            relations: merged.relations,
            written,
            directives: Vec::new(),
        })
    }
}

fn sorted(mut diags: Diagnostics) -> Diagnostics {
    diags.sort();
    diags
}

/// At most [`MAX_DIFF_LINES`] lines of a diff.
fn shorten(diff: &str) -> String {
    let total = diff.lines().count();
    if total <= MAX_DIFF_LINES {
        return diff.to_string();
    }
    let mut out: String = diff
        .lines()
        .take(MAX_DIFF_LINES)
        .flat_map(|l| [l, "\n"])
        .collect();
    out.push_str(&format!("... ({} more lines)\n", total - MAX_DIFF_LINES));
    out
}

/// The one-call shortcut for the conventional layout, for `build.rs`:
/// the package in `idp-views/`, relations in `idp-relations.conf`, the
/// product's Prisma schema in `prisma/schema` (when it exists) and the
/// committed merged copy `prisma/schema/idp-views.prisma` (when it exists).
/// Exits with rendered diagnostics on error.
///
/// ```no_run
/// // build.rs
/// fn main() {
///     idpviews_build::compile_product();
/// }
/// ```
pub fn compile_product() -> Output {
    let mut p = Product::new();
    p.views_dir("idp-views").relations("idp-relations.conf");
    let schema = Path::new("prisma/schema");
    if schema.exists() {
        p.product_schema(schema);
        let committed = schema.join(PRISMA_FILE);
        if committed.is_file() {
            p.committed(committed);
        }
    }
    p.compile_or_exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_out_dir_it_is_a_missing_env_error_not_a_panic() {
        if std::env::var_os("OUT_DIR").is_some() {
            return; // running under a build script environment
        }
        let err = Product::new().cargo_metadata(false).compile().unwrap_err();
        assert!(matches!(err, Error::MissingEnv("OUT_DIR")), "{err}");
    }

    #[test]
    fn shorten_keeps_short_diffs_and_cuts_long_ones() {
        assert_eq!(shorten("a\nb\n"), "a\nb\n");
        let long: String = (0..100).map(|i| format!("{i}\n")).collect();
        let s = shorten(&long);
        assert_eq!(s.lines().count(), MAX_DIFF_LINES + 1);
        assert!(s.ends_with("... (40 more lines)\n"));
    }
}
