//! Finding (or starting) the PostgreSQL server that tests and examples use: see [`Server`].

use std::fs;
use std::io::{PipeWriter, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{unique_suffix, Error, ErrorKind, TestDb};

/// The URL of the local server probed when `DATABASE_URL` is not set.
pub const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How the server was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `DATABASE_URL`.
    Env,
    /// The local server at `127.0.0.1:5432`.
    Local,
    /// A throwaway cluster started by this process.
    Throwaway,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Env => "env (DATABASE_URL)",
            Source::Local => "local (127.0.0.1:5432)",
            Source::Throwaway => "throwaway cluster",
        })
    }
}

/// What [`select_server`] considers. [`Selection::from_env`] is what [`server`] uses.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Used (and required to work) when `Some` and not empty.
    pub database_url: Option<String>,
    /// Probed next; [`LOCAL_URL`] by default, `None` when `IDPVIEWS_TESTDB_SERVER=throwaway`.
    pub local_url: Option<String>,
    /// Where to look for `initdb`/`pg_ctl`; `None` = `PATH`, then `/usr/lib/postgresql/*/bin`.
    pub bin_dirs: Option<Vec<PathBuf>>,
}

impl Selection {
    /// `DATABASE_URL` from the environment, the local server, the default binary search.
    /// `IDPVIEWS_TESTDB_SERVER=throwaway` skips the local server (isolation from a developer's
    /// own server, or testing the throwaway path).
    pub fn from_env() -> Selection {
        let throwaway_only = std::env::var("IDPVIEWS_TESTDB_SERVER").as_deref() == Ok("throwaway");
        Selection {
            database_url: std::env::var("DATABASE_URL").ok(),
            local_url: (!throwaway_only).then(|| LOCAL_URL.to_string()),
            bin_dirs: None,
        }
    }
}

/// A PostgreSQL server on which tests create their databases.
///
/// # Selection order
/// 1. `DATABASE_URL`, when set and not empty. A failure to connect is an error: the user asked for
///    that server, we do not silently use another one.
/// 2. The local server at `127.0.0.1:5432` as user `postgres` (trust auth), when it answers and
///    lets us in.
/// 3. A throwaway cluster made with the machine's PostgreSQL binaries (`initdb`, `pg_ctl`, found on
///    `PATH` or under `/usr/lib/postgresql/*/bin`), trust auth, listening on a free loopback port.
///    When running as root the binaries run as the `postgres` OS user (PostgreSQL refuses to run as
///    root) and the cluster directory is owned by that user.
///
/// No server at all is an [`Error`] of kind [`ErrorKind::NoPostgres`] that says how to get one.
///
/// # Removal of throwaway clusters
/// A throwaway cluster lives in `<tmp>/idpviews-testdb-<pid>-<unique>/` (`/tmp` when running as
/// root, so that the `postgres` user can reach it). Three mechanisms make sure it goes away:
/// - **A watchdog process**, started before `initdb`, whose standard input is the read end of a
///   pipe whose only write end (close-on-exec) is held by the [`Server`]. When the server is
///   dropped, or when the process exits *in any way* (normal exit, panic, `SIGKILL`), the kernel
///   closes the write end, the watchdog reads end-of-file and runs `pg_ctl stop -m immediate` and
///   `rm -rf` on the directory. It is in its own process group, so a Ctrl-C on the terminal does
///   not kill it before it has cleaned up. This is what removes the per-process shared cluster
///   (which lives in a `static` and is never dropped).
/// - **`Drop` of an owned [`Server`]** (from [`throwaway_cluster`]) closes the pipe and *waits* for
///   the watchdog, so the directory is gone when `drop` returns.
/// - **Stale-directory cleanup**: before starting a cluster, directories of processes that no
///   longer exist (by the pid in their name, Linux `/proc`) are stopped and removed, in case a
///   watchdog itself was killed.
#[derive(Debug)]
pub struct Server {
    source: Source,
    admin_url: String,
    host: String,
    port: u16,
    version: String,
    cluster: Option<Cluster>,
}

impl Server {
    /// How this server was found.
    pub fn source(&self) -> Source {
        self.source
    }

    /// A connection string of a user allowed to `CREATE DATABASE` and `CREATE ROLE` (a superuser
    /// except when `DATABASE_URL` says otherwise).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The host (or Unix socket directory) of the server.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port of the server.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `server_version` as reported by the server, e.g. `15.10 (Debian 15.10-0+deb12u1)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// For a throwaway cluster: the directory holding its data directory, log and socket.
    pub fn cluster_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(|c| c.base.as_path())
    }

    /// For a throwaway cluster: its server log.
    pub fn log_file(&self) -> Option<PathBuf> {
        self.cluster.as_ref().map(|c| c.base.join("postgres.log"))
    }

    /// A new connection to the admin database.
    pub fn connect_admin(&self) -> Result<postgres::Client, Error> {
        connect(&self.admin_url).map_err(|e| {
            Error::new(
                ErrorKind::Database,
                format!(
                    "cannot connect to {} ({}): {e}",
                    redact(&self.admin_url),
                    self.source
                ),
            )
        })
    }

    /// Creates a fresh, uniquely named database on this server.
    pub fn create_db(&self) -> Result<TestDb, Error> {
        TestDb::create_on(self)
    }

    fn from_url(url: &str, source: Source) -> Result<Server, Error> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Error::new(
                ErrorKind::DatabaseUrl,
                format!("`{}` is not a valid connection string: {e}", redact(url)),
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let mut client = config.connect(postgres::NoTls).map_err(|e| {
            Error::new(
                ErrorKind::DatabaseUrl,
                format!("cannot connect to `{}`: {}", redact(url), error_chain(&e)),
            )
        })?;
        let version: String = client
            .query_one("SELECT current_setting('server_version')", &[])
            .map(|row| row.get(0))
            .map_err(|e| Error::new(ErrorKind::Database, error_chain(&e)))?;
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_string(),
        };
        Ok(Server {
            source,
            admin_url: url.to_string(),
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            version,
            cluster: None,
        })
    }
}

/// The server shared by every test of this process, selected once ([`Selection::from_env`]).
/// A throwaway cluster started here is removed when the process exits (see the module docs).
pub fn server() -> Result<&'static Server, Error> {
    static SERVER: std::sync::OnceLock<Result<Server, Error>> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| select_server(&Selection::from_env()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Picks a server as described in the module docs.
pub fn select_server(sel: &Selection) -> Result<Server, Error> {
    if let Some(url) = sel.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return Server::from_url(url, Source::Env).map_err(|e| {
            Error::new(
                ErrorKind::DatabaseUrl,
                format!(
                    "DATABASE_URL is set but unusable: {e}\n\
                     Fix the URL (its user must be allowed to CREATE DATABASE and CREATE ROLE), \
                     or unset it to use the local server or a throwaway cluster."
                ),
            )
        });
    }
    let local_err = match &sel.local_url {
        Some(url) => match Server::from_url(url, Source::Local) {
            Ok(server) => return Ok(server),
            Err(e) => e.to_string(),
        },
        None => "skipped (IDPVIEWS_TESTDB_SERVER=throwaway)".to_string(),
    };
    match start_cluster(sel.bin_dirs.as_deref()) {
        Ok(server) => Ok(server),
        Err(e) if e.kind() == ErrorKind::NoPostgres => Err(Error::new(
            ErrorKind::NoPostgres,
            format!(
                "no PostgreSQL server is available for the tests.\n\
                 Tried, in order:\n\
                 \x20 1. DATABASE_URL: not set\n\
                 \x20 2. the local server: {local_err}\n\
                 \x20 3. a throwaway cluster: {e}\n\
                 How to get one (any of):\n\
                 \x20 - install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`; macOS: \
                 `brew install postgresql`): the tests then start a throwaway cluster by themselves, \
                 or use the local server on 127.0.0.1:5432 (user `postgres`, trust auth) if it runs;\n\
                 \x20 - set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB to a server where USER \
                 may CREATE DATABASE and CREATE ROLE."
            ),
        )),
        Err(e) => Err(Error::new(
            e.kind(),
            format!(
                "no usable PostgreSQL server: the local server is unusable ({local_err}) and \
                 starting a throwaway cluster failed: {e}\n\
                 Alternatively set DATABASE_URL to a server where you may CREATE DATABASE and \
                 CREATE ROLE."
            ),
        )),
    }
}

/// Always starts a fresh throwaway cluster (even when another server is up). It is stopped and
/// its directory removed when the returned [`Server`] is dropped, or at process exit.
pub fn throwaway_cluster() -> Result<Server, Error> {
    start_cluster(None)
}

// ---------------------------------------------------------------------------------------------
// Throwaway clusters
// ---------------------------------------------------------------------------------------------

const DIR_PREFIX: &str = "idpviews-testdb-";

#[derive(Debug)]
struct Cluster {
    base: PathBuf,
    watchdog: Option<(Child, PipeWriter)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some((mut child, writer)) = self.watchdog.take() {
            drop(writer); // end-of-file for the watchdog: it stops the server and removes `base`
            let _ = child.wait();
        }
    }
}

/// `initdb` and `pg_ctl` of one PostgreSQL installation, and the OS user to run them as.
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    run_as: Option<(u32, u32)>,
}

impl Binaries {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        cmd.env("LC_ALL", "C").current_dir("/");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn version_key(dir: &Path) -> Vec<u64> {
    // /usr/lib/postgresql/<version>/bin
    dir.parent()
        .and_then(|p| p.file_name())
        .map(|v| {
            v.to_string_lossy()
                .split('.')
                .map(|part| part.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default()
}

fn find_binaries(bin_dirs: Option<&[PathBuf]>) -> Option<(PathBuf, PathBuf)> {
    let candidates: Vec<PathBuf> = match bin_dirs {
        Some(dirs) => dirs.to_vec(),
        None => {
            let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default();
            let mut versioned: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.path().join("bin"))
                        .collect()
                })
                .unwrap_or_default();
            versioned.sort_by_key(|d| std::cmp::Reverse(version_key(d)));
            dirs.extend(versioned);
            dirs
        }
    };
    for dir in candidates {
        let initdb = dir.join("initdb");
        if !is_executable(&initdb) {
            continue;
        }
        // Resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so
        // that pg_ctl comes from the same installation.
        let initdb = fs::canonicalize(&initdb).unwrap_or(initdb);
        let real_dir = initdb
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or(dir.clone());
        for pg_ctl in [real_dir.join("pg_ctl"), dir.join("pg_ctl")] {
            if is_executable(&pg_ctl) {
                return Some((initdb, pg_ctl));
            }
        }
    }
    None
}

pub(crate) fn effective_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self is owned by the effective uid (Linux); `id -u` elsewhere.
    if let Ok(m) = fs::metadata("/proc/self") {
        return Some(m.uid());
    }
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

pub(crate) fn os_user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

pub(crate) fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(ErrorKind::Cluster, format!("cannot find a free port: {e}")))
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Cluster,
        format!("{what} `{}`: {e}", path.display()),
    )
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_string()
}

fn start_cluster(bin_dirs: Option<&[PathBuf]>) -> Result<Server, Error> {
    let (initdb, pg_ctl) = find_binaries(bin_dirs).ok_or_else(|| {
        Error::new(
            ErrorKind::NoPostgres,
            "no PostgreSQL binaries (`initdb` and `pg_ctl`) on PATH or under \
             /usr/lib/postgresql/*/bin",
        )
    })?;
    let is_root = effective_uid() == Some(0);
    let run_as = if is_root {
        Some(os_user_ids("postgres").ok_or_else(|| {
            Error::new(
                ErrorKind::Cluster,
                "running as root, but there is no `postgres` OS user to run initdb/pg_ctl as \
                 (PostgreSQL refuses to run as root): create one (`useradd --system postgres`) \
                 or run as a non-root user",
            )
        })?)
    } else {
        None
    };
    let bins = Binaries {
        initdb,
        pg_ctl,
        run_as,
    };
    let parent = if is_root {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    };
    remove_stale_clusters(&parent, &bins);

    let base = parent.join(format!(
        "{DIR_PREFIX}{}-{}",
        std::process::id(),
        unique_suffix()
    ));
    fs::create_dir(&base).map_err(|e| io_err("cannot create", &base, e))?;
    let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o700));
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&base, Some(uid), Some(gid))
            .map_err(|e| io_err("cannot give to the postgres user", &base, e))?;
    }
    // From here on, dropping `server` (e.g. on an error below) removes `base`.
    let mut server = Server {
        source: Source::Throwaway,
        admin_url: String::new(),
        host: "127.0.0.1".to_string(),
        port: 0,
        version: String::new(),
        cluster: Some(Cluster {
            base: base.clone(),
            watchdog: None,
        }),
    };
    let watchdog = spawn_watchdog(&bins, &base).inspect_err(|_| {
        let _ = fs::remove_dir_all(&base);
    })?;
    if let Some(c) = server.cluster.as_mut() {
        c.watchdog = Some(watchdog);
    }

    let data = base.join("data");
    // C.UTF-8 (like Debian's clusters) where the C library has it, else plain C. initdb removes
    // the data directory when it fails, so the second attempt starts clean.
    let mut failures = Vec::new();
    for locale in ["--locale=C.UTF-8", "--locale=C"] {
        let out = bins
            .command(&bins.initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                locale,
                "--no-sync",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| io_err("cannot run", &bins.initdb, e))?;
        if out.status.success() {
            failures.clear();
            break;
        }
        failures.push(format!(
            "`{} -D {} {locale}` failed: {}",
            bins.initdb.display(),
            data.display(),
            output_text(&out)
        ));
    }
    if !failures.is_empty() {
        return Err(Error::new(ErrorKind::Cluster, failures.join("\n")));
    }

    let conf = data.join("postgresql.conf");
    let log = base.join("postgres.log");
    let mut last_error = String::new();
    for _attempt in 0..3 {
        let port = free_port()?;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|e| io_err("cannot open", &conf, e))?;
        writeln!(
            f,
            "\n# idpviews-testdb throwaway cluster\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{}'\n\
             max_connections = 200\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off",
            base.display()
        )
        .map_err(|e| io_err("cannot write", &conf, e))?;
        drop(f);
        let out = bins
            .command(&bins.pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| io_err("cannot run", &bins.pg_ctl, e))?;
        if out.status.success() {
            let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
            let probe = Server::from_url(&url, Source::Throwaway)?;
            server.admin_url = url;
            server.port = port;
            server.version = probe.version;
            return Ok(server);
        }
        last_error = format!(
            "{}\n--- server log ---\n{}",
            output_text(&out),
            tail(&log, 20)
        );
    }
    Err(Error::new(
        ErrorKind::Cluster,
        format!(
            "`pg_ctl start` failed for the throwaway cluster in {}: {last_error}",
            base.display()
        ),
    ))
}

/// The shell script of the watchdog: wait for end-of-file on stdin, then stop and remove.
const WATCHDOG: &str = r#"cat >/dev/null
if [ -f "$2/postmaster.pid" ]; then "$1" -D "$2" -m immediate -w -t 30 stop >/dev/null 2>&1; fi
rm -rf "$3""#;

fn spawn_watchdog(bins: &Binaries, base: &Path) -> Result<(Child, PipeWriter), Error> {
    let (reader, writer) =
        std::io::pipe().map_err(|e| io_err("cannot create a pipe for", base, e))?;
    let child = bins
        .command(Path::new("/bin/sh"))
        .arg("-c")
        .arg(WATCHDOG)
        .arg("idpviews-testdb-watchdog")
        .arg(&bins.pg_ctl)
        .arg(base.join("data"))
        .arg(base)
        .stdin(Stdio::from(reader))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| io_err("cannot start the cleanup watchdog for", base, e))?;
    Ok((child, writer))
}

fn remove_stale_clusters(parent: &Path, bins: &Binaries) {
    if !Path::new("/proc/self").exists() {
        return; // cannot tell dead processes from live ones
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let base = entry.path();
        let data = base.join("data");
        if data.join("postmaster.pid").exists() {
            let _ = bins
                .command(&bins.pg_ctl)
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .stdin(Stdio::null())
                .output();
        }
        let _ = fs::remove_dir_all(&base);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

pub(crate) fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.connect(postgres::NoTls)
}

/// The message of an error and of its sources (the `postgres` crate puts the useful part of a
/// connection error in the source).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// Hides the password of a URL (`postgres://u:***@h/db`) for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db?x=1"),
            "postgres://u:***@h:5/db?x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=h"), "host=h");
    }

    #[test]
    fn versioned_directories_sort_newest_first() {
        let mut dirs = [
            PathBuf::from("/usr/lib/postgresql/9.6/bin"),
            PathBuf::from("/usr/lib/postgresql/16/bin"),
            PathBuf::from("/usr/lib/postgresql/15/bin"),
        ];
        dirs.sort_by_key(|d| std::cmp::Reverse(version_key(d)));
        assert_eq!(dirs[0], PathBuf::from("/usr/lib/postgresql/16/bin"));
        assert_eq!(dirs[2], PathBuf::from("/usr/lib/postgresql/9.6/bin"));
    }
}
