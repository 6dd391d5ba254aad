//! Resolving the allowlist against the IDP schema: what each view exposes,
//! with every guard that does not need the previous package (unknown model
//! or field, duplicates, relations, `Unsupported`, secrets, native types,
//! identifiers PostgreSQL cannot hold, tenant columns).

use super::secrets::secret_rule;
use super::types::{self, NativeTypeError};
use crate::allowlist::{Allowlist, Str, ViewEntry};
use crate::diagnostics::{Diagnostics, Span};
use crate::manifest::{ManifestColumn, ManifestEnum, ManifestEnumValue, ManifestView};
use crate::prisma::model::{Arity, FieldKind, Model, ModelKind, NativeType, ScalarType, Schema};
use crate::suggest::did_you_mean;
use std::collections::{BTreeMap, BTreeSet};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
pub(crate) const MAX_IDENT_BYTES: usize = 63;

/// Everything the renderers need.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// PostgreSQL schema of the views.
    pub schema: String,
    pub views: Vec<ViewPlan>,
    /// Enums used by exposed columns, sorted by name.
    pub enums: Vec<ManifestEnum>,
}

#[derive(Clone, Debug)]
pub(crate) struct ViewPlan {
    /// The manifest entry (columns in view order).
    pub view: ManifestView,
    /// Per column, in the same order: the native type kept on the Prisma field.
    pub natives: Vec<Option<NativeType>>,
    /// `@@unique([...])` sets (field names) whose fields are all exposed:
    /// compound ids and compound uniques of the model.
    pub compound_uniques: Vec<Vec<String>>,
    pub tenant: Option<TenantPlan>,
    /// Secret-looking fields exposed on purpose: (field, reason).
    pub secrets: Vec<(String, String)>,
}

/// Tenant isolation of a view.
#[derive(Clone, Debug)]
pub(crate) struct TenantPlan {
    /// Source column (database name).
    pub column: String,
    /// Its PostgreSQL type, for the cast of the declared tenant.
    pub sql_type: String,
    /// Columns (database names) the view exposes unmasked: the model's `@id`
    /// fields, the join key of products' relations.
    pub bare: Vec<String>,
}

/// Whether `name` can be a Prisma block or field name.
pub(crate) fn is_prisma_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why PostgreSQL cannot hold `name` as an identifier, if it cannot.
pub(crate) fn ident_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("it is empty".into())
    } else if name.len() > MAX_IDENT_BYTES {
        Some(format!(
            "it is {} bytes long; PostgreSQL identifiers hold at most {MAX_IDENT_BYTES} bytes (longer ones are silently truncated)",
            name.len()
        ))
    } else if name.contains('\0') {
        Some("it contains a NUL character".into())
    } else {
        None
    }
}

pub(crate) fn plan(allowlist: &Allowlist, schema: &Schema, diags: &mut Diagnostics) -> Plan {
    let views_schema = allowlist.schema_name().to_owned();
    check_views_schema(allowlist, schema, diags);
    let mut views = Vec::new();
    let mut enums: BTreeMap<String, ManifestEnum> = BTreeMap::new();
    let mut seen: BTreeMap<String, &Str> = BTreeMap::new();
    for entry in &allowlist.views {
        let lower = entry.name.value.to_lowercase();
        if let Some(first) = seen.get(&lower) {
            diags
                .error(
                    entry.name.span,
                    format!(
                        "view `{}` clashes with view `{}`: names differ only in case",
                        entry.name.value, first.value
                    ),
                )
                .label("second view with this name")
                .help("Prisma Client derives one accessor per view name (`idpUser`); rename one of them");
            continue;
        }
        seen.insert(lower, &entry.name);
        if let Some(v) = plan_view(
            entry,
            allowlist.default_source_schema(),
            schema,
            &mut enums,
            diags,
        ) {
            views.push(v);
        }
    }
    if let Some(owner) = &allowlist.tenant_view_owner {
        diags
            .error(
                owner.span,
                "`tenant_view_owner` is no longer used: tenant-isolated views need no owner role",
            )
            .label("remove this line")
            .help("the tenant filter is part of the view itself; the IDP tables are not changed (see docs/database.md, Tenant isolation)");
    }
    Plan {
        schema: views_schema,
        views,
        enums: enums.into_values().collect(),
    }
}

fn check_views_schema(allowlist: &Allowlist, schema: &Schema, diags: &mut Diagnostics) {
    if let Some(s) = &allowlist.source_schema {
        if let Some(problem) = ident_problem(&s.value) {
            diags
                .error(
                    s.span,
                    format!(
                        "`{}` cannot be a PostgreSQL schema name: {problem}",
                        s.value
                    ),
                )
                .help("name the schema that holds the IDP's tables, e.g. `idp`");
        }
    }
    let Some(s) = &allowlist.schema else {
        return;
    };
    let name = &s.value;
    if let Some(problem) = ident_problem(name) {
        diags
            .error(
                s.span,
                format!("`{name}` cannot be a PostgreSQL schema name: {problem}"),
            )
            .help(format!(
                "use a short name such as `{}`",
                crate::allowlist::DEFAULT_SCHEMA
            ));
    } else if name.to_lowercase().starts_with("pg_") {
        diags
            .error(
                s.span,
                format!(
                    "`{name}` cannot be a schema name: the `pg_` prefix is reserved by PostgreSQL"
                ),
            )
            .help(format!(
                "use a name such as `{}`",
                crate::allowlist::DEFAULT_SCHEMA
            ));
    } else if let Some(m) = schema.plain_models().find(|m| {
        m.schema
            .as_ref()
            .map(|(sch, _)| sch.as_str())
            .unwrap_or(allowlist.default_source_schema())
            == name
    }) {
        diags
            .error(
                s.span,
                format!("the views schema `{name}` holds IDP tables (e.g. model `{}`)", m.name),
            )
            .label("views must live in their own schema")
            .help("products get access to the whole views schema; choose a schema of its own, e.g. `idp_views`");
    }
}

fn model_candidates(schema: &Schema) -> impl Iterator<Item = &str> {
    schema
        .models
        .iter()
        .filter(|m| m.kind != ModelKind::Composite)
        .map(|m| m.name.as_str())
}

fn plan_view(
    entry: &ViewEntry,
    default_source_schema: &str,
    schema: &Schema,
    enums: &mut BTreeMap<String, ManifestEnum>,
    diags: &mut Diagnostics,
) -> Option<ViewPlan> {
    let name = &entry.name.value;
    let mut ok = true;
    if !is_prisma_identifier(name) {
        diags
            .error(entry.name.span, format!("`{name}` is not a valid view name"))
            .help("a view name starts with a letter and holds only ASCII letters, digits and `_` (e.g. `IdpUser`)");
        ok = false;
    } else if let Some(problem) = ident_problem(name) {
        diags
            .error(
                entry.name.span,
                format!("view name `{name}` is too long: {problem}"),
            )
            .help("choose a shorter view name");
        ok = false;
    }

    // the model
    let Some(model) = schema
        .model(&entry.model.value)
        .filter(|m| m.kind != ModelKind::Composite)
    else {
        let d = diags.error(
            entry.model.span,
            format!("unknown model `{}`", entry.model.value),
        );
        d.label("no such model in the IDP schema");
        if schema
            .model(&entry.model.value)
            .is_some_and(|m| m.kind == ModelKind::Composite)
        {
            d.help("composite types (`type`) have no table of their own; expose the model that holds them");
        } else if let Some(s) = did_you_mean(&entry.model.value, model_candidates(schema)) {
            d.help(format!("did you mean `{s}`?"));
        } else {
            let mut names: Vec<&str> = model_candidates(schema).collect();
            names.truncate(20);
            d.help(format!(
                "the IDP schema has these models: {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return None;
    };

    let source_schema = model
        .schema
        .as_ref()
        .map(|(s, _)| s.clone())
        .unwrap_or_else(|| default_source_schema.to_owned());
    for (what, ident) in [
        ("schema", source_schema.as_str()),
        ("table", model.db_name.as_str()),
    ] {
        if let Some(problem) = ident_problem(ident) {
            diags
                .error(
                    entry.model.span,
                    format!(
                        "the {what} name `{ident}` of model `{}` cannot be used: {problem}",
                        model.name
                    ),
                )
                .help("fix the model's `@@schema` / `@@map` in the IDP schema");
            ok = false;
        }
    }

    let opted_in: BTreeMap<&str, &Str> = entry
        .allow_secrets
        .iter()
        .map(|(f, r)| (f.value.as_str(), r))
        .collect();

    // the fields
    let mut columns = Vec::new();
    let mut natives = Vec::new();
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    let mut secrets = Vec::new();
    for f in &entry.fields {
        if !listed.insert(f.value.as_str()) {
            diags
                .error(
                    f.span,
                    format!("field `{}` is listed twice in view `{name}`", f.value),
                )
                .label("listed again here")
                .help("remove the second entry");
            ok = false;
            continue;
        }
        let Some(field) = model.field(&f.value) else {
            unknown_field(f, model, diags);
            ok = false;
            continue;
        };
        match column(
            entry,
            default_source_schema,
            f,
            model,
            field,
            enums,
            schema,
            diags,
        ) {
            Some((col, native)) => {
                // secrets
                let rule = secret_rule(&field.name).or_else(|| secret_rule(&field.column));
                if let Some(rule) = rule {
                    match opted_in.get(field.name.as_str()) {
                        Some(reason) => {
                            secrets.push((field.name.to_string(), reason.value.trim().to_owned()))
                        }
                        None => {
                            diags
                                .error(
                                    f.span,
                                    format!("field `{}` of `{}` looks like a secret and is not exposed", field.name, model.name),
                                )
                                .label(format!("matches the built-in secret word `{rule}`"))
                                .note("credentials and security state (passwords, PINs, tokens, hashes, OTP/MFA, lockout counters, ...) never leave the IDP by default")
                                .help(format!(
                                    "remove it from `fields`; if products truly need it, opt in with a written reason: `allow_secrets = {{ {} = \"why\" }}` in `[views.{name}]`",
                                    field.name
                                ));
                            ok = false;
                            continue;
                        }
                    }
                }
                columns.push(col);
                natives.push(native);
            }
            None => ok = false,
        }
    }

    // opt-ins that do not apply
    for (field, _) in &entry.allow_secrets {
        if !listed.contains(field.value.as_str()) {
            let d = diags.error(
                field.span,
                format!(
                    "`allow_secrets` names `{}`, which is not in `fields`",
                    field.value
                ),
            );
            d.label("not an exposed field");
            match did_you_mean(&field.value, entry.fields.iter().map(|f| f.value.as_str())) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("list the field in `fields` too, or remove the opt-in"),
            };
            ok = false;
        } else if model
            .field(&field.value)
            .is_some_and(|mf| secret_rule(&mf.name).is_none() && secret_rule(&mf.column).is_none())
        {
            diags
                .warning(
                    field.span,
                    format!(
                        "`{}` does not look like a secret; the opt-in is not needed",
                        field.value
                    ),
                )
                .help("remove it from `allow_secrets`");
        }
    }

    // tenant isolation
    let mut tenant = None;
    if let Some(t) = &entry.tenant_column {
        tenant = tenant_plan(t, model, diags);
        ok &= tenant.is_some();
    }

    if !ok {
        return None;
    }

    // uniques: a single-field `@id` / `@unique` is on the column; compound
    // ones become `@@unique` when every field is exposed
    let exposed = |set: &Vec<String>| set.iter().all(|f| listed.contains(f.as_str()));
    let mut compound_uniques = Vec::new();
    if model.id.len() > 1 && exposed(&model.id) {
        compound_uniques.push(model.id.clone());
    }
    for set in &model.uniques {
        if set.len() > 1 && exposed(set) && !compound_uniques.contains(set) {
            compound_uniques.push(set.clone());
        }
    }
    if !columns.iter().any(|c: &ManifestColumn| c.unique) && compound_uniques.is_empty() {
        diags
            .warning(
                entry.fields_span,
                format!("view `{name}` exposes no unique field"),
            )
            .label("none of these is `@id` or `@unique` in the model")
            .help("expose the model's id so products can relate to the view and Prisma Client can read it");
    }

    Some(ViewPlan {
        view: ManifestView {
            name: name.clone(),
            model: model.name.to_string(),
            source_schema,
            source_table: model.db_name.to_string(),
            doc: model.doc.clone(),
            tenant_field: entry.tenant_column.as_ref().map(|t| t.value.clone()),
            tenant_column: tenant.as_ref().map(|t| t.column.clone()),
            tenant_owner: None,
            columns,
        },
        natives,
        compound_uniques,
        tenant,
        secrets,
    })
}

fn unknown_field(f: &Str, model: &Model, diags: &mut Diagnostics) {
    let d = diags.error(
        f.span,
        format!("model `{}` has no field `{}`", model.name, f.value),
    );
    d.label("unknown field");
    let names = model.fields.iter().map(|f| f.name.as_str());
    match did_you_mean(&f.value, names) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => {
            let columns: Vec<String> = model
                .fields
                .iter()
                .filter(|f| !f.is_relation())
                .map(|f| format!("`{}`", f.name))
                .collect();
            d.help(format!(
                "the fields of `{}` are: {}",
                model.name,
                columns.join(", ")
            ))
        }
    };
}

/// The manifest column for one listed field (and the native type kept), or
/// `None` after reporting why it cannot be exposed.
#[allow(clippy::too_many_arguments)]
fn column(
    entry: &ViewEntry,
    default_source_schema: &str,
    f: &Str,
    model: &Model,
    field: &crate::prisma::model::Field,
    enums: &mut BTreeMap<String, ManifestEnum>,
    schema: &Schema,
    diags: &mut Diagnostics,
) -> Option<(ManifestColumn, Option<NativeType>)> {
    if let Some(problem) = ident_problem(&field.column) {
        diags
            .error(
                f.span,
                format!(
                    "the column `{}` of `{}.{}` cannot be exposed: {problem}",
                    field.column, model.name, field.name
                ),
            )
            .help("give the field a shorter `@map(\"...\")` in the IDP schema");
        return None;
    }
    let list = field.arity == Arity::List;
    let nullable = field.arity == Arity::Optional;
    let unique = (field.is_id && model.id.len() == 1) || field.is_unique;
    let mut doc = field.doc.clone();
    let (prisma_type, sql_type, native, enum_name) = match &field.kind {
        FieldKind::Scalar(s) => {
            let sql = match types::sql_type(*s, field.native_type.as_ref()) {
                Ok(sql) => sql,
                Err(e) => {
                    native_type_error(&entry.name.value, field, *s, e, diags);
                    return None;
                }
            };
            (s.name().to_owned(), sql, field.native_type.clone(), None)
        }
        FieldKind::Enum => {
            let Some(e) = schema.enum_(&field.type_name) else {
                return None; // reported by the analysis
            };
            enums
                .entry(e.name.to_string())
                .or_insert_with(|| ManifestEnum {
                    name: e.name.to_string(),
                    source_schema: e
                        .schema
                        .as_ref()
                        .map(|(s, _)| s.clone())
                        .unwrap_or_else(|| default_source_schema.to_owned()),
                    db_name: e.db_name.to_string(),
                    values: e
                        .values
                        .iter()
                        .map(|v| ManifestEnumValue {
                            name: v.name.to_string(),
                            label: v.db_name.to_string(),
                        })
                        .collect(),
                    doc: e.doc.clone(),
                });
            let line = format!("IDP enum `{}`, exposed as text", e.name);
            doc = Some(match doc {
                Some(d) => format!("{d}\n{line}"),
                None => line,
            });
            (
                "String".to_owned(),
                "text".to_owned(),
                None,
                Some(e.name.clone()),
            )
        }
        FieldKind::Model | FieldKind::View => {
            let d = diags.error(
                f.span,
                format!(
                    "`{}` is a relation field (to `{}`); views expose columns, not relations",
                    field.name, field.type_name
                ),
            );
            d.label("relation field");
            match field.relation.as_ref().filter(|r| !r.fields.is_empty()) {
                Some(r) => d.help(format!(
                    "expose its foreign-key field{} instead: {}",
                    if r.fields.len() == 1 { "" } else { "s" },
                    r.fields.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
                )),
                None => d.help(format!(
                    "remove it; products relate to view `{}` from their own models (idp-relations.conf)",
                    entry.name.value
                )),
            };
            return None;
        }
        FieldKind::Composite => {
            diags
                .error(
                    f.span,
                    format!(
                        "`{}` has a composite type (`{}`), which has no column",
                        field.name, field.type_name
                    ),
                )
                .help("remove it from `fields`");
            return None;
        }
        FieldKind::Unsupported(db) => {
            diags
                .error(
                    f.span,
                    format!("`{}` has type `Unsupported(\"{db}\")`, which Prisma Client cannot read", field.name),
                )
                .label("unsupported type")
                .help("remove it from `fields`, or give the column a supported type in the IDP schema");
            return None;
        }
        FieldKind::Unknown => return None, // reported by the analysis
    };
    let sql_type = if list {
        format!("{sql_type}[]")
    } else {
        sql_type
    };
    Some((
        ManifestColumn {
            field: field.name.to_string(),
            column: field.column.to_string(),
            prisma_type,
            native_type: native.as_ref().map(types::native_type_attr),
            sql_type,
            nullable,
            list,
            unique,
            enum_name: enum_name.map(String::from),
            doc,
        },
        native,
    ))
}

fn native_type_error(
    view: &str,
    field: &crate::prisma::model::Field,
    scalar: ScalarType,
    e: NativeTypeError,
    diags: &mut Diagnostics,
) {
    let Some(native) = &field.native_type else {
        return;
    };
    let span: Span = native.span;
    if diags
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error && d.span == Some(span))
    {
        return; // the schema analysis already explained it
    }
    let attr = types::native_type_attr(native);
    let d = match e {
        NativeTypeError::Unknown => {
            let d = diags.error(span, format!("unknown PostgreSQL native type `{attr}`"));
            d.label("not a native type idpviews can map");
            match did_you_mean(&native.name, types::native_type_names()) {
                Some(s) => d.help(format!("did you mean `@db.{s}`?")),
                None => d.help(format!(
                    "remove field `{}` from the allowlist, or use a supported native type",
                    field.name
                )),
            };
            d
        }
        NativeTypeError::WrongScalar(needs) => diags
            .error(
                span,
                format!("`{attr}` does not go with type `{}`", scalar.name()),
            )
            .label(format!("`@db.{}` is for `{needs}` fields", native.name))
            .help("fix the field's type or native type in the IDP schema"),
        NativeTypeError::BadArgs(expected) => diags
            .error(span, format!("bad arguments in `{attr}`"))
            .label(format!("expected {expected}"))
            .help("fix the native type in the IDP schema"),
    };
    d.note(format!("while exposing `{}` in view `{view}`", field.name));
}

fn tenant_plan(t: &Str, model: &Model, diags: &mut Diagnostics) -> Option<TenantPlan> {
    let Some(field) = model.field(&t.value) else {
        let d = diags.error(
            t.span,
            format!("model `{}` has no field `{}`", model.name, t.value),
        );
        d.label("unknown tenant column");
        if let Some(s) = did_you_mean(&t.value, model.fields.iter().map(|f| f.name.as_str())) {
            d.help(format!("did you mean `{s}`?"));
        } else {
            d.help("name the field that holds the tenant id, e.g. `tenant_column = \"tenantId\"`");
        }
        return None;
    };
    let scalar = match field.kind {
        FieldKind::Scalar(s @ (ScalarType::String | ScalarType::Int | ScalarType::BigInt))
            if field.arity != Arity::List =>
        {
            s
        }
        _ => {
            diags
                .error(
                    t.span,
                    format!(
                        "`{}` cannot be a tenant column: it is `{}{}`",
                        field.name,
                        field.type_name,
                        match field.arity {
                            Arity::List => "[]",
                            Arity::Optional => "?",
                            Arity::Required => "",
                        }
                    ),
                )
                .label("tenant column")
                .help("use a single `String` (or `@db.Uuid`), `Int` or `BigInt` column holding the tenant id");
            return None;
        }
    };
    if let Some(problem) = ident_problem(&field.column) {
        diags.error(
            t.span,
            format!(
                "the tenant column `{}` cannot be used: {problem}",
                field.column
            ),
        );
        return None;
    }
    let sql_type = types::sql_type(scalar, field.native_type.as_ref()).ok()?;
    let bare = model
        .id
        .iter()
        .filter_map(|id| model.field(id))
        .map(|f| f.column.to_string())
        .collect();
    Some(TenantPlan {
        column: field.column.to_string(),
        sql_type,
        bare,
    })
}
