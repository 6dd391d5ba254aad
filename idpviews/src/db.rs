//! One code path for the sync (`postgres`) and async (`tokio-postgres`)
//! clients, and sqlx.
//!
//! The database operations ([`crate::apply`], [`crate::verify`],
//! [`crate::audit`], [`crate::tenant`]) are written once, as `async fn`s over
//! the tiny [`Conn`] trait. [`AsyncConn`] awaits `tokio-postgres`;
//! [`SyncConn`] calls the blocking `postgres` client, so its futures are
//! always ready and [`run_ready`] drives them to completion in one poll;
//! with the `sqlx` feature, `SqlxConn` awaits a `sqlx::PgConnection`.
//! Rows are read through [`DbRow::get`] (`postgres::Row` or sqlx's `PgRow`),
//! parameters are [`Param`]s (bound for either client), errors [`DbError`]s.

use postgres::types::{FromSql, ToSql};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub(crate) type Params<'a> = &'a [&'a dyn Param];

/// What the operations need from a connection.
pub(crate) trait Conn {
    /// A result row: `postgres::Row`, or `sqlx`'s `PgRow`.
    type Row: DbRow;
    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Self::Row>, DbError>;
    async fn batch(&mut self, sql: &str) -> Result<(), DbError>;
}

impl<C: Conn> Conn for &mut C {
    type Row = C::Row;

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Self::Row>, DbError> {
        (**self).query(sql, params).await
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        (**self).batch(sql).await
    }
}

/// A query parameter: a value both clients can send (text, `i64`, `f64`,
/// `text[]`, ...).
pub(crate) trait Param: ToSql + Sync {
    /// The value for the `postgres` clients.
    fn pg(&self) -> &(dyn ToSql + Sync);
    /// `query.bind(self)`: the value for sqlx.
    #[cfg(feature = "sqlx")]
    fn bind<'q>(&'q self, query: SqlxQuery<'q>) -> SqlxQuery<'q>;
}

#[cfg(not(feature = "sqlx"))]
impl<T: ToSql + Sync> Param for T {
    fn pg(&self) -> &(dyn ToSql + Sync) {
        self
    }
}

#[cfg(feature = "sqlx")]
impl<T> Param for T
where
    T: ToSql + Sync + for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    fn pg(&self) -> &(dyn ToSql + Sync) {
        self
    }

    fn bind<'q>(&'q self, query: SqlxQuery<'q>) -> SqlxQuery<'q> {
        query.bind(self)
    }
}

/// The parameters for the `postgres` clients.
fn pg_params<'a>(params: Params<'a>) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p.pg()).collect()
}

/// A column value the operations read (text, `bool`, `i32`/`i64`, `text[]`,
/// `Option` of those): a type both clients decode, with the same accepted
/// PostgreSQL types (e.g. `String` from `text`, `name`, `varchar`).
pub(crate) trait Column: Sized {
    fn from_postgres(row: &postgres::Row, index: usize) -> Self;
    #[cfg(feature = "sqlx")]
    fn from_sqlx(row: &sqlx::postgres::PgRow, index: usize) -> Self;
}

#[cfg(not(feature = "sqlx"))]
impl<T: for<'a> FromSql<'a>> Column for T {
    fn from_postgres(row: &postgres::Row, index: usize) -> Self {
        row.get(index)
    }
}

#[cfg(feature = "sqlx")]
impl<T> Column for T
where
    T: for<'a> FromSql<'a> + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    fn from_postgres(row: &postgres::Row, index: usize) -> Self {
        row.get(index)
    }

    fn from_sqlx(row: &sqlx::postgres::PgRow, index: usize) -> Self {
        // Like `postgres::Row::get`: the operations' own queries fix the
        // column types, so a mismatch is a bug in this crate.
        match sqlx::Row::try_get(row, index) {
            Ok(value) => value,
            Err(e) => panic!("error retrieving column {index}: {e}"),
        }
    }
}

/// A result row of either client.
pub(crate) trait DbRow {
    fn get<T: Column>(&self, index: usize) -> T;
}

impl DbRow for postgres::Row {
    fn get<T: Column>(&self, index: usize) -> T {
        T::from_postgres(self, index)
    }
}

/// A database error of either client.
#[derive(Debug)]
pub(crate) enum DbError {
    Postgres(postgres::Error),
    #[cfg(feature = "sqlx")]
    Sqlx(sqlx::Error),
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        DbError::Postgres(e)
    }
}

#[cfg(feature = "sqlx")]
impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> DbError {
        DbError::Sqlx(e)
    }
}

impl DbError {
    /// The SQLSTATE, e.g. `55P03`.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            DbError::Postgres(e) => e.code().map(|c| c.code()),
            #[cfg(feature = "sqlx")]
            DbError::Sqlx(e) => sqlx_db_error(e).map(|d| d.code()),
        }
    }

    /// The server's DETAIL, if any.
    pub(crate) fn detail(&self) -> Option<&str> {
        match self {
            DbError::Postgres(e) => e.as_db_error().and_then(|d| d.detail()),
            #[cfg(feature = "sqlx")]
            DbError::Sqlx(e) => sqlx_db_error(e).and_then(|d| d.detail()),
        }
    }
}

/// A blocking `postgres` client or transaction.
pub(crate) struct SyncConn<'a, C>(pub(crate) &'a mut C);

impl<C: postgres::GenericClient> Conn for SyncConn<'_, C> {
    type Row = postgres::Row;

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Self::Row>, DbError> {
        Ok(self.0.query(sql, &pg_params(params))?)
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.batch_execute(sql)?)
    }
}

/// An async `tokio-postgres` client or transaction.
pub(crate) struct AsyncConn<'a, C>(pub(crate) &'a C);

impl<C: tokio_postgres::GenericClient + Sync> Conn for AsyncConn<'_, C> {
    type Row = postgres::Row;

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Self::Row>, DbError> {
        Ok(self.0.query(sql, &pg_params(params)).await?)
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.batch_execute(sql).await?)
    }
}

#[cfg(feature = "sqlx")]
pub(crate) type SqlxQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// A sqlx connection (or a transaction's, `&mut tx`).
///
/// Queries with parameters run as unnamed prepared statements, like the
/// `postgres` clients' `query` with a `&str`: nothing is left prepared on
/// the server. `batch` is a simple-protocol query (`sqlx::raw_sql`), like
/// `batch_execute`.
#[cfg(feature = "sqlx")]
pub(crate) struct SqlxConn<'a>(pub(crate) &'a mut sqlx::PgConnection);

#[cfg(feature = "sqlx")]
impl Conn for SqlxConn<'_> {
    type Row = sqlx::postgres::PgRow;

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Self::Row>, DbError> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for p in params {
            query = p.bind(query);
        }
        Ok(query.fetch_all(&mut *self.0).await?)
    }

    async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

#[cfg(feature = "sqlx")]
impl DbRow for sqlx::postgres::PgRow {
    fn get<T: Column>(&self, index: usize) -> T {
        T::from_sqlx(self, index)
    }
}

#[cfg(feature = "sqlx")]
fn sqlx_db_error(e: &sqlx::Error) -> Option<&sqlx::postgres::PgDatabaseError> {
    e.as_database_error()?
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
}

/// [`db_message`] for a sqlx error.
#[cfg(feature = "sqlx")]
pub(crate) fn sqlx_message(error: &sqlx::Error) -> String {
    match sqlx_db_error(error) {
        Some(db) => {
            let mut s = format!("{} ({})", db.message(), db.code());
            if let Some(detail) = db.detail() {
                s.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                s.push_str(&format!("; hint: {hint}"));
            }
            s
        }
        None => error.to_string(),
    }
}

/// Runs a future built only on [`SyncConn`]: every await inside it is
/// already complete, so one poll finishes it.
pub(crate) fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        // Unreachable by construction: `SyncConn` never returns `Pending`.
        Poll::Pending => unreachable!("a SyncConn future was not ready"),
    }
}

pub(crate) use crate::sql::quote_ident;

/// `"schema"."name"`.
pub(crate) fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// The SQLSTATE and message of a database error, for reports.
pub(crate) fn db_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut s = format!("{} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                s.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                s.push_str(&format!("; hint: {hint}"));
            }
            s
        }
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("IdpUser"), "\"IdpUser\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            qualified("idp_views", "IdpUser"),
            "\"idp_views\".\"IdpUser\""
        );
    }
}
