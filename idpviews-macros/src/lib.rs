//! Proc macros for idpviews. Use them through the `idpviews` crate.
