//! The tenant functions as earlier idpviews versions created them: the
//! upgrade tests put them back and expect `verify` to flag them and `apply`
//! to replace them; the bench measures the earlier `current_tenant()`.

/// The body of the earlier `current_tenant()`: `LANGUAGE sql`, one
/// expression, which PostgreSQL inlines (and parses again) at every use.
pub const CURRENT_TENANT_SQL_BODY: &str = "
SELECT CASE
  WHEN pg_catalog.split_part(pg_catalog.current_setting('idpviews.tenant_id', true), '/', 1)
       OPERATOR(pg_catalog.=) EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text
  THEN NULLIF(pg_catalog.substr(pg_catalog.current_setting('idpviews.tenant_id', true),
       pg_catalog.strpos(pg_catalog.current_setting('idpviews.tenant_id', true), '/') OPERATOR(pg_catalog.+) 1), '')
END
";

/// Replaces `<schema>.current_tenant()` by the earlier SQL function.
pub fn current_tenant_sql(schema: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION {schema}.current_tenant() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE \
         AS $idpviews${CURRENT_TENANT_SQL_BODY}$idpviews$"
    )
}

/// Replaces `<schema>.set_tenant(text)` by the earlier one, returning
/// `void` (which Prisma's `$queryRaw` cannot read).
pub fn set_tenant_void(schema: &str) -> String {
    format!(
        "DROP FUNCTION {schema}.set_tenant(text);
         CREATE FUNCTION {schema}.set_tenant(tenant text) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
         BEGIN
           PERFORM pg_catalog.set_config('idpviews.tenant_id',
             EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text || '/' || tenant, true);
         END $$"
    )
}
