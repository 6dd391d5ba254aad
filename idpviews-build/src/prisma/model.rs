//! The semantic model of a schema: what later stages (generator, merge,
//! macros) work with. Built from the AST by [`super::analyze`].
//!
//! Names are resolved across all files of a schema; every item keeps the
//! spans diagnostics point at.

use crate::diagnostics::Span;
use crate::source::FileId;

pub use super::ast::Arity;
pub use super::name::Name;

/// A whole schema (all files together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// Models, views and composite types, in file then source order;
    /// distinguished by [`Model::kind`].
    pub models: Vec<Model>,
    pub enums: Vec<Enum>,
    pub datasources: Vec<Datasource>,
    pub generators: Vec<Generator>,
}

impl Schema {
    /// The model, view or composite type called `name`.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The enum called `name`.
    pub fn enum_(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// Only the `model` blocks.
    pub fn plain_models(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(|m| m.kind == ModelKind::Model)
    }

    /// The same schema with every span and file id reset, so that two
    /// schemas can be compared by content (e.g. before and after a render).
    pub fn without_spans(&self) -> Schema {
        let z = Span::default();
        let mut s = self.clone();
        for m in &mut s.models {
            (m.name_span, m.span, m.file) = (z, z, FileId::default());
            if let Some(sc) = &mut m.schema {
                sc.1 = z;
            }
            for f in &mut m.fields {
                (f.name_span, f.span, f.type_span) = (z, z, z);
                if let Some(n) = &mut f.native_type {
                    n.span = z;
                }
                if let Some(r) = &mut f.relation {
                    r.span = z;
                }
            }
        }
        for e in &mut s.enums {
            (e.name_span, e.span, e.file) = (z, z, FileId::default());
            if let Some(sc) = &mut e.schema {
                sc.1 = z;
            }
            for v in &mut e.values {
                v.span = z;
            }
        }
        for d in &mut s.datasources {
            d.span = z;
            for sc in d.schemas.iter_mut().flatten() {
                sc.1 = z;
            }
        }
        for g in &mut s.generators {
            g.span = z;
        }
        s
    }

    /// The field on the other side of relation field `field` of `model`:
    /// the field of the target model whose type is `model` and whose
    /// relation name matches (for a self-relation, another field).
    pub fn opposite_field(&self, model: &Model, field: &Field) -> Option<&Field> {
        if !field.is_relation() {
            return None;
        }
        let target = self.model(&field.type_name)?;
        let name = field.relation.as_ref().and_then(|r| r.name.as_deref());
        target.fields.iter().find(|g| {
            g.type_name == model.name
                && g.is_relation()
                && !(target.name == model.name && g.name == field.name)
                && g.relation.as_ref().and_then(|r| r.name.as_deref()) == name
        })
    }

    /// Only the `view` blocks.
    pub fn views(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(|m| m.kind == ModelKind::View)
    }
}

/// What kind of block a [`Model`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    Model,
    View,
    /// A `type` block (composite type).
    Composite,
}

/// A `model`, `view` or `type` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub kind: ModelKind,
    pub name: Name,
    pub name_span: Span,
    pub span: Span,
    /// The `///` doc comment, lines joined with `\n`.
    pub doc: Option<String>,
    pub fields: Vec<Field>,
    /// `@@schema("name")`.
    pub schema: Option<(String, Span)>,
    /// Database table/view name: `@@map` or the model name.
    pub db_name: Name,
    /// Field names of `@id` or `@@id` (empty when there is none).
    pub id: Vec<String>,
    /// Field-name sets of each `@unique` and `@@unique`.
    pub uniques: Vec<Vec<String>>,
    /// `@@ignore`.
    pub ignored: bool,
    pub file: FileId,
}

impl Model {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The block keyword (`model`, `view`, `type`).
    pub fn keyword(&self) -> &'static str {
        match self.kind {
            ModelKind::Model => "model",
            ModelKind::View => "view",
            ModelKind::Composite => "type",
        }
    }

    /// Whether `fields` (in any order) is the id or one of the unique sets.
    pub fn is_unique_set(&self, fields: &[String]) -> bool {
        let same =
            |set: &Vec<String>| set.len() == fields.len() && fields.iter().all(|f| set.contains(f));
        (!self.id.is_empty() && same(&self.id)) || self.uniques.iter().any(same)
    }
}

/// A Prisma scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarType {
    String,
    Boolean,
    Int,
    BigInt,
    Float,
    Decimal,
    DateTime,
    Json,
    Bytes,
}

impl ScalarType {
    /// All scalar types.
    pub const ALL: [ScalarType; 9] = [
        ScalarType::String,
        ScalarType::Boolean,
        ScalarType::Int,
        ScalarType::BigInt,
        ScalarType::Float,
        ScalarType::Decimal,
        ScalarType::DateTime,
        ScalarType::Json,
        ScalarType::Bytes,
    ];

    /// The Prisma name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::String => "String",
            ScalarType::Boolean => "Boolean",
            ScalarType::Int => "Int",
            ScalarType::BigInt => "BigInt",
            ScalarType::Float => "Float",
            ScalarType::Decimal => "Decimal",
            ScalarType::DateTime => "DateTime",
            ScalarType::Json => "Json",
            ScalarType::Bytes => "Bytes",
        }
    }

    /// The scalar type with this Prisma name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "String" => ScalarType::String,
            "Boolean" => ScalarType::Boolean,
            "Int" => ScalarType::Int,
            "BigInt" => ScalarType::BigInt,
            "Float" => ScalarType::Float,
            "Decimal" => ScalarType::Decimal,
            "DateTime" => ScalarType::DateTime,
            "Json" => ScalarType::Json,
            "Bytes" => ScalarType::Bytes,
            _ => return None,
        })
    }
}

/// What a field's type resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Scalar(ScalarType),
    Enum,
    /// A relation to a `model`.
    Model,
    /// A relation to a `view`.
    View,
    Composite,
    /// `Unsupported("db type")`.
    Unsupported(String),
    /// The type name did not resolve (an error was reported).
    Unknown,
}

/// A native database type: `@db.VarChar(64)` -> `VarChar`, `["64"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeType {
    pub name: Name,
    /// The arguments as written (strings unquoted).
    pub args: Vec<Name>,
    pub span: Span,
}

/// `@relation(name?, fields: [...], references: [...])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub name: Option<String>,
    pub fields: Vec<String>,
    pub references: Vec<String>,
    pub span: Span,
}

/// A field of a model, view or composite type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: Name,
    pub name_span: Span,
    pub span: Span,
    /// The `///` doc comment, lines joined with `\n`.
    pub doc: Option<String>,
    /// The type name as written (`String`, `User`, `Unsupported`).
    pub type_name: Name,
    pub type_span: Span,
    pub kind: FieldKind,
    pub arity: Arity,
    /// Database column name: `@map` or the field name.
    pub column: Name,
    /// `@db.*`.
    pub native_type: Option<NativeType>,
    /// `@id` on the field, or part of `@@id`.
    pub is_id: bool,
    /// `@unique` on the field.
    pub is_unique: bool,
    /// `@default(...)`.
    pub has_default: bool,
    /// `@updatedAt`.
    pub updated_at: bool,
    /// `@ignore`.
    pub ignored: bool,
    /// `@relation(...)` (only with at least one argument).
    pub relation: Option<Relation>,
}

impl Field {
    /// The scalar type, if the field is a scalar.
    pub fn scalar(&self) -> Option<ScalarType> {
        match self.kind {
            FieldKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the field is a relation (to a model or a view).
    pub fn is_relation(&self) -> bool {
        matches!(self.kind, FieldKind::Model | FieldKind::View)
    }

    /// Whether the field may hold NULL in the database (`?`).
    pub fn is_optional(&self) -> bool {
        self.arity == Arity::Optional
    }

    /// Whether this relation field holds the foreign key
    /// (`@relation(fields: [...], references: [...])`).
    pub fn holds_foreign_key(&self) -> bool {
        self.relation.as_ref().is_some_and(|r| !r.fields.is_empty())
    }

    /// Whether this is a back-relation: a relation field without `fields`
    /// (the other side holds the foreign key).
    pub fn is_back_relation(&self) -> bool {
        self.is_relation() && !self.holds_foreign_key()
    }

    /// Whether the field is a list (`[]`).
    pub fn is_list(&self) -> bool {
        self.arity == Arity::List
    }
}

/// An `enum` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enum {
    pub name: Name,
    pub name_span: Span,
    pub span: Span,
    pub doc: Option<String>,
    pub values: Vec<EnumValue>,
    /// `@@schema("name")`.
    pub schema: Option<(String, Span)>,
    /// Database type name: `@@map` or the enum name.
    pub db_name: Name,
    pub file: FileId,
}

impl Enum {
    /// The value called `name`.
    pub fn value(&self, name: &str) -> Option<&EnumValue> {
        self.values.iter().find(|v| v.name == name)
    }
}

/// A value of an enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub name: Name,
    /// Database label: `@map` or the name.
    pub db_name: Name,
    pub doc: Option<String>,
    pub span: Span,
}

/// A `datasource` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datasource {
    pub name: String,
    /// `provider = "postgresql"`.
    pub provider: Option<String>,
    /// `schemas = ["a", "b"]`, each with its span.
    pub schemas: Option<Vec<(String, Span)>>,
    pub span: Span,
}

/// A `generator` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generator {
    pub name: String,
    pub provider: Option<String>,
    /// `previewFeatures = [...]`.
    pub preview_features: Vec<String>,
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prisma::parse_str;

    #[test]
    fn relations_and_their_opposite_fields() {
        let (_, _, s, d) = parse_str(
            "r.prisma",
            "model User {\n  id    Int    @id\n  posts Post[]\n}\nmodel Post {\n  id     Int  @id\n  userId Int\n  user   User @relation(fields: [userId], references: [id])\n}\n",
        );
        assert!(!d.has_errors(), "{d:?}");
        let (user, post) = (s.model("User").unwrap(), s.model("Post").unwrap());
        let posts = user.field("posts").unwrap();
        let fk = post.field("user").unwrap();
        assert!(posts.is_back_relation() && !fk.is_back_relation() && fk.holds_foreign_key());
        assert_eq!(
            s.opposite_field(user, posts).map(|f| f.name.as_str()),
            Some("user")
        );
        assert_eq!(
            s.opposite_field(post, fk).map(|f| f.name.as_str()),
            Some("posts")
        );
        assert_eq!(s.opposite_field(post, post.field("id").unwrap()), None);
    }

    #[test]
    fn scalar_names_round_trip() {
        for s in ScalarType::ALL {
            assert_eq!(ScalarType::from_name(s.name()), Some(s));
        }
        assert_eq!(ScalarType::from_name("string"), None);
    }

    #[test]
    fn lookups_and_span_free_comparison() {
        let text =
            "model A {\n  id Int @id\n  x  Int @unique\n}\n\nview V {\n  id Int @unique\n}\n";
        let (_, _, a, d) = parse_str("a.prisma", text);
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(a.plain_models().count(), 1);
        assert_eq!(a.views().count(), 1);
        let m = a.model("A").unwrap();
        assert!(m.is_unique_set(&["x".to_string()]));
        assert!(m.is_unique_set(&["id".to_string()]));
        assert!(!m.is_unique_set(&["id".to_string(), "x".to_string()]));
        assert!(m.field("x").unwrap().scalar() == Some(ScalarType::Int));
        assert!(!m.field("x").unwrap().is_back_relation());
        // the same schema written differently: equal without spans only
        let (_, _, b, _) = parse_str("b.prisma", &text.replace("\n\n", "\n\n\n\n"));
        assert_ne!(a, b);
        assert_eq!(a.without_spans(), b.without_spans());
    }
}
