//! PgBouncer in transaction-pooling mode in front of a test database: what
//! products with five or more services put between themselves and
//! PostgreSQL, so that tests can prove behaviour through it (a tenant set by
//! one client never reaches another client's transaction).
//!
//! ```no_run
//! let db = idpviews_testdb::TestDb::new();
//! let role = db.create_role("product", Some("pw")).unwrap();
//! let bouncer = idpviews_testdb::PgBouncer::start(&db, &[(role.as_str(), "pw")]).unwrap();
//! let _client = postgres::Client::connect(&bouncer.url_for_role(&role, Some("pw")), postgres::NoTls);
//! // dropping `bouncer` stops PgBouncer and removes its files
//! ```
//!
//! The binary is `IDPVIEWS_PGBOUNCER`, else `pgbouncer` on `PATH`, else `/usr/sbin/pgbouncer`
//! (where Debian's `pgbouncer` package installs it). A missing binary is an error saying how to
//! install it, never a skip. Running as root, PgBouncer (which refuses root) runs as the
//! `postgres` OS user.

use crate::server::{effective_uid, free_port, os_user_ids};
use crate::{url, Error, ErrorKind, TestDb};
use std::fs;
use std::io::Read as _;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running PgBouncer (`pool_mode = transaction`) serving one test database on a free loopback
/// port; stopped and its files removed on drop.
#[derive(Debug)]
pub struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
    url: String,
    dbname: String,
}

/// The PgBouncer binary: `IDPVIEWS_PGBOUNCER`, `pgbouncer` on `PATH`, `/usr/sbin/pgbouncer`.
pub fn pgbouncer_binary() -> Result<PathBuf, Error> {
    find_binary(
        std::env::var_os("IDPVIEWS_PGBOUNCER"),
        std::env::var_os("PATH"),
    )
}

fn find_binary(
    var: Option<std::ffi::OsString>,
    path: Option<std::ffi::OsString>,
) -> Result<PathBuf, Error> {
    if let Some(p) = var {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(missing(&format!(
                "IDPVIEWS_PGBOUNCER is `{}`, which is not a file",
                p.display()
            )))
        };
    }
    let on_path = path
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.is_file())
        .ok_or_else(|| missing("no `pgbouncer` on PATH, in /usr/sbin or /usr/local/sbin"))
}

fn missing(why: &str) -> Error {
    Error::new(
        ErrorKind::NoPostgres,
        format!(
            "PgBouncer is needed by this test and was not found ({why}): install it \
             (Debian/Ubuntu: `apt-get install pgbouncer`; CI: .ci/run does) or set \
             IDPVIEWS_PGBOUNCER to the binary"
        ),
    )
}

fn err(message: String) -> Error {
    Error::new(ErrorKind::Cluster, message)
}

impl PgBouncer {
    /// Starts PgBouncer in transaction-pooling mode in front of `db`'s server, for `db` only.
    /// `logins` are the `(role, password)` pairs clients will use (the admin user of `db` is
    /// always allowed); PgBouncer passes them on to the server.
    pub fn start(db: &TestDb, logins: &[(&str, &str)]) -> Result<PgBouncer, Error> {
        let binary = pgbouncer_binary()?;
        let config: postgres::Config = db
            .url()
            .parse()
            .map_err(|e| err(format!("cannot parse the test database URL: {e}")))?;
        let (host, port) = server_address(&config)?;
        let admin = config.get_user().unwrap_or("postgres").to_owned();
        let admin_pw = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();

        let is_root = effective_uid() == Some(0);
        let run_as = if is_root {
            Some(os_user_ids("postgres").ok_or_else(|| {
                err(
                    "running as root, but there is no `postgres` OS user to run PgBouncer as \
                     (it refuses to run as root)"
                        .into(),
                )
            })?)
        } else {
            None
        };
        let parent = if is_root {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = parent.join(format!(
            "idpviews-pgbouncer-{}-{}",
            std::process::id(),
            crate::unique_suffix()
        ));
        fs::create_dir(&dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));

        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut users = format!("{} {}\n", quote(&admin), quote(&admin_pw));
        for (role, pw) in logins {
            users.push_str(&format!("{} {}\n", quote(role), quote(pw)));
        }
        let mut last_error = String::new();
        // A free port can be taken between finding it and PgBouncer binding it: retry.
        for _ in 0..5 {
            let listen = free_port()?;
            let ini = format!(
                "[databases]\n\
                 {name} = host={host} port={port} dbname={name}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {listen}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 max_client_conn = 100\n\
                 default_pool_size = 2\n\
                 server_reset_query =\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {log}\n\
                 pidfile = {pid}\n",
                name = db.name(),
                users = dir.join("users.txt").display(),
                log = dir.join("pgbouncer.log").display(),
                pid = dir.join("pgbouncer.pid").display(),
            );
            write(&dir.join("pgbouncer.ini"), &ini, run_as)?;
            write(&dir.join("users.txt"), &users, run_as)?;
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                    .map_err(|e| err(format!("cannot give {} to postgres: {e}", dir.display())))?;
            }
            let mut cmd = Command::new(&binary);
            if run_as.is_some() {
                cmd.args(["-u", "postgres"]);
            }
            let mut child = cmd
                .arg(dir.join("pgbouncer.ini"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| err(format!("cannot start {}: {e}", binary.display())))?;
            let started = Instant::now();
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut stderr = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut stderr);
                    }
                    let log = fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default();
                    last_error = format!("PgBouncer exited ({status}): {stderr}{log}");
                    break;
                }
                if TcpStream::connect_timeout(
                    &([127, 0, 0, 1], listen).into(),
                    Duration::from_millis(200),
                )
                .is_ok()
                {
                    return Ok(PgBouncer {
                        child,
                        port: listen,
                        url: url::with_dbname(
                            &format!("postgres://127.0.0.1:{listen}/"),
                            db.name(),
                        ),
                        dbname: db.name().to_owned(),
                        dir,
                    });
                }
                if started.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = "PgBouncer did not listen within 10 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = fs::remove_dir_all(&dir);
        Err(err(format!("cannot start PgBouncer: {last_error}")))
    }

    /// The loopback port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of the database through PgBouncer as `role`.
    pub fn url_for_role(&self, role: &str, password: Option<&str>) -> String {
        url::with_user(&self.url, &self.dbname, role, password)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn server_address(config: &postgres::Config) -> Result<(String, u16), Error> {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Ok((host, port))
}

fn write(path: &Path, text: &str, run_as: Option<(u32, u32)>) -> Result<(), Error> {
    fs::write(path, text).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| err(format!("cannot give {} to postgres: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let e = find_binary(Some("/nonexistent/pgbouncer".into()), None).unwrap_err();
        assert!(e.to_string().contains("apt-get install pgbouncer"), "{e}");
        assert!(e.to_string().contains("/nonexistent/pgbouncer"), "{e}");
    }
}
