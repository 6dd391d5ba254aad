//! Tenant isolation: the database, not the application, scopes the rows of a
//! tenant-isolated view to the caller's tenant.
//!
//! # How it works
//!
//! A view opts in with `tenant_column = "<field>"` in `idp-views.toml`. The
//! generator then creates it as a plain view owned by a dedicated role
//! (`tenant_view_owner`, default `idp_views_tenant_reader`: `NOLOGIN`, not a
//! superuser, no `BYPASSRLS`, not the table owner, column-level `SELECT` on
//! the source table), and turns on row-level security on the IDP table:
//!
//! ```sql
//! ALTER TABLE "idp"."User" ENABLE ROW LEVEL SECURITY;   -- not FORCE: the table owner is unaffected
//! CREATE POLICY "idpviews_all" ON "idp"."User" AS PERMISSIVE FOR ALL TO PUBLIC
//!   USING (true) WITH CHECK (true);                     -- every other role: as before
//! CREATE POLICY "idpviews_tenant_idp_views_tenant_reader" ON "idp"."User"
//!   AS RESTRICTIVE FOR SELECT TO "idp_views_tenant_reader"
//!   USING ("tenantId" = CAST(NULLIF(current_setting('idpviews.tenant_id', true), '') AS text));
//! CREATE OR REPLACE VIEW "idp_views"."IdpUser" AS SELECT ... FROM "idp"."User";
//! ALTER VIEW "idp_views"."IdpUser" OWNER TO "idp_views_tenant_reader";
//! ```
//!
//! A view reads its tables with its owner's rights, so the restrictive policy
//! applies to every query through the view, whoever runs it. A service
//! declares its tenant per transaction with [`set_tenant`]
//! (`set_config('idpviews.tenant_id', $1, true)`: transaction-local, so a
//! pooled connection never carries a tenant into the next transaction).
//!
//! - Another tenant's rows: the policy is a condition on the table itself,
//!   so every query through the view (joins, sub-queries, CTEs, aggregates)
//!   only sees the declared tenant.
//! - Leaky functions: policy conditions are security quals; PostgreSQL
//!   evaluates them before any condition of the caller that is not
//!   `LEAKPROOF` (only a superuser can mark a function `LEAKPROOF`), so a
//!   function with `RAISE NOTICE` in a `WHERE` clause never sees filtered-out
//!   rows.
//! - Forgetting the tenant: an unset setting is `NULL` (or `''` after an
//!   earlier transaction-local one, hence `NULLIF`), `col = NULL` is never
//!   true: no rows, never all rows. Calling [`set_tenant`] outside a
//!   transaction block is the same mistake and fails the same safe way (the
//!   setting only lasts for that one statement).
//!
//! # Trade-offs (chosen: row-level security through the view owner)
//!
//! - The view is flattened into the caller's query: joins are planned and
//!   estimated like the table's (geometric mean 0.97-0.99x the direct query
//!   in `BENCHMARKS.md`). The previous design, a `security_barrier` view
//!   filtering on the setting, is never flattened and cost 1.3-3.5x on joins.
//! - The IDP tables get row-level security enabled, with an allow-all
//!   policy for every role but the view owner: no behaviour change for the
//!   IDP. Applying needs a superuser, or the tables' owner with `CREATEROLE`.
//!   A table with row-level security policies of its own is refused (the
//!   allow-all policy would widen them).
//! - The boundary is against application bugs (a missing `WHERE`, a wrong
//!   join, an include that crosses tenants) and leaky functions, not against
//!   the product role itself: a product serves all its tenants through one
//!   role, so that role may declare any tenant. A hard per-tenant boundary
//!   needs one database role per tenant, which does not fit pooled
//!   connections.
//! - The tenant value is an untyped setting cast in the policy: a malformed
//!   value for a `uuid` column is an error (`22P02`), never a wider match.

use crate::db::{run_ready, AsyncConn, Conn, SyncConn};
use crate::verify::TENANT_SETTING;
use crate::Error;

const SET_SQL: &str = "SELECT set_config($1, $2, true)";
const GET_SQL: &str = "SELECT NULLIF(current_setting($1, true), '')";

/// Declares the tenant for the rest of `transaction`; tenant-isolated views
/// then show only its rows. The setting ends with the transaction.
pub fn set_tenant(
    transaction: &mut postgres::Transaction<'_>,
    tenant_id: &str,
) -> Result<(), Error> {
    run_ready(set_on(SyncConn(transaction), tenant_id))
}

/// [`set_tenant`] for `tokio-postgres`.
pub async fn set_tenant_async(
    transaction: &tokio_postgres::Transaction<'_>,
    tenant_id: &str,
) -> Result<(), Error> {
    set_on(AsyncConn(transaction), tenant_id).await
}

/// The tenant declared for the current transaction, if any.
pub fn current_tenant<C: postgres::GenericClient>(client: &mut C) -> Result<Option<String>, Error> {
    run_ready(current_on(SyncConn(client)))
}

/// [`current_tenant`] for `tokio-postgres`.
pub async fn current_tenant_async<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
) -> Result<Option<String>, Error> {
    current_on(AsyncConn(client)).await
}

async fn set_on<C: Conn>(mut conn: C, tenant_id: &str) -> Result<(), Error> {
    if tenant_id.is_empty() {
        return Err(Error::InvalidInput(
            "the tenant id is empty: an empty tenant means \"no tenant\" and tenant-isolated views \
             would return no rows"
                .into(),
        ));
    }
    conn.query(SET_SQL, &[&TENANT_SETTING, &tenant_id])
        .await
        .map_err(Error::db(format!("setting `{TENANT_SETTING}`")))?;
    Ok(())
}

pub(crate) async fn current_on<C: Conn>(mut conn: C) -> Result<Option<String>, Error> {
    let rows = conn
        .query(GET_SQL, &[&TENANT_SETTING])
        .await
        .map_err(Error::db(format!("reading `{TENANT_SETTING}`")))?;
    Ok(rows.first().and_then(|r| r.get(0)))
}
