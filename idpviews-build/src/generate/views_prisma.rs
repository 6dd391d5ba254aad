//! `idp-views.prisma`: one `view` block per allowlist entry, built as a
//! Prisma AST and rendered by the canonical renderer.
//!
//! Per view: the model's `///` docs, the listed fields in listed order with
//! their type, arity, `@map` and `@db.*`; `@id` and `@unique` become
//! `@unique` (views take no `@id`); compound ids/uniques whose fields are
//! all exposed become `@@unique`; defaults, `@updatedAt`, indexes and
//! relations are dropped. Enum columns are `String` / `String[]` (the view
//! casts them to text) with a `///` line naming the IDP enum. The
//! `// PRODUCT_RELATIONS_START` / `// PRODUCT_RELATIONS_END` markers mark
//! where products inject their relation fields. No generator or datasource
//! block: the product owns those.

use super::plan::{Plan, ViewPlan};
use crate::prisma::ast::{
    Argument, Arity, Attribute, Block, BlockItem, BlockKind, Comment, Expr, Field, FieldType,
    SchemaFile, TopItem,
};
use crate::prisma::model::NativeType;

pub use crate::markers::{RELATIONS_END, RELATIONS_START};

pub(crate) fn render(plan: &Plan, header: &str) -> String {
    crate::prisma::render(&build(plan, header))
}

pub(crate) fn build(plan: &Plan, header: &str) -> SchemaFile {
    let mut items = vec![
        TopItem::Comment(Comment::line(header)),
        TopItem::Comment(Comment::line(
            "Read-only views of IDP data for products. Products vendor this package and never edit it;",
        )),
        TopItem::Comment(Comment::line(
            "their relations go between the PRODUCT_RELATIONS markers (idpviews merge / build.rs).",
        )),
    ];
    for v in &plan.views {
        items.push(TopItem::Blank);
        items.push(TopItem::Block(view_block(v, &plan.schema)));
    }
    SchemaFile {
        items,
        ..SchemaFile::default()
    }
}

fn doc_lines(doc: &Option<String>) -> Vec<String> {
    doc.as_deref()
        .map(|d| d.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn view_block(v: &ViewPlan, schema: &str) -> Block {
    let mut block = Block::new(BlockKind::View, &v.view.name);
    block.doc = doc_lines(&v.view.doc);
    for (col, native) in v.view.columns.iter().zip(&v.natives) {
        let arity = if col.list {
            Arity::List
        } else if col.nullable {
            Arity::Optional
        } else {
            Arity::Required
        };
        let mut field = Field::new(&col.field, FieldType::new(&col.prisma_type, arity));
        field.doc = doc_lines(&col.doc);
        if col.unique {
            field.attributes.push(Attribute::new("unique", false, None));
        }
        if col.column != col.field {
            field.attributes.push(Attribute::new(
                "map",
                false,
                Some(vec![Argument::positional(Expr::string(&col.column))]),
            ));
        }
        if let Some(n) = native {
            field.attributes.push(native_attr(n));
        }
        block.items.push(BlockItem::Field(field));
    }
    block.items.push(BlockItem::Blank);
    block
        .items
        .push(BlockItem::Comment(Comment::line(RELATIONS_START)));
    block
        .items
        .push(BlockItem::Comment(Comment::line(RELATIONS_END)));
    block.items.push(BlockItem::Blank);
    for set in &v.compound_uniques {
        block.items.push(BlockItem::Attribute(Attribute::new(
            "unique",
            true,
            Some(vec![Argument::positional(Expr::const_array(set))]),
        )));
    }
    block.items.push(BlockItem::Attribute(Attribute::new(
        "schema",
        true,
        Some(vec![Argument::positional(Expr::string(schema))]),
    )));
    block
}

fn native_attr(n: &NativeType) -> Attribute {
    let args = (!n.args.is_empty()).then(|| {
        n.args
            .iter()
            .map(|a| {
                let value = if !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()) {
                    Expr::Number(a.into(), Default::default())
                } else {
                    Expr::string(a)
                };
                Argument::positional(value)
            })
            .collect()
    });
    Attribute::new(&format!("db.{}", n.name), false, args)
}
