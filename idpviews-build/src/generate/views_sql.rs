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
//! Tenant-isolated views (`tenant_column`) are plain views owned by a
//! dedicated role that row-level security on the source table limits to the
//! tenant in the session setting `idpviews.tenant_id` (see [`super::tenant`]
//! and [`tenant_predicate`]); an unset or empty setting matches no row.

use super::plan::{Plan, ViewPlan};
use super::tenant;
use std::fmt::Write as _;

pub use crate::names::{
    ADVISORY_LOCK_KEY, READ_ONLY_STATEMENT_TRIGGER, READ_ONLY_TRIGGER, REJECT_WRITE_FUNCTION,
    TENANT_SETTING,
};

pub(crate) use crate::sql::{quote_ident, quote_literal};

/// The tenant policy's condition on the source table: the tenant column
/// equals the session setting [`TENANT_SETTING`], cast to the column's type.
/// `current_setting(..., true)` is NULL when the setting was never set and
/// `NULLIF(.., '')` makes an empty (reset) setting NULL too, so a caller
/// that forgot to set its tenant sees no row, never every row.
pub(crate) fn tenant_predicate(column: &str, sql_type: &str) -> String {
    format!(
        "{} = CAST(NULLIF(current_setting({}, true), '') AS {sql_type})",
        quote_ident(column),
        quote_literal(TENANT_SETTING)
    )
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
    tenant::render_setup(&mut out, &schema, &plan.views);
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
    let n = v.view.columns.len();
    for (i, c) in v.view.columns.iter().enumerate() {
        let col = quote_ident(&c.column);
        let expr = if c.enum_name.is_some() {
            format!("{col}::{} AS {col}", if c.list { "text[]" } else { "text" })
        } else {
            col
        };
        let _ = writeln!(out, "  {expr}{}", if i + 1 < n { "," } else { "" });
    }
    let _ = write!(out, "FROM {source}");
    out.push_str(";\n");
    if let Some(owner) = &v.view.tenant_owner {
        // row-level security on the source table applies to the view's owner
        let _ = writeln!(out, "ALTER VIEW {view} OWNER TO {};", quote_ident(owner));
    }
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
            format!(", rows limited to the tenant in setting {TENANT_SETTING}")
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
            tenant_predicate("tenant_id", "uuid"),
            "\"tenant_id\" = CAST(NULLIF(current_setting('idpviews.tenant_id', true), '') AS uuid)"
        );
    }
}
