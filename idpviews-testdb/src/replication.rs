//! Extra clusters for replication tests: a primary with logical WAL, its streaming hot standby,
//! and a subscriber cluster, all throwaway clusters on loopback started from the machine's
//! PostgreSQL binaries (a local or `DATABASE_URL` server is never touched: its configuration is
//! not ours to change).
//!
//! ```no_run
//! let clusters = idpviews_testdb::replication::clusters().unwrap();
//! let idp = clusters.primary().create_db().unwrap();           // the publisher's database
//! let product = clusters.subscriber().unwrap().create_db().unwrap(); // a product's own database
//! let standby = clusters.standby().unwrap();                     // read-only copy of the primary
//! clusters.wait_for_standby(std::time::Duration::from_secs(30)).unwrap();
//! ```
//!
//! One set per test process, started on first use (a standby or subscriber only when asked for),
//! shared by the tests of that process (each test still uses its own databases and roles), and
//! removed at process exit like every throwaway cluster.

use crate::server::{error_chain, throwaway_cluster_with, REPLICATION_CONF};
use crate::{Error, ErrorKind, Server};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The clusters of one test process; see the module docs.
#[derive(Debug)]
pub struct Clusters {
    primary: Server,
    standby: OnceLock<Result<Server, Error>>,
    subscriber: OnceLock<Result<Server, Error>>,
}

/// The replication clusters of this process, the primary started on first call.
pub fn clusters() -> Result<&'static Clusters, Error> {
    static CLUSTERS: OnceLock<Result<Clusters, Error>> = OnceLock::new();
    CLUSTERS
        .get_or_init(|| {
            let primary = throwaway_cluster_with(REPLICATION_CONF).map_err(|e| {
                Error::new(e.kind(), format!("starting the replication primary: {e}"))
            })?;
            // Column lists and row filters of publications: PostgreSQL 15.
            let major: u32 = primary
                .version()
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if major < 15 {
                return Err(Error::new(
                    ErrorKind::NoPostgres,
                    format!(
                        "the replication tests need PostgreSQL 15 or newer binaries (publication \
                         column lists and row filters); found {}: install postgresql-15 or newer",
                        primary.version()
                    ),
                ));
            }
            Ok(Clusters {
                primary,
                standby: OnceLock::new(),
                subscriber: OnceLock::new(),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Clusters {
    /// The primary (`wal_level = logical`): the IDP's server in replication tests.
    pub fn primary(&self) -> &Server {
        &self.primary
    }

    /// The streaming hot standby of [`Clusters::primary`], started on first call.
    pub fn standby(&self) -> Result<&Server, Error> {
        self.standby
            .get_or_init(|| {
                self.primary
                    .start_standby()
                    .map_err(|e| Error::new(e.kind(), format!("starting the hot standby: {e}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A separate cluster for products' own databases (logical subscribers), started on first
    /// call.
    pub fn subscriber(&self) -> Result<&Server, Error> {
        self.subscriber
            .get_or_init(|| {
                throwaway_cluster_with(REPLICATION_CONF).map_err(|e| {
                    Error::new(e.kind(), format!("starting the subscriber cluster: {e}"))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Waits until the standby has replayed everything the primary has written so far (bounded
    /// by `timeout`).
    pub fn wait_for_standby(&self, timeout: Duration) -> Result<(), Error> {
        let standby = self.standby()?;
        let mut primary = self.primary.connect_admin()?;
        let target: String = primary
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .map_err(|e| Error::new(ErrorKind::Database, error_chain(&e)))?
            .get(0);
        let mut replica = standby.connect_admin()?;
        wait_until(timeout, "the standby to replay the primary's WAL", || {
            let row = replica
                .query_one(
                    "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                    &[&target],
                )
                .map_err(|e| error_chain(&e))?;
            Ok(row.get::<_, Option<bool>>(0) == Some(true))
        })
    }
}

/// Polls `check` every 20 ms until it returns `Ok(true)`, `Err` (returned at once), or `timeout`
/// passes (an error naming `what` and the last state).
pub fn wait_until(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Result<bool, String>,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Database,
                    format!("while waiting for {what}: {e}"),
                ))
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Database,
                format!("timed out after {timeout:?} waiting for {what}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
