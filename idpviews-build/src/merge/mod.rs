//! The product-side merge: the vendored views package plus the product's
//! `idp-relations.conf` gives the product's `idp-views.prisma` (what the
//! PoC's `add-relations.sh` did), checked against the product's own schema.
//!
//! Relations are injected into the package's syntax tree, between each
//! view's `// PRODUCT_RELATIONS_START` / `// PRODUCT_RELATIONS_END` markers,
//! and the tree is rendered canonically: no string surgery.
//!
//! Stages, in order:
//! 1. `package`: read and verify the vendored package ([`load_package`]);
//! 2. the product schema, through [`prisma::load_excluding`]
//!    ([`load_product_schema`]);
//! 3. checks of the view side of each conf line (`view_side`) and of the
//!    product's datasource and generator (`datasource`);
//! 4. injection of the relation fields (`inject`);
//! 5. one validator of the product relations (`product_relations`), which
//!    knows where each relation field came from.

mod datasource;
mod inject;
mod package;
mod product_relations;
mod view_side;

pub use inject::inject_unchecked;
pub use package::{load_package, ManifestHead, VendoredPackage};

use crate::diagnostics::{Diagnostics, Span};
use crate::manifest::ManifestRelation;
use crate::prisma::ast::{self, Arity, BlockKind};
use crate::relations_conf::RelationLine;
use crate::source::{FileId, SourceMap};
use crate::{prisma, Error};
use std::collections::BTreeSet;
use std::path::Path;

/// The product's Prisma schema: every `*.prisma` under a directory (or one
/// file), minus the merged file itself.
pub type ProductSchema = prisma::Loaded;

/// Reads the product schema at `path` (file or directory, recursively, in
/// sorted order), skipping `exclude` (the committed merged file, which
/// would define the views twice).
pub fn load_product_schema(
    path: &Path,
    exclude: Option<&Path>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<ProductSchema, Error> {
    prisma::load_excluding(path, exclude, sources, diags)
}

/// What [`merge`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged Prisma file, canonically rendered.
    pub prisma: String,
    /// The product relations, resolved against the product schema (empty
    /// without a product schema: relations cannot be resolved then).
    pub relations: Vec<ManifestRelation>,
    /// `views.json`: the package manifest with the relations.
    pub views_json: String,
}

/// `views.json`: the package manifest text with `"relations"` appended, the
/// same bytes as [`crate::manifest::Manifest::to_json`] of the manifest with its
/// relations set.
pub fn views_json(manifest_text: &str, relations: &[ManifestRelation]) -> String {
    let body = manifest_text.trim_end();
    if relations.is_empty() {
        return format!("{body}\n");
    }
    let head = body.strip_suffix('}').unwrap_or(body).trim_end();
    let list = serde_json::to_string_pretty(relations).expect("relations serialize");
    let list = list.replace('\n', "\n  ");
    format!("{head},\n  \"relations\": {list}\n}}\n")
}

/// Merges `relations` (from `relations_file`) into `package`, checking them
/// against the package and, when given, the product's schema. Every problem
/// goes to `diags`; `None` when there were errors.
pub fn merge(
    package: &VendoredPackage,
    relations: &[RelationLine],
    relations_file: Option<FileId>,
    product: Option<&ProductSchema>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Merged> {
    let errors_before = diags.error_count();
    package::check_package_schema(package, diags);

    // the package alone, for its views' columns and unique sets
    let views: Vec<&ast::Block> = package
        .ast
        .blocks()
        .filter(|b| b.kind == BlockKind::View)
        .collect();
    let view_set: BTreeSet<&str> = views.iter().map(|v| v.name.name.as_str()).collect();
    let injected = view_side::check(&views, relations, sources, diags);

    let mut merged_ast = package.ast.clone();
    inject::inject(&mut merged_ast, &injected);

    let mut resolved = Vec::new();
    if let Some(product) = product {
        // the schema Prisma will see: the product's files plus the merged views
        let mut all: Vec<ast::SchemaFile> = Vec::with_capacity(product.files.len() + 1);
        all.extend(product.files.iter().cloned());
        all.push(merged_ast);
        let (schema, relations) = product_relations::validate(
            &all,
            package,
            relations,
            &injected,
            relations_file,
            &view_set,
            sources,
            diags,
        );
        datasource::check_datasource(&schema, package, diags);
        prisma::require_postgresql(&all, diags);
        resolved = relations;
        merged_ast = all.pop().expect("pushed above");
    }

    if diags.error_count() > errors_before {
        return None;
    }
    let views_json = views_json(&sources.get(package.manifest_file).text, &resolved);
    Some(Merged {
        prisma: prisma::render(&merged_ast),
        relations: resolved,
        views_json,
    })
}

pub(super) fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "no views".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn type_text(rel: &RelationLine) -> String {
    match rel.arity {
        Arity::List => format!("{}[]", rel.target.name),
        Arity::Optional => format!("{}?", rel.target.name),
        Arity::Required => rel.target.name.to_string(),
    }
}

pub(super) fn position(sources: &SourceMap, span: Span) -> String {
    if (span.file.0 as usize) >= sources.len() {
        return "another line".into();
    }
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start as usize);
    format!("{}:{line}:{col}", file.path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Manifest, MANIFEST_FORMAT};
    use std::path::PathBuf;

    #[test]
    fn views_json_splices_like_to_json() {
        let mut m = Manifest {
            generated: String::new(),
            format: MANIFEST_FORMAT,
            generator: "t".into(),
            schema: "idp_views".into(),
            files: Default::default(),
            package_hash: String::new(),
            views: vec![],
            enums: vec![],
            relations: vec![],
        };
        let package = m.to_json();
        assert_eq!(views_json(&package, &[]), package);
        m.relations = vec![ManifestRelation {
            view: "IdpUser".into(),
            view_field: "drivers".into(),
            model: "Driver".into(),
            model_schema: "fuel".into(),
            model_table: "drivers".into(),
            model_field: "idpUser".into(),
            fk_columns: vec!["idp_user_id".into()],
            references: vec!["id".into()],
            list: true,
        }];
        let spliced = views_json(&package, &m.relations);
        assert_eq!(spliced, m.to_json());
        assert_eq!(Manifest::from_json(&spliced).unwrap(), m);
    }

    #[test]
    fn relations_go_between_the_markers_or_after_the_last_field() {
        let text = "view A {\n  id String @unique\n  // PRODUCT_RELATIONS_START\n  // PRODUCT_RELATIONS_END\n\n  @@schema(\"v\")\n}\n\nview B {\n  id String @unique\n\n  @@schema(\"v\")\n}\n";
        let conf = "A:xs X[]\nB:ys Y?\nA:zs Z[] @relation(\"n\")\n";
        let mut sources = SourceMap::new();
        let pf = sources.add("p.prisma", text);
        let cf = sources.add("c.conf", conf);
        let mut diags = Diagnostics::new();
        let mut ast = prisma::parse_file(&sources, pf, &mut diags);
        let rels = crate::relations_conf::parse(&sources, cf, &mut diags);
        assert!(diags.is_empty());
        inject::inject(&mut ast, &rels.iter().collect::<Vec<_>>());
        let out = prisma::render(&ast);
        let a = &out[out.find("view A").unwrap()..out.find("view B").unwrap()];
        let start = a.find("PRODUCT_RELATIONS_START").unwrap();
        let xs = a.find("xs X[]").unwrap();
        let zs = a.find("@relation(\"n\")").unwrap();
        let end = a.find("PRODUCT_RELATIONS_END").unwrap();
        assert!(start < xs && xs < zs && zs < end, "{out}");
        let b = &out[out.find("view B").unwrap()..];
        assert!(b.find("ys").unwrap() < b.find("@@schema").unwrap(), "{out}");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let package = "view V {\n  id String @unique\n  // PRODUCT_RELATIONS_START\n  // PRODUCT_RELATIONS_END\n\n  @@schema(\"v\")\n}\n";
        let product = "datasource db {\n  provider = \"postgresql\"\n  schemas = [\"p\", \"v\"]\n}\ngenerator c {\n  provider = \"prisma-client-js\"\n  previewFeatures = [\"views\"]\n}\nmodel M {\n  id String @id\n  vId String\n  v V @relation(fields: [vId, id], references: [id])\n  w V[]\n  x V? @relation(\"n\")\n  @@schema(\"p\")\n}\n";
        for conf in [
            "V:ms M[]\nV:ms M[]\nV:id M?\nV:m M\nV:v V[]\n",
            "V:ms M[] @relation(\"n\")\nV:zs Z[]\nW:ms M[]\n",
            "V:é M[]\nV:m M?? \n\u{0}\nV:m M[] @relation(\"\")\n",
            "V:ms M[]\nV:ns M[]\n",
        ] {
            let mut sources = SourceMap::new();
            let pf = sources.add("p.prisma", package);
            let prod = sources.add("m.prisma", product);
            let cf = sources.add("c.conf", conf);
            let mut diags = Diagnostics::new();
            let ast = prisma::parse_file(&sources, pf, &mut diags);
            let manifest = sources.add(
                "idp-views.lock",
                "{\"format\": 1, \"generator\": \"t\", \"schema\": \"v\", \"files\": {}, \"views\": []}",
            );
            let pkg = VendoredPackage {
                dir: PathBuf::from("pkg"),
                manifest: serde_json::from_str(&sources.get(manifest).text).unwrap(),
                manifest_file: manifest,
                prisma_file: pf,
                ast,
                sql: String::new(),
                files_read: vec![],
            };
            let schema = ProductSchema {
                files: vec![prisma::parse_file(&sources, prod, &mut diags)],
                paths: vec![],
                dirs: vec![],
            };
            let rels = crate::relations_conf::parse(&sources, cf, &mut diags);
            let merged = merge(&pkg, &rels, Some(cf), Some(&schema), &sources, &mut diags);
            assert!(merged.is_none());
            let _ = diags.render(&sources, false);
        }
    }
}
