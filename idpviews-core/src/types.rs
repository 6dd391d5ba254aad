//! PostgreSQL type names as `format_type()` prints them.

/// The type without its modifiers, whitespace normalised:
/// `timestamp(3) without time zone` -> `timestamp without time zone`,
/// `character varying(255)[]` -> `character varying[]`. Shared by the proc
/// macros (which Rust type decodes a column) and `verify` (same type, other
/// modifier is only a warning).
pub fn strip_type_modifiers(sql_type: &str) -> String {
    let mut out = String::with_capacity(sql_type.len());
    let mut depth = 0usize;
    for c in sql_type.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_modifiers() {
        assert_eq!(
            strip_type_modifiers("timestamp(3) without time zone"),
            "timestamp without time zone"
        );
        assert_eq!(strip_type_modifiers("numeric(10,2)"), "numeric");
        assert_eq!(
            strip_type_modifiers("character varying(255)[]"),
            "character varying[]"
        );
        assert_eq!(strip_type_modifiers("text"), "text");
        assert_eq!(strip_type_modifiers(" bit ( 3 )  varying "), "bit varying");
    }
}
