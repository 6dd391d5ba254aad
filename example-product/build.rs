//! Merges fuel-logistics' relations into the vendored IDP views package and
//! writes the result to `$OUT_DIR/idpviews/` for `idpviews::include_views!()`.
//! Fails the build when the committed `prisma/schema/idp-views.prisma` (what
//! the Prisma CLI reads) is stale: `IDPVIEWS_BLESS=1 cargo build` refreshes it.

fn main() {
    idpviews_build::Product::new()
        // In a real product this is the `idp-views` git submodule; the example
        // reads the package the example IDP generated, in this repository.
        .views_dir("../example-idp/packages/idp-views")
        .relations("idp-relations.conf")
        .product_schema("prisma/schema")
        .committed("prisma/schema/idp-views.prisma")
        .compile_or_exit();
}
