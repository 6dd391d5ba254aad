//! Collected, spanned diagnostics rendered like rustc.
//!
//! Every stage pushes into a [`Diagnostics`] and keeps going; callers stop
//! before rendering output when [`Diagnostics::has_errors`] is true.

use crate::source::{FileId, SourceMap};
use std::fmt::Write as _;

/// A byte range in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// How bad a [`Diagnostic`] is (named `Level` like rustc's, so it is not
/// confused with the runtime's `idpviews::Severity` of a verify finding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
}

/// One message, optionally pointing into a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub message: String,
    pub span: Option<Span>,
    /// Text under the caret line.
    pub label: Option<String>,
    /// `= help: ...` line: how to fix it.
    pub help: Option<String>,
    /// Extra `= note: ...` lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }
}

/// The diagnostics of one run, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    fn push_new(&mut self, level: Level, span: Option<Span>, message: String) -> &mut Diagnostic {
        self.items.push(Diagnostic {
            level,
            message,
            span,
            label: None,
            help: None,
            notes: Vec::new(),
        });
        self.items.last_mut().expect("just pushed")
    }

    /// An error at `span`. Chain `.label(..)`, `.help(..)`, `.note(..)`.
    pub fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push_new(Level::Error, Some(span), message.into())
    }

    /// An error that points at no source (a missing file, a bad environment).
    pub fn error_unspanned(&mut self, message: impl Into<String>) -> &mut Diagnostic {
        self.push_new(Level::Error, None, message.into())
    }

    pub fn warning(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push_new(Level::Warning, Some(span), message.into())
    }

    pub fn warning_unspanned(&mut self, message: impl Into<String>) -> &mut Diagnostic {
        self.push_new(Level::Warning, None, message.into())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.level == Level::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.level == Level::Error)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Errors, then warnings; each group by file and position (stable, so
    /// same-position diagnostics keep the order they were found in).
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| {
            (
                d.level,
                d.span
                    .map(|s| (0u8, s.file, s.start, s.end))
                    .unwrap_or((1, FileId(0), 0, 0)),
            )
        });
    }

    /// Renders every diagnostic rustc-style, with a trailing summary line
    /// (`error: aborting due to 2 previous errors`) when there are errors.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let mut out = String::new();
        for d in &self.items {
            render_one(&mut out, d, sources, color);
            out.push('\n');
        }
        let errors = self.error_count();
        if errors > 0 {
            let (red, bold, reset) = styles(Level::Error, color);
            let plural = if errors == 1 { "" } else { "s" };
            let _ = writeln!(
                out,
                "{red}error{reset}{bold}: aborting due to {errors} previous error{plural}{reset}"
            );
        }
        out
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

fn styles(level: Level, color: bool) -> (&'static str, &'static str, &'static str) {
    if !color {
        return ("", "", "");
    }
    let c = match level {
        Level::Error => "\x1b[1;31m",
        Level::Warning => "\x1b[1;33m",
    };
    (c, "\x1b[1m", "\x1b[0m")
}

/// Renders one diagnostic (no trailing summary).
pub fn render_one(out: &mut String, d: &Diagnostic, sources: &SourceMap, color: bool) {
    let (sev, bold, reset) = styles(d.level, color);
    let blue = if color { "\x1b[1;34m" } else { "" };
    let word = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let _ = writeln!(out, "{sev}{word}{reset}{bold}: {}{reset}", d.message);
    let mut gutter = 1;
    if let Some(span) = d.span.filter(|s| (s.file.0 as usize) < sources.len()) {
        let file = sources.get(span.file);
        let (line, col) = file.line_col(span.start as usize);
        let (end_line, _) = file.line_col(span.end as usize);
        gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(
            out,
            "{pad}{blue}-->{reset} {}:{line}:{col}",
            file.path.display()
        );
        let _ = writeln!(out, "{pad} {blue}|{reset}");
        let text = file.line_text(line);
        let _ = writeln!(
            out,
            "{blue}{line:>gutter$} |{reset} {}",
            text.replace('\t', "    ")
        );
        // caret underline: from the start column to the span end (or the end
        // of the line when the span continues on later lines)
        let line_start = file.line_start(line);
        let start = file.clamp(span.start as usize);
        let end = if end_line == line {
            file.clamp(span.end as usize)
        } else {
            line_start + text.len()
        };
        let indent: usize = text[..(start - line_start).min(text.len())]
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum();
        let width = text
            .get((start - line_start).min(text.len())..(end - line_start).min(text.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0)
            .max(1);
        let label = d
            .label
            .as_deref()
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{pad} {blue}|{reset} {}{sev}{}{label}{reset}",
            " ".repeat(indent),
            "^".repeat(width)
        );
        if d.help.is_some() || !d.notes.is_empty() {
            let _ = writeln!(out, "{pad} {blue}|{reset}");
        }
    }
    let pad = " ".repeat(gutter);
    for note in &d.notes {
        let _ = writeln!(out, "{pad} {blue}={reset} {bold}note{reset}: {note}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} {blue}={reset} {bold}help{reset}: {help}");
    }
}

/// Whether stderr is a terminal and colour is not disabled (`NO_COLOR`).
pub fn stderr_wants_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
