//! What the database commands (`apply`, `verify`, `audit`) share: the
//! connection and the package arguments.

use crate::format::Failure;
pub(crate) use idpviews::error_chain;
use idpviews::Package;
use std::path::PathBuf;

/// `--database-url` and `--views`.
#[derive(clap::Args, Debug)]
pub(crate) struct DatabaseArgs {
    /// The database, e.g. `postgres://user@host:5432/db` (default: the
    /// `DATABASE_URL` environment variable). Plain TCP or a Unix socket: no TLS.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The views package: a vendored package directory (`idp-views.lock` +
    /// `create-idp-views.sql`) or a build script's `$OUT_DIR/idpviews`
    /// (`views.json`, which also holds the product's relations).
    #[arg(long, value_name = "DIR")]
    pub views: PathBuf,
}

impl DatabaseArgs {
    /// The package, or why it is unreadable (exit status 2).
    pub(crate) fn package(&self) -> Result<Package, Failure> {
        Package::from_dir(&self.views).map_err(|e| Failure::new(2, "package", e.to_string()))
    }

    /// The package, then a connection: what `apply` and `verify` start with.
    pub(crate) fn open(&self) -> Result<(Package, postgres::Client), Failure> {
        let package = self.package()?;
        Ok((package, self.connect()?))
    }

    /// A connection, or why there is none: exit status 2 when no URL was
    /// given or it does not parse, 1 when connecting fails.
    /// The URL itself is never printed (it may hold a password). Every wait
    /// is bounded ([`idpviews::connect`]): connect timeout 10 s unless the
    /// URL sets `connect_timeout`, TCP keepalives on.
    pub(crate) fn connect(&self) -> Result<postgres::Client, Failure> {
        let url = match self
            .database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok())
        {
            Some(url) if !url.trim().is_empty() => url,
            _ => {
                return Err(Failure::usage(
                    "no database: pass --database-url <URL> or set DATABASE_URL",
                ))
            }
        };
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Failure::usage(format!(
                "--database-url is not a valid connection string: {e}"
            ))
        })?;
        if config.get_application_name().is_none() {
            // names this session in pg_stat_activity and in lock reports
            config.application_name("idpviews");
        }
        idpviews::connect(&config).map_err(|e| {
            let mut failure = Failure::new(1, "connection", error_chain(&e));
            if let Some(state) = e.sqlstate() {
                failure
                    .details
                    .insert("sqlstate".into(), serde_json::json!(state));
            }
            failure
        })
    }
}
