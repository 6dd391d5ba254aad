//! Runtime facade for services reading IDP data through idpviews.

pub mod apply;
pub mod audit;
mod catalog;
mod db;
pub mod enums;
mod error;
pub mod grants;
pub mod package;
mod record;
mod repair;
pub mod row;
pub mod tenant;
pub mod verify;

#[doc(hidden)]
pub mod __private;

pub use idpviews_build::manifest::{self, Manifest};
pub use idpviews_build::sql;
pub use idpviews_macros::*;
pub use package::{Package, PackageError};
pub use row::{FromRow, Prefixed, RowError, RowErrorKind};

// The database side: apply, verify, grants, tenant isolation, orphan audit.
pub use apply::{apply, apply_async, Applied, Incompatibility, ViewChange};
pub use audit::{audit, audit_async, AuditOutcome, AuditReport, RelationAudit};
pub use error::{error_chain, Error};
pub use grants::{grants_sql, grants_sql_for_owner};
pub use verify::{verify, verify_async, Finding, FindingKind, Severity, VerifyReport};
