//! Runtime facade for services reading IDP data through idpviews.
pub use idpviews_macros::*;
