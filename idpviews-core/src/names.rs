//! Names of the database objects the package SQL creates and the runtime
//! (`apply`, `verify`) looks for: one definition for both sides.

/// The key of the transaction-level advisory lock the SQL takes
/// (`pg_advisory_xact_lock`): the ASCII bytes of `idpviews` as a big-endian
/// `bigint`. Anything else applying idpviews SQL should take the same lock.
pub const ADVISORY_LOCK_KEY: i64 = i64::from_be_bytes(*b"idpviews");

/// The session setting holding the caller's tenant id.
pub const TENANT_SETTING: &str = "idpviews.tenant_id";

/// Name of the trigger function that rejects writes (in the views schema).
pub const REJECT_WRITE_FUNCTION: &str = "idpviews_reject_write";

/// Name of the row-level `INSTEAD OF` trigger on every view.
pub const READ_ONLY_TRIGGER: &str = "idpviews_read_only";

/// Name of the statement-level `BEFORE` trigger on every view.
pub const READ_ONLY_STATEMENT_TRIGGER: &str = "idpviews_read_only_statement";

/// The permissive allow-all policy on IDP tables with a tenant-isolated view.
pub const ALL_POLICY: &str = "idpviews_all";

/// Prefix of the restrictive tenant policy; the owner role's name follows.
pub const TENANT_POLICY_PREFIX: &str = "idpviews_tenant_";

/// The restrictive policy limiting `owner` to the caller's tenant.
pub fn tenant_policy_name(owner: &str) -> String {
    format!("{TENANT_POLICY_PREFIX}{owner}")
}
