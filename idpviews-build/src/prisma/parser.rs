//! The parser: tokens to [`ast::SchemaFile`], following Prisma's grammar
//! (`datamodel.pest` in prisma-engines) plus Prisma 7's `/* */` comments.
//!
//! Errors are collected and parsing continues: a line it cannot read inside
//! a block is reported and kept verbatim (psl's `CATCH_ALL`). Argument
//! nesting is limited to [`MAX_DEPTH`], every loop consumes input, so the
//! parser never panics, never overflows the stack and stays linear.

use super::ast::*;
use super::lexer::{unescape, Lexer, Token, TokenKind};
use crate::diagnostics::{Diagnostics, Span};
use crate::source::FileId;

/// Deepest nesting of arrays / function calls in arguments.
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses one file's text.
pub(crate) fn parse(text: &str, file: FileId, diags: &mut Diagnostics) -> SchemaFile {
    let mut p = Parser {
        lex: Lexer::new(text),
        file,
        diags,
        scratch: Scratch::default(),
    };
    let items = p.top_items();
    SchemaFile { file, items }
}

struct Parser<'a, 'd> {
    lex: Lexer<'a>,
    file: FileId,
    diags: &'d mut Diagnostics,
    /// Reused buffers, so that the vectors in the tree are allocated at
    /// their exact size (a schema has tens of thousands of them).
    scratch: Scratch,
}

/// Buffers reused while parsing; nested argument lists and arrays take
/// one buffer per nesting depth.
#[derive(Default)]
struct Scratch {
    path: Vec<Ident>,
    /// The items of the block being parsed (blocks do not nest).
    items: Vec<BlockItem>,
    attributes: Vec<Attribute>,
    args: Vec<Vec<Argument>>,
    exprs: Vec<Vec<Expr>>,
}

/// Moves the contents of a scratch buffer into an exactly sized vector.
fn exact<T>(buf: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(buf.len());
    out.append(buf);
    out
}

/// `///` lines waiting for the item they document.
#[derive(Default)]
struct PendingDoc {
    lines: Vec<String>,
    comments: Vec<Comment>,
}

impl PendingDoc {
    fn push(&mut self, text: &str, span: Span) {
        let body = text.strip_prefix("///").unwrap_or(text);
        let body = body.strip_prefix(' ').unwrap_or(body);
        self.lines.push(body.trim_end().to_string());
        self.comments.push(Comment {
            text: text.trim_end().to_string(),
            span,
        });
    }

    fn take_doc(&mut self) -> Vec<String> {
        self.comments.clear();
        std::mem::take(&mut self.lines)
    }

    /// The pending lines as plain comments (nothing to document followed).
    fn take_comments(&mut self) -> Vec<Comment> {
        self.lines.clear();
        std::mem::take(&mut self.comments)
    }
}

impl<'a, 'd> Parser<'a, 'd> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn tspan(&self, t: Token) -> Span {
        self.span(t.start, t.end)
    }

    fn text(&self, t: Token) -> &'a str {
        self.lex.slice(t)
    }

    fn peek_kind(&mut self) -> TokenKind {
        self.lex.peek().kind
    }

    /// Counts a run of newlines; returns how many were consumed.
    fn eat_newlines(&mut self) -> usize {
        let mut n = 0;
        while self.lex.eat(TokenKind::Newline).is_some() {
            n += 1;
        }
        n
    }

    /// Reports and skips the rest of the current line, returning it verbatim.
    fn catch_all(&mut self, message: &str, help: &str) -> Invalid {
        let (start, end) = self.lex.skip_line();
        let span = self.span(start, end);
        let text = self.lex.text()[start..end].trim_end().to_string();
        self.diags
            .error(span, message)
            .label("not understood")
            .help(help);
        Invalid { text, span }
    }

    // ------------------------------------------------------------------
    // top level

    fn top_items(&mut self) -> Vec<TopItem> {
        let mut items = Vec::new();
        let mut doc = PendingDoc::default();
        let mut at_line_start = true;
        loop {
            let t = self.lex.peek();
            match t.kind {
                TokenKind::Eof => break,
                TokenKind::Newline => {
                    let n = self.eat_newlines();
                    let blank = if at_line_start { n >= 1 } else { n >= 2 };
                    if blank {
                        flush_doc(&mut doc, &mut items);
                        if !matches!(items.last(), Some(TopItem::Blank) | None) {
                            items.push(TopItem::Blank);
                        }
                    }
                    at_line_start = true;
                    continue;
                }
                TokenKind::DocComment => {
                    self.lex.next_token();
                    doc.push(self.text(t), self.tspan(t));
                }
                TokenKind::LineComment | TokenKind::BlockComment => {
                    self.lex.next_token();
                    flush_doc(&mut doc, &mut items);
                    items.push(TopItem::Comment(Comment {
                        text: self.text(t).trim_end().to_string(),
                        span: self.tspan(t),
                    }));
                }
                TokenKind::UnterminatedBlockComment => {
                    self.lex.next_token();
                    self.unterminated_comment(t);
                    flush_doc(&mut doc, &mut items);
                    items.push(TopItem::Comment(Comment {
                        text: self.text(t).trim_end().to_string(),
                        span: self.tspan(t),
                    }));
                }
                TokenKind::Ident => {
                    let item = self.top_declaration(&mut doc);
                    flush_doc(&mut doc, &mut items);
                    items.push(item);
                }
                _ => {
                    flush_doc(&mut doc, &mut items);
                    let inv = self.catch_all(
                        "unexpected text at the top level",
                        "a schema holds `model`, `view`, `enum`, `type`, `datasource` and `generator` blocks, and comments",
                    );
                    items.push(TopItem::Invalid(inv));
                }
            }
            at_line_start = false;
        }
        flush_doc(&mut doc, &mut items);
        while matches!(items.last(), Some(TopItem::Blank)) {
            items.pop();
        }
        items
    }

    /// A declaration starting with an identifier.
    fn top_declaration(&mut self, doc: &mut PendingDoc) -> TopItem {
        let kw = self.lex.next_token();
        let word = self.text(kw);
        let kind = BlockKind::from_keyword(word);
        let name_tok = self.lex.peek();
        if let Some(kind) = kind {
            if name_tok.kind == TokenKind::Ident || name_tok.kind == TokenKind::Number {
                self.lex.next_token();
                let name = Ident {
                    name: self.text(name_tok).into(),
                    span: self.tspan(name_tok),
                };
                if kind == BlockKind::Type && self.peek_kind() == TokenKind::Equals {
                    self.lex.next_token();
                    return self.type_alias(kw, name);
                }
                if self.peek_kind() == TokenKind::LBrace {
                    let open = self.lex.next_token();
                    return TopItem::Block(self.block(kind, name, doc.take_doc(), kw, open));
                }
                let inv = self.catch_all_from(
                    kw.start,
                    &format!("expected `{{` after `{word} {}`", name.name),
                    "a block looks like `model Name {` followed by one item per line and `}`",
                );
                return TopItem::Invalid(inv);
            }
            let inv = self.catch_all_from(
                kw.start,
                &format!("expected a name after `{word}`"),
                "a block looks like `model Name {` followed by one item per line and `}`",
            );
            return TopItem::Invalid(inv);
        }
        // `something {` without a keyword: psl's arbitrary_block
        let mut n = self.lex.peek();
        if n.kind == TokenKind::Ident {
            self.lex.next_token();
            n = self.lex.peek();
        }
        if n.kind == TokenKind::LBrace {
            let end = self.lex.skip_past_close_brace();
            let span = self.span(kw.start, end);
            self.diags
                .error(
                    span,
                    "this block is invalid: it does not start with a known Prisma schema keyword",
                )
                .label("unknown block")
                .help("valid keywords are `model`, `view`, `enum`, `type`, `datasource` and `generator`");
            return TopItem::Invalid(Invalid {
                text: self.lex.text()[kw.start..end].to_string(),
                span,
            });
        }
        let inv = self.catch_all_from(
            kw.start,
            &format!("unexpected `{word}` at the top level"),
            "a schema holds `model`, `view`, `enum`, `type`, `datasource` and `generator` blocks, and comments",
        );
        TopItem::Invalid(inv)
    }

    /// Like [`Self::catch_all`] but the reported text starts at `start`
    /// (tokens already consumed on this line).
    fn catch_all_from(&mut self, start: usize, message: &str, help: &str) -> Invalid {
        let (_, end) = self.lex.skip_line();
        let span = self.span(start, end);
        let text = self.lex.text()[start..end].trim_end().to_string();
        self.diags
            .error(span, message)
            .label("not understood")
            .help(help);
        Invalid { text, span }
    }

    fn unterminated_comment(&mut self, t: Token) {
        let span = self.span(t.start, t.start + 2);
        self.diags
            .error(span, "unterminated block comment")
            .label("this `/*` is never closed")
            .help("close the comment with `*/`");
    }

    fn type_alias(&mut self, kw: Token, name: Ident) -> TopItem {
        let ty = match self.field_type() {
            Some(ty) => ty,
            None => {
                return TopItem::Invalid(self.catch_all_from(
                    kw.start,
                    "expected a type after `=` in a type alias",
                    "write `type Name = String @attributes`",
                ))
            }
        };
        let Some(attributes) = self.field_attributes() else {
            return TopItem::Invalid(self.skip_reported_line(kw.start));
        };
        let end = self.lex.offset();
        let span = self.span(kw.start, end);
        if !matches!(self.peek_kind(), TokenKind::Newline | TokenKind::Eof) {
            self.catch_all("unexpected text after the type alias", "remove it");
        }
        self.diags
            .error(span, "type aliases are not supported")
            .label("type alias")
            .help("use the type and its attributes directly on each field");
        TopItem::TypeAlias(TypeAlias {
            name,
            ty,
            attributes,
            span,
        })
    }

    // ------------------------------------------------------------------
    // blocks

    fn block(
        &mut self,
        kind: BlockKind,
        name: Ident,
        doc: Vec<String>,
        kw: Token,
        open: Token,
    ) -> Block {
        let mut items = std::mem::take(&mut self.scratch.items);
        items.clear();
        // the rest of the `{` line: psl ignores it; we accept `}` (an empty
        // block) and a comment, and report anything else
        let mut closed_at = None;
        match self.peek_kind() {
            TokenKind::RBrace => {
                let t = self.lex.next_token();
                closed_at = Some(t.end);
            }
            TokenKind::LineComment | TokenKind::BlockComment | TokenKind::DocComment => {
                let t = self.lex.next_token();
                items.push(BlockItem::Comment(Comment {
                    text: self.text(t).trim_end().to_string(),
                    span: self.tspan(t),
                }));
            }
            TokenKind::Newline | TokenKind::Eof => {}
            _ => {
                let inv = self.catch_all(
                    "unexpected text after `{`",
                    "start each field on its own line after the `{` line",
                );
                items.push(BlockItem::Invalid(inv));
            }
        }
        let end = match closed_at {
            Some(end) => end,
            None => self.block_body(kind, &mut items, open),
        };
        let items_exact = exact(&mut items);
        self.scratch.items = items;
        let items = items_exact;
        Block {
            kind,
            name,
            doc,
            items,
            span: self.span(kw.start, end),
        }
    }

    /// Items up to the closing `}`; returns the block's end offset.
    fn block_body(&mut self, kind: BlockKind, items: &mut Vec<BlockItem>, open: Token) -> usize {
        let mut doc = PendingDoc::default();
        // the `{` line's newline
        self.lex.eat(TokenKind::Newline);
        loop {
            let t = self.lex.peek();
            match t.kind {
                TokenKind::Eof => {
                    flush_block_doc(&mut doc, items);
                    self.diags
                        .error(self.tspan(open), "this block is never closed")
                        .label("unclosed `{`")
                        .help("add a `}` on its own line at the end of the block");
                    return t.start;
                }
                TokenKind::RBrace => {
                    self.lex.next_token();
                    flush_block_doc(&mut doc, items);
                    while matches!(items.last(), Some(BlockItem::Blank)) {
                        items.pop();
                    }
                    return t.end;
                }
                TokenKind::Newline => {
                    // a newline at the start of a line: an empty line
                    self.eat_newlines();
                    flush_block_doc(&mut doc, items);
                    if !matches!(items.last(), Some(BlockItem::Blank) | None) {
                        items.push(BlockItem::Blank);
                    }
                    continue;
                }
                TokenKind::DocComment => {
                    self.lex.next_token();
                    doc.push(self.text(t), self.tspan(t));
                }
                TokenKind::LineComment | TokenKind::BlockComment => {
                    self.lex.next_token();
                    flush_block_doc(&mut doc, items);
                    items.push(BlockItem::Comment(Comment {
                        text: self.text(t).trim_end().to_string(),
                        span: self.tspan(t),
                    }));
                    // a block comment may be followed by an item on the same line
                    if t.kind == TokenKind::BlockComment
                        && !matches!(self.peek_kind(), TokenKind::Newline | TokenKind::Eof)
                    {
                        continue;
                    }
                }
                TokenKind::UnterminatedBlockComment => {
                    self.lex.next_token();
                    self.unterminated_comment(t);
                    items.push(BlockItem::Comment(Comment {
                        text: self.text(t).trim_end().to_string(),
                        span: self.tspan(t),
                    }));
                }
                TokenKind::AtAt
                    if kind != BlockKind::Datasource && kind != BlockKind::Generator =>
                {
                    flush_block_doc(&mut doc, items);
                    let attr = self.attribute();
                    match attr {
                        Some(mut a) => {
                            a.trailing_comment = self.trailing_comment();
                            items.push(BlockItem::Attribute(a));
                            self.end_of_line(items, kind);
                        }
                        None => items.push(BlockItem::Invalid(self.skip_reported_line(t.start))),
                    }
                }
                TokenKind::Ident => {
                    let item = match kind {
                        BlockKind::Model | BlockKind::View | BlockKind::Type => {
                            self.field(doc.take_doc())
                        }
                        BlockKind::Enum => self.enum_value(doc.take_doc()),
                        BlockKind::Datasource | BlockKind::Generator => {
                            flush_block_doc(&mut doc, items);
                            self.property()
                        }
                    };
                    let ok = !matches!(item, BlockItem::Invalid(_));
                    items.push(item);
                    if ok {
                        self.end_of_line(items, kind);
                    }
                }
                _ => {
                    flush_block_doc(&mut doc, items);
                    let what = match kind {
                        BlockKind::Model | BlockKind::View | BlockKind::Type => {
                            "a field declaration or a block attribute (`@@...`)"
                        }
                        BlockKind::Enum => "an enum value or a block attribute (`@@...`)",
                        _ => "a `key = value` property",
                    };
                    let inv = self.catch_all(
                        &format!("this line is not a valid {} item", kind.keyword()),
                        &format!("expected {what}, a comment or `}}`"),
                    );
                    items.push(BlockItem::Invalid(inv));
                }
            }
            // after an item (or comment), the line must end
            if let Some(nl) = self.lex.eat(TokenKind::Newline) {
                let _ = nl;
            }
        }
    }

    /// After an item: anything but a newline or EOF makes the whole line
    /// invalid (as psl's grammar does: an item ends with a newline). The
    /// last pushed item is replaced by the verbatim line.
    fn end_of_line(&mut self, items: &mut Vec<BlockItem>, kind: BlockKind) {
        let t = self.lex.peek();
        if matches!(t.kind, TokenKind::Newline | TokenKind::Eof) {
            return;
        }
        let start = match items.last() {
            Some(BlockItem::Field(f)) => f.span.start,
            Some(BlockItem::EnumValue(v)) => v.span.start,
            Some(BlockItem::Property(p)) => p.span.start,
            Some(BlockItem::Attribute(a)) => a.span.start,
            _ => t.start as u32,
        } as usize;
        let help = match kind {
            BlockKind::Model | BlockKind::View | BlockKind::Type => {
                "one item per line: `name Type @attributes // comment` or `@@attribute(...)`"
            }
            BlockKind::Enum => "one value per line: `VALUE @map(\"label\") // comment`",
            _ => "one property per line: `key = value // comment`",
        };
        let found = if t.kind == TokenKind::RBrace {
            "`}` (the closing brace must be on its own line)".to_string()
        } else {
            format!("`{}`", self.text(t).chars().take(40).collect::<String>())
        };
        self.diags
            .error(
                self.tspan(t),
                format!("unexpected {found} at the end of this line"),
            )
            .label("expected the end of the line")
            .help(help);
        let (_, end) = self.lex.skip_line();
        let span = self.span(start, end);
        let text = self.lex.text()[start..end].trim_end().to_string();
        items.pop();
        items.push(BlockItem::Invalid(Invalid { text, span }));
    }

    /// A comment on the same line after an item.
    fn trailing_comment<T: for<'x> From<&'x str>>(&mut self) -> Option<T> {
        let t = self.lex.peek();
        match t.kind {
            TokenKind::LineComment | TokenKind::DocComment | TokenKind::BlockComment => {
                self.lex.next_token();
                Some(self.text(t).trim_end().into())
            }
            TokenKind::UnterminatedBlockComment => {
                self.lex.next_token();
                self.unterminated_comment(t);
                Some(self.text(t).trim_end().into())
            }
            _ => None,
        }
    }

    fn field(&mut self, doc: Vec<String>) -> BlockItem {
        let name_tok = self.lex.next_token();
        let name = Ident {
            name: self.text(name_tok).into(),
            span: self.tspan(name_tok),
        };
        if let Some(colon) = self.lex.eat(TokenKind::Colon) {
            self.diags
                .error(self.tspan(colon), "field declarations do not take a colon")
                .label("remove this `:`")
                .help(format!("write `{} Type`", name.name));
        }
        let ty = match self.peek_kind() {
            TokenKind::Ident | TokenKind::LBracket => self.field_type(),
            _ => None,
        };
        let Some(ty) = ty else {
            return BlockItem::Invalid(self.catch_all_from(
                name_tok.start,
                "this field declaration is invalid: it is missing a type",
                &format!(
                    "write the field as `{} Type`, e.g. `{} String`",
                    name.name, name.name
                ),
            ));
        };
        let Some(attributes) = self.field_attributes() else {
            return BlockItem::Invalid(self.skip_reported_line(name_tok.start));
        };
        let trailing_comment = self.trailing_comment();
        let end = self.lex.offset();
        let span = self.span(name_tok.start, end.max(ty.span.end as usize));
        BlockItem::Field(Field {
            name,
            ty,
            attributes,
            doc,
            trailing_comment,
            span: trim_span(self.lex.text(), span),
        })
    }

    fn field_type(&mut self) -> Option<FieldType> {
        let start_tok = self.lex.peek();
        // legacy `[Type]`
        if start_tok.kind == TokenKind::LBracket {
            self.lex.next_token();
            let name_tok = self.lex.eat(TokenKind::Ident)?;
            let close = self.lex.eat(TokenKind::RBracket)?;
            let name: Name = self.text(name_tok).into();
            let span = self.span(start_tok.start, close.end);
            self.diags
                .error(span, "this list syntax is not supported")
                .label("legacy list type")
                .help(format!("write `{name}[]`"));
            return Some(FieldType {
                name: Ident {
                    name,
                    span: self.tspan(name_tok),
                },
                arity: Arity::List,
                unsupported: None,
                span,
            });
        }
        let name_tok = self.lex.eat(TokenKind::Ident)?;
        let name = Ident {
            name: self.text(name_tok).into(),
            span: self.tspan(name_tok),
        };
        let mut end = name_tok.end;
        let mut unsupported = None;
        if name.name == "Unsupported" && self.peek_kind() == TokenKind::LParen {
            self.lex.next_token();
            let s = self.lex.peek();
            if s.kind == TokenKind::String {
                self.lex.next_token();
                unsupported = Some(self.string_lit(s));
            } else {
                self.diags
                    .error(self.tspan(s), "`Unsupported` takes a string")
                    .label("expected a string")
                    .help("write `Unsupported(\"database type\")`");
                return None;
            }
            let close = self.lex.eat(TokenKind::RParen)?;
            end = close.end;
        }
        let mut arity = Arity::Required;
        if self.peek_kind() == TokenKind::LBracket {
            let open = self.lex.next_token();
            let Some(close) = self.lex.eat(TokenKind::RBracket) else {
                self.diags
                    .error(self.tspan(open), "expected `]` after `[`")
                    .label("unclosed")
                    .help("a list type is written `Type[]`");
                return None;
            };
            end = close.end;
            arity = Arity::List;
            if let Some(q) = self.lex.eat(TokenKind::Question) {
                end = q.end;
                self.diags
                    .error(
                        self.span(name_tok.start, end),
                        "optional lists are not supported",
                    )
                    .label("`[]?`")
                    .help(format!("use either `{0}[]` or `{0}?`", name.name));
            }
        } else if let Some(q) = self.lex.eat(TokenKind::Question) {
            end = q.end;
            arity = Arity::Optional;
        } else if let Some(b) = self.lex.eat(TokenKind::Bang) {
            end = b.end;
            self.diags
                .error(
                    self.tspan(b),
                    "fields are required by default; `!` is no longer needed",
                )
                .label("remove this `!`")
                .help(format!("write `{}`", name.name));
        }
        Some(FieldType {
            name,
            arity,
            unsupported,
            span: self.span(name_tok.start, end),
        })
    }

    /// `@attr...` until something else; `None` when one of them was
    /// malformed (already reported).
    fn field_attributes(&mut self) -> Option<Vec<Attribute>> {
        let mut buf = std::mem::take(&mut self.scratch.attributes);
        buf.clear();
        let mut ok = true;
        while self.peek_kind() == TokenKind::At {
            match self.attribute() {
                Some(a) => buf.push(a),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let out = exact(&mut buf);
        self.scratch.attributes = buf;
        ok.then_some(out)
    }

    /// Skips the rest of a line whose error was already reported, keeping
    /// it verbatim from `start`.
    fn skip_reported_line(&mut self, start: usize) -> Invalid {
        let (_, end) = self.lex.skip_line();
        let span = self.span(start, end);
        let text = self.lex.text()[start..end].trim_end().to_string();
        Invalid { text, span }
    }

    /// `@path(args)` or `@@path(args)`; the `@`/`@@` is the next token.
    fn attribute(&mut self) -> Option<Attribute> {
        let at = self.lex.next_token();
        let block = at.kind == TokenKind::AtAt;
        let mut path = std::mem::take(&mut self.scratch.path);
        path.clear();
        loop {
            let t = self.lex.peek();
            if t.kind != TokenKind::Ident {
                self.diags
                    .error(self.tspan(t), "expected an attribute name")
                    .label("here")
                    .help(if block {
                        "a block attribute looks like `@@name(arguments)`"
                    } else {
                        "an attribute looks like `@name` or `@name(arguments)`"
                    });
                self.scratch.path = path;
                return None;
            }
            self.lex.next_token();
            path.push(Ident {
                name: self.text(t).into(),
                span: self.tspan(t),
            });
            if self.lex.eat(TokenKind::Dot).is_none() {
                break;
            }
        }
        let mut end = path.last().map_or(at.end, |p| p.span.end as usize);
        let path_exact: AttrPath = path.drain(..).collect();
        self.scratch.path = path;
        let path = path_exact;
        let mut args = None;
        if self.peek_kind() == TokenKind::LParen {
            let (list, close) = self.arguments(0)?;
            end = close;
            args = Some(list);
        }
        Some(Attribute {
            path,
            block,
            args,
            trailing_comment: None,
            span: self.span(at.start, end),
        })
    }

    /// `( arg, name: value, ... )`; the `(` is the next token. Returns the
    /// arguments and the end offset of `)`.
    fn arguments(&mut self, depth: usize) -> Option<(Vec<Argument>, usize)> {
        if self.scratch.args.len() <= depth {
            self.scratch.args.resize_with(depth + 1, Vec::new);
        }
        let mut buf = std::mem::take(&mut self.scratch.args[depth]);
        buf.clear();
        let end = self.arguments_into(depth, &mut buf);
        let out = exact(&mut buf);
        self.scratch.args[depth] = buf;
        end.map(|end| (out, end))
    }

    fn arguments_into(&mut self, depth: usize, args: &mut Vec<Argument>) -> Option<usize> {
        let open = self.lex.next_token();
        if let Some(close) = self.lex.eat(TokenKind::RParen) {
            return Some(close.end);
        }
        loop {
            args.push(self.argument(depth, open)?);
            let t = self.lex.peek();
            match t.kind {
                TokenKind::Comma => {
                    self.lex.next_token();
                    // a trailing comma is accepted
                    if let Some(close) = self.lex.eat(TokenKind::RParen) {
                        return Some(close.end);
                    }
                }
                TokenKind::RParen => {
                    self.lex.next_token();
                    return Some(t.end);
                }
                _ => {
                    self.unexpected_in_args(t, open);
                    return None;
                }
            }
        }
    }

    fn unexpected_in_args(&mut self, t: Token, open: Token) {
        if matches!(t.kind, TokenKind::Newline | TokenKind::Eof) {
            self.diags
                .error(self.tspan(open), "this argument list is never closed")
                .label("unclosed `(`")
                .help("close it with `)` on the same line");
        } else {
            self.diags
                .error(self.tspan(t), "expected `,` or `)` in the argument list")
                .label("unexpected")
                .help("separate arguments with commas and close the list with `)`");
        }
    }

    fn argument(&mut self, depth: usize, open: Token) -> Option<Argument> {
        let t = self.lex.peek();
        if t.kind == TokenKind::Ident {
            // maybe `name: value`
            self.lex.next_token();
            if self.lex.eat(TokenKind::Colon).is_some() {
                let name = Ident {
                    name: self.text(t).into(),
                    span: self.tspan(t),
                };
                if matches!(self.peek_kind(), TokenKind::Comma | TokenKind::RParen) {
                    self.diags
                        .error(
                            self.tspan(t),
                            format!("the argument `{}` has no value", name.name),
                        )
                        .label("empty argument")
                        .help(format!("write `{}: value` or remove it", name.name));
                    return None;
                }
                let value = self.expr_after(None, depth + 1, open)?;
                let span = self.span(t.start, value.span().end as usize);
                return Some(Argument {
                    name: Some(name),
                    value,
                    span,
                });
            }
            let value = self.expr_after(Some(t), depth + 1, open)?;
            return Some(Argument {
                name: None,
                span: value.span(),
                value,
            });
        }
        let value = self.expr_after(None, depth + 1, open)?;
        Some(Argument {
            name: None,
            span: value.span(),
            value,
        })
    }

    /// An expression; `first` is an identifier token already consumed.
    fn expr_after(&mut self, first: Option<Token>, depth: usize, open: Token) -> Option<Expr> {
        if depth > MAX_DEPTH {
            let t = self.lex.peek();
            self.diags
                .error(self.tspan(t), "expression nested too deeply")
                .label(format!("more than {MAX_DEPTH} levels"))
                .help("simplify the nesting of arrays and function calls");
            return None;
        }
        let t = match first {
            Some(t) => t,
            None => self.lex.next_token(),
        };
        match t.kind {
            TokenKind::String => Some(Expr::String(self.string_lit(t))),
            TokenKind::Number => Some(Expr::Number(self.text(t).into(), self.tspan(t))),
            TokenKind::Ident => {
                let word = self.text(t);
                if word.as_bytes()[0].is_ascii_digit() {
                    self.diags
                        .error(self.tspan(t), format!("`{word}` is not a valid number"))
                        .label("invalid number")
                        .help("numbers are written as `42`, `-1` or `3.14` (no exponents)");
                    return None;
                }
                // dotted path
                let mut end = t.end;
                while self.peek_kind() == TokenKind::Dot {
                    self.lex.next_token();
                    let p = self.lex.eat(TokenKind::Ident)?;
                    end = p.end;
                }
                let path = self.lex.text()[t.start..end].into();
                if self.peek_kind() == TokenKind::LParen {
                    let (args, close) = self.arguments(depth)?;
                    return Some(Expr::Call {
                        name: Ident {
                            name: path,
                            span: self.span(t.start, end),
                        },
                        args,
                        span: self.span(t.start, close),
                    });
                }
                Some(Expr::Const(path, self.span(t.start, end)))
            }
            TokenKind::LBracket => {
                if self.scratch.exprs.len() <= depth {
                    self.scratch.exprs.resize_with(depth + 1, Vec::new);
                }
                let mut buf = std::mem::take(&mut self.scratch.exprs[depth]);
                buf.clear();
                let end = self.array_into(t, depth, open, &mut buf);
                let items = exact(&mut buf);
                self.scratch.exprs[depth] = buf;
                end.map(|end| Expr::Array(items, self.span(t.start, end)))
            }
            TokenKind::UnterminatedString => {
                self.diags
                    .error(self.tspan(t), "unterminated string")
                    .label("this string has no closing `\"`")
                    .help("close the string with `\"` on the same line");
                None
            }
            TokenKind::Newline | TokenKind::Eof => {
                // put it back conceptually: report at the opening token
                self.diags
                    .error(self.tspan(open), "this argument list is never closed")
                    .label("unclosed")
                    .help("close it on the same line");
                None
            }
            _ => {
                self.diags
                    .error(self.tspan(t), format!("expected a value, found `{}`", self.text(t)))
                    .label("not a value")
                    .help("a value is a string, a number, a constant, an array `[...]` or a function call `f(...)`");
                None
            }
        }
    }

    /// The elements of an array after its `[` (token `t`); returns the end
    /// offset of `]`.
    fn array_into(
        &mut self,
        t: Token,
        depth: usize,
        open: Token,
        items: &mut Vec<Expr>,
    ) -> Option<usize> {
        loop {
            if let Some(c) = self.lex.eat(TokenKind::RBracket) {
                return Some(c.end);
            }
            let item = self.expr_after(None, depth + 1, open)?;
            items.push(item);
            match self.peek_kind() {
                TokenKind::Comma => {
                    self.lex.next_token();
                }
                TokenKind::RBracket => {}
                _ => {
                    let n = self.lex.peek();
                    if matches!(n.kind, TokenKind::Newline | TokenKind::Eof) {
                        self.diags
                            .error(self.tspan(t), "this array is never closed")
                            .label("unclosed `[`")
                            .help("close it with `]` on the same line");
                    } else {
                        self.diags
                            .error(self.tspan(n), "expected `,` or `]` in the array")
                            .label("unexpected")
                            .help("separate values with commas and close the array with `]`");
                    }
                    return None;
                }
            }
        }
    }

    fn string_lit(&mut self, t: Token) -> StringLit {
        let raw = self.text(t);
        let inner = &raw[1..raw.len() - 1];
        if let Some(off) = inner.bytes().position(|b| b < 0x20) {
            let s = t.start + 1 + off;
            self.diags
                .error(
                    self.span(s, s + 1),
                    "strings cannot contain control characters",
                )
                .label("a raw control character (e.g. a tab)")
                .help("write it as an escape sequence, e.g. `\\t`");
        }
        // plain strings (the vast majority) render back exactly from their
        // value, so only strings with escapes keep their raw text
        if !inner.contains(['\\', '\t']) {
            return StringLit {
                value: inner.into(),
                raw: None,
                span: self.tspan(t),
            };
        }
        let (value, err) = unescape(inner);
        if let Some((off, msg)) = err {
            let s = t.start + 1 + off;
            self.diags
                .error(self.span(s, s + 2), msg)
                .label("in this string")
                .help("valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX");
        }
        StringLit {
            value: value.into(),
            raw: Some(raw.into()),
            span: self.tspan(t),
        }
    }

    fn enum_value(&mut self, doc: Vec<String>) -> BlockItem {
        let t = self.lex.next_token();
        let name = Ident {
            name: self.text(t).into(),
            span: self.tspan(t),
        };
        if !matches!(
            self.peek_kind(),
            TokenKind::At
                | TokenKind::Newline
                | TokenKind::Eof
                | TokenKind::RBrace
                | TokenKind::LineComment
                | TokenKind::DocComment
                | TokenKind::BlockComment
        ) {
            return BlockItem::Invalid(self.catch_all_from(
                t.start,
                "this line is not a valid enum value",
                "write one value per line, e.g. `ADMIN` or `ADMIN @map(\"admin\")`",
            ));
        }
        let Some(attributes) = self.field_attributes() else {
            return BlockItem::Invalid(self.skip_reported_line(t.start));
        };
        let trailing_comment = self.trailing_comment();
        let span = trim_span(self.lex.text(), self.span(t.start, self.lex.offset()));
        BlockItem::EnumValue(EnumValue {
            name,
            attributes,
            doc,
            trailing_comment,
            span,
        })
    }

    fn property(&mut self) -> BlockItem {
        let t = self.lex.next_token();
        let key = Ident {
            name: self.text(t).into(),
            span: self.tspan(t),
        };
        if self.lex.eat(TokenKind::Equals).is_none() {
            return BlockItem::Invalid(self.catch_all_from(
                t.start,
                "this line is not a valid property",
                &format!("write `{} = value`", key.name),
            ));
        }
        let open = t;
        if matches!(self.peek_kind(), TokenKind::Newline | TokenKind::Eof) {
            return BlockItem::Invalid(self.catch_all_from(
                t.start,
                &format!("the property `{}` has no value", key.name),
                &format!("write `{} = value`", key.name),
            ));
        }
        let Some(value) = self.expr_after(None, 1, open) else {
            return BlockItem::Invalid(self.skip_reported_line(t.start));
        };
        let trailing_comment = self.trailing_comment();
        let span = self.span(t.start, value.span().end as usize);
        BlockItem::Property(Property {
            key,
            value,
            trailing_comment,
            span,
        })
    }
}

/// Moves pending `///` lines that document nothing into the top-level items.
fn flush_doc(doc: &mut PendingDoc, items: &mut Vec<TopItem>) {
    items.extend(doc.take_comments().into_iter().map(TopItem::Comment));
}

fn flush_block_doc(doc: &mut PendingDoc, items: &mut Vec<BlockItem>) {
    items.extend(doc.take_comments().into_iter().map(BlockItem::Comment));
}

/// Shrinks a span so it does not end in whitespace.
fn trim_span(text: &str, span: Span) -> Span {
    let r = span.range();
    let Some(s) = text.get(r.clone()) else {
        return span;
    };
    let trimmed = s.trim_end().len();
    Span {
        end: span.start + trimmed as u32,
        ..span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> SchemaFile {
        let mut d = Diagnostics::new();
        let f = parse(text, FileId(0), &mut d);
        assert!(!d.has_errors(), "unexpected errors: {d:?}");
        f
    }

    fn errors(text: &str) -> Vec<String> {
        let mut d = Diagnostics::new();
        parse(text, FileId(0), &mut d);
        d.iter().map(|d| d.message.clone()).collect()
    }

    fn first_block(f: &SchemaFile) -> &Block {
        f.blocks().next().expect("a block")
    }

    #[test]
    fn parses_a_model_with_attributes() {
        let f = parse_ok(
            "/// A user\nmodel User {\n  id String @id @default(uuid()) @db.Uuid\n  /// mail\n  email String? @unique @map(\"e_mail\") // trailing\n  tags String[]\n  @@map(\"users\")\n  @@schema(\"idp\")\n}\n",
        );
        let b = first_block(&f);
        assert_eq!(b.kind, BlockKind::Model);
        assert_eq!(b.doc, ["A user"]);
        let fields: Vec<_> = b.fields().collect();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].attributes.len(), 3);
        assert_eq!(fields[0].attributes[2].name(), "db.Uuid");
        assert_eq!(fields[1].doc, ["mail"]);
        assert_eq!(fields[1].ty.arity, Arity::Optional);
        assert_eq!(fields[1].trailing_comment.as_deref(), Some("// trailing"));
        assert_eq!(
            fields[1]
                .attribute("map")
                .and_then(|a| a.arg("name"))
                .and_then(Expr::as_str),
            Some("e_mail")
        );
        assert_eq!(fields[2].ty.arity, Arity::List);
        assert_eq!(b.attributes().count(), 2);
    }

    #[test]
    fn strings_may_contain_braces_comment_markers_and_at() {
        let f = parse_ok("model A {\n  x String @default(\"} // @ {\")\n}\n");
        let x = first_block(&f).fields().next().unwrap();
        assert_eq!(
            x.attributes[0].arg("value").unwrap().as_str(),
            Some("} // @ {")
        );
    }

    #[test]
    fn named_args_arrays_and_calls() {
        let f = parse_ok(
            "model A {\n  id Int\n  b B @relation(\"n\", fields: [bId], references: [id], onDelete: Cascade)\n  @@index([title(sort: Desc), id], map: \"i\")\n}\n",
        );
        let b = first_block(&f);
        let rel = &b.fields().nth(1).unwrap().attributes[0];
        assert_eq!(rel.args().len(), 4);
        assert_eq!(
            rel.named_arg("onDelete").unwrap().as_const(),
            Some("Cascade")
        );
        let idx = b.attributes().next().unwrap();
        match idx.arg("fields").unwrap() {
            Expr::Array(items, _) => assert!(matches!(items[0], Expr::Call { .. })),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn enums_and_config_blocks() {
        let f = parse_ok(
            "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n  schemas = [\"a\", \"b\"]\n}\nenum Role {\n  ADMIN @map(\"admin\")\n  USER\n  @@map(\"role\")\n}\n",
        );
        let blocks: Vec<_> = f.blocks().collect();
        assert_eq!(blocks[0].items.len(), 3);
        assert!(matches!(blocks[1].items[0], BlockItem::EnumValue(_)));
        assert!(matches!(blocks[1].items[2], BlockItem::Attribute(_)));
    }

    #[test]
    fn block_comments_and_blank_lines_are_kept() {
        let f = parse_ok("/* a\n b */\n\nmodel A {\n  /* c */ id Int\n\n  // d\n  x Int\n}\n");
        assert!(matches!(f.items[0], TopItem::Comment(_)));
        assert!(matches!(f.items[1], TopItem::Blank));
        let b = first_block(&f);
        assert!(matches!(b.items[0], BlockItem::Comment(_)));
        assert!(matches!(b.items[1], BlockItem::Field(_)));
        assert!(matches!(b.items[2], BlockItem::Blank));
        assert!(matches!(b.items[3], BlockItem::Comment(_)));
    }

    #[test]
    fn bad_lines_are_reported_and_parsing_continues() {
        let mut d = Diagnostics::new();
        let f = parse(
            "model A {\n  id Int\n  this is ??? wrong\n  x Int\n}\nmodel B {\n  y Int\n}\n",
            FileId(0),
            &mut d,
        );
        assert_eq!(d.error_count(), 1, "{d:?}");
        let blocks: Vec<_> = f.blocks().collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].fields().count(), 2);
    }

    #[test]
    fn syntax_errors() {
        assert!(!errors("model A {\n  id\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int @default(\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int @default(1e10)\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int\n").is_empty());
        assert!(!errors("foo Bar {\n}\n").is_empty());
        assert!(!errors("model A {\n  x String @default(\"open)\n}\n").is_empty());
        assert!(!errors("model A {\n  x String[]?\n}\n").is_empty());
    }

    #[test]
    fn crlf_tabs_and_non_ascii_names() {
        let f = parse_ok("model Café {\r\n\tid\tInt @id\r\n\tnom String // é\r\n}\r\n");
        let b = first_block(&f);
        assert_eq!(b.name.name, "Café");
        assert_eq!(b.fields().count(), 2);
        assert_eq!(
            b.fields().nth(1).unwrap().trailing_comment.as_deref(),
            Some("// é")
        );
    }

    #[test]
    fn huge_inputs_are_linear_and_do_not_overflow() {
        let braces = "{".repeat(10 * 1024 * 1024);
        let mut d = Diagnostics::new();
        parse(&braces, FileId(0), &mut d);
        assert!(d.has_errors());

        let nested = format!("model A {{\n  x Int @default({}\n}}\n", "[".repeat(100_000));
        let mut d = Diagnostics::new();
        parse(&nested, FileId(0), &mut d);
        assert!(d.iter().any(|d| d.message.contains("nested too deeply")));

        let calls = format!(
            "model A {{\n  x Int @default({})\n}}\n",
            "f(".repeat(100_000)
        );
        let mut d = Diagnostics::new();
        parse(&calls, FileId(0), &mut d);
        assert!(d.has_errors());
    }
}
