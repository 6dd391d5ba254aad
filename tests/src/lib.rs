//! Workspace-level integration tests live in `tests/`; this library is
//! what they share: the golden-test harness ([`golden`]).

pub mod golden;
