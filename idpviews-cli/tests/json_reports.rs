//! `--format json` of `verify`, `audit` and `apply` through the real binary on
//! a real database, in passing and failing states (a blocked apply and a
//! refused repair included): stdout is exactly one document, valid against
//! its schema file in `docs/schema/`, the exit status is the text format's.
//! `replica status --format json` is tested in `replica_cli.rs`.

#[path = "support/json_schema.rs"]
mod json_schema;
#[path = "support/recipe.rs"]
mod recipe;

use idpviews_build::manifest::{Manifest, ManifestRelation, OUT_MANIFEST_FILE, SQL_FILE};
use json_schema::{assert_supported, assert_valid, load, validate};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCHEMAS: [&str; 4] = [
    "verify.v1.json",
    "audit.v1.json",
    "apply.v1.json",
    "replica-status.v1.json",
];

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
        .output()
        .expect("run idpviews")
}

/// Runs the command with `--format json`; checks that stdout is one document
/// valid against `schema_file` whose `schema` field is `schema_id`, and that
/// the exit status is `code`.
fn run_json(args: &[&str], schema_file: &str, schema_id: &str, code: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = idpviews(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\n{stdout}\n{stderr}"
    );
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON document ({e}):\n{stdout}"));
    assert_valid(&load(schema_file), &doc);
    assert_eq!(doc["schema"], schema_id, "{doc:#}");
    doc
}

fn kinds(doc: &Value) -> Vec<String> {
    doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["findings"].as_array().unwrap())
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_schemas_use_only_what_the_validator_checks_and_it_rejects_bad_documents() {
    for file in SCHEMAS {
        let schema = load(file);
        assert_supported(&schema);
        let id = schema["$id"].as_str().unwrap();
        assert!(id.ends_with(&format!("/docs/schema/{file}")), "{id}");
    }
    let verify = load("verify.v1.json");
    let good = json!({
        "schema": "idpviews.verify/1", "status": "problems", "views_schema": "idp_views",
        "errors": 1, "warnings": 0, "notes": 0,
        "objects": [{"object": "view IdpUser", "status": "error", "findings": [{
            "severity": "error", "kind": "column_type", "message": "m",
            "details": {"column": "email", "expected": "text", "found": "integer"}}]}]
    });
    assert!(
        validate(&verify, &good).is_empty(),
        "{:?}",
        validate(&verify, &good)
    );
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        f(&mut doc);
        let errors = validate(&verify, &doc);
        assert!(!errors.is_empty(), "accepted: {doc:#}");
        errors.join("\n")
    };
    assert!(broken(&|d| d["schema"] = json!("idpviews.verify/2")).contains("/schema"));
    assert!(broken(&|d| d["status"] = json!("fine")).contains("/status"));
    assert!(broken(&|d| d["errors"] = json!(-1)).contains("less than 0"));
    assert!(broken(&|d| d["errors"] = json!("1")).contains("not of type integer"));
    assert!(broken(&|d| d["extra"] = json!(1)).contains("/extra: field not allowed"));
    assert!(broken(&|d| {
        d.as_object_mut().unwrap().remove("objects");
    })
    .contains("missing required field `objects`"));
    assert!(
        broken(&|d| d["objects"][0]["findings"][0]["kind"] = json!("bad"))
            .contains("/objects/0/findings/0/kind")
    );
    assert!(
        broken(&|d| d["objects"][0]["findings"][0]["details"]["colum"] = json!("x"))
            .contains("colum: field not allowed")
    );
    // a failure document: its own shape, no report fields
    let failure = json!({"schema": "idpviews.verify/1", "status": "error",
        "error": {"kind": "connection", "message": "cannot connect"}});
    assert!(validate(&verify, &failure).is_empty());
    let mut mixed = failure.clone();
    mixed["objects"] = json!([]);
    assert!(!validate(&verify, &mixed).is_empty());
    // nullable fields and local references (apply's blocked sessions)
    let apply = load("apply.v1.json");
    let blocked = json!({"schema": "idpviews.apply/1", "status": "error", "error": {
        "kind": "blocked", "message": "m", "blocked": {"waiting_for": "w", "lock_timeout_ms": 300,
        "attempts": 2, "sessions": [{"pid": 1, "user": null, "application_name": "a",
        "state": null, "transaction_start": null, "query_start": null, "query": null,
        "mode": "AccessShareLock", "granted": true, "object": "o"}]}}});
    assert!(
        validate(&apply, &blocked).is_empty(),
        "{:?}",
        validate(&apply, &blocked)
    );
    let mut bad = blocked.clone();
    bad["error"]["blocked"]["sessions"][0]["granted"] = json!("yes");
    assert!(validate(&apply, &bad)
        .join("\n")
        .contains("/error/blocked/sessions/0/granted"));
}

#[test]
fn verify_audit_apply_as_json() {
    let package = root().join("example-idp/packages/idp-views");
    let package = package.to_str().unwrap();
    let db = idpviews_testdb::TestDb::new();
    let mut c = db.connect();
    for f in ["001_idp_tables.sql", "002_idp_seed.sql"] {
        c.batch_execute(&std::fs::read_to_string(root().join("example-idp/sql").join(f)).unwrap())
            .unwrap();
    }
    let url = db.url();
    let verify = ["verify", "--database-url", url, "--views", package];
    let apply = ["apply", "--database-url", url, "--views", package];
    let (v, a, au) = ("verify.v1.json", "apply.v1.json", "audit.v1.json");
    let (vid, aid, auid) = ("idpviews.verify/1", "idpviews.apply/1", "idpviews.audit/1");

    // Before apply: the schema is missing.
    let doc = run_json(&verify, v, vid, 1);
    assert_eq!(doc["status"], "problems");
    assert!(
        kinds(&doc).contains(&"missing_schema".to_owned()),
        "{doc:#}"
    );
    assert!(doc["errors"].as_u64().unwrap() >= 1);

    // Usage and connection errors are documents too; never the password.
    let doc = run_json(&["verify", "--views", package], v, vid, 2);
    assert_eq!(doc["error"]["kind"], "usage");
    // ... and the text on stderr, for people reading a log
    let out = idpviews(&["verify", "--views", package, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: no database"), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("error: {}", doc["error"]["message"].as_str().unwrap())
    );
    let doc = run_json(
        &["verify", "--database-url", url, "--views", "/nonexistent"],
        v,
        vid,
        2,
    );
    assert_eq!(doc["error"]["kind"], "package");
    let secret = "postgres://someone:s3cret@127.0.0.1:1/nowhere";
    let out = idpviews(&[
        "apply",
        "--database-url",
        secret,
        "--views",
        package,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret"), "{all}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&load(a), &doc);
    assert_eq!(doc["error"]["kind"], "connection");

    // apply, twice.
    let doc = run_json(&apply, a, aid, 0);
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["views_schema"], "idp_views");
    assert!(doc["views"]
        .as_array()
        .unwrap()
        .contains(&json!({"view": "IdpUser", "change": "created", "appended_columns": []})));
    let doc = run_json(&apply, a, aid, 0);
    assert_eq!(doc["changed"], false);
    assert!(doc["views"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["change"] == "unchanged"));
    assert_eq!(doc["newer_package"], Value::Null);

    // verify: ok, every object ok.
    let doc = run_json(&verify, v, vid, 0);
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["errors"], 0);
    assert!(doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["object"] == "view IdpUser" && o["status"] == "ok"));

    // A blocked apply: a reader holds a view whose definition was changed by hand.
    c.batch_execute(
        "CREATE OR REPLACE VIEW idp_views.\"IdpTenant\" AS \
         SELECT id, name, slug, is_active, created_at FROM idp.tenants WHERE true",
    )
    .unwrap();
    let doc = run_json(&verify, v, vid, 1);
    assert!(
        kinds(&doc)
            .iter()
            .any(|k| k == "definition" || k == "changed_since_apply"),
        "{doc:#}"
    );
    let mut reader = db.connect();
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM idp_views.\"IdpTenant\";")
        .unwrap();
    let pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut blocked_args = apply.to_vec();
    blocked_args.extend(["--lock-timeout", "300ms", "--retries", "0"]);
    let doc = run_json(&blocked_args, a, aid, 1);
    assert_eq!(doc["status"], "error");
    let error = &doc["error"];
    assert_eq!(error["kind"], "blocked", "{doc:#}");
    assert_eq!(error["blocked"]["lock_timeout_ms"], 300);
    assert_eq!(error["blocked"]["attempts"], 1);
    assert!(
        error["blocked"]["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["pid"] == pid && s["granted"] == true),
        "{doc:#}"
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    reader.batch_execute("COMMIT").unwrap();
    let doc = run_json(&apply, a, aid, 0);
    assert!(
        doc["views"]
            .as_array()
            .unwrap()
            .contains(&json!({"view": "IdpTenant", "change": "replaced", "appended_columns": []}))
            || !doc["repaired"].as_array().unwrap().is_empty(),
        "{doc:#}"
    );
    run_json(&verify, v, vid, 0);

    // A refused repair: a column added by hand and no applied record to explain it.
    c.batch_execute(
        "COMMENT ON SCHEMA idp_views IS NULL; \
         CREATE OR REPLACE VIEW idp_views.\"IdpTenant\" AS \
         SELECT id, name, slug, is_active, created_at, 1 AS extra FROM idp.tenants",
    )
    .unwrap();
    let doc = run_json(&verify, v, vid, 1);
    let extra = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["findings"].as_array().unwrap())
        .find(|f| f["kind"] == "extra_column")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(extra["details"], json!({"column": "extra"}));
    let doc = run_json(&apply, a, aid, 1);
    assert_eq!(doc["error"]["kind"], "refused", "{doc:#}");
    let problems = doc["error"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("\"extra\"")),
        "{doc:#}"
    );
    c.batch_execute("DROP VIEW idp_views.\"IdpTenant\"")
        .unwrap();
    run_json(&apply, a, aid, 0);

    // audit: no relations in a vendored package is a usage error.
    let doc = run_json(
        &["audit", "--database-url", url, "--views", package],
        au,
        auid,
        2,
    );
    assert_eq!(doc["error"]["kind"], "usage");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no product relations"));

    // relations that do not check out: the diagnostics in the document and on stderr
    let bad = tempfile::tempdir().unwrap();
    let conf = bad.path().join("idp-relations.conf");
    std::fs::write(&conf, "IdpUser:drivers Nowhere[]\n").unwrap();
    let product_schema = root().join("example-product/prisma/schema");
    let args = [
        "audit",
        "--database-url",
        url,
        "--views",
        package,
        "--relations",
        conf.to_str().unwrap(),
        "--product-schema",
        product_schema.to_str().unwrap(),
    ];
    let doc = run_json(&args, au, auid, 1);
    assert_eq!(doc["error"]["kind"], "relations", "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Nowhere"),
        "{doc:#}"
    );

    c.batch_execute("CREATE SCHEMA fuel_logistics").unwrap();
    for f in ["001_product_tables.sql", "002_product_seed.sql"] {
        c.batch_execute(
            &std::fs::read_to_string(root().join("example-product/sql").join(f)).unwrap(),
        )
        .unwrap();
    }
    let out_dir = tempfile::tempdir().unwrap();
    let mut manifest = Manifest::from_json(
        &std::fs::read_to_string(Path::new(package).join("idp-views.lock")).unwrap(),
    )
    .unwrap();
    manifest.relations.push(ManifestRelation {
        view: "IdpUser".into(),
        view_field: "drivers".into(),
        model: "Driver".into(),
        model_schema: "fuel_logistics".into(),
        model_table: "drivers".into(),
        model_field: "idpUser".into(),
        fk_columns: vec!["idp_user_id".into()],
        references: vec!["id".into()],
        list: true,
    });
    std::fs::write(out_dir.path().join(OUT_MANIFEST_FILE), manifest.to_json()).unwrap();
    std::fs::copy(
        Path::new(package).join(SQL_FILE),
        out_dir.path().join(SQL_FILE),
    )
    .unwrap();
    let audit = [
        "audit",
        "--database-url",
        url,
        "--views",
        out_dir.path().to_str().unwrap(),
    ];
    let doc = run_json(&audit, au, auid, 0);
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["orphans"], 0);
    assert_eq!(doc["relations"][0]["outcome"], "checked");

    // The IDP deletes Omar: his driver row is an orphan.
    c.batch_execute("DELETE FROM idp.users WHERE id = '0190a000-0000-7000-8000-000000000103'")
        .unwrap();
    let doc = run_json(&audit, au, auid, 1);
    assert_eq!(doc["status"], "problems");
    assert_eq!(doc["orphans"], 1);
    assert_eq!(recipe::jq(&recipe::readme_jq_filter("audit"), &doc), "1\n");
    let relation = &doc["relations"][0];
    assert_eq!(relation["relation"], "Driver.idp_user_id -> IdpUser.id");
    assert_eq!(
        relation["sample"],
        json!([[
            {"column": "id", "value": "0190b000-0000-7000-8000-000000000003"},
            {"column": "idp_user_id", "value": "0190a000-0000-7000-8000-000000000103"}
        ]])
    );

    // The text format is the default and unchanged.
    let out = idpviews(&audit);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Driver.idp_user_id -> IdpUser.id  1"));
}
