//! Stage 5, the one validator of product relations, which knows where each
//! relation field of the merged schema came from ([`Origin`]):
//!
//! - a line of `idp-relations.conf` (injected into a view): checked here
//!   against the product model holding the other side;
//! - a product model's field pointing at a view: checked here (it needs a
//!   line in the conf, a foreign key, a unique reference);
//! - a field of the package itself, or a relation between product models:
//!   the Prisma analysis' relation checks own them.
//!
//! The analysis runs over the product's files plus the merged views; its
//! findings about relations to the views are dropped by origin (this
//! module reports them, in terms of the conf), all others are kept.

use super::package::VendoredPackage;
use super::{list, type_text};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::manifest::ManifestRelation;
use crate::prisma::ast::{self, Arity};
use crate::prisma::model;
use crate::relations_conf::RelationLine;
use crate::source::{FileId, SourceMap};
use crate::suggest::did_you_mean;
use std::collections::BTreeSet;

/// Where a relation field of the merged schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A line of `idp-relations.conf`, injected into a view.
    ConfLine,
    /// The package's own `idp-views.prisma`.
    Package,
    /// A product model's field whose type is a view.
    ProductToView,
    /// Anything else of the product: the analysis owns it.
    Product,
}

/// Where the relation fields came from, by the spans the analysis reports at.
struct Origins {
    relations_file: Option<FileId>,
    package_file: FileId,
    /// Spans of product fields pointing at a view.
    to_views: Vec<Span>,
}

impl Origins {
    fn new(
        schema: &model::Schema,
        views: &BTreeSet<&str>,
        package: &VendoredPackage,
        relations_file: Option<FileId>,
    ) -> Origins {
        let to_views = schema
            .plain_models()
            .filter(|m| m.file != package.prisma_file)
            .flat_map(|m| m.fields.iter())
            .filter(|f| views.contains(f.type_name.as_str()))
            .map(|f| f.span)
            .collect();
        Origins {
            relations_file,
            package_file: package.prisma_file,
            to_views,
        }
    }

    fn of(&self, span: Span) -> Origin {
        if Some(span.file) == self.relations_file {
            Origin::ConfLine
        } else if span.file == self.package_file {
            Origin::Package
        } else if self
            .to_views
            .iter()
            .any(|f| f.file == span.file && f.start <= span.start && span.end <= f.end)
        {
            Origin::ProductToView
        } else {
            Origin::Product
        }
    }
}

/// Validates the product relations in `merged` (the product's files plus
/// the merged views): the analysis' findings of product origin, then this
/// module's checks of the conf lines and of the product's fields to views.
/// Returns the relations resolved against the product schema.
#[allow(clippy::too_many_arguments)]
pub(super) fn validate(
    merged: &[ast::SchemaFile],
    package: &VendoredPackage,
    relations: &[RelationLine],
    injected: &[&RelationLine],
    relations_file: Option<FileId>,
    view_set: &BTreeSet<&str>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> (model::Schema, Vec<ManifestRelation>) {
    let mut analysis = Diagnostics::new();
    let schema = crate::prisma::analyze(merged, &mut analysis);
    let origins = Origins::new(&schema, view_set, package, relations_file);
    let product_origin = |d: &Diagnostic| d.span.is_none_or(|s| origins.of(s) == Origin::Product);
    let mut ours = Diagnostics::new();
    check_uncovered(
        &schema,
        view_set,
        package,
        relations,
        relations_file,
        sources,
        &mut ours,
    );
    let mut resolved = Vec::new();
    for rel in injected {
        if let Some(r) = check_product_side(rel, relations, view_set, &schema, &mut ours) {
            resolved.push(r);
        }
    }
    for d in analysis {
        if product_origin(&d) {
            diags.push(d);
        }
    }
    for d in ours {
        diags.push(d);
    }
    (schema, resolved)
}

/// Product relation fields pointing at a view with no line in the conf
/// (Prisma needs the back-relation in the view).
fn check_uncovered(
    schema: &model::Schema,
    views: &BTreeSet<&str>,
    package: &VendoredPackage,
    relations: &[RelationLine],
    relations_file: Option<FileId>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    let conf = relations_file
        .map(|f| sources.get(f).path.display().to_string())
        .unwrap_or_else(|| "idp-relations.conf".into());
    for m in schema
        .plain_models()
        .filter(|m| m.file != package.prisma_file)
    {
        for f in &m.fields {
            if !views.contains(f.type_name.as_str()) || f.is_list() {
                continue;
            }
            let name = f.relation.as_ref().and_then(|r| r.name.as_deref());
            let covered = relations.iter().any(|r| {
                r.view.name == f.type_name
                    && r.target.name == m.name
                    && (r.relation_name.is_none()
                        || r.relation_name.as_ref().map(|n| n.0.as_str()) == name)
            });
            if covered {
                continue;
            }
            let unique = f
                .relation
                .as_ref()
                .is_some_and(|r| !r.fields.is_empty() && m.is_unique_set(&r.fields));
            let mut field = m.name.to_string();
            if let Some(first) = field.get(..1) {
                let lower = first.to_ascii_lowercase();
                field.replace_range(..1, &lower);
            }
            if name.is_some() {
                // `createdBy` -> `createdByOrders`
                field = format!("{}{}", f.name, m.name);
            }
            let line = format!(
                "{}:{}{} {}{}{}",
                f.type_name,
                field,
                if unique { "" } else { "s" },
                m.name,
                if unique { "?" } else { "[]" },
                name.map(|n| format!(" @relation(\"{n}\")"))
                    .unwrap_or_default()
            );
            diags
                .error(
                    f.name_span,
                    format!(
                        "the relation `{}.{}` to the view `{}` has no line in `{conf}`",
                        m.name, f.name, f.type_name
                    ),
                )
                .label("no back-relation in the view")
                .help(format!(
                    "add `{line}` to `{conf}` (the view side of the relation)"
                ));
        }
    }
}

/// The product model named by a relation line has the opposite field with
/// the foreign key, consistent with the line; returns the resolved relation.
fn check_product_side(
    rel: &RelationLine,
    all: &[RelationLine],
    views: &BTreeSet<&str>,
    schema: &model::Schema,
    diags: &mut Diagnostics,
) -> Option<ManifestRelation> {
    let view = schema.views().find(|v| v.name == rel.view.name)?;
    if views.contains(rel.target.name.as_str()) || rel.arity == Arity::Required {
        return None; // reported by the view-side checks
    }
    let Some(model) = schema.plain_models().find(|m| m.name == rel.target.name) else {
        let names: Vec<&str> = schema.plain_models().map(|m| m.name.as_str()).collect();
        let d = diags
            .error(
                rel.target.span,
                format!("unknown model `{}` in the product schema", rel.target.name),
            )
            .label("no such model");
        match did_you_mean(&rel.target.name, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "add `model {} {{ ... }}` to the product schema, or fix the model name",
                rel.target.name
            )),
        };
        return None;
    };
    let candidates: Vec<&model::Field> = model
        .fields
        .iter()
        .filter(|f| f.type_name == view.name)
        .filter(|f| match &rel.relation_name {
            Some((name, _)) => {
                f.relation.as_ref().and_then(|r| r.name.as_deref()) == Some(name.as_str())
            }
            None => true,
        })
        .collect();
    let suggestion = suggest_fk(view, rel);
    let opposite = match candidates.as_slice() {
        [] => {
            let d = diags
                .error(
                    rel.target.span,
                    format!(
                        "the model `{}` has no relation field to the view `{}`",
                        model.name, view.name
                    ),
                )
                .label(format!(
                    "`{}` needs the opposite side of `{}`",
                    model.name, rel.field.name
                ));
            if let Some((name, _)) = &rel.relation_name {
                d.note(format!(
                    "looked for a field of type `{}` with `@relation(\"{name}\", ...)`",
                    view.name
                ));
            }
            d.help(format!("add to model `{}`: {suggestion}", model.name));
            return None;
        }
        [one] => *one,
        _ if rel.relation_name.is_none()
            && all
                .iter()
                .filter(|r| r.view.name == rel.view.name && r.target.name == rel.target.name)
                .count()
                > 1 =>
        {
            return None; // the ambiguity is reported on the conf lines
        }
        many => {
            diags
                .error(
                    rel.target.span,
                    format!(
                        "the model `{}` has {} relation fields to the view `{}` ({})",
                        model.name,
                        many.len(),
                        view.name,
                        many.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
                    ),
                )
                .label("ambiguous")
                .help(format!(
                    "name the relation: `{}:{} {} @relation(\"Name\")` here and `@relation(\"Name\", fields: ..., references: ...)` on the field",
                    rel.view.name,
                    rel.field.name,
                    type_text(rel)
                ));
            return None;
        }
    };
    if let (None, Some(name)) = (
        &rel.relation_name,
        opposite.relation.as_ref().and_then(|r| r.name.as_ref()),
    ) {
        diags
            .error(
                rel.span,
                format!(
                    "`{}.{}` names its relation \"{name}\", this line does not",
                    model.name, opposite.name
                ),
            )
            .label("no relation name")
            .help(format!(
                "write `{}:{} {} @relation(\"{name}\")`",
                rel.view.name,
                rel.field.name,
                type_text(rel)
            ));
        return None;
    }
    if opposite.is_list() {
        diags
            .error(
                opposite.type_span,
                format!(
                    "`{}.{}` is a list, but the product model must hold the foreign key to `{}`",
                    model.name, opposite.name, view.name
                ),
            )
            .label("list")
            .help(format!("replace it with {suggestion}"));
        return None;
    }
    let Some(relation) = opposite
        .relation
        .as_ref()
        .filter(|r| !r.fields.is_empty() && !r.references.is_empty())
    else {
        diags
            .error(
                opposite.name_span,
                format!(
                    "`{}.{}` must hold the foreign key: `@relation(fields: [...], references: [...])`",
                    model.name, opposite.name
                ),
            )
            .label("no foreign key")
            .help(format!("write {suggestion}"));
        return None;
    };
    // unknown `fields` / `references` are reported by the analysis
    let fk: Option<Vec<&model::Field>> = relation.fields.iter().map(|f| model.field(f)).collect();
    let refs: Option<Vec<&model::Field>> =
        relation.references.iter().map(|r| view.field(r)).collect();
    let (Some(fk), Some(refs)) = (fk, refs) else {
        return None;
    };
    let mut ok = true;
    if fk.len() != refs.len() {
        diags
            .error(
                relation.span,
                "`fields` and `references` must have the same length",
            )
            .label(format!(
                "{} field(s), {} reference(s)",
                fk.len(),
                refs.len()
            ));
        return None;
    }
    if !view.is_unique_set(&relation.references) {
        let uniques: Vec<&str> = view
            .fields
            .iter()
            .filter(|f| f.is_unique || f.is_id)
            .map(|f| f.name.as_str())
            .collect();
        diags
            .error(
                relation.span,
                format!(
                    "`references: [{}]` is not a unique field of the view `{}`",
                    relation.references.join(", "),
                    view.name
                ),
            )
            .label("not @unique in the view")
            .help(if uniques.is_empty() {
                format!(
                    "the view `{}` has no `@unique` field to reference",
                    view.name
                )
            } else {
                format!(
                    "reference a `@unique` field of `{}`: {}",
                    view.name,
                    list(&uniques)
                )
            });
        ok = false;
    }
    for (f, r) in fk.iter().zip(&refs) {
        if f.type_name != r.type_name {
            diags
                .error(
                    f.type_span,
                    format!(
                        "`{}.{}` is `{}`, but it references `{}.{}` of type `{}`",
                        model.name, f.name, f.type_name, view.name, r.name, r.type_name
                    ),
                )
                .label("type mismatch")
                .help(format!("declare `{}` as `{}`", f.name, r.type_name));
            ok = false;
        }
    }
    let fk_names: Vec<String> = fk.iter().map(|f| f.name.to_string()).collect();
    let fk_unique = model.is_unique_set(&fk_names);
    match rel.arity {
        Arity::List if fk_unique => {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "`{}.{}` is a list, but `{}.{}` is `@unique`: this is a one-to-one relation",
                        rel.view.name,
                        rel.field.name,
                        model.name,
                        fk_names.join(", ")
                    ),
                )
                .label("list")
                .help(format!(
                    "write `{}:{} {}?`, or drop `@unique` from `{}.{}` for one-to-many",
                    rel.view.name,
                    rel.field.name,
                    model.name,
                    model.name,
                    fk_names.join(", ")
                ));
            ok = false;
        }
        Arity::Optional if !fk_unique => {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "`{}.{}` is optional (one-to-one), but `{}.{}` is not `@unique`",
                        rel.view.name,
                        rel.field.name,
                        model.name,
                        fk_names.join(", ")
                    ),
                )
                .label("one-to-one")
                .help(format!(
                    "write `{}:{} {}[]` for one-to-many, or add `@unique` to `{}.{}`",
                    rel.view.name,
                    rel.field.name,
                    model.name,
                    model.name,
                    fk_names.join(", ")
                ));
            ok = false;
        }
        _ => {}
    }
    if fk.iter().any(|f| f.is_optional()) && !opposite.is_optional() {
        diags
            .error(
                opposite.type_span,
                format!(
                    "`{}.{}` is required, but its foreign key `{}` is optional",
                    model.name,
                    opposite.name,
                    fk_names.join(", ")
                ),
            )
            .label("required")
            .help(format!(
                "make both optional (`{}?`) or both required",
                view.name
            ));
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(ManifestRelation {
        view: view.name.to_string(),
        view_field: rel.field.name.to_string(),
        model: model.name.to_string(),
        model_schema: model
            .schema
            .as_ref()
            .map(|s| s.0.clone())
            .unwrap_or_else(|| "public".into()),
        model_table: model.db_name.to_string(),
        model_field: opposite.name.to_string(),
        fk_columns: fk.iter().map(|f| f.column.to_string()).collect(),
        references: refs.iter().map(|f| f.column.to_string()).collect(),
        list: rel.arity == Arity::List,
    })
}

/// `` `idpUserId String` and `idpUser IdpUser @relation(...)` `` for a view.
fn suggest_fk(view: &model::Model, rel: &RelationLine) -> String {
    let key = view
        .fields
        .iter()
        .find(|f| f.is_unique || f.is_id)
        .or_else(|| view.field("id"));
    let (key_name, key_type, native) = match key {
        Some(f) => (
            f.name.as_str(),
            f.type_name.as_str(),
            f.native_type
                .as_ref()
                .map(|n| {
                    if n.args.is_empty() {
                        format!(" @db.{}", n.name)
                    } else {
                        format!(" @db.{}({})", n.name, n.args.join(", "))
                    }
                })
                .unwrap_or_default(),
        ),
        None => ("id", "String", String::new()),
    };
    let mut field = view.name.to_string();
    if let Some(first) = field.get(..1) {
        let lower = first.to_ascii_lowercase();
        field.replace_range(..1, &lower);
    }
    let fk = format!(
        "{field}{}{}",
        key_name.get(..1).unwrap_or("").to_ascii_uppercase(),
        key_name.get(1..).unwrap_or("")
    );
    let unique = if rel.arity == Arity::Optional {
        " @unique"
    } else {
        ""
    };
    let name = rel
        .relation_name
        .as_ref()
        .map(|(n, _)| format!("\"{n}\", "))
        .unwrap_or_default();
    format!(
        "`{fk} {key_type}{native}{unique}` and `{field} {} @relation({name}fields: [{fk}], references: [{key_name}])`",
        view.name
    )
}
