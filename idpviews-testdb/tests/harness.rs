//! The test harness against a real PostgreSQL: isolation, cleanup, server selection, and the
//! throwaway-cluster path.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idpviews_testdb::{
    select_server, server, throwaway_cluster, ErrorKind, Selection, Source, TestDb,
};

const BIN: &str = env!("CARGO_BIN_EXE_idpviews-testdb");

fn database_exists(name: &str) -> bool {
    let mut admin = server().unwrap().connect_admin().unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

fn role_exists(name: &str) -> bool {
    let mut admin = server().unwrap().connect_admin().unwrap();
    admin
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&name])
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[test]
fn two_test_databases_are_isolated() {
    let a = TestDb::new();
    let b = TestDb::new();
    assert_ne!(a.name(), b.name());
    assert_ne!(a.url(), b.url());

    let mut ca = a.connect();
    let mut cb = b.connect();
    ca.batch_execute("CREATE TABLE only_in_a (id int); INSERT INTO only_in_a VALUES (1), (2)")
        .unwrap();
    let in_a: i64 = ca
        .query_one("SELECT count(*) FROM only_in_a", &[])
        .unwrap()
        .get(0);
    assert_eq!(in_a, 2);
    let seen_from_b: Option<String> = cb
        .query_one("SELECT to_regclass('only_in_a')::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        seen_from_b, None,
        "a table of one TestDb is visible in another"
    );
    let db: String = cb
        .query_one("SELECT current_database()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(db, b.name());
}

#[test]
fn drop_removes_the_database_and_its_roles() {
    let db = TestDb::new();
    let name = db.name().to_string();
    // A role that owns objects and holds privileges in the database: DROP ROLE alone would fail.
    let owner = db.create_role("owner", Some("s3cret pass")).unwrap();
    let plain = db.role_name("plain");
    let never_created = db.role_name("never_created");
    let mut c = db.connect();
    c.batch_execute(&format!(
        "CREATE ROLE \"{plain}\" NOLOGIN;
         GRANT CREATE ON SCHEMA public TO \"{owner}\";
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{plain}\";
         GRANT CONNECT ON DATABASE \"{name}\" TO \"{plain}\";"
    ))
    .unwrap();
    // Connect as the new role with its password, create a table it owns.
    let mut as_owner = postgres::Client::connect(
        &db.url_for_role(&owner, Some("s3cret pass")),
        postgres::NoTls,
    )
    .unwrap();
    as_owner
        .batch_execute("CREATE TABLE owned_by_role (id int)")
        .unwrap();
    let who: String = as_owner
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(who, owner);
    assert!(database_exists(&name));
    assert!(role_exists(&owner) && role_exists(&plain));

    drop(c);
    drop(db); // also while `as_owner` is still connected: WITH (FORCE)
    assert!(!database_exists(&name), "database {name} survived Drop");
    assert!(!role_exists(&owner), "role {owner} survived Drop");
    assert!(!role_exists(&plain), "role {plain} survived Drop");
    assert!(!role_exists(&never_created));
    assert!(as_owner.is_closed() || as_owner.simple_query("SELECT 1").is_err());
}

#[test]
fn role_names_are_unique_valid_identifiers() {
    let a = TestDb::new();
    let b = TestDb::new();
    assert_ne!(a.role_name("app"), b.role_name("app"));
    assert!(a.role_name("app").starts_with("t_"));
    assert_eq!(
        a.role_name("Product-Role"),
        format!("{}_product_role", a.name())
    );
    let long1 = a.role_name(&"x".repeat(100));
    let long2 = a.role_name(&format!("{}y", "x".repeat(99)));
    assert!(long1.len() <= 63 && long2.len() <= 63);
    assert_ne!(long1, long2);
    // Usable as is.
    a.connect()
        .batch_execute(&format!("CREATE ROLE \"{long1}\""))
        .unwrap();
    assert!(role_exists(&long1));
    drop(a);
    assert!(!role_exists(&long1));
}

#[test]
fn many_test_databases_in_parallel() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let db = TestDb::new();
                let mut c = db.connect();
                c.batch_execute("CREATE TABLE t (v int)").unwrap();
                c.execute("INSERT INTO t VALUES ($1)", &[&i]).unwrap();
                let v: i32 = c.query_one("SELECT v FROM t", &[]).unwrap().get(0);
                assert_eq!(v, i);
                db.name().to_string()
            })
        })
        .collect();
    let mut names: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for n in &names {
        assert!(!database_exists(n));
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8);
}

fn wait_until_gone(dir: &Path, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if !dir.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !dir.exists()
}

#[test]
fn throwaway_cluster_works_even_when_a_server_is_up() {
    let shared = server().expect("a server for the other tests");
    // A leftover of a process that died without cleaning up (its pid no longer exists).
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let stale: Vec<PathBuf> = [std::env::temp_dir(), PathBuf::from("/tmp")]
        .iter()
        .map(|p| p.join(format!("idpviews-testdb-{dead_pid}-stale")))
        .collect();
    for s in &stale {
        std::fs::create_dir_all(s.join("data")).unwrap();
    }

    let cluster = throwaway_cluster().expect("a throwaway cluster");
    let parent = cluster
        .cluster_dir()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    for s in &stale {
        if s.parent() == Some(parent.as_path()) {
            assert!(!s.exists(), "stale {} was not cleaned up", s.display());
        } else {
            let _ = std::fs::remove_dir_all(s);
        }
    }
    assert_eq!(cluster.source(), Source::Throwaway);
    assert_ne!(cluster.port(), shared.port());
    assert_eq!(cluster.host(), "127.0.0.1");
    let dir: PathBuf = cluster.cluster_dir().unwrap().to_path_buf();
    assert!(dir.join("data").join("PG_VERSION").exists());
    assert!(cluster.log_file().unwrap().exists());

    let db = cluster.create_db().unwrap();
    assert!(db.url().contains(&format!(":{}/", cluster.port())));
    let mut c = db.connect();
    c.batch_execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('hello')")
        .unwrap();
    let v: String = c.query_one("SELECT v FROM t", &[]).unwrap().get(0);
    assert_eq!(v, "hello");
    let port: String = c
        .query_one("SELECT current_setting('port')", &[])
        .unwrap()
        .get(0);
    assert_eq!(port, cluster.port().to_string());
    let fsync: String = c
        .query_one("SELECT current_setting('fsync')", &[])
        .unwrap()
        .get(0);
    assert_eq!(fsync, "off");
    let encoding: String = c
        .query_one("SELECT pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = current_database()", &[])
        .unwrap()
        .get(0);
    assert_eq!(encoding, "UTF8");
    drop(c);
    drop(db);

    let admin_url = cluster.admin_url().to_string();
    drop(cluster);
    assert!(
        !dir.exists(),
        "{} survived Drop of the Server",
        dir.display()
    );
    assert!(
        postgres::Client::connect(&admin_url, postgres::NoTls).is_err(),
        "the throwaway server still answers after Drop"
    );
}

#[test]
fn a_throwaway_cluster_is_removed_when_its_process_is_killed() {
    let mut child = Command::new(BIN)
        .arg("throwaway")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dir_line = lines.next().expect("a line").unwrap();
    let dir = PathBuf::from(dir_line.strip_prefix("cluster_dir: ").expect(&dir_line));
    let port_line = lines.next().expect("a line").unwrap();
    let port: u16 = port_line.strip_prefix("port: ").unwrap().parse().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    assert!(dir.exists());
    postgres::Client::connect(&url, postgres::NoTls)
        .expect("the child's cluster answers")
        .simple_query("SELECT 1")
        .unwrap();

    child.kill().unwrap(); // SIGKILL: no destructor, no atexit
    child.wait().unwrap();
    assert!(
        wait_until_gone(&dir, Duration::from_secs(30)),
        "{} survived the death of its process",
        dir.display()
    );
    assert!(postgres::Client::connect(&url, postgres::NoTls).is_err());
}

#[test]
fn database_url_is_honoured() {
    // A role that may create databases and roles, but is not the local superuser: a server
    // picked from DATABASE_URL connects as it; the local server would connect as `postgres`.
    let db = TestDb::new();
    let role = db.role_name("ci");
    db.connect()
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" LOGIN CREATEDB CREATEROLE PASSWORD 'pw'"
        ))
        .unwrap();
    let url = db.url_for_role(&role, Some("pw"));

    // The selection function, directly.
    let picked = select_server(&Selection {
        database_url: Some(url.clone()),
        ..Selection::from_env()
    })
    .unwrap();
    assert_eq!(picked.source(), Source::Env);
    assert_eq!(picked.admin_url(), url);
    drop(picked);

    // And the process-wide `server()`, in a child process with DATABASE_URL set.
    let out = Command::new(BIN)
        .arg("create-db")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("source: env (DATABASE_URL)"), "{stdout}");
    assert!(
        stdout.contains(&format!("current_user: {role}")),
        "{stdout}"
    );
    assert!(stdout.contains("admin_url: postgres://"), "{stdout}");
    assert!(!stdout.contains("pw@"), "password not redacted: {stdout}");
    let child_db = stdout
        .lines()
        .find_map(|l| l.strip_prefix("database: "))
        .unwrap()
        .to_string();
    assert!(!database_exists(&child_db), "the child's database survived");

    // A DATABASE_URL that does not work is an error, not a silent fallback.
    let out = Command::new(BIN)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL is set but unusable"),
        "{stderr}"
    );
}

#[test]
fn no_postgres_at_all_is_an_error_that_says_how_to_get_one() {
    let err = select_server(&Selection {
        database_url: None,
        local_url: Some("postgres://postgres@127.0.0.1:1/postgres".to_string()),
        bin_dirs: Some(vec![]),
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoPostgres);
    let msg = err.to_string();
    for needle in [
        "no PostgreSQL server is available",
        "apt-get install postgresql",
        "DATABASE_URL",
        "127.0.0.1:1",
        "initdb",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from:\n{msg}");
    }
}

#[test]
fn an_empty_database_url_means_unset() {
    let picked = select_server(&Selection {
        database_url: Some(String::new()),
        ..Selection::from_env()
    });
    let picked = picked.expect("the local server or a throwaway cluster");
    assert_ne!(picked.source(), Source::Env);
}

#[test]
fn the_shared_throwaway_cluster_is_removed_at_process_exit() {
    let out = Command::new(BIN)
        .arg("create-db")
        .env_remove("DATABASE_URL")
        .env("IDPVIEWS_TESTDB_SERVER", "throwaway")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("source: throwaway cluster"), "{stdout}");
    assert!(stdout.contains("current_user: postgres"), "{stdout}");
    let dir = PathBuf::from(
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("cluster_dir: "))
            .expect("a cluster_dir line"),
    );
    assert!(
        wait_until_gone(&dir, Duration::from_secs(30)),
        "{} survived the exit of its process",
        dir.display()
    );
}
