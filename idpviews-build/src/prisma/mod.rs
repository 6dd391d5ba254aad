//! The Prisma schema language: lexer, parser, semantic analysis and a
//! canonical renderer.
//!
//! ```
//! use idpviews_build::prisma;
//! use idpviews_build::{Diagnostics, SourceMap};
//!
//! let mut sources = SourceMap::new();
//! let file = sources.add("schema.prisma", "model User {\n  id String @id\n}\n");
//! let mut diags = Diagnostics::new();
//! let ast = prisma::parse_file(&sources, file, &mut diags);
//! let schema = prisma::analyze(&[ast], &mut diags);
//! assert!(!diags.has_errors());
//! assert_eq!(schema.model("User").unwrap().id, ["id"]);
//! ```

mod analyze;
pub mod ast;
mod checks;
mod conformance;
mod lexer;
pub mod model;
mod name;
mod parser;
mod relations;
mod render;

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, SourceMap};
use crate::Error;
use std::path::{Path, PathBuf};

pub use conformance::{require_postgresql, PREVIEW_FEATURES};
pub use render::render;

/// Parses one file of `sources`. Never fails and never panics: problems
/// are pushed to `diags` and the tree holds what could be read.
pub fn parse_file(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> ast::SchemaFile {
    parser::parse(&sources.get(file).text, file, diags)
}

/// Loads a schema: a single `.prisma` file, or a directory read
/// recursively (every `*.prisma`, sorted by path so the order is
/// deterministic). Each file is added to `sources` and parsed; syntax
/// problems go to `diags`. Fails only when files cannot be read (or a
/// directory holds no `.prisma` file).
pub fn load(
    path: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Vec<ast::SchemaFile>, Error> {
    let loaded = load_excluding(path, None, sources, diags)?;
    if loaded.files.is_empty() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the directory holds no .prisma file",
            ),
        ));
    }
    Ok(loaded.files)
}

/// A schema read by [`load_excluding`]: the parsed files and where they
/// came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub files: Vec<ast::SchemaFile>,
    /// The files read, in order.
    pub paths: Vec<PathBuf>,
    /// The directories walked (a build script watches them for new files).
    pub dirs: Vec<PathBuf>,
}

/// [`load`], skipping the file `exclude` (e.g. a merged file that would
/// define the views twice) and returning the paths read and directories
/// walked; a directory with no `.prisma` file gives no files, not an error.
pub fn load_excluding(
    path: &Path,
    exclude: Option<&Path>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Loaded, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mut loaded = Loaded::default();
    let mut paths = Vec::new();
    if meta.is_dir() {
        collect_prisma_files(path, &mut paths, &mut loaded.dirs)?;
        paths.sort();
        loaded.dirs.sort();
    } else {
        paths.push(path.to_path_buf());
    }
    let excluded = exclude.and_then(|e| std::fs::canonicalize(e).ok());
    for p in paths {
        if excluded.is_some() && std::fs::canonicalize(&p).ok() == excluded {
            continue;
        }
        let id = sources.load(&p)?;
        loaded.files.push(parse_file(sources, id, diags));
        loaded.paths.push(p);
    }
    Ok(loaded)
}

/// The one directory walker: `*.prisma` files under `dir`, and the
/// directories walked.
fn collect_prisma_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    dirs: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    dirs.push(dir.to_path_buf());
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ty.is_dir() {
            collect_prisma_files(&path, out, dirs)?;
        } else if path.extension().is_some_and(|e| e == "prisma") {
            out.push(path);
        }
    }
    Ok(())
}

/// Semantic analysis of all files as one schema: names resolve across
/// files. Problems (duplicates, unknown types, bad relations) go to `diags`.
///
/// The passes run in this order, from here only (no pass calls another):
/// 1. `analyze::resolve`: names, types, attributes -> the model;
/// 2. `relations::check`: relation fields over the whole model;
/// 3. `checks::run`: the remaining rules (`@@id`/`@@unique`, native types,
///    datasource schemas, ...);
/// 4. `conformance::run`: what Prisma 7 rejects and would change our output
///    (preview features, the Prisma 6 `url` note, ...).
pub fn analyze(files: &[ast::SchemaFile], diags: &mut Diagnostics) -> model::Schema {
    let schema = analyze::resolve(files, diags);
    relations::check(&schema, diags);
    checks::run(files, &schema, diags);
    conformance::run(files, diags);
    schema
}

/// Convenience: parse and analyze one in-memory text (tests, tools).
pub fn parse_str(
    path: &str,
    text: &str,
) -> (SourceMap, Vec<ast::SchemaFile>, model::Schema, Diagnostics) {
    let mut sources = SourceMap::new();
    let id = sources.add(path, text);
    let mut diags = Diagnostics::new();
    let files = vec![parse_file(&sources, id, &mut diags)];
    let schema = analyze(&files, &mut diags);
    (sources, files, schema, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_reads_a_directory_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.prisma"), "model B {\n  aId Int\n  a A @relation(fields: [aId], references: [id])\n  id Int @id\n}\n").unwrap();
        std::fs::write(
            dir.path().join("sub/a.prisma"),
            "model A {\n  id Int @id\n  b B[]\n}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let files = load(dir.path(), &mut sources, &mut diags).unwrap();
        assert_eq!(files.len(), 2);
        assert!(sources.get(files[0].file).path.ends_with("b.prisma"));
        let schema = analyze(&files, &mut diags);
        assert!(!diags.has_errors(), "{}", diags.render(&sources, false));
        assert_eq!(schema.models.len(), 2);
    }

    /// The whole pipeline (parse, analyze, render, diagnostics) on inputs
    /// built to find stack overflows and quadratic behaviour.
    #[test]
    fn adversarial_inputs_stay_linear() {
        let inputs = [
            "{".repeat(10 * 1024 * 1024),
            format!(
                "model A {{\n  x Int @default({})\n}}\n",
                "[".repeat(100_000)
            ),
            format!(
                "model A {{\n  x Int @default({})\n}}\n",
                "f(".repeat(100_000)
            ),
            format!("model A {{\n{}}}\n", "  x Int @@@@\n".repeat(50_000)),
            "/*".repeat(500_000),
            "\"".repeat(1_000_000),
            format!(
                "model A {{\n  id Int @id\n{}}}\n",
                "  f Unknown\n".repeat(20_000)
            ),
        ];
        for text in &inputs {
            let start = std::time::Instant::now();
            let (sources, files, _, diags) = parse_str("adversarial.prisma", text);
            let _ = render(&files[0]);
            let _ = diags.render(&sources, false);
            assert!(diags.has_errors());
            // generous for a debug build on a busy machine; quadratic
            // behaviour would take minutes
            let took = start.elapsed();
            assert!(
                took < std::time::Duration::from_secs(20),
                "{took:?} for {}...",
                &text[..20]
            );
        }
    }

    #[test]
    fn load_reports_missing_paths_and_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        assert!(load(&dir.path().join("nope"), &mut sources, &mut diags).is_err());
        assert!(load(dir.path(), &mut sources, &mut diags).is_err());
    }
}
