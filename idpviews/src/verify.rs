//! Verify a live database against the package a service was compiled with.
//!
//! The build catches drift between code and package; this catches drift
//! between package and database: missing views or columns, retyped columns,
//! enum labels the code knows but the database lacks (and new ones it does
//! not know: a warning, they decode as `Unknown`), views that would accept
//! writes, tenant-isolated views whose isolation is off (the tenant filter
//! or a column mask missing, `set_tenant`/`current_tenant` missing or not the
//! package's).
//!
//! Exact, per view (see `repair.rs` for what `apply` does about it):
//! the view reads only its source table, each column is exactly the
//! same-named allowlisted source column (read from the view's query tree in
//! `pg_rewrite` and its dependencies in `pg_depend`: no `WHERE`, join,
//! subquery, `LIMIT`, aggregate or function; a tenant-isolated view's filter,
//! masks and `current_tenant()` call are expected, their exact form is the
//! tenant check's), its `pg_get_viewdef` is the one
//! recorded when it was applied (the applied record, [`crate::record`]), the
//! two read-only triggers are the package's and no other trigger or rule
//! exists, and the trigger function is the package's (body, language,
//! `SECURITY INVOKER`, no settings, owned by the schema owner). A column the
//! package does not have is an error unless the applied record explains it
//! (a newer package that extends this one was applied: the same rule as
//! `apply`'s no-op, reported as a [`Severity::Note`]).
//!
//! Only the system catalogs are read (no privilege on `idp` is needed, and
//! nothing is written): a product role can verify at start-up.

use crate::catalog::{self, Relation};
use crate::db::{run_ready, AsyncConn, Conn, DbError, DbRow, SyncConn};
use crate::manifest::{content_hash, Manifest, ManifestView};
use crate::record::{self, AppliedRecord};
use crate::{Error, Package};
use idpviews_core::types::strip_type_modifiers;
use std::collections::BTreeMap;
use std::fmt;

pub use idpviews_core::names::{
    CURRENT_TENANT_BODY, CURRENT_TENANT_FUNCTION, CURRENT_TENANT_LANGUAGE,
    READ_ONLY_STATEMENT_TRIGGER, READ_ONLY_TRIGGER, REJECT_WRITE_FUNCTION, SET_TENANT_BODY,
    SET_TENANT_FUNCTION, TENANT_SETTING,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Information, e.g. that a newer compatible package is applied.
    Note,
}

/// What is wrong, with the names needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindingKind {
    MissingSchema,
    MissingView,
    /// The name is taken by a table or another kind of relation.
    NotAView,
    MissingColumn {
        column: String,
    },
    /// The column exists at another position.
    ColumnOrder {
        column: String,
    },
    /// Another type (e.g. `integer` where `text` is expected).
    ColumnType {
        column: String,
        expected: String,
        found: String,
    },
    /// Same type, other modifier (e.g. `timestamp(6)` for `timestamp(3)`): a warning.
    ColumnTypeModifier {
        column: String,
        expected: String,
        found: String,
    },
    /// The database view has a column the package does not know: a warning
    /// when the applied record explains it (a newer package was applied), an
    /// error otherwise (added by hand).
    ExtraColumn {
        column: String,
    },
    /// The view's definition is not the package's: another source, a
    /// non-allowlisted or renamed source column, a `WHERE`, a join, ...
    Definition {
        problem: String,
    },
    /// `pg_get_viewdef` differs from the one recorded when the package was
    /// applied: the view was replaced by hand.
    ChangedSinceApply,
    /// A trigger the package does not create, or one of its read-only
    /// triggers altered.
    Trigger {
        trigger: String,
        problem: String,
    },
    /// The write-rejecting trigger function is missing or not the package's
    /// (body, language, owner, `SECURITY` mode, settings).
    TriggerFunction {
        problem: String,
    },
    /// No applied record on the schema (applied with `psql -f` or an older
    /// idpviews), or a malformed one, or the record of another package: a
    /// warning (the structural checks still run).
    Record {
        problem: String,
    },
    MissingEnum {
        db_name: String,
    },
    MissingEnumLabel {
        label: String,
    },
    /// A label the code does not know: rows carrying it decode as `Unknown` (warning).
    ExtraEnumLabel {
        label: String,
    },
    /// These write events are not rejected by the read-only trigger.
    Writable {
        events: Vec<&'static str>,
    },
    /// A non-SELECT rewrite rule (can bypass the read-only trigger).
    WriteRule {
        rule: String,
    },
    /// A tenant-isolated view that does not filter on the tenant the
    /// transaction declared, or exposes a column other than a unique one
    /// without the tenant mask.
    NoTenantFilter,
    /// `set_tenant` or `current_tenant` is missing in the views schema or is
    /// not the package's (another body, `SECURITY DEFINER`, a `SET` clause).
    TenantFunction {
        function: String,
    },
    /// The package is of the earlier row-level security design
    /// (`tenant_owner` in the manifest): regenerate it.
    EarlierTenantDesign,
    /// A view in the schema that the package does not list: a warning when
    /// the applied record lists it (a newer package) or there is no record,
    /// an error otherwise (created by hand).
    ExtraView,
    /// The applied record names a newer package that extends this one
    /// (note): this package reads the database correctly.
    NewerPackage {
        package_hash: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// One line, for people.
    pub message: String,
}

/// The findings for one object (the schema, a view or an enum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedObject {
    /// E.g. `schema idp_views`, `view IdpUser`, `enum idp.user_type`.
    pub object: String,
    pub findings: Vec<Finding>,
}

/// The result of [`verify`]: one entry per checked object, in a fixed order
/// (schema, package views, unknown views, enums).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub schema: String,
    pub objects: Vec<CheckedObject>,
}

impl VerifyReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.objects.iter().flat_map(|o| o.findings.iter())
    }

    pub fn errors(&self) -> usize {
        self.findings()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }

    /// No errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors() == 0
    }

    /// For fail-fast start-up: `Err` (displaying the whole table) when there
    /// is an error, the report (possibly with warnings to log) otherwise.
    pub fn into_result(self) -> Result<VerifyReport, Error> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(Error::Verify(Box::new(self)))
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows: Vec<(&str, &str, &str)> = Vec::new();
        for o in &self.objects {
            if o.findings.is_empty() {
                rows.push((&o.object, "ok", ""));
            }
            for (i, finding) in o.findings.iter().enumerate() {
                let object = if i == 0 { o.object.as_str() } else { "" };
                let status = match finding.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "note",
                };
                rows.push((object, status, &finding.message));
            }
        }
        let width = rows
            .iter()
            .map(|r| r.0.chars().count())
            .chain(["OBJECT".len()])
            .max()
            .unwrap_or(0);
        writeln!(f, "{:<width$}  {:<7}  FINDING", "OBJECT", "STATUS")?;
        for (object, status, message) in rows {
            let line = format!("{object:<width$}  {status:<7}  {message}");
            writeln!(f, "{}", line.trim_end())?;
        }
        let (errors, warnings) = (self.errors(), self.warnings());
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{errors} error{}, {warnings} warning{}: ",
            plural(errors),
            plural(warnings)
        )?;
        if errors == 0 {
            write!(f, "the database matches the views package")
        } else {
            write!(
                f,
                "the database does not match the views package (apply the package, or deploy the \
                 service built against the package that is applied)"
            )
        }
    }
}

/// Verifies with a blocking client (or transaction).
pub fn verify<C: postgres::GenericClient>(
    client: &mut C,
    package: &Package,
) -> Result<VerifyReport, Error> {
    run_ready(verify_on(SyncConn(client), package))
}

/// Verifies on a sqlx connection or transaction (`&mut tx`; the `sqlx` feature).
#[cfg(feature = "sqlx")]
pub async fn verify_sqlx(
    conn: &mut sqlx::PgConnection,
    package: &Package,
) -> Result<VerifyReport, Error> {
    verify_on(crate::db::SqlxConn(conn), package).await
}

/// Verifies with an async client (or transaction).
pub async fn verify_async<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    package: &Package,
) -> Result<VerifyReport, Error> {
    verify_on(AsyncConn(client), package).await
}

const TRIGGERS_SQL: &str = "\
SELECT c.relname::text, t.tgtype::int4, t.tgenabled::text, pn.nspname::text, p.proname::text, \
       t.tgname::text \
FROM pg_catalog.pg_trigger t \
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid \
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace \
WHERE n.nspname = $1 AND NOT t.tgisinternal \
ORDER BY c.relname, t.tgname";

const RULES_SQL: &str = "\
SELECT c.relname::text, r.rulename::text \
FROM pg_catalog.pg_rewrite r \
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND r.ev_type <> '1' \
ORDER BY c.relname, r.rulename";

/// Every view's definition and query tree (`pg_rewrite` is readable by every role).
const VIEWDEFS_SQL: &str = "\
SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid), r.ev_action::text \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN' \
WHERE n.nspname = $1 AND c.relkind = 'v' \
ORDER BY c.relname";

/// What each view's query depends on, besides itself.
const DEPENDS_SQL: &str = "\
SELECT c.relname::text, (d.refclassid = 'pg_catalog.pg_class'::regclass), rn.nspname::text, \
       rc.relname::text, d.refobjsubid::int4, (d.refclassid = 'pg_catalog.pg_proc'::regclass), \
       CASE WHEN d.refclassid <> 'pg_catalog.pg_class'::regclass \
            THEN pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) END, \
       a.attname::text, pn.nspname::text, p.proname::text, p.pronargs::int4 \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid \
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid \
LEFT JOIN pg_catalog.pg_class rc ON d.refclassid = 'pg_catalog.pg_class'::regclass AND rc.oid = d.refobjid \
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace \
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = rc.oid AND a.attnum = d.refobjsubid \
LEFT JOIN pg_catalog.pg_proc p ON d.refclassid = 'pg_catalog.pg_proc'::regclass AND p.oid = d.refobjid \
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace \
WHERE n.nspname = $1 AND c.relkind = 'v' \
  AND NOT (d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid) \
ORDER BY 1, 3, 4, 5";

/// The write-rejecting function and the views schema's owner.
const FUNCTION_SQL: &str = "\
SELECT p.prosrc, pg_catalog.pg_get_userbyid(p.proowner)::text, p.prosecdef, l.lanname::text, \
       coalesce(p.proconfig, '{}')::text[], pg_catalog.pg_get_userbyid(n.nspowner)::text \
FROM pg_catalog.pg_proc p \
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
JOIN pg_catalog.pg_language l ON l.oid = p.prolang \
WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0";

const ENUMS_SQL: &str = "\
SELECT n.nspname::text, t.typname::text, \
       coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
                FILTER (WHERE e.enumlabel IS NOT NULL), '{}') \
FROM pg_catalog.pg_type t \
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid \
WHERE t.typtype = 'e' AND n.nspname = ANY($1) \
GROUP BY n.nspname, t.typname";

const TENANT_FUNCTIONS_SQL: &str = "\
SELECT p.proname::text, p.prosrc, l.lanname::text, p.prosecdef, p.provolatile::text, \
       p.proconfig IS NOT NULL, pg_catalog.pg_get_function_identity_arguments(p.oid), \
       pg_catalog.pg_get_function_result(p.oid) \
FROM pg_catalog.pg_proc p \
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
JOIN pg_catalog.pg_language l ON l.oid = p.prolang \
WHERE n.nspname = $1 AND p.proname = ANY($2) \
ORDER BY 1, 7";

/// A tenant function as the catalog holds it.
#[derive(Debug, Clone)]
pub(crate) struct TenantFunction {
    name: String,
    body: String,
    language: String,
    security_definer: bool,
    volatility: String,
    has_set_clause: bool,
    arguments: String,
    result: String,
}

/// The write-rejecting trigger function as the catalog holds it.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    source: String,
    owner: String,
    security_definer: bool,
    language: String,
    settings: Vec<String>,
    schema_owner: String,
}

/// A trigger on a view.
#[derive(Debug, Clone)]
pub(crate) struct Trigger {
    name: String,
    tgtype: i32,
    enabled: String,
    fn_schema: String,
    fn_name: String,
}

/// A dependency of a view's query on another object.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    /// On a relation (table, view, ...): its schema, name and column (0: the whole relation).
    relation: Option<(String, String, i32)>,
    /// On a function.
    function: bool,
    /// `pg_describe_object` (not for relations).
    description: Option<String>,
    /// On a function: its schema, name and number of arguments.
    function_name: Option<(String, String, i32)>,
}

/// Everything [`check`] needs, read from the catalogs.
#[derive(Debug, Default)]
pub(crate) struct Live {
    schema_exists: bool,
    relations: BTreeMap<String, Relation>,
    triggers: BTreeMap<String, Vec<Trigger>>,
    /// view -> write rules
    rules: BTreeMap<String, Vec<String>>,
    /// view -> `pg_get_viewdef`
    viewdefs: BTreeMap<String, String>,
    /// view -> query tree (`pg_rewrite.ev_action`)
    trees: BTreeMap<String, String>,
    /// view -> dependencies
    depends: BTreeMap<String, Vec<Dependency>>,
    /// (schema, table) -> attnum -> column name, for the columns views read
    source_columns: BTreeMap<(String, String), BTreeMap<i32, String>>,
    function: Option<Function>,
    /// The applied record: `None` none, `Some(Err)` malformed.
    record: Option<Result<AppliedRecord, String>>,
    /// (schema, type) -> labels in order
    enums: BTreeMap<(String, String), Vec<String>>,
    /// `set_tenant` and `current_tenant` in the views schema
    tenant_functions: Vec<TenantFunction>,
}

async fn verify_on<C: Conn>(mut conn: C, package: &Package) -> Result<VerifyReport, Error> {
    let report = inspect(&mut conn, package).await?;
    crate::replica::verify_tables(&mut conn, &package.manifest, report).await
}

/// Reads the catalogs and checks them: [`verify`] on any [`Conn`], for
/// [`crate::repair`] inside the apply transaction.
pub(crate) async fn inspect<C: Conn>(
    conn: &mut C,
    package: &Package,
) -> Result<VerifyReport, Error> {
    let live = read_live(conn, &package.manifest)
        .await
        .map_err(Error::db("reading the database catalog"))?;
    Ok(check(package, &live))
}

pub(crate) async fn read_live<C: Conn>(conn: &mut C, manifest: &Manifest) -> Result<Live, DbError> {
    let schema = manifest.schema.as_str();
    let mut live = Live {
        schema_exists: catalog::schema_exists(conn, schema).await?,
        relations: catalog::relations(conn, schema).await?,
        ..Live::default()
    };
    for row in conn.query(TRIGGERS_SQL, &[&schema]).await? {
        live.triggers.entry(row.get(0)).or_default().push(Trigger {
            tgtype: row.get(1),
            enabled: row.get(2),
            fn_schema: row.get(3),
            fn_name: row.get(4),
            name: row.get(5),
        });
    }
    for row in conn.query(VIEWDEFS_SQL, &[&schema]).await? {
        live.viewdefs.insert(row.get(0), row.get(1));
        live.trees.insert(row.get(0), row.get(2));
    }
    for row in conn.query(DEPENDS_SQL, &[&schema]).await? {
        let on_relation: bool = row.get(1);
        let relation: Option<(String, String, i32)> =
            on_relation.then(|| (row.get(2), row.get(3), row.get(4)));
        // the source columns a view reads, by number (for its select list)
        let column: Option<String> = row.get(7);
        if let (Some((sch, table, attnum)), Some(column)) = (&relation, column) {
            live.source_columns
                .entry((sch.clone(), table.clone()))
                .or_default()
                .insert(*attnum, column);
        }
        live.depends
            .entry(row.get(0))
            .or_default()
            .push(Dependency {
                relation,
                function: row.get(5),
                description: row.get(6),
                function_name: row
                    .get::<Option<String>>(8)
                    .zip(row.get::<Option<String>>(9))
                    .map(|(sch, name)| (sch, name, row.get::<Option<i32>>(10).unwrap_or(0))),
            });
    }
    if let Some(row) = conn
        .query(FUNCTION_SQL, &[&schema, &REJECT_WRITE_FUNCTION])
        .await?
        .first()
    {
        live.function = Some(Function {
            source: row.get(0),
            owner: row.get(1),
            security_definer: row.get(2),
            language: row.get(3),
            settings: row.get(4),
            schema_owner: row.get(5),
        });
    }
    live.record = record::read_text(conn, schema)
        .await?
        .and_then(|text| AppliedRecord::from_comment(&text).transpose());
    for row in conn.query(RULES_SQL, &[&schema]).await? {
        live.rules.entry(row.get(0)).or_default().push(row.get(1));
    }
    let tenant_views: Vec<&str> = manifest
        .views
        .iter()
        .filter(|v| v.tenant_field.is_some())
        .map(|v| v.name.as_str())
        .collect();
    if !tenant_views.is_empty() {
        read_tenant_functions(conn, schema, &mut live).await?;
    }
    let enum_schemas: Vec<&str> = manifest
        .enums
        .iter()
        .map(|e| e.source_schema.as_str())
        .collect();
    if !enum_schemas.is_empty() {
        for row in conn.query(ENUMS_SQL, &[&enum_schemas]).await? {
            live.enums.insert((row.get(0), row.get(1)), row.get(2));
        }
    }
    Ok(live)
}

fn error(kind: FindingKind, message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        kind,
        message,
    }
}

fn warning(kind: FindingKind, message: String) -> Finding {
    Finding {
        severity: Severity::Warning,
        kind,
        message,
    }
}

/// Pure comparison of the package with what the catalogs hold.
pub(crate) fn check(package: &Package, live: &Live) -> VerifyReport {
    let manifest = &package.manifest;
    let schema = &manifest.schema;
    let mut objects = Vec::new();
    let mut schema_findings = Vec::new();
    if !live.schema_exists {
        schema_findings.push(error(
            FindingKind::MissingSchema,
            format!("schema \"{schema}\" does not exist: apply the views package"),
        ));
    }
    let record = match &live.record {
        _ if !live.schema_exists => None,
        None => {
            schema_findings.push(warning(
                FindingKind::Record {
                    problem: "none".into(),
                },
                "no applied record (applied with `psql -f` or an older idpviews): view \
                 definitions are checked structurally only; `idpviews apply` writes one"
                    .into(),
            ));
            None
        }
        Some(Err(problem)) => {
            schema_findings.push(error(
                FindingKind::Record {
                    problem: problem.clone(),
                },
                format!("{problem}: the schema comment was changed by hand; apply the package"),
            ));
            None
        }
        Some(Ok(record)) => {
            let ours = manifest.package_hash();
            if record.package_hash != ours && crate::apply::extends(&record.manifest, manifest) {
                // a newer package that extends this one (see `apply`): say so
                schema_findings.push(Finding {
                    severity: Severity::Note,
                    kind: FindingKind::NewerPackage {
                        package_hash: record.package_hash.clone(),
                    },
                    message: format!(
                        "a newer package that extends this one is applied ({}, {}); this \
                         package reads it as is",
                        record.package_hash, record.applied_at
                    ),
                });
            } else if record.package_hash != ours {
                schema_findings.push(warning(
                    FindingKind::Record {
                        problem: "another package".into(),
                    },
                    format!(
                        "the applied package is {} (applied at {} by {}), not this build's {ours}",
                        record.package_hash, record.applied_at, record.applied_by
                    ),
                ));
            }
            Some(record)
        }
    };
    if live.schema_exists {
        schema_findings.extend(check_tenant_functions(manifest, live));
    }
    objects.push(CheckedObject {
        object: format!("schema {schema}"),
        findings: schema_findings,
    });
    if live.schema_exists {
        objects.push(CheckedObject {
            object: format!("function {schema}.{REJECT_WRITE_FUNCTION}"),
            findings: check_function(&package.sql, live),
        });
        for view in &manifest.views {
            objects.push(CheckedObject {
                object: format!("view {}", view.name),
                findings: check_view(schema, view, live, record),
            });
        }
        for (name, rel) in &live.relations {
            if rel.kind == "v" && manifest.view(name).is_none() {
                // the record tells a newer package's view from one created by hand
                let finding = match record {
                    Some(r) if r.manifest.view(name).is_none() => error(
                        FindingKind::ExtraView,
                        format!(
                            "in neither the views package nor the applied package {}: created by \
                             hand; product roles may read it: drop it",
                            r.package_hash
                        ),
                    ),
                    Some(r) => warning(
                        FindingKind::ExtraView,
                        format!(
                            "not in this build's package: added by the applied package {}",
                            r.package_hash
                        ),
                    ),
                    None => warning(
                        FindingKind::ExtraView,
                        "not in the views package (added by a newer package, or left over)".into(),
                    ),
                };
                objects.push(CheckedObject {
                    object: format!("view {name}"),
                    findings: vec![finding],
                });
            }
        }
    }
    for e in &manifest.enums {
        let mut findings = Vec::new();
        match live
            .enums
            .get(&(e.source_schema.clone(), e.db_name.clone()))
        {
            None => findings.push(error(
                FindingKind::MissingEnum {
                    db_name: e.db_name.clone(),
                },
                format!(
                    "enum type \"{}\".\"{}\" does not exist",
                    e.source_schema, e.db_name
                ),
            )),
            Some(labels) => {
                for v in &e.values {
                    if !labels.contains(&v.label) {
                        findings.push(error(
                            FindingKind::MissingEnumLabel {
                                label: v.label.clone(),
                            },
                            format!(
                                "label \"{}\" ({}::{}) is missing in the database",
                                v.label, e.name, v.name
                            ),
                        ));
                    }
                }
                for label in labels {
                    if !e.values.iter().any(|v| &v.label == label) {
                        findings.push(warning(
                            FindingKind::ExtraEnumLabel {
                                label: label.clone(),
                            },
                            format!(
                                "label \"{label}\" is not known to this build: rows with it decode as \
                                 {}::Unknown",
                                e.name
                            ),
                        ));
                    }
                }
            }
        }
        objects.push(CheckedObject {
            object: format!("enum {}.{}", e.source_schema, e.db_name),
            findings,
        });
    }
    VerifyReport {
        schema: schema.clone(),
        objects,
    }
}

const INSTEAD_OF_EVENTS: [(i32, &str); 3] = [(4, "INSERT"), (16, "UPDATE"), (8, "DELETE")];
const TRIGGER_TYPE_ROW: i32 = 1;
const TRIGGER_TYPE_INSTEAD: i32 = 64;
/// `tgtype` of the package's triggers: `BEFORE INSERT OR UPDATE OR DELETE
/// FOR EACH STATEMENT` and `INSTEAD OF INSERT OR UPDATE OR DELETE FOR EACH ROW`.
const STATEMENT_TRIGGER_TYPE: i32 = 2 | 4 | 8 | 16;
const ROW_TRIGGER_TYPE: i32 = TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSTEAD | 4 | 8 | 16;

/// Exactly the package's two triggers, enabled, calling the package's
/// function: any other trigger can write (or leak) before ours raises.
/// `writable`: the `Writable` finding already says the row trigger is
/// missing or disabled (one line per finding).
fn check_triggers(schema: &str, triggers: &[Trigger], writable: bool, findings: &mut Vec<Finding>) {
    for (name, tgtype) in [
        (READ_ONLY_STATEMENT_TRIGGER, STATEMENT_TRIGGER_TYPE),
        (READ_ONLY_TRIGGER, ROW_TRIGGER_TYPE),
    ] {
        let problem = match triggers.iter().find(|t| t.name == name) {
            None if writable => None,
            None => Some("is missing".to_owned()),
            Some(t) if writable && t.enabled == "D" => None,
            Some(t) if t.tgtype != tgtype => Some(format!(
                "fires on other events than the package's (tgtype {} instead of {tgtype})",
                t.tgtype
            )),
            Some(t) if t.enabled == "D" => Some("is disabled".to_owned()),
            Some(t) if t.fn_schema != schema || t.fn_name != REJECT_WRITE_FUNCTION => {
                Some(format!(
                    "calls \"{}\".{}() instead of \"{schema}\".{REJECT_WRITE_FUNCTION}()",
                    t.fn_schema, t.fn_name
                ))
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            findings.push(error(
                FindingKind::Trigger {
                    trigger: name.to_owned(),
                    problem: problem.clone(),
                },
                format!("trigger \"{name}\" {problem}: apply the package"),
            ));
        }
    }
    for t in triggers {
        if t.name != READ_ONLY_STATEMENT_TRIGGER && t.name != READ_ONLY_TRIGGER {
            findings.push(error(
                FindingKind::Trigger {
                    trigger: t.name.clone(),
                    problem: "not the package's".into(),
                },
                format!(
                    "trigger \"{}\" (calling \"{}\".{}()) is not the package's: it runs on writes \
                     before the read-only trigger; apply the package (drops it)",
                    t.name, t.fn_schema, t.fn_name
                ),
            ));
        }
    }
}

/// The write-rejecting trigger function is the package's.
fn check_function(sql: &str, live: &Live) -> Vec<Finding> {
    let finding = |problem: String| {
        error(
            FindingKind::TriggerFunction {
                problem: problem.clone(),
            },
            format!("{problem}: apply the package"),
        )
    };
    let Some(f) = &live.function else {
        return vec![finding("missing: no view rejects writes".to_owned())];
    };
    let mut findings = Vec::new();
    match crate::repair::function_body(sql) {
        Some(body) if body != f.source => findings.push(finding(
            "its body is not the package's (rewritten by hand?)".to_owned(),
        )),
        _ => {}
    }
    if f.language != "plpgsql" {
        findings.push(finding(format!("is LANGUAGE {}, not plpgsql", f.language)));
    }
    if f.security_definer {
        findings.push(finding(
            "is SECURITY DEFINER, not SECURITY INVOKER".to_owned(),
        ));
    }
    if !f.settings.is_empty() {
        findings.push(finding(format!("has settings ({})", f.settings.join(", "))));
    }
    if f.owner != f.schema_owner {
        findings.push(finding(format!(
            "is owned by \"{}\", not by the schema owner \"{}\"",
            f.owner, f.schema_owner
        )));
    }
    findings
}

/// The view reads exactly what the package defines, checked on the view's
/// own query tree and dependencies (independent of the applied record, so a
/// forged record cannot hide a secret column): its only source is the
/// manifest's table; every column is the same-named source column that the
/// package (or, for columns this build does not know, the applied package)
/// allowlists, as is or cast to text; no `WHERE`, join, subquery, grouping,
/// `DISTINCT`, `LIMIT`, set operation or function.
///
/// A tenant-isolated view (the current design: no `tenant_owner`) also
/// reads its tenant column, calls `<schema>.current_tenant()` (in scalar
/// subqueries that read no table), filters in a `WHERE` and wraps columns
/// in `CASE WHEN <tenant check> THEN <column> ELSE NULL END`: those are
/// expected here, and their exact form is checked against the package by
/// [`check_tenant_view`] and the recorded `pg_get_viewdef` hash. Any other
/// table, column or function is still an error.
fn check_definition(
    schema: &str,
    view: &ManifestView,
    recorded: Option<&ManifestView>,
    live: &Live,
    findings: &mut Vec<Finding>,
) {
    let mut problems = Vec::new();
    let source = (view.source_schema.clone(), view.source_table.clone());
    let tenant = view.tenant_field.is_some() && view.tenant_owner.is_none();
    let allowed = |column: &str| {
        view.columns.iter().any(|c| c.column == column)
            || (view.tenant_field.is_some() && view.tenant_column.as_deref() == Some(column))
            || recorded.is_some_and(|r| {
                r.source_schema == view.source_schema
                    && r.source_table == view.source_table
                    && r.columns.iter().any(|c| c.column == column)
            })
    };
    let columns = live.source_columns.get(&source);
    for d in live.depends.get(&view.name).into_iter().flatten() {
        match &d.relation {
            Some((sch, table, _)) if (sch, table) != (&source.0, &source.1) => {
                problems.push(format!(
                    "reads \"{sch}\".\"{table}\", not only its source \"{}\".\"{}\"",
                    source.0, source.1
                ))
            }
            Some((_, _, 0)) => problems.push("reads whole rows of its source table".to_owned()),
            Some((_, _, attnum)) => {
                let name = columns.and_then(|c| c.get(attnum)).map(String::as_str);
                match name {
                    Some(name) if allowed(name) => {}
                    Some(name) => problems.push(format!(
                        "reads source column \"{name}\", which the package does not allowlist"
                    )),
                    None => problems.push(format!("reads source column number {attnum}")),
                }
            }
            None if tenant
                && d.function_name.as_ref().is_some_and(|(sch, name, args)| {
                    sch == schema && name == CURRENT_TENANT_FUNCTION && *args == 0
                }) => {}
            None if d.function => problems.push(format!(
                "calls {}, which the package does not",
                d.description.as_deref().unwrap_or("a function")
            )),
            None => {}
        }
    }
    match live.trees.get(&view.name) {
        // a package from before row-level security filters in the view
        Some(tree) => problems.extend(query_tree_problems(tree, columns, tenant)),
        None => problems.push("its query tree cannot be read".to_owned()),
    }
    problems.dedup();
    for problem in problems {
        findings.push(error(
            FindingKind::Definition {
                problem: problem.clone(),
            },
            format!("definition is not the package's: {problem}; apply the package"),
        ));
    }
}

/// What in a view's query tree (`pg_rewrite.ev_action`, PostgreSQL's
/// node-tree text) the package's `SELECT <columns> FROM <table>` never has.
/// `tenant`: the view is tenant-isolated, so a `WHERE`, scalar subqueries
/// that read no table, and columns `CASE WHEN <condition> THEN <column>
/// ELSE NULL END` are expected (their exact form: [`check_tenant_view`]).
fn query_tree_problems(
    tree: &str,
    columns: Option<&BTreeMap<i32, String>>,
    tenant: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let stripped;
    let tree = if tenant {
        let (rest, sublinks) = strip_sublinks(tree);
        for sublink in &sublinks {
            if sublink.matches("{QUERY ").count() != 1 || !sublink.contains(":rtable <>") {
                problems.push("has a subquery that reads a table".to_owned());
            }
        }
        stripped = rest;
        stripped.as_str()
    } else {
        tree
    };
    if tree.matches("{QUERY ").count() != 1 {
        problems.push("has a subquery".to_owned());
    }
    const PLAIN: [(&str, &str); 15] = [
        (":hasAggs false", "aggregates"),
        (":hasWindowFuncs false", "window functions"),
        (":hasTargetSRFs false", "set-returning functions"),
        (":hasSubLinks false", "a subquery"),
        (":hasDistinctOn false", "DISTINCT ON"),
        (":hasRecursive false", "WITH RECURSIVE"),
        (":cteList <>", "WITH"),
        (":groupClause <>", "GROUP BY"),
        (":groupingSets <>", "GROUPING SETS"),
        (":havingQual <>", "HAVING"),
        (":windowClause <>", "WINDOW"),
        (":distinctClause <>", "DISTINCT"),
        (":limitOffset <>", "OFFSET"),
        (":limitCount <>", "LIMIT"),
        (":setOperations <>", "UNION/INTERSECT/EXCEPT"),
    ];
    for (plain, what) in PLAIN {
        let expected = tenant && plain == ":hasSubLinks false";
        if !expected && !tree.contains(plain) {
            problems.push(format!("has {what}"));
        }
    }
    // `FROM <one table>` and no `WHERE`
    const FROM: &str = ":jointree {FROMEXPR :fromlist ({RANGETBLREF :rtindex ";
    match tree.find(FROM).map(|at| &tree[at + FROM.len()..]) {
        None => problems.push("reads more than one source (a join or a function)".to_owned()),
        Some(rest) => {
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            if !rest.starts_with("}) :quals <>}") {
                if rest.starts_with("}) :quals ") {
                    if !tenant {
                        problems.push("has a WHERE condition".to_owned());
                    }
                } else {
                    problems.push("reads more than one source (a join or a function)".to_owned());
                }
            }
        }
    }
    // every column is a source column of the same name, as is or cast to text
    let Some(list) = tree.find(":targetList (").map(|at| &tree[at..]) else {
        problems.push("its select list cannot be read".to_owned());
        return problems;
    };
    for entry in list.split("{TARGETENTRY :expr ").skip(1) {
        let mut expr = entry.split(" :resno ").next().unwrap_or_default();
        if tenant && expr.starts_with("{CASEEXPR ") {
            // the mask: one WHEN, its result the column, ELSE a NULL of the
            // column's type (a constant, or a length coercion of constants)
            let result = expr
                .split_once(" :result ")
                .and_then(|(_, r)| r.split_once(" :defresult "));
            let constant = |default: &str| {
                default.contains(":constisnull true ")
                    && default
                        .match_indices('{')
                        .all(|(i, _)| default[i..].starts_with("{CONST ") || i == 0)
                    && (default.starts_with("{CONST ")
                        || default.starts_with("{FUNCEXPR ") && default.contains(":funcformat 1 "))
            };
            match result {
                Some((result, default))
                    if expr.matches("{CASEWHEN ").count() == 1 && constant(default) =>
                {
                    expr = result
                }
                _ => {
                    problems.push(format!(
                        "column \"{}\" is computed, not a masked source column",
                        entry
                            .split_once(" :resname ")
                            .map(|(_, rest)| unescape_token(rest))
                            .unwrap_or_default()
                    ));
                    continue;
                }
            }
        }
        let name = entry
            .split_once(" :resname ")
            .map(|(_, rest)| unescape_token(rest))
            .unwrap_or_default();
        let simple = expr.starts_with("{VAR ") && expr.matches('{').count() == 1
            || expr.starts_with("{COERCEVIAIO :arg {VAR ") && expr.matches('{').count() == 2
            || expr.starts_with("{ARRAYCOERCEEXPR :arg {VAR ")
                && expr.matches('{').count() == 4
                && expr.contains(":elemexpr {COERCEVIAIO :arg {CASETESTEXPR ");
        let attnum = expr
            .split_once(":varattno ")
            .and_then(|(_, rest)| rest.split(' ').next())
            .and_then(|n| n.parse::<i32>().ok());
        let levels_up = expr.contains(":varlevelsup 0 ");
        let source = attnum.and_then(|n| columns.and_then(|c| c.get(&n)));
        match source {
            _ if !simple || !levels_up => problems.push(format!(
                "column \"{name}\" is computed, not a source column"
            )),
            Some(source) if *source != name => problems.push(format!(
                "column \"{name}\" reads source column \"{source}\""
            )),
            Some(_) => {}
            None => problems.push(format!("column \"{name}\" reads no known source column")),
        }
    }
    problems
}

/// The tree with every `{SUBLINK ...}` node replaced by `{SUBLINK}`, and the
/// removed nodes. Braces inside tokens are escaped (`\{`) in node trees.
fn strip_sublinks(tree: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(tree.len());
    let mut sublinks = Vec::new();
    let mut rest = tree;
    while let Some(at) = rest.find("{SUBLINK ") {
        out.push_str(&rest[..at]);
        let node = &rest[at..];
        let (mut depth, mut escaped, mut end) = (0usize, false, node.len());
        for (i, c) in node.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        sublinks.push(node[..end].to_owned());
        out.push_str("{SUBLINK}");
        rest = &node[end..];
    }
    out.push_str(rest);
    (out, sublinks)
}

/// A name token of a node tree (`first\ name` escapes the space), up to the
/// next unescaped space.
fn unescape_token(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            ' ' => break,
            _ => out.push(c),
        }
    }
    out
}

fn check_view(
    schema: &str,
    view: &ManifestView,
    live: &Live,
    record: Option<&AppliedRecord>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(rel) = live.relations.get(&view.name) else {
        findings.push(error(
            FindingKind::MissingView,
            format!(
                "view \"{schema}\".\"{}\" does not exist: apply the views package",
                view.name
            ),
        ));
        return findings;
    };
    if rel.kind != "v" {
        findings.push(error(
            FindingKind::NotAView,
            format!(
                "\"{schema}\".\"{}\" is a {}, not a view",
                view.name,
                rel.kind_name()
            ),
        ));
        return findings;
    }
    for (i, want) in view.columns.iter().enumerate() {
        match rel.columns.iter().position(|c| c.name == want.column) {
            None => findings.push(error(
                FindingKind::MissingColumn {
                    column: want.column.clone(),
                },
                format!("missing column \"{}\" ({})", want.column, want.sql_type),
            )),
            Some(pos) => {
                let found = &rel.columns[pos];
                if pos != i {
                    findings.push(error(
                        FindingKind::ColumnOrder {
                            column: want.column.clone(),
                        },
                        format!(
                            "column \"{}\" is at position {} instead of {}",
                            want.column,
                            pos + 1,
                            i + 1
                        ),
                    ));
                }
                if found.sql_type != want.sql_type {
                    let kind_args = (
                        want.column.clone(),
                        want.sql_type.clone(),
                        found.sql_type.clone(),
                    );
                    let message = format!(
                        "column \"{}\" is {} in the database, {} in the package",
                        want.column, found.sql_type, want.sql_type
                    );
                    if strip_type_modifiers(&found.sql_type) == strip_type_modifiers(&want.sql_type)
                    {
                        findings.push(warning(
                            FindingKind::ColumnTypeModifier {
                                column: kind_args.0,
                                expected: kind_args.1,
                                found: kind_args.2,
                            },
                            message,
                        ));
                    } else {
                        findings.push(error(
                            FindingKind::ColumnType {
                                column: kind_args.0,
                                expected: kind_args.1,
                                found: kind_args.2,
                            },
                            message,
                        ));
                    }
                }
            }
        }
    }
    // A column the package does not have: only a newer applied package
    // (the record) explains it.
    let recorded = record.and_then(|r| r.manifest.view(&view.name));
    for extra in &rel.columns {
        if !view.columns.iter().any(|c| c.column == extra.name) {
            let explained =
                recorded.and_then(|v| v.columns.iter().find(|c| c.column == extra.name));
            let kind = FindingKind::ExtraColumn {
                column: extra.name.clone(),
            };
            match (explained, record) {
                (Some(_), Some(r)) => findings.push(warning(
                    kind,
                    format!(
                        "column \"{}\" ({}) is not in this build's package: added by the applied package {}",
                        extra.name, extra.sql_type, r.package_hash
                    ),
                )),
                _ => findings.push(error(
                    kind,
                    format!(
                        "column \"{}\" ({}) is in neither the package nor the applied record: added by \
                         hand; apply the package",
                        extra.name, extra.sql_type
                    ),
                )),
            }
        }
    }
    check_definition(schema, view, recorded, live, &mut findings);
    if let Some(r) = record {
        match (r.views.get(&view.name), live.viewdefs.get(&view.name)) {
            (Some(rv), Some(def)) if rv.viewdef != content_hash(def.as_bytes()) => {
                findings.push(error(
                    FindingKind::ChangedSinceApply,
                    format!(
                        "the definition (pg_get_viewdef) differs from the one applied at {} by {}: \
                         changed by hand; apply the package",
                        r.applied_at, r.applied_by
                    ),
                ))
            }
            _ => {}
        }
    }

    // Read-only: every write event must hit an enabled row-level INSTEAD OF
    // trigger calling the reject function. Checked in the catalog: nothing
    // is written.
    let mut covered = 0;
    let triggers = live
        .triggers
        .get(&view.name)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for t in triggers {
        let rejecting = t.fn_schema == schema && t.fn_name == REJECT_WRITE_FUNCTION;
        let instead_row = t.tgtype & TRIGGER_TYPE_INSTEAD != 0 && t.tgtype & TRIGGER_TYPE_ROW != 0;
        if rejecting && instead_row && t.enabled != "D" {
            covered |= t.tgtype;
        }
    }
    let events: Vec<&'static str> = INSTEAD_OF_EVENTS
        .iter()
        .filter(|(bit, _)| covered & bit == 0)
        .map(|(_, name)| *name)
        .collect();
    check_triggers(schema, triggers, !events.is_empty(), &mut findings);
    if !events.is_empty() {
        findings.push(error(
            FindingKind::Writable {
                events: events.clone(),
            },
            format!(
                "writable: {} not rejected (no enabled INSTEAD OF trigger calling \
                 \"{schema}\".{REJECT_WRITE_FUNCTION}()); writes would change IDP data: apply the package",
                events.join("/")
            ),
        ));
    }
    for rule in live.rules.get(&view.name).into_iter().flatten() {
        findings.push(error(
            FindingKind::WriteRule { rule: rule.clone() },
            format!("rewrite rule \"{rule}\" on writes can bypass the read-only trigger: drop it"),
        ));
    }

    if view.tenant_field.is_some() {
        check_tenant_view(view, live, &mut findings);
    }
    findings
}

async fn read_tenant_functions<C: Conn>(
    conn: &mut C,
    schema: &str,
    live: &mut Live,
) -> Result<(), DbError> {
    let names = [SET_TENANT_FUNCTION, CURRENT_TENANT_FUNCTION];
    for row in conn
        .query(TENANT_FUNCTIONS_SQL, &[&schema, &&names[..]])
        .await?
    {
        live.tenant_functions.push(TenantFunction {
            name: row.get(0),
            body: row.get(1),
            language: row.get(2),
            security_definer: row.get(3),
            volatility: row.get(4),
            has_set_clause: row.get(5),
            arguments: row.get(6),
            result: row.get(7),
        });
    }
    Ok(())
}

/// `set_tenant(text)` and `current_tenant()` exactly as the package creates
/// them (body, language, volatility, no `SECURITY DEFINER`, no `SET`), when
/// the package has tenant-isolated views. Findings go on the schema.
pub(crate) fn check_tenant_functions(manifest: &Manifest, live: &Live) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !manifest.views.iter().any(|v| v.tenant_field.is_some()) {
        return findings;
    }
    if manifest.views.iter().any(|v| v.tenant_owner.is_some()) {
        findings.push(error(
            FindingKind::EarlierTenantDesign,
            "the package is of the earlier row-level security tenant design: regenerate it with \
             this idpviews version and apply it"
                .into(),
        ));
    }
    let schema = &manifest.schema;
    for (name, arguments, result, body, language, volatility) in [
        (
            SET_TENANT_FUNCTION,
            "tenant text",
            "text",
            SET_TENANT_BODY,
            "plpgsql",
            "v",
        ),
        (
            CURRENT_TENANT_FUNCTION,
            "",
            "text",
            CURRENT_TENANT_BODY,
            CURRENT_TENANT_LANGUAGE,
            "s",
        ),
    ] {
        let found = live
            .tenant_functions
            .iter()
            .find(|f| f.name == name && f.arguments == arguments);
        let problem = match found {
            None => Some("is missing".to_owned()),
            Some(f) if f.security_definer => Some("is SECURITY DEFINER".to_owned()),
            Some(f) if f.has_set_clause => Some("has a SET clause".to_owned()),
            Some(f) if f.result != result => {
                Some(format!("returns {}, not the package's {result}", f.result))
            }
            Some(f) if f.language != language || f.volatility != volatility => Some(format!(
                "is {} with volatility {}, not the package's {language} {volatility}",
                f.language, f.volatility
            )),
            Some(f) if f.body != body => Some("has another body than the package's".to_owned()),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            findings.push(error(
                FindingKind::TenantFunction {
                    function: name.to_owned(),
                },
                format!(
                    "tenant isolation is off: function \"{schema}\".{name}({arguments}) {problem}: \
                     apply the package"
                ),
            ));
        }
    }
    findings
}

/// A tenant-isolated view filters on the declared tenant
/// (`WHERE <tenant column> = (SELECT <schema>.current_tenant()::<type>)`)
/// and masks every column but its unique ones and the tenant column with the
/// same check.
fn check_tenant_view(view: &ManifestView, live: &Live, findings: &mut Vec<Finding>) {
    let Some(def) = live.viewdefs.get(&view.name) else {
        return;
    };
    if live
        .relations
        .get(&view.name)
        .is_some_and(|r| r.has_option("security_invoker=true"))
    {
        findings.push(error(
            FindingKind::NoTenantFilter,
            "the view is security_invoker: it reads the IDP table with the caller's rights, which \
             the product role does not have: apply the package"
                .into(),
        ));
    }
    let column = view.tenant_column.as_deref().unwrap_or_default();
    // pg_get_viewdef qualifies the column with the table (`users.tenant_id`)
    // and the function with its schema when it is not on the search path.
    let ident = crate::sql::quote_ident(column);
    let check = [
        format!(".{column} = ( SELECT ("),
        format!(".{ident} = ( SELECT ("),
    ];
    let calls = format!("{CURRENT_TENANT_FUNCTION}())::");
    let count =
        |text: &str| -> usize { check.iter().map(|c| text.matches(c.as_str()).count()).sum() };
    // Exactly the one condition: `WHERE (<t>.<col> = ( SELECT (..current_tenant())::<type>
    // AS current_tenant))`, nothing OR-ed or AND-ed to it.
    let filtered = def.rfind("WHERE (").is_some_and(|i| {
        let clause = def[i + "WHERE ".len()..]
            .trim()
            .trim_end_matches(';')
            .trim_end();
        count(clause) == 1
            && clause.contains(&calls)
            && clause.ends_with(&format!("AS {CURRENT_TENANT_FUNCTION}))"))
            && clause.matches('(').count() == clause.matches(')').count()
            && !clause.contains(" OR ")
            && !clause.contains(" AND ")
            && clause.starts_with('(')
            && clause[1..]
                .find(" = ( SELECT (")
                .is_some_and(|j| !clause[1..j + 1].contains('('))
    });
    if !filtered {
        findings.push(error(
            FindingKind::NoTenantFilter,
            format!(
                "tenant isolation is off: the view does not filter on `{column}` = \
                 {CURRENT_TENANT_FUNCTION}() (every tenant's rows are visible): apply the package"
            ),
        ));
        return;
    }
    // Masked: every column but the unique ones (the join key) and the
    // tenant column itself (what declaring a tenant shows anyway). Each
    // such column must be `CASE WHEN <check> THEN .. ELSE NULL:: .. END AS
    // <column>`, so a mask moved from one column to another is found too.
    let masked: Vec<&str> = view
        .columns
        .iter()
        .filter(|c| !c.unique && c.column != column)
        .map(|c| c.column.as_str())
        .collect();
    let masks = count(def).saturating_sub(1);
    let unmasked: Vec<&str> = masked
        .iter()
        .copied()
        .filter(|name| {
            let ends = [
                format!("END AS {name},"),
                format!("END AS {name}\n"),
                format!("END AS {}", crate::sql::quote_ident(name)),
            ];
            !ends.iter().any(|end| {
                def.match_indices(end.as_str()).any(|(at, _)| {
                    let before = &def[..at];
                    before.rfind("CASE").is_some_and(|case| {
                        let expr = &before[case..];
                        count(expr) == 1 && expr.contains("ELSE NULL::") && !expr.contains(" OR ")
                    })
                })
            })
        })
        .collect();
    if masks < masked.len() || !unmasked.is_empty() {
        findings.push(error(
            FindingKind::NoTenantFilter,
            format!(
                "tenant isolation is weakened: {} column(s) should be masked by the tenant \
                 check, {masks} are{} (a caller's function could read other tenants' values): \
                 apply the package",
                masked.len(),
                if unmasked.is_empty() {
                    String::new()
                } else {
                    format!("; not masked: {}", unmasked.join(", "))
                }
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_of_the_earlier_tenant_design_is_reported() {
        let view = |owner: Option<&str>| ManifestView {
            name: "IdpUser".into(),
            model: "User".into(),
            source_schema: "idp".into(),
            source_table: "User".into(),
            doc: None,
            tenant_field: Some("tenantId".into()),
            tenant_column: Some("tenant_id".into()),
            tenant_owner: owner.map(str::to_owned),
            columns: vec![],
        };
        let manifest = |owner| Manifest {
            generated: String::new(),
            format: crate::manifest::MANIFEST_FORMAT,
            package_hash: String::new(),
            generator: "test".into(),
            schema: "idp_views".into(),
            files: Default::default(),
            views: vec![view(owner)],
            enums: vec![],
            relations: vec![],
        };
        let kinds = |m: &Manifest| -> Vec<FindingKind> {
            check_tenant_functions(m, &Live::default())
                .into_iter()
                .map(|f| f.kind)
                .collect()
        };
        let old = kinds(&manifest(Some("idp_views_tenant_reader")));
        assert!(old.contains(&FindingKind::EarlierTenantDesign), "{old:?}");
        let new = kinds(&manifest(None));
        assert!(!new.contains(&FindingKind::EarlierTenantDesign), "{new:?}");
        // no functions in an empty catalog: both reported missing
        assert_eq!(new.len(), 2, "{new:?}");
    }
}
