//! fuel-logistics: a product service that reads IDP data through the
//! read-only `idp_views` schema, with row types the compiler checks against
//! the views package.
//!
//! - [`idp`]: the generated view structs and enums (`include_views!()`).
//! - [`setup`]: what an operator and a deployment do: IDP tables and seed,
//!   the views, the product role and its grants, the product's tables.
//! - [`queries`]: the six cross-schema queries of the proof of concept.
//! - [`sqlx_queries`]: the same view types on a sqlx connection (the `sqlx`
//!   feature of `idpviews`; `cargo run -p example-product --bin sqlx`).
//! - [`table`]: plain-text tables for the demo output.

/// The IDP views as typed Rust: `IdpUser`, `IdpTenant`, `IdpRole`, the
/// `UserType` enum and `package()`, generated from what `build.rs` wrote
/// into `OUT_DIR`. A field the IDP stops exposing is a compile error here.
pub mod idp {
    idpviews::include_views!();
}

pub mod queries;
pub mod setup;
pub mod sqlx_queries;
pub mod table;

pub use queries::*;
