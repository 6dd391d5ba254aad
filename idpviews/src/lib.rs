//! Runtime facade for services reading IDP data through idpviews.

pub mod apply;
pub mod audit;
mod catalog;
pub mod connect;
mod db;
pub mod enums;
mod error;
pub mod grants;
pub mod migration;
pub mod package;
pub mod record;
mod repair;
pub mod replica;
pub mod row;
#[cfg(feature = "sqlx")]
mod sqlx_rows;
mod statements;
pub mod tenant;
pub mod verify;

#[doc(hidden)]
pub mod __private;

pub use idpviews_core::manifest::{self, Manifest};
pub use idpviews_core::sql;
pub use idpviews_macros::*;
pub use package::{Package, PackageError};
pub use row::{ColumnName, DecodeAt, FromRow, Prefixed, ResultRow, RowError, RowErrorKind};

// The database side: apply, verify, grants, tenant isolation, orphan audit.
pub use apply::{
    apply, apply_async, apply_async_with, apply_with, Applied, ApplyOptions, Blocked,
    BlockingSession, Incompatibility, NewerPackage, ViewChange,
};
pub use audit::{audit, audit_async, AuditOutcome, AuditReport, RelationAudit};
pub use connect::{connect, connect_url};
pub use error::{error_chain, Error};
pub use grants::{grants_sql, grants_sql_for_owner, grants_sql_with, GrantsOptions};
pub use record::AppliedRecord;
pub use verify::{verify, verify_async, Finding, FindingKind, Severity, VerifyReport};
// The same operations on a sqlx connection (`&mut PgConnection`, or `&mut tx`).
#[cfg(feature = "sqlx")]
pub use {apply::apply_sqlx, apply::apply_sqlx_with, audit::audit_sqlx, verify::verify_sqlx};
