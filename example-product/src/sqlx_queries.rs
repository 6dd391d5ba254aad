//! The generated view types on a sqlx connection: what a service built on
//! sqlx writes. The `sqlx` feature of `idpviews` makes `IdpUser` a
//! `sqlx::FromRow`, `UserType` a sqlx type (bindable, `Unknown` for labels
//! this build does not know), and `Prefixed` decode the IDP side of a JOIN
//! from `PgRow`s; the database operations (`idpviews::apply_sqlx`,
//! `verify_sqlx`, `audit_sqlx`, `tenant::set_tenant_sqlx`) take a
//! `&mut PgConnection` (or `&mut tx`). The service brings its own sqlx
//! (same 0.9 line) with the runtime and TLS it wants; `idpviews` adds no
//! runtime.

use crate::idp::{IdpUser, UserType};
use crate::queries::{drivers_with_users_sql, Driver, DriverWithUser};
use idpviews::{Applied, RowError, VerifyReport};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Row};
use std::fmt;
use std::time::Duration;

/// A sqlx query failed, or the IDP side of a JOIN row did not decode.
#[derive(Debug)]
pub enum SqlxQueryError {
    Db(sqlx::Error),
    Row(RowError),
}

impl fmt::Display for SqlxQueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlxQueryError::Db(e) => write!(f, "{}", idpviews::error_chain(e)),
            SqlxQueryError::Row(e) => write!(f, "cannot decode a row: {e}"),
        }
    }
}

impl std::error::Error for SqlxQueryError {}

impl From<sqlx::Error> for SqlxQueryError {
    fn from(e: sqlx::Error) -> Self {
        SqlxQueryError::Db(e)
    }
}

impl From<RowError> for SqlxQueryError {
    fn from(e: RowError) -> Self {
        SqlxQueryError::Row(e)
    }
}

/// sqlx connect options for what a `postgres::Config` says (the product
/// role set up by [`crate::setup::prepare`]).
pub fn connect_options(config: &postgres::Config) -> PgConnectOptions {
    let mut options = PgConnectOptions::new_without_pgpass();
    if let Some(postgres::config::Host::Tcp(host)) = config.get_hosts().first() {
        options = options.host(host);
    }
    #[cfg(unix)]
    if let Some(postgres::config::Host::Unix(dir)) = config.get_hosts().first() {
        options = options.socket(dir);
    }
    if let Some(port) = config.get_ports().first() {
        options = options.port(*port);
    }
    if let Some(user) = config.get_user() {
        options = options.username(user);
    }
    if let Some(password) = config.get_password() {
        options = options.password(&String::from_utf8_lossy(password));
    }
    if let Some(db) = config.get_dbname() {
        options = options.database(db);
    }
    options
}

/// Connects through sqlx, bounded by the config's connect timeout (10 s
/// when it has none): a connection attempt never waits forever.
pub async fn connect(config: &postgres::Config) -> Result<PgConnection, sqlx::Error> {
    let limit = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(10));
    match tokio::time::timeout(limit, connect_options(config).connect()).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no connection within {limit:?}"),
        ))),
    }
}

/// The views package through sqlx: `apply_sqlx` as the admin (locked and
/// idempotent: a package already applied is left unchanged), then
/// `verify_sqlx` as the product role (reading the catalogs needs no more
/// than its grants). A failed verify is an error (`idpviews::Error::Verify`).
pub async fn apply_and_verify(
    admin: &mut PgConnection,
    product: &mut PgConnection,
) -> Result<(Applied, VerifyReport), idpviews::Error> {
    let applied = idpviews::apply_sqlx(admin, crate::idp::package()).await?;
    let report = idpviews::verify_sqlx(product, crate::idp::package()).await?;
    Ok((applied, report.into_result()?))
}

fn driver(row: &PgRow) -> Result<Driver, sqlx::Error> {
    Ok(Driver {
        id: row.try_get("d__id")?,
        idp_user_id: row.try_get("d__idp_user_id")?,
        license_number: row.try_get("d__license_number")?,
        vehicle_plate: row.try_get("d__vehicle_plate")?,
        created_at: row.try_get("d__created_at")?,
    })
}

/// Query 1 through sqlx: every driver with its IDP user; the IDP side
/// decodes with `Prefixed` from the `u__` columns of each `PgRow`.
pub async fn list_drivers(conn: &mut PgConnection) -> Result<Vec<DriverWithUser>, SqlxQueryError> {
    let sql = drivers_with_users_sql("ORDER BY d.\"created_at\", d.\"id\"");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let users = IdpUser::prefixed(first.columns(), "u__")?;
    rows.iter()
        .map(|row| {
            Ok(DriverWithUser {
                driver: driver(row)?,
                user: users.decode(row)?,
            })
        })
        .collect()
}

/// The IDP users with a given user type, straight from the view with
/// `query_as` (the enum is a bound parameter), by first name.
pub async fn users_of_type(
    conn: &mut PgConnection,
    user_type: &UserType,
) -> Result<Vec<IdpUser>, SqlxQueryError> {
    let sql = format!(
        "{} WHERE $1 = ANY(\"user_types\") ORDER BY \"first_name\", \"id\"",
        IdpUser::SELECT
    );
    Ok(sqlx::query_as::<_, IdpUser>(AssertSqlSafe(sql))
        .bind(user_type)
        .fetch_all(&mut *conn)
        .await?)
}
