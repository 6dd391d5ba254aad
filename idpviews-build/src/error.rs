//! The error type of the library's entry points.

use crate::diagnostics::Diagnostics;
use crate::source::SourceMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What can go wrong in a run. Source problems are [`Error::Diagnostics`]:
/// every problem found, with the files they point into, ready to render.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A required environment variable (e.g. `OUT_DIR`) is not set.
    MissingEnv(&'static str),
    /// The inputs have problems; render them with [`Error::render`].
    Diagnostics {
        diagnostics: Diagnostics,
        sources: SourceMap,
    },
    /// Committed output differs from what the inputs produce.
    Drift {
        /// One entry per stale file: path and a unified diff.
        files: Vec<(PathBuf, String)>,
        /// How to fix it (e.g. `IDPVIEWS_BLESS=1 cargo build`).
        fix: String,
    },
}

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Renders the error for a terminal or a log: diagnostics rustc-style,
    /// drift as diffs plus the fix.
    pub fn render(&self, color: bool) -> String {
        match self {
            Error::Diagnostics {
                diagnostics,
                sources,
            } => diagnostics.render(sources, color),
            Error::Drift { files, fix } => {
                let mut out = String::new();
                for (path, diff) in files {
                    out.push_str(&format!(
                        "error: `{}` is out of date\n{diff}",
                        path.display()
                    ));
                    if !diff.ends_with('\n') {
                        out.push('\n');
                    }
                }
                out.push_str(&format!("  = help: {fix}\n"));
                out
            }
            other => format!("error: {other}\n"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot access `{}`: {source}", path.display()),
            Error::MissingEnv(var) => write!(
                f,
                "environment variable `{var}` is not set (is this running from a Cargo build script?)"
            ),
            Error::Diagnostics { diagnostics, .. } => {
                write!(f, "{} error(s) in the inputs", diagnostics.error_count())
            }
            Error::Drift { files, fix } => {
                write!(f, "{} file(s) out of date; {fix}", files.len())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
