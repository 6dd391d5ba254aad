//! The generated Prisma file against Prisma 7 itself (the CLI pinned in
//! `tools/prisma`): together with a product's `_config.prisma` it
//! validates, and `prisma format` leaves it byte for byte as it is.

mod generate_support;

use generate_support::*;
use idpviews_build::manifest::PRISMA_FILE;
use idpviews_testdb::prisma;

/// A product's Prisma configuration using the views schema.
fn product_config(views_schema: &str) -> String {
    format!(
        "generator client {{\n  provider        = \"prisma-client-js\"\n  previewFeatures = [\"views\"]\n}}\n\n\
         datasource db {{\n  provider = \"postgresql\"\n  schemas  = [\"fuel_logistics\", \"{views_schema}\"]\n}}\n"
    )
}

#[test]
fn generated_views_validate_and_are_prisma_format_fixed_points() {
    for case in case_dirs("generate") {
        let out = tempfile::tempdir().unwrap();
        let p = generate(&case, out.path()).unwrap_or_else(|e| panic!("{}", e.render(false)));
        let views = p.file(PRISMA_FILE).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let schema_dir = dir.path().join("schema");
        std::fs::create_dir(&schema_dir).unwrap();
        std::fs::write(
            schema_dir.join("_config.prisma"),
            product_config(&p.manifest().schema),
        )
        .unwrap();
        std::fs::write(schema_dir.join(PRISMA_FILE), views).unwrap();

        prisma::validate(&schema_dir)
            .unwrap_or_else(|e| panic!("{}: Prisma 7 rejects the views:\n{e}", case.display()));
        prisma::format(&schema_dir).unwrap();
        let formatted = std::fs::read_to_string(schema_dir.join(PRISMA_FILE)).unwrap();
        assert_eq!(
            formatted,
            views,
            "{}: `prisma format` changes the generated file:\n{}",
            case.display(),
            idpviews_build::drift::unified_diff("generated", "prisma format", views, &formatted)
        );
    }
}

/// A product relation injected between the markers (what the merge does)
/// still validates: the views are usable as relation targets.
#[test]
fn a_product_relation_to_a_view_validates() {
    let case = case_dirs("generate")
        .into_iter()
        .find(|c| c.ends_with("example"))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let p = generate(&case, out.path()).unwrap();
    let views = p.file(PRISMA_FILE).unwrap().replacen(
        "  // PRODUCT_RELATIONS_START\n",
        "  // PRODUCT_RELATIONS_START\n  drivers Driver[]\n",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("_config.prisma"),
        product_config("idp_views"),
    )
    .unwrap();
    std::fs::write(dir.path().join(PRISMA_FILE), views).unwrap();
    std::fs::write(
        dir.path().join("models.prisma"),
        "model Driver {\n  id        Int     @id @default(autoincrement())\n  idpUserId String  @db.Uuid\n  idpUser   IdpUser @relation(fields: [idpUserId], references: [id])\n\n  @@schema(\"fuel_logistics\")\n}\n",
    )
    .unwrap();
    prisma::validate(dir.path()).unwrap_or_else(|e| panic!("{e}"));
}
