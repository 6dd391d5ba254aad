//! Connecting with every wait bounded: what the CLI and services use.
//!
//! `tokio-postgres`' own `connect_timeout` bounds only the TCP connect: a
//! server (or a proxy) that accepts the connection and never answers the
//! startup packet hangs the caller forever. [`connect`] bounds the whole
//! handshake (TCP, startup, authentication) by the connect timeout per host,
//! like libpq's `connect_timeout`, and turns on TCP keepalives so that a
//! peer that vanishes later is noticed.

use crate::Error;
use std::time::Duration;

/// Connect timeout when the URL has none (`connect_timeout=` wins).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP keepalive: first probe after this much idle time (unless the URL
/// sets `keepalives_idle`).
pub const DEFAULT_KEEPALIVES_IDLE: Duration = Duration::from_secs(30);
/// TCP keepalive probe interval (unless the URL sets `keepalives_interval`).
pub const DEFAULT_KEEPALIVES_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered probes before the connection is dropped.
pub const DEFAULT_KEEPALIVES_RETRIES: u32 = 3;
/// Sent data unacknowledged this long drops the connection (Linux
/// `TCP_USER_TIMEOUT`; unless the URL sets `tcp_user_timeout`).
pub const DEFAULT_TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// Fills in the defaults above where the configuration has no value of its
/// own. `keepalives=0` in the URL is respected.
pub fn configure(config: &mut postgres::Config) {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    if config.get_keepalives() {
        // 2 h is the library default: not set by the URL
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(DEFAULT_KEEPALIVES_IDLE);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(DEFAULT_KEEPALIVES_INTERVAL);
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(DEFAULT_KEEPALIVES_RETRIES);
        }
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(DEFAULT_TCP_USER_TIMEOUT);
    }
}

/// The whole handshake's deadline: the connect timeout for each host tried.
pub fn deadline(config: &postgres::Config) -> Duration {
    let per_host = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    per_host * u32::try_from(config.get_hosts().len().max(1)).unwrap_or(u32::MAX)
}

/// Connects (no TLS) with [`configure`]'s defaults, the whole handshake
/// bounded by [`deadline`]. A handshake that times out is abandoned on a
/// helper thread, which ends when the server closes the socket.
pub fn connect(config: &postgres::Config) -> Result<postgres::Client, Error> {
    let mut config = config.clone();
    configure(&mut config);
    let deadline = deadline(&config);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("idpviews-connect".into())
        .spawn(move || {
            let _ = tx.send(config.connect(postgres::NoTls));
        })
        .map_err(|e| Error::Timeout(format!("cannot start the connecting thread: {e}")))?;
    match rx.recv_timeout(deadline) {
        Ok(result) => result.map_err(Error::db("cannot connect to the database")),
        Err(_) => Err(Error::Timeout(format!(
            "cannot connect to the database: no answer within {} s (the connect timeout; set \
             connect_timeout in the URL to change it)",
            deadline.as_secs_f64()
        ))),
    }
}

/// [`connect`] from a connection string (URL or `key=value` form).
pub fn connect_url(url: &str) -> Result<postgres::Client, Error> {
    let config: postgres::Config = url
        .parse()
        .map_err(|e| Error::InvalidInput(format!("not a valid connection string: {e}")))?;
    connect(&config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_wins_over_the_defaults() {
        let mut c: postgres::Config = "host=h connect_timeout=3 keepalives_idle=5"
            .parse()
            .unwrap();
        configure(&mut c);
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(5));
        assert_eq!(
            c.get_keepalives_interval(),
            Some(DEFAULT_KEEPALIVES_INTERVAL)
        );
        let mut d: postgres::Config = "host=a,b".parse().unwrap();
        configure(&mut d);
        assert_eq!(d.get_connect_timeout(), Some(&DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(d.get_keepalives_idle(), DEFAULT_KEEPALIVES_IDLE);
        assert_eq!(deadline(&d), DEFAULT_CONNECT_TIMEOUT * 2);
    }
}
