//! Quoting for the SQL that idpviews writes: one implementation for the
//! generator, the runtime, the proc macros and products' own SQL.

/// `"name"`, inner double quotes doubled: a PostgreSQL identifier taken
/// literally (case kept). Callers validate the name first where it comes
/// from input (non-empty, at most 63 bytes, no NUL).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with single quotes doubled (`E'...'` when it holds a
/// backslash, so the text means the same whatever
/// `standard_conforming_strings` says).
pub fn quote_literal(text: &str) -> String {
    if text.contains('\\') {
        format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(quote_ident("IdpUser"), r#""IdpUser""#);
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b'"), r"E'a\\b'''");
    }
}
