//! `idpviews::apply` on a live database, with real concurrent sessions:
//! unchanged means untouched, every wait bounded with the blockers named,
//! older compatible packages are a no-op (rolling deploys and rollbacks).

mod db_fixture;

use db_fixture::*;
use idpviews::{ApplyOptions, Error, ViewChange};
use std::sync::mpsc;
use std::time::Duration;

/// Polls `f` every 20 ms until it returns `Some` (at most 20 s).
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("gave up waiting for {what}");
}

fn backend_pid(c: &mut postgres::Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
}

/// A session inside a transaction that read `view` (it holds ACCESS SHARE).
fn open_reader(db: &idpviews_testdb::TestDb, view: &str) -> (postgres::Client, i32) {
    let mut r = db.connect();
    r.batch_execute(&format!(
        "SET application_name = 'long report'; BEGIN; SELECT count(*) FROM idp_views.\"{view}\";"
    ))
    .unwrap();
    let pid = backend_pid(&mut r);
    (r, pid)
}

#[test]
fn reapplying_the_same_package_takes_no_lock_that_conflicts_with_readers() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).unwrap();
    let before = views_snapshot(&mut c);
    let comment_before: Option<String> = c
        .query_one(
            "SELECT obj_description('idp_views'::regnamespace, 'pg_namespace')",
            &[],
        )
        .unwrap()
        .get(0);

    // Another session holds EXCLUSIVE on every view, which conflicts with
    // every lock mode but ACCESS SHARE (the readers' lock): any other lock
    // the re-apply took on a view would wait for it (and fail after its long
    // lock timeout); it must finish while the locks are still held. (It
    // reads the definitions with pg_get_viewdef, which takes ACCESS SHARE.)
    let mut holder = db.connect();
    holder
        .batch_execute(
            "BEGIN; LOCK TABLE idp_views.\"IdpUser\", idp_views.\"IdpTenant\" IN EXCLUSIVE MODE;",
        )
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let (url, p) = (db.url().to_owned(), package.clone());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let options = ApplyOptions::default()
            .lock_timeout(Duration::from_secs(60))
            .retries(0);
        let _ = tx.send(idpviews::apply_with(&mut c, &p, &options));
    });
    let applied = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the re-apply waited for a lock on a view")
        .expect("re-apply");
    holder.batch_execute("COMMIT").unwrap();
    assert!(applied.is_noop(), "{applied}");
    assert_eq!(
        applied.views,
        vec![
            ("IdpUser".to_owned(), ViewChange::Unchanged),
            ("IdpTenant".to_owned(), ViewChange::Unchanged)
        ]
    );
    assert!(applied.to_string().contains("nothing changed"), "{applied}");
    // Nothing changed, not even the record.
    assert_eq!(views_snapshot(&mut c), before);
    let comment_after: Option<String> = c
        .query_one(
            "SELECT obj_description('idp_views'::regnamespace, 'pg_namespace')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(comment_after, comment_before);
}

#[test]
fn the_applied_record_is_the_schema_comment() {
    let db = idp_db();
    let package = package(VIEWS_BASE);
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).unwrap();
    let text: String = c
        .query_one(
            "SELECT obj_description('idp_views'::regnamespace, 'pg_namespace')",
            &[],
        )
        .unwrap()
        .get(0);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["idpviews_record"], 1);
    assert_eq!(json["package_hash"], package.manifest.package_hash());
    let me: String = c
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(json["applied_by"], me.as_str());
    assert_eq!(json["manifest"]["schema"], "idp_views");
    let viewdef: String = c
        .query_one(
            "SELECT pg_get_viewdef('idp_views.\"IdpUser\"'::regclass)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        json["views"]["IdpUser"]["viewdef"],
        idpviews::manifest::content_hash(viewdef.as_bytes())
    );
    let sql = json["views"]["IdpUser"]["sql"].as_str().unwrap();
    assert!(sql.starts_with("sha256:"), "{sql}");

    // A view changed by hand no longer matches its fingerprint: re-applying
    // the same package restores it.
    c.batch_execute(
        "CREATE OR REPLACE VIEW idp_views.\"IdpTenant\" AS SELECT id, name FROM idp.\"Tenant\" WHERE name <> 'A'",
    )
    .unwrap();
    let applied = idpviews::apply(&mut c, &package).unwrap();
    assert_eq!(
        applied.views,
        vec![
            ("IdpUser".to_owned(), ViewChange::Unchanged),
            ("IdpTenant".to_owned(), ViewChange::Replaced)
        ]
    );
    let n: i64 = c
        .query_one("SELECT count(*) FROM idp_views.\"IdpTenant\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[test]
fn an_upgrade_behind_a_long_reader_gives_up_naming_it_and_succeeds_later() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_BASE)).unwrap();
    let before = views_snapshot(&mut c);
    let (mut reader, reader_pid) = open_reader(&db, "IdpUser");

    let upgrade = package(VIEWS_APPENDED);
    let (tx, rx) = mpsc::channel();
    let (url, p) = (db.url().to_owned(), upgrade.clone());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute("SET application_name = 'upgrade'").unwrap();
        let options = ApplyOptions::default()
            .lock_timeout(Duration::from_millis(1500))
            .retries(1)
            .backoff(Duration::from_millis(100));
        let _ = tx.send(idpviews::apply_with(&mut c, &p, &options));
    });

    // pg_locks: the upgrade waits for ACCESS EXCLUSIVE on IdpUser.
    let mut observer = db.connect();
    let waiting_pid: i32 = wait_for("the upgrade to wait for its lock", || {
        observer
            .query_opt(
                "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
                 WHERE a.application_name = 'upgrade' AND NOT l.granted \
                 AND l.mode = 'AccessExclusiveLock' AND l.relation = 'idp_views.\"IdpUser\"'::regclass",
                &[],
            )
            .unwrap()
            .map(|r| r.get(0))
    });
    assert_ne!(waiting_pid, reader_pid);
    // While it waits: a reader of a view that does not change is not
    // blocked at all, and a new reader of IdpUser is served (it queues at
    // most until the upgrade's lock wait times out).
    let n: i64 = observer
        .query_one("SELECT count(*) FROM idp_views.\"IdpTenant\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    // Nor is the IDP: its table under the view can be read and written.
    let n = observer
        .execute(r#"UPDATE idp."User" SET nickname = nickname"#, &[])
        .expect("the IDP table is not locked by the waiting upgrade");
    assert_eq!(n, 5);
    let mut new_reader = db.connect();
    let n: i64 = new_reader
        .query_one("SELECT count(*) FROM idp_views.\"IdpUser\"", &[])
        .expect("a new reader is served")
        .get(0);
    assert_eq!(n, 5);

    let err = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the upgrade gives up")
        .expect_err("the reader holds the view");
    let Error::Blocked(blocked) = &err else {
        panic!("expected Error::Blocked, got {err:?}");
    };
    assert_eq!(blocked.attempts, 2);
    let session = blocked
        .sessions
        .iter()
        .find(|s| s.pid == reader_pid)
        .unwrap_or_else(|| panic!("the reader is not named: {blocked:#?}"));
    assert!(session.granted);
    assert_eq!(session.mode, "AccessShareLock");
    assert_eq!(session.application_name.as_deref(), Some("long report"));
    assert_eq!(session.state.as_deref(), Some("idle in transaction"));
    assert!(session.transaction_start.is_some() && session.query_start.is_some());
    let message = err.to_string();
    for needle in [
        &format!("pid {reader_pid}"),
        "application_name \"long report\"",
        "idle in transaction",
        "nothing was changed",
        "pg_terminate_backend",
        "--lock-timeout",
    ] {
        assert!(
            message.contains(needle),
            "`{needle}` missing from:\n{message}"
        );
    }
    assert_eq!(views_snapshot(&mut c), before, "the database changed");

    // The reader ends: the upgrade goes through.
    reader.batch_execute("COMMIT").unwrap();
    let applied = idpviews::apply(&mut c, &upgrade).expect("upgrade after the reader ended");
    assert_eq!(
        applied.views,
        vec![
            (
                "IdpUser".to_owned(),
                ViewChange::Appended(vec!["nickname".to_owned()])
            ),
            ("IdpTenant".to_owned(), ViewChange::Unchanged)
        ]
    );
}

#[test]
fn an_older_compatible_package_is_a_noop_and_verifies_with_a_note() {
    let db = idp_db();
    let (v0, v1, v2) = (
        package(VIEWS_USER_ONLY),
        package(VIEWS_BASE),
        package(VIEWS_APPENDED),
    );
    let mut c = db.connect();
    idpviews::apply(&mut c, &v2).unwrap();
    let before = views_snapshot(&mut c);
    for older in [&v1, &v0] {
        let applied = idpviews::apply(&mut c, older).expect("an older compatible package");
        assert!(applied.newer.is_some(), "{applied}");
        assert!(applied.is_noop());
        assert!(
            applied
                .to_string()
                .contains("newer views package that extends this one"),
            "{applied}"
        );
        let report = idpviews::verify(&mut c, older).unwrap();
        assert!(report.is_ok(), "{report}");
        assert!(
            report
                .findings()
                .any(|f| f.severity == idpviews::Severity::Note
                    && f.message.contains("newer package that extends this one")),
            "{report}"
        );
    }
    assert_eq!(views_snapshot(&mut c), before);

    // A real incompatibility is still an error: v2 without `email`.
    let err = idpviews::apply(&mut c, &package(VIEWS_DROPPED_EMAIL)).expect_err("incompatible");
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
}

#[test]
fn alternating_v1_v2_startups_all_succeed_and_verify_agrees() {
    let db = idp_db();
    let (v1, v2) = (package(VIEWS_BASE), package(VIEWS_APPENDED));
    // Rolling deploy and rollback: 12 services, old and new alternating,
    // starting at once, twice.
    for _ in 0..2 {
        let barrier = std::sync::Barrier::new(12);
        std::thread::scope(|s| {
            for i in 0..12 {
                let (db, barrier) = (&db, &barrier);
                let p = if i % 2 == 0 { &v1 } else { &v2 };
                s.spawn(move || {
                    let mut c = db.connect();
                    barrier.wait();
                    let applied = idpviews::apply(&mut c, p)
                        .unwrap_or_else(|e| panic!("start-up {i} failed: {e}"));
                    let report = idpviews::verify(&mut c, p).unwrap();
                    assert!(report.is_ok(), "start-up {i}: {applied}\n{report}");
                });
            }
        });
    }
    // One after the other too.
    let mut c = db.connect();
    for p in [&v1, &v2, &v1, &v2, &v1] {
        idpviews::apply(&mut c, p).expect("sequential start-up");
        assert!(idpviews::verify(&mut c, p).unwrap().is_ok());
    }
    let json: String = c
        .query_one(
            "SELECT obj_description('idp_views'::regnamespace, 'pg_namespace')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(json.contains(&v2.manifest.package_hash()), "{json}");
}

#[test]
fn apply_sets_server_side_timeouts_for_its_transaction_only() {
    let db = idp_db();
    let mut c = db.connect();
    // A package statement that reports the settings it runs under.
    let mut p = package(VIEWS_BASE);
    p.sql = p
        .sql
        .replace(
            "COMMIT;",
            "DO $$ BEGIN RAISE EXCEPTION 'settings: % % %', current_setting('lock_timeout'), \
             current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'); END $$;\nCOMMIT;",
        )
        .into();
    let options = ApplyOptions::default()
        .lock_timeout(Duration::from_millis(1200))
        .statement_timeout(Duration::from_secs(7))
        .idle_in_transaction_timeout(Duration::from_secs(5));
    let err = idpviews::apply_with(&mut c, &p, &options).expect_err("reports its settings");
    let message = err.to_string();
    assert!(message.contains("settings: "), "{message}");
    assert!(message.contains(" 7s 5s"), "{message}");
    // The caller's session is as it was.
    let row = c
        .query_one(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
            &[],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("0".into(), "0".into())
    );
}

#[test]
fn connecting_to_a_server_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s); // accept, never answer
        }
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let url = format!("postgres://nobody@127.0.0.1:{port}/db?connect_timeout=1");
        let _ = tx.send(idpviews::connect_url(&url).map(drop));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("connect returns instead of hanging");
    let err = result.expect_err("nothing answers");
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
}

#[test]
fn a_package_older_by_an_enum_value_is_a_noop() {
    let db = idp_db();
    let mut c = db.connect();
    c.batch_execute("ALTER TYPE idp.user_type ADD VALUE 'OWNER'")
        .unwrap();
    let v2_prisma = IDP_PRISMA.replace("  DISPATCHER\n", "  DISPATCHER\n  OWNER\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.prisma"), v2_prisma).unwrap();
    std::fs::write(dir.path().join("idp-views.toml"), VIEWS_BASE).unwrap();
    let g = idpviews_build::generate::Generator::new(
        dir.path().join("schema.prisma"),
        dir.path().join("idp-views.toml"),
        dir.path().join("out"),
    )
    .generate()
    .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let v2 = idpviews::Package {
        manifest: g.manifest().clone(),
        sql: g
            .file(idpviews_build::manifest::SQL_FILE)
            .unwrap()
            .to_owned()
            .into(),
    };
    let v1 = package(VIEWS_BASE);
    assert_ne!(v1.manifest.package_hash(), v2.manifest.package_hash());
    idpviews::apply(&mut c, &v2).unwrap();
    let applied = idpviews::apply(&mut c, &v1).expect("v1 after v2");
    assert!(applied.newer.is_some(), "{applied}");
    assert!(idpviews::verify(&mut c, &v1).unwrap().is_ok());
    // and the other way round: v2 after v1 upgrades (nothing to replace)
    let applied = idpviews::apply(&mut c, &v2).unwrap();
    assert!(applied.newer.is_none() && applied.is_noop(), "{applied}");
}
