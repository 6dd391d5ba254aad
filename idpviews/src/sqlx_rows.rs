//! The `sqlx` feature: what the generated `sqlx::FromRow` / `DecodeAt<PgRow>`
//! implementations and the generated enums' `sqlx::Type` / `Decode` /
//! `Encode` call (through `idpviews::__private`), and [`Prefixed`] on
//! `PgRow` ([`ColumnName`] for `PgColumn`, [`ResultRow`] for `PgRow`).
//!
//! [`Prefixed`]: crate::Prefixed

use crate::row::{ColumnName, ResultRow, RowError};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgColumn, PgHasArrayType, PgRow, PgTypeInfo, PgTypeKind, PgValueRef, Postgres,
};
use sqlx::{Decode, Encode, Row as _, Type, TypeInfo as _, ValueRef as _};

impl ColumnName for PgColumn {
    #[inline]
    fn column_name(&self) -> &str {
        sqlx::Column::name(self)
    }
}

impl ResultRow for PgRow {
    fn is_null_at(
        &self,
        index: usize,
        view: &'static str,
        column: &'static str,
    ) -> Result<bool, RowError> {
        match self.try_get_raw(index) {
            Ok(v) => Ok(v.is_null()),
            Err(e) => Err(RowError::sqlx(view, column, e)),
        }
    }
}

/// `row.try_get(column)`: by name, as `#[derive(sqlx::FromRow)]` does.
/// Used by the generated `sqlx::FromRow`.
#[inline(always)]
pub fn get<'r, T>(row: &'r PgRow, column: &'static str) -> Result<T, sqlx::Error>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(column)
}

/// `row.try_get(index)` with the view and column named in the error. Used
/// by the generated `DecodeAt<PgRow>` ([`Prefixed`](crate::Prefixed)).
#[inline(always)]
pub fn get_at<'r, T>(
    row: &'r PgRow,
    index: usize,
    view: &'static str,
    column: &'static str,
) -> Result<T, RowError>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    match row.try_get(index) {
        Ok(v) => Ok(v),
        Err(e) => Err(RowError::sqlx(view, column, e)),
    }
}

/// The field types of an `oid` column (`u32`, which is what
/// `postgres-types` decodes; sqlx decodes its own `Oid` wrapper).
pub trait OidField: Sized {
    /// What sqlx decodes.
    type Raw;
    /// The field value.
    fn from_raw(raw: Self::Raw) -> Self;
}

impl OidField for u32 {
    type Raw = Oid;
    fn from_raw(raw: Oid) -> u32 {
        raw.0
    }
}

impl OidField for Option<u32> {
    type Raw = Option<Oid>;
    fn from_raw(raw: Option<Oid>) -> Option<u32> {
        raw.map(|o| o.0)
    }
}

impl OidField for Vec<u32> {
    type Raw = Vec<Oid>;
    fn from_raw(raw: Vec<Oid>) -> Vec<u32> {
        raw.into_iter().map(|o| o.0).collect()
    }
}

impl OidField for Option<Vec<u32>> {
    type Raw = Option<Vec<Oid>>;
    fn from_raw(raw: Option<Vec<Oid>>) -> Option<Vec<u32>> {
        raw.map(<Vec<u32> as OidField>::from_raw)
    }
}

/// [`get`] for an `oid` column.
#[inline(always)]
pub fn get_oid<'r, T>(row: &'r PgRow, column: &'static str) -> Result<T, sqlx::Error>
where
    T: OidField,
    T::Raw: Decode<'r, Postgres> + Type<Postgres>,
{
    get::<T::Raw>(row, column).map(T::from_raw)
}

/// [`get_at`] for an `oid` column.
#[inline(always)]
pub fn get_oid_at<'r, T>(
    row: &'r PgRow,
    index: usize,
    view: &'static str,
    column: &'static str,
) -> Result<T, RowError>
where
    T: OidField,
    T::Raw: Decode<'r, Postgres> + Type<Postgres>,
{
    get_at::<T::Raw>(row, index, view, column).map(T::from_raw)
}

/// A generated enum's sqlx type: `text` (what the views expose).
pub fn enum_type_info() -> PgTypeInfo {
    <String as Type<Postgres>>::type_info()
}

/// A generated enum's sqlx array type: `text[]`.
pub fn enum_array_type_info() -> PgTypeInfo {
    <String as PgHasArrayType>::array_type_info()
}

/// The column types a generated enum decodes from: the text types, and
/// the IDP enum type `db_name` itself (as `postgres-types` accepts them,
/// see [`crate::enums::accepts`]).
pub fn enum_compatible(ty: &PgTypeInfo, db_name: &str) -> bool {
    if <str as Type<Postgres>>::compatible(ty) {
        return true;
    }
    matches!(ty.kind(), PgTypeKind::Enum(_)) && type_name_is(ty.name(), db_name)
}

/// Arrays of what [`enum_compatible`] accepts.
pub fn enum_array_compatible(ty: &PgTypeInfo, db_name: &str) -> bool {
    match ty.kind() {
        PgTypeKind::Array(element) => enum_compatible(element, db_name),
        _ => false,
    }
}

/// sqlx names a custom type as `regtype` prints it: `user_type`,
/// `idp.user_type`, or quoted.
fn type_name_is(name: &str, db_name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    let last = last
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or(last);
    last == db_name
}

/// The label of a text or enum value.
#[inline]
pub fn enum_label<'r>(value: PgValueRef<'r>) -> Result<&'r str, BoxDynError> {
    <&str as Decode<'r, Postgres>>::decode(value)
}

/// Encodes a label as text.
#[inline]
pub fn enum_encode(label: &str, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
    <&str as Encode<'_, Postgres>>::encode_by_ref(&label, buf)
}

/// `sqlx::Type`, `PgHasArrayType`, `Decode` and `Encode` for PostgreSQL on
/// a generated enum (through [`IdpEnum`](crate::enums::IdpEnum)): decodes
/// text or the IDP enum type, a label the code does not know as
/// `Unknown(label)`; encodes as text.
#[doc(hidden)]
#[macro_export]
macro_rules! __idpviews_enum_sqlx {
    ($ty:ident) => {
        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres> for $ty {
            fn type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                $crate::__private::sqlx_rows::enum_type_info()
            }

            fn compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                $crate::__private::sqlx_rows::enum_compatible(
                    ty,
                    <$ty as $crate::__private::IdpEnum>::DB_NAME,
                )
            }
        }

        impl $crate::__private::sqlx::postgres::PgHasArrayType for $ty {
            fn array_type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                $crate::__private::sqlx_rows::enum_array_type_info()
            }

            fn array_compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                $crate::__private::sqlx_rows::enum_array_compatible(
                    ty,
                    <$ty as $crate::__private::IdpEnum>::DB_NAME,
                )
            }
        }

        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres> for $ty {
            fn decode(
                value: $crate::__private::sqlx::postgres::PgValueRef<'r>,
            ) -> ::core::result::Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                $crate::__private::sqlx_rows::enum_label(value)
                    .map(<$ty as $crate::__private::IdpEnum>::from_label)
            }
        }

        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut $crate::__private::sqlx::postgres::PgArgumentBuffer,
            ) -> ::core::result::Result<
                $crate::__private::sqlx::encode::IsNull,
                $crate::__private::sqlx::error::BoxDynError,
            > {
                $crate::__private::sqlx_rows::enum_encode(
                    <$ty as $crate::__private::IdpEnum>::as_str(self),
                    buf,
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_type_names_match_unqualified_qualified_and_quoted() {
        assert!(type_name_is("user_type", "user_type"));
        assert!(type_name_is("idp.user_type", "user_type"));
        assert!(type_name_is("\"idp\".\"user_type\"", "user_type"));
        assert!(!type_name_is("idp.user_types", "user_type"));
        assert!(!type_name_is("other", "user_type"));
    }

    #[test]
    fn enums_accept_text_types_and_text_arrays() {
        assert!(enum_compatible(&enum_type_info(), "user_type"));
        assert!(enum_compatible(
            &PgTypeInfo::with_name("citext"),
            "user_type"
        ));
        assert!(!enum_compatible(
            &<i32 as Type<Postgres>>::type_info(),
            "user_type"
        ));
        assert!(enum_array_compatible(&enum_array_type_info(), "user_type"));
        assert!(!enum_array_compatible(&enum_type_info(), "user_type"));
    }
}
