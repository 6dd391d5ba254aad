//! `--format text|json`: the machine-readable reports of `verify`, `audit`,
//! `apply` and `replica status`.
//!
//! One JSON document per run on stdout, whether the command succeeded, found
//! problems or failed; its `"schema"` field names the document type and its
//! version (`idpviews.verify/1`, ...), described by the JSON Schema files in
//! `docs/schema/`. The documents are built here, field by field, from the
//! runtime's report types (no `Serialize` on them): the runtime's public API
//! stays as it is and a field is renamed in the JSON only by a new schema
//! version. Errors also go to stderr as text, in both formats, for people
//! reading a log; the exit status is the same in both formats.

use idpviews::apply::{Applied, Blocked, ViewChange};
use idpviews::audit::{AuditOutcome, AuditReport};
use idpviews::replica::SubscriptionStatus;
use idpviews::verify::{Finding, FindingKind, Severity, VerifyReport};
use serde_json::{json, Map, Value};

/// The document types and their versions (the `"schema"` field).
pub(crate) const VERIFY: &str = "idpviews.verify/1";
pub(crate) const AUDIT: &str = "idpviews.audit/1";
pub(crate) const APPLY: &str = "idpviews.apply/1";
pub(crate) const REPLICA_STATUS: &str = "idpviews.replica-status/1";

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Tables and lines for people.
    Text,
    /// One JSON document on stdout, errors included (docs/schema/).
    Json,
}

/// `--format`.
#[derive(clap::Args, Debug)]
pub(crate) struct FormatArgs {
    /// Output format: `text` for people, `json` for pipelines (one document
    /// on stdout, errors included; schemas in docs/schema/).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
}

/// Why a command stopped before it had a report.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit status: 2 usage errors, 1 everything else.
    pub code: i32,
    /// `usage`, `connection`, `database`, `blocked`, ... (see the schemas).
    pub kind: &'static str,
    /// For people; never holds a connection string.
    pub message: String,
    /// What text mode prints on stderr instead of `error: <message>`.
    pub stderr: Option<String>,
    /// Kind-specific fields of the JSON `error` object.
    pub details: Map<String, Value>,
}

impl Failure {
    pub(crate) fn new(code: i32, kind: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            kind,
            message: message.into(),
            stderr: None,
            details: Map::new(),
        }
    }

    /// Exit status 2: a missing or unusable argument.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(2, "usage", message)
    }

    /// Exit status 1 with the error's kind and details.
    pub(crate) fn from_error(e: &idpviews::Error) -> Failure {
        use idpviews::Error;
        let mut details = Map::new();
        let kind = match e {
            Error::Database { .. } => "database",
            Error::Incompatible(problems) => {
                let list = problems
                    .iter()
                    .map(|p| json!({"view": p.view, "column": p.column, "problem": p.problem}))
                    .collect();
                details.insert("incompatibilities".into(), Value::Array(list));
                "incompatible"
            }
            Error::Verify(_) => "verify",
            Error::Refused(problems) => {
                details.insert("problems".into(), json!(problems));
                "refused"
            }
            Error::Package(_) => "package",
            Error::InvalidInput(_) => "invalid_input",
            Error::Blocked(blocked) => {
                details.insert("blocked".into(), blocked_json(blocked));
                "blocked"
            }
            Error::Timeout(_) => "timeout",
            Error::ReadOnlyStandby => "read_only_standby",
            Error::Replica(_) => "replica",
            _ => "other",
        };
        if let Some(state) = e.sqlstate() {
            details.insert("sqlstate".into(), json!(state));
        }
        Failure {
            code: 1,
            kind,
            message: e.to_string(),
            stderr: None,
            details,
        }
    }

    /// Text to print on stderr in text mode instead of `error: <message>`.
    pub(crate) fn with_stderr(mut self, text: String) -> Failure {
        self.stderr = Some(text);
        self
    }

    /// Prints the failure (stderr in both formats; the `schema` document on
    /// stdout with `json`) and returns the exit status.
    pub(crate) fn report(self, format: Format, schema: &str) -> i32 {
        match &self.stderr {
            Some(text) => eprint!("{text}"),
            None => eprintln!("error: {}", self.message),
        }
        if format == Format::Json {
            let mut error = self.details;
            error.insert("kind".into(), json!(self.kind));
            error.insert("message".into(), json!(self.message));
            emit(&json!({"schema": schema, "status": "error", "error": error}));
        }
        self.code
    }
}

/// Prints one document on stdout.
pub(crate) fn emit(doc: &Value) {
    println!("{doc:#}");
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The kind of a finding as a snake_case string, and its details.
fn finding_kind(kind: &FindingKind) -> (&'static str, Value) {
    use FindingKind as K;
    match kind {
        K::MissingSchema => ("missing_schema", json!({})),
        K::MissingView => ("missing_view", json!({})),
        K::NotAView => ("not_a_view", json!({})),
        K::MissingColumn { column } => ("missing_column", json!({"column": column})),
        K::ColumnOrder { column } => ("column_order", json!({"column": column})),
        K::ColumnType {
            column,
            expected,
            found,
        } => (
            "column_type",
            json!({"column": column, "expected": expected, "found": found}),
        ),
        K::ColumnTypeModifier {
            column,
            expected,
            found,
        } => (
            "column_type_modifier",
            json!({"column": column, "expected": expected, "found": found}),
        ),
        K::ExtraColumn { column } => ("extra_column", json!({"column": column})),
        K::Definition { problem } => ("definition", json!({"problem": problem})),
        K::ChangedSinceApply => ("changed_since_apply", json!({})),
        K::Trigger { trigger, problem } => {
            ("trigger", json!({"trigger": trigger, "problem": problem}))
        }
        K::TriggerFunction { problem } => ("trigger_function", json!({"problem": problem})),
        K::Record { problem } => ("record", json!({"problem": problem})),
        K::MissingEnum { db_name } => ("missing_enum", json!({"enum": db_name})),
        K::MissingEnumLabel { label } => ("missing_enum_label", json!({"label": label})),
        K::ExtraEnumLabel { label } => ("extra_enum_label", json!({"label": label})),
        K::Writable { events } => ("writable", json!({"events": events})),
        K::WriteRule { rule } => ("write_rule", json!({"rule": rule})),
        K::NoTenantFilter => ("no_tenant_filter", json!({})),
        K::TenantFunction { function } => ("tenant_function", json!({"function": function})),
        K::EarlierTenantDesign => ("earlier_tenant_design", json!({})),
        K::ExtraView => ("extra_view", json!({})),
        K::NewerPackage { package_hash } => {
            ("newer_package", json!({"package_hash": package_hash}))
        }
        // A kind newer than this schema version: its message says what it is.
        _ => ("other", json!({})),
    }
}

fn finding(f: &Finding) -> Value {
    let (kind, details) = finding_kind(&f.kind);
    json!({
        "severity": severity(f.severity),
        "kind": kind,
        "message": f.message,
        "details": details,
    })
}

/// `idpviews.verify/1`.
pub(crate) fn verify_report(report: &VerifyReport) -> Value {
    let objects: Vec<Value> = report
        .objects
        .iter()
        .map(|o| {
            let worst = o.findings.iter().map(|f| f.severity).min();
            json!({
                "object": o.object,
                "status": worst.map_or("ok", severity),
                "findings": o.findings.iter().map(finding).collect::<Vec<_>>(),
            })
        })
        .collect();
    let notes = report
        .findings()
        .filter(|f| f.severity == Severity::Note)
        .count();
    json!({
        "schema": VERIFY,
        "status": if report.is_ok() { "ok" } else { "problems" },
        "views_schema": report.schema,
        "errors": report.errors(),
        "warnings": report.warnings(),
        "notes": notes,
        "objects": objects,
    })
}

/// `idpviews.audit/1`.
pub(crate) fn audit_report(report: &AuditReport) -> Value {
    let relations: Vec<Value> = report
        .relations
        .iter()
        .map(|r| match &r.outcome {
            AuditOutcome::Checked { orphans, sample } => json!({
                "relation": r.relation,
                "table": r.table,
                "outcome": "checked",
                "orphans": orphans,
                "sample": sample
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|(column, value)| json!({"column": column, "value": value}))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>(),
            }),
            AuditOutcome::Skipped { reason } => json!({
                "relation": r.relation,
                "table": r.table,
                "outcome": "skipped",
                "reason": reason,
            }),
        })
        .collect();
    json!({
        "schema": AUDIT,
        "status": if report.is_clean() { "ok" } else { "problems" },
        "orphans": report.orphans(),
        "relations": relations,
    })
}

/// `idpviews.apply/1` of an apply that succeeded.
pub(crate) fn applied(applied: &Applied) -> Value {
    let views: Vec<Value> = applied
        .views
        .iter()
        .map(|(view, change)| {
            let (change, appended): (&str, &[String]) = match change {
                ViewChange::Created => ("created", &[]),
                ViewChange::Unchanged => ("unchanged", &[]),
                ViewChange::Replaced => ("replaced", &[]),
                ViewChange::Appended(columns) => ("appended", columns),
            };
            json!({"view": view, "change": change, "appended_columns": appended})
        })
        .collect();
    let newer = applied.newer.as_ref().map(|n| {
        json!({
            "package_hash": n.package_hash,
            "applied_at": n.applied_at,
            "applied_by": n.applied_by,
            "idpviews_version": n.idpviews_version,
        })
    });
    json!({
        "schema": APPLY,
        "status": "ok",
        "views_schema": applied.schema,
        "changed": !applied.is_noop(),
        "attempts": applied.attempts,
        "repaired": applied.repaired,
        "views": views,
        "newer_package": newer,
    })
}

fn blocked_json(b: &Blocked) -> Value {
    let sessions: Vec<Value> = b
        .sessions
        .iter()
        .map(|s| {
            json!({
                "pid": s.pid,
                "user": s.user,
                "application_name": s.application_name,
                "state": s.state,
                "transaction_start": s.transaction_start,
                "query_start": s.query_start,
                "query": s.query,
                "mode": s.mode,
                "granted": s.granted,
                "object": s.object,
            })
        })
        .collect();
    json!({
        "waiting_for": b.waiting_for,
        "lock_timeout_ms": u64::try_from(b.lock_timeout.as_millis()).unwrap_or(u64::MAX),
        "attempts": b.attempts,
        "sessions": sessions,
    })
}

/// `idpviews.replica-status/1`; `problems` per subscription as
/// [`SubscriptionStatus::problems`] found them.
pub(crate) fn replica_status(subs: &[(&SubscriptionStatus, Vec<String>)]) -> Value {
    let healthy = subs.iter().all(|(_, problems)| problems.is_empty());
    let subscriptions: Vec<Value> = subs
        .iter()
        .map(|(s, problems)| {
            json!({
                "subscription": s.subscription,
                "enabled": s.enabled,
                "worker_running": s.worker_running,
                "apply_errors": s.apply_errors,
                "sync_errors": s.sync_errors,
                "tables": s.tables.iter().map(|t| json!({
                    "table": t.table,
                    "state": t.state.to_string(),
                })).collect::<Vec<_>>(),
                "last_message_age_seconds": s.last_message_age_seconds,
                "lag": s.lag.map(|l| json!({"bytes": l.bytes, "seconds": l.seconds})),
                "problems": problems,
            })
        })
        .collect();
    json!({
        "schema": REPLICA_STATUS,
        "status": if healthy { "ok" } else { "problems" },
        "subscriptions": subscriptions,
    })
}

/// The integration tests' validator, for the unit tests below.
#[cfg(test)]
#[path = "../tests/support/json_schema.rs"]
mod json_schema;

#[cfg(test)]
mod tests {
    //! Every finding kind and every error the runtime can return, as the
    //! documents carry them, against the schema files (the database tests
    //! produce only some of them).

    use super::json_schema;
    use super::*;
    use idpviews::verify::CheckedObject;
    use idpviews::{BlockingSession, Incompatibility};
    use std::time::Duration;

    fn every_kind() -> Vec<FindingKind> {
        let s = || "x".to_string();
        vec![
            FindingKind::MissingSchema,
            FindingKind::MissingView,
            FindingKind::NotAView,
            FindingKind::MissingColumn { column: s() },
            FindingKind::ColumnOrder { column: s() },
            FindingKind::ColumnType {
                column: s(),
                expected: s(),
                found: s(),
            },
            FindingKind::ColumnTypeModifier {
                column: s(),
                expected: s(),
                found: s(),
            },
            FindingKind::ExtraColumn { column: s() },
            FindingKind::Definition { problem: s() },
            FindingKind::ChangedSinceApply,
            FindingKind::Trigger {
                trigger: s(),
                problem: s(),
            },
            FindingKind::TriggerFunction { problem: s() },
            FindingKind::Record { problem: s() },
            FindingKind::MissingEnum { db_name: s() },
            FindingKind::MissingEnumLabel { label: s() },
            FindingKind::ExtraEnumLabel { label: s() },
            FindingKind::Writable {
                events: vec!["INSERT", "UPDATE"],
            },
            FindingKind::WriteRule { rule: s() },
            FindingKind::NoTenantFilter,
            FindingKind::TenantFunction { function: s() },
            FindingKind::EarlierTenantDesign,
            FindingKind::ExtraView,
            FindingKind::NewerPackage { package_hash: s() },
        ]
    }

    #[test]
    fn every_finding_kind_is_in_the_verify_schema_with_its_details() {
        let schema = json_schema::load("verify.v1.json");
        let kinds = every_kind();
        let report = VerifyReport {
            schema: "idp_views".into(),
            objects: vec![CheckedObject {
                object: "view IdpUser".into(),
                findings: kinds
                    .iter()
                    .map(|kind| Finding {
                        severity: Severity::Warning,
                        kind: kind.clone(),
                        message: "m".into(),
                    })
                    .collect(),
            }],
        };
        let doc = verify_report(&report);
        json_schema::assert_valid(&schema, &doc);
        let names: std::collections::BTreeSet<&str> = doc["objects"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            kinds.len(),
            "two kinds share a name: {names:?}"
        );
        assert!(!names.contains("other"));
        assert_eq!(doc["status"], "ok", "warnings only");
        assert_eq!(doc["objects"][0]["status"], "warning");
    }

    #[test]
    fn every_runtime_error_is_a_valid_failure_document_of_every_command() {
        let errors = vec![
            idpviews::Error::Incompatible(vec![Incompatibility {
                schema: "idp_views".into(),
                view: "IdpUser".into(),
                column: Some("email".into()),
                problem: "retyped".into(),
            }]),
            idpviews::Error::Refused(vec!["view IdpUser: ...".into()]),
            idpviews::Error::Package("unbalanced".into()),
            idpviews::Error::InvalidInput("empty role".into()),
            idpviews::Error::Blocked(Box::new(Blocked {
                waiting_for: "the views".into(),
                lock_timeout: Duration::from_millis(300),
                attempts: 2,
                sessions: vec![BlockingSession {
                    pid: 7,
                    user: Some("u".into()),
                    application_name: None,
                    state: Some("idle in transaction".into()),
                    transaction_start: None,
                    query_start: None,
                    query: None,
                    mode: "AccessShareLock".into(),
                    granted: true,
                    object: "idp_views.IdpUser".into(),
                }],
            })),
            idpviews::Error::Timeout("no answer within 10 s".into()),
            idpviews::Error::ReadOnlyStandby,
            idpviews::Error::Replica("no".into()),
            idpviews::Error::Verify(Box::new(VerifyReport {
                schema: "idp_views".into(),
                objects: vec![],
            })),
        ];
        let schemas = [
            ("apply.v1.json", APPLY),
            ("verify.v1.json", VERIFY),
            ("audit.v1.json", AUDIT),
            ("replica-status.v1.json", REPLICA_STATUS),
        ];
        let mut kinds = Vec::new();
        for e in &errors {
            let failure = Failure::from_error(e);
            assert_eq!(failure.code, 1);
            assert_ne!(failure.kind, "other", "{e}");
            kinds.push(failure.kind);
            let mut error = failure.details;
            error.insert("kind".into(), json!(failure.kind));
            error.insert("message".into(), json!(failure.message));
            for (file, id) in schemas {
                // blocked details belong to apply only
                if failure.kind == "blocked" && file != "apply.v1.json" {
                    continue;
                }
                let doc = json!({"schema": id, "status": "error", "error": error});
                json_schema::assert_valid(&json_schema::load(file), &doc);
            }
        }
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), errors.len(), "two errors share a kind");
        // the error kinds are the same list in every schema
        let list = |file: &str| {
            json_schema::load(file)["$defs"]["error"]["properties"]["kind"]["enum"].clone()
        };
        for (file, _) in schemas {
            assert_eq!(list(file), list("apply.v1.json"), "{file}");
        }
    }
}
