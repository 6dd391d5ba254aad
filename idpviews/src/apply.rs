//! Apply a views package to a database: idempotent, serialized, append-only.
//!
//! The package SQL runs in one transaction that first takes the package's
//! transaction-level advisory lock, so services starting at once apply it
//! one after the other. Under the lock, the live views are compared with the
//! package: `CREATE OR REPLACE VIEW` can only append columns, so a dropped,
//! renamed, reordered or retyped column is reported by name, with the fix,
//! before anything runs, and the transaction is rolled back.

use crate::catalog::{self, Relation};
use crate::db::{qualified, run_ready, AsyncConn, Conn, SyncConn};
use crate::{Error, Package};
use idpviews_build::manifest::ManifestView;
use std::fmt;

/// Advisory lock key used when the package SQL does not take one itself:
/// the generator's own key.
pub const DEFAULT_LOCK_KEY: i64 = idpviews_build::generate::ADVISORY_LOCK_KEY;

/// What [`apply`] did, per view of the package, in package order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub schema: String,
    pub views: Vec<(String, ViewChange)>,
    /// What apply repaired before applying (hand changes undone), one line each.
    pub repaired: Vec<String>,
}

/// How one view changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewChange {
    /// The view did not exist.
    Created,
    /// The view existed with the same columns (its definition is replaced,
    /// which is a no-op when the package did not change).
    Unchanged,
    /// Columns were appended.
    Appended(Vec<String>),
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "applied the views package to schema \"{}\":",
            self.schema
        )?;
        for repair in &self.repaired {
            writeln!(f, "  repaired {repair}")?;
        }
        for (view, change) in &self.views {
            match change {
                ViewChange::Created => writeln!(f, "  {view}: created")?,
                ViewChange::Unchanged => writeln!(f, "  {view}: unchanged")?,
                ViewChange::Appended(cols) => {
                    writeln!(f, "  {view}: appended column(s) {}", cols.join(", "))?
                }
            }
        }
        Ok(())
    }
}

/// One change `CREATE OR REPLACE VIEW` cannot make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    pub schema: String,
    pub view: String,
    /// The column concerned (database name), if any.
    pub column: Option<String>,
    pub problem: String,
}

impl Incompatibility {
    /// `"schema"."view"`.
    pub fn qualified_view(&self) -> String {
        qualified(&self.schema, &self.view)
    }
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "{} column \"{c}\": {}",
                self.qualified_view(),
                self.problem
            ),
            None => write!(f, "{}: {}", self.qualified_view(), self.problem),
        }
    }
}

/// Applies the package with a blocking client. See the module docs.
pub fn apply(client: &mut postgres::Client, package: &Package) -> Result<Applied, Error> {
    run_ready(apply_on(SyncConn(client), package))
}

/// Applies the package with an async client. See the module docs.
pub async fn apply_async(
    client: &mut tokio_postgres::Client,
    package: &Package,
) -> Result<Applied, Error> {
    apply_on(AsyncConn(&*client), package).await
}

async fn apply_on<C: Conn>(mut conn: C, package: &Package) -> Result<Applied, Error> {
    let script = Script::parse(&package.sql)?;
    conn.batch("BEGIN")
        .await
        .map_err(Error::db("starting the apply transaction"))?;
    let result = apply_in_transaction(&mut conn, package, &script).await;
    match result {
        Ok(applied) => {
            conn.batch("COMMIT")
                .await
                .map_err(Error::db("committing the views package"))?;
            Ok(applied)
        }
        Err(e) => {
            // The transaction is already aborted or must be: either way
            // nothing it did is kept. A failing ROLLBACK means the connection
            // is gone, which rolls back too; report the original error.
            let _ = conn.batch("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn apply_in_transaction<C: Conn>(
    conn: &mut C,
    package: &Package,
    script: &Script<'_>,
) -> Result<Applied, Error> {
    let schema = &package.manifest.schema;
    match script.lock {
        Some(lock) => conn.batch(lock).await,
        None => conn
            .query("SELECT pg_advisory_xact_lock($1)", &[&DEFAULT_LOCK_KEY])
            .await
            .map(drop),
    }
    .map_err(Error::db("taking the views advisory lock"))?;
    let repaired = crate::repair::repair(conn, package).await?;

    let live = catalog::relations(conn, schema)
        .await
        .map_err(Error::db("reading the views schema"))?;
    let mut applied = plan(package, &live)?;
    applied.repaired = repaired;

    conn.batch(script.body).await.map_err(Error::db(
        "applying the views package failed (rolled back, the database is unchanged)",
    ))?;
    crate::record::write(conn, package).await?;
    Ok(applied)
}

/// Compares the package with the live views: what will change, or every
/// change `CREATE OR REPLACE VIEW` would reject.
pub(crate) fn plan(
    package: &Package,
    live: &std::collections::BTreeMap<String, Relation>,
) -> Result<Applied, Error> {
    let schema = &package.manifest.schema;
    let mut problems = Vec::new();
    let mut views = Vec::new();
    for view in &package.manifest.views {
        match live.get(&view.name) {
            None => views.push((view.name.clone(), ViewChange::Created)),
            Some(rel) => {
                let before = problems.len();
                check_view(schema, view, rel, &mut problems);
                if problems.len() == before {
                    let appended: Vec<String> = view.columns[rel.columns.len()..]
                        .iter()
                        .map(|c| c.column.clone())
                        .collect();
                    let change = if appended.is_empty() {
                        ViewChange::Unchanged
                    } else {
                        ViewChange::Appended(appended)
                    };
                    views.push((view.name.clone(), change));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Applied {
            schema: schema.clone(),
            views,
            repaired: Vec::new(),
        })
    } else {
        Err(Error::Incompatible(problems))
    }
}

fn check_view(schema: &str, view: &ManifestView, rel: &Relation, out: &mut Vec<Incompatibility>) {
    let problem = |column: Option<&str>, problem: String| Incompatibility {
        schema: schema.to_owned(),
        view: view.name.clone(),
        column: column.map(str::to_owned),
        problem,
    };
    if rel.kind != "v" {
        out.push(problem(
            None,
            format!(
                "the name is taken by a {}, not a view; rename or drop it",
                rel.kind_name()
            ),
        ));
        return;
    }
    for (i, live) in rel.columns.iter().enumerate() {
        let position = i + 1;
        match view.columns.get(i) {
            None => {
                let text = if view.columns.iter().any(|c| c.column == live.name) {
                    format!("moved from position {position}")
                } else {
                    format!(
                        "is in the database view (position {position}) but no longer in the package: \
                         dropped or renamed"
                    )
                };
                out.push(problem(Some(&live.name), text));
            }
            Some(want) if want.column != live.name => {
                let text = if view.columns.iter().any(|c| c.column == live.name) {
                    format!(
                        "moved: position {position} is \"{}\" in the database and \"{}\" in the package",
                        live.name, want.column
                    )
                } else {
                    format!(
                        "is in the database view (position {position}) but no longer in the package: \
                         dropped or renamed (the package has \"{}\" there)",
                        want.column
                    )
                };
                out.push(problem(Some(&live.name), text));
            }
            Some(want) if want.sql_type != live.sql_type => out.push(problem(
                Some(&live.name),
                format!("changes type from {} to {}", live.sql_type, want.sql_type),
            )),
            Some(_) => {}
        }
    }
}

/// The package SQL split around its transaction control.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Script<'a> {
    /// `SELECT pg_advisory_xact_lock(...);` when the package takes its own lock.
    lock: Option<&'a str>,
    /// The statements between `BEGIN;` (and the lock) and `COMMIT;`.
    body: &'a str,
}

impl<'a> Script<'a> {
    /// The generator writes `BEGIN; SELECT pg_advisory_xact_lock(<key>); ...
    /// COMMIT;` so that `psql -f` is safe too. [`apply`] runs its own
    /// transaction, so it strips the wrapper and keeps the lock statement.
    pub(crate) fn parse(sql: &'a str) -> Result<Script<'a>, Error> {
        let start = skip_trivia(sql, 0);
        let (body_start, wrapped) = match keyword_statement(sql, start, "BEGIN") {
            Some(end) => (end, true),
            None => (start, false),
        };
        let mut rest = &sql[body_start..];
        let trimmed = trim_end_trivia(rest);
        let ends_with_commit = ends_with_keyword_statement(trimmed, "COMMIT");
        match (wrapped, ends_with_commit) {
            (true, Some(cut)) => rest = &trimmed[..cut],
            (false, None) => {}
            (true, None) => {
                return Err(Error::Package(
                    "the SQL starts with BEGIN but does not end with COMMIT".into(),
                ))
            }
            (false, Some(_)) => {
                return Err(Error::Package(
                    "the SQL ends with COMMIT but does not start with BEGIN".into(),
                ))
            }
        }
        let lock_start = skip_trivia(rest, 0);
        let head = &rest[lock_start..];
        let lock_len = head
            .get(..28)
            .filter(|h| h.eq_ignore_ascii_case("SELECT pg_advisory_xact_lock"))
            .and_then(|_| head.find(';'))
            .map(|semi| semi + 1);
        Ok(match lock_len {
            Some(len) => Script {
                lock: Some(&head[..len]),
                body: &head[len..],
            },
            None => Script {
                lock: None,
                body: rest,
            },
        })
    }
}

/// Skips whitespace, `-- line` and `/* block */` comments from `at`.
fn skip_trivia(sql: &str, mut at: usize) -> usize {
    let bytes = sql.as_bytes();
    loop {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes[at..].starts_with(b"--") {
            at = sql[at..].find('\n').map_or(sql.len(), |n| at + n + 1);
        } else if bytes[at..].starts_with(b"/*") {
            at = sql[at + 2..]
                .find("*/")
                .map_or(sql.len(), |n| at + 2 + n + 2);
        } else {
            return at;
        }
    }
}

/// If `KEYWORD ;` (any case, optional whitespace) starts at `at`, the offset after `;`.
fn keyword_statement(sql: &str, at: usize, keyword: &str) -> Option<usize> {
    let word = sql.get(at..at + keyword.len())?;
    if !word.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let after = at + keyword.len();
    let semi = after + sql[after..].len() - sql[after..].trim_start().len();
    (sql[semi..].starts_with(';')).then_some(semi + 1)
}

/// `sql` without trailing whitespace and `-- comment` lines.
fn trim_end_trivia(sql: &str) -> &str {
    let mut s = sql.trim_end();
    loop {
        let last_line_start = s.rfind('\n').map_or(0, |n| n + 1);
        if s[last_line_start..].trim_start().starts_with("--") {
            s = s[..last_line_start].trim_end();
        } else {
            return s;
        }
    }
}

/// If `sql` (already trimmed) ends with `KEYWORD;`, where that statement starts.
fn ends_with_keyword_statement(sql: &str, keyword: &str) -> Option<usize> {
    let s = sql.strip_suffix(';')?.trim_end();
    let start = s.len().checked_sub(keyword.len())?;
    let word = s.get(start..)?;
    let boundary = s[..start]
        .chars()
        .next_back()
        .is_none_or(|c| c == ';' || c.is_whitespace());
    (word.eq_ignore_ascii_case(keyword) && boundary).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_strips_the_transaction_wrapper_and_keeps_the_lock() {
        let sql = "-- header\n/* x */\nBEGIN;\nSELECT pg_advisory_xact_lock(42);\nCREATE SCHEMA s;\nCOMMIT;\n-- end\n";
        let s = Script::parse(sql).unwrap();
        assert_eq!(s.lock, Some("SELECT pg_advisory_xact_lock(42);"));
        assert_eq!(s.body, "\nCREATE SCHEMA s;\n");
    }

    #[test]
    fn script_without_wrapper_or_lock() {
        let s = Script::parse("CREATE SCHEMA s;").unwrap();
        assert_eq!(s.lock, None);
        assert_eq!(s.body, "CREATE SCHEMA s;");
    }

    #[test]
    fn unbalanced_wrapper_is_an_error() {
        assert!(Script::parse("BEGIN; CREATE SCHEMA s;").is_err());
        assert!(Script::parse("CREATE SCHEMA s; COMMIT;").is_err());
        // A statement merely ending in "commit" is not a COMMIT.
        assert!(Script::parse("SELECT 1 AS nocommit;").is_ok());
    }
}
