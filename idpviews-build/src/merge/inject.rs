//! Stage 4, injection: one field per relation line into its view, between
//! the markers, in the package's syntax tree (no string surgery).

use crate::markers::RELATIONS_END;
use crate::prisma::ast::{self, BlockItem, BlockKind};
use crate::relations_conf::RelationLine;

/// Injects relation lines into a package tree without any check (what the
/// PoC's `add-relations.sh` did): for tools and tests that want to see what
/// Prisma itself says about an unchecked merge. [`super::merge`] is the checked path.
pub fn inject_unchecked(file: &mut ast::SchemaFile, relations: &[RelationLine]) {
    inject(file, &relations.iter().collect::<Vec<_>>());
}

/// Inserts one field per relation line into its view, between the markers
/// (or after the last field when a view has no markers), in conf order.
pub(super) fn inject(file: &mut ast::SchemaFile, relations: &[&RelationLine]) {
    for item in &mut file.items {
        let ast::TopItem::Block(block) = item else {
            continue;
        };
        if block.kind != BlockKind::View {
            continue;
        }
        let fields: Vec<BlockItem> = relations
            .iter()
            .filter(|r| r.view.name == block.name.name)
            .map(|r| BlockItem::Field(relation_field(r)))
            .collect();
        if fields.is_empty() {
            continue;
        }
        let is_marker =
            |i: &BlockItem, m: &str| matches!(i, BlockItem::Comment(c) if c.content() == m);
        let at = block
            .items
            .iter()
            .position(|i| is_marker(i, RELATIONS_END))
            .or_else(|| {
                block
                    .items
                    .iter()
                    .rposition(|i| matches!(i, BlockItem::Field(_)))
                    .map(|p| p + 1)
            })
            .unwrap_or(0);
        block.items.splice(at..at, fields);
    }
}

/// The injected field; its spans point at the conf line.
fn relation_field(rel: &RelationLine) -> ast::Field {
    let mut ty = ast::FieldType::new(rel.target.name.clone(), rel.arity);
    ty.name.span = rel.target.span;
    ty.span = rel.type_span;
    let mut field = ast::Field::new(rel.field.name.clone(), ty);
    field.name.span = rel.field.span;
    field.span = rel.span;
    if let Some((name, span)) = &rel.relation_name {
        let mut attr = ast::Attribute::new(
            "relation",
            false,
            Some(vec![ast::Argument::positional(ast::Expr::string(
                name.clone(),
            ))]),
        );
        attr.span = *span;
        field.attributes.push(attr);
    }
    field
}
