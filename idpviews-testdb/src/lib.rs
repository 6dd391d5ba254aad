//! Fresh PostgreSQL databases for tests and examples.
//!
//! ```no_run
//! let db = idpviews_testdb::TestDb::new(); // a new, uniquely named database
//! let mut client = db.connect();          // as a superuser of that server
//! client.batch_execute("CREATE TABLE t (id int)").unwrap();
//! let role = db.role_name("product");     // a unique role name, dropped with the database
//! client
//!     .batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw'"))
//!     .unwrap();
//! let _as_product = postgres::Client::connect(&db.url_for_role(&role, Some("pw")), postgres::NoTls);
//! // dropping `db` drops the database (WITH (FORCE)) and the role
//! ```
//!
//! The server comes from `DATABASE_URL`, else the local server at `127.0.0.1:5432` (user
//! `postgres`), else a throwaway cluster started from the machine's PostgreSQL binaries and removed
//! when the process exits: see [`Server`] for the details. No PostgreSQL at all is an error (a
//! panic in [`TestDb::new`]) that says how to get one; tests are never skipped silently.
//!
//! Database names are `t_<pid>_<counter>_<random>`, so tests run in parallel, in one process or
//! many (`cargo test` and `cargo nextest` alike), without clashing.
//!
//! # Environment
//! | variable | effect |
//! |---|---|
//! | `DATABASE_URL` | use this server (its user must be allowed to `CREATE DATABASE`/`CREATE ROLE`) |
//! | `IDPVIEWS_TESTDB_SERVER=throwaway` | skip the local server: always start a throwaway cluster |
//! | `IDPVIEWS_PRISMA_DIR` | where the Prisma tool is installed (default: `tools/prisma`) |
//! | `IDPVIEWS_PGBOUNCER` | the PgBouncer binary (default: `pgbouncer` on `PATH`, else `/usr/sbin/pgbouncer`) |
//!
//! `cargo run -p idpviews-testdb` prints the server that would be used.
//!
//! A test process killed while a `TestDb` is alive leaves its database (and roles) behind on a
//! shared server; a throwaway cluster is always removed (see [`Server`]).
//!
//! [`PgBouncer::start`] puts a PgBouncer in transaction-pooling mode in front of a test database
//! (tests of what products see behind a pooler); a missing `pgbouncer` binary is an error, never a
//! skip.
//!
//! The [`prisma`] module runs Prisma's own CLI (pinned in `tools/prisma`) to validate and format
//! schemas in tests.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

mod pgbouncer;
pub mod prisma;
mod server;
mod url;

pub use pgbouncer::{pgbouncer_binary, PgBouncer};
pub use server::{
    redact, select_server, server, throwaway_cluster, Selection, Server, Source, LOCAL_URL,
};

/// What went wrong while finding a server or creating a database.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The kind of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No server and no binaries to start one: the message says how to get PostgreSQL.
    NoPostgres,
    /// `DATABASE_URL` (or the probed URL) is invalid or its server cannot be reached.
    DatabaseUrl,
    /// Starting a throwaway cluster failed.
    Cluster,
    /// A statement on the server failed (e.g. `CREATE DATABASE`).
    Database,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A random-looking suffix, different for every call (time, counter and a per-process random key).
pub(crate) fn unique_suffix() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

const MAX_IDENT: usize = 63;

/// One fresh database, dropped (with the roles named by [`TestDb::role_name`]) on `Drop`.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    source: Source,
    roles: Mutex<BTreeSet<String>>,
}

impl TestDb {
    /// A fresh database on the shared [`server`](crate::server()).
    ///
    /// # Panics
    /// When no PostgreSQL is available (with a message saying how to get one) or the database
    /// cannot be created. Use [`TestDb::try_new`] for a `Result`.
    #[track_caller]
    pub fn new() -> TestDb {
        match TestDb::try_new() {
            Ok(db) => db,
            Err(e) => panic!("idpviews-testdb: {e}"),
        }
    }

    /// Like [`TestDb::new`], as a `Result` (for examples and command-line tools).
    pub fn try_new() -> Result<TestDb, Error> {
        server()?.create_db()
    }

    pub(crate) fn create_on(server: &Server) -> Result<TestDb, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            unique_suffix()
        );
        let mut admin = server.connect_admin()?;
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Database,
                    format!(
                        "CREATE DATABASE {name} on {} failed: {}",
                        redact(server.admin_url()),
                        server::error_chain(&e)
                    ),
                )
            })?;
        Ok(TestDb {
            url: url::with_dbname(server.admin_url(), &name),
            admin_url: server.admin_url().to_string(),
            source: server.source(),
            name,
            roles: Mutex::new(BTreeSet::new()),
        })
    }

    /// The database name (`t_<pid>_<counter>_<random>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connection string of this database, as the server's admin user (a superuser unless
    /// `DATABASE_URL` says otherwise). A `postgres://` URL unless `DATABASE_URL` is a key/value
    /// string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection string of the server's admin database.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// How the server was found.
    pub fn source(&self) -> Source {
        self.source
    }

    /// A new connection to this database as the admin user.
    ///
    /// # Panics
    /// When the connection fails; see [`TestDb::try_connect`].
    #[track_caller]
    pub fn connect(&self) -> postgres::Client {
        match self.try_connect() {
            Ok(c) => c,
            Err(e) => panic!("idpviews-testdb: {e}"),
        }
    }

    /// A new connection to this database as the admin user.
    pub fn try_connect(&self) -> Result<postgres::Client, Error> {
        server::connect(&self.url).map_err(|e| {
            Error::new(
                ErrorKind::Database,
                format!(
                    "cannot connect to {}: {}",
                    redact(&self.url),
                    server::error_chain(&e)
                ),
            )
        })
    }

    /// A unique role name for this database, `<database name>_<suffix>` (e.g.
    /// `t_4242_0_1a2b3c4d_product`). Roles created under names returned here are dropped with the
    /// database. `suffix` is lowercased; characters other than `[a-z0-9_]` become `_`; a name
    /// longer than PostgreSQL's 63 bytes is shortened with a hash, so it stays unique.
    pub fn role_name(&self, suffix: &str) -> String {
        let mut clean: String = suffix
            .chars()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if clean.is_empty() {
            clean.push_str("role");
        }
        let mut name = format!("{}_{clean}", self.name);
        if name.len() > MAX_IDENT {
            let mut h = std::hash::DefaultHasher::new();
            h.write(suffix.as_bytes());
            let hash = format!("{:08x}", h.finish() as u32);
            let keep = MAX_IDENT.saturating_sub(self.name.len() + 2 + hash.len());
            name = format!("{}_{}_{hash}", self.name, &clean[..keep.min(clean.len())]);
        }
        self.roles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.clone());
        name
    }

    /// Creates a `LOGIN` role named by [`TestDb::role_name`] (with `password`, when given) and
    /// returns its name. The role has no other privilege; it is dropped with the database.
    pub fn create_role(&self, suffix: &str, password: Option<&str>) -> Result<String, Error> {
        let role = self.role_name(suffix);
        let mut sql = format!("CREATE ROLE {} LOGIN", quote_ident(&role));
        if let Some(pw) = password {
            sql.push_str(&format!(" PASSWORD {}", quote_literal(pw)));
        }
        self.try_connect()?.batch_execute(&sql).map_err(|e| {
            Error::new(
                ErrorKind::Database,
                format!("CREATE ROLE {role} failed: {}", server::error_chain(&e)),
            )
        })?;
        Ok(role)
    }

    /// The connection string of this database as `role` (with `password`, when given).
    pub fn url_for_role(&self, role: &str, password: Option<&str>) -> String {
        url::with_user(&self.url, &self.name, role, password)
    }

    fn cleanup(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let roles: Vec<String> =
            std::mem::take(&mut *self.roles.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        // Objects and privileges of the roles in this database; the rest goes with the database.
        if !roles.is_empty() {
            match server::connect(&self.url) {
                Ok(mut c) => {
                    for role in &roles {
                        let sql = format!(
                            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) \
                             THEN EXECUTE {}; END IF; END $$",
                            quote_literal(role),
                            quote_literal(&format!("DROP OWNED BY {}", quote_ident(role)))
                        );
                        if let Err(e) = c.batch_execute(&sql) {
                            problems
                                .push(format!("DROP OWNED BY {role}: {}", server::error_chain(&e)));
                        }
                    }
                }
                Err(e) => problems.push(format!(
                    "cannot connect to {}: {}",
                    self.name,
                    server::error_chain(&e)
                )),
            }
        }
        let mut admin = match server::connect(&self.admin_url) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!(
                    "cannot connect to {}: {}",
                    redact(&self.admin_url),
                    server::error_chain(&e)
                ));
                return problems;
            }
        };
        let db = quote_ident(&self.name);
        if let Err(e) = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")) {
            // PostgreSQL < 13 has no WITH (FORCE).
            let fallback = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {}; \
                 DROP DATABASE IF EXISTS {db}",
                quote_literal(&self.name)
            );
            if let Err(e2) = admin.batch_execute(&fallback) {
                problems.push(format!(
                    "DROP DATABASE {}: {}; {}",
                    self.name,
                    server::error_chain(&e),
                    server::error_chain(&e2)
                ));
            }
        }
        for role in &roles {
            if let Err(e) =
                admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(role)))
            {
                problems.push(format!("DROP ROLE {role}: {}", server::error_chain(&e)));
            }
        }
        problems
    }
}

impl Default for TestDb {
    /// [`TestDb::new`].
    fn default() -> TestDb {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        for problem in self.cleanup() {
            eprintln!(
                "idpviews-testdb: warning: cleanup of {}: {problem}",
                self.name
            );
        }
    }
}
