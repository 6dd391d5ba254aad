//! Prisma types -> PostgreSQL column types, spelled as `format_type()`
//! prints them (what `information_schema`/`pg_attribute` report for the view
//! columns, and what `verify` compares against).
//!
//! | Prisma                 | default                         | `@db.*` native types                                  |
//! |------------------------|---------------------------------|-------------------------------------------------------|
//! | `String`               | `text`                          | `Text`, `VarChar(n)`, `Char(n)`, `Uuid`, `Citext`, `Inet`, `Xml`, `Bit(n)`, `VarBit(n)` |
//! | `Boolean`              | `boolean`                       | `Boolean`                                             |
//! | `Int`                  | `integer`                       | `Integer`, `SmallInt`, `Oid`                          |
//! | `BigInt`               | `bigint`                        | `BigInt`                                              |
//! | `Float`                | `double precision`              | `DoublePrecision`, `Real`                             |
//! | `Decimal`              | `numeric(65,30)`                | `Decimal(p, s)`, `Money`                              |
//! | `DateTime`             | `timestamp(3) without time zone`| `Timestamp(p)`, `Timestamptz(p)`, `Date`, `Time(p)`, `Timetz(p)` |
//! | `Json`                 | `jsonb`                         | `Json`, `JsonB`                                       |
//! | `Bytes`                | `bytea`                         | `ByteA`                                               |
//!
//! Lists add `[]`. Enum columns are cast to `text` / `text[]` in the view.

use crate::prisma::model::{NativeType, ScalarType};

/// Why a native type cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NativeTypeError {
    /// Not a PostgreSQL native type we know.
    Unknown,
    /// A known native type that does not go with this Prisma type; the
    /// Prisma type it needs.
    WrongScalar(&'static str),
    /// Wrong number or form of arguments; what is expected.
    BadArgs(&'static str),
}

/// The native types we map: name, Prisma scalar, maximum argument count.
const NATIVE: &[(&str, ScalarType, usize)] = &[
    ("Text", ScalarType::String, 0),
    ("Char", ScalarType::String, 1),
    ("VarChar", ScalarType::String, 1),
    ("Bit", ScalarType::String, 1),
    ("VarBit", ScalarType::String, 1),
    ("Uuid", ScalarType::String, 0),
    ("Xml", ScalarType::String, 0),
    ("Inet", ScalarType::String, 0),
    ("Citext", ScalarType::String, 0),
    ("Boolean", ScalarType::Boolean, 0),
    ("Integer", ScalarType::Int, 0),
    ("SmallInt", ScalarType::Int, 0),
    ("Oid", ScalarType::Int, 0),
    ("BigInt", ScalarType::BigInt, 0),
    ("DoublePrecision", ScalarType::Float, 0),
    ("Real", ScalarType::Float, 0),
    ("Decimal", ScalarType::Decimal, 2),
    ("Money", ScalarType::Decimal, 0),
    ("Timestamp", ScalarType::DateTime, 1),
    ("Timestamptz", ScalarType::DateTime, 1),
    ("Date", ScalarType::DateTime, 0),
    ("Time", ScalarType::DateTime, 1),
    ("Timetz", ScalarType::DateTime, 1),
    ("Json", ScalarType::Json, 0),
    ("JsonB", ScalarType::Json, 0),
    ("ByteA", ScalarType::Bytes, 0),
];

/// Names of the native types we know (for "did you mean").
pub(crate) fn native_type_names() -> impl Iterator<Item = &'static str> {
    NATIVE.iter().map(|(n, _, _)| *n)
}

/// The PostgreSQL type of a scalar column (without `[]`).
pub(crate) fn sql_type(
    scalar: ScalarType,
    native: Option<&NativeType>,
) -> Result<String, NativeTypeError> {
    let Some(native) = native else {
        return Ok(default_sql_type(scalar).to_owned());
    };
    let Some(&(name, for_scalar, max_args)) = NATIVE.iter().find(|(n, _, _)| *n == native.name)
    else {
        return Err(NativeTypeError::Unknown);
    };
    if for_scalar != scalar {
        return Err(NativeTypeError::WrongScalar(for_scalar.name()));
    }
    let mut nums = Vec::with_capacity(native.args.len());
    for a in &native.args {
        match a.trim().parse::<u32>() {
            Ok(n) => nums.push(n),
            Err(_) => return Err(NativeTypeError::BadArgs(expected_args(name))),
        }
    }
    if nums.len() > max_args {
        return Err(NativeTypeError::BadArgs(expected_args(name)));
    }
    let p = nums.first().copied();
    let with_p = |base: &str, suffix: &str| match p {
        Some(p) => format!("{base}({p}){suffix}"),
        None => format!("{base}{suffix}"),
    };
    Ok(match name {
        "Text" => "text".into(),
        "Char" => format!("character({})", p.unwrap_or(1)),
        "VarChar" => with_p("character varying", ""),
        "Bit" => format!("bit({})", p.unwrap_or(1)),
        "VarBit" => with_p("bit varying", ""),
        "Uuid" => "uuid".into(),
        "Xml" => "xml".into(),
        "Inet" => "inet".into(),
        "Citext" => "citext".into(),
        "Boolean" => "boolean".into(),
        "Integer" => "integer".into(),
        "SmallInt" => "smallint".into(),
        "Oid" => "oid".into(),
        "BigInt" => "bigint".into(),
        "DoublePrecision" => "double precision".into(),
        "Real" => "real".into(),
        "Decimal" => match nums.as_slice() {
            [] => "numeric".into(),
            [p] => format!("numeric({p},0)"),
            [p, s, ..] => format!("numeric({p},{s})"),
        },
        "Money" => "money".into(),
        "Timestamp" => with_p("timestamp", " without time zone"),
        "Timestamptz" => with_p("timestamp", " with time zone"),
        "Date" => "date".into(),
        "Time" => with_p("time", " without time zone"),
        "Timetz" => with_p("time", " with time zone"),
        "Json" => "json".into(),
        "JsonB" => "jsonb".into(),
        "ByteA" => "bytea".into(),
        _ => return Err(NativeTypeError::Unknown),
    })
}

fn expected_args(name: &str) -> &'static str {
    match name {
        "Char" | "VarChar" | "Bit" | "VarBit" => "at most one length, e.g. `(64)`",
        "Decimal" => "a precision and a scale, e.g. `(10, 2)`",
        "Timestamp" | "Timestamptz" | "Time" | "Timetz" => "at most one precision, e.g. `(6)`",
        _ => "no arguments",
    }
}

/// The PostgreSQL type Prisma Migrate creates for a scalar without `@db.*`.
pub(crate) fn default_sql_type(scalar: ScalarType) -> &'static str {
    match scalar {
        ScalarType::String => "text",
        ScalarType::Boolean => "boolean",
        ScalarType::Int => "integer",
        ScalarType::BigInt => "bigint",
        ScalarType::Float => "double precision",
        ScalarType::Decimal => "numeric(65,30)",
        ScalarType::DateTime => "timestamp(3) without time zone",
        ScalarType::Json => "jsonb",
        ScalarType::Bytes => "bytea",
    }
}

/// `@db.Name(args)` as written in a Prisma file.
pub(crate) fn native_type_attr(native: &NativeType) -> String {
    if native.args.is_empty() {
        format!("@db.{}", native.name)
    } else {
        format!("@db.{}({})", native.name, native.args.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Span;

    fn nt(name: &str, args: &[&str]) -> NativeType {
        NativeType {
            name: name.into(),
            args: args.iter().map(|s| (*s).into()).collect(),
            span: Span::default(),
        }
    }

    #[test]
    fn maps_defaults_and_native_types() {
        use ScalarType::*;
        assert_eq!(sql_type(String, None).unwrap(), "text");
        assert_eq!(
            sql_type(DateTime, None).unwrap(),
            "timestamp(3) without time zone"
        );
        assert_eq!(sql_type(Decimal, None).unwrap(), "numeric(65,30)");
        assert_eq!(
            sql_type(String, Some(&nt("VarChar", &["32"]))).unwrap(),
            "character varying(32)"
        );
        assert_eq!(
            sql_type(String, Some(&nt("Char", &["2"]))).unwrap(),
            "character(2)"
        );
        assert_eq!(sql_type(String, Some(&nt("Uuid", &[]))).unwrap(), "uuid");
        assert_eq!(
            sql_type(DateTime, Some(&nt("Timestamptz", &["6"]))).unwrap(),
            "timestamp(6) with time zone"
        );
        assert_eq!(
            sql_type(DateTime, Some(&nt("Timestamp", &[]))).unwrap(),
            "timestamp without time zone"
        );
        assert_eq!(
            sql_type(Decimal, Some(&nt("Decimal", &["10", "2"]))).unwrap(),
            "numeric(10,2)"
        );
        assert_eq!(
            sql_type(Int, Some(&nt("SmallInt", &[]))).unwrap(),
            "smallint"
        );
        assert_eq!(sql_type(Json, Some(&nt("Json", &[]))).unwrap(), "json");
    }

    #[test]
    fn rejects_unknown_and_mismatched_native_types() {
        use ScalarType::*;
        assert_eq!(
            sql_type(String, Some(&nt("Geometry", &[]))),
            Err(NativeTypeError::Unknown)
        );
        assert_eq!(
            sql_type(Int, Some(&nt("Uuid", &[]))),
            Err(NativeTypeError::WrongScalar("String"))
        );
        assert!(matches!(
            sql_type(String, Some(&nt("VarChar", &["x"]))),
            Err(NativeTypeError::BadArgs(_))
        ));
        assert!(matches!(
            sql_type(String, Some(&nt("VarChar", &["1", "2"]))),
            Err(NativeTypeError::BadArgs(_))
        ));
    }
}
