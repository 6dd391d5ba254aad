//! Prisma 7 rules that change what idpviews generates when a schema breaks
//! them: native type prefixes that are not the datasource's name, enum
//! defaults naming no value, unknown `@default` functions, unknown preview
//! features (a warning naming the known ones), and the Prisma 6 `url`
//! datasource property (accepted, with a note).
//!
//! Also the provider guard `generate` and `merge` run
//! ([`require_postgresql`]): idpviews writes PostgreSQL only, while
//! `validate` accepts every provider.

use super::ast::{self, BlockItem, BlockKind, Expr};
use super::model::{ScalarType, Schema};
use crate::diagnostics::{Diagnostics, Span};
use crate::suggest::did_you_mean;

/// Preview features Prisma 7 knows and acts on (from Prisma 7.10's own
/// message for an unknown feature).
pub const PREVIEW_FEATURES: &[&str] = &[
    "fullTextSearchPostgres",
    "nativeDistinct",
    "partialIndexes",
    "postgresqlExtensions",
    "relationJoins",
    "schemaEngineDriverAdapters",
    "shardKeys",
    "strictUndefinedChecks",
    "typedSql",
    "views",
];

/// Former preview features Prisma 7 still accepts (now stable or removed;
/// Prisma 7.10 validates them without error).
const RETIRED_PREVIEW_FEATURES: &[&str] = &[
    "aggregateApi",
    "atomicNumberOperations",
    "clientExtensions",
    "cockroachdb",
    "connectOrCreate",
    "createMany",
    "dataProxy",
    "deno",
    "distinct",
    "driverAdapters",
    "extendedWhereUnique",
    "fieldReference",
    "filteredRelationCount",
    "fullTextIndex",
    "fullTextSearch",
    "groupBy",
    "improvedQueryRaw",
    "interactiveTransactions",
    "jsonProtocol",
    "microsoftSqlServer",
    "middlewares",
    "mongoDb",
    "multiSchema",
    "nApi",
    "namedConstraints",
    "napi",
    "nativeTypes",
    "omitApi",
    "orderByAggregateGroup",
    "orderByNulls",
    "orderByRelation",
    "prismaSchemaFolder",
    "queryCompiler",
    "reactNative",
    "referentialActions",
    "referentialIntegrity",
    "selectRelationCount",
    "tracing",
    "uncheckedScalarInputs",
];

/// `@default(...)` functions Prisma 7 knows.
const DEFAULT_FUNCTIONS: &[&str] = &[
    "autoincrement",
    "sequence",
    "now",
    "uuid",
    "cuid",
    "nanoid",
    "ulid",
    "dbgenerated",
    "auto",
];

/// Runs the block rules of this module (part of `validate`); the field
/// rules run from `checks`' walk over field attributes
/// ([`field_attribute`]), so the fields are visited once.
pub(crate) fn run(files: &[ast::SchemaFile], diags: &mut Diagnostics) {
    for file in files {
        for block in file.blocks() {
            match block.kind {
                BlockKind::Datasource => url_note(block, diags),
                BlockKind::Generator => preview_features(block, diags),
                _ => {}
            }
        }
    }
}

/// The field rules, for one attribute of `field`: the native type prefix,
/// `@default` functions and enum values.
pub(crate) fn field_attribute(
    field: &ast::Field,
    attr: &ast::Attribute,
    schema: &Schema,
    diags: &mut Diagnostics,
) {
    if attr.path.len() == 2 {
        if let Some(ds) = schema.datasources.first() {
            native_prefix(attr, &ds.name, diags);
        }
    } else if attr.path_is("default") {
        defaults(field, attr, schema, diags);
    }
}

/// The `provider` property of the first datasource with its string value.
fn provider(files: &[ast::SchemaFile]) -> Option<&ast::StringLit> {
    let ds = files
        .iter()
        .flat_map(|f| f.blocks())
        .find(|b| b.kind == BlockKind::Datasource)?;
    ds.items.iter().find_map(|i| match i {
        BlockItem::Property(p) if p.key.name == "provider" => match &p.value {
            Expr::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    })
}

/// `generate` and `merge` refuse a datasource whose provider is not
/// PostgreSQL, at the provider line. `validate` does not run this.
pub fn require_postgresql(files: &[ast::SchemaFile], diags: &mut Diagnostics) {
    let Some(p) = provider(files) else {
        return;
    };
    if matches!(p.value.as_str(), "postgresql" | "postgres") {
        return;
    }
    diags
        .error(
            p.span,
            format!(
                "the datasource's provider is `{}`, but idpviews targets PostgreSQL only",
                p.value
            ),
        )
        .label(format!("`{}` is not PostgreSQL", p.value))
        .note("the views, grants and triggers idpviews writes are PostgreSQL SQL; on another database they would not run, or would run differently")
        .help("idpviews serves an IDP and its products that share one PostgreSQL database (`provider = \"postgresql\"`); `idpviews validate` still checks a schema of any provider");
}

/// Prisma 6's `url = env(...)` in the datasource stays accepted (IDPs on
/// Prisma 6 exist); Prisma 7 moved it to `prisma.config.ts`.
fn url_note(block: &ast::Block, diags: &mut Diagnostics) {
    for item in &block.items {
        let BlockItem::Property(p) = item else {
            continue;
        };
        if matches!(
            p.key.name.as_str(),
            "url" | "directUrl" | "shadowDatabaseUrl"
        ) {
            diags
                .warning(
                    p.key.span,
                    format!(
                        "`{}` in the datasource is Prisma 6; Prisma 7 reads connection URLs from `prisma.config.ts`",
                        p.key.name
                    ),
                )
                .label("accepted for Prisma 6 schemas")
                .help("nothing to do for idpviews; when the IDP moves to Prisma 7, move the URL to `prisma.config.ts` (`datasource: { url: env(\"DATABASE_URL\") }`)");
        }
    }
}

/// Unknown preview features: a warning naming the known ones.
fn preview_features(block: &ast::Block, diags: &mut Diagnostics) {
    for item in &block.items {
        let BlockItem::Property(p) = item else {
            continue;
        };
        if p.key.name != "previewFeatures" {
            continue;
        }
        for e in p.value.as_list() {
            let Some(name) = e.as_str() else {
                continue;
            };
            if PREVIEW_FEATURES.contains(&name) || RETIRED_PREVIEW_FEATURES.contains(&name) {
                continue;
            }
            let hint = match did_you_mean(name, PREVIEW_FEATURES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            diags
                .warning(
                    e.span(),
                    format!("the preview feature `{name}` is not known"),
                )
                .label("unknown preview feature")
                .help(format!(
                    "{hint}Prisma 7 rejects unknown preview features; it knows: {}",
                    PREVIEW_FEATURES.join(", ")
                ));
        }
    }
}

/// `@dbx.VarChar`: the prefix of a native type must be the datasource's name.
fn native_prefix(attr: &ast::Attribute, datasource: &str, diags: &mut Diagnostics) {
    if attr.path[0].name == datasource {
        return;
    }
    {
        let prefix = &attr.path[0];
        diags
            .error(
                prefix.span,
                format!(
                    "the prefix `{}` of `@{}` is not the datasource's name `{datasource}`",
                    prefix.name,
                    attr.path_str()
                ),
            )
            .label("not the datasource name")
            .help(format!(
                "write `@{datasource}.{}`: native types are prefixed with the name of the datasource block",
                attr.path[1].name
            ));
    }
}

/// Enum defaults name existing values; `@default` functions are known.
fn defaults(field: &ast::Field, attr: &ast::Attribute, schema: &Schema, diags: &mut Diagnostics) {
    let Some(value) = attr.arg("value") else {
        return;
    };
    let items = match value {
        Expr::Array(items, _) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    for e in items {
        match e {
            Expr::Call { name, .. } => unknown_function(name, diags),
            Expr::Const(v, span) => enum_value(field, v, *span, schema, diags),
            _ => {}
        }
    }
}

fn unknown_function(name: &ast::Ident, diags: &mut Diagnostics) {
    if DEFAULT_FUNCTIONS.contains(&name.name.as_str()) {
        return;
    }
    let d = diags.error(
        name.span,
        format!(
            "unknown function in @default(): `{}` is not known",
            name.name
        ),
    );
    d.label("unknown function");
    match did_you_mean(&name.name, DEFAULT_FUNCTIONS.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}()`?")),
        None => d.help(format!("use one of {}()", DEFAULT_FUNCTIONS.join("(), "))),
    };
}

fn enum_value(field: &ast::Field, v: &str, span: Span, schema: &Schema, diags: &mut Diagnostics) {
    let ty = field.ty.name.name.as_str();
    if ScalarType::from_name(ty).is_some() {
        return; // `true`, `false` and the like
    }
    let Some(enum_) = schema.enum_(ty) else {
        return;
    };
    if enum_.value(v).is_some() {
        return;
    }
    let d = diags.error(
        span,
        format!(
            "the default value `{v}` is not a value of the enum `{}`",
            enum_.name
        ),
    );
    d.label("no such enum value");
    let values = enum_.values.iter().map(|x| x.name.as_str());
    match did_you_mean(v, values) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!(
            "use one of: {}",
            enum_
                .values
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
}

#[cfg(test)]
mod tests {
    use crate::prisma::parse_str;

    fn render(text: &str) -> String {
        let (sources, _, _, d) = parse_str("c.prisma", text);
        d.render(&sources, false)
    }

    #[test]
    fn each_rule_reports_once() {
        let out = render(
            "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n\ngenerator c {\n  provider = \"prisma-client\"\n  previewFeatures = [\"veiws\", \"multiSchema\"]\n}\n\nenum Kind {\n  ONE\n}\n\nmodel A {\n  id Int @id\n  s String @dbx.VarChar(10)\n  k Kind @default(GONE)\n  ks Kind[] @default([ONE, GONE])\n  t DateTime @default(nowx())\n}\n",
        );
        for want in [
            "warning: `url` in the datasource is Prisma 6",
            "warning: the preview feature `veiws` is not known",
            "did you mean `views`?",
            "error: the prefix `dbx` of `@dbx.VarChar` is not the datasource's name `db`",
            "error: the default value `GONE` is not a value of the enum `Kind`",
            "error: unknown function in @default(): `nowx` is not known",
            "did you mean `now()`?",
        ] {
            assert!(out.contains(want), "{want}\n{out}");
        }
        assert_eq!(out.matches("`GONE`").count(), 2, "{out}");
        assert!(!out.contains("`multiSchema` is not known"), "{out}");
    }

    #[test]
    fn only_postgresql_for_generate_and_merge() {
        for (provider, refused) in [
            ("postgresql", false),
            ("postgres", false),
            ("mysql", true),
            ("sqlite", true),
            ("cockroachdb", true),
        ] {
            let text = format!("datasource db {{\n  provider = \"{provider}\"\n}}\n");
            let (sources, files, _, mut d) = parse_str("p.prisma", &text);
            assert!(!d.has_errors(), "validate accepts {provider}");
            super::require_postgresql(&files, &mut d);
            assert_eq!(d.has_errors(), refused, "{provider}");
            if refused {
                let out = d.render(&sources, false);
                assert!(out.contains("targets PostgreSQL"), "{out}");
                assert!(out.contains("p.prisma:2:"), "{out}");
            }
        }
    }
}
