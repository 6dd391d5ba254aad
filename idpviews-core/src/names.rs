//! Names of the database objects the package SQL creates and the runtime
//! (`apply`, `verify`) looks for: one definition for both sides.

/// The PostgreSQL schema of the views when the allowlist names none.
pub const DEFAULT_SCHEMA: &str = "idp_views";

/// The key of the transaction-level advisory lock the SQL takes
/// (`pg_advisory_xact_lock`): the ASCII bytes of `idpviews` as a big-endian
/// `bigint`. Anything else applying idpviews SQL should take the same lock.
pub const ADVISORY_LOCK_KEY: i64 = i64::from_be_bytes(*b"idpviews");

/// The transaction-local setting `set_tenant` writes (`<start time of the
/// transaction>/<tenant>`); read only through `current_tenant()`, which
/// ignores a value written by any other transaction or at session level.
pub const TENANT_SETTING: &str = "idpviews.tenant_id";

/// Name of the trigger function that rejects writes (in the views schema).
pub const REJECT_WRITE_FUNCTION: &str = "idpviews_reject_write";

/// Name of the row-level `INSTEAD OF` trigger on every view.
pub const READ_ONLY_TRIGGER: &str = "idpviews_read_only";

/// Name of the statement-level `BEFORE` trigger on every view.
pub const READ_ONLY_STATEMENT_TRIGGER: &str = "idpviews_read_only_statement";

/// The function a client calls to declare its tenant for the current
/// transaction: `SELECT idp_views.set_tenant($1)`.
pub const SET_TENANT_FUNCTION: &str = "set_tenant";

/// The function returning the tenant declared in the current transaction
/// (`NULL` when none was): `SELECT idp_views.current_tenant()`.
pub const CURRENT_TENANT_FUNCTION: &str = "current_tenant";

/// The body of `set_tenant(tenant text) RETURNS text` (plpgsql): stores the
/// tenant with the start time of the current transaction, transaction-local,
/// and returns it (a `text` every client reads: Prisma's `$queryRaw` cannot
/// read a `void` column).
pub const SET_TENANT_BODY: &str = "
BEGIN
  IF tenant IS NULL OR tenant = '' THEN
    RAISE EXCEPTION 'idpviews: the tenant id is empty'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'an empty tenant means no tenant: tenant-isolated views would return no rows';
  END IF;
  PERFORM pg_catalog.set_config('idpviews.tenant_id',
    EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text || '/' || tenant, true);
  RETURN tenant;
END
";

/// SQL that drops `<schema>.set_tenant(text)` when it returns `void` (as
/// the packages of earlier idpviews versions created it): `CREATE OR
/// REPLACE` cannot change a function's return type. Nothing else is
/// dropped, and a current `set_tenant` (its privileges too) is left alone.
/// `schema` is the quoted views schema.
pub fn drop_void_set_tenant_sql(schema: &str) -> String {
    let set = format!("{schema}.{}", crate::sql::quote_ident(SET_TENANT_FUNCTION));
    let signature = crate::sql::quote_literal(&format!("{set}(text)"));
    format!(
        "DO $idpviews$\n\
         BEGIN\n\
         \x20 IF (SELECT prorettype FROM pg_catalog.pg_proc\n\
         \x20     WHERE oid = pg_catalog.to_regprocedure({signature})) = 'pg_catalog.void'::pg_catalog.regtype THEN\n\
         \x20   DROP FUNCTION {set}(text);\n\
         \x20 END IF;\n\
         END\n\
         $idpviews$;\n"
    )
}

/// The language of `current_tenant()`.
///
/// PL/pgSQL, not SQL: a SQL function this size is inlined, and PostgreSQL
/// parses and analyses an inlined body again at every use in every plan
/// (one per column mask and one for the filter of each tenant-isolated view
/// in a query: ~200 µs of planning for a ten-column view, paid on every
/// execution of an unnamed or custom-planned statement). A PL/pgSQL function
/// is compiled once per session and called once per query and use (an
/// InitPlan each). BENCHMARKS.md, "Tenant isolation: planning cost and the
/// statement kind".
pub const CURRENT_TENANT_LANGUAGE: &str = "plpgsql";

/// The body of `current_tenant()` ([`CURRENT_TENANT_LANGUAGE`]): the tenant
/// stored by `set_tenant` in this same transaction, else `NULL`. A value
/// written by a session-level `SET`, by an earlier transaction or left on a
/// pooled connection carries another transaction start time (or none) and
/// is no tenant. Needs no transaction id, so it works on a hot standby. One
/// expression (one evaluation per call).
pub const CURRENT_TENANT_BODY: &str = "
BEGIN
  RETURN CASE
    WHEN pg_catalog.split_part(pg_catalog.current_setting('idpviews.tenant_id', true), '/', 1)
         OPERATOR(pg_catalog.=) EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text
    THEN NULLIF(pg_catalog.substr(pg_catalog.current_setting('idpviews.tenant_id', true),
         pg_catalog.strpos(pg_catalog.current_setting('idpviews.tenant_id', true), '/') OPERATOR(pg_catalog.+) 1), '')
  END;
END
";
