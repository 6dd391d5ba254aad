//! The canonical renderer: AST back to Prisma text, laid out like
//! `prisma format` (2-space indent, fields and properties aligned in
//! columns, field attributes in Prisma's canonical order, block attributes
//! after the fields, comments kept).
//!
//! Rendering needs no spans, so trees built by code render the same way.

use super::ast::*;

const INDENT: &str = "  ";

/// Prisma's canonical attribute order; others keep their order, after these.
const ATTRIBUTE_ORDER: &[&str] = &[
    "id",
    "unique",
    "default",
    "updatedAt",
    "index",
    "fulltext",
    "map",
    "relation",
    "ignore",
];

/// Canonical Prisma text of one file (ends with a newline unless empty).
pub fn render(file: &SchemaFile) -> String {
    let mut out = String::new();
    let items = &file.items;
    let mut i = 0;
    // leading blank lines are dropped
    while matches!(items.get(i), Some(TopItem::Blank)) {
        i += 1;
    }
    while i < items.len() {
        let item = &items[i];
        i += 1;
        let followed_by_blank = matches!(items.get(i), Some(TopItem::Blank));
        while matches!(items.get(i), Some(TopItem::Blank)) {
            i += 1;
        }
        let more = i < items.len();
        match item {
            TopItem::Block(b) => {
                render_block(b, &mut out);
                if more {
                    out.push('\n');
                }
            }
            TopItem::Comment(c) => {
                let mut table = Table::default();
                table.comment(c);
                table.render("", &mut out);
                if more && followed_by_blank {
                    out.push('\n');
                }
            }
            TopItem::TypeAlias(t) => {
                // like `prisma format`: no blank line after a type alias
                out.push_str(&format!("type {} = {}", t.name.name, field_type(&t.ty)));
                for a in sorted(&t.attributes) {
                    out.push(' ');
                    out.push_str(&attribute(a));
                }
                out.push('\n');
            }
            TopItem::Invalid(inv) => {
                out.push_str(&inv.text);
                out.push('\n');
                if more && followed_by_blank {
                    out.push('\n');
                }
            }
            TopItem::Blank => {}
        }
    }
    out
}

/// One row of a column layout.
enum Row {
    /// Aligned columns and a suffix (a trailing comment) outside the layout.
    Regular(Vec<String>, String),
    /// Text that does not take part in the layout.
    Interleaved(String),
}

/// Rows whose columns are padded to a common width.
#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn row(&mut self, cols: Vec<String>, suffix: Option<&str>) {
        self.rows
            .push(Row::Regular(cols, suffix.unwrap_or_default().to_string()));
    }

    fn empty_row(&mut self) {
        self.rows.push(Row::Regular(Vec::new(), String::new()));
    }

    /// A comment on its own line(s); `/* */` comments in canonical form.
    fn comment(&mut self, c: &Comment) {
        if c.is_block() {
            self.row(Vec::new(), Some("/**"));
            let inner = c.text.strip_prefix("/*").unwrap_or(&c.text);
            let inner = inner.strip_suffix("*/").unwrap_or(inner);
            let inner = inner.strip_prefix('*').unwrap_or(inner);
            for line in inner.lines() {
                let line = line.trim();
                let line = line.strip_prefix('*').map(str::trim_start).unwrap_or(line);
                if !line.is_empty() {
                    self.row(Vec::new(), Some(&format!(" * {line}")));
                }
            }
            self.row(Vec::new(), Some(" */"));
        } else {
            self.row(Vec::new(), Some(c.text.trim_end()));
        }
    }

    fn doc(&mut self, lines: &[String]) {
        for l in lines {
            let text = if l.is_empty() {
                "///".to_string()
            } else {
                format!("/// {l}")
            };
            self.row(Vec::new(), Some(&text));
        }
    }

    fn render(&mut self, indent: &str, out: &mut String) {
        let mut widths: Vec<usize> = Vec::new();
        for row in &mut self.rows {
            if let Row::Regular(cols, _) = row {
                while cols.last().is_some_and(String::is_empty) {
                    cols.pop();
                }
                if widths.len() < cols.len() {
                    widths.resize(cols.len(), 0);
                }
                for (i, c) in cols.iter().enumerate() {
                    widths[i] = widths[i].max(c.len());
                }
            }
        }
        for row in self.rows.drain(..) {
            let mut line = String::new();
            match row {
                Row::Regular(cols, suffix) => {
                    let n = cols.len();
                    for (i, c) in cols.iter().enumerate() {
                        line.push_str(c);
                        if i + 1 < n {
                            line.push_str(&" ".repeat(widths[i] - c.len() + 1));
                        }
                    }
                    if !suffix.is_empty() {
                        if n > 0 {
                            line.push(' ');
                        }
                        line.push_str(&suffix);
                    }
                }
                Row::Interleaved(text) => line.push_str(&text),
            }
            if !line.is_empty() {
                out.push_str(indent);
                out.push_str(&line);
            }
            out.push('\n');
        }
    }
}

fn render_block(b: &Block, out: &mut String) {
    let mut head = Table::default();
    head.doc(&b.doc);
    head.render("", out);
    out.push_str(&format!("{} {} {{\n", b.kind.keyword(), b.name.name));

    let mut table = Table::default();
    // block attributes, each with the comments right before it
    let mut attributes: Vec<(Vec<&Comment>, &Attribute)> = Vec::new();
    let items = &b.items;
    let mut i = 0;
    while matches!(items.get(i), Some(BlockItem::Blank)) {
        i += 1;
    }
    let mut after_blank = false;
    while i < items.len() {
        let item = &items[i];
        i += 1;
        match item {
            BlockItem::Blank => {
                after_blank = true;
                continue;
            }
            BlockItem::Comment(_) => {
                // a run of comments moves with a block attribute that follows it
                let start = i - 1;
                let mut end = i;
                while matches!(items.get(end), Some(BlockItem::Comment(_))) {
                    end += 1;
                }
                if let Some(BlockItem::Attribute(a)) = items.get(end) {
                    let comments = items[start..end]
                        .iter()
                        .filter_map(|c| match c {
                            BlockItem::Comment(c) => Some(c),
                            _ => None,
                        })
                        .collect();
                    attributes.push((comments, a));
                    i = end + 1;
                    after_blank = false;
                    continue;
                }
                if after_blank {
                    new_section(&mut table, out);
                }
                for c in &items[start..end] {
                    if let BlockItem::Comment(c) = c {
                        table.comment(c);
                    }
                }
                i = end;
            }
            BlockItem::Attribute(a) => attributes.push((Vec::new(), a)),
            other => {
                if after_blank {
                    new_section(&mut table, out);
                }
                match other {
                    BlockItem::Field(f) => {
                        table.doc(&f.doc);
                        let attrs: Vec<String> = sorted(&f.attributes).map(attribute).collect();
                        table.row(
                            vec![f.name.name.to_string(), field_type(&f.ty), attrs.join(" ")],
                            f.trailing_comment.as_deref(),
                        );
                    }
                    BlockItem::EnumValue(v) => {
                        table.doc(&v.doc);
                        let attrs: Vec<String> = sorted(&v.attributes).map(attribute).collect();
                        table.row(
                            vec![v.name.name.to_string(), attrs.join(" ")],
                            v.trailing_comment.as_deref(),
                        );
                    }
                    BlockItem::Property(p) => table.row(
                        vec![p.key.name.to_string(), format!("= {}", expr(&p.value))],
                        p.trailing_comment.as_deref(),
                    ),
                    BlockItem::Invalid(inv) => table.rows.push(Row::Interleaved(inv.text.clone())),
                    _ => {}
                }
            }
        }
        after_blank = false;
    }
    table.render(INDENT, out);
    if !attributes.is_empty() {
        let mut t = Table::default();
        t.empty_row();
        attributes.sort_by_key(|(_, a)| sort_index(a));
        for (comments, a) in attributes {
            for c in comments {
                t.comment(c);
            }
            t.row(vec![attribute(a)], a.trailing_comment.as_deref());
        }
        t.render(INDENT, out);
    }
    out.push_str("}\n");
}

/// An empty line ends the current column layout.
fn new_section(table: &mut Table, out: &mut String) {
    table.render(INDENT, out);
    table.empty_row();
}

fn sort_index(a: &Attribute) -> usize {
    let name = a.name();
    ATTRIBUTE_ORDER
        .iter()
        .position(|p| *p == name)
        .unwrap_or(usize::MAX)
}

/// Attributes in canonical order (stable for the others).
fn sorted(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    let mut v: Vec<&Attribute> = attrs.iter().collect();
    v.sort_by_key(|a| sort_index(a));
    v.into_iter()
}

/// `Type`, `Type?`, `Type[]`, `Unsupported("x")?`.
pub(crate) fn field_type(t: &FieldType) -> String {
    let mut s = match &t.unsupported {
        Some(u) => format!("Unsupported({})", string(u)),
        None => t.name.name.to_string(),
    };
    match t.arity {
        Arity::Required => {}
        Arity::Optional => s.push('?'),
        Arity::List => s.push_str("[]"),
    }
    s
}

/// `@name(args)` or `@@name(args)`.
pub(crate) fn attribute(a: &Attribute) -> String {
    let mut s = String::from(if a.block { "@@" } else { "@" });
    s.push_str(&a.name());
    if let Some(args) = &a.args {
        s.push_str(&arguments(args));
    }
    s
}

fn arguments(args: &[Argument]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| match &a.name {
            Some(n) => format!("{}: {}", n.name, expr(&a.value)),
            None => expr(&a.value),
        })
        .collect();
    format!("({})", parts.join(", "))
}

/// An expression as Prisma text.
pub(crate) fn expr(e: &Expr) -> String {
    match e {
        Expr::String(s) => string(s),
        Expr::Number(n, _) | Expr::Const(n, _) => n.to_string(),
        Expr::Array(items, _) => {
            let parts: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", parts.join(", "))
        }
        Expr::Call { name, args, .. } => format!("{}{}", name.name, arguments(args)),
    }
}

/// A string literal: as written when parsed, JSON-escaped when built by code.
fn string(s: &StringLit) -> String {
    if let Some(raw) = &s.raw {
        return raw.to_string();
    }
    let mut out = String::with_capacity(s.value.len() + 2);
    out.push('"');
    for c in s.value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::source::FileId;

    fn fmt(text: &str) -> String {
        let mut d = Diagnostics::new();
        let f = crate::prisma::parser::parse(text, FileId(0), &mut d);
        render(&f)
    }

    #[test]
    fn aligns_fields_and_orders_attributes() {
        let got = fmt("model Post {\n    id Int @default(autoincrement()) @id\n  published Boolean  @map(\"_p\") @default(false) // c\n}\n");
        assert_eq!(
            got,
            "model Post {\n  id        Int     @id @default(autoincrement())\n  published Boolean @default(false) @map(\"_p\") // c\n}\n"
        );
    }

    #[test]
    fn block_attributes_go_last_with_their_comments() {
        let got =
            fmt("model A {\n  id Int\n\n  // keep\n  @@map(\"a\")\n\n  @@id([id])\n  x Int\n}\n");
        assert_eq!(
            got,
            "model A {\n  id Int\n  x  Int\n\n  @@id([id])\n  // keep\n  @@map(\"a\")\n}\n"
        );
    }

    #[test]
    fn blank_lines_start_new_sections_and_blocks_are_separated() {
        let got = fmt("generator g {\n  provider = \"x\"\n\n  longerKey = 1\n  k = [\"a\", \"b\"]\n}\nenum E {\n  A @map(\"a\")\n  BB\n}\n");
        assert_eq!(
            got,
            "generator g {\n  provider = \"x\"\n\n  longerKey = 1\n  k         = [\"a\", \"b\"]\n}\n\nenum E {\n  A  @map(\"a\")\n  BB\n}\n"
        );
    }

    #[test]
    fn block_comments_are_canonised() {
        assert_eq!(fmt("/* Types */\n"), "/**\n * Types\n */\n");
    }

    #[test]
    fn code_built_trees_render() {
        let mut b = Block::new(BlockKind::View, "IdpUser");
        b.doc.push("A user".into());
        let mut id = Field::new("id", FieldType::new("String", Arity::Required));
        id.attributes.push(Attribute::new("unique", false, None));
        id.attributes.push(Attribute::new(
            "db.VarChar",
            false,
            Some(vec![Argument::positional(Expr::Number(
                "64".into(),
                Default::default(),
            ))]),
        ));
        b.items.push(BlockItem::Field(id));
        b.items
            .push(BlockItem::Comment(Comment::line("PRODUCT_RELATIONS_START")));
        b.items
            .push(BlockItem::Comment(Comment::line("PRODUCT_RELATIONS_END")));
        // without this blank line the markers would move with `@@schema`
        // (comments right before a block attribute belong to it, as in
        // `prisma format`)
        b.items.push(BlockItem::Blank);
        b.items.push(BlockItem::Attribute(Attribute::new(
            "schema",
            true,
            Some(vec![Argument::positional(Expr::string("idp_\"views"))]),
        )));
        let file = SchemaFile {
            file: FileId(0),
            items: vec![TopItem::Block(b)],
        };
        assert_eq!(
            render(&file),
            "/// A user\nview IdpUser {\n  id String @unique @db.VarChar(64)\n  // PRODUCT_RELATIONS_START\n  // PRODUCT_RELATIONS_END\n\n  @@schema(\"idp_\\\"views\")\n}\n"
        );
    }
}
