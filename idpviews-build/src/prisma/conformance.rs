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
use super::model::{FieldKind, Model, Schema};
use crate::diagnostics::Diagnostics;

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

/// Runs every rule of this module (part of `validate`).
pub(crate) fn run(files: &[ast::SchemaFile], schema: &Schema, diags: &mut Diagnostics) {
    let datasource = files
        .iter()
        .flat_map(|f| f.blocks())
        .find(|b| b.kind == BlockKind::Datasource);
    // models are built from the model/view/type blocks in file and source
    // order, one each (as in `checks`)
    let mut models = schema.models.iter();
    for file in files {
        for block in file.blocks() {
            match block.kind {
                BlockKind::Datasource => url_note(block, diags),
                BlockKind::Generator => preview_features(block, diags),
                BlockKind::Model | BlockKind::View | BlockKind::Type => {
                    let model = models.next();
                    for field in block.fields() {
                        if let Some(ds) = datasource {
                            native_prefix(field, &ds.name.name, diags);
                        }
                        defaults(model, field, schema, diags);
                    }
                }
                BlockKind::Enum => {}
            }
        }
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
            let hint = match super::analyze::suggest(name, PREVIEW_FEATURES.iter().copied()) {
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
fn native_prefix(field: &ast::Field, datasource: &str, diags: &mut Diagnostics) {
    for attr in &field.attributes {
        if attr.path.len() != 2 || attr.path[0].name == datasource {
            continue;
        }
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
fn defaults(model: Option<&Model>, field: &ast::Field, schema: &Schema, diags: &mut Diagnostics) {
    let Some(attr) = field.attributes.iter().find(|a| a.path_is("default")) else {
        return;
    };
    let Some(value) = attr.arg("value") else {
        return;
    };
    for e in value.as_list() {
        if let Expr::Call { name, .. } = e {
            if !DEFAULT_FUNCTIONS.contains(&name.name.as_str()) {
                let d = diags.error(
                    name.span,
                    format!(
                        "unknown function in @default(): `{}` is not known",
                        name.name
                    ),
                );
                d.label("unknown function");
                match super::analyze::suggest(&name.name, DEFAULT_FUNCTIONS.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}()`?")),
                    None => d.help(format!("use one of {}()", DEFAULT_FUNCTIONS.join("(), "))),
                };
            }
        }
    }
    if !value.as_list().iter().any(|e| matches!(e, Expr::Const(..))) {
        return;
    }
    let enum_ = model
        .and_then(|m| m.field(&field.name.name))
        .filter(|f| f.kind == FieldKind::Enum)
        .and_then(|f| schema.enum_(&f.type_name));
    let Some(enum_) = enum_ else {
        return;
    };
    for e in value.as_list() {
        let Expr::Const(v, span) = e else {
            continue;
        };
        if enum_.value(v).is_some() {
            continue;
        }
        let d = diags.error(
            *span,
            format!(
                "the default value `{v}` is not a value of the enum `{}`",
                enum_.name
            ),
        );
        d.label("no such enum value");
        let values = enum_.values.iter().map(|x| x.name.as_str());
        match super::analyze::suggest(v, values) {
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
