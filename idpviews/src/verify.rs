//! Verify a live database against the package a service was compiled with.
//!
//! The build catches drift between code and package; this catches drift
//! between package and database: missing views or columns, retyped columns,
//! enum labels the code knows but the database lacks (and new ones it does
//! not know: a warning, they decode as `Unknown`), views that would accept
//! writes, tenant-isolated views whose isolation is off (view not owned by
//! the tenant owner role, row-level security disabled on the source table,
//! tenant policy missing).
//!
//! Only the system catalogs are read (no privilege on `idp` is needed, and
//! nothing is written): a product role can verify at start-up.

use crate::catalog::{self, Relation};
use crate::db::{run_ready, AsyncConn, Conn, SyncConn};
use crate::{Error, Package};
use idpviews_build::manifest::{Manifest, ManifestView};
use std::collections::BTreeMap;
use std::fmt;

pub use idpviews_build::generate::{
    tenant_policy_name, ALL_POLICY, REJECT_WRITE_FUNCTION, TENANT_SETTING,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
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
    /// A tenant-isolated view of a package from before row-level security
    /// (no `tenant_owner` in the manifest) without `security_barrier`.
    NoSecurityBarrier,
    /// A tenant-isolated view of a package from before row-level security
    /// that does not filter on the tenant setting.
    NoTenantFilter,
    /// A tenant-isolated view not owned by the package's tenant owner role:
    /// the tenant policy does not apply to queries through it.
    TenantViewOwner {
        expected: String,
        found: String,
    },
    /// The tenant owner role is a superuser or has `BYPASSRLS`, or owns the
    /// source table: row-level security does not apply to it.
    TenantOwnerBypassesRls {
        role: String,
    },
    /// Row-level security is not enabled on the source table.
    RowSecurityDisabled {
        table: String,
    },
    /// No restrictive `SELECT` policy limits the owner role by the tenant
    /// column and the tenant setting.
    MissingTenantPolicy {
        table: String,
        policy: String,
    },
    /// A view in the schema that the package does not list (warning).
    ExtraView,
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

const VIEW_OWNERS_SQL: &str = "\
SELECT c.relname::text, pg_catalog.pg_get_userbyid(c.relowner)::text \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relname = ANY($2) \
ORDER BY c.relname";

const ROLES_SQL: &str = "\
SELECT r.rolname::text, r.rolsuper OR r.rolbypassrls \
FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1) ORDER BY 1";

const TABLE_SECURITY_SQL: &str = "\
SELECT c.relrowsecurity, pg_catalog.pg_get_userbyid(c.relowner)::text \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relname = $2";

const POLICIES_SQL: &str = "\
SELECT p.polname::text, p.polpermissive, p.polcmd::text, \
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r)::text END \
             FROM unnest(p.polroles) AS r ORDER BY 1), \
       coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') \
FROM pg_catalog.pg_policy p \
JOIN pg_catalog.pg_class c ON c.oid = p.polrelid \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relname = $2 \
ORDER BY p.polname";

/// A row-level security policy as the catalog holds it.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    permissive: bool,
    /// `pg_policy.polcmd`: `r` SELECT, `*` ALL, ...
    command: String,
    /// Role names (`public` for PUBLIC).
    roles: Vec<String>,
    /// `USING` condition as `pg_get_expr` prints it.
    qual: String,
}

/// Row-level security state of a source table.
#[derive(Debug, Clone)]
pub(crate) struct TableSecurity {
    row_security: bool,
    owner: String,
    policies: Vec<Policy>,
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
    /// tenant-isolated view -> owner role
    view_owners: BTreeMap<String, String>,
    /// role -> bypasses row-level security (superuser or `BYPASSRLS`)
    role_bypass: BTreeMap<String, bool>,
    /// (schema, table) of tenant-isolated views -> row-level security
    tables: BTreeMap<(String, String), TableSecurity>,
}

async fn verify_on<C: Conn>(mut conn: C, manifest: &Manifest) -> Result<VerifyReport, Error> {
    let live = read_live(&mut conn, manifest)
        .await
        .map_err(Error::db("reading the database catalog"))?;
    crate::replica::verify_tables(&mut conn, manifest, check(manifest, &live)).await
}

async fn read_live<C: Conn>(conn: &mut C, manifest: &Manifest) -> Result<Live, postgres::Error> {
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
        for row in conn
            .query(VIEW_OWNERS_SQL, &[&schema, &tenant_views])
            .await?
        {
            live.view_owners.insert(row.get(0), row.get(1));
        }
        let owners: Vec<&str> = manifest
            .views
            .iter()
            .filter_map(|v| v.tenant_owner.as_deref())
            .collect();
        for row in conn.query(ROLES_SQL, &[&owners]).await? {
            live.role_bypass.insert(row.get(0), row.get(1));
        }
        for v in manifest.views.iter().filter(|v| v.tenant_owner.is_some()) {
            let key = (v.source_schema.clone(), v.source_table.clone());
            if live.tables.contains_key(&key) {
                continue;
            }
            let rows = conn.query(TABLE_SECURITY_SQL, &[&key.0, &key.1]).await?;
            let Some(row) = rows.first() else { continue };
            let mut table = TableSecurity {
                row_security: row.get(0),
                owner: row.get(1),
                policies: Vec::new(),
            };
            for row in conn.query(POLICIES_SQL, &[&key.0, &key.1]).await? {
                table.policies.push(Policy {
                    permissive: row.get(1),
                    command: row.get(2),
                    roles: row.get(3),
                    qual: row.get(4),
                });
            }
            live.tables.insert(key, table);
        }
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

/// `timestamp(3) without time zone` -> `timestamp without time zone`.
fn base_type(sql_type: &str) -> String {
    let mut out = String::with_capacity(sql_type.len());
    let mut depth = 0usize;
    for c in sql_type.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
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
                    if base_type(&found.sql_type) == base_type(&want.sql_type) {
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

    if let Some(owner) = &view.tenant_owner {
        check_tenant_rls(view, owner, live, &mut findings);
    } else if view.tenant_field.is_some() {
        if !rel.has_option("security_barrier=true") {
            findings.push(error(
                FindingKind::NoSecurityBarrier,
                "tenant-isolated but not a security_barrier view: leaky functions can see other \
                 tenants' rows; apply the package"
                    .into(),
            ));
        }
        let filtered = live
            .viewdefs
            .get(&view.name)
            .is_some_and(|def| def.contains(TENANT_SETTING));
        if !filtered {
            findings.push(error(
                FindingKind::NoTenantFilter,
                format!(
                    "tenant-isolated but the view does not filter on the `{TENANT_SETTING}` setting: \
                     every tenant's rows are visible; apply the package"
                ),
            ));
        }
    }
    findings
}

/// Row-level security of a tenant-isolated view: owned by the tenant owner
/// role, which row-level security applies to, on a source table with row
/// security enabled and a restrictive tenant policy for that role.
fn check_tenant_rls(view: &ManifestView, owner: &str, live: &Live, findings: &mut Vec<Finding>) {
    const OFF: &str = "tenant isolation is off";
    let table = format!("\"{}\".\"{}\"", view.source_schema, view.source_table);
    let found = live.view_owners.get(&view.name).map(String::as_str);
    if found != Some(owner) {
        let found = found.unwrap_or("?").to_owned();
        findings.push(error(
            FindingKind::TenantViewOwner {
                expected: owner.to_owned(),
                found: found.clone(),
            },
            format!(
                "{OFF}: the view is owned by \"{found}\", not by the tenant owner role \"{owner}\" \
                 that the tenant policy limits: apply the package"
            ),
        ));
    }
    let security = live
        .tables
        .get(&(view.source_schema.clone(), view.source_table.clone()));
    let bypass = live.role_bypass.get(owner).copied().unwrap_or(false)
        || security.is_some_and(|s| s.owner == owner);
    if bypass {
        findings.push(error(
            FindingKind::TenantOwnerBypassesRls {
                role: owner.to_owned(),
            },
            format!(
                "{OFF}: role \"{owner}\" is a superuser, has BYPASSRLS or owns {table}: \
                 row-level security does not apply to it"
            ),
        ));
    }
    let Some(security) = security else {
        // the source table is missing: the view itself would be broken
        return;
    };
    if !security.row_security {
        findings.push(error(
            FindingKind::RowSecurityDisabled {
                table: table.clone(),
            },
            format!(
                "{OFF}: row-level security is disabled on {table}: every tenant's rows are \
                 visible; apply the package"
            ),
        ));
    }
    let column = view.tenant_column.as_deref().unwrap_or_default();
    let limits = |p: &&Policy| {
        !p.permissive
            && (p.command == "r" || p.command == "*")
            && p.roles.iter().any(|r| r == owner || r == "public")
            && (p.qual.contains(&format!("({column} = "))
                || p.qual.contains(&format!("(\"{column}\" = ")))
            && p.qual.contains(TENANT_SETTING)
    };
    if !security.policies.iter().any(|p| limits(&p)) {
        let policy = tenant_policy_name(owner);
        findings.push(error(
            FindingKind::MissingTenantPolicy {
                table: table.clone(),
                policy: policy.clone(),
            },
            format!(
                "{OFF}: no restrictive policy on {table} limits \"{owner}\" to `{column}` = the \
                 `{TENANT_SETTING}` setting (expected \"{policy}\"): apply the package"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_types() {
        assert_eq!(
            base_type("timestamp(3) without time zone"),
            "timestamp without time zone"
        );
        assert_eq!(base_type("numeric(10,2)"), "numeric");
        assert_eq!(base_type("character varying(255)[]"), "character varying[]");
        assert_eq!(base_type("text"), "text");
    }
}
