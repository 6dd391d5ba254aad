//! `idpviews replica publish | subscribe | apply | status` through the real binary, on real
//! clusters started by the test harness (a logical primary and a subscriber cluster).

#[path = "support/json_schema.rs"]
mod json_schema;
#[path = "support/recipe.rs"]
mod recipe;

use idpviews_testdb::replication::clusters;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "sekrit-conninfo-password";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn idpviews(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("IDPVIEWS_PUBLISHER")
        .output()
        .expect("run idpviews")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn publish_subscribe_status_apply() {
    let package = root().join("example-idp/packages/idp-views");
    let package = package.to_str().unwrap();

    // Printed without a database: the column lists, the guard, no secret column.
    let out = idpviews(&["replica", "publish", "--views", package]);
    assert!(out.status.success(), "{}", text(&out));
    let sql = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        sql.contains(r#"TABLE "idp"."users" ("id", "email", "first_name""#),
        "{sql}"
    );
    assert!(sql.contains("LOGIN REPLICATION"), "{sql}");
    for secret in ["\"password\"", "\"pin\"", "\"metadata\"", "refresh_token"] {
        assert!(!sql.contains(secret), "{secret} in\n{sql}");
    }

    let clusters = clusters().unwrap();
    let idp = clusters.primary().create_db().unwrap();
    let mut c = idp.connect();
    for f in ["001_idp_tables.sql", "002_idp_seed.sql"] {
        c.batch_execute(&std::fs::read_to_string(root().join("example-idp/sql").join(f)).unwrap())
            .unwrap();
    }
    let role = idp.role_name("replica");
    let out = idpviews(&[
        "replica",
        "publish",
        "--views",
        package,
        "--role",
        &role,
        "--database-url",
        idp.url(),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let subscriber = clusters.subscriber().unwrap();
    let product = subscriber.create_db().unwrap();
    let subscription = format!("s_{}", product.name());
    // Trust authentication: the password is never asked for, but it is in the string.
    let conninfo = format!(
        "host=127.0.0.1 port={} dbname={} user={role} password={SECRET}",
        clusters.primary().port(),
        idp.name()
    );
    let out = idpviews(&[
        "replica",
        "subscribe",
        "--database-url",
        product.url(),
        "--views",
        package,
        "--publisher",
        &conninfo,
        "--name",
        &subscription,
        "--wait",
        "60",
    ]);
    let _drop = DropSubscription(&product, subscription.clone());
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(SECRET));
    assert!(text(&out).contains("initial copy done"), "{}", text(&out));

    let status = |extra: &[&str]| {
        let mut args = vec!["replica", "status", "--database-url", product.url()];
        args.extend_from_slice(extra);
        idpviews(&args)
    };
    let out = status(&["--publisher-url", idp.url(), "--max-lag", "30"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("idp.users") && shown.contains("ready"),
        "{shown}"
    );
    assert!(
        shown.contains("lag: ") && shown.contains(" bytes"),
        "{shown}"
    );
    assert_eq!(status(&["--max-lag", "1"]).status.code(), Some(2));
    // The same as one JSON document, valid against its schema.
    let doc = status_json(
        &status(&[
            "--publisher-url",
            idp.url(),
            "--max-lag",
            "30",
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(doc["status"], "ok");
    let sub = &doc["subscriptions"][0];
    assert_eq!(sub["subscription"], subscription.as_str());
    assert_eq!(sub["enabled"], true);
    assert!(sub["lag"]["bytes"].is_i64(), "{doc:#}");
    assert!(
        sub["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == "idp.users" && t["state"] == "ready"),
        "{doc:#}"
    );
    assert_eq!(sub["problems"], serde_json::json!([]));
    // the README's monitoring line
    let line = recipe::jq(&recipe::readme_jq_filter(".subscriptions[]"), &doc);
    let line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["subscription"], subscription.as_str());
    assert_eq!(line["lag_bytes"], sub["lag"]["bytes"]);
    let doc = status_json(&status(&["--max-lag", "1", "--format", "json"]), 2);
    assert_eq!(doc["error"]["kind"], "usage");

    // Unchanged package: nothing to do.
    let out = idpviews(&[
        "replica",
        "apply",
        "--publisher-url",
        idp.url(),
        "--database-url",
        product.url(),
        "--views",
        package,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("replication unchanged"),
        "{}",
        text(&out)
    );

    // verify on the product database covers the replica tables.
    let out = idpviews(&[
        "verify",
        "--database-url",
        product.url(),
        "--views",
        package,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("replica table idp.users"),
        "{}",
        text(&out)
    );

    // Broken: exit 1.
    product
        .connect()
        .batch_execute(&format!("ALTER SUBSCRIPTION \"{subscription}\" DISABLE"))
        .unwrap();
    let out = status(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("disabled"), "{}", text(&out));
    let doc = status_json(&status(&["--format", "json"]), 1);
    assert_eq!(doc["status"], "problems");
    assert_eq!(doc["subscriptions"][0]["enabled"], false);
    assert_eq!(doc["subscriptions"][0]["lag"], Value::Null);
    assert_eq!(
        doc["subscriptions"][0]["problems"][0],
        "the subscription is disabled"
    );
    let doc = status_json(
        &status(&["--subscription", "no_such_subscription", "--format", "json"]),
        1,
    );
    assert_eq!(doc["error"]["kind"], "no_subscription");
}

/// stdout is one `idpviews.replica-status/1` document, valid against its schema; the exit
/// status is `code`.
fn status_json(out: &Output, code: i32) -> Value {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", text(out)));
    json_schema::assert_valid(&json_schema::load("replica-status.v1.json"), &doc);
    assert_eq!(doc["schema"], "idpviews.replica-status/1");
    assert!(!text(out).contains(SECRET), "{}", text(out));
    doc
}

#[test]
fn a_failed_subscription_leaves_nothing_and_never_shows_the_connection_string() {
    let package =
        idpviews::Package::from_dir(&root().join("example-idp/packages/idp-views")).unwrap();
    let clusters = clusters().unwrap();
    let subscriber = clusters.subscriber().unwrap();
    let product = subscriber.create_db().unwrap();
    let tables = idpviews::replica::publication_plan(None, &package, &Default::default())
        .unwrap()
        .tables;
    let mut c = product.connect();
    // Nothing listens on port 1.
    let e = idpviews::replica::subscribe(
        &mut c,
        &package,
        &tables,
        &idpviews::replica::SubscribeOptions {
            publication: "idpviews".into(),
            subscription: Some(format!("s_{}", product.name())),
            publisher: format!("host=127.0.0.1 port=1 dbname=x user=y password={SECRET}"),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("creating subscription"), "{e}");
    assert!(!e.contains(SECRET), "{e}");
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('idp', 'idp_views')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the replica tables and views were removed");
    let log = std::fs::read_to_string(subscriber.log_file().unwrap()).unwrap();
    assert!(
        log.contains("could not connect to the publisher"),
        "the error is logged"
    );
    assert!(
        !log.contains(SECRET),
        "the server log holds the connection string"
    );
}

struct DropSubscription<'a>(&'a idpviews_testdb::TestDb, String);

impl Drop for DropSubscription<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.try_connect() {
            let _ = c.batch_execute(&format!("DROP SUBSCRIPTION IF EXISTS \"{}\"", self.1));
        }
    }
}
