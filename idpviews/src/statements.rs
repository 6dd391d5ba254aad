//! Splitting SQL text into statements, and finding which view a package
//! statement belongs to: what lets `apply` run only the statements of the
//! views that change, and `wrap-migration` re-create single views.

/// One statement: its text from its first token through its `;` (leading
/// comments and whitespace excluded), and where that starts in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    pub(crate) text: &'a str,
    pub(crate) start: usize,
}

/// Splits `sql` at top-level `;`, honouring `'...'` (and `E'...'`)
/// strings, `"..."` identifiers, `$tag$...$tag$` bodies, `-- line` and
/// `/* block */` comments. A trailing statement without `;` is kept.
pub(crate) fn split(sql: &str) -> Vec<Statement<'_>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut start: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        // comments and whitespace before a statement are not part of it
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = block_comment_end(sql, i);
            continue;
        }
        if start.is_none() {
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            start = Some(i);
        }
        match c {
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && !ident_byte_before(b, i - 1);
                i = quoted_end(b, i, b'\'', escapes);
            }
            b'"' => i = quoted_end(b, i, b'"', false),
            b'$' => match dollar_tag(sql, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = sql[body..]
                        .find(tag)
                        .map_or(b.len(), |n| body + n + tag.len());
                }
                None => i += 1,
            },
            b';' => {
                let s = start.take().unwrap_or(i);
                out.push(Statement {
                    text: &sql[s..=i],
                    start: s,
                });
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(s) = start {
        let text = sql[s..].trim_end();
        if !text.is_empty() {
            out.push(Statement { text, start: s });
        }
    }
    out
}

fn ident_byte_before(b: &[u8], at: usize) -> bool {
    at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_')
}

fn block_comment_end(sql: &str, at: usize) -> usize {
    // PostgreSQL block comments nest
    let b = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// The index after the closing quote of a quoted token starting at `at`.
fn quoted_end(b: &[u8], at: usize, quote: u8, escapes: bool) -> usize {
    let mut i = at + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `$tag$` starting at `at`, if it is one (not a `$1` parameter).
fn dollar_tag(sql: &str, at: usize) -> Option<&str> {
    let rest = &sql[at + 1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    let ok = tag
        .bytes()
        .enumerate()
        .all(|(k, c)| c == b'_' || c.is_ascii_alphabetic() || (k > 0 && c.is_ascii_digit()));
    ok.then(|| &sql[at..at + end + 2])
}

/// Which view of `schema` a package statement is about: the first
/// `"schema"."name"` it names whose name is in `views` (name -> index).
pub(crate) fn target(
    statement: &str,
    schema: &str,
    views: &std::collections::HashMap<&str, usize>,
) -> Option<usize> {
    let prefix = format!("{}.\"", crate::db::quote_ident(schema));
    let mut from = 0;
    while let Some(n) = statement[from..].find(&prefix) {
        let start = from + n + prefix.len();
        // the quoted name: up to the first `"` not doubled
        let b = statement.as_bytes();
        let mut i = start;
        let mut name = String::new();
        while i < b.len() {
            if b[i] == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    name.push('"');
                    i += 2;
                    continue;
                }
                break;
            }
            let ch = statement[i..].chars().next().unwrap_or('"');
            name.push(ch);
            i += ch.len_utf8();
        }
        if let Some(&index) = views.get(name.as_str()) {
            return Some(index);
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_around_strings_comments_and_bodies() {
        let sql = "-- c; c\nCREATE x AS SELECT ';' AS \"a;b\";\n/* ; /* ; */ ; */\n\
                   DO $f$ BEGIN PERFORM 1; END $f$;\nCOMMENT ON x IS E'it\\'s;';\nSELECT $1 ";
        let s: Vec<&str> = split(sql).iter().map(|s| s.text).collect();
        assert_eq!(
            s,
            [
                "CREATE x AS SELECT ';' AS \"a;b\";",
                "DO $f$ BEGIN PERFORM 1; END $f$;",
                "COMMENT ON x IS E'it\\'s;';",
                "SELECT $1"
            ]
        );
    }

    #[test]
    fn targets_whole_names_only() {
        let views = [("User", 0), ("UserRole", 1), ("a\"b", 2)]
            .into_iter()
            .collect();
        let t = |s: &str| target(s, "s", &views);
        assert_eq!(t("CREATE OR REPLACE VIEW \"s\".\"UserRole\" AS"), Some(1));
        assert_eq!(t("COMMENT ON VIEW \"s\".\"User\" IS 'x'"), Some(0));
        assert_eq!(t("ALTER VIEW \"s\".\"a\"\"b\" OWNER TO r"), Some(2));
        assert_eq!(t("CREATE FUNCTION \"s\".\"f\"()"), None);
        assert_eq!(t("CREATE VIEW \"t\".\"User\""), None);
    }
}
