//! Apply a views package to a database: unchanged means untouched, every
//! wait bounded, serialized, append-only.
//!
//! One transaction per attempt, with `lock_timeout`, `statement_timeout` and
//! `idle_in_transaction_session_timeout` set for it (`SET LOCAL`), so that
//! neither a blocked apply nor a killed client leaves a backend holding
//! locks for longer than those bounds:
//!
//! 1. the package's transaction-level advisory lock (services starting at
//!    once apply one after the other);
//! 2. the repair step (`repair.rs`, not when a newer package that
//!    extends this one is applied): what `verify` finds broken (trigger
//!    function, triggers, owner, view definition, tenant functions, foreign
//!    rules and triggers) is restored from the package, or the apply is
//!    refused with the list ([`Error::Refused`]); catalog reads only when
//!    nothing is wrong, the attempt's `lock_timeout` otherwise;
//! 3. the plan, from the catalogs and the applied record
//!    ([`crate::record`]) only — no lock on any view: a view whose package
//!    statement and live definition both match the record is left
//!    untouched; when every view matches, nothing else runs. When the
//!    record says a newer package that extends this one is applied
//!    (appended columns, added views, added enum labels), nothing runs
//!    either. A change `CREATE OR REPLACE VIEW` cannot make is refused, by
//!    name, before anything runs;
//! 4. the package statements of the views that change (and the package's
//!    shared statements) run view by view, each group with what is left of
//!    one `lock_timeout` budget (`CREATE OR REPLACE VIEW` takes `ACCESS
//!    EXCLUSIVE` on its view only), the record is rewritten, and the
//!    transaction commits at once;
//! 5. a lock wait that times out rolls everything back; after bounded
//!    retries with backoff, [`Error::Blocked`] names the blocking sessions.

use crate::catalog::{self, Relation};
use crate::db::{qualified, run_ready, AsyncConn, Conn, DbError, DbRow, SyncConn};
use crate::manifest::{Manifest, ManifestView};
use crate::record::{self, AppliedRecord, ViewPrint};
use crate::statements;
use crate::{Error, Package};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

/// Advisory lock key used when the package SQL does not take one itself:
/// the generator's own key.
pub const DEFAULT_LOCK_KEY: i64 = idpviews_core::names::ADVISORY_LOCK_KEY;

/// How long [`apply`] may wait and how often it tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Longest wait for the locks of one attempt (`lock_timeout`): the
    /// advisory lock, then all the views that change together. Readers of
    /// those views queue behind the waiting apply at most this long.
    pub lock_timeout: Duration,
    /// Attempts after the first when a lock wait times out.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// `statement_timeout` of the apply session, per statement.
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout` of the apply session.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_secs(3),
            retries: 3,
            backoff: Duration::from_millis(500),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(10),
        }
    }
}

impl ApplyOptions {
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    pub fn idle_in_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }
}

/// What [`apply`] did, per view of the package, in package order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub schema: String,
    pub views: Vec<(String, ViewChange)>,
    /// Set when the database holds a newer package that extends this one:
    /// nothing was done.
    pub newer: Option<NewerPackage>,
    /// Attempts made (1 unless a lock wait timed out).
    pub attempts: u32,
    /// What the repair step restored before applying (hand changes undone,
    /// see `repair.rs`), one line each.
    pub repaired: Vec<String>,
}

impl Applied {
    /// Whether the database was left exactly as it was.
    pub fn is_noop(&self) -> bool {
        self.repaired.is_empty() && self.views.iter().all(|(_, c)| *c == ViewChange::Unchanged)
    }
}

/// How one view changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewChange {
    /// The view did not exist.
    Created,
    /// The view matches the package: it was not touched (no lock taken).
    Unchanged,
    /// Columns were appended.
    Appended(Vec<String>),
    /// Same columns, another definition (e.g. the applied record is missing
    /// or the live definition was changed by hand): replaced.
    Replaced,
}

/// The newer package the applied record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewerPackage {
    pub package_hash: String,
    pub applied_at: String,
    pub applied_by: String,
    pub idpviews_version: String,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(newer) = &self.newer {
            return writeln!(
                f,
                "nothing to do: schema \"{}\" holds a newer views package that extends this one \
                 ({}, applied {} by {}); this package reads it as is",
                self.schema, newer.package_hash, newer.applied_at, newer.applied_by
            );
        }
        writeln!(
            f,
            "applied the views package to schema \"{}\"{}:",
            self.schema,
            if self.is_noop() {
                " (nothing changed)"
            } else {
                ""
            }
        )?;
        for repair in &self.repaired {
            writeln!(f, "  repaired {repair}")?;
        }
        for (view, change) in &self.views {
            match change {
                ViewChange::Created => writeln!(f, "  {view}: created")?,
                ViewChange::Unchanged => writeln!(f, "  {view}: unchanged")?,
                ViewChange::Replaced => writeln!(f, "  {view}: replaced")?,
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

/// Why [`apply`] gave up: a lock it needed stayed taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// What it waited for, e.g. `the views "idp_views"."IdpUser"`.
    pub waiting_for: String,
    pub lock_timeout: Duration,
    pub attempts: u32,
    /// The sessions holding (or queued for) that lock when it gave up.
    pub sessions: Vec<BlockingSession>,
}

/// A session in the way, from `pg_locks` and `pg_stat_activity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingSession {
    pub pid: i32,
    pub user: Option<String>,
    pub application_name: Option<String>,
    /// `active`, `idle in transaction`, ...
    pub state: Option<String>,
    /// Start of its transaction (it holds its locks since then).
    pub transaction_start: Option<String>,
    pub query_start: Option<String>,
    /// Its current or last query, shortened.
    pub query: Option<String>,
    /// The lock mode it holds or waits for, e.g. `AccessShareLock`.
    pub mode: String,
    pub granted: bool,
    /// The relation or advisory lock concerned.
    pub object: String,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cannot apply the views package: gave up waiting for a lock on {} ({} attempt(s), \
             lock timeout {} ms each); nothing was changed",
            self.waiting_for,
            self.attempts,
            self.lock_timeout.as_millis()
        )?;
        if self.sessions.is_empty() {
            writeln!(f, "no session holds it any more: apply again")?;
        } else {
            writeln!(f, "blocking session(s):")?;
        }
        for s in &self.sessions {
            let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
            writeln!(
                f,
                "  pid {}: user {}, application_name \"{}\", state {}, in transaction since {}, \
                 query started {}, {} {} on {}{}",
                s.pid,
                opt(&s.user),
                s.application_name.clone().unwrap_or_default(),
                opt(&s.state),
                opt(&s.transaction_start),
                opt(&s.query_start),
                if s.granted { "holds" } else { "waits for" },
                s.mode,
                s.object,
                s.query
                    .as_deref()
                    .map(|q| format!(": {q}"))
                    .unwrap_or_default()
            )?;
        }
        write!(
            f,
            "how to proceed: wait for these sessions to finish (a long report or a transaction left \
             open) and apply again; or end one that is safe to end with \
             SELECT pg_terminate_backend(<pid>); or allow longer waits with --lock-timeout / \
             --retries (ApplyOptions). Readers of the views waited at most the lock timeout."
        )
    }
}

/// Applies the package with a blocking client and [`ApplyOptions::default`].
pub fn apply(client: &mut postgres::Client, package: &Package) -> Result<Applied, Error> {
    apply_with(client, package, &ApplyOptions::default())
}

/// Applies the package with a blocking client. See the module docs.
pub fn apply_with(
    client: &mut postgres::Client,
    package: &Package,
    options: &ApplyOptions,
) -> Result<Applied, Error> {
    run_ready(apply_on(SyncConn(client), package, options))
}

/// Applies the package with an async client and [`ApplyOptions::default`].
pub async fn apply_async(
    client: &mut tokio_postgres::Client,
    package: &Package,
) -> Result<Applied, Error> {
    apply_async_with(client, package, &ApplyOptions::default()).await
}

/// Applies the package with an async client. See the module docs.
pub async fn apply_async_with(
    client: &mut tokio_postgres::Client,
    package: &Package,
    options: &ApplyOptions,
) -> Result<Applied, Error> {
    apply_on(AsyncConn(&*client), package, options).await
}

/// Applies the package on a sqlx connection with [`ApplyOptions::default`]
/// (the `sqlx` feature). See [`apply_sqlx_with`].
#[cfg(feature = "sqlx")]
pub async fn apply_sqlx(
    conn: &mut sqlx::PgConnection,
    package: &Package,
) -> Result<Applied, Error> {
    apply_sqlx_with(conn, package, &ApplyOptions::default()).await
}

/// Applies the package on a sqlx connection (the `sqlx` feature), e.g.
/// `&mut pool.acquire().await?`. See the module docs.
///
/// Like [`apply_with`] (which takes a `postgres::Client`, not a
/// transaction), apply runs its own transactions (`BEGIN`, `SET LOCAL`
/// timeouts, the advisory lock, retries, `COMMIT`), so the connection must
/// not be inside a sqlx transaction (`&mut tx`): that is refused with
/// [`Error::InvalidInput`], nothing done. As with [`apply_async_with`], a
/// future dropped before it finished leaves the connection inside apply's
/// transaction (sqlx does not know of it): close that connection.
#[cfg(feature = "sqlx")]
pub async fn apply_sqlx_with(
    conn: &mut sqlx::PgConnection,
    package: &Package,
    options: &ApplyOptions,
) -> Result<Applied, Error> {
    if sqlx::Connection::is_in_transaction(&*conn) {
        return Err(Error::InvalidInput(
            "apply runs its own transactions (with retries): pass a connection that is not in a \
             transaction, not a sqlx transaction's (`&mut tx`); nothing was changed"
                .into(),
        ));
    }
    apply_on(crate::db::SqlxConn(conn), package, options).await
}

/// Where an attempt waited when its lock wait timed out.
enum Waiting {
    Advisory(i64),
    Relations {
        views: Vec<String>,
        sources: Vec<String>,
    },
}

/// An attempt's failure: an error, and whether it was a lock timeout.
struct Failed {
    error: Error,
    waiting: Option<Waiting>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            error,
            waiting: None,
        }
    }
}

async fn apply_on<C: Conn>(
    mut conn: C,
    package: &Package,
    options: &ApplyOptions,
) -> Result<Applied, Error> {
    crate::replica::refuse_on_standby(&mut conn).await?;
    let script = Script::parse(&package.sql)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        conn.batch("BEGIN")
            .await
            .map_err(Error::db("starting the apply transaction"))?;
        let result = attempt(&mut conn, package, &script, options).await;
        match result {
            Ok(mut applied) => {
                conn.batch("COMMIT")
                    .await
                    .map_err(Error::db("committing the views package"))?;
                applied.attempts = attempts;
                return Ok(applied);
            }
            Err(failed) => {
                // The transaction is aborted or must be: nothing it did is
                // kept. A failing ROLLBACK means the connection is gone,
                // which rolls back too; report the original error.
                let _ = conn.batch("ROLLBACK").await;
                let waiting = match failed.waiting {
                    Some(w) => w,
                    // e.g. reading a definition behind a queued ACCESS EXCLUSIVE
                    None if failed.error.sqlstate() == Some("55P03") => Waiting::Relations {
                        views: package
                            .manifest
                            .views
                            .iter()
                            .map(|v| qualified(&package.manifest.schema, &v.name))
                            .collect(),
                        sources: Vec::new(),
                    },
                    None => return Err(failed.error),
                };
                if attempts > options.retries {
                    let (waiting_for, sessions) = blockers(&mut conn, &waiting).await;
                    return Err(Error::Blocked(Box::new(Blocked {
                        waiting_for,
                        lock_timeout: options.lock_timeout,
                        attempts,
                        sessions,
                    })));
                }
                // backoff on the server: no timer needed in the runtime
                let pause = options.backoff.saturating_mul(1 << (attempts - 1).min(10));
                conn.query("SELECT pg_catalog.pg_sleep($1)", &[&pause.as_secs_f64()])
                    .await
                    .map_err(Error::db("waiting before the next attempt"))?;
            }
        }
    }
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// Whether a database error is a lock wait that timed out.
fn is_lock_timeout(e: &DbError) -> bool {
    e.code() == Some(postgres::error::SqlState::LOCK_NOT_AVAILABLE.code())
}

async fn attempt<C: Conn>(
    conn: &mut C,
    package: &Package,
    script: &Script<'_>,
    options: &ApplyOptions,
) -> Result<Applied, Failed> {
    let schema = &package.manifest.schema;
    conn.batch(&format!(
        "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; \
         SET LOCAL idle_in_transaction_session_timeout = '{}ms'",
        millis(options.lock_timeout),
        millis(options.statement_timeout),
        millis(options.idle_in_transaction_timeout)
    ))
    .await
    .map_err(Error::db("setting the apply session's timeouts"))?;

    let key = script.lock_key().unwrap_or(DEFAULT_LOCK_KEY);
    let locked = match script.lock {
        Some(lock) => conn.batch(lock).await,
        None => conn
            .query("SELECT pg_advisory_xact_lock($1)", &[&DEFAULT_LOCK_KEY])
            .await
            .map(drop),
    };
    if let Err(e) = locked {
        let waiting = is_lock_timeout(&e).then_some(Waiting::Advisory(key));
        return Err(Failed {
            error: Error::db("taking the views advisory lock")(e),
            waiting,
        });
    }

    let applied_record = match record::read(conn, schema).await {
        Ok(r) => r,
        // an unreadable record is rewritten like a missing one
        Err(Error::Package(_)) => None,
        Err(e) => return Err(e.into()),
    };
    // The repair step (`crate::repair`): what `verify` finds broken is
    // restored from the package, or the apply is refused with the list.
    // Catalog reads only (no lock) when nothing is wrong; its statements run
    // under this attempt's `lock_timeout`. Skipped when the record names a
    // newer package that extends this one: this package does not restore
    // that package's views (the plan decides between a no-op and a refusal).
    let newer_applied = applied_record.as_ref().is_some_and(|r| {
        r.package_hash != package.manifest.package_hash() && extends(&r.manifest, &package.manifest)
    });
    let repair_started = Instant::now();
    let repaired = if newer_applied {
        Vec::new()
    } else {
        crate::repair::repair(conn, package).await?
    };
    // a repair's lock waits count against the attempt's one budget
    let budget_started = if repaired.is_empty() {
        None
    } else {
        Some(repair_started)
    };
    let live = catalog::relations(conn, schema)
        .await
        .map_err(Error::db("reading the views schema"))?;
    let viewdefs = record::live_viewdefs(conn, schema, None).await?;
    let statements = package_statements(package, script);
    let mut plan = plan(
        package,
        &live,
        applied_record.as_ref(),
        &viewdefs,
        &statements,
    )?;
    // a view the repair step restored was replaced, though it now matches
    for (view, change) in &mut plan.views {
        let prefix = format!("view {view}: ");
        if *change == ViewChange::Unchanged && repaired.iter().any(|r| r.starts_with(&prefix)) {
            *change = ViewChange::Replaced;
        }
    }
    if plan.newer.is_some() || (!plan.run_preamble && plan.touch.is_empty() && repaired.is_empty())
    {
        return Ok(Applied {
            schema: schema.clone(),
            views: plan.views,
            newer: plan.newer,
            attempts: 0,
            repaired,
        });
    }

    // Run the statements of the views that change (and the shared ones),
    // in package order, one group per view, each with what is left of one
    // lock_timeout budget: a reader of any of those views waits at most that
    // long behind this apply. (Not `LOCK TABLE`: on a view it also locks the
    // IDP tables under it.) What a repair waited is already spent.
    let started = budget_started.unwrap_or_else(Instant::now);
    let mut groups: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    for (view, text) in &statements {
        let run = match view {
            None => plan.run_preamble,
            Some(v) => plan.touch.contains(*v),
        };
        if !run {
            continue;
        }
        match groups.last_mut() {
            Some((g, texts)) if g == view => texts.push(text),
            _ => groups.push((*view, vec![text])),
        }
    }
    for (_, texts) in groups {
        let remaining = options.lock_timeout.saturating_sub(started.elapsed());
        let sql = format!(
            "SET LOCAL lock_timeout = '{}ms';\n{}",
            millis(remaining),
            texts.join("\n")
        );
        if let Err(e) = conn.batch(&sql).await {
            let waiting = is_lock_timeout(&e).then(|| plan.waiting(package));
            return Err(Failed {
                error: Error::db(
                    "applying the views package failed (rolled back, the database is unchanged)",
                )(e),
                waiting,
            });
        }
    }

    // the new record: fingerprints of what was (re)created, the rest kept
    let touched: Vec<String> = plan.touch.iter().cloned().collect();
    let after = record::live_viewdefs(conn, schema, Some(&touched)).await?;
    let mut views = BTreeMap::new();
    for view in &package.manifest.views {
        let sql = create_statement(&statements, &view.name)
            .map(record::fingerprint)
            .unwrap_or_default();
        // untouched views: as before (they matched)
        let viewdef = after
            .get(&view.name)
            .or_else(|| viewdefs.get(&view.name))
            .cloned()
            .unwrap_or_default();
        views.insert(view.name.clone(), ViewPrint { sql, viewdef });
    }
    let mut manifest = package.manifest.clone();
    manifest.relations.clear();
    let mut new_record = AppliedRecord {
        idpviews_version: env!("CARGO_PKG_VERSION").to_owned(),
        package_hash: package.manifest.package_hash(),
        applied_at: String::new(),
        applied_by: String::new(),
        manifest,
        views,
    };
    record::write(conn, schema, &mut new_record).await?;
    Ok(Applied {
        schema: schema.clone(),
        views: plan.views,
        newer: None,
        attempts: 0,
        repaired,
    })
}

/// The package statements (without the transaction wrapper and the
/// advisory lock), each with the view it belongs to (`None`: shared, e.g.
/// the schema, the read-only trigger function, tenant setup).
pub(crate) fn package_statements<'p>(
    package: &'p Package,
    script: &Script<'p>,
) -> Vec<(Option<&'p str>, &'p str)> {
    let names: std::collections::HashMap<&str, usize> = package
        .manifest
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    statements::split(script.body)
        .into_iter()
        .map(|s| {
            let view = statements::target(s.text, &package.manifest.schema, &names)
                .map(|i| package.manifest.views[i].name.as_str());
            (view, s.text)
        })
        .collect()
}

/// The `CREATE ... VIEW` statement of `view` in the package.
fn create_statement<'p>(statements: &[(Option<&'p str>, &'p str)], view: &str) -> Option<&'p str> {
    statements
        .iter()
        .filter(|(v, _)| *v == Some(view))
        .map(|(_, s)| *s)
        .find(|s| {
            let upper = s.get(..30).unwrap_or(s).to_ascii_uppercase();
            upper.starts_with("CREATE OR REPLACE VIEW") || upper.starts_with("CREATE VIEW")
        })
}

/// What an attempt will do.
struct Plan {
    views: Vec<(String, ViewChange)>,
    /// Views whose statements run.
    touch: BTreeSet<String>,
    /// Existing views among them (they wait for readers).
    lock: Vec<String>,
    /// Whether the package's shared statements run.
    run_preamble: bool,
    newer: Option<NewerPackage>,
}

impl Plan {
    fn waiting(&self, package: &Package) -> Waiting {
        let m = &package.manifest;
        let views = self.lock.iter().map(|v| qualified(&m.schema, v)).collect();
        let sources = self
            .touch
            .iter()
            .filter_map(|v| m.view(v))
            .map(|v| qualified(&v.source_schema, &v.source_table))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Waiting::Relations { views, sources }
    }
}

/// Compares the package with the live views and the applied record.
fn plan(
    package: &Package,
    live: &BTreeMap<String, Relation>,
    applied: Option<&AppliedRecord>,
    viewdefs: &BTreeMap<String, String>,
    statements: &[(Option<&str>, &str)],
) -> Result<Plan, Error> {
    let m = &package.manifest;
    let same_package = applied.is_some_and(|r| r.package_hash == m.package_hash());
    let as_recorded = |r: &AppliedRecord, view: &str| {
        r.views
            .get(view)
            .is_some_and(|p| viewdefs.get(view) == Some(&p.viewdef))
    };
    if let Some(r) = applied {
        if !same_package
            && extends(&r.manifest, m)
            && m.views.iter().all(|v| as_recorded(r, &v.name))
        {
            return Ok(Plan {
                views: m
                    .views
                    .iter()
                    .map(|v| (v.name.clone(), ViewChange::Unchanged))
                    .collect(),
                touch: BTreeSet::new(),
                lock: Vec::new(),
                run_preamble: false,
                newer: Some(NewerPackage {
                    package_hash: r.package_hash.clone(),
                    applied_at: r.applied_at.clone(),
                    applied_by: r.applied_by.clone(),
                    idpviews_version: r.idpviews_version.clone(),
                }),
            });
        }
    }
    let mut problems = Vec::new();
    let mut plan = Plan {
        views: Vec::new(),
        touch: BTreeSet::new(),
        lock: Vec::new(),
        run_preamble: !same_package,
        newer: None,
    };
    for view in &m.views {
        let Some(rel) = live.get(&view.name) else {
            plan.views.push((view.name.clone(), ViewChange::Created));
            plan.touch.insert(view.name.clone());
            continue;
        };
        let matches_record = applied.is_some_and(|r| {
            let sql = create_statement(statements, &view.name).map(record::fingerprint);
            r.views.get(&view.name).map(|p| &p.sql) == sql.as_ref() && as_recorded(r, &view.name)
        });
        let same_columns = rel.columns.len() == view.columns.len()
            && rel
                .columns
                .iter()
                .zip(&view.columns)
                .all(|(l, p)| l.name == p.column && l.sql_type == p.sql_type);
        if matches_record && rel.kind == "v" && same_columns {
            plan.views.push((view.name.clone(), ViewChange::Unchanged));
            continue;
        }
        let before = problems.len();
        check_view(&m.schema, view, rel, &mut problems);
        if problems.len() == before {
            let appended: Vec<String> = view.columns[rel.columns.len()..]
                .iter()
                .map(|c| c.column.clone())
                .collect();
            let change = if appended.is_empty() {
                ViewChange::Replaced
            } else {
                ViewChange::Appended(appended)
            };
            plan.views.push((view.name.clone(), change));
            plan.touch.insert(view.name.clone());
            plan.lock.push(view.name.clone());
        }
    }
    if !problems.is_empty() {
        return Err(Error::Incompatible(problems));
    }
    if !plan.touch.is_empty() {
        plan.run_preamble = true;
    }
    Ok(plan)
}

/// Whether `newer` extends `older`: every view of `older` is in `newer`,
/// over the same table, with `older`'s columns first (same names, types),
/// and every enum of `older` keeps its labels. A service built against
/// `older` reads a database holding `newer` correctly.
pub(crate) fn extends(newer: &Manifest, older: &Manifest) -> bool {
    newer.schema == older.schema
        && older.views.iter().all(|o| {
            newer.view(&o.name).is_some_and(|n| {
                n.source_schema == o.source_schema
                    && n.source_table == o.source_table
                    && n.tenant_column == o.tenant_column
                    && n.tenant_owner == o.tenant_owner
                    && n.columns.len() >= o.columns.len()
                    && o.columns.iter().zip(&n.columns).all(|(a, b)| {
                        a.column == b.column
                            && a.sql_type == b.sql_type
                            && a.enum_name == b.enum_name
                    })
            })
        })
        && older.enums.iter().all(|o| {
            newer.enum_(&o.name).is_some_and(|n| {
                n.source_schema == o.source_schema
                    && n.db_name == o.db_name
                    && o.values
                        .iter()
                        .all(|v| n.values.iter().any(|w| w.label == v.label))
            })
        })
}

/// The sessions holding or queued for the lock an attempt timed out on,
/// and a description of that lock.
async fn blockers<C: Conn>(conn: &mut C, waiting: &Waiting) -> (String, Vec<BlockingSession>) {
    const COLUMNS: &str = "a.pid, a.usename::text, a.application_name::text, a.state::text, \
        a.xact_start::text, a.query_start::text, left(a.query, 200), l.mode::text, l.granted";
    let (what, rows) = match waiting {
        Waiting::Advisory(key) => {
            let sql = format!(
                "SELECT {COLUMNS}, 'advisory lock ' || $1::text \
                 FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.classid = ($1 >> 32)::oid \
                   AND l.objid = ($1 & 4294967295)::oid AND l.objsubid = 1 \
                   AND l.pid <> pg_catalog.pg_backend_pid() ORDER BY l.granted DESC, a.pid"
            );
            (
                format!("the views advisory lock ({key})"),
                conn.query(&sql, &[key]).await,
            )
        }
        Waiting::Relations { views, sources } => {
            let sql = format!(
                "SELECT {COLUMNS}, l.relation::regclass::text \
                 FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'relation' AND l.pid <> pg_catalog.pg_backend_pid() \
                   AND (l.relation = ANY (SELECT to_regclass(x)::oid FROM unnest($1::text[]) x) \
                        OR (l.relation = ANY (SELECT to_regclass(x)::oid FROM unnest($2::text[]) x) \
                            AND l.mode = 'AccessExclusiveLock')) \
                 ORDER BY l.granted DESC, a.pid"
            );
            (
                format!("the view(s) {}", views.join(", ")),
                conn.query(&sql, &[views, sources]).await,
            )
        }
    };
    let sessions = rows
        .unwrap_or_default()
        .iter()
        .map(|r| BlockingSession {
            pid: r.get(0),
            user: r.get(1),
            application_name: r.get(2),
            state: r.get(3),
            transaction_start: r.get(4),
            query_start: r.get(5),
            query: r.get::<Option<String>>(6).map(|q| one_line(&q)),
            mode: r.get(7),
            granted: r.get(8),
            object: r.get(9),
        })
        .collect();
    (what, sessions)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
    /// The key of the package's own advisory lock statement.
    pub(crate) fn lock_key(&self) -> Option<i64> {
        let lock = self.lock?;
        let open = lock.find('(')?;
        let close = lock.rfind(')')?;
        lock.get(open + 1..close)?.trim().parse().ok()
    }

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
