//! Stage 3b, the product's datasource and generator: the datasource lists
//! the views schema, a generator enables the `views` preview feature.
//! Further checks of the product's datasource (e.g. its provider) belong
//! here, called from [`check_datasource`].

use super::package::VendoredPackage;
use crate::diagnostics::Diagnostics;
use crate::prisma::model;

/// The product datasource lists the views schema; a generator enables `views`.
pub(super) fn check_datasource(
    schema: &model::Schema,
    package: &VendoredPackage,
    diags: &mut Diagnostics,
) {
    let views_schema = &package.manifest.schema;
    match schema.datasources.first() {
        None => {
            diags
                .error_unspanned("the product schema has no `datasource` block")
                .help(format!(
                    "add `datasource db {{ provider = \"postgresql\" schemas = [\"<your schema>\", \"{views_schema}\"] }}` to the product schema"
                ));
        }
        Some(ds) => match &ds.schemas {
            Some(list) if list.iter().any(|(s, _)| s == views_schema) => {}
            Some(list) => {
                let span = match (list.first(), list.last()) {
                    (Some(a), Some(b)) => a.1.to(b.1),
                    _ => ds.span,
                };
                diags
                    .error(
                        span,
                        format!("the datasource's `schemas` does not list `{views_schema}`"),
                    )
                    .label(format!("`{views_schema}` missing"))
                    .help(format!(
                        "add it: `schemas = [{}, \"{views_schema}\"]`",
                        list.iter()
                            .map(|(s, _)| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
            }
            None => {
                diags
                    .error(ds.span, format!("the datasource has no `schemas` list, so the views in `{views_schema}` are not visible"))
                    .label("no `schemas`")
                    .help(format!("add `schemas = [\"<your schema>\", \"{views_schema}\"]` to the datasource"));
            }
        },
    }
    let has_views = |g: &model::Generator| g.preview_features.iter().any(|f| f == "views");
    if !schema.generators.iter().any(has_views) {
        match schema.generators.first() {
            Some(g) => {
                diags
                    .error(g.span, format!("the generator `{}` does not enable the `views` preview feature", g.name))
                    .label("no `views` preview feature")
                    .help("add `previewFeatures = [\"views\"]` to the generator (Prisma 7 still needs it for `view` blocks)");
            }
            None => {
                diags
                    .error_unspanned("the product schema has no `generator` block to enable the `views` preview feature")
                    .help("add `generator client { provider = \"prisma-client-js\" previewFeatures = [\"views\"] }`");
            }
        }
    }
}
