//! Further Prisma validation rules, run after the model is built: the ones
//! that matter for the views we generate (native types against field types,
//! view restrictions, database names, `@default` functions, referential
//! actions, datasource properties). Checks that depend on the connector run
//! only when the datasource's provider is known.

use super::ast::{self, BlockItem, BlockKind, Expr};
use super::model::*;
use crate::diagnostics::Diagnostics;
use crate::suggest::did_you_mean as suggest;
use std::collections::BTreeMap;

/// Runs every check of this module.
pub(crate) fn run(files: &[ast::SchemaFile], schema: &Schema, diags: &mut Diagnostics) {
    let provider = schema
        .datasources
        .first()
        .and_then(|d| d.provider.as_deref())
        .map(normalise_provider);
    let relation_mode_prisma = files
        .iter()
        .flat_map(|f| f.blocks())
        .filter(|b| b.kind == BlockKind::Datasource)
        .flat_map(|b| b.items.iter())
        .any(|i| {
            matches!(i, BlockItem::Property(p)
                if p.key.name == "relationMode" && p.value.as_str() == Some("prisma"))
        });
    let mut c = Checks {
        diags,
        provider,
        schema,
        relation_mode_prisma,
    };
    c.check_datasources(schema);
    c.check_schemas(schema);
    c.names_do_not_start_with_digits();
    c.database_names_are_unique();
    c.views();
    c.native_types();
    // models are built from the model/view/type blocks in file and source
    // order, one each, with their fields in source order
    let mut models = schema.models.iter();
    for file in files {
        for block in file.blocks() {
            match block.kind {
                BlockKind::Model | BlockKind::View | BlockKind::Type => {
                    c.block_attributes(block, models.next())
                }
                BlockKind::Datasource => c.datasource(block),
                _ => {}
            }
        }
    }
}

fn normalise_provider(p: &str) -> &str {
    match p {
        "postgres" => "postgresql",
        other => other,
    }
}

/// The allowed values of a function's integer argument: described, tested.
type IntArgRule = (&'static str, fn(i64) -> bool);

struct Checks<'a, 'd> {
    diags: &'d mut Diagnostics,
    /// The datasource provider (`postgresql`, `mysql`, `mongodb`, ...).
    provider: Option<&'a str>,
    schema: &'a Schema,
    /// `relationMode = "prisma"` (no foreign keys in the database).
    relation_mode_prisma: bool,
}

/// Field types a native type accepts, per connector; `None` for a native
/// type the connector does not know.
fn native_type_scalars(provider: &str, native: &str) -> Option<&'static [ScalarType]> {
    use ScalarType::*;
    let t: &'static [ScalarType] = match provider {
        "postgresql" => match native {
            "Text" | "Char" | "VarChar" | "Bit" | "VarBit" | "Uuid" | "Xml" | "Inet" | "Citext" => {
                &[String]
            }
            "Boolean" => &[Boolean],
            "SmallInt" | "Integer" | "Oid" => &[Int],
            "BigInt" => &[BigInt],
            "DoublePrecision" | "Real" => &[Float],
            "Decimal" | "Money" => &[Decimal],
            "Timestamp" | "Timestamptz" | "Date" | "Time" | "Timetz" => &[DateTime],
            "Json" | "JsonB" => &[Json],
            "ByteA" => &[Bytes],
            _ => return None,
        },
        "mongodb" => match native {
            "String" => &[String],
            "ObjectId" => &[String, Bytes],
            "Int" => &[Int],
            "Long" => &[Int, BigInt],
            "Double" => &[Float],
            "Bool" => &[Boolean],
            "Date" | "Timestamp" => &[DateTime],
            "BinData" => &[Bytes],
            "Json" => &[Json],
            _ => return None,
        },
        _ => return None,
    };
    Some(t)
}

impl Checks<'_, '_> {
    fn check_datasources(&mut self, schema: &Schema) {
        if let Some(second) = schema.datasources.get(1) {
            self.diags
                .error(second.span, "a schema can have only one datasource")
                .label("second datasource")
                .help("remove all datasource blocks but one");
        }
    }

    /// `@@schema` against the datasource's `schemas`.
    fn check_schemas(&mut self, schema: &Schema) {
        let Some(datasource) = schema.datasources.first() else {
            return;
        };
        let Some(declared) = datasource.schemas.as_ref() else {
            // `@@schema` needs the datasource to list its schemas
            let used = schema
                .models
                .iter()
                .filter_map(|m| m.schema.as_ref())
                .chain(schema.enums.iter().filter_map(|e| e.schema.as_ref()));
            for (name, span) in used {
                self.diags
                    .error(
                        *span,
                        format!("schema `{name}` is not defined in the datasource"),
                    )
                    .label("unknown schema")
                    .help(format!(
                        "list it in the datasource: `schemas = [\"{name}\"]`"
                    ));
            }
            return;
        };
        let mut names: Vec<&str> = Vec::new();
        for (name, span) in declared {
            if names.contains(&name.as_str()) {
                self.diags
                    .error(*span, format!("schema `{name}` is listed twice"))
                    .label("duplicate schema name")
                    .help("remove one of them");
            } else {
                names.push(name);
            }
        }
        let items = schema
            .models
            .iter()
            .filter(|m| m.kind != ModelKind::Composite)
            .map(|m| (m.keyword(), &m.name, m.name_span, &m.schema))
            .chain(
                schema
                    .enums
                    .iter()
                    .map(|e| ("enum", &e.name, e.name_span, &e.schema)),
            );
        for (kw, name, name_span, s) in items {
            match s {
                Some((s, span)) if !names.contains(&s.as_str()) => {
                    self.diags
                        .error(
                            *span,
                            format!("schema `{s}` is not listed in the datasource's `schemas`"),
                        )
                        .label("unknown schema")
                        .help(match suggest(s, names.iter().copied()) {
                            Some(x) => format!("did you mean `{x}`?"),
                            None => format!("add \"{s}\" to `schemas` in the datasource"),
                        });
                }
                None => {
                    self.diags
                        .error(name_span, format!("the {kw} `{name}` has no `@@schema` attribute"))
                        .label("missing @@schema")
                        .help("the datasource lists `schemas`, so every model, view and enum needs `@@schema(\"...\")`");
                }
                _ => {}
            }
        }
    }

    fn has_generator_feature(&self, feature: &str) -> bool {
        self.schema.generators.iter().any(|g| {
            g.preview_features
                .iter()
                .any(|f| f.eq_ignore_ascii_case(feature))
        })
    }

    fn names_do_not_start_with_digits(&mut self) {
        for m in &self.schema.models {
            if m.name.starts_with(|c: char| c.is_ascii_digit()) {
                self.diags
                    .error(
                        m.name_span,
                        format!("the name of a {} must not start with a number", m.keyword()),
                    )
                    .label("starts with a digit")
                    .help("rename it, and use `@@map(\"...\")` if the database name must stay");
            }
            for f in &m.fields {
                if f.name.starts_with(|c: char| c.is_ascii_digit()) {
                    self.diags
                        .error(
                            f.name_span,
                            "the name of a field must not start with a number",
                        )
                        .label("starts with a digit")
                        .help("rename it, and use `@map(\"...\")` if the column name must stay");
                }
            }
        }
        for e in &self.schema.enums {
            if e.name.starts_with(|c: char| c.is_ascii_digit()) {
                self.diags
                    .error(
                        e.name_span,
                        "the name of an enum must not start with a number",
                    )
                    .label("starts with a digit")
                    .help("rename it, and use `@@map(\"...\")` if the database name must stay");
            }
        }
    }

    /// Two models/views cannot map to the same table in the same schema.
    fn database_names_are_unique(&mut self) {
        let mut enums: BTreeMap<(Option<&str>, &str), &Enum> = BTreeMap::new();
        for e in &self.schema.enums {
            let key = (e.schema.as_ref().map(|s| s.0.as_str()), e.db_name.as_str());
            if let Some(prev) = enums.insert(key, e) {
                self.diags
                    .error(
                        e.name_span,
                        format!("the enum `{}` maps to the database name \"{}\", which the enum `{}` already uses", e.name, e.db_name, prev.name),
                    )
                    .label("duplicate database name")
                    .help("give one of them a different `@@map(\"...\")`");
            }
        }
        let mut seen: BTreeMap<(Option<&str>, &str), &Model> = BTreeMap::new();
        for m in &self.schema.models {
            if m.kind == ModelKind::Composite {
                continue;
            }
            let key = (m.schema.as_ref().map(|s| s.0.as_str()), m.db_name.as_str());
            if let Some(prev) = seen.get(&key) {
                self.diags
                    .error(
                        m.name_span,
                        format!(
                            "the {} `{}` maps to the database name \"{}\", which the {} `{}` already uses",
                            m.keyword(),
                            m.name,
                            m.db_name,
                            prev.keyword(),
                            prev.name
                        ),
                    )
                    .label("duplicate database name")
                    .help("give one of them a different `@@map(\"...\")` (or another `@@schema`)");
            } else {
                seen.insert(key, m);
            }
        }
    }

    fn views(&mut self) {
        let views: Vec<&Model> = self.schema.views().collect();
        if views.is_empty() {
            return;
        }
        // only judge the preview feature when the schema has a generator
        // (a views package on its own has none)
        if !self.schema.generators.is_empty() && !self.has_generator_feature("views") {
            self.diags
                .error(
                    views[0].name_span,
                    "view definitions need the `views` preview feature",
                )
                .label("view")
                .help("add `previewFeatures = [\"views\"]` to the generator block");
        }
        for v in views {
            for f in v.fields.iter().filter(|f| f.is_id) {
                self.diags
                    .error(
                        f.name_span,
                        format!(
                            "views cannot have primary keys, but `{}.{}` is marked `@id`",
                            v.name, f.name
                        ),
                    )
                    .label("@id on a view field")
                    .help(
                        "use `@unique` instead: Prisma needs a unique field to identify view rows",
                    );
            }
            for f in v.fields.iter().filter(|f| f.is_relation() && f.is_list()) {
                let target = self.schema.model(&f.type_name);
                let implicit_m2n = target.is_some_and(|t| {
                    t.fields.iter().any(|g| {
                        g.type_name == v.name
                            && g.is_list()
                            && g.relation.as_ref().map(|r| &r.name)
                                == f.relation.as_ref().map(|r| &r.name)
                    })
                });
                if implicit_m2n {
                    self.diags
                        .error(
                            f.name_span,
                            "implicit many-to-many relations are not supported for views",
                        )
                        .label("list on both sides")
                        .help("model the relation with an explicit join model or view");
                }
            }
        }
    }

    fn native_types(&mut self) {
        let Some(provider) = self.provider else {
            return;
        };
        for m in &self.schema.models {
            for f in &m.fields {
                let (Some(native), Some(scalar)) = (&f.native_type, f.scalar()) else {
                    continue;
                };
                match native_type_scalars(provider, &native.name) {
                    None => {
                        if matches!(provider, "postgresql" | "mongodb") {
                            self.diags
                                .error(native.span, format!("native type {} is not supported for the {provider} connector", native.name))
                                .label("unknown native type")
                                .help(format!("see the {provider} native types in Prisma's documentation"));
                        }
                    }
                    Some(allowed) if !allowed.contains(&scalar) => {
                        let expected: Vec<&str> = allowed.iter().map(|s| s.name()).collect();
                        self.diags
                            .error(
                                native.span,
                                format!(
                                    "native type {} is not compatible with declared field type {}, expected field type {}",
                                    native.name,
                                    scalar.name(),
                                    expected.join(" or ")
                                ),
                            )
                            .label("incompatible native type")
                            .help(format!("change the field type to {} or use another native type", expected.join(" or ")));
                    }
                    Some(_) => {}
                }
                for arg in &native.args {
                    if arg.starts_with('-') {
                        self.diags
                            .error(
                                native.span,
                                format!("expected a nonnegative integer, but found ({arg})"),
                            )
                            .label("negative argument")
                            .help("native type arguments are lengths and precisions");
                    }
                }
            }
        }
    }

    /// Attribute arguments that need the AST: `@default` functions,
    /// referential actions, `clustered`.
    fn block_attributes(&mut self, block: &ast::Block, model: Option<&Model>) {
        let model = model.filter(|m| m.name == block.name.name);
        let mut fields = model.map(|m| m.fields.iter());
        for item in &block.items {
            match item {
                BlockItem::Field(f) => {
                    let field = fields
                        .as_mut()
                        .and_then(Iterator::next)
                        .filter(|x| x.name == f.name.name);
                    for attr in &f.attributes {
                        match &*attr.path_str() {
                            "default" => self.default(attr, field),
                            "relation" => self.referential_actions(attr, field, model),
                            _ => {}
                        }
                        self.clustered(attr);
                        self.known_arguments(attr);
                        self.mongodb_map(attr);
                        super::conformance::field_attribute(f, attr, self.schema, self.diags);
                    }
                }
                BlockItem::Attribute(attr) => {
                    self.clustered(attr);
                    self.known_arguments(attr);
                }
                _ => {}
            }
        }
    }

    /// Named arguments an attribute does not take.
    fn known_arguments(&mut self, attr: &ast::Attribute) {
        let name = attr.path_str();
        let known: &[&str] = match (attr.block, &*name) {
            (false, "map") | (true, "map") | (true, "schema") => &["name"],
            (false, "id") | (false, "unique") => &["map", "length", "sort", "clustered"],
            (true, "id") | (true, "unique") => &["fields", "name", "map", "clustered"],
            (true, "index") => &["fields", "name", "map", "type", "clustered", "where"],
            (true, "fulltext") => &["fields", "map"],
            (false, "default") => &["value", "map"],
            (false, "relation") => &[
                "name",
                "fields",
                "references",
                "onDelete",
                "onUpdate",
                "map",
            ],
            _ => return,
        };
        for arg in attr.args() {
            let Some(n) = &arg.name else { continue };
            if !known.contains(&n.name.as_str()) {
                let at = if attr.block { "@@" } else { "@" };
                self.diags
                    .error(
                        n.span,
                        format!("argument not known: `{}` on `{at}{name}`", n.name),
                    )
                    .label("unknown argument")
                    .help(format!("`{at}{name}` takes: {}", known.join(", ")));
            }
        }
    }

    /// MongoDB field names (`@map`) cannot start with `$` or contain `.`.
    fn mongodb_map(&mut self, attr: &ast::Attribute) {
        if self.provider != Some("mongodb") || attr.block || !attr.path_is("map") {
            return;
        }
        let Some(Expr::String(s)) = attr.arg("name") else {
            return;
        };
        let problem = if s.value.starts_with('$') {
            "cannot start with a `$` character"
        } else if s.value.contains('.') {
            "cannot contain a `.` character"
        } else {
            return;
        };
        self.diags
            .error(s.span, format!("the field name {problem}"))
            .label("invalid MongoDB field name")
            .help("choose another name in `@map`");
    }

    fn clustered(&mut self, attr: &ast::Attribute) {
        if let Some(v) = attr.named_arg("clustered") {
            if !matches!(v.as_const(), Some("true" | "false")) {
                self.diags
                    .error(v.span(), "`clustered` expects a boolean value")
                    .label("not `true` or `false`")
                    .help("write `clustered: true` or `clustered: false`");
            }
        }
    }

    fn default(&mut self, attr: &ast::Attribute, field: Option<&Field>) {
        let Some(Expr::Call { name, args, span }) = attr.arg("value") else {
            return;
        };
        let func = name.name.as_str();
        let int_arg = || -> Option<Option<i64>> {
            match args.as_slice() {
                [] => Some(None),
                [a] if a.name.is_none() => match &a.value {
                    Expr::Number(n, _) => n.parse().ok().map(Some),
                    _ => None,
                },
                _ => None,
            }
        };
        let allowed: Option<IntArgRule> = match func {
            "cuid" => Some(("either 1 or 2", |n| n == 1 || n == 2)),
            "uuid" => Some(("either 4 or 7", |n| n == 4 || n == 7)),
            "nanoid" => Some(("between 2 and 255", |n| (2..=255).contains(&n))),
            _ => None,
        };
        if let Some((range, ok)) = allowed {
            match int_arg() {
                None => {
                    self.diags
                        .error(*span, format!("`{func}()` takes a single Int argument"))
                        .label("invalid argument")
                        .help(format!("write `{func}()` or `{func}(n)` with n {range}"));
                }
                Some(Some(n)) if !ok(n) => {
                    self.diags
                        .error(
                            *span,
                            format!("`{func}()` takes either no argument, or a single integer argument which is {range}"),
                        )
                        .label("invalid argument")
                        .help(format!("write `{func}()` or `{func}(n)` with n {range}"));
                }
                _ => {}
            }
        }
        if matches!(func, "cuid" | "uuid" | "nanoid" | "ulid") {
            if let Some(s) = field
                .and_then(Field::scalar)
                .filter(|s| *s != ScalarType::String)
            {
                self.diags
                    .error(*span, format!("the function `{func}()` cannot be used on fields of type `{}`", s.name()))
                    .label("needs a String field")
                    .help("make the field a `String`, or use another default (e.g. `autoincrement()` for Int)");
            }
        }
        if func == "autoincrement" && self.provider == Some("mongodb") {
            self.diags
                .error(
                    *span,
                    "the `autoincrement()` default value is not supported by the mongodb connector",
                )
                .label("not supported")
                .help("use `@default(auto()) @db.ObjectId` for ids on MongoDB");
        }
    }

    fn referential_actions(
        &mut self,
        attr: &ast::Attribute,
        field: Option<&Field>,
        model: Option<&Model>,
    ) {
        for key in ["onDelete", "onUpdate"] {
            let Some(v) = attr.named_arg(key) else {
                continue;
            };
            let Some(action) = v.as_const() else {
                self.diags
                    .error(v.span(), format!("`{key}` expects a referential action"))
                    .label("not a constant")
                    .help("use one of Cascade, Restrict, NoAction, SetNull, SetDefault");
                continue;
            };
            if !matches!(
                action,
                "Cascade" | "Restrict" | "NoAction" | "SetNull" | "SetDefault"
            ) {
                self.diags
                    .error(v.span(), format!("invalid referential action: `{action}`"))
                    .label("unknown action")
                    .help("use one of Cascade, Restrict, NoAction, SetNull, SetDefault");
                continue;
            }
            if action == "SetNull" {
                let required = field
                    .and_then(|f| f.relation.as_ref())
                    .zip(model)
                    .map(|(rel, m)| {
                        rel.fields
                            .iter()
                            .filter_map(|n| m.field(n))
                            .any(|f| f.arity == Arity::Required)
                    })
                    .unwrap_or(false);
                if required {
                    // PostgreSQL with foreign keys accepts it (Prisma warns)
                    let message = format!(
                        "the `{key}` referential action of a relation must not be set to `SetNull` when a referenced field is required"
                    );
                    let d = if self.provider == Some("postgresql") && !self.relation_mode_prisma {
                        self.diags.warning(v.span(), message)
                    } else {
                        self.diags.error(v.span(), message)
                    };
                    d.label("SetNull on a required field").help(
                        "make the foreign key field optional (`Type?`) or choose another action",
                    );
                }
            }
        }
    }

    fn datasource(&mut self, block: &ast::Block) {
        const KNOWN: &[&str] = &[
            "provider",
            "url",
            "directUrl",
            "shadowDatabaseUrl",
            "relationMode",
            "referentialIntegrity",
            "schemas",
            "extensions",
        ];
        let provider = self.provider.unwrap_or_default();
        let mut props: BTreeMap<&str, &ast::Property> = BTreeMap::new();
        for item in &block.items {
            let BlockItem::Property(p) = item else {
                continue;
            };
            props.insert(&p.key.name, p);
            let key = p.key.name.as_str();
            let postgres_like = matches!(provider, "postgresql" | "cockroachdb");
            if !KNOWN.contains(&key) || (key == "extensions" && !postgres_like) {
                self.diags
                    .error(p.key.span, format!("property not known: \"{key}\""))
                    .label("unknown property")
                    .help(format!("a datasource takes {}", KNOWN.join(", ")));
                continue;
            }
            if key == "extensions" && !self.has_generator_feature("postgresqlExtensions") {
                self.diags
                    .error(p.key.span, "the `extensions` property is only available with the `postgresqlExtensions` preview feature")
                    .label("needs a preview feature")
                    .help("add `previewFeatures = [\"postgresqlExtensions\"]` to the generator");
            }
            if key == "schemas"
                && !matches!(provider, "postgresql" | "cockroachdb" | "sqlserver" | "")
            {
                self.diags
                    .error(
                        p.key.span,
                        "the `schemas` property is not supported on the current connector",
                    )
                    .label("not supported")
                    .help("multiple schemas work with postgresql, cockroachdb and sqlserver");
            }
        }
        if props.contains_key("relationMode") && props.contains_key("referentialIntegrity") {
            let p = props["referentialIntegrity"];
            self.diags
                .error(p.key.span, "the `referentialIntegrity` and `relationMode` attributes cannot be used together")
                .label("remove this one")
                .help("use only `relationMode`");
        }
        if let Some(shadow) = props.get("shadowDatabaseUrl") {
            for other in ["url", "directUrl"] {
                if props
                    .get(other)
                    .is_some_and(|o| same_value(&o.value, &shadow.value))
                {
                    self.diags
                        .error(
                            shadow.value.span(),
                            format!(
                                "shadowDatabaseUrl is the same as {other} for datasource \"{}\"",
                                block.name.name
                            ),
                        )
                        .label("same database")
                        .help("the shadow database must be a different database");
                }
            }
        }
    }
}

fn same_value(a: &Expr, b: &Expr) -> bool {
    super::render::expr(a) == super::render::expr(b)
}

#[cfg(test)]
mod tests {
    use crate::prisma::parse_str;

    const PG: &str = "datasource db {\n  provider = \"postgresql\"\n}\n\ngenerator client {\n  provider        = \"prisma-client\"\n  previewFeatures = [\"views\"]\n}\n\n";

    fn errors(text: &str) -> Vec<String> {
        let (_, _, _, d) = parse_str("t.prisma", text);
        d.iter()
            .filter(|d| d.level == crate::Level::Error)
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn native_types_must_fit_the_field_type() {
        let ok = format!("{PG}model A {{\n  id String @id @db.Uuid\n  at DateTime @db.Timestamptz(6)\n  n Decimal @db.Decimal(10, 2)\n}}\n");
        assert_eq!(errors(&ok), Vec::<String>::new());
        let bad = format!("{PG}model A {{\n  id Int @id @db.Uuid\n  s String @db.VarChar(-1)\n  x String @db.Nope\n}}\n");
        let e = errors(&bad);
        assert!(e[0].contains("native type Uuid is not compatible with declared field type Int, expected field type String"), "{e:?}");
        assert!(e.iter().any(|m| m.contains("nonnegative")), "{e:?}");
        assert!(
            e.iter().any(|m| m.contains("Nope is not supported")),
            "{e:?}"
        );
    }

    #[test]
    fn views_take_unique_not_id_and_need_the_preview_feature() {
        let e = errors(&format!("{PG}view V {{\n  id Int @id\n}}\n"));
        assert!(e[0].contains("views cannot have primary keys"), "{e:?}");
        let no_feature = "generator client {\n  provider = \"prisma-client\"\n}\nview V {\n  id Int @unique\n}\n";
        assert!(errors(no_feature)[0].contains("`views` preview feature"));
        // a views package on its own (no generator) is fine
        assert!(errors("view V {\n  id Int @unique\n}\n").is_empty());
    }

    #[test]
    fn database_names_and_defaults() {
        let e = errors("model A {\n  id Int @id\n  @@map(\"t\")\n}\nmodel B {\n  id Int @id\n  @@map(\"t\")\n}\n");
        assert!(e[0].contains("database name \"t\""), "{e:?}");
        let e = errors(
            "model A {\n  id Int @id @default(uuid())\n  c String @unique @default(cuid(3))\n}\n",
        );
        assert!(
            e.iter()
                .any(|m| m.contains("`uuid()` cannot be used on fields of type `Int`")),
            "{e:?}"
        );
        assert!(e.iter().any(|m| m.contains("either 1 or 2")), "{e:?}");
    }

    #[test]
    fn referential_actions_and_arguments() {
        let base = "model U {\n  id Int @id\n  p P[]\n}\nmodel P {\n  id Int @id\n  uId Int\n  u U @relation(fields: [uId], references: [id], onDelete: ACTION)\n}\n";
        assert!(errors(&base.replace("ACTION", "Cascade")).is_empty());
        assert!(
            errors(&base.replace("ACTION", "Explode"))[0].contains("invalid referential action")
        );
        assert!(errors(&base.replace("ACTION", "SetNull"))[0].contains("SetNull"));
        // PostgreSQL with foreign keys only warns
        let (_, _, _, d) = parse_str(
            "t.prisma",
            &format!("{PG}{}", base.replace("ACTION", "SetNull")),
        );
        assert!(!d.has_errors() && d.len() == 1, "{d:?}");
        let e = errors("model A {\n  id Int @id @map(nam: \"x\")\n}\n");
        assert!(
            e.iter().any(|m| m.contains("argument not known: `nam`")),
            "{e:?}"
        );
    }

    #[test]
    fn datasource_properties() {
        let e =
            errors("datasource db {\n  provider = \"mysql\"\n  schemas = [\"a\"]\n  foo = 1\n}\n");
        assert!(
            e.iter()
                .any(|m| m.contains("`schemas` property is not supported")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("property not known: \"foo\"")),
            "{e:?}"
        );
        let e = errors("datasource db {\n  provider = \"postgresql\"\n  url = env(\"A\")\n  shadowDatabaseUrl = env(\"A\")\n}\n");
        assert!(
            e[0].contains("shadowDatabaseUrl is the same as url"),
            "{e:?}"
        );
    }
}
