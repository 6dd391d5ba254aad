//! What PostgreSQL accepts as a name: one rule for the generator, the
//! build-script merge and the runtime's grants.

/// PostgreSQL's identifier limit (`NAMEDATALEN - 1` bytes); longer names are
/// silently truncated.
pub const MAX_IDENT_BYTES: usize = 63;

/// Why PostgreSQL cannot hold `name` as a quoted identifier, if it cannot:
/// empty, longer than [`MAX_IDENT_BYTES`], or holding a control character
/// (NUL cannot be stored at all; the others would hide in output).
pub fn ident_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("it is empty".into())
    } else if name.len() > MAX_IDENT_BYTES {
        Some(format!(
            "it is {} bytes long; PostgreSQL identifiers hold at most {MAX_IDENT_BYTES} bytes (longer ones are silently truncated)",
            name.len()
        ))
    } else if name.contains('\0') {
        Some("it contains a NUL character".into())
    } else {
        name.chars()
            .find(|c| c.is_control())
            .map(|c| format!("it contains the control character {c:?}"))
    }
}

/// Whether `name` is a plain SQL identifier, `[A-Za-z_][A-Za-z0-9_]*` of at
/// most [`MAX_IDENT_BYTES`] bytes: what the merge accepts as a schema name in
/// a product's `datasource` (no quoting questions).
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_IDENT_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules() {
        assert_eq!(ident_problem("idp_views"), None);
        assert_eq!(ident_problem("Mixed Case ok"), None);
        assert_eq!(ident_problem("").as_deref(), Some("it is empty"));
        assert!(ident_problem(&"a".repeat(64)).unwrap().contains("64 bytes"));
        assert_eq!(ident_problem(&"a".repeat(63)), None);
        assert!(ident_problem("a\0b").unwrap().contains("NUL"));
        assert!(ident_problem("a\nb").unwrap().contains("control"));

        assert!(is_plain_ident("idp_views"));
        assert!(is_plain_ident("_x1"));
        assert!(!is_plain_ident("idp-views"));
        assert!(!is_plain_ident("1x"));
        assert!(!is_plain_ident(""));
        assert!(!is_plain_ident(&"a".repeat(64)));
    }
}
