//! Tampering and drift, one row per kind (add a row to extend): a package
//! file edited, or a correctly applied database changed by hand. For each:
//! the package is refused or `verify` fails naming the object and what is
//! wrong (one line per finding); `apply` repairs it or refuses; at the end
//! no secret column is readable through the views and no write goes
//! through them.

mod db_fixture;

use db_fixture::*;
use idpviews::Package;
use idpviews_build::manifest::{Manifest, ManifestColumn, MANIFEST_FILE, SQL_FILE};
use std::path::Path;

/// What is done to a freshly applied package and database.
enum Tamper {
    /// Edit the package files on disk (then every reader refuses the package).
    Package(fn(&Path)),
    /// Change the database by hand (as the superuser).
    Database(&'static str),
}

/// What must happen.
enum Expect {
    /// Reading the package fails with an error containing these.
    PackageRefused(&'static [&'static str]),
    /// `verify` reports this error line (object, text) and `apply` repairs
    /// it: `verify` passes afterwards.
    Repaired(&'static str, &'static str),
    /// `verify` reports this error line (object, text) and `apply` refuses
    /// with an error containing the last text: `verify` still fails.
    Refused(&'static str, &'static str, &'static str),
    /// `verify` reports this error line (object, text); `apply` leaves the
    /// object alone (not the package's) and `verify` still fails.
    VerifyOnly(&'static str, &'static str),
}

struct Row {
    name: &'static str,
    tamper: Tamper,
    expect: Expect,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "SQL file edited to expose the password",
            tamper: Tamper::Package(|dir| {
                edit(&dir.join(SQL_FILE), |s| {
                    s.replacen("  \"email\",", "  \"password\" AS \"email\",", 1)
                })
            }),
            expect: Expect::PackageRefused(&[
                "`create-idp-views.sql` was modified",
                "idpviews generate",
            ]),
        },
        Row {
            name: "SQL file, one byte",
            tamper: Tamper::Package(|dir| edit(&dir.join(SQL_FILE), |s| format!("{s} "))),
            expect: Expect::PackageRefused(&["`create-idp-views.sql` was modified"]),
        },
        Row {
            name: "lock edited (a doc string)",
            tamper: Tamper::Package(|dir| {
                edit(&dir.join(MANIFEST_FILE), |s| {
                    s.replacen("\"schema\": \"idp_views\"", "\"schema\": \"idp_viewz\"", 1)
                })
            }),
            expect: Expect::PackageRefused(&["`idp-views.lock` was modified", "idpviews generate"]),
        },
        Row {
            name: "lock edited to add the password column",
            tamper: Tamper::Package(|dir| {
                let path = dir.join(MANIFEST_FILE);
                let mut m = Manifest::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let user = m.views.iter_mut().find(|v| v.name == "IdpUser").unwrap();
                let mut column: ManifestColumn = user.columns[1].clone();
                column.field = "password".into();
                column.column = "password".into();
                user.columns.push(column);
                std::fs::write(&path, m.to_json()).unwrap();
            }),
            expect: Expect::PackageRefused(&["`idp-views.lock` was modified"]),
        },
        Row {
            name: "lock rewritten as format 1 without its hash (downgrade)",
            tamper: Tamper::Package(|dir| {
                let path = dir.join(MANIFEST_FILE);
                let mut m = Manifest::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
                m.format = 1;
                m.package_hash.clear();
                std::fs::write(&path, m.to_json()).unwrap();
            }),
            expect: Expect::PackageRefused(&["older than the format 2", "idpviews generate"]),
        },
        Row {
            name: "view body swapped: password AS email",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, password AS email, first_name, user_types::text[] AS user_types, tenant_id, created_at
                   FROM idp."User""#,
            ),
            expect: Expect::Repaired(
                "view IdpUser",
                "reads source column \"password\", which the package does not allowlist",
            ),
        },
        Row {
            name: "view body swapped: WHERE false",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id, created_at
                   FROM idp."User" WHERE false"#,
            ),
            expect: Expect::Repaired("view IdpUser", "has a WHERE condition"),
        },
        Row {
            name: "view body swapped: another table",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE VIEW idp_views."IdpTenant" AS
                   SELECT u.id, u.password AS name FROM idp."User" u"#,
            ),
            expect: Expect::Repaired(
                "view IdpTenant",
                "reads \"idp\".\"User\", not only its source \"idp\".\"Tenant\"",
            ),
        },
        Row {
            name: "view body swapped: a function of the column",
            tamper: Tamper::Database(
                r#"CREATE FUNCTION public.leak(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
                   CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, public.leak(email) AS email, first_name, user_types::text[] AS user_types, tenant_id, created_at
                   FROM idp."User""#,
            ),
            expect: Expect::Repaired("view IdpUser", "calls function leak(text)"),
        },
        Row {
            name: "column added by hand",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id, created_at, password
                   FROM idp."User""#,
            ),
            expect: Expect::Repaired(
                "view IdpUser",
                "column \"password\" (text) is in neither the package nor the applied record",
            ),
        },
        Row {
            name: "column added by hand, no applied record to tell it from a newer package's",
            tamper: Tamper::Database(
                r#"COMMENT ON SCHEMA idp_views IS NULL;
                   CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id, created_at, nickname
                   FROM idp."User""#,
            ),
            expect: Expect::Refused(
                "view IdpUser",
                "column \"nickname\" (text) is in neither the package nor the applied record",
                "no applied record to tell a hand-added column from a newer package's",
            ),
        },
        Row {
            name: "column added by hand to a view another object depends on",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS
                   SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id, created_at, nickname
                   FROM idp."User";
                   CREATE VIEW public.product_report AS SELECT id FROM idp_views."IdpUser""#,
            ),
            expect: Expect::Refused(
                "view IdpUser",
                "column \"nickname\" (text) is in neither the package nor the applied record",
                "other objects depend on view \"idp_views\".\"IdpUser\"",
            ),
        },
        Row {
            name: "a view created by hand in the views schema",
            tamper: Tamper::Database(
                r#"CREATE VIEW idp_views."IdpSecrets" AS SELECT id, password FROM idp."User""#,
            ),
            expect: Expect::VerifyOnly(
                "view IdpSecrets",
                "in neither the views package nor the applied package",
            ),
        },
        Row {
            name: "trigger function rewritten to RETURN NEW",
            tamper: Tamper::Database(
                r#"CREATE OR REPLACE FUNCTION idp_views.idpviews_reject_write() RETURNS trigger
                   LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"#,
            ),
            expect: Expect::Repaired(
                "function idp_views.idpviews_reject_write",
                "its body is not the package's",
            ),
        },
        Row {
            name: "trigger function made SECURITY DEFINER",
            tamper: Tamper::Database(
                r#"ALTER FUNCTION idp_views.idpviews_reject_write() SECURITY DEFINER"#,
            ),
            expect: Expect::Repaired(
                "function idp_views.idpviews_reject_write",
                "is SECURITY DEFINER, not SECURITY INVOKER",
            ),
        },
        Row {
            name: "ON UPDATE DO INSTEAD rule",
            tamper: Tamper::Database(
                r#"CREATE RULE sneaky AS ON UPDATE TO idp_views."IdpTenant"
                   DO INSTEAD UPDATE idp."Tenant" SET name = NEW.name WHERE id = OLD.id"#,
            ),
            expect: Expect::Repaired("view IdpTenant", "rewrite rule \"sneaky\""),
        },
        Row {
            name: "extra trigger that writes",
            tamper: Tamper::Database(
                r#"CREATE FUNCTION idp_views.evil() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN UPDATE idp."User" SET email = 'hacked' WHERE id = OLD.id; RETURN NEW; END $$;
                   CREATE TRIGGER aaa_evil INSTEAD OF UPDATE ON idp_views."IdpUser"
                   FOR EACH ROW EXECUTE FUNCTION idp_views.evil()"#,
            ),
            expect: Expect::Repaired("view IdpUser", "trigger \"aaa_evil\""),
        },
        Row {
            name: "read-only triggers dropped",
            tamper: Tamper::Database(
                r#"DROP TRIGGER idpviews_read_only ON idp_views."IdpUser";
                   DROP TRIGGER idpviews_read_only_statement ON idp_views."IdpUser""#,
            ),
            expect: Expect::Repaired(
                "view IdpUser",
                "writable: INSERT/UPDATE/DELETE not rejected",
            ),
        },
    ]
}

#[test]
fn every_tamper_is_refused_or_repaired() {
    let mut failures = Vec::new();
    for row in rows() {
        if let Err(e) = std::panic::catch_unwind(|| run(&row)) {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("[{}] {message}", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn run(row: &Row) {
    let db = idp_db();
    let (_tmp, dir) = package_dir(VIEWS_BASE);
    let package = Package::from_dir(&dir).expect("the generated package is intact");
    let reader = db.create_role("reader", Some("pw")).unwrap();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).expect("first apply");
    c.batch_execute(&idpviews::grants_sql(&package.manifest, &reader, "product").unwrap())
        .unwrap();
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");

    match (&row.tamper, &row.expect) {
        (Tamper::Package(edit), Expect::PackageRefused(needles)) => {
            edit(&dir);
            let e = Package::from_dir(&dir).expect_err("a tampered package is refused");
            for needle in *needles {
                assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
            }
            // The build script's package loading refuses it too.
            let mut sources = idpviews_build::SourceMap::new();
            let mut diags = idpviews_build::Diagnostics::new();
            let loaded =
                idpviews_build::merge::load_package(&dir, &mut sources, &mut diags).unwrap();
            assert!(
                loaded.is_none() && diags.has_errors(),
                "build script accepted it"
            );
        }
        (Tamper::Database(sql), Expect::Refused(object, needle, refusal)) => {
            c.batch_execute(sql).expect("tamper");
            assert_verify_fails(&mut c, &package, object, needle);
            let e = idpviews::apply(&mut c, &package).expect_err("apply refuses");
            assert!(e.to_string().contains(refusal), "{refusal:?} not in: {e}");
            assert!(e.to_string().contains("nothing was changed"), "{e}");
            assert_verify_fails(&mut c, &package, object, needle);
        }
        (Tamper::Database(sql), Expect::VerifyOnly(object, needle)) => {
            c.batch_execute(sql).expect("tamper");
            assert_verify_fails(&mut c, &package, object, needle);
            idpviews::apply(&mut c, &package).expect("apply");
            assert_verify_fails(&mut c, &package, object, needle);
            c.batch_execute(&format!(r#"DROP VIEW idp_views."{}""#, &object[5..]))
                .unwrap();
        }
        (Tamper::Database(sql), Expect::Repaired(object, needle)) => {
            c.batch_execute(sql).expect("tamper");
            assert_verify_fails(&mut c, &package, object, needle);
            let applied = idpviews::apply(&mut c, &package).expect("apply repairs");
            assert!(!applied.repaired.is_empty(), "nothing repaired:\n{applied}");
            let report = idpviews::verify(&mut c, &package).unwrap();
            assert!(
                report.is_ok() && report.warnings() == 0,
                "after the repair:\n{applied}\n{report}"
            );
        }
        _ => unreachable!("row {}: tamper and expectation do not match", row.name),
    }
    check_nothing_leaks(&db, &mut c, &reader);
}

/// `verify` fails with an error on `object` containing `needle`, one line per finding.
fn assert_verify_fails(c: &mut postgres::Client, package: &Package, object: &str, needle: &str) {
    {
        {
            let report = idpviews::verify(c, package).unwrap();
            assert!(!report.is_ok(), "verify passed:\n{report}");
            let found = report.objects.iter().any(|o| {
                o.object == object
                    && o.findings.iter().any(|f| {
                        f.severity == idpviews::Severity::Error && f.message.contains(needle)
                    })
            });
            assert!(
                found,
                "no error on {object} containing {needle:?}:\n{report}"
            );
            // one line per finding
            let text = report.to_string();
            assert_eq!(
                text.lines().count(),
                report
                    .objects
                    .iter()
                    .map(|o| o.findings.len().max(1))
                    .sum::<usize>()
                    + 2,
                "{text}"
            );
        }
    }
}

/// Whatever happened: no secret is readable, no write goes through, and
/// the product role still reads the views.
fn check_nothing_leaks(db: &idpviews_testdb::TestDb, c: &mut postgres::Client, reader: &str) {
    for view in ["IdpUser", "IdpTenant"] {
        let rows = c
            .query(
                &format!(r#"SELECT to_jsonb(v)::text FROM idp_views."{view}" v"#),
                &[],
            )
            .unwrap();
        for r in rows {
            let json: String = r.get(0);
            assert!(
                !json.contains("secret-hash"),
                "{view} exposes a secret: {json}"
            );
        }
    }
    for write in [
        r#"UPDATE idp_views."IdpUser" SET email = 'hacked'"#,
        r#"UPDATE idp_views."IdpTenant" SET name = 'hacked'"#,
        r#"DELETE FROM idp_views."IdpUser""#,
    ] {
        let _ = c.batch_execute(write);
    }
    let changed: i64 = c
        .query_one(
            r#"SELECT (SELECT count(*) FROM idp."User" WHERE email = 'hacked')
                    + (SELECT count(*) FROM idp."Tenant" WHERE name = 'hacked')
                    + 5 - (SELECT count(*) FROM idp."User")"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(changed, 0, "a write went through the views");
    let mut as_reader =
        postgres::Client::connect(&db.url_for_role(reader, Some("pw")), postgres::NoTls).unwrap();
    let n: i64 = as_reader
        .query_one(r#"SELECT count(*) FROM idp_views."IdpUser""#, &[])
        .expect("the product role still reads the view")
        .get(0);
    assert_eq!(n, 5);
}

/// A package generated by the real generator into a temp dir.
fn package_dir(allowlist: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.prisma");
    let config = tmp.path().join("idp-views.toml");
    std::fs::write(&schema, IDP_PRISMA).unwrap();
    std::fs::write(&config, allowlist).unwrap();
    let out = tmp.path().join("package");
    idpviews_build::generate::Generator::new(&schema, &config, &out)
        .generate()
        .unwrap_or_else(|e| panic!("generate failed:\n{}", e.render(false)))
        .write()
        .unwrap();
    (tmp, out)
}

fn edit(path: &Path, f: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = f(&text);
    assert_ne!(
        edited,
        text,
        "the edit changed nothing in {}",
        path.display()
    );
    std::fs::write(path, edited).unwrap();
}

/// A repair waits for its locks a bounded time: behind a transaction that
/// holds the view, apply (in a session with no `lock_timeout`) gives up
/// after its own lock timeout and retries, naming the blocker
/// (`Error::Blocked`), instead of queueing every reader behind it.
#[test]
fn a_repair_waits_for_locks_a_bounded_time() {
    let db = idp_db();
    let (_tmp, dir) = package_dir(VIEWS_BASE);
    let package = Package::from_dir(&dir).unwrap();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).unwrap();
    c.batch_execute(
        r#"CREATE RULE sneaky AS ON UPDATE TO idp_views."IdpTenant"
           DO INSTEAD UPDATE idp."Tenant" SET name = NEW.name WHERE id = OLD.id"#,
    )
    .unwrap();
    let mut reader = db.connect();
    let mut tx = reader.transaction().unwrap();
    tx.batch_execute(r#"SELECT count(*) FROM idp_views."IdpTenant""#)
        .unwrap();
    c.batch_execute("SET lock_timeout = 0").unwrap();
    // (without the bound this would wait for the reader forever)
    let options = idpviews::ApplyOptions::default()
        .lock_timeout(std::time::Duration::from_millis(300))
        .retries(1)
        .backoff(std::time::Duration::from_millis(10));
    let e = idpviews::apply_with(&mut c, &package, &options)
        .expect_err("the repair cannot take its lock");
    let idpviews::Error::Blocked(blocked) = &e else {
        panic!("not blocked: {e}");
    };
    assert_eq!(blocked.attempts, 2, "{e}");
    assert!(
        e.to_string()
            .contains(r#"holds AccessShareLock on idp_views."IdpTenant""#),
        "{e}"
    );
    tx.rollback().unwrap();
    // the session's own setting is left as it was
    let timeout: String = c.query_one("SHOW lock_timeout", &[]).unwrap().get(0);
    assert_eq!(timeout, "0");
    // and once the reader is gone, apply repairs
    let applied = idpviews::apply(&mut c, &package).unwrap();
    assert!(
        applied.to_string().contains("rule \"sneaky\" dropped"),
        "{applied}"
    );
}

/// The applied record tells a newer package from a hand change: a service
/// built against the older package passes (a note naming the applied
/// package, a warning per column it added); the same column added by hand
/// is an error.
#[test]
fn a_newer_package_is_not_a_hand_change() {
    let db = idp_db();
    let (_old, old_dir) = package_dir(VIEWS_BASE);
    let (_new, new_dir) = package_dir(VIEWS_APPENDED);
    let (old, new) = (
        Package::from_dir(&old_dir).unwrap(),
        Package::from_dir(&new_dir).unwrap(),
    );
    let mut c = db.connect();
    idpviews::apply(&mut c, &new).unwrap();
    let report = idpviews::verify(&mut c, &old).unwrap();
    assert!(report.is_ok(), "{report}");
    let text = report.to_string();
    let applied = new.manifest.package_hash();
    assert!(
        text.contains(&format!(
            "a newer package that extends this one is applied ({applied}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "column \"nickname\" (text) is not in this build's package: added by the applied package {applied}"
        )),
        "{text}"
    );

    // The same column added by hand to the older package's views.
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &old).unwrap();
    c.batch_execute(
        r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS
           SELECT id, email, first_name, user_types::text[] AS user_types, tenant_id, created_at, nickname
           FROM idp."User""#,
    )
    .unwrap();
    let report = idpviews::verify(&mut c, &old).unwrap();
    assert!(!report.is_ok(), "{report}");
    assert!(
        report.to_string().contains(
            "column \"nickname\" (text) is in neither the package nor the applied record"
        ),
        "{report}"
    );
}

/// A tenant-isolated view (the flattened view with the tenant filter and
/// masks) changed by hand: the filter OR-ed with `true`, a mask reading
/// the password. `verify` names it, `apply` restores it, and afterwards a
/// tenant sees only its own rows and no secret.
#[test]
fn a_tampered_tenant_view_is_reported_and_repaired() {
    let db = idp_db();
    let package = package(&views_tenant(&db));
    let mut c = db.connect();
    idpviews::apply(&mut c, &package).expect("first apply");
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
    let def: String = c
        .query_one(
            r#"SELECT pg_get_viewdef('idp_views."IdpUser"'::regclass)"#,
            &[],
        )
        .unwrap()
        .get(0);
    let def = def.trim().trim_end_matches(';');
    let password_mask = def.replacen(r#"THEN "User".email"#, r#"THEN "User".password"#, 1);
    assert_ne!(password_mask, def, "the mask pattern changed:\n{def}");
    for (tampered, needle) in [
        (format!("{def} OR true"), "tenant isolation is off"),
        (
            password_mask,
            "reads source column \"password\", which the package does not allowlist",
        ),
    ] {
        c.batch_execute(&format!(
            r#"CREATE OR REPLACE VIEW idp_views."IdpUser" AS {tampered}"#
        ))
        .unwrap();
        assert_verify_fails(&mut c, &package, "view IdpUser", needle);
        let applied = idpviews::apply(&mut c, &package).expect("apply repairs");
        assert!(
            applied
                .repaired
                .iter()
                .any(|r| r.starts_with("view IdpUser: definition restored")),
            "{applied}"
        );
        let report = idpviews::verify(&mut c, &package).unwrap();
        assert!(report.is_ok() && report.warnings() == 0, "{report}");
        let mut tx = c.transaction().unwrap();
        idpviews::tenant::set_tenant(&mut tx, TENANT_A).unwrap();
        let rows = tx
            .query(
                r#"SELECT to_jsonb(v)::text FROM idp_views."IdpUser" v"#,
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), USERS_A.len());
        for r in rows {
            let json: String = r.get(0);
            assert!(!json.contains("secret-hash"), "a secret: {json}");
            assert!(json.contains(TENANT_A), "another tenant's row: {json}");
        }
        tx.rollback().unwrap();
    }
}

/// An upgrade is not a repair: appending a column to a tenant-isolated
/// view (its masks then differ from the new package's) is planned as an
/// append by `apply`, not "restored" by the repair step.
#[test]
fn appending_to_a_tenant_view_is_an_upgrade_not_a_repair() {
    let db = idp_db();
    let mut c = db.connect();
    idpviews::apply(&mut c, &package(VIEWS_TENANT)).expect("first apply");
    let appended = VIEWS_TENANT.replace(r#""createdAt"]"#, r#""createdAt", "nickname"]"#);
    assert_ne!(appended, VIEWS_TENANT);
    let package = package(&appended);
    let applied = idpviews::apply(&mut c, &package).expect("the upgrade");
    assert!(applied.repaired.is_empty(), "{applied}");
    assert_eq!(
        applied.views[0],
        (
            "IdpUser".to_owned(),
            idpviews::ViewChange::Appended(vec!["nickname".to_owned()])
        ),
        "{applied}"
    );
    let report = idpviews::verify(&mut c, &package).unwrap();
    assert!(report.is_ok() && report.warnings() == 0, "{report}");
}
