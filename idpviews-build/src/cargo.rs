//! Talking to Cargo from a build script: `rerun-if-*` directives, warnings
//! and errors.
//!
//! Errors are always rendered in full to stderr followed by `exit(1)` (Cargo
//! shows a failed build script's stderr verbatim, snippets included). When
//! the running Cargo understands `cargo::error=` (1.84+), one summary line
//! per error is emitted too, so the headline appears at the top of Cargo's
//! output; older Cargos would reject the unknown directive, so it is not
//! emitted there.

use crate::diagnostics::Level;
use crate::Error;
use std::io::Write as _;
use std::path::Path;

/// `cargo:rerun-if-changed=PATH` (single-colon syntax: understood by every Cargo).
pub(crate) fn rerun_if_changed(out: &mut Vec<String>, path: &Path) {
    out.push(format!("cargo:rerun-if-changed={}", path.display()));
}

/// `cargo:rerun-if-env-changed=VAR`.
pub(crate) fn rerun_if_env_changed(out: &mut Vec<String>, var: &str) {
    out.push(format!("cargo:rerun-if-env-changed={var}"));
}

/// `cargo:warning=MSG`, one directive per line of `msg`.
pub(crate) fn warning(out: &mut Vec<String>, msg: &str) {
    for line in msg.lines() {
        out.push(format!("cargo:warning={line}"));
    }
}

/// Prints directives to stdout, where Cargo reads them.
pub(crate) fn emit(directives: &[String]) {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    for d in directives {
        let _ = writeln!(lock, "{d}");
    }
    let _ = lock.flush();
}

/// Whether the Cargo running this build script supports `cargo::error=`
/// (stable since Cargo 1.84). Only called on the error path: it runs
/// `$CARGO --version`.
fn cargo_supports_error() -> bool {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return false;
    };
    let Ok(out) = std::process::Command::new(cargo).arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // "cargo 1.95.0 (f2d3ce0bd 2026-03-21)"
    let mut parts = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    major > 1 || (major == 1 && minor >= 84)
}

/// One-line headlines of an error, for `cargo::error=`.
fn headlines(err: &Error) -> Vec<String> {
    match err {
        Error::Diagnostics {
            diagnostics,
            sources,
        } => diagnostics
            .iter()
            .filter(|d| d.level == Level::Error)
            .map(
                |d| match d.span.filter(|s| (s.file.0 as usize) < sources.len()) {
                    Some(span) => {
                        let file = sources.get(span.file);
                        let (line, col) = file.line_col(span.start as usize);
                        format!("{} ({}:{line}:{col})", d.message, file.path.display())
                    }
                    None => d.message.clone(),
                },
            )
            .collect(),
        other => vec![other.to_string()],
    }
}

/// Reports `err` the way a build script should (no panic, no backtrace):
/// the full rendering to stderr, `cargo::error=` headlines where supported,
/// then `exit(1)`.
pub(crate) fn fail(err: &Error) -> ! {
    let rendered = err.render(false);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{rendered}");
    let _ = stderr.flush();
    if cargo_supports_error() {
        let lines: Vec<String> = headlines(err)
            .into_iter()
            .map(|h| format!("cargo::error=idpviews: {}", h.replace(['\n', '\r'], " ")))
            .collect();
        emit(&lines);
    }
    std::process::exit(1)
}
