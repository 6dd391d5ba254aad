//! Typed rows: the structs `include_views!()` generates and
//! `#[idpviews::row]` checks, and how they decode.
//!
//! # Generated types
//!
//! ```
//! // with a build script running idpviews-build, which wrote $OUT_DIR/idpviews/:
//! //     mod idp { idpviews::include_views!(); }
//! // or from a views package directory (relative to CARGO_MANIFEST_DIR):
//! mod idp {
//!     idpviews::include_views!(path = "../example-idp/packages/idp-views");
//! }
//! assert_eq!(idp::IdpUser::VIEW, "IdpUser");
//! assert!(idp::IdpUser::SELECT.starts_with(r#"SELECT "id", "email", "first_name""#));
//! ```
//!
//! The macro expands to items (put it in a module of its own); per view a
//! read-only struct such as `IdpUser` (snake_case fields, `///` docs of the
//! Prisma schema, `Debug`, `Clone`, `PartialEq`, and `Serialize` /
//! `Deserialize` with the Prisma field names when the `serde` feature of
//! `idpviews` is on) with the constants `SCHEMA`, `VIEW`, `COLUMNS`, `FROM`,
//! `SELECT_LIST` and `SELECT` (every identifier quoted), `select_list_as`,
//! `prefixed`, [`FromRow`] and `TryFrom<&Row>`; per IDP enum a Rust enum with
//! an `Unknown(String)` catch-all ([`crate::enums`]); `SCHEMA`; and
//! `package()`, the embedded [`crate::Package`] for `apply`/`verify`.
//!
//! Column types map as the table in the `idpviews-macros` `types` module
//! says (`uuid` -> `uuid::Uuid`, `timestamp(3)` -> `chrono::NaiveDateTime`,
//! `timestamptz` -> `chrono::DateTime<Utc>`, `numeric` ->
//! `rust_decimal::Decimal`, `jsonb` -> `serde_json::Value`, `T?` ->
//! `Option<T>`, `T[]` -> `Vec<T>`, ...); a column no supported type decodes
//! is a compile error naming the field, and a type whose feature
//! (`uuid`, `chrono`/`time`, `decimal`, `json`) is off says which to enable.
//! Date/time columns map to `chrono` types (default feature), or to `time`
//! types when `idpviews` is used with `default-features = false` and the
//! `time` feature (`chrono` wins when both are on). The features of
//! `idpviews` (not of the calling crate) decide, including `serde`.
//!
//! # Projections
//!
//! ```
//! #[idpviews::row(view = "IdpUser", path = "../example-idp/packages/idp-views")]
//! struct Contact {
//!     id: uuid::Uuid,
//!     first_name: Option<String>,   // nullable column: must be an Option
//!     email: Option<String>,
//!     #[idpviews(field = "mobileNumber")]
//!     phone: Option<String>,
//! }
//! assert_eq!(
//!     Contact::SELECT_LIST,
//!     r#""id", "first_name", "email", "mobile_number""#
//! );
//! ```
//!
//! Each field is checked at compile time against the view: unknown fields
//! (with a suggestion), fields the IDP allowlist does not expose (such as
//! `password`), type and nullability mismatches and unknown views are
//! errors pointing at the field. The struct gets the same constants and
//! decoding as a generated one, for its own columns.
//!
//! # Decoding
//!
//! A generated struct implements [`FromRow`]:
//!
//! - [`FromRow::from_row`] reads the struct's columns by position, `0..N`,
//!   in [`FromRow::COLUMNS`] order: the row of the struct's own `SELECT`
//!   (e.g. `IdpUser::SELECT`, or a query starting with `IdpUser::SELECT_LIST`).
//!   This is exactly what hand-written `row.try_get(i)` code does, no more.
//! - [`FromRow::from_row_at`] reads them at given positions, and
//!   [`Prefixed`] finds those positions once, by name, for columns aliased
//!   with a prefix in a JOIN (`IdpUser::select_list_as("u", "u__")`), then
//!   decodes every row of the result by position;
//!   [`Prefixed::decode_optional`] gives `None` for the missing side of a
//!   `LEFT JOIN`.
//!
//! `postgres::Row` and `tokio_postgres::Row` are the same type, so the same
//! code serves both clients. Errors are [`RowError`]s naming the view and
//! column.
//!
//! # sqlx
//!
//! With the `sqlx` feature of `idpviews`, generated structs and `#[row]`
//! projections also implement `sqlx::FromRow<'_, PgRow>`, so
//! `sqlx::query_as::<_, IdpUser>(IdpUser::SELECT)` works. That
//! implementation follows sqlx's convention and reads each column **by
//! name** (`row.try_get("first_name")`), so `SELECT *` and any column order
//! decode correctly; errors are `sqlx::Error`s naming the column. Generated
//! enums implement `sqlx::Type`, `Decode` and `Encode` for PostgreSQL (as
//! text, with the same `Unknown(label)` catch-all), and [`Prefixed`] decodes
//! `PgRow`s of a JOIN by position ([`DecodeAt`]), exactly as it does
//! `postgres::Row`s. The types are those of the table above: sqlx decodes
//! each of them with its `chrono` / `time` / `uuid` / `json` /
//! `rust_decimal` feature, which the `idpviews` features of the same names
//! turn on.

use postgres_types::{FromSql, Type};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use tokio_postgres::{Column, Row};

/// A struct decoded from the columns of a view.
///
/// Implemented by the code that `include_views!()` and `#[idpviews::row]`
/// generate; the implementations read by position and allocate nothing
/// beyond the values themselves.
pub trait FromRow: Sized {
    /// The view the columns come from, e.g. `IdpUser`.
    const VIEW: &'static str;
    /// The columns read, in the order [`FromRow::from_row`] expects them.
    const COLUMNS: &'static [&'static str];

    /// Decodes the columns at positions `0..COLUMNS.len()`, in
    /// [`FromRow::COLUMNS`] order.
    fn from_row(row: &Row) -> Result<Self, RowError>;

    /// Decodes column `COLUMNS[k]` from position `indices[k]`.
    ///
    /// Fails (it does not panic) when `indices` does not have one entry per
    /// column or a position is out of range.
    fn from_row_at(row: &Row, indices: &[usize]) -> Result<Self, RowError>;

    /// Decodes columns aliased `<prefix><column>` (see the generated
    /// `select_list_as`), looking the names up in this row.
    ///
    /// For many rows of one result, [`Prefixed`] looks them up only once.
    fn from_row_prefixed(row: &Row, prefix: &str) -> Result<Self, RowError> {
        let indices = column_indices(row.columns(), Self::VIEW, Self::COLUMNS, prefix)?;
        Self::from_row_at(row, &indices)
    }
}

/// A column of a query result, by name: `tokio_postgres::Column` (what
/// `row.columns()` and `statement.columns()` give), and with the `sqlx`
/// feature `sqlx::postgres::PgColumn`.
pub trait ColumnName {
    /// The column's name in the result (its alias, if it has one).
    fn column_name(&self) -> &str;
}

impl ColumnName for Column {
    #[inline]
    fn column_name(&self) -> &str {
        self.name()
    }
}

/// A row of a query result that [`Prefixed`] decodes: `postgres::Row`
/// (= `tokio_postgres::Row`), and with the `sqlx` feature
/// `sqlx::postgres::PgRow`.
pub trait ResultRow {
    /// Whether the value at `index` is NULL; an error naming `view` and
    /// `column` when there is no such position.
    fn is_null_at(
        &self,
        index: usize,
        view: &'static str,
        column: &'static str,
    ) -> Result<bool, RowError>;
}

impl ResultRow for Row {
    fn is_null_at(
        &self,
        index: usize,
        view: &'static str,
        column: &'static str,
    ) -> Result<bool, RowError> {
        let IsNull(null) = get(self, index, view, column)?;
        Ok(null)
    }
}

/// Decodes `Self` from a row of type `R` at given positions: what
/// [`Prefixed::decode`] calls.
///
/// Every [`FromRow`] type implements it for `postgres::Row`; with the
/// `sqlx` feature, generated structs and `#[row]` projections also
/// implement it for `sqlx::postgres::PgRow`.
pub trait DecodeAt<R: ?Sized>: Sized {
    /// Decodes column `COLUMNS[k]` from position `indices[k]`.
    fn decode_at(row: &R, indices: &[usize]) -> Result<Self, RowError>;
}

impl<T: FromRow> DecodeAt<Row> for T {
    #[inline(always)]
    fn decode_at(row: &Row, indices: &[usize]) -> Result<Self, RowError> {
        T::from_row_at(row, indices)
    }
}

/// Decodes all rows with [`FromRow::from_row`].
pub fn decode_all<T: FromRow>(rows: &[Row]) -> Result<Vec<T>, RowError> {
    rows.iter().map(T::from_row).collect()
}

/// The positions of `T`'s columns, aliased with a prefix, in a result: found
/// once by name, then used for every row.
///
/// ```no_run
/// # mod idp { idpviews::include_views!(path = "../example-idp/packages/idp-views"); }
/// # use idp::IdpUser;
/// # use idpviews::Prefixed;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut client = postgres::Client::connect("host=localhost", postgres::NoTls)?;
/// let sql = format!(
///     r#"SELECT d."id" AS "d__id", {} FROM "fuel"."Driver" d JOIN {} u ON u."id" = d."idpUserId""#,
///     IdpUser::select_list_as("u", "u__"),
///     IdpUser::FROM,
/// );
/// let rows = client.query(&sql, &[])?;
/// if let Some(first) = rows.first() {
///     let users = Prefixed::<IdpUser>::new(first.columns(), "u__")?;
///     for row in &rows {
///         let user: IdpUser = users.decode(row)?;
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Prefixed<T> {
    indices: Box<[usize]>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Prefixed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prefixed")
            .field("indices", &self.indices)
            .finish()
    }
}

impl<T> Clone for Prefixed<T> {
    fn clone(&self) -> Self {
        Prefixed {
            indices: self.indices.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T: FromRow> Prefixed<T> {
    /// Finds `<prefix><column>` for each of `T`'s columns among `columns`
    /// (`row.columns()` or `statement.columns()`; with the `sqlx` feature
    /// also a `PgRow`'s `columns()`).
    pub fn new<C: ColumnName>(columns: &[C], prefix: &str) -> Result<Self, RowError> {
        Ok(Prefixed {
            indices: column_indices(columns, T::VIEW, T::COLUMNS, prefix)?.into_boxed_slice(),
            _marker: PhantomData,
        })
    }

    /// The positions found, one per column of `T`.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// Decodes `T` from a row of the result the positions were found in
    /// (a `postgres::Row`, or with the `sqlx` feature a `PgRow`).
    #[inline]
    pub fn decode<R: ResultRow + ?Sized>(&self, row: &R) -> Result<T, RowError>
    where
        T: DecodeAt<R>,
    {
        T::decode_at(row, &self.indices)
    }

    /// For the nullable side of a `LEFT JOIN`: `None` when all of `T`'s
    /// columns are NULL, else the decoded `T`.
    pub fn decode_optional<R: ResultRow + ?Sized>(&self, row: &R) -> Result<Option<T>, RowError>
    where
        T: DecodeAt<R>,
    {
        for (k, &i) in self.indices.iter().enumerate() {
            let column = T::COLUMNS.get(k).copied().unwrap_or("?");
            if !row.is_null_at(i, T::VIEW, column)? {
                return T::decode_at(row, &self.indices).map(Some);
            }
        }
        Ok(None)
    }
}

/// Accepts any type; tells whether the value is NULL.
struct IsNull(bool);

impl<'a> FromSql<'a> for IsNull {
    fn from_sql(_: &Type, _: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull(false))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull(true))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The position of `<prefix><name>` for each of `names` in `columns`.
///
/// Fails when one is missing or appears twice (ambiguous).
pub fn column_indices<C: ColumnName>(
    columns: &[C],
    view: &'static str,
    names: &[&'static str],
    prefix: &str,
) -> Result<Vec<usize>, RowError> {
    let mut indices = Vec::with_capacity(names.len());
    for &name in names {
        let mut found = None;
        for (i, c) in columns.iter().enumerate() {
            let n = c.column_name();
            if n.len() == prefix.len() + name.len() && n.starts_with(prefix) && n.ends_with(name) {
                if found.is_some() {
                    return Err(RowError::new(
                        view,
                        name,
                        RowErrorKind::AmbiguousColumn {
                            name: format!("{prefix}{name}"),
                        },
                    ));
                }
                found = Some(i);
            }
        }
        match found {
            Some(i) => indices.push(i),
            None => {
                return Err(RowError::new(
                    view,
                    name,
                    RowErrorKind::MissingColumn {
                        name: format!("{prefix}{name}"),
                    },
                ))
            }
        }
    }
    Ok(indices)
}

/// `"alias"."column" AS "<prefix>column", ...` for `columns`: the select
/// list that [`Prefixed`] / [`FromRow::from_row_prefixed`] decode.
/// Identifiers are quoted (`"` doubled).
pub fn select_list_as(columns: &[&str], alias: &str, prefix: &str) -> String {
    let mut s = String::new();
    for (k, c) in columns.iter().enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        push_ident(&mut s, alias);
        s.push('.');
        push_ident(&mut s, c);
        s.push_str(" AS ");
        s.push('"');
        s.push_str(&prefix.replace('"', "\"\""));
        s.push_str(&c.replace('"', "\"\""));
        s.push('"');
    }
    s
}

fn push_ident(s: &mut String, ident: &str) {
    s.push('"');
    s.push_str(&ident.replace('"', "\"\""));
    s.push('"');
}

/// Decodes one column: `row.try_get(index)` with the column named in the
/// error. Used by generated code.
#[inline(always)]
pub fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    view: &'static str,
    column: &'static str,
) -> Result<T, RowError> {
    match row.try_get(index) {
        Ok(v) => Ok(v),
        Err(e) => Err(RowError::decode(view, column, e)),
    }
}

/// Checks the length of the `indices` given to [`FromRow::from_row_at`].
/// Used by generated code.
#[inline(always)]
pub fn check_indices(
    indices: &[usize],
    view: &'static str,
    columns: &'static [&'static str],
) -> Result<(), RowError> {
    if indices.len() == columns.len() {
        Ok(())
    } else {
        Err(RowError::new(
            view,
            "",
            RowErrorKind::IndexCount {
                expected: columns.len(),
                got: indices.len(),
            },
        ))
    }
}

/// Decoding a row failed: which view and column, and why.
///
/// One pointer wide, so that `Result<T, RowError>` costs the decoding code
/// nothing on the success path.
#[derive(Debug)]
pub struct RowError(Box<RowErrorInner>);

#[derive(Debug)]
struct RowErrorInner {
    view: &'static str,
    column: Cow<'static, str>,
    kind: RowErrorKind,
}

/// Why decoding a row failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RowErrorKind {
    /// The column is missing, NULL where the struct has no `Option`, or of
    /// a type the field cannot hold.
    Decode(tokio_postgres::Error),
    /// No column of the result is named `name` (prefixed decoding).
    MissingColumn { name: String },
    /// Several columns of the result are named `name` (prefixed decoding).
    AmbiguousColumn { name: String },
    /// [`FromRow::from_row_at`] got `got` positions for `expected` columns.
    IndexCount { expected: usize, got: usize },
    /// A column of a `sqlx` row failed to decode ([`Prefixed`] on a `PgRow`).
    #[cfg(feature = "sqlx")]
    Sqlx(sqlx::Error),
}

impl RowError {
    pub(crate) fn new(
        view: &'static str,
        column: impl Into<Cow<'static, str>>,
        kind: RowErrorKind,
    ) -> RowError {
        RowError(Box::new(RowErrorInner {
            view,
            column: column.into(),
            kind,
        }))
    }

    /// A column failed to decode. Used by generated code.
    #[cold]
    pub fn decode(view: &'static str, column: &'static str, error: tokio_postgres::Error) -> Self {
        RowError::new(view, column, RowErrorKind::Decode(error))
    }

    /// A column of a sqlx row failed to decode. Used by generated code.
    #[cfg(feature = "sqlx")]
    #[cold]
    pub fn sqlx(view: &'static str, column: &'static str, error: sqlx::Error) -> Self {
        RowError::new(view, column, RowErrorKind::Sqlx(error))
    }

    /// The view (or, for a `#[row]` struct, the view it reads).
    pub fn view(&self) -> &str {
        self.0.view
    }

    /// The view column, without prefix (empty for [`RowErrorKind::IndexCount`]).
    pub fn column(&self) -> &str {
        &self.0.column
    }

    pub fn kind(&self) -> &RowErrorKind {
        &self.0.kind
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RowErrorInner { view, column, kind } = &*self.0;
        match kind {
            RowErrorKind::Decode(e) => {
                write!(f, "cannot decode column `{column}` of view `{view}`: {e}")
            }
            #[cfg(feature = "sqlx")]
            RowErrorKind::Sqlx(e) => {
                write!(f, "cannot decode column `{column}` of view `{view}`: {e}")
            }
            RowErrorKind::MissingColumn { name } => write!(
                f,
                "the result has no column `{name}` (column `{column}` of view `{view}`)"
            ),
            RowErrorKind::AmbiguousColumn { name } => write!(
                f,
                "the result has several columns named `{name}` (column `{column}` of view `{view}`)"
            ),
            RowErrorKind::IndexCount { expected, got } => write!(
                f,
                "`{view}` has {expected} columns but {got} positions were given"
            ),
        }
    }
}

impl std::error::Error for RowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            RowErrorKind::Decode(e) => Some(e),
            #[cfg(feature = "sqlx")]
            RowErrorKind::Sqlx(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_list_as_quotes_everything() {
        assert_eq!(
            select_list_as(&["id", "firstName"], "u", "u__"),
            r#""u"."id" AS "u__id", "u"."firstName" AS "u__firstName""#
        );
        assert_eq!(
            select_list_as(&["a\"b"], "x\"y", "p\""),
            r#""x""y"."a""b" AS "p""a""b""#
        );
        assert_eq!(select_list_as(&[], "u", "u__"), "");
    }

    #[test]
    fn index_count_error_names_the_view() {
        let e = check_indices(&[0], "IdpUser", &["id", "email"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`IdpUser` has 2 columns but 1 positions were given"
        );
        assert!(check_indices(&[3, 4], "IdpUser", &["id", "email"]).is_ok());
    }
}
