//! Relation checks over the whole schema: `fields`/`references` name
//! existing fields, every relation field has an opposite field, and one
//! side of a 1:1 or 1:n relation holds the foreign key.

use super::model::*;
use crate::diagnostics::Diagnostics;
use crate::suggest::did_you_mean as suggest;
use std::collections::{BTreeMap, BTreeSet};

/// Relation fields: `fields`/`references` exist, the opposite field exists.
pub(crate) fn check(schema: &Schema, diags: &mut Diagnostics) {
    let by_name: BTreeMap<&str, &Model> = schema
        .models
        .iter()
        .rev()
        .map(|m| (m.name.as_str(), m))
        .collect();
    // (model, field type) -> fields of that model with that type
    let mut by_type: BTreeMap<(&str, &str), Vec<&Field>> = BTreeMap::new();
    for m in &schema.models {
        for f in m.fields.iter().filter(|f| f.is_relation()) {
            by_type.entry((&m.name, &f.type_name)).or_default().push(f);
        }
    }
    // field lookups: a scan for ordinary models, a set for huge ones
    let big: BTreeMap<&str, BTreeSet<&str>> = schema
        .models
        .iter()
        .filter(|m| m.fields.len() > 64)
        .map(|m| {
            (
                m.name.as_str(),
                m.fields.iter().map(|f| f.name.as_str()).collect(),
            )
        })
        .collect();
    let has_field = |model: &Model, field: &str| match big.get(model.name.as_str()) {
        Some(set) => set.contains(field),
        None => model.fields.iter().any(|f| f.name == field),
    };
    for m in &schema.models {
        if m.kind == ModelKind::Composite || m.ignored {
            continue;
        }
        for f in &m.fields {
            if !f.is_relation() || f.ignored {
                continue;
            }
            let Some(&target) = by_name.get(f.type_name.as_str()) else {
                continue;
            };
            if let Some(rel) = &f.relation {
                for name in &rel.fields {
                    if !has_field(m, name) {
                        diags
                            .error(
                                rel.span,
                                format!(
                                    "`fields` refers to `{name}`, which is not a field of `{}`",
                                    m.name
                                ),
                            )
                            .label("unknown field")
                            .help(
                                match suggest(name, m.fields.iter().map(|f| f.name.as_str())) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => {
                                        format!("add the scalar field `{name}` to `{}`", m.name)
                                    }
                                },
                            );
                    }
                }
                for name in &rel.references {
                    if !has_field(target, name) {
                        diags
                            .error(
                                rel.span,
                                format!(
                                    "`references` refers to `{name}`, which is not a field of `{}`",
                                    target.name
                                ),
                            )
                            .label("unknown field")
                            .help(
                                match suggest(name, target.fields.iter().map(|f| f.name.as_str())) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => {
                                        format!("reference a unique field of `{}`", target.name)
                                    }
                                },
                            );
                    }
                }
            }
            if target.ignored {
                continue;
            }
            let rel_name = f.relation.as_ref().and_then(|r| r.name.clone());
            let candidates = by_type
                .get(&(target.name.as_str(), m.name.as_str()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let opposite = candidates.iter().copied().filter(|g| {
                !(target.name == m.name && g.name == f.name)
                    && g.relation.as_ref().and_then(|r| r.name.clone()) == rel_name
            });
            let opposite: Vec<&Field> = opposite.collect();
            if opposite.is_empty() {
                diags
                    .error(
                        f.name_span,
                        format!(
                            "the relation field `{}` on {} `{}` is missing an opposite relation field on the {} `{}`",
                            f.name, m.keyword(), m.name, target.keyword(), target.name
                        ),
                    )
                    .label("no back-relation")
                    .help(format!(
                        "add a field of type `{}` or `{}[]` to `{}` (`prisma format` can add it)",
                        m.name, m.name, target.name
                    ));
                continue;
            }
            // one side of a 1:1 / 1:n relation must hold the foreign key
            let g = opposite[0];
            let f_has = f.relation.as_ref().is_some_and(|r| !r.fields.is_empty());
            let g_has = g.relation.as_ref().is_some_and(|r| !r.fields.is_empty());
            if !f.is_list() && !f_has && !g_has {
                // report once per pair: on the non-list side of a 1:n,
                // on the first-named side of a 1:1
                let report = g.is_list() || (&m.name, &f.name) < (&target.name, &g.name);
                if report {
                    diags
                        .error(
                            f.name_span,
                            format!(
                                "the relation field `{}` on {} `{}` must specify the `fields` argument in the @relation attribute",
                                f.name, m.keyword(), m.name
                            ),
                        )
                        .label("no foreign key")
                        .help(format!(
                            "write `@relation(fields: [{}Id], references: [id])` and add the scalar field",
                            f.name
                        ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::prisma::parse_str;

    fn errors(text: &str) -> Vec<String> {
        let (_, _, _, d) = parse_str("t.prisma", text);
        d.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn one_to_many_and_self_relations_are_valid() {
        assert!(errors("model U {\n  id Int @id\n  p P[]\n}\nmodel P {\n  id Int @id\n  uId Int\n  u U @relation(fields: [uId], references: [id])\n}\n").is_empty());
        assert!(errors("model N {\n  id Int @id\n  parentId Int?\n  parent N? @relation(\"tree\", fields: [parentId], references: [id])\n  children N[] @relation(\"tree\")\n}\n").is_empty());
        // implicit many-to-many: lists on both sides, no foreign key
        assert!(errors(
            "model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n"
        )
        .is_empty());
    }

    #[test]
    fn missing_opposite_field_and_foreign_key() {
        let e = errors("model U {\n  id Int @id\n}\nmodel P {\n  id Int @id\n  u U\n}\n");
        assert!(e[0].contains("missing an opposite relation field"), "{e:?}");
        // a 1:1 without `fields` on either side is reported once
        let e = errors("model A {\n  id Int @id\n  b B?\n}\nmodel B {\n  id Int @id\n  a A?\n}\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("must specify the `fields` argument"), "{e:?}");
    }

    #[test]
    fn fields_and_references_must_exist() {
        let e = errors("model U {\n  id Int @id\n  p P[]\n}\nmodel P {\n  id Int @id\n  uId Int\n  u U @relation(fields: [uid], references: [ID])\n}\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("`uid`") && e[1].contains("`ID`"), "{e:?}");
    }
}
