//! The syntax tree of one Prisma schema file.
//!
//! Every node carries a [`Span`] (byte offsets into its file). Nodes built by
//! code (e.g. the generator's `view` blocks) use `Span::default()`; the
//! renderer ([`super::render`]) does not need spans.
//!
//! The tree keeps what a faithful re-rendering needs: free comments, doc
//! comments (`///`), trailing comments and blank lines.

use crate::diagnostics::Span;
use crate::source::FileId;

pub use super::name::Name;

/// A name as written, with its span. Dotted paths are `Vec<Ident>`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

impl Ident {
    /// An identifier without a source position (for code-built trees).
    pub fn new(name: impl Into<Name>) -> Self {
        Ident {
            name: name.into(),
            span: Span::default(),
        }
    }
}

/// One parsed file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SchemaFile {
    pub file: FileId,
    pub items: Vec<TopItem>,
}

impl SchemaFile {
    /// The blocks of the file, in source order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.items.iter().filter_map(|i| match i {
            TopItem::Block(b) => Some(b),
            _ => None,
        })
    }
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopItem {
    /// `model`, `view`, `enum`, `type`, `datasource` or `generator` block.
    Block(Block),
    /// `type Name = Type @attrs` (a type alias; Prisma parses but rejects it).
    TypeAlias(TypeAlias),
    /// A free `//` or `/* */` comment (a `///` comment not followed by a
    /// block is kept here too).
    Comment(Comment),
    /// One or more empty lines between items (rendered as one empty line).
    Blank,
    /// Text the parser could not make sense of, kept verbatim (an error was reported).
    Invalid(Invalid),
}

/// Kind of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockKind {
    Model,
    View,
    Enum,
    /// `type` (composite type).
    Type,
    Datasource,
    Generator,
}

impl BlockKind {
    /// The keyword that opens the block.
    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Model => "model",
            BlockKind::View => "view",
            BlockKind::Enum => "enum",
            BlockKind::Type => "type",
            BlockKind::Datasource => "datasource",
            BlockKind::Generator => "generator",
        }
    }

    /// The block kind opened by a keyword.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "model" => BlockKind::Model,
            "view" => BlockKind::View,
            "enum" => BlockKind::Enum,
            "type" => BlockKind::Type,
            "datasource" => BlockKind::Datasource,
            "generator" => BlockKind::Generator,
            _ => return None,
        })
    }
}

/// `kind name { items }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub name: Ident,
    /// The `///` lines before the block, without the `///` (and without one
    /// following space).
    pub doc: Vec<String>,
    pub items: Vec<BlockItem>,
    pub span: Span,
}

impl Block {
    /// An empty block built by code.
    pub fn new(kind: BlockKind, name: impl Into<Name>) -> Self {
        Block {
            kind,
            name: Ident::new(name),
            doc: Vec::new(),
            items: Vec::new(),
            span: Span::default(),
        }
    }

    /// The fields of the block, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.items.iter().filter_map(|i| match i {
            BlockItem::Field(f) => Some(f),
            _ => None,
        })
    }

    /// The block attributes (`@@...`), in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.items.iter().filter_map(|i| match i {
            BlockItem::Attribute(a) => Some(a),
            _ => None,
        })
    }
}

/// One line (or entry) inside a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockItem {
    Field(Field),
    /// A block attribute `@@name(...)`.
    Attribute(Attribute),
    /// `key = value` in a datasource or generator.
    Property(Property),
    EnumValue(EnumValue),
    /// A `//` (or `/* */`, or dangling `///`) comment on its own line.
    ///
    /// Like `prisma format`, the renderer moves a run of comments that is
    /// directly followed by a block attribute (`@@...`) together with that
    /// attribute, after the fields. Comments meant to stay among the fields
    /// (e.g. the `PRODUCT_RELATIONS_*` markers) need a [`BlockItem::Blank`]
    /// (or a field) between them and the block attributes.
    Comment(Comment),
    /// An empty line.
    Blank,
    /// A line the parser could not read, kept verbatim (an error was reported).
    Invalid(Invalid),
}

/// A comment, with its delimiters, exactly as written (`// text`, `/* text */`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

impl Comment {
    /// A `// text` line comment built by code.
    pub fn line(text: &str) -> Self {
        Comment {
            text: format!("// {text}"),
            span: Span::default(),
        }
    }

    /// Whether this is a `/* ... */` comment.
    pub fn is_block(&self) -> bool {
        self.text.starts_with("/*")
    }

    /// The comment's text without `//` / `/* */` and surrounding spaces.
    pub fn content(&self) -> &str {
        let t = self.text.as_str();
        let t = if let Some(inner) = t.strip_prefix("/*") {
            inner.strip_suffix("*/").unwrap_or(inner)
        } else {
            t.trim_start_matches('/')
        };
        t.trim()
    }
}

/// Source text kept verbatim because it did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub text: String,
    pub span: Span,
}

/// Arity of a field type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Arity {
    #[default]
    Required,
    /// `Type?`
    Optional,
    /// `Type[]`
    List,
}

/// `Type`, `Type?`, `Type[]` or `Unsupported("...")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldType {
    /// The type name (`Unsupported` for unsupported types).
    pub name: Ident,
    pub arity: Arity,
    /// The argument of `Unsupported("...")`.
    pub unsupported: Option<StringLit>,
    pub span: Span,
}

impl FieldType {
    /// A plain type built by code.
    pub fn new(name: impl Into<Name>, arity: Arity) -> Self {
        FieldType {
            name: Ident::new(name),
            arity,
            unsupported: None,
            span: Span::default(),
        }
    }
}

/// `name Type @attr...` inside a model, view or composite type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: Ident,
    pub ty: FieldType,
    pub attributes: Vec<Attribute>,
    /// The `///` lines before the field, without `///`.
    pub doc: Vec<String>,
    /// A `// ...` (or `/* */`) comment after the field on the same line, with delimiters.
    pub trailing_comment: Option<Name>,
    pub span: Span,
}

impl Field {
    /// A field built by code.
    pub fn new(name: impl Into<Name>, ty: FieldType) -> Self {
        Field {
            name: Ident::new(name),
            ty,
            attributes: Vec::new(),
            doc: Vec::new(),
            trailing_comment: None,
            span: Span::default(),
        }
    }

    /// The first attribute with this (dotted) path, e.g. `attribute("map")`,
    /// `attribute("db.VarChar")`.
    pub fn attribute(&self, path: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.path_is(path))
    }
}

/// `@path(args)` on a field or `@@path(args)` on a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// `["db", "VarChar"]` for `@db.VarChar`, `["map"]` for `@map`.
    pub path: AttrPath,
    /// `@@` (block attribute) rather than `@`.
    pub block: bool,
    /// `None` without parentheses, `Some(vec![])` for `()`.
    pub args: Option<Vec<Argument>>,
    /// A comment after a block attribute on the same line, with delimiters.
    pub trailing_comment: Option<String>,
    pub span: Span,
}

impl Attribute {
    /// An attribute built by code: `path` is dotted (`"db.VarChar"`).
    pub fn new(path: &str, block: bool, args: Option<Vec<Argument>>) -> Self {
        Attribute {
            path: path.split('.').map(Ident::new).collect(),
            block,
            args,
            trailing_comment: None,
            span: Span::default(),
        }
    }

    /// The dotted path, borrowed when it has one part (no allocation in
    /// the common case).
    pub fn path_str(&self) -> std::borrow::Cow<'_, str> {
        if let [single] = self.path.as_slice() {
            return std::borrow::Cow::Borrowed(single.name.as_str());
        }
        std::borrow::Cow::Owned(self.name())
    }

    /// The dotted path as one string (`db.VarChar`).
    pub fn name(&self) -> String {
        let mut s = String::new();
        for (i, p) in self.path.iter().enumerate() {
            if i > 0 {
                s.push('.');
            }
            s.push_str(&p.name);
        }
        s
    }

    /// Whether the dotted path equals `path`.
    pub fn path_is(&self, path: &str) -> bool {
        let mut parts = path.split('.');
        self.path
            .iter()
            .all(|p| parts.next() == Some(p.name.as_str()))
            && parts.next().is_none()
    }

    /// The arguments (empty without parentheses).
    pub fn args(&self) -> &[Argument] {
        self.args.as_deref().unwrap_or(&[])
    }

    /// The first positional argument, or the named argument `name`.
    pub fn arg(&self, name: &str) -> Option<&Expr> {
        self.args()
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
            .or_else(|| self.args().iter().find(|a| a.name.is_none()))
            .map(|a| &a.value)
    }

    /// The named argument `name` only.
    pub fn named_arg(&self, name: &str) -> Option<&Expr> {
        self.args()
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
            .map(|a| &a.value)
    }
}

/// The dotted path of an [`Attribute`]: a slice of [`Ident`]s that keeps
/// one or two parts (`@map`, `@db.VarChar`) without a heap allocation.
/// Paths compare by their parts, whatever the variant.
#[derive(Clone)]
pub enum AttrPath {
    One(Ident),
    Two([Ident; 2]),
    Many(Vec<Ident>),
}

impl AttrPath {
    /// The parts as a slice.
    pub fn as_slice(&self) -> &[Ident] {
        match self {
            AttrPath::One(i) => std::slice::from_ref(i),
            AttrPath::Two(p) => p,
            AttrPath::Many(v) => v,
        }
    }

    /// The parts as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [Ident] {
        match self {
            AttrPath::One(i) => std::slice::from_mut(i),
            AttrPath::Two(p) => p,
            AttrPath::Many(v) => v,
        }
    }
}

impl PartialEq for AttrPath {
    fn eq(&self, other: &AttrPath) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for AttrPath {}

impl Default for AttrPath {
    fn default() -> Self {
        AttrPath::Many(Vec::new())
    }
}

impl std::ops::Deref for AttrPath {
    type Target = [Ident];
    fn deref(&self) -> &[Ident] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for AttrPath {
    fn deref_mut(&mut self) -> &mut [Ident] {
        self.as_mut_slice()
    }
}

impl std::fmt::Debug for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl From<Vec<Ident>> for AttrPath {
    fn from(mut v: Vec<Ident>) -> Self {
        match v.len() {
            1 => AttrPath::One(v.pop().unwrap_or_default()),
            2 => {
                let b = v.pop().unwrap_or_default();
                let a = v.pop().unwrap_or_default();
                AttrPath::Two([a, b])
            }
            _ => AttrPath::Many(v),
        }
    }
}

impl FromIterator<Ident> for AttrPath {
    fn from_iter<I: IntoIterator<Item = Ident>>(iter: I) -> Self {
        let mut it = iter.into_iter();
        let Some(a) = it.next() else {
            return AttrPath::Many(Vec::new());
        };
        let Some(b) = it.next() else {
            return AttrPath::One(a);
        };
        let Some(c) = it.next() else {
            return AttrPath::Two([a, b]);
        };
        let mut v = vec![a, b, c];
        v.extend(it);
        AttrPath::Many(v)
    }
}

impl<'a> IntoIterator for &'a AttrPath {
    type Item = &'a Ident;
    type IntoIter = std::slice::Iter<'a, Ident>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// `value` or `name: value` in an argument list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

impl Argument {
    /// A positional argument built by code.
    pub fn positional(value: Expr) -> Self {
        Argument {
            name: None,
            value,
            span: Span::default(),
        }
    }

    /// A named argument built by code.
    pub fn named(name: &str, value: Expr) -> Self {
        Argument {
            name: Some(Ident::new(name)),
            value,
            span: Span::default(),
        }
    }
}

/// A string literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringLit {
    /// The unescaped value.
    pub value: Name,
    /// The literal as written, quotes included (`None` for code-built
    /// literals; the renderer then escapes `value`).
    pub raw: Option<Name>,
    pub span: Span,
}

impl StringLit {
    /// A string built by code.
    pub fn new(value: impl Into<Name>) -> Self {
        StringLit {
            value: value.into(),
            raw: None,
            span: Span::default(),
        }
    }
}

/// An expression: an argument or a property value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    String(StringLit),
    /// A number as written (`42`, `-1`, `3.14`).
    Number(Name, Span),
    /// A constant (`Cascade`, `true`, `Desc`), possibly dotted.
    Const(Name, Span),
    /// `[a, b]`
    Array(Vec<Expr>, Span),
    /// `name(args)`: `now()`, `env("X")`, `title(sort: Desc)`.
    Call {
        name: Ident,
        args: Vec<Argument>,
        span: Span,
    },
}

impl Expr {
    /// The span of the expression.
    pub fn span(&self) -> Span {
        match self {
            Expr::String(s) => s.span,
            Expr::Number(_, s) | Expr::Const(_, s) | Expr::Array(_, s) => *s,
            Expr::Call { span, .. } => *span,
        }
    }

    /// A string expression built by code.
    pub fn string(value: impl Into<Name>) -> Self {
        Expr::String(StringLit::new(value))
    }

    /// A constant built by code.
    pub fn constant(name: impl Into<Name>) -> Self {
        Expr::Const(name.into(), Span::default())
    }

    /// An array of constants built by code (`[a, b]`).
    pub fn const_array<S: AsRef<str>>(names: &[S]) -> Self {
        Expr::Array(
            names.iter().map(|n| Expr::constant(n.as_ref())).collect(),
            Span::default(),
        )
    }

    /// The value of a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::String(s) => Some(&s.value),
            _ => None,
        }
    }

    /// The name of a constant.
    pub fn as_const(&self) -> Option<&str> {
        match self {
            Expr::Const(c, _) => Some(c),
            _ => None,
        }
    }

    /// The elements of an array (a single value counts as a one-element list).
    pub fn as_list(&self) -> Vec<&Expr> {
        match self {
            Expr::Array(items, _) => items.iter().collect(),
            other => vec![other],
        }
    }
}

/// `key = value` in a datasource or generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub key: Ident,
    pub value: Expr,
    /// A comment after the property on the same line, with delimiters.
    pub trailing_comment: Option<String>,
    pub span: Span,
}

/// A value of an enum: `NAME @map("x")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub doc: Vec<String>,
    pub trailing_comment: Option<String>,
    pub span: Span,
}

/// `type Name = Type @attrs` at the top level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeAlias {
    pub name: Ident,
    pub ty: FieldType,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_paths_of_any_length() {
        for dotted in ["map", "db.VarChar", "a.b.c"] {
            let a = Attribute::new(dotted, false, None);
            assert_eq!(a.name(), dotted);
            assert_eq!(a.path_str(), dotted);
            assert!(a.path_is(dotted));
            assert!(!a.path_is("db"));
            assert_eq!(a.path.len(), dotted.split('.').count());
            let parts: Vec<Ident> = dotted.split('.').map(Ident::new).collect();
            // the same parts compare equal whatever the representation
            assert_eq!(a.path, AttrPath::Many(parts.clone()));
            assert_eq!(AttrPath::from(parts), a.path);
        }
        assert!(matches!(
            Attribute::new("db.Uuid", false, None).path,
            AttrPath::Two(_)
        ));
        assert_ne!(
            Attribute::new("db.Uuid", false, None).path,
            Attribute::new("db", false, None).path
        );
        let mut p: AttrPath = [Ident::new("x")].into_iter().collect();
        p[0].name = Name::new("y");
        assert_eq!(
            format!("{:?}", p.iter().map(|i| &i.name).collect::<Vec<_>>()),
            "[\"y\"]"
        );
    }
}
