//! Semantic analysis: AST of all files -> [`model::Schema`].
//!
//! Resolves type names across files and builds each model, view, enum,
//! datasource and generator, checking on the way: duplicate names, unknown
//! types (with suggestions), attributes and their arguments, `@@id`/
//! `@@unique`/`@@index` field lists. Then [`super::relations`] checks the
//! relations and [`super::checks`] the other Prisma rules we need. It
//! does not try to be every Prisma validation.

use super::ast::{self, Arity, BlockItem, BlockKind, Expr};
use super::model::*;
use crate::diagnostics::{Diagnostics, Span};
use crate::suggest::did_you_mean;
use std::collections::{BTreeMap, BTreeSet};

/// Field attributes we understand (`@db.*` is handled apart).
const FIELD_ATTRIBUTES: &[&str] = &[
    "id",
    "unique",
    "default",
    "updatedAt",
    "ignore",
    "map",
    "relation",
    "shardKey",
];
/// Block attributes we understand.
const BLOCK_ATTRIBUTES: &[&str] = &[
    "id", "unique", "index", "map", "schema", "ignore", "fulltext", "shardKey",
];

/// What a type name can resolve to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Declared {
    Model,
    View,
    Composite,
    Enum,
}

pub(crate) fn analyze(files: &[ast::SchemaFile], diags: &mut Diagnostics) -> Schema {
    let mut a = Analyzer {
        diags,
        names: BTreeMap::new(),
    };
    a.declare(files);
    let mut schema = Schema::default();
    for file in files {
        for block in file.blocks() {
            match block.kind {
                BlockKind::Model | BlockKind::View | BlockKind::Type => {
                    let m = a.model(block, file.file);
                    schema.models.push(m);
                }
                BlockKind::Enum => {
                    let e = a.enum_(block, file.file);
                    schema.enums.push(e);
                }
                BlockKind::Datasource => {
                    let d = a.datasource(block);
                    schema.datasources.push(d);
                }
                BlockKind::Generator => {
                    let g = a.generator(block);
                    schema.generators.push(g);
                }
            }
        }
    }
    super::relations::check(&schema, a.diags);
    super::checks::run(files, &schema, a.diags);
    super::conformance::run(files, a.diags);
    schema
}

struct Analyzer<'d> {
    diags: &'d mut Diagnostics,
    /// Every model/view/type/enum name with what it is.
    names: BTreeMap<Name, Declared>,
}

/// `did_you_mean`, skipping candidates whose length rules them out first,
/// so many unknown names against many candidates stay cheap.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // nobody mistypes a name this long; edit distance is quadratic
    if name.len() > 64 {
        return None;
    }
    let len = name.chars().count();
    let slack = len / 3 + 1;
    did_you_mean(
        name,
        candidates.into_iter().filter(|c| {
            c.len().abs_diff(len) <= slack * 4 && c.chars().count().abs_diff(len) <= slack
        }),
    )
}

/// For each field, whether an earlier field has the same name (sorting
/// instead of a map: no allocation per name).
fn repeated_names(fields: &[&ast::Field]) -> Vec<bool> {
    let mut order: Vec<(&str, usize)> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.name.as_str(), i))
        .collect();
    order.sort_unstable();
    let mut repeated = vec![false; fields.len()];
    for w in order.windows(2) {
        if w[0].0 == w[1].0 {
            repeated[w[1].1] = true;
        }
    }
    repeated
}

fn doc(lines: &[String]) -> Option<String> {
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A constant or string naming a field (`id`, `"id"`, `title(sort: Desc)`).
fn field_ref(e: &Expr) -> Option<(String, Span)> {
    match e {
        Expr::Const(name, span) => Some((name.to_string(), *span)),
        Expr::Call { name, .. } => Some((name.name.to_string(), name.span)),
        _ => None,
    }
}

/// The text of a native type argument.
fn plain(e: &Expr) -> Name {
    match e {
        Expr::String(s) => s.value.clone(),
        Expr::Number(n, _) | Expr::Const(n, _) => n.clone(),
        Expr::Array(items, _) => {
            let parts: Vec<_> = items.iter().map(plain).collect();
            format!("[{}]", parts.join(", ")).into()
        }
        Expr::Call { name, .. } => format!("{}()", name.name).into(),
    }
}

impl Analyzer<'_> {
    /// Registers every declared type name; reports duplicates across files.
    fn declare(&mut self, files: &[ast::SchemaFile]) {
        let mut configs: BTreeMap<(bool, Name), ()> = BTreeMap::new();
        for file in files {
            for block in file.blocks() {
                let name = &block.name.name;
                let declared = match block.kind {
                    BlockKind::Model => Declared::Model,
                    BlockKind::View => Declared::View,
                    BlockKind::Type => Declared::Composite,
                    BlockKind::Enum => Declared::Enum,
                    BlockKind::Datasource | BlockKind::Generator => {
                        let key = (block.kind == BlockKind::Datasource, name.clone());
                        if configs.insert(key, ()).is_some() {
                            self.diags
                                .error(
                                    block.name.span,
                                    format!(
                                        "the {} `{name}` is defined more than once",
                                        block.kind.keyword()
                                    ),
                                )
                                .label("duplicate name")
                                .help("rename or remove one of them");
                        }
                        continue;
                    }
                };
                if ScalarType::from_name(name).is_some() || name == "Unsupported" {
                    self.diags
                        .error(block.name.span, format!("`{name}` is a reserved type name"))
                        .label("reserved")
                        .help("choose another name for this block");
                    continue;
                }
                match self.names.get(name) {
                    Some(prev) => {
                        let what = match prev {
                            Declared::Model => "model",
                            Declared::View => "view",
                            Declared::Composite => "composite type",
                            Declared::Enum => "enum",
                        };
                        self.diags
                            .error(
                                block.name.span,
                                format!(
                                    "the {} `{name}` cannot be defined because a {what} with that name already exists",
                                    block.kind.keyword()
                                ),
                            )
                            .label("duplicate name")
                            .help("names of models, views, types and enums must be unique across all schema files");
                    }
                    None => {
                        self.names.insert(name.clone(), declared);
                    }
                }
            }
        }
    }

    fn string_arg(&mut self, attr: &ast::Attribute, name: &str) -> Option<(Name, Span)> {
        let at = if attr.block { "@@" } else { "@" };
        let attr_name = attr.path_str();
        match attr.arg(name) {
            Some(Expr::String(s)) => Some((s.value.clone(), s.span)),
            Some(other) => {
                self.diags
                    .error(other.span(), format!("`{at}{attr_name}` expects a string"))
                    .label("not a string")
                    .help(format!("write `{at}{attr_name}(\"...\")`"));
                None
            }
            None => {
                self.diags
                    .error(
                        attr.span,
                        format!("`{at}{attr_name}` needs a string argument"),
                    )
                    .label("missing argument")
                    .help(format!("write `{at}{attr_name}(\"...\")`"));
                None
            }
        }
    }

    /// Checks that each name in a field list exists; returns the names.
    fn field_list(
        &mut self,
        expr: Option<&Expr>,
        fields: &[&ast::Field],
        owner: &str,
        what: &str,
        at: Span,
    ) -> Vec<String> {
        let Some(expr) = expr else {
            self.diags
                .error(at, format!("`{what}` needs a list of fields"))
                .label("missing fields")
                .help(format!("write `{what}([field1, field2])`"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in expr.as_list() {
            let Some((name, span)) = field_ref(item) else {
                self.diags
                    .error(item.span(), "expected a field name")
                    .label("not a field name")
                    .help("list fields by name without quotes, e.g. `[firstName, lastName]`");
                continue;
            };
            // `address.street` points into a composite type: check the first part
            let head = name.split('.').next().unwrap_or_default();
            if !fields.iter().any(|f| f.name.name == head) {
                let help = match suggest(&name, fields.iter().map(|f| f.name.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`{owner}` has no field `{name}`"),
                };
                self.diags
                    .error(
                        span,
                        format!("`{what}` refers to the unknown field `{name}`"),
                    )
                    .label("unknown field")
                    .help(help);
            }
            out.push(name);
        }
        out
    }

    /// Reports an attribute that appears twice. `seen` is a bit set over
    /// `known` (the attribute names of this position), so no allocation.
    fn check_duplicate_attr(&mut self, seen: &mut u32, known: &[&str], attr: &ast::Attribute) {
        let name = attr.path_str();
        let Some(bit) = known.iter().position(|k| *k == name) else {
            return;
        };
        if *seen & (1 << bit) != 0 {
            let at = if attr.block { "@@" } else { "@" };
            self.diags
                .error(
                    attr.span,
                    format!("attribute `{at}{name}` is defined more than once"),
                )
                .label("duplicate attribute")
                .help("remove one of them");
        }
        *seen |= 1 << bit;
    }

    fn model(&mut self, block: &ast::Block, file: crate::source::FileId) -> Model {
        let kind = match block.kind {
            BlockKind::View => ModelKind::View,
            BlockKind::Type => ModelKind::Composite,
            _ => ModelKind::Model,
        };
        let ast_fields: Vec<&ast::Field> = block.fields().collect();
        let mut fields = Vec::with_capacity(ast_fields.len());
        let duplicate = repeated_names(&ast_fields);
        let mut id = Vec::new();
        let mut uniques = Vec::new();
        for (i, &f) in ast_fields.iter().enumerate() {
            if duplicate[i] {
                self.diags
                    .error(
                        f.name.span,
                        format!(
                            "field `{}` is already defined on {} `{}`",
                            f.name.name,
                            block.kind.keyword(),
                            block.name.name
                        ),
                    )
                    .label("duplicate field")
                    .help("rename or remove one of the fields");
            }
            let field = self.field(f, kind);
            if field.is_id {
                id.push(field.name.to_string());
            }
            if field.is_unique {
                uniques.push(vec![field.name.to_string()]);
            }
            fields.push(field);
        }
        if id.len() > 1 {
            self.diags
                .error(
                    block.name.span,
                    format!("`{}` has more than one field marked `@id`", block.name.name),
                )
                .label("several @id fields")
                .help("use `@@id([a, b])` for a compound id");
        }

        let mut schema = None;
        let mut db_name = block.name.name.clone();
        let mut ignored = false;
        let mut seen = 0u32;
        for attr in block.attributes() {
            let name = attr.path_str();
            if !BLOCK_ATTRIBUTES.contains(&&*name) {
                self.diags
                    .error(attr.span, format!("unknown block attribute `@@{name}`"))
                    .label("unknown attribute")
                    .help(match suggest(&name, BLOCK_ATTRIBUTES.iter().copied()) {
                        Some(s) => format!("did you mean `@@{s}`?"),
                        None => format!(
                            "known block attributes: @@{}",
                            BLOCK_ATTRIBUTES.join(", @@")
                        ),
                    });
                continue;
            }
            if !matches!(&*name, "unique" | "index" | "fulltext") {
                self.check_duplicate_attr(&mut seen, BLOCK_ATTRIBUTES, attr);
            }
            match &*name {
                "map" => {
                    if let Some((v, _)) = self.string_arg(attr, "name") {
                        db_name = v;
                    }
                }
                "schema" => {
                    schema = self
                        .string_arg(attr, "name")
                        .map(|(s, span)| (s.to_string(), span))
                }
                "ignore" => ignored = true,
                "id" => {
                    if !id.is_empty() {
                        self.diags
                            .error(
                                attr.span,
                                format!("`{}` has both `@id` and `@@id`", block.name.name),
                            )
                            .label("second id")
                            .help("keep only one of them");
                    }
                    id = self.field_list(
                        attr.arg("fields"),
                        &ast_fields,
                        &block.name.name,
                        "@@id",
                        attr.span,
                    );
                }
                "unique" => {
                    let set = self.field_list(
                        attr.arg("fields"),
                        &ast_fields,
                        &block.name.name,
                        "@@unique",
                        attr.span,
                    );
                    uniques.push(set);
                }
                "index" | "fulltext" => {
                    let what = format!("@@{name}");
                    self.field_list(
                        attr.arg("fields"),
                        &ast_fields,
                        &block.name.name,
                        &what,
                        attr.span,
                    );
                }
                _ => {}
            }
        }
        for f in fields.iter_mut() {
            if id.iter().any(|i| *i == f.name) {
                f.is_id = true;
            }
        }

        if kind == ModelKind::Model && !ignored {
            let required = |names: &Vec<String>| {
                !names.is_empty()
                    && names.iter().all(|n| {
                        fields
                            .iter()
                            .any(|f| &f.name == n && f.arity == Arity::Required)
                    })
            };
            if id.is_empty() && !uniques.iter().any(required) {
                self.diags
                    .error(
                        block.name.span,
                        format!(
                            "the model `{}` has no unique criteria that has only required fields",
                            block.name.name
                        ),
                    )
                    .label("no @id or @unique")
                    .help("mark a field with `@id` or `@unique`, or add `@@id([..])`/`@@unique([..])`; use `@@ignore` to skip the model");
            }
        }

        Model {
            kind,
            name: block.name.name.clone(),
            name_span: block.name.span,
            span: block.span,
            doc: doc(&block.doc),
            fields,
            schema,
            db_name,
            id,
            uniques,
            ignored,
            file,
        }
    }

    fn field(&mut self, f: &ast::Field, owner: ModelKind) -> Field {
        let type_name = f.ty.name.name.clone();
        let kind = if let Some(u) = &f.ty.unsupported {
            FieldKind::Unsupported(u.value.to_string())
        } else if let Some(s) = ScalarType::from_name(&type_name) {
            FieldKind::Scalar(s)
        } else {
            match self.names.get(&type_name) {
                Some(Declared::Model) => FieldKind::Model,
                Some(Declared::View) => FieldKind::View,
                Some(Declared::Composite) => FieldKind::Composite,
                Some(Declared::Enum) => FieldKind::Enum,
                None => {
                    let candidates: Vec<&str> = ScalarType::ALL
                        .iter()
                        .map(|s| s.name())
                        .chain(self.names.keys().map(Name::as_str))
                        .collect();
                    let help = match suggest(&type_name, candidates.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "use a scalar type (String, Boolean, Int, BigInt, Float, Decimal, DateTime, Json, Bytes) or declare a model, view, type or enum with this name".to_string(),
                    };
                    self.diags
                        .error(
                            f.ty.name.span,
                            format!("type `{type_name}` is neither a built-in type, nor refers to another model, composite type, or enum"),
                        )
                        .label("unknown type")
                        .help(help);
                    FieldKind::Unknown
                }
            }
        };
        let mut field = Field {
            name: f.name.name.clone(),
            name_span: f.name.span,
            span: f.span,
            doc: doc(&f.doc),
            type_name,
            type_span: f.ty.span,
            kind,
            arity: f.ty.arity,
            column: Name::default(),
            native_type: None,
            is_id: false,
            is_unique: false,
            has_default: false,
            updated_at: false,
            ignored: false,
            relation: None,
        };
        let mut seen = 0u32;
        for attr in &f.attributes {
            let name = attr.path_str();
            // `@db.VarChar`: the prefix is the datasource's name (usually `db`)
            if attr.path.len() == 2 {
                if field.native_type.is_some() {
                    self.diags
                        .error(attr.span, "a field can have only one native type attribute")
                        .label("second `@db.*`")
                        .help("remove one of them");
                }
                field.native_type = Some(NativeType {
                    name: attr.path[1].name.clone(),
                    args: attr.args().iter().map(|a| plain(&a.value)).collect(),
                    span: attr.span,
                });
                continue;
            }
            if !FIELD_ATTRIBUTES.contains(&&*name) {
                self.diags
                    .error(attr.span, format!("unknown field attribute `@{name}`"))
                    .label("unknown attribute")
                    .help(match suggest(&name, FIELD_ATTRIBUTES.iter().copied()) {
                        Some(s) => format!("did you mean `@{s}`?"),
                        None => format!(
                            "known field attributes: @{}, and @db.* native types",
                            FIELD_ATTRIBUTES.join(", @")
                        ),
                    });
                continue;
            }
            self.check_duplicate_attr(&mut seen, FIELD_ATTRIBUTES, attr);
            match &*name {
                "id" => field.is_id = true,
                "unique" => field.is_unique = true,
                "default" => {
                    field.has_default = true;
                    if attr.args().is_empty() {
                        self.diags
                            .error(attr.span, "`@default` needs a value")
                            .label("missing value")
                            .help("write `@default(value)`");
                    }
                }
                "updatedAt" => field.updated_at = true,
                "ignore" => field.ignored = true,
                "map" => {
                    if let Some((v, _)) = self.string_arg(attr, "name") {
                        field.column = v;
                    }
                }
                "relation" => {
                    let rel = self.relation(attr);
                    if !attr.args().is_empty() {
                        field.relation = Some(rel);
                    }
                }
                _ => {}
            }
        }
        if field.column.is_empty() {
            field.column = field.name.clone();
        }
        if field.relation.is_some() && !field.is_relation() && field.kind != FieldKind::Unknown {
            self.diags
                .error(
                    f.ty.name.span,
                    format!(
                        "`@relation` is only allowed on relation fields, but `{}` is a `{}`",
                        field.name, field.type_name
                    ),
                )
                .label("not a model")
                .help("put `@relation` on the field whose type is the related model");
        }
        if owner == ModelKind::Composite && field.is_relation() {
            self.diags
                .error(
                    f.ty.name.span,
                    "composite types cannot have relation fields",
                )
                .label("relation in a composite type")
                .help("use a scalar, enum or composite type here");
        }
        field
    }

    fn relation(&mut self, attr: &ast::Attribute) -> Relation {
        let mut rel = Relation {
            name: None,
            fields: Vec::new(),
            references: Vec::new(),
            span: attr.span,
        };
        for arg in attr.args() {
            let key = arg.name.as_ref().map(|n| n.name.as_str());
            match key {
                None | Some("name") => match &arg.value {
                    Expr::String(s) => rel.name = Some(s.value.to_string()),
                    other => {
                        self.diags
                            .error(other.span(), "the relation name must be a string")
                            .label("not a string")
                            .help("write `@relation(\"Name\", ...)`");
                    }
                },
                Some(k @ ("fields" | "references")) => {
                    let mut names = Vec::new();
                    for item in arg.value.as_list() {
                        match field_ref(item) {
                            Some((n, _)) => names.push(n),
                            None => {
                                self.diags
                                    .error(item.span(), format!("`{k}` takes field names"))
                                    .label("not a field name")
                                    .help(format!("write `{k}: [fieldName]`"));
                            }
                        }
                    }
                    if k == "fields" {
                        rel.fields = names;
                    } else {
                        rel.references = names;
                    }
                }
                Some("onDelete" | "onUpdate" | "map") => {}
                Some(other) => {
                    self.diags
                        .error(arg.span, format!("`@relation` has no argument `{other}`"))
                        .label("unknown argument")
                        .help("known arguments: name, fields, references, onDelete, onUpdate, map");
                }
            }
        }
        if rel.fields.len() != rel.references.len() {
            self.diags
                .error(attr.span, "`fields` and `references` must list the same number of fields")
                .label("lengths differ")
                .help("pair each local field with the field it references, e.g. `fields: [userId], references: [id]`");
        }
        rel
    }

    fn enum_(&mut self, block: &ast::Block, file: crate::source::FileId) -> Enum {
        let mut values: Vec<EnumValue> = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for item in &block.items {
            let BlockItem::EnumValue(v) = item else {
                continue;
            };
            if !seen.insert(v.name.name.as_str()) {
                self.diags
                    .error(
                        v.name.span,
                        format!(
                            "value `{}` is already defined on enum `{}`",
                            v.name.name, block.name.name
                        ),
                    )
                    .label("duplicate value")
                    .help("remove one of them");
            }
            let mut db_name = v.name.name.clone();
            for attr in &v.attributes {
                if attr.path_is("map") {
                    if let Some((s, _)) = self.string_arg(attr, "name") {
                        db_name = s;
                    }
                } else {
                    self.diags
                        .error(
                            attr.span,
                            format!("unknown attribute `@{}` on an enum value", attr.name()),
                        )
                        .label("unknown attribute")
                        .help("enum values take only `@map(\"...\")`");
                }
            }
            values.push(EnumValue {
                name: v.name.name.clone(),
                db_name,
                doc: doc(&v.doc),
                span: v.span,
            });
        }
        if values.is_empty() {
            self.diags
                .error(
                    block.name.span,
                    format!("enum `{}` has no values", block.name.name),
                )
                .label("empty enum")
                .help("an enum must have at least one value");
        }
        let mut schema = None;
        let mut db_name = block.name.name.clone();
        let mut seen = 0u32;
        for attr in block.attributes() {
            self.check_duplicate_attr(&mut seen, BLOCK_ATTRIBUTES, attr);
            match &*attr.path_str() {
                "map" => {
                    if let Some((v, _)) = self.string_arg(attr, "name") {
                        db_name = v;
                    }
                }
                "schema" => {
                    schema = self
                        .string_arg(attr, "name")
                        .map(|(s, span)| (s.to_string(), span))
                }
                other => {
                    self.diags
                        .error(attr.span, format!("unknown enum attribute `@@{other}`"))
                        .label("unknown attribute")
                        .help("enums take `@@map` and `@@schema`");
                }
            }
        }
        Enum {
            name: block.name.name.clone(),
            name_span: block.name.span,
            span: block.span,
            doc: doc(&block.doc),
            values,
            schema,
            db_name,
            file,
        }
    }

    fn properties<'b>(&mut self, block: &'b ast::Block) -> BTreeMap<&'b str, &'b ast::Property> {
        let mut props = BTreeMap::new();
        for item in &block.items {
            let BlockItem::Property(p) = item else {
                continue;
            };
            if props.insert(p.key.name.as_str(), p).is_some() {
                self.diags
                    .error(
                        p.key.span,
                        format!(
                            "key `{}` is already defined in {} `{}`",
                            p.key.name,
                            block.kind.keyword(),
                            block.name.name
                        ),
                    )
                    .label("duplicate key")
                    .help("remove one of them");
            }
        }
        props
    }

    fn string_prop(&mut self, p: &ast::Property) -> Option<String> {
        match &p.value {
            Expr::String(s) => Some(s.value.to_string()),
            other => {
                self.diags
                    .error(other.span(), format!("`{}` must be a string", p.key.name))
                    .label("not a string")
                    .help(format!("write `{} = \"...\"`", p.key.name));
                None
            }
        }
    }

    fn datasource(&mut self, block: &ast::Block) -> Datasource {
        let props = self.properties(block);
        let provider = match props.get("provider") {
            Some(p) => self.string_prop(p),
            None => {
                self.diags
                    .error(
                        block.name.span,
                        format!("datasource `{}` has no `provider`", block.name.name),
                    )
                    .label("missing provider")
                    .help("add `provider = \"postgresql\"`");
                None
            }
        };
        let schemas = props.get("schemas").map(|p| {
            let mut out = Vec::new();
            for item in p.value.as_list() {
                match item {
                    Expr::String(s) => out.push((s.value.to_string(), s.span)),
                    other => {
                        self.diags
                            .error(other.span(), "`schemas` takes a list of strings")
                            .label("not a string")
                            .help("write `schemas = [\"public\", \"idp\"]`");
                    }
                }
            }
            out
        });
        Datasource {
            name: block.name.name.to_string(),
            provider,
            schemas,
            span: block.span,
        }
    }

    fn generator(&mut self, block: &ast::Block) -> Generator {
        let props = self.properties(block);
        let provider = match props.get("provider") {
            Some(p) => match &p.value {
                Expr::String(s) => Some(s.value.to_string()),
                Expr::Call { .. } => None, // env("...")
                other => {
                    self.diags
                        .error(other.span(), "`provider` must be a string")
                        .label("not a string")
                        .help("write `provider = \"prisma-client\"`");
                    None
                }
            },
            None => {
                self.diags
                    .error(
                        block.name.span,
                        format!("generator `{}` has no `provider`", block.name.name),
                    )
                    .label("missing provider")
                    .help("add `provider = \"prisma-client\"`");
                None
            }
        };
        let preview_features = props
            .get("previewFeatures")
            .map(|p| {
                p.value
                    .as_list()
                    .into_iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Generator {
            name: block.name.name.to_string(),
            provider,
            preview_features,
            span: block.span,
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
    fn resolves_types_columns_and_keys() {
        let (_, _, s, d) = parse_str(
            "t.prisma",
            "datasource db {\n  provider = \"postgresql\"\n  schemas = [\"idp\"]\n}\n\
             model User {\n  id String @id @db.Uuid\n  email String? @unique @map(\"e_mail\") @db.VarChar(64)\n  role Role @default(USER)\n  posts Post[]\n  @@map(\"users\")\n  @@schema(\"idp\")\n}\n\
             model Post {\n  id Int @id\n  userId String\n  user User @relation(fields: [userId], references: [id])\n  @@schema(\"idp\")\n}\n\
             enum Role {\n  USER @map(\"user\")\n  ADMIN\n  @@schema(\"idp\")\n}\n",
        );
        assert!(!d.has_errors(), "{d:?}");
        let u = s.model("User").unwrap();
        assert_eq!(u.db_name, "users");
        assert_eq!(u.schema.as_ref().unwrap().0, "idp");
        assert_eq!(u.id, ["id"]);
        assert_eq!(u.uniques, [vec!["email".to_string()]]);
        let email = u.field("email").unwrap();
        assert_eq!(email.column, "e_mail");
        assert_eq!(email.native_type.as_ref().unwrap().args, ["64"]);
        assert!(email.is_optional());
        assert_eq!(u.field("role").unwrap().kind, super::FieldKind::Enum);
        assert_eq!(u.field("posts").unwrap().kind, super::FieldKind::Model);
        let rel = s
            .model("Post")
            .unwrap()
            .field("user")
            .unwrap()
            .relation
            .clone()
            .unwrap();
        assert_eq!(
            (rel.fields, rel.references),
            (vec!["userId".into()], vec!["id".into()])
        );
        assert_eq!(s.enum_("Role").unwrap().values[0].db_name, "user");
    }

    #[test]
    fn reports_semantic_errors() {
        assert!(errors("model A {\n  id Int @id\n  b Strng\n}\n")[0].contains("Strng"));
        assert!(!errors("model A {\n  id Int @id\n}\nmodel A {\n  id Int @id\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int @id\n  id String\n}\n").is_empty());
        assert!(!errors("model A {\n  x Int\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int @id\n  @@index([nope])\n}\n").is_empty());
        assert!(
            !errors("model A {\n  id Int @id\n  b B\n}\nmodel B {\n  id Int @id\n}\n").is_empty()
        );
        assert!(!errors("enum E {\n}\n").is_empty());
        assert!(!errors("model A {\n  id Int @id @foo\n}\n").is_empty());
    }

    #[test]
    fn long_and_many_unknown_names_stay_fast() {
        let long = "X".repeat(200_000);
        let mut text = format!("model A {{\n  id Int @id\n  a {long}\n");
        for i in 0..5000 {
            text.push_str(&format!("  f{i} T{i}\n"));
        }
        text.push_str("}\n");
        let start = std::time::Instant::now();
        let (_, _, _, d) = parse_str("t.prisma", &text);
        assert_eq!(d.error_count(), 5001);
        // generous even for a debug build on a busy machine
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn did_you_mean_on_unknown_types() {
        let (_, _, _, d) = parse_str("t.prisma", "model A {\n  id Int @id\n  b Strng\n}\n");
        assert_eq!(
            d.iter().next().unwrap().help.as_deref(),
            Some("did you mean `String`?")
        );
    }
}
