//! Rust names for Prisma names: `firstName` -> `first_name` (fields),
//! `SUPER_ADMIN` -> `SuperAdmin` (enum variants).

use proc_macro2::{Ident, Span};

/// Splits a name into words at `_`/non-alphanumerics, at a lower-to-upper
/// change (`firstName`) and before the last capital of a run followed by a
/// lower-case letter (`avatarURLValue` -> `avatar`, `URL`, `Value`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(prev) = cur.chars().last() {
            let next = chars.get(i + 1).copied();
            let boundary = c.is_uppercase()
                && (prev.is_lowercase()
                    || prev.is_numeric()
                    || (prev.is_uppercase() && next.is_some_and(|n| n.is_lowercase())));
            if boundary {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `firstName` -> `first_name`, `avatarURL` -> `avatar_url`.
pub(crate) fn snake_case(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// `SUPER_ADMIN` -> `SuperAdmin`, `fleetManager` -> `FleetManager`.
pub(crate) fn upper_camel_case(name: &str) -> String {
    let mut s = String::new();
    for w in words(name) {
        let mut cs = w.chars();
        if let Some(first) = cs.next() {
            s.extend(first.to_uppercase());
            s.push_str(&cs.as_str().to_lowercase());
        }
    }
    s
}

/// Keywords that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// An identifier for `name`: as is when it is one, `r#name` for a keyword
/// (`type` -> `r#type`), `None` when no identifier fits (empty, starts with
/// a digit, `self`...).
pub(crate) fn ident(name: &str, span: Span) -> Option<Ident> {
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first == '_' || first.is_alphabetic())
        || !name.chars().all(|c| c == '_' || c.is_alphanumeric())
    {
        return None;
    }
    if NOT_RAW.contains(&name) {
        return None;
    }
    if syn::parse_str::<Ident>(name).is_ok() {
        Some(Ident::new(name, span))
    } else {
        Some(Ident::new_raw(name, span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake() {
        assert_eq!(snake_case("firstName"), "first_name");
        assert_eq!(snake_case("id"), "id");
        assert_eq!(snake_case("avatarURL"), "avatar_url");
        assert_eq!(snake_case("avatarURLValue"), "avatar_url_value");
        assert_eq!(snake_case("tenant_id"), "tenant_id");
        assert_eq!(snake_case("UserTypes"), "user_types");
        assert_eq!(snake_case("address2Line"), "address2_line");
        assert_eq!(snake_case("x__y"), "x_y");
    }

    #[test]
    fn camel() {
        assert_eq!(upper_camel_case("DRIVER"), "Driver");
        assert_eq!(upper_camel_case("SUPER_ADMIN"), "SuperAdmin");
        assert_eq!(upper_camel_case("fleetManager"), "FleetManager");
        assert_eq!(upper_camel_case("a"), "A");
    }

    #[test]
    fn idents() {
        assert_eq!(
            ident("type", Span::call_site()).unwrap().to_string(),
            "r#type"
        );
        assert_eq!(
            ident("first_name", Span::call_site()).unwrap().to_string(),
            "first_name"
        );
        assert!(ident("self", Span::call_site()).is_none());
        assert!(ident("1a", Span::call_site()).is_none());
        assert!(ident("", Span::call_site()).is_none());
        assert!(ident("a-b", Span::call_site()).is_none());
    }
}
