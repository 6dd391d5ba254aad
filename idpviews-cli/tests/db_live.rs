//! The `idpviews` binary on a live database: a killed apply leaves no
//! locks behind, a closed stdout is no panic, a server that never answers
//! is an error within the connect timeout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn package_dir() -> String {
    root()
        .join("example-idp/packages/idp-views")
        .to_str()
        .unwrap()
        .to_owned()
}

fn idp_db() -> idpviews_testdb::TestDb {
    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    for f in ["001_idp_tables.sql", "002_idp_seed.sql"] {
        c.batch_execute(&std::fs::read_to_string(root().join("example-idp/sql").join(f)).unwrap())
            .unwrap();
    }
    db
}

fn idpviews() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idpviews"));
    c.env_remove("DATABASE_URL");
    c
}

/// Waits for `child` at most `limit`; kills it and fails otherwise.
fn wait_bounded(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).unwrap();
            }
            return (status.code(), err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("idpviews did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Applies the package, changes `IdpTenant` by hand (so the next apply must
/// replace it) and returns a connection whose open transaction reads it:
/// the next apply waits for that reader.
fn applied_then_changed_with_a_reader(db: &idpviews_testdb::TestDb, pkg: &str) -> postgres::Client {
    let mut c = db.connect();
    let out = idpviews()
        .args(["apply", "--database-url", db.url(), "--views", pkg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    c.batch_execute(
        "CREATE OR REPLACE VIEW idp_views.\"IdpTenant\" AS \
         SELECT id, name, slug, is_active, created_at FROM idp.tenants WHERE true",
    )
    .unwrap();
    let mut reader = db.connect();
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM idp_views.\"IdpTenant\";")
        .unwrap();
    reader
}

#[test]
fn a_killed_waiting_apply_leaves_no_locks_behind() {
    let db = idp_db();
    let pkg = package_dir();
    let mut reader = applied_then_changed_with_a_reader(&db, &pkg);
    let mut c = db.connect();

    let mut child = idpviews()
        .args(["apply", "--database-url", db.url(), "--views", &pkg])
        .args(["--lock-timeout", "3s", "--retries", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its backend waits for ACCESS EXCLUSIVE on the view.
    let mut pid = None;
    for _ in 0..1000 {
        pid = c
            .query_opt(
                "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
                 WHERE a.application_name = 'idpviews' AND a.datname = current_database() \
                 AND NOT l.granted AND l.mode = 'AccessExclusiveLock'",
                &[],
            )
            .unwrap()
            .map(|r| r.get::<_, i32>(0));
        if pid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = pid.expect("the apply waits for its lock");
    let held: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND granted",
            &[&pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 1, "it holds the advisory lock while it waits");

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The backend does not notice the dead client while it waits; the lock
    // timeout ends the wait, then the backend finds the client gone and
    // exits: its locks are gone within the lock timeout (plus slack).
    let start = Instant::now();
    loop {
        let n: i64 = c
            .query_one("SELECT count(*) FROM pg_locks WHERE pid = $1", &[&pid])
            .unwrap()
            .get(0);
        if n == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "backend {pid} still holds {n} lock(s) 20 s after its client was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The reader was never disturbed and the database is unchanged.
    reader.batch_execute("COMMIT").unwrap();
    let def: String = c
        .query_one(
            "SELECT pg_get_viewdef('idp_views.\"IdpTenant\"'::regclass)",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(def.contains("WHERE true"), "{def}");
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let db = idp_db();
    let pkg = package_dir();
    let runs: [&[&str]; 4] = [
        &["apply", "--database-url", db.url(), "--views", &pkg],
        &["verify", "--database-url", db.url(), "--views", &pkg],
        &[
            "grants",
            "--views",
            &pkg,
            "--role",
            "reader",
            "--product-schema",
            "app",
        ],
        &["--help"],
    ];
    for args in runs {
        // `idpviews ... | head -0`: the pipe is closed before anything is written.
        let mut child = idpviews()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let (code, stderr) = wait_bounded(child, Duration::from_secs(60));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(code, Some(101), "{args:?}: {stderr}");
        assert!(code.is_some(), "{args:?} was killed by a signal");
    }
    // The apply above did its work and said so with its exit status.
    let mut c = db.connect();
    let n: i64 = c
        .query_one("SELECT count(*) FROM idp_views.\"IdpUser\"", &[])
        .unwrap()
        .get(0);
    assert!(n > 0);
}

#[test]
fn a_server_that_never_answers_is_an_error_within_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s); // accept, never answer
        }
    });
    let pkg = package_dir();
    for (url, seconds) in [
        (
            format!("postgres://nobody@127.0.0.1:{port}/db?connect_timeout=1"),
            "1",
        ),
        // no connect_timeout in the URL: the 10 s default
        (format!("postgres://nobody@127.0.0.1:{port}/db"), "10"),
    ] {
        for command in ["apply", "verify"] {
            let child = idpviews()
                .args([command, "--database-url", &url, "--views", &pkg])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let (code, stderr) = wait_bounded(child, Duration::from_secs(40));
            assert_eq!(code, Some(1), "{command}: {stderr}");
            assert!(
                stderr.contains(&format!("no answer within {seconds} s")),
                "{command}: {stderr}"
            );
            if seconds == "10" {
                break; // one command is enough for the default
            }
        }
    }
}

#[test]
fn wrap_migration_rewrites_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("migration.sql");
    let migration =
        "-- AlterTable\nALTER TABLE \"idp\".\"users\" ALTER COLUMN \"email\" SET DATA TYPE VARCHAR(320);\n";
    std::fs::write(&file, migration).unwrap();
    let run = || {
        idpviews()
            .args(["wrap-migration", "--views", &package_dir()])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("idp.users.email") && stdout.contains("IdpUser"),
        "{stdout}"
    );
    let wrapped = std::fs::read_to_string(&file).unwrap();
    assert!(
        wrapped.starts_with("-- idpviews wrap-migration"),
        "{wrapped}"
    );
    assert!(wrapped.contains(migration.trim_end()), "{wrapped}");
    // twice: refused, the file as it was
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already wrapped"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), wrapped);

    // a migration on a table no view reads: left as it is
    let other = "-- CreateTable\nCREATE TABLE \"idp\".\"audit\" (\"id\" UUID NOT NULL);\n";
    std::fs::write(&file, other).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to wrap"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), other);
}

#[test]
fn a_blocked_apply_exits_1_naming_the_blocker() {
    let db = idp_db();
    let pkg = package_dir();
    let mut reader = applied_then_changed_with_a_reader(&db, &pkg);
    let pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let child = idpviews()
        .args(["apply", "--database-url", db.url(), "--views", &pkg])
        .args(["--lock-timeout", "300ms", "--retries", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr) = wait_bounded(child, Duration::from_secs(60));
    assert_eq!(code, Some(1), "{stderr}");
    for needle in [
        &format!("pid {pid}"),
        "2 attempt(s), lock timeout 300 ms",
        "nothing was changed",
        "how to proceed",
    ] {
        assert!(stderr.contains(needle), "`{needle}` missing: {stderr}");
    }
    reader.batch_execute("COMMIT").unwrap();
    let out = idpviews()
        .args(["apply", "--database-url", db.url(), "--views", &pkg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("IdpTenant: replaced"));
}

#[test]
fn wrap_migration_refuses_up_front_when_a_product_view_depends() {
    let db = idp_db();
    let pkg = package_dir();
    let out = idpviews()
        .args(["apply", "--database-url", db.url(), "--views", &pkg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut c = db.connect();
    c.batch_execute(
        r#"CREATE SCHEMA product; CREATE VIEW product.emails AS SELECT email FROM idp_views."IdpUser";"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("migration.sql");
    let migration =
        "-- AlterTable\nALTER TABLE \"idp\".\"users\" ALTER COLUMN \"email\" SET DATA TYPE VARCHAR(320);\n";
    std::fs::write(&file, migration).unwrap();
    let out = idpviews()
        .args([
            "wrap-migration",
            "--views",
            &pkg,
            "--database-url",
            db.url(),
        ])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("IdpUser: rule _RETURN on view product.emails"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), migration);
}
