//! `create-idp-views.sql`: idempotent, transactional SQL creating the views.
//!
//! One transaction: an advisory lock of our own ([`ADVISORY_LOCK_KEY`]) so
//! concurrent appliers serialise, `CREATE SCHEMA IF NOT EXISTS`, the
//! trigger function that rejects writes, then per view `CREATE OR REPLACE
//! VIEW` (columns in allowlist order, so appending a column replaces the
//! view in place), the read-only triggers and a `COMMENT ON VIEW`.
//!
//! Read-only at the database level: PostgreSQL makes a one-table view
//! automatically updatable, so even its owner or a superuser could write
//! through it. Every view gets a `BEFORE ... FOR EACH STATEMENT` trigger and
//! an `INSTEAD OF ... FOR EACH ROW` trigger that raise SQLSTATE 25006
//! (`read_only_sql_transaction`), so every write fails loudly, for every
//! role, even one that matches no rows.
//!
//! Tenant-isolated views (`tenant_column`) keep the tenant filter in the
//! view itself, with no change to the IDP tables (see [`render_tenant_functions`]
//! and [`tenant_view_body`]): the view is flattened into the caller's query
//! and every column but the model's id and the tenant column is masked by the
//! tenant check, so a caller's condition that PostgreSQL evaluates before the
//! view's `WHERE` sees `NULL` for other tenants' rows (their ids and tenant
//! ids only: what declaring that tenant shows anyway).

use super::plan::{Plan, TenantPlan, ViewPlan};
use crate::manifest::ManifestColumn;
use std::fmt::Write as _;

pub use crate::names::{
    drop_void_set_tenant_sql, ADVISORY_LOCK_KEY, CURRENT_TENANT_BODY, CURRENT_TENANT_FUNCTION,
    CURRENT_TENANT_LANGUAGE, READ_ONLY_STATEMENT_TRIGGER, READ_ONLY_TRIGGER, REJECT_WRITE_FUNCTION,
    SET_TENANT_BODY, SET_TENANT_FUNCTION, TENANT_SETTING,
};

pub(crate) use crate::sql::{quote_ident, quote_literal};

/// The tenant declared in the current transaction, cast to the tenant
/// column's type, as an uncorrelated sub-select: PostgreSQL evaluates it once
/// per query (an InitPlan), and plans with the column's average tenant size
/// whatever the tenant, like a prepared statement's generic plan.
pub(crate) fn tenant_value(schema: &str, sql_type: &str) -> String {
    format!(
        "(SELECT CAST({schema}.{}() AS {sql_type}))",
        quote_ident(CURRENT_TENANT_FUNCTION)
    )
}

/// `set_tenant` and `current_tenant` in the views schema (only when a view
/// is tenant-isolated).
pub(crate) fn render_tenant_functions(out: &mut String, schema: &str, views: &[ViewPlan]) {
    if !views.iter().any(|v| v.tenant.is_some()) {
        return;
    }
    let set = format!("{schema}.{}", quote_ident(SET_TENANT_FUNCTION));
    let current = format!("{schema}.{}", quote_ident(CURRENT_TENANT_FUNCTION));
    let drop_void = drop_void_set_tenant_sql(schema);
    let _ = writeln!(
        out,
        "-- Tenant isolation: a tenant belongs to the transaction that declared it with\n\
         -- `SELECT {set}($1)`. {current}() returns it only inside that same\n\
         -- transaction (bound to the transaction's start time, no transaction id: works on a\n\
         -- hot standby); a session-level SET, an earlier transaction's value or one left on a\n\
         -- pooled connection is no tenant, and tenant-isolated views then return no rows.\n\
         -- set_tenant returns the declared tenant (earlier packages returned void: replaced).\n\
         {drop_void}\
         CREATE OR REPLACE FUNCTION {set}(tenant text)\n\
         RETURNS text\n\
         LANGUAGE plpgsql\n\
         VOLATILE\n\
         AS $idpviews${SET_TENANT_BODY}$idpviews$;\n\
         CREATE OR REPLACE FUNCTION {current}()\n\
         RETURNS text\n\
         LANGUAGE {CURRENT_TENANT_LANGUAGE}\n\
         STABLE PARALLEL SAFE\n\
         AS $idpviews${CURRENT_TENANT_BODY}$idpviews$;\n"
    );
    // The earlier design put row-level security on the IDP tables: undo it
    // (only idpviews' own policies; nothing happens when there are none).
    let mut tables: Vec<String> = Vec::new();
    for v in views.iter().filter(|v| v.tenant.is_some()) {
        let t = format!(
            "{}.{}",
            quote_ident(&v.view.source_schema),
            quote_ident(&v.view.source_table)
        );
        if !tables.contains(&t) {
            tables.push(t);
        }
    }
    for t in tables {
        let lit = quote_literal(&t);
        let _ = writeln!(
            out,
            "-- Row-level security of the earlier tenant design on {t}, if any, removed.\n\
             DO $idpviews$\n\
             DECLARE\n\
             \x20 t regclass := {lit}::regclass;\n\
             \x20 p name;\n\
             BEGIN\n\
             \x20 IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = t AND polname = 'idpviews_all') THEN\n\
             \x20   FOR p IN SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = t AND polname LIKE 'idpviews\\_%' LOOP\n\
             \x20     EXECUTE pg_catalog.format('DROP POLICY %I ON %s', p, t);\n\
             \x20   END LOOP;\n\
             \x20   IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = t) THEN\n\
             \x20     EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);\n\
             \x20   END IF;\n\
             \x20 END IF;\n\
             END\n\
             $idpviews$;\n"
        );
    }
}

/// The select list and `WHERE` of a tenant-isolated view: the model's id
/// columns as they are (the join key: index lookups and estimates as on the
/// table), the tenant column as it is (a product's own `"tenant_id" = $1`
/// is then an index condition merged with the view's check: per-tenant
/// plans; it reveals only what declaring that tenant shows, and `NULL` for
/// rows of no tenant), every other column `CASE WHEN <tenant column> = <tenant> THEN
/// <column> ELSE NULL::<type> END` (a caller's function evaluated before the
/// view's `WHERE` sees `NULL` for other tenants' rows; the `ELSE` keeps the
/// column's type modifier), and `WHERE <tenant column> = <tenant>`.
pub(crate) fn tenant_view_body(
    v: &ViewPlan,
    schema: &str,
    tenant: &TenantPlan,
) -> (Vec<String>, String) {
    let value = tenant_value(schema, &tenant.sql_type);
    let check = format!("{} = {value}", quote_ident(&tenant.column));
    let columns = v
        .view
        .columns
        .iter()
        .map(|c| {
            if tenant.bare.contains(&c.column) || c.column == tenant.column {
                column_expr(c)
            } else {
                format!(
                    "CASE WHEN {check} THEN {} ELSE NULL::{} END AS {}",
                    column_value(c),
                    c.sql_type,
                    quote_ident(&c.column)
                )
            }
        })
        .collect();
    (columns, format!("WHERE {check}"))
}

/// A column of the select list: enums cast to `text` (`text[]`) under
/// their own name.
fn column_expr(c: &ManifestColumn) -> String {
    if c.enum_name.is_some() {
        format!("{} AS {}", column_value(c), quote_ident(&c.column))
    } else {
        column_value(c)
    }
}

fn column_value(c: &ManifestColumn) -> String {
    let col = quote_ident(&c.column);
    if c.enum_name.is_some() {
        format!("{col}::{}", if c.list { "text[]" } else { "text" })
    } else {
        col
    }
}

pub(crate) fn render(plan: &Plan, header: &str) -> String {
    let schema = quote_ident(&plan.schema);
    let func = format!("{schema}.{}", quote_ident(REJECT_WRITE_FUNCTION));
    let mut out = String::new();
    let _ = writeln!(out, "-- {header}");
    out.push_str(
        "--\n\
         -- Read-only views of IDP data for products. Idempotent and transactional:\n\
         -- apply it as often as you like, from as many connections at once as you like\n\
         -- (`idpviews apply`, or `psql -v ON_ERROR_STOP=1 -f create-idp-views.sql`).\n\n",
    );
    out.push_str("BEGIN;\n\n");
    let _ = writeln!(
        out,
        "-- Serialise concurrent appliers (idpviews' own advisory lock key).\n\
         SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY});\n"
    );
    let _ = writeln!(out, "CREATE SCHEMA IF NOT EXISTS {schema};\n");
    let _ = writeln!(
        out,
        "-- Views are read-only for every role, owner and superusers included.\n\
         CREATE OR REPLACE FUNCTION {func}()\n\
         RETURNS trigger\n\
         LANGUAGE plpgsql\n\
         AS $idpviews$\n\
         BEGIN\n\
         \x20 RAISE EXCEPTION 'idpviews: cannot % %.%: IDP views are read-only', TG_OP, quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)\n\
         \x20   USING ERRCODE = 'read_only_sql_transaction',\n\
         \x20         HINT = 'Products only read IDP data; change it through the IDP.';\n\
         END\n\
         $idpviews$;\n"
    );
    render_tenant_functions(&mut out, &schema, &plan.views);
    for v in &plan.views {
        render_view(&mut out, v, &schema, &func);
    }
    out.push_str("COMMIT;\n");
    out
}

fn render_view(out: &mut String, v: &ViewPlan, schema: &str, func: &str) {
    let view = format!("{schema}.{}", quote_ident(&v.view.name));
    let source = format!(
        "{}.{}",
        quote_ident(&v.view.source_schema),
        quote_ident(&v.view.source_table)
    );
    let _ = writeln!(
        out,
        "-- View {} of model {} ({source}){}",
        v.view.name,
        v.view.model,
        if v.tenant.is_some() {
            ", tenant-isolated"
        } else {
            ""
        }
    );
    for (field, reason) in &v.secrets {
        let _ = writeln!(
            out,
            "-- Secret-looking field `{field}` exposed on purpose: {}",
            one_line(reason)
        );
    }
    let _ = write!(out, "CREATE OR REPLACE VIEW {view}");
    out.push_str(" AS\nSELECT\n");
    let (columns, filter) = match &v.tenant {
        Some(t) => {
            let (c, f) = tenant_view_body(v, schema, t);
            (c, Some(f))
        }
        None => (v.view.columns.iter().map(column_expr).collect(), None),
    };
    let n = columns.len();
    for (i, c) in columns.iter().enumerate() {
        let _ = writeln!(out, "  {c}{}", if i + 1 < n { "," } else { "" });
    }
    let _ = write!(out, "FROM {source}");
    if let Some(filter) = filter {
        let _ = write!(out, "\n{filter}");
    }
    out.push_str(";\n");
    let _ = writeln!(
        out,
        "CREATE OR REPLACE TRIGGER {READ_ONLY_STATEMENT_TRIGGER}\n\
         \x20 BEFORE INSERT OR UPDATE OR DELETE ON {view}\n\
         \x20 FOR EACH STATEMENT EXECUTE FUNCTION {func}();\n\
         CREATE OR REPLACE TRIGGER {READ_ONLY_TRIGGER}\n\
         \x20 INSTEAD OF INSERT OR UPDATE OR DELETE ON {view}\n\
         \x20 FOR EACH ROW EXECUTE FUNCTION {func}();"
    );
    let comment = format!(
        "Generated by idpviews from IDP model {} ({}.{}); read-only{}. Do not edit: regenerate with `idpviews generate`.",
        v.view.model,
        v.view.source_schema,
        v.view.source_table,
        if v.tenant.is_some() {
            format!(", rows limited to the tenant declared with {SET_TENANT_FUNCTION}() in the current transaction")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "COMMENT ON VIEW {view} IS {};\n",
        quote_literal(&comment)
    );
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(ADVISORY_LOCK_KEY, 0x6964_7076_6965_7773);
        assert_eq!(
            tenant_value("\"v\"", "uuid"),
            "(SELECT CAST(\"v\".\"current_tenant\"() AS uuid))"
        );
        assert!(SET_TENANT_BODY.contains(TENANT_SETTING));
        assert!(CURRENT_TENANT_BODY.contains(TENANT_SETTING));
    }
}
