//! One code path for the sync (`postgres`) and async (`tokio-postgres`)
//! clients.
//!
//! The database operations ([`crate::apply`], [`crate::verify`],
//! [`crate::audit`], [`crate::tenant`]) are written once, as `async fn`s over
//! the tiny [`Conn`] trait. [`AsyncConn`] awaits `tokio-postgres`;
//! [`SyncConn`] calls the blocking `postgres` client, so its futures are
//! always ready and [`run_ready`] drives them to completion in one poll.

use postgres::types::ToSql;
use postgres::Row;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// What the operations need from a connection.
pub(crate) trait Conn {
    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error>;
    async fn batch(&mut self, sql: &str) -> Result<(), postgres::Error>;
}

impl<C: Conn> Conn for &mut C {
    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        (**self).query(sql, params).await
    }

    async fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        (**self).batch(sql).await
    }
}

/// A blocking `postgres` client or transaction.
pub(crate) struct SyncConn<'a, C>(pub(crate) &'a mut C);

impl<C: postgres::GenericClient> Conn for SyncConn<'_, C> {
    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        self.0.query(sql, params)
    }

    async fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.0.batch_execute(sql)
    }
}

/// An async `tokio-postgres` client or transaction.
pub(crate) struct AsyncConn<'a, C>(pub(crate) &'a C);

impl<C: tokio_postgres::GenericClient + Sync> Conn for AsyncConn<'_, C> {
    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        self.0.query(sql, params).await
    }

    async fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.0.batch_execute(sql).await
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
