//! Workspace-level integration tests live in `tests/`; this library is
//! what they share: the golden-test harness ([`golden`]) and the tenant
//! functions of earlier versions ([`earlier`]).

pub mod earlier;
pub mod golden;
