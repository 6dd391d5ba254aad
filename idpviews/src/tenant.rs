//! Tenant isolation: the database, not the application, scopes the rows of a
//! tenant-isolated view to the tenant the current transaction declared.
//!
//! # How it works
//!
//! A view opts in with `tenant_column = "<field>"` in `idp-views.toml`. The
//! package SQL then creates two functions in the views schema and puts the
//! tenant filter in the view itself; the IDP tables are not changed:
//!
//! ```sql
//! SELECT idp_views.set_tenant($1);   -- declares the tenant for this transaction (returns it)
//! SELECT idp_views.current_tenant(); -- the tenant this transaction declared, else NULL
//!
//! CREATE OR REPLACE VIEW idp_views."IdpUser" AS
//! SELECT "id",                                                     -- the join key, as is
//!   CASE WHEN "tenantId" = (SELECT CAST(idp_views.current_tenant() AS text))
//!        THEN "email" ELSE NULL::text END AS "email",             -- every other column masked
//!   ...,
//!   "tenantId"                                                     -- the tenant column, as is
//! FROM "idp"."User"
//! WHERE "tenantId" = (SELECT CAST(idp_views.current_tenant() AS text));
//! ```
//!
//! - **Bound to the transaction.** `set_tenant` stores the tenant with the
//!   start time of the current transaction (transaction-local);
//!   `current_tenant` returns it only inside that transaction. A
//!   session-level `SET idpviews.tenant_id`, a value of an earlier
//!   transaction or one left on a pooled connection (PgBouncer in transaction
//!   mode) is no tenant: no rows. No transaction id is needed, so it works on
//!   a hot standby.
//! - **Leaky functions.** The view is flattened into the caller's query (it
//!   plans like the table). A caller's condition that PostgreSQL evaluates
//!   before the view's `WHERE` sees `NULL` in every column of another
//!   tenant's row but the id and the tenant id (what declaring that tenant
//!   shows anyway).
//! - **Per-tenant plans.** The tenant column is not masked, so a product's
//!   own `WHERE "tenantId" = $1` (the declared tenant, passed again as a
//!   query parameter) is an index condition merged with the view's check:
//!   PostgreSQL plans per tenant, as for the table. Another tenant than the
//!   declared one returns no rows.
//! - **Forgetting the tenant.** No tenant is `NULL`; `col = NULL` is never
//!   true: no rows, never all rows.
//!
//! Non-Rust clients (a TypeScript product, `psql`) make the same call:
//! `SELECT idp_views.set_tenant($1)` inside their transaction.

use crate::db::{run_ready, AsyncConn, Conn, DbRow, SyncConn};
use crate::manifest::Manifest;
use crate::sql::quote_ident;
use crate::Error;

pub use idpviews_core::names::{CURRENT_TENANT_FUNCTION, SET_TENANT_FUNCTION, TENANT_SETTING};

/// The views schema [`set_tenant`] and [`current_tenant`] use.
pub const DEFAULT_SCHEMA: &str = idpviews_core::names::DEFAULT_SCHEMA;

/// Declares the tenant for the rest of `transaction` (`SELECT
/// idp_views.set_tenant($1)`); tenant-isolated views then show only its rows.
/// The declaration ends with the transaction.
pub fn set_tenant(
    transaction: &mut postgres::Transaction<'_>,
    tenant_id: &str,
) -> Result<(), Error> {
    set_tenant_in(transaction, DEFAULT_SCHEMA, tenant_id)
}

/// [`set_tenant`] for a package whose views live in `schema`.
pub fn set_tenant_in(
    transaction: &mut postgres::Transaction<'_>,
    schema: &str,
    tenant_id: &str,
) -> Result<(), Error> {
    run_ready(set_on(SyncConn(transaction), schema, tenant_id))
}

/// [`set_tenant`] for `tokio-postgres`.
pub async fn set_tenant_async(
    transaction: &tokio_postgres::Transaction<'_>,
    tenant_id: &str,
) -> Result<(), Error> {
    set_tenant_in_async(transaction, DEFAULT_SCHEMA, tenant_id).await
}

/// [`set_tenant_in`] for `tokio-postgres`.
pub async fn set_tenant_in_async(
    transaction: &tokio_postgres::Transaction<'_>,
    schema: &str,
    tenant_id: &str,
) -> Result<(), Error> {
    set_on(AsyncConn(transaction), schema, tenant_id).await
}

/// [`set_tenant`] on a sqlx transaction (the `sqlx` feature): `&mut tx`
/// for `tx: sqlx::Transaction<'_, Postgres>`. A connection outside a sqlx
/// transaction is refused ([`Error::InvalidInput`]): the declaration would
/// end with its own statement.
#[cfg(feature = "sqlx")]
pub async fn set_tenant_sqlx(
    transaction: &mut sqlx::PgConnection,
    tenant_id: &str,
) -> Result<(), Error> {
    set_tenant_in_sqlx(transaction, DEFAULT_SCHEMA, tenant_id).await
}

/// [`set_tenant_in`] on a sqlx transaction (see [`set_tenant_sqlx`]).
#[cfg(feature = "sqlx")]
pub async fn set_tenant_in_sqlx(
    transaction: &mut sqlx::PgConnection,
    schema: &str,
    tenant_id: &str,
) -> Result<(), Error> {
    if !sqlx::Connection::is_in_transaction(&*transaction) {
        return Err(Error::InvalidInput(
            "set_tenant needs a transaction (`&mut tx` of `conn.begin()`): the tenant is declared \
             for the rest of the transaction, and outside one it would end with its own statement"
                .into(),
        ));
    }
    set_on(crate::db::SqlxConn(transaction), schema, tenant_id).await
}

/// [`current_tenant`] on a sqlx connection or transaction (the `sqlx` feature).
#[cfg(feature = "sqlx")]
pub async fn current_tenant_sqlx(conn: &mut sqlx::PgConnection) -> Result<Option<String>, Error> {
    current_on(crate::db::SqlxConn(conn), DEFAULT_SCHEMA).await
}

/// The tenant the current transaction declared, if any
/// (`SELECT idp_views.current_tenant()`).
pub fn current_tenant<C: postgres::GenericClient>(client: &mut C) -> Result<Option<String>, Error> {
    run_ready(current_on(SyncConn(client), DEFAULT_SCHEMA))
}

/// [`current_tenant`] for `tokio-postgres`.
pub async fn current_tenant_async<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
) -> Result<Option<String>, Error> {
    current_on(AsyncConn(client), DEFAULT_SCHEMA).await
}

async fn set_on<C: Conn>(mut conn: C, schema: &str, tenant_id: &str) -> Result<(), Error> {
    if tenant_id.is_empty() {
        return Err(Error::InvalidInput(
            "the tenant id is empty: an empty tenant means \"no tenant\" and tenant-isolated views \
             would return no rows"
                .into(),
        ));
    }
    let sql = format!(
        "SELECT {}.{}($1::text)",
        quote_ident(schema),
        quote_ident(SET_TENANT_FUNCTION)
    );
    conn.query(&sql, &[&tenant_id])
        .await
        .map_err(Error::db(format!("declaring the tenant ({sql})")))?;
    Ok(())
}

pub(crate) async fn current_on<C: Conn>(
    mut conn: C,
    schema: &str,
) -> Result<Option<String>, Error> {
    let sql = format!(
        "SELECT {}.{}()",
        quote_ident(schema),
        quote_ident(CURRENT_TENANT_FUNCTION)
    );
    let rows = conn
        .query(&sql, &[])
        .await
        .map_err(Error::db(format!("reading the tenant ({sql})")))?;
    Ok(rows.first().and_then(|r| r.get(0)))
}

/// The declared tenant when `manifest` has tenant-isolated views (only then
/// does its schema hold `current_tenant`), else `None`.
pub(crate) async fn current_for<C: Conn>(
    conn: C,
    manifest: &Manifest,
) -> Result<Option<String>, Error> {
    if manifest.views.iter().any(|v| v.tenant_field.is_some()) {
        current_on(conn, &manifest.schema).await
    } else {
        Ok(None)
    }
}
