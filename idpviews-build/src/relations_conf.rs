//! `idp-relations.conf`: the product's relations to the IDP views.
//!
//! The format is the PoC's (`add-relations.sh`), so existing products move
//! over unchanged. One relation per line:
//!
//! ```text
//! # comments start with `#`; blank lines are ignored; an empty file is fine
//! IdpUser:drivers Driver[]        # one-to-many: a user has many drivers
//! IdpUser:profile Profile?        # one-to-one: Profile.idpUserId is @unique
//! IdpUser:approvedOrders Order[] @relation("approver")   # named relation
//! ```
//!
//! `View:field Type` injects `field Type` into the view `View` between its
//! `// PRODUCT_RELATIONS_START` / `// PRODUCT_RELATIONS_END` markers. `Type`
//! is a product model, as a list (`Model[]`) or optional (`Model?`). An
//! optional `@relation("Name")` names the relation when a model has more than
//! one relation to the same view (the model's field then carries the same
//! name).

use crate::diagnostics::{Diagnostics, Span};
use crate::prisma::ast::{Arity, Ident};
use crate::source::{FileId, SourceMap};

/// One line of `idp-relations.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationLine {
    /// The view, e.g. `IdpUser`.
    pub view: Ident,
    /// The relation field injected into the view, e.g. `drivers`.
    pub field: Ident,
    /// The product model, e.g. `Driver`.
    pub target: Ident,
    /// `Driver[]` (list), `Driver?` (optional) or `Driver` (required; rejected by the merge).
    pub arity: Arity,
    /// The type as written, `Driver[]`.
    pub type_span: Span,
    /// `@relation("Name")`.
    pub relation_name: Option<(String, Span)>,
    /// The whole line (without its comment).
    pub span: Span,
}

const FORMAT_HELP: &str =
    "each line reads `View:field Model[]` or `View:field Model?`, e.g. `IdpUser:drivers Driver[]`";

/// Parses a relations file already added to `sources`. Malformed lines are
/// reported to `diags` (and skipped); never panics.
pub fn parse(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Vec<RelationLine> {
    let text = &sources.get(file).text;
    let mut out = Vec::new();
    // a UTF-8 byte order mark (some Windows editors write one) is not a line
    let mut offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for raw in text[offset..].split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let code = strip_comment(line);
        if code.trim().is_empty() {
            continue;
        }
        if let Some(rel) = parse_line(code, file, line_start, diags) {
            out.push(rel);
        }
    }
    out
}

/// The line without a `#` comment (a `#` inside a string is data).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
    file: FileId,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }
    /// An identifier `[A-Za-z_][A-Za-z0-9_]*` at the cursor, if any.
    fn ident(&mut self) -> Option<Ident> {
        let rest = &self.text[self.pos..];
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return None,
        }
        let len = chars
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let start = self.pos;
        self.pos += len;
        Some(Ident {
            name: rest[..len].into(),
            span: self.span(start, self.pos),
        })
    }
    /// The span of the next token (up to whitespace) for error reporting.
    fn token_span(&self) -> Span {
        let rest = &self.text[self.pos..];
        let len = rest
            .find([' ', '\t'])
            .unwrap_or(rest.len())
            .max(rest.chars().next().map_or(0, char::len_utf8));
        self.span(self.pos, self.pos + len)
    }
    fn eat(&mut self, s: &str) -> bool {
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }
}

fn malformed(diags: &mut Diagnostics, span: Span, message: &str, label: &str) {
    diags
        .error(span, format!("malformed relation line: {message}"))
        .label(label)
        .help(FORMAT_HELP);
}

fn parse_line(
    code: &str,
    file: FileId,
    base: usize,
    diags: &mut Diagnostics,
) -> Option<RelationLine> {
    let mut c = Cursor {
        text: code,
        pos: 0,
        base,
        file,
    };
    c.skip_ws();
    let line_span = c.span(c.pos, code.trim_end().len());
    let Some(view) = c.ident() else {
        malformed(
            diags,
            c.token_span(),
            "expected a view name",
            "expected a view name here",
        );
        return None;
    };
    c.skip_ws();
    if !c.eat(":") {
        let (msg, label) = if c.at_end() {
            (
                "expected `:` and a relation field after the view name",
                "expected `:field Type` after this",
            )
        } else {
            (
                "expected `:` between the view name and the relation field",
                "expected `:` here",
            )
        };
        let span = if c.at_end() {
            view.span
        } else {
            c.token_span()
        };
        malformed(diags, span, msg, label);
        return None;
    }
    c.skip_ws();
    let Some(field) = c.ident() else {
        malformed(
            diags,
            c.token_span(),
            "expected a relation field name after `:`",
            "expected a field name here",
        );
        return None;
    };
    let before_type = c.pos;
    c.skip_ws();
    if c.at_end() {
        malformed(
            diags,
            field.span,
            "expected the product model after the field name",
            "expected `Model[]` or `Model?` after this",
        );
        return None;
    }
    if c.pos == before_type {
        malformed(
            diags,
            c.token_span(),
            "expected a space between the field name and the model",
            "unexpected character",
        );
        return None;
    }
    let Some(target) = c.ident() else {
        malformed(
            diags,
            c.token_span(),
            "expected a product model name",
            "expected a model name here",
        );
        return None;
    };
    let type_start = target.span.start as usize - base;
    let arity = if c.eat("[]") {
        Arity::List
    } else if c.eat("?") {
        Arity::Optional
    } else {
        Arity::Required
    };
    let type_span = c.span(type_start, c.pos);
    c.skip_ws();
    let mut relation_name = None;
    if c.eat("@relation") {
        match parse_relation_name(&mut c) {
            Some(name) => relation_name = Some(name),
            None => {
                malformed(
                    diags,
                    c.token_span(),
                    "expected `@relation(\"Name\")`",
                    "expected `(\"Name\")` here",
                );
                return None;
            }
        }
        c.skip_ws();
    }
    if !c.at_end() {
        let rest_span = c.span(c.pos, code.trim_end().len());
        malformed(
            diags,
            rest_span,
            "unexpected text after the model",
            "only `[]`, `?` and an optional `@relation(\"Name\")` may follow the model",
        );
        return None;
    }
    Some(RelationLine {
        view,
        field,
        target,
        arity,
        type_span,
        relation_name,
        span: line_span,
    })
}

/// `("Name")` or `(name: "Name")` after `@relation`.
fn parse_relation_name(c: &mut Cursor<'_>) -> Option<(String, Span)> {
    c.skip_ws();
    if !c.eat("(") {
        return None;
    }
    c.skip_ws();
    if c.eat("name") {
        c.skip_ws();
        if !c.eat(":") {
            return None;
        }
        c.skip_ws();
    }
    let start = c.pos;
    if !c.eat("\"") {
        return None;
    }
    let rest = &c.text[c.pos..];
    let end = rest.find('"')?;
    let name = rest[..end].to_string();
    if name.is_empty() || name.contains('\\') {
        return None;
    }
    c.pos += end + 1;
    let span = c.span(start, c.pos);
    c.skip_ws();
    if !c.eat(")") {
        return None;
    }
    Some((name, span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<RelationLine>, String) {
        let mut sources = SourceMap::new();
        let id = sources.add("idp-relations.conf", text);
        let mut diags = Diagnostics::new();
        let rels = parse(&sources, id, &mut diags);
        (rels, diags.render(&sources, false))
    }

    #[test]
    fn parses_the_poc_format() {
        let (rels, errs) = run(
            "# relations\n\nIdpUser:drivers Driver[]\n  IdpUser : profile Profile? # 1:1\r\nIdpRole:orders Order[] @relation(\"r\")\n",
        );
        assert_eq!(errs, "");
        assert_eq!(rels.len(), 3);
        assert_eq!(rels[0].view.name, "IdpUser");
        assert_eq!(rels[0].field.name, "drivers");
        assert_eq!(rels[0].target.name, "Driver");
        assert_eq!(rels[0].arity, Arity::List);
        assert_eq!(rels[1].arity, Arity::Optional);
        assert_eq!(rels[1].field.name, "profile");
        assert_eq!(rels[2].relation_name.as_ref().unwrap().0, "r");
        let text = "# relations\n\nIdpUser:drivers Driver[]\n";
        assert_eq!(&text[rels[0].type_span.range()], "Driver[]");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let (rels, errs) = run("\u{feff}IdpUser:drivers Driver[]\n");
        assert_eq!(errs, "");
        assert_eq!(rels[0].view.name, "IdpUser");
    }

    #[test]
    fn empty_files_are_fine() {
        assert!(run("").0.is_empty());
        assert!(run("\n# nothing\n   \n").0.is_empty());
    }

    #[test]
    fn malformed_lines_are_reported_with_positions() {
        let (rels, errs) =
            run("IdpUser drivers Driver[]\nIdpUser:drivers\nIdpUser:x Driver[] extra\n:a B[]\n");
        assert!(rels.is_empty());
        assert_eq!(
            errs.matches("error: malformed relation line").count(),
            4,
            "{errs}"
        );
        assert!(errs.contains("idp-relations.conf:1:9"), "{errs}");
        assert!(errs.contains("idp-relations.conf:2:9"), "{errs}");
        assert!(errs.contains("idp-relations.conf:3:20"), "{errs}");
        assert!(errs.contains("idp-relations.conf:4:1"), "{errs}");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "é:é é",
            "A:b ü[]",
            "A:b C@relation(\"",
            "A:b C @relation(name: \"x\")",
            "\u{feff}A:b C[]",
            "A:b C[",
            "#\"\n",
        ] {
            let _ = run(text);
        }
    }
}
