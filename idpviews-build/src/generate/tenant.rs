//! Tenant isolation through row-level security on the IDP tables, applied
//! to a dedicated owner of the tenant-isolated views.
//!
//! A tenant-isolated view is a plain view (PostgreSQL flattens it into the
//! caller's query, so joins plan like the table) owned by the role
//! `tenant_view_owner` (default `<views schema>_tenant_reader`): `NOLOGIN`,
//! not a superuser, no `BYPASSRLS`, not the table owner, with column-level
//! `SELECT` on the source table. Views read their tables with their owner's
//! rights, so the table's row-level security applies to that role on every
//! query through the view. On the source table the SQL enables (does not
//! force) row-level security and creates two policies:
//!
//! - [`ALL_POLICY`]: `PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK
//!   (true)`: every other role (the IDP's own roles, plain views, operators)
//!   keeps seeing and writing every row, as before; the table owner is not
//!   subject to row-level security at all (not `FORCE`d);
//! - `idpviews_tenant_<owner>` ([`tenant_policy_name`]): `RESTRICTIVE FOR
//!   SELECT TO <owner> USING (<tenant column> = <setting>)`, the tenant
//!   predicate of [`super::views_sql::tenant_predicate`].
//!
//! Policy conditions are security quals: PostgreSQL applies them before any
//! condition of the caller that is not `LEAKPROOF`, so a leaky function sees
//! only the tenant's rows.

use super::plan::ViewPlan;
use super::views_sql::{quote_ident, quote_literal, tenant_predicate};
use crate::allowlist::Allowlist;
use crate::diagnostics::Diagnostics;
use crate::ident::ident_problem;
use std::fmt::Write as _;

pub use crate::names::{tenant_policy_name, ALL_POLICY, TENANT_POLICY_PREFIX};

/// Longest owner role name: the policy name must fit in 63 bytes.
const MAX_OWNER_BYTES: usize = 63 - TENANT_POLICY_PREFIX.len();

/// Why `name` cannot be the owner role of tenant-isolated views, if it cannot.
pub(crate) fn owner_problem(name: &str) -> Option<String> {
    if let Some(p) = ident_problem(name) {
        return Some(p);
    }
    if name.len() > MAX_OWNER_BYTES {
        return Some(format!(
            "it is {} bytes long; at most {MAX_OWNER_BYTES} bytes, so that the policy name `{TENANT_POLICY_PREFIX}<role>` fits PostgreSQL's 63",
            name.len()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Some(
            "use lowercase ASCII letters, digits and `_`, not starting with a digit".into(),
        );
    }
    if name.starts_with("pg_") {
        return Some("names starting with `pg_` are reserved by PostgreSQL".into());
    }
    if matches!(
        name,
        "public" | "none" | "current_user" | "current_role" | "session_user"
    ) {
        return Some(format!("`{name}` is reserved by PostgreSQL"));
    }
    None
}

/// Resolves the owner role of the tenant-isolated views into `views`
/// (`tenant_owner`), and refuses what row-level security cannot express:
/// two tenant-isolated views over one table with different tenant columns
/// (both restrictive policies would apply to the one owner).
pub(crate) fn plan_owner(allowlist: &Allowlist, views: &mut [ViewPlan], diags: &mut Diagnostics) {
    if !views.iter().any(|v| v.tenant.is_some()) {
        return;
    }
    let owner = allowlist.tenant_view_owner_name();
    let problem = owner_problem(&owner);
    if let Some(problem) = &problem {
        let message = format!("`{owner}` cannot own the tenant-isolated views: {problem}");
        let d = match &allowlist.tenant_view_owner {
            Some(o) => diags.error(o.span, message).label("role name"),
            None => diags.error_unspanned(message),
        };
        d.help(
            "set `tenant_view_owner = \"idp_views_tenant_reader\"` at the top of idp-views.toml",
        );
    }
    let mut first: Vec<usize> = Vec::new();
    for (i, v) in views.iter().enumerate() {
        let Some(t) = &v.tenant else { continue };
        let table = (&v.view.source_schema, &v.view.source_table);
        if let Some(&j) = first.iter().find(|j| {
            let o = &views[**j].view;
            (&o.source_schema, &o.source_table) == table
        }) {
            let other = &views[j];
            let other_col = other.tenant.as_ref().map(|t| t.column.as_str());
            if other_col != Some(t.column.as_str()) {
                let message = format!(
                    "views `{}` and `{}` isolate tenants of \"{}\".\"{}\" by different columns (`{}` and `{}`)",
                    other.view.name,
                    v.view.name,
                    v.view.source_schema,
                    v.view.source_table,
                    other_col.unwrap_or_default(),
                    t.column
                );
                let entry = allowlist
                    .views
                    .iter()
                    .find(|e| e.name.value == v.view.name)
                    .and_then(|e| e.tenant_column.as_ref());
                let d = match entry {
                    Some(s) => diags.error(s.span, message),
                    None => diags.error_unspanned(message),
                };
                d.label("second tenant column for this table").help(
                    "row-level security limits the one view owner by every tenant policy of the table: use the same `tenant_column` for every view of a model",
                );
            }
        } else {
            first.push(i);
        }
    }
    for v in views.iter_mut() {
        if v.tenant.is_some() && problem.is_none() {
            v.view.tenant_owner = Some(owner.clone());
        }
    }
}

/// The SQL creating the owner role and, per source table of a
/// tenant-isolated view, its grants, row-level security and policies.
/// Nothing when no view is tenant-isolated.
pub(crate) fn render_setup(out: &mut String, schema: &str, views: &[ViewPlan]) {
    let Some(owner) = views.iter().find_map(|v| v.view.tenant_owner.as_deref()) else {
        return;
    };
    let role = quote_ident(owner);
    let role_lit = quote_literal(owner);
    let _ = writeln!(
        out,
        "-- Tenant isolation: tenant-isolated views are owned by {role}, a role without\n\
         -- login that row-level security on their IDP tables limits to the tenant in the\n\
         -- setting idpviews.tenant_id. Apply as a superuser, or as the owner of the IDP\n\
         -- tables with CREATEROLE (or once {role} exists, as a member of it).\n\
         DO $idpviews$\n\
         BEGIN\n\
         \x20 IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {role_lit}) THEN\n\
         \x20   BEGIN\n\
         \x20     CREATE ROLE {role} NOLOGIN;\n\
         \x20   EXCEPTION WHEN duplicate_object OR unique_violation THEN\n\
         \x20     NULL; -- created meanwhile by an applier of another database\n\
         \x20   END;\n\
         \x20 END IF;\n\
         \x20 IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {role_lit} AND (rolsuper OR rolbypassrls)) THEN\n\
         \x20   RAISE EXCEPTION 'idpviews: role % bypasses row-level security: it cannot own tenant-isolated views', {role_lit}\n\
         \x20     USING HINT = 'set tenant_view_owner in idp-views.toml to a dedicated role (NOSUPERUSER NOBYPASSRLS)';\n\
         \x20 END IF;\n\
         \x20 -- ALTER VIEW ... OWNER TO and later CREATE OR REPLACE VIEW need membership\n\
         \x20 IF NOT pg_catalog.pg_has_role(CURRENT_USER, {role_lit}, 'MEMBER') THEN\n\
         \x20   GRANT {role} TO CURRENT_USER;\n\
         \x20 END IF;\n\
         END\n\
         $idpviews$;\n\
         -- (needed by ALTER VIEW ... OWNER TO when the applier is not a superuser)\n\
         GRANT CREATE ON SCHEMA {schema} TO {role};\n"
    );
    // one block per source table, in first-appearance order, with the
    // union of the columns its tenant-isolated views read
    let mut tables: Vec<(&str, &str, &str, &str, Vec<&str>)> = Vec::new();
    for v in views {
        let Some(t) = &v.tenant else { continue };
        let (schema, table) = (v.view.source_schema.as_str(), v.view.source_table.as_str());
        let idx = match tables.iter().position(|e| e.0 == schema && e.1 == table) {
            Some(i) => i,
            None => {
                tables.push((schema, table, &t.column, &t.sql_type, Vec::new()));
                tables.len() - 1
            }
        };
        let cols = &mut tables[idx].4;
        for c in v
            .view
            .columns
            .iter()
            .map(|c| c.column.as_str())
            .chain([t.column.as_str()])
        {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    for (schema, table, column, sql_type, cols) in tables {
        let source = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let source_lit = quote_literal(&source);
        let cols = cols
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let all = quote_ident(ALL_POLICY);
        let all_lit = quote_literal(ALL_POLICY);
        let tenant_name = tenant_policy_name(owner);
        let tenant = quote_ident(&tenant_name);
        let tenant_lit = quote_literal(&tenant_name);
        let predicate = tenant_predicate(column, sql_type);
        let probe_column = quote_ident(column);
        let _ = writeln!(
            out,
            "-- Row-level security on {source}: every role sees every row as before\n\
             -- ({all}; the table owner is not subject to it), {role} only the\n\
             -- rows of the tenant in idpviews.tenant_id ({tenant}).\n\
             GRANT USAGE ON SCHEMA {} TO {role};\n\
             REVOKE ALL ON {source} FROM {role};\n\
             GRANT SELECT ({cols}) ON {source} TO {role};\n\
             -- Changed only when they differ: enabling row-level security and creating\n\
             -- policies lock the IDP table (ACCESS EXCLUSIVE) until the commit.\n\
             DO $idpviews$\n\
             DECLARE\n\
             \x20 t regclass := {source_lit}::regclass;\n\
             \x20 want text;\n\
             BEGIN\n\
             \x20 IF (SELECT relowner FROM pg_catalog.pg_class WHERE oid = t)\n\
             \x20    = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = {role_lit}) THEN\n\
             \x20   RAISE EXCEPTION 'idpviews: role % owns %: row-level security does not apply to it', {role_lit}, t\n\
             \x20     USING HINT = 'set tenant_view_owner in idp-views.toml to a dedicated role';\n\
             \x20 END IF;\n\
             \x20 IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = t AND polname NOT LIKE 'idpviews\\_%') THEN\n\
             \x20   RAISE EXCEPTION 'idpviews: % has row-level security policies of its own', t\n\
             \x20     USING HINT = 'idpviews adds a permissive allow-all policy, which would widen them: tenant-isolated views of this table are not supported';\n\
             \x20 END IF;\n\
             \x20 IF NOT (SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = t) THEN\n\
             \x20   ALTER TABLE {source} ENABLE ROW LEVEL SECURITY;\n\
             \x20 END IF;\n\
             \x20 IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = t AND polname = {all_lit}\n\
             \x20     AND polpermissive AND polcmd = '*' AND polroles = '{{0}}'\n\
             \x20     AND pg_catalog.pg_get_expr(polqual, polrelid) = 'true'\n\
             \x20     AND pg_catalog.pg_get_expr(polwithcheck, polrelid) = 'true') THEN\n\
             \x20   DROP POLICY IF EXISTS {all} ON {source};\n\
             \x20   CREATE POLICY {all} ON {source} AS PERMISSIVE FOR ALL TO PUBLIC\n\
             \x20     USING (true) WITH CHECK (true);\n\
             \x20 END IF;\n\
             \x20 -- the tenant condition as PostgreSQL prints it, from a policy on a scratch table\n\
             \x20 CREATE TEMP TABLE idpviews_tenant_probe ({probe_column} {sql_type}) ON COMMIT DROP;\n\
             \x20 CREATE POLICY probe ON pg_temp.idpviews_tenant_probe USING ({predicate});\n\
             \x20 SELECT pg_catalog.pg_get_expr(polqual, polrelid) INTO want FROM pg_catalog.pg_policy\n\
             \x20   WHERE polrelid = 'pg_temp.idpviews_tenant_probe'::regclass;\n\
             \x20 DROP TABLE pg_temp.idpviews_tenant_probe;\n\
             \x20 IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = t AND polname = {tenant_lit}\n\
             \x20     AND NOT polpermissive AND polcmd = 'r' AND polwithcheck IS NULL\n\
             \x20     AND polroles = ARRAY[(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = {role_lit})]\n\
             \x20     AND pg_catalog.pg_get_expr(polqual, polrelid) = want) THEN\n\
             \x20   DROP POLICY IF EXISTS {tenant} ON {source};\n\
             \x20   CREATE POLICY {tenant} ON {source} AS RESTRICTIVE FOR SELECT TO {role}\n\
             \x20     USING ({predicate});\n\
             \x20 END IF;\n\
             END\n\
             $idpviews$;\n",
            quote_ident(schema),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_names() {
        assert_eq!(owner_problem("idp_views_tenant_reader"), None);
        assert_eq!(tenant_policy_name("r"), "idpviews_tenant_r");
        for bad in ["", "Readers", "a-b", "9x", "pg_reader", "public", "a$b"] {
            assert!(owner_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(owner_problem(&"a".repeat(MAX_OWNER_BYTES)), None);
        assert!(owner_problem(&"a".repeat(MAX_OWNER_BYTES + 1)).is_some());
        assert_eq!(tenant_policy_name(&"a".repeat(MAX_OWNER_BYTES)).len(), 63);
    }
}
