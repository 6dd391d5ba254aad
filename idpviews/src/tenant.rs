//! Tenant isolation: the database, not the application, scopes the rows of a
//! tenant-isolated view to the caller's tenant.
//!
//! # How it works
//!
//! A view opts in with `tenant_column = "<field>"` in `idp-views.toml`. The
//! generator then creates it as
//!
//! ```sql
//! CREATE OR REPLACE VIEW "idp_views"."IdpUser" WITH (security_barrier = true) AS
//! SELECT ... FROM "idp"."User"
//! WHERE "tenantId" = CAST(NULLIF(current_setting('idpviews.tenant_id', true), '') AS text);
//! ```
//!
//! and a service declares its tenant per transaction with [`set_tenant`]
//! (`set_config('idpviews.tenant_id', $1, true)`: transaction-local, so a
//! pooled connection never carries a tenant into the next transaction).
//!
//! - Another tenant's rows: the filter is part of the view, so every query
//!   through it (joins, sub-queries, aggregates, `EXPLAIN ANALYZE` counts of
//!   returned rows) only sees the declared tenant.
//! - Leaky functions: `security_barrier` makes PostgreSQL evaluate the
//!   view's own condition before any condition of the caller that is not
//!   `LEAKPROOF` (only a superuser can mark a function `LEAKPROOF`), so a
//!   function with `RAISE NOTICE` in a `WHERE` clause never sees filtered-out
//!   rows.
//! - Forgetting the tenant: an unset setting is `NULL` (or `''` after an
//!   earlier transaction-local one, hence `NULLIF`), `col = NULL` is never
//!   true: no rows, never all rows. Calling [`set_tenant`] outside a
//!   transaction block is the same mistake and fails the same safe way (the
//!   setting only lasts for that one statement).
//!
//! # Trade-offs (chosen: `security_barrier` views on a session setting)
//!
//! - The boundary is against application bugs (a missing `WHERE`, a wrong
//!   join, an include that crosses tenants) and leaky functions, not against
//!   the product role itself: a product serves all its tenants through one
//!   role, so that role may declare any tenant. A hard per-tenant boundary
//!   needs one database role per tenant (RLS on `current_user`), which does
//!   not fit pooled connections.
//! - RLS on the IDP tables plus `security_invoker` views was rejected: it
//!   needs the product role to hold `SELECT` on `idp` tables (breaking role
//!   isolation: column allowlists would rely on column grants) and puts
//!   policies on tables the IDP owns and migrates.
//! - `security_barrier` limits plan freedom: the caller's non-leakproof
//!   conditions cannot be pushed below the view's filter. Index conditions on
//!   leakproof operators (`=` on `uuid`/`text`, ...) still are. The cost is
//!   measured in `BENCHMARKS.md`.
//! - The tenant value is an untyped setting cast in the view: a malformed
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
