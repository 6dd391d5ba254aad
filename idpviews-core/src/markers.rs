//! The markers around product relations in a views package's
//! `idp-views.prisma`: the generator writes them in every view, the
//! build-script merge puts a product's relation fields between them.

/// Comment line before the product relations in a view block.
pub const RELATIONS_START: &str = "PRODUCT_RELATIONS_START";
/// Comment line after the product relations in a view block.
pub const RELATIONS_END: &str = "PRODUCT_RELATIONS_END";
