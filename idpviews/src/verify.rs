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
//! Only the system catalogs are read (no privilege on `idp` is needed, and
//! nothing is written): a product role can verify at start-up.

use crate::catalog::{self, Relation};
use crate::db::{run_ready, AsyncConn, Conn, SyncConn};
use crate::manifest::{Manifest, ManifestView};
use crate::{Error, Package};
use idpviews_core::types::strip_type_modifiers;
use std::collections::BTreeMap;
use std::fmt;

pub use idpviews_core::names::{
    CURRENT_TENANT_BODY, CURRENT_TENANT_FUNCTION, REJECT_WRITE_FUNCTION, SET_TENANT_BODY,
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
    /// The database view has columns the package does not know (a newer package was applied): a warning.
    ExtraColumn {
        column: String,
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
    /// A view in the schema that the package does not list (warning).
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
    run_ready(verify_on(SyncConn(client), &package.manifest))
}

/// Verifies with an async client (or transaction).
pub async fn verify_async<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    package: &Package,
) -> Result<VerifyReport, Error> {
    verify_on(AsyncConn(client), &package.manifest).await
}

const TRIGGERS_SQL: &str = "\
SELECT c.relname::text, t.tgtype::int4, t.tgenabled::text, pn.nspname::text, p.proname::text \
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

const VIEWDEFS_SQL: &str = "\
SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid) \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relkind = 'v' AND c.relname = ANY($2) \
ORDER BY c.relname";

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
       p.proconfig IS NOT NULL, pg_catalog.pg_get_function_identity_arguments(p.oid) \
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
}

/// Everything [`check`] needs, read from the catalogs.
#[derive(Debug, Default)]
pub(crate) struct Live {
    schema_exists: bool,
    relations: BTreeMap<String, Relation>,
    /// view -> (tgtype, enabled, function schema, function name)
    triggers: BTreeMap<String, Vec<(i32, String, String, String)>>,
    /// view -> write rules
    rules: BTreeMap<String, Vec<String>>,
    viewdefs: BTreeMap<String, String>,
    /// (schema, type) -> labels in order
    enums: BTreeMap<(String, String), Vec<String>>,
    /// `set_tenant` and `current_tenant` in the views schema
    tenant_functions: Vec<TenantFunction>,
}

async fn verify_on<C: Conn>(mut conn: C, manifest: &Manifest) -> Result<VerifyReport, Error> {
    let live = read_live(&mut conn, manifest)
        .await
        .map_err(Error::db("reading the database catalog"))?;
    let mut report = check(manifest, &live);
    // A newer package that extends this one (see `apply`): say so.
    if let Ok(Some(r)) = crate::record::read(&mut conn, &manifest.schema).await {
        if r.package_hash != manifest.package_hash() && crate::apply::extends(&r.manifest, manifest)
        {
            if let Some(schema) = report.objects.first_mut() {
                schema.findings.push(Finding {
                    severity: Severity::Note,
                    kind: FindingKind::NewerPackage {
                        package_hash: r.package_hash.clone(),
                    },
                    message: format!(
                        "a newer package that extends this one is applied ({}, {}); this \
                         package reads it as is",
                        r.package_hash, r.applied_at
                    ),
                });
            }
        }
    }
    crate::replica::verify_tables(&mut conn, manifest, report).await
}

pub(crate) async fn read_live<C: Conn>(
    conn: &mut C,
    manifest: &Manifest,
) -> Result<Live, postgres::Error> {
    let schema = manifest.schema.as_str();
    let mut live = Live {
        schema_exists: catalog::schema_exists(conn, schema).await?,
        relations: catalog::relations(conn, schema).await?,
        ..Live::default()
    };
    for row in conn.query(TRIGGERS_SQL, &[&schema]).await? {
        live.triggers.entry(row.get(0)).or_default().push((
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
        ));
    }
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
        for row in conn.query(VIEWDEFS_SQL, &[&schema, &tenant_views]).await? {
            live.viewdefs.insert(row.get(0), row.get(1));
        }
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

/// Pure comparison of the manifest with what the catalogs hold.
pub(crate) fn check(manifest: &Manifest, live: &Live) -> VerifyReport {
    let schema = &manifest.schema;
    let mut objects = Vec::new();
    let mut schema_findings = Vec::new();
    if !live.schema_exists {
        schema_findings.push(error(
            FindingKind::MissingSchema,
            format!("schema \"{schema}\" does not exist: apply the views package"),
        ));
    }
    if live.schema_exists {
        schema_findings.extend(check_tenant_functions(manifest, live));
    }
    objects.push(CheckedObject {
        object: format!("schema {schema}"),
        findings: schema_findings,
    });
    if live.schema_exists {
        for view in &manifest.views {
            objects.push(CheckedObject {
                object: format!("view {}", view.name),
                findings: check_view(schema, view, live),
            });
        }
        for (name, rel) in &live.relations {
            if rel.kind == "v" && manifest.view(name).is_none() {
                objects.push(CheckedObject {
                    object: format!("view {name}"),
                    findings: vec![warning(
                        FindingKind::ExtraView,
                        "not in the views package (added by a newer package, or left over)".into(),
                    )],
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

fn check_view(schema: &str, view: &ManifestView, live: &Live) -> Vec<Finding> {
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
    for extra in &rel.columns {
        if !view.columns.iter().any(|c| c.column == extra.name) {
            findings.push(warning(
                FindingKind::ExtraColumn {
                    column: extra.name.clone(),
                },
                format!(
                    "column \"{}\" ({}) is not in the package (a newer package was applied?)",
                    extra.name, extra.sql_type
                ),
            ));
        }
    }

    // Read-only: every write event must hit an enabled row-level INSTEAD OF
    // trigger calling the reject function. Checked in the catalog: nothing
    // is written.
    let mut covered = 0;
    for (tgtype, enabled, fn_schema, fn_name) in live.triggers.get(&view.name).into_iter().flatten()
    {
        let rejecting = fn_schema == schema && fn_name == REJECT_WRITE_FUNCTION;
        let instead_row = tgtype & TRIGGER_TYPE_INSTEAD != 0 && tgtype & TRIGGER_TYPE_ROW != 0;
        if rejecting && instead_row && enabled != "D" {
            covered |= tgtype;
        }
    }
    let events: Vec<&'static str> = INSTEAD_OF_EVENTS
        .iter()
        .filter(|(bit, _)| covered & bit == 0)
        .map(|(_, name)| *name)
        .collect();
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
) -> Result<(), postgres::Error> {
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
    for (name, arguments, body, language, volatility) in [
        (
            SET_TENANT_FUNCTION,
            "tenant text",
            SET_TENANT_BODY,
            "plpgsql",
            "v",
        ),
        (CURRENT_TENANT_FUNCTION, "", CURRENT_TENANT_BODY, "sql", "s"),
    ] {
        let found = live
            .tenant_functions
            .iter()
            .find(|f| f.name == name && f.arguments == arguments);
        let problem = match found {
            None => Some("is missing".to_owned()),
            Some(f) if f.security_definer => Some("is SECURITY DEFINER".to_owned()),
            Some(f) if f.has_set_clause => Some("has a SET clause".to_owned()),
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
