//! Column types -> Rust types: from the view column's PostgreSQL type (as
//! `format_type()` prints it, e.g. `timestamp(3) without time zone`) to the
//! Rust type `postgres-types` decodes it into.
//!
//! | PostgreSQL (Prisma)                                  | Rust                                   |
//! |------------------------------------------------------|----------------------------------------|
//! | `text`, `varchar(n)`, `char(n)`, `citext` (String)   | `String`                               |
//! | `uuid` (String `@db.Uuid`)                           | `uuid::Uuid`                           |
//! | `smallint` / `integer` / `bigint` / `oid`            | `i16` / `i32` / `i64` / `u32`          |
//! | `real` / `double precision` (Float)                  | `f32` / `f64`                          |
//! | `numeric(p,s)` (Decimal)                             | `rust_decimal::Decimal`                |
//! | `boolean`                                            | `bool`                                 |
//! | `timestamp(n) without time zone` (DateTime)          | `chrono::NaiveDateTime` / `time::PrimitiveDateTime` |
//! | `timestamp(n) with time zone` (`@db.Timestamptz`)    | `chrono::DateTime<Utc>` / `time::OffsetDateTime` |
//! | `date` / `time(n) without time zone`                 | `NaiveDate` / `NaiveTime` (chrono), `Date` / `Time` (time) |
//! | `json`, `jsonb` (Json)                               | `serde_json::Value`                    |
//! | `bytea` (Bytes)                                      | `Vec<u8>`                              |
//! | an IDP enum exposed as `text`                        | the generated enum                     |
//! | `T?` / `T[]`                                         | `Option<T>` / `Vec<T>`                 |
//!
//! Anything else (`inet`, `money`, `point`, `timetz`, multi-dimensional
//! arrays, ...) is a compile error naming the field.

use idpviews_core::manifest::ManifestColumn;
use idpviews_core::types::strip_type_modifiers;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The scalar part of a column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Uuid,
    I16,
    I32,
    I64,
    Oid,
    F32,
    F64,
    Decimal,
    Bool,
    Timestamp,
    TimestampTz,
    Date,
    Time,
    Json,
    Bytes,
    /// A generated enum (the Prisma enum name).
    Enum(String),
}

/// The Rust type of a view column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub(crate) scalar: Scalar,
    pub(crate) list: bool,
    pub(crate) nullable: bool,
}

/// Why a column has no Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MapError {
    /// No `postgres-types` type decodes this column type.
    Unmappable,
    /// The type needs an `idpviews` feature that is off.
    FeatureOff(&'static str),
}

/// Which crate date/time columns map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateTimeCrate {
    Chrono,
    Time,
    None,
}

pub(crate) fn datetime_crate() -> DateTimeCrate {
    if cfg!(feature = "chrono") {
        DateTimeCrate::Chrono
    } else if cfg!(feature = "time") {
        DateTimeCrate::Time
    } else {
        DateTimeCrate::None
    }
}

/// The Rust type of a manifest column, with the features of `idpviews`
/// that are on.
pub(crate) fn map_column(col: &ManifestColumn) -> Result<ColumnType, MapError> {
    let ty = column_type(col).ok_or(MapError::Unmappable)?;
    if let Some(feature) = ty.scalar.feature() {
        let on = match feature {
            "chrono" => datetime_crate() != DateTimeCrate::None,
            "uuid" => cfg!(feature = "uuid"),
            "decimal" => cfg!(feature = "decimal"),
            "json" => cfg!(feature = "json"),
            _ => true,
        };
        if !on {
            return Err(MapError::FeatureOff(feature));
        }
    }
    Ok(ty)
}

/// The type of a manifest column, whatever the features; `None` when no
/// supported Rust type decodes it.
pub(crate) fn column_type(col: &ManifestColumn) -> Option<ColumnType> {
    let mut base = col.sql_type.trim();
    let mut dims = 0;
    while let Some(b) = base.strip_suffix("[]") {
        base = b.trim_end();
        dims += 1;
    }
    if dims > 1 {
        return None;
    }
    let list = dims == 1 || col.list;
    let scalar = match &col.enum_name {
        Some(name) => Scalar::Enum(name.clone()),
        None => scalar_for(&strip_type_modifiers(base))?,
    };
    Some(ColumnType {
        scalar,
        list,
        nullable: col.nullable,
    })
}

fn scalar_for(base: &str) -> Option<Scalar> {
    Some(match base.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" | "character" | "char" | "bpchar" | "name"
        | "citext" => Scalar::String,
        "uuid" => Scalar::Uuid,
        "smallint" | "int2" => Scalar::I16,
        "integer" | "int" | "int4" => Scalar::I32,
        "bigint" | "int8" => Scalar::I64,
        "oid" => Scalar::Oid,
        "real" | "float4" => Scalar::F32,
        "double precision" | "float8" => Scalar::F64,
        "numeric" | "decimal" => Scalar::Decimal,
        "boolean" | "bool" => Scalar::Bool,
        "timestamp without time zone" | "timestamp" => Scalar::Timestamp,
        "timestamp with time zone" | "timestamptz" => Scalar::TimestampTz,
        "date" => Scalar::Date,
        "time without time zone" | "time" => Scalar::Time,
        "json" | "jsonb" => Scalar::Json,
        "bytea" => Scalar::Bytes,
        _ => return None,
    })
}

impl Scalar {
    /// The `idpviews` feature the type needs (`chrono` stands for `chrono`
    /// or `time`).
    pub(crate) fn feature(&self) -> Option<&'static str> {
        match self {
            Scalar::Uuid => Some("uuid"),
            Scalar::Decimal => Some("decimal"),
            Scalar::Json => Some("json"),
            Scalar::Timestamp | Scalar::TimestampTz | Scalar::Date | Scalar::Time => Some("chrono"),
            _ => None,
        }
    }

    /// The type, by absolute path (enums by their name in the generated module).
    pub(crate) fn tokens(&self) -> TokenStream {
        let dt = datetime_crate();
        let p = quote!(::idpviews::__private);
        match self {
            Scalar::String => quote!(::std::string::String),
            Scalar::Uuid => quote!(#p::uuid::Uuid),
            Scalar::I16 => quote!(i16),
            Scalar::I32 => quote!(i32),
            Scalar::I64 => quote!(i64),
            Scalar::Oid => quote!(u32),
            Scalar::F32 => quote!(f32),
            Scalar::F64 => quote!(f64),
            Scalar::Decimal => quote!(#p::rust_decimal::Decimal),
            Scalar::Bool => quote!(bool),
            Scalar::Json => quote!(#p::serde_json::Value),
            Scalar::Bytes => quote!(::std::vec::Vec<u8>),
            Scalar::Timestamp if dt == DateTimeCrate::Time => quote!(#p::time::PrimitiveDateTime),
            Scalar::Timestamp => quote!(#p::chrono::NaiveDateTime),
            Scalar::TimestampTz if dt == DateTimeCrate::Time => quote!(#p::time::OffsetDateTime),
            Scalar::TimestampTz => quote!(#p::chrono::DateTime<#p::chrono::Utc>),
            Scalar::Date if dt == DateTimeCrate::Time => quote!(#p::time::Date),
            Scalar::Date => quote!(#p::chrono::NaiveDate),
            Scalar::Time if dt == DateTimeCrate::Time => quote!(#p::time::Time),
            Scalar::Time => quote!(#p::chrono::NaiveTime),
            Scalar::Enum(name) => {
                let id = Ident::new(name, Span::call_site());
                quote!(#id)
            }
        }
    }

    /// How the type reads in messages.
    pub(crate) fn display(&self) -> String {
        let dt = datetime_crate();
        let time = dt == DateTimeCrate::Time;
        match self {
            Scalar::String => "String",
            Scalar::Uuid => "uuid::Uuid",
            Scalar::I16 => "i16",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::Oid => "u32",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::Decimal => "rust_decimal::Decimal",
            Scalar::Bool => "bool",
            Scalar::Json => "serde_json::Value",
            Scalar::Bytes => "Vec<u8>",
            Scalar::Timestamp if time => "time::PrimitiveDateTime",
            Scalar::Timestamp => "chrono::NaiveDateTime",
            Scalar::TimestampTz if time => "time::OffsetDateTime",
            Scalar::TimestampTz => "chrono::DateTime<chrono::Utc>",
            Scalar::Date if time => "time::Date",
            Scalar::Date => "chrono::NaiveDate",
            Scalar::Time if time => "time::Time",
            Scalar::Time => "chrono::NaiveTime",
            Scalar::Enum(name) => return name.clone(),
        }
        .to_string()
    }

    /// Last path segments of user types that decode this column type
    /// (`#[row]` projections): the generated type and its equivalents.
    fn accepted_names(&self) -> &'static [&'static str] {
        match self {
            Scalar::String => &["String"],
            Scalar::Uuid => &["Uuid"],
            Scalar::I16 => &["i16"],
            Scalar::I32 => &["i32"],
            Scalar::I64 => &["i64"],
            Scalar::Oid => &["u32", "Oid"],
            Scalar::F32 => &["f32"],
            Scalar::F64 => &["f64"],
            Scalar::Decimal => &["Decimal"],
            Scalar::Bool => &["bool"],
            Scalar::Json => &["Value", "Json"],
            Scalar::Bytes => &[],
            Scalar::Timestamp => &["NaiveDateTime", "PrimitiveDateTime", "SystemTime"],
            Scalar::TimestampTz => &["DateTime", "OffsetDateTime", "SystemTime"],
            Scalar::Date => &["NaiveDate", "Date"],
            Scalar::Time => &["NaiveTime", "Time"],
            Scalar::Enum(_) => &["String"],
        }
    }
}

impl ColumnType {
    /// `Option<Vec<T>>` etc.
    pub(crate) fn tokens(&self) -> TokenStream {
        let mut t = self.scalar.tokens();
        if self.list {
            t = quote!(::std::vec::Vec<#t>);
        }
        if self.nullable {
            t = quote!(::core::option::Option<#t>);
        }
        t
    }

    pub(crate) fn display(&self) -> String {
        let mut t = self.scalar.display();
        if self.list {
            t = format!("Vec<{t}>");
        }
        if self.nullable {
            t = format!("Option<{t}>");
        }
        t
    }
}

/// What is wrong with a user's field type for a column (`#[row]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The column can be NULL; the field is not an `Option`.
    NeedsOption,
    /// The column is never NULL; the field is an `Option`.
    NeedlessOption,
    /// Any other difference.
    Type,
}

/// `Some(name<args>)` when `ty` is a path type whose last segment is `name`
/// with exactly one type argument.
fn single_arg<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let seg = last_segment(ty)?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// Checks a user's field type against a column type, by the names of the
/// types (type aliases are not resolved; the decoding code the macro emits
/// still needs `FromSql` for the field type, so the compiler has the last word).
pub(crate) fn check_user_type(ty: &syn::Type, col: &ColumnType) -> Result<(), Mismatch> {
    let inner = single_arg(ty, "Option");
    let ty = match (inner, col.nullable) {
        (Some(t), true) => t,
        (None, false) => ty,
        (None, true) => {
            return Err(if base_matches(ty, col) {
                Mismatch::NeedsOption
            } else {
                Mismatch::Type
            })
        }
        (Some(t), false) => {
            return Err(if base_matches(t, col) {
                Mismatch::NeedlessOption
            } else {
                Mismatch::Type
            })
        }
    };
    if base_matches(ty, col) {
        Ok(())
    } else {
        Err(Mismatch::Type)
    }
}

/// `ty` (without the `Option`) against the column's list and scalar.
fn base_matches(ty: &syn::Type, col: &ColumnType) -> bool {
    let elem = if col.list {
        match single_arg(ty, "Vec") {
            Some(e) => e,
            None => return false,
        }
    } else {
        ty
    };
    scalar_matches(elem, &col.scalar)
}

fn scalar_matches(ty: &syn::Type, scalar: &Scalar) -> bool {
    if *scalar == Scalar::Bytes {
        return single_arg(ty, "Vec")
            .and_then(last_segment)
            .is_some_and(|s| s.ident == "u8" && s.arguments.is_none());
    }
    let Some(seg) = last_segment(ty) else {
        return false;
    };
    let name = seg.ident.to_string();
    if let Scalar::Enum(e) = scalar {
        if name == *e {
            return true;
        }
    }
    scalar.accepted_names().contains(&name.as_str())
}

/// `String[]`, `String? @db.Uuid`: the view field as Prisma declares it.
pub(crate) fn prisma_display(col: &ManifestColumn) -> String {
    let mut s = col.prisma_type.clone();
    if col.list {
        s.push_str("[]");
    } else if col.nullable {
        s.push('?');
    }
    if let Some(n) = &col.native_type {
        s.push(' ');
        s.push_str(n);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(sql: &str, nullable: bool, list: bool, enum_name: Option<&str>) -> ManifestColumn {
        let enum_name = enum_name.map_or(String::new(), |e| format!(r#", "enum": "{e}""#));
        let json = format!(
            r#"{{"field": "f", "column": "f", "prisma_type": "String", "sql_type": "{sql}",
                "nullable": {nullable}, "list": {list}{enum_name}}}"#
        );
        parse_column(&json)
    }

    /// A column through the manifest's JSON form (no struct literal, so new
    /// optional manifest fields do not break the test).
    fn parse_column(column: &str) -> ManifestColumn {
        let json = format!(
            r#"{{"format": 2, "generator": "t", "schema": "s", "files": {{}}, "views": [
                {{"name": "V", "model": "M", "source_schema": "s", "source_table": "t",
                  "columns": [{column}]}}]}}"#
        );
        let m = idpviews_core::manifest::Manifest::from_json(&json).unwrap();
        m.views[0].columns[0].clone()
    }

    fn scalar(sql: &str) -> Option<Scalar> {
        column_type(&col(sql, false, false, None)).map(|t| t.scalar)
    }

    #[test]
    fn format_type_spellings_map() {
        assert_eq!(scalar("text"), Some(Scalar::String));
        assert_eq!(scalar("character varying(64)"), Some(Scalar::String));
        assert_eq!(scalar("character(3)"), Some(Scalar::String));
        assert_eq!(scalar("uuid"), Some(Scalar::Uuid));
        assert_eq!(scalar("smallint"), Some(Scalar::I16));
        assert_eq!(scalar("integer"), Some(Scalar::I32));
        assert_eq!(scalar("bigint"), Some(Scalar::I64));
        assert_eq!(scalar("double precision"), Some(Scalar::F64));
        assert_eq!(scalar("real"), Some(Scalar::F32));
        assert_eq!(scalar("numeric(65,30)"), Some(Scalar::Decimal));
        assert_eq!(scalar("boolean"), Some(Scalar::Bool));
        assert_eq!(
            scalar("timestamp(3) without time zone"),
            Some(Scalar::Timestamp)
        );
        assert_eq!(
            scalar("timestamp(6) with time zone"),
            Some(Scalar::TimestampTz)
        );
        assert_eq!(scalar("date"), Some(Scalar::Date));
        assert_eq!(scalar("time(6) without time zone"), Some(Scalar::Time));
        assert_eq!(scalar("jsonb"), Some(Scalar::Json));
        assert_eq!(scalar("bytea"), Some(Scalar::Bytes));
        for bad in [
            "inet",
            "money",
            "point",
            "time with time zone",
            "xml",
            "bit(8)",
            "",
        ] {
            assert_eq!(scalar(bad), None, "{bad}");
        }
        let t = column_type(&col("text[]", false, true, None)).unwrap();
        assert!(t.list);
        assert_eq!(column_type(&col("integer[][]", false, true, None)), None);
        let e = column_type(&col("text[]", false, true, Some("UserType"))).unwrap();
        assert_eq!(e.scalar, Scalar::Enum("UserType".into()));
        assert_eq!(e.display(), "Vec<UserType>");
        let n = column_type(&col("bigint", true, false, None)).unwrap();
        assert_eq!(n.display(), "Option<i64>");
        assert_eq!(
            n.tokens().to_string(),
            ":: core :: option :: Option < i64 >"
        );
    }

    fn check(ty: &str, sql: &str, nullable: bool, list: bool) -> Result<(), Mismatch> {
        let t = column_type(&col(sql, nullable, list, None)).unwrap();
        check_user_type(&syn::parse_str(ty).unwrap(), &t)
    }

    #[test]
    fn user_types_are_checked() {
        assert_eq!(check("String", "text", false, false), Ok(()));
        assert_eq!(check("std::string::String", "text", false, false), Ok(()));
        assert_eq!(check("Option<String>", "text", true, false), Ok(()));
        assert_eq!(
            check("String", "text", true, false),
            Err(Mismatch::NeedsOption)
        );
        assert_eq!(
            check("Option<String>", "text", false, false),
            Err(Mismatch::NeedlessOption)
        );
        assert_eq!(
            check("Option<i32>", "text", false, false),
            Err(Mismatch::Type)
        );
        assert_eq!(check("i32", "text", false, false), Err(Mismatch::Type));
        assert_eq!(check("Vec<u8>", "bytea", false, false), Ok(()));
        assert_eq!(check("Vec<i8>", "bytea", false, false), Err(Mismatch::Type));
        assert_eq!(check("Vec<Vec<u8>>", "bytea[]", false, true), Ok(()));
        assert_eq!(check("Vec<i32>", "integer[]", false, true), Ok(()));
        assert_eq!(check("i32", "integer[]", false, true), Err(Mismatch::Type));
        assert_eq!(check("uuid::Uuid", "uuid", false, false), Ok(()));
        assert_eq!(
            check(
                "chrono::DateTime<chrono::Utc>",
                "timestamp(6) with time zone",
                false,
                false
            ),
            Ok(())
        );
        assert_eq!(
            check("time::OffsetDateTime", "timestamptz", false, false),
            Ok(())
        );
        assert_eq!(
            check("chrono::NaiveDateTime", "timestamptz", false, false),
            Err(Mismatch::Type)
        );
        let e = column_type(&col("text", false, false, Some("UserType"))).unwrap();
        assert_eq!(
            check_user_type(&syn::parse_str("idp::UserType").unwrap(), &e),
            Ok(())
        );
        assert_eq!(
            check_user_type(&syn::parse_str("String").unwrap(), &e),
            Ok(())
        );
        assert_eq!(
            check_user_type(&syn::parse_str("Role").unwrap(), &e),
            Err(Mismatch::Type)
        );
    }
}
