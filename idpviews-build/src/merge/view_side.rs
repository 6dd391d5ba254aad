//! Stage 3a, the view side of each relation line: the view exists, the
//! field is new to it, the target is a product model (not a view), the
//! arity fits, relations to the same model are named.

use super::{list, position, type_text};
use crate::diagnostics::Diagnostics;
use crate::prisma::ast::{self, Arity};
use crate::relations_conf::RelationLine;
use crate::source::SourceMap;
use crate::suggest::did_you_mean;
use std::collections::BTreeSet;

/// Checks the view side of `relations` against the package's `views`;
/// returns the lines to inject (those naming a view of the package).
pub(super) fn check<'r>(
    views: &[&ast::Block],
    relations: &'r [RelationLine],
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<&'r RelationLine> {
    let view_names: Vec<&str> = views.iter().map(|v| v.name.name.as_str()).collect();
    let view_set: BTreeSet<&str> = view_names.iter().copied().collect();
    let mut injected: Vec<&RelationLine> = Vec::new();
    for (i, rel) in relations.iter().enumerate() {
        let Some(view) = views.iter().find(|v| v.name.name == rel.view.name) else {
            let d = diags
                .error(rel.view.span, format!("unknown view `{}`", rel.view.name))
                .label("not a view of the package");
            match did_you_mean(&rel.view.name, view_names.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("the package exposes: {}", list(&view_names))),
            };
            continue;
        };
        injected.push(rel);
        if let Some(first) = relations[..i]
            .iter()
            .find(|r| r.view.name == rel.view.name && r.field.name == rel.field.name)
        {
            diags
                .error(
                    rel.field.span,
                    format!(
                        "duplicate relation field `{}.{}`",
                        rel.view.name, rel.field.name
                    ),
                )
                .label("defined again here")
                .note(format!(
                    "first defined at {}",
                    position(sources, first.field.span)
                ))
                .help("give each relation field of a view its own name");
        } else if let Some(col) = view.fields().find(|f| f.name.name == rel.field.name) {
            diags
                .error(
                    rel.field.span,
                    format!(
                        "relation field `{}` collides with the column `{}.{}`",
                        rel.field.name, view.name.name, col.name.name
                    ),
                )
                .label("already a field of the view")
                .help(format!(
                    "rename the relation field, e.g. `{}:{}{} {}`",
                    rel.view.name,
                    rel.field.name,
                    if rel.arity == Arity::List {
                        "List"
                    } else {
                        "Rel"
                    },
                    type_text(rel)
                ));
        }
        if view_set.contains(rel.target.name.as_str()) {
            diags
                .error(
                    rel.target.span,
                    format!(
                        "`{}` is a view of the package, not a product model",
                        rel.target.name
                    ),
                )
                .label("relations between views belong to the IDP")
                .help("relations between two views are declared in the IDP's `idp-views.toml`");
        } else if rel.arity == Arity::Required {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "the relation field `{}.{}` must be a list or optional",
                        rel.view.name, rel.field.name
                    ),
                )
                .label("required")
                .help(format!(
                    "the product model holds the foreign key, so the view side is `{0}[]` (one-to-many) or `{0}?` (one-to-one)",
                    rel.target.name
                ));
        }
        if rel.relation_name.is_none() {
            if let Some(other) = relations[..i].iter().find(|r| {
                r.view.name == rel.view.name
                    && r.target.name == rel.target.name
                    && r.field.name != rel.field.name
            }) {
                diags
                    .error(
                        rel.target.span,
                        format!(
                            "ambiguous relations: `{}.{}` and `{}.{}` both point at `{}`",
                            other.view.name, other.field.name, rel.view.name, rel.field.name, rel.target.name
                        ),
                    )
                    .label("needs a relation name")
                    .help(format!(
                        "name both: `{}:{} {} @relation(\"...\")`, and put the same name in the `@relation` of the fields of `{}`",
                        rel.view.name,
                        rel.field.name,
                        type_text(rel),
                        rel.target.name
                    ));
            }
        }
    }

    injected
}
