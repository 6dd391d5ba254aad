//! The error type of the database operations.

use crate::apply::{Blocked, Incompatibility};
use crate::verify::VerifyReport;
use std::fmt;

/// Why [`crate::apply()`], [`crate::verify()`], [`crate::grants_sql`],
/// [`crate::audit()`] or [`crate::tenant::set_tenant`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The database refused a statement or the connection failed.
    Database {
        /// What was being done, e.g. `applying the views package`.
        context: String,
        source: postgres::Error,
    },
    /// [`Error::Database`] from a sqlx connection (the `sqlx` feature's
    /// `*_sqlx` operations).
    #[cfg(feature = "sqlx")]
    Sqlx {
        /// What was being done, e.g. `applying the views package`.
        context: String,
        source: sqlx::Error,
    },
    /// The package cannot be applied with `CREATE OR REPLACE VIEW`: a column
    /// was dropped, renamed, reordered or retyped, or a name is taken by
    /// something that is not a view. Nothing was changed.
    Incompatible(Vec<Incompatibility>),
    /// The live database does not match the package (see
    /// [`VerifyReport::into_result`]).
    Verify(Box<VerifyReport>),
    /// `apply` found changes to the views it does not repair (or could not
    /// repair them): nothing was changed. One line per problem.
    Refused(Vec<String>),
    /// The package itself is malformed (e.g. unbalanced `BEGIN`/`COMMIT`).
    Package(String),
    /// A name given by the caller is not usable (e.g. an empty role name).
    InvalidInput(String),
    /// `apply` gave up waiting for a lock (after its retries): nothing was
    /// changed; the report names the blocking sessions.
    Blocked(Box<Blocked>),
    /// Connecting took longer than the connect timeout.
    Timeout(String),
    /// [`crate::apply()`] on a hot standby (`pg_is_in_recovery()`): nothing can be written there.
    ReadOnlyStandby,
    /// Logical replication ([`crate::replica`]) cannot go on: the message says why and what to do.
    Replica(String),
}

impl Error {
    pub(crate) fn db<E: Into<crate::db::DbError>>(
        context: impl Into<String>,
    ) -> impl FnOnce(E) -> Error {
        let context = context.into();
        move |source| match source.into() {
            crate::db::DbError::Postgres(source) => Error::Database { context, source },
            #[cfg(feature = "sqlx")]
            crate::db::DbError::Sqlx(source) => Error::Sqlx { context, source },
        }
    }

    /// The SQLSTATE of a [`Error::Database`] (or `Error::Sqlx`) error, e.g. `42501`.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database { source, .. } => source.code().map(|c| c.code()),
            #[cfg(feature = "sqlx")]
            Error::Sqlx { source, .. } => source
                .as_database_error()?
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .map(|d| d.code()),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Database { context, source } => {
                write!(f, "{context}: {}", crate::db::db_message(source))
            }
            #[cfg(feature = "sqlx")]
            Error::Sqlx { context, source } => {
                write!(f, "{context}: {}", crate::db::sqlx_message(source))
            }
            Error::Incompatible(problems) => {
                writeln!(
                    f,
                    "cannot apply the views package: {} change(s) that CREATE OR REPLACE VIEW cannot make \
                     (it can only append columns); nothing was changed",
                    problems.len()
                )?;
                for p in problems {
                    writeln!(f, "  - {p}")?;
                }
                write!(
                    f,
                    "fix: view columns are a public API; revert the change in the IDP (only add columns), \
                     or drop the affected view(s) in a migration (e.g. `DROP VIEW {};`) after every \
                     product has stopped reading the column, then apply again",
                    problems
                        .first()
                        .map(|p| p.qualified_view())
                        .unwrap_or_default()
                )
            }
            Error::Verify(report) => write!(f, "{report}"),
            Error::Refused(problems) => {
                writeln!(
                    f,
                    "cannot apply the views package: {} problem(s) in the database that apply does \
                     not repair; nothing was changed",
                    problems.len()
                )?;
                for p in problems {
                    writeln!(f, "  - {p}")?;
                }
                write!(f, "fix: see each problem, then apply again")
            }
            Error::Package(msg) => write!(f, "invalid views package: {msg}"),
            Error::InvalidInput(msg) => f.write_str(msg),
            Error::Blocked(blocked) => write!(f, "{blocked}"),
            Error::Timeout(msg) => f.write_str(msg),
            Error::ReadOnlyStandby => f.write_str(
                "read-only standby: apply on the primary (this server is in recovery; the views \
                 reach it through replication)",
            ),
            Error::Replica(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database { source, .. } => Some(source),
            #[cfg(feature = "sqlx")]
            Error::Sqlx { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An error and its sources on one line (`db error: ERROR: permission
/// denied for ...`): `postgres::Error`'s own `Display` keeps the useful part
/// in its source. A source already contained in the text is not repeated.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod chain_tests {
    use super::error_chain;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("db error")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn sources_are_appended_once() {
        let e = Outer(std::io::Error::other("ERROR: permission denied"));
        assert_eq!(error_chain(&e), "db error: ERROR: permission denied");
        let io = std::io::Error::other("plain");
        assert_eq!(error_chain(&io), "plain");
    }
}
