//! `include_views!()`: a struct per view, an enum per IDP enum, `package()`.

use crate::input::ViewsInput;
use crate::load::{self, Loaded};
use crate::naming;
use crate::types::{self, MapError};
use idpviews_core::manifest::{ManifestEnum, ManifestView};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::BTreeMap;
use std::path::Path;

/// Errors collected while expanding; the expansion goes on without the
/// offending item so that one mistake does not cascade.
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, msg));
    }

    /// An error covering all of `tokens` (e.g. a whole type, not only its
    /// first token).
    pub(crate) fn push_spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        msg: impl std::fmt::Display,
    ) {
        self.0.push(syn::Error::new_spanned(tokens, msg));
    }

    pub(crate) fn push_error(&mut self, e: syn::Error) {
        self.0.push(e);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.0.iter().map(syn::Error::to_compile_error).collect()
    }
}

/// One decoded field of a row struct.
pub(crate) struct RowField {
    pub(crate) ident: Ident,
    pub(crate) column: String,
    /// An `oid` column (sqlx decodes it through its `Oid` wrapper).
    pub(crate) oid: bool,
}

/// What a row struct reads: its view and fields, in column order.
pub(crate) struct RowSpec<'a> {
    pub(crate) name: &'a Ident,
    pub(crate) schema: &'a str,
    pub(crate) view: &'a str,
    pub(crate) fields: &'a [RowField],
}

pub(crate) use idpviews_core::sql::quote_ident;

/// `include_views!(...)`.
pub(crate) fn include_views(input: ViewsInput) -> TokenStream {
    match load::load(input.path.as_ref()) {
        Ok(loaded) => {
            let span = input
                .path
                .as_ref()
                .map_or_else(Span::call_site, syn::LitStr::span);
            views(&loaded, span)
        }
        Err(e) => e.to_compile_error(),
    }
}

/// The items for a whole manifest. `span` is where manifest-level errors
/// point (the `path` argument, or the macro call).
pub(crate) fn views(loaded: &Loaded, span: Span) -> TokenStream {
    let m = &loaded.manifest;
    let mut errors = Errors::default();

    let mut enum_items = TokenStream::new();
    for e in &m.enums {
        enum_items.extend(enum_item(e, span, &mut errors));
    }
    let mut view_items = TokenStream::new();
    for v in &m.views {
        view_items.extend(view_item(&m.schema, v, m, span, &mut errors));
    }

    let schema = &m.schema;
    let json = path_lit(&loaded.manifest_path);
    let package = match &loaded.sql_path {
        Some(sql) => {
            let sql = path_lit(sql);
            quote! {
                /// The views package these types were generated from (manifest and SQL,
                /// embedded at compile time): what `idpviews::apply` and
                /// `idpviews::verify` work from.
                #[allow(dead_code)]
                pub fn package() -> &'static ::idpviews::Package {
                    static PACKAGE: ::std::sync::OnceLock<::idpviews::Package> =
                        ::std::sync::OnceLock::new();
                    ::idpviews::__private::package(
                        &PACKAGE,
                        ::core::include_str!(#json),
                        ::core::include_str!(#sql),
                    )
                }
            }
        }
        None => {
            errors.push(
                span,
                format!(
                    "no `{}` next to `{}`: the views package is incomplete",
                    idpviews_core::manifest::SQL_FILE,
                    loaded.manifest_path.display()
                ),
            );
            quote! {
                const _: &str = ::core::include_str!(#json);
            }
        }
    };
    let errors = errors.to_compile_errors();
    quote! {
        /// The PostgreSQL schema holding the views.
        #[allow(dead_code)]
        pub const SCHEMA: &str = #schema;
        #package
        #enum_items
        #view_items
        #errors
    }
}

fn path_lit(p: &Path) -> Literal {
    Literal::string(&p.to_string_lossy())
}

fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(doc) = doc {
        for line in doc.lines() {
            let line = format!(" {}", line.trim_end());
            out.extend(quote!(#[doc = #line]));
        }
    }
    out
}

fn view_item(
    schema: &str,
    v: &ManifestView,
    m: &idpviews_core::manifest::Manifest,
    span: Span,
    errors: &mut Errors,
) -> TokenStream {
    let Some(name) = naming::ident(&v.name, Span::call_site()) else {
        errors.push(
            span,
            format!("view `{}` has no valid Rust type name", v.name),
        );
        return TokenStream::new();
    };
    let mut fields = Vec::new();
    let mut defs = TokenStream::new();
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for c in &v.columns {
        let rust = naming::snake_case(&c.field);
        let Some(ident) = naming::ident(&rust, Span::call_site()) else {
            errors.push(
                span,
                format!(
                    "field `{}` of view `{}` has no valid Rust name (`{rust}`)",
                    c.field, v.name
                ),
            );
            continue;
        };
        if let Some(other) = seen.insert(rust.clone(), &c.field) {
            errors.push(
                span,
                format!(
                    "fields `{other}` and `{}` of view `{}` both become `{rust}` in Rust",
                    c.field, v.name
                ),
            );
            continue;
        }
        let ty = match types::map_column(c) {
            Ok(t) => t,
            Err(MapError::Unmappable) => {
                errors.push(
                    span,
                    format!(
                        "cannot map field `{}` of view `{}` to a Rust type: column `{}` is `{}` (Prisma `{}`), which no supported Rust type decodes\n\
                         help: leave the field out of the view in the IDP allowlist, or expose it with a cast to a supported type",
                        c.field,
                        v.name,
                        c.column,
                        c.sql_type,
                        types::prisma_display(c),
                    ),
                );
                continue;
            }
            Err(MapError::FeatureOff(feature)) => {
                let feature = if feature == "chrono" {
                    "chrono` or `time"
                } else {
                    feature
                };
                errors.push(
                    span,
                    format!(
                        "field `{}` of view `{}` is `{}`: enable the `{feature}` feature of `idpviews` to use it",
                        c.field, v.name, c.sql_type
                    ),
                );
                continue;
            }
        };
        if let types::Scalar::Enum(e) = &ty.scalar {
            if m.enum_(e).is_none() {
                errors.push(
                    span,
                    format!(
                        "field `{}` of view `{}` names enum `{e}`, which the manifest does not define",
                        c.field, v.name
                    ),
                );
                continue;
            }
        }
        let mut doc = String::new();
        if let Some(d) = &c.doc {
            doc.push_str(d);
            doc.push_str("\n\n");
        }
        doc.push_str(&format!(
            "Column `{}`: `{}`{}.",
            c.column,
            c.sql_type,
            if c.nullable { ", nullable" } else { "" }
        ));
        if let Some(e) = &c.enum_name {
            doc.push_str(&format!(" Values of the IDP enum [`{e}`]."));
        }
        let docs = doc_attrs(Some(&doc));
        let rename = if cfg!(feature = "serde") {
            let f = &c.field;
            quote!(#[serde(rename = #f)])
        } else {
            TokenStream::new()
        };
        let t = ty.tokens();
        defs.extend(quote! {
            #docs
            #rename
            pub #ident: #t,
        });
        fields.push(RowField {
            ident,
            column: c.column.clone(),
            oid: ty.scalar == types::Scalar::Oid,
        });
    }

    let mut doc = String::new();
    if let Some(d) = &v.doc {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "A row of the view `{}`.`{}` (IDP model `{}`, table `{}`.`{}`). Read-only.",
        schema, v.name, v.model, v.source_schema, v.source_table
    ));
    let docs = doc_attrs(Some(&doc));
    let serde = if cfg!(feature = "serde") {
        quote! {
            #[derive(::idpviews::__private::serde::Serialize, ::idpviews::__private::serde::Deserialize)]
            #[serde(crate = "::idpviews::__private::serde")]
        }
    } else {
        TokenStream::new()
    };
    let impls = row_impls(&RowSpec {
        name: &name,
        schema,
        view: &v.name,
        fields: &fields,
    });
    quote! {
        #docs
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
        #serde
        #[allow(dead_code)]
        pub struct #name {
            #defs
        }
        #impls
    }
}

/// Constants, select-list helpers, `FromRow` and `TryFrom<&Row>` for a row
/// struct (generated or `#[row]`).
pub(crate) fn row_impls(spec: &RowSpec<'_>) -> TokenStream {
    let name = spec.name;
    let schema = spec.schema;
    let view = spec.view;
    let columns: Vec<&str> = spec.fields.iter().map(|f| f.column.as_str()).collect();
    let from = format!("{}.{}", quote_ident(schema), quote_ident(view));
    let select_list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!("SELECT {select_list} FROM {from}");
    let idents: Vec<&Ident> = spec.fields.iter().map(|f| &f.ident).collect();
    let positions: Vec<Literal> = (0..spec.fields.len())
        .map(Literal::usize_unsuffixed)
        .collect();
    let doc_select = format!(" `{select}`");
    let doc_from = format!(" `{from}`");
    let doc_list = format!(" `{select_list}`");
    let p = quote!(::idpviews::__private);
    let sqlx = sqlx_impls(spec);
    quote! {
        #[allow(dead_code)]
        impl #name {
            /// The PostgreSQL schema of the view.
            pub const SCHEMA: &'static str = #schema;
            /// The view name.
            pub const VIEW: &'static str = #view;
            /// The columns read, in field order.
            pub const COLUMNS: &'static [&'static str] = &[#(#columns),*];
            /// The qualified, quoted view name:
            #[doc = #doc_from]
            pub const FROM: &'static str = #from;
            /// The quoted columns, in field order:
            #[doc = #doc_list]
            pub const SELECT_LIST: &'static str = #select_list;
            /// A statement selecting the columns from the view:
            #[doc = #doc_select]
            pub const SELECT: &'static str = #select;

            /// The columns in field order, quoted, with `AS "<prefix><column>"`
            /// and qualified by `alias`: the select list of a JOIN that
            /// [`::idpviews::Prefixed`] decodes.
            pub fn select_list_as(alias: &str, prefix: &str) -> ::std::string::String {
                #p::select_list_as(Self::COLUMNS, alias, prefix)
            }

            /// Finds the columns aliased with `prefix` in a result (see
            /// [`Self::select_list_as`]), once, to decode each of its rows.
            pub fn prefixed<C: #p::ColumnName>(
                columns: &[C],
                prefix: &str,
            ) -> ::core::result::Result<::idpviews::Prefixed<Self>, ::idpviews::RowError> {
                ::idpviews::Prefixed::new(columns, prefix)
            }
        }

        impl ::idpviews::FromRow for #name {
            const VIEW: &'static str = #view;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];

            /// Positions `0..N`: the constant indices fold away once inlined.
            #[inline]
            fn from_row(row: &#p::Row) -> ::core::result::Result<Self, ::idpviews::RowError> {
                <Self as ::idpviews::FromRow>::from_row_at(row, &[#(#positions),*])
            }

            #[inline(always)]
            fn from_row_at(
                row: &#p::Row,
                indices: &[usize],
            ) -> ::core::result::Result<Self, ::idpviews::RowError> {
                use #p::get;
                #p::check_indices(indices, #view, <Self as ::idpviews::FromRow>::COLUMNS)?;
                ::core::result::Result::Ok(Self {
                    #( #idents: get(row, indices[#positions], #view, #columns)?, )*
                })
            }
        }

        impl<'a> ::core::convert::TryFrom<&'a #p::Row> for #name {
            type Error = ::idpviews::RowError;

            #[inline]
            fn try_from(row: &'a #p::Row) -> ::core::result::Result<Self, ::idpviews::RowError> {
                <Self as ::idpviews::FromRow>::from_row(row)
            }
        }

        #sqlx
    }
}

/// With the `sqlx` feature of `idpviews`: `sqlx::FromRow<'_, PgRow>` (by
/// column name, as sqlx's derive) and `DecodeAt<PgRow>` (by position, for
/// `Prefixed`).
fn sqlx_impls(spec: &RowSpec<'_>) -> TokenStream {
    if !cfg!(feature = "sqlx") {
        return TokenStream::new();
    }
    let name = spec.name;
    let view = spec.view;
    let p = quote!(::idpviews::__private);
    let pg_row = quote!(#p::sqlx::postgres::PgRow);
    let by_name = spec.fields.iter().map(|f| {
        let ident = &f.ident;
        let column = &f.column;
        if f.oid {
            quote!(#ident: #p::sqlx_rows::get_oid(row, #column)?,)
        } else {
            quote!(#ident: #p::sqlx_rows::get(row, #column)?,)
        }
    });
    let at = spec.fields.iter().enumerate().map(|(k, f)| {
        let ident = &f.ident;
        let column = &f.column;
        let k = Literal::usize_unsuffixed(k);
        if f.oid {
            quote!(#ident: #p::sqlx_rows::get_oid_at(row, indices[#k], #view, #column)?,)
        } else {
            quote!(#ident: #p::sqlx_rows::get_at(row, indices[#k], #view, #column)?,)
        }
    });
    quote! {
        impl<'r> #p::sqlx::FromRow<'r, #pg_row> for #name {
            /// Reads each column by name, as `#[derive(sqlx::FromRow)]` does.
            #[inline]
            fn from_row(row: &'r #pg_row) -> ::core::result::Result<Self, #p::sqlx::Error> {
                ::core::result::Result::Ok(Self {
                    #(#by_name)*
                })
            }
        }

        impl #p::DecodeAt<#pg_row> for #name {
            #[inline(always)]
            fn decode_at(
                row: &#pg_row,
                indices: &[usize],
            ) -> ::core::result::Result<Self, ::idpviews::RowError> {
                #p::check_indices(indices, #view, <Self as ::idpviews::FromRow>::COLUMNS)?;
                ::core::result::Result::Ok(Self {
                    #(#at)*
                })
            }
        }
    }
}

fn enum_item(e: &ManifestEnum, span: Span, errors: &mut Errors) -> TokenStream {
    let Some(name) = naming::ident(&e.name, Span::call_site()) else {
        errors.push(
            span,
            format!("enum `{}` has no valid Rust type name", e.name),
        );
        return TokenStream::new();
    };
    let mut variants = Vec::new();
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for v in &e.values {
        let rust = naming::upper_camel_case(&v.name);
        let Some(ident) = naming::ident(&rust, Span::call_site()) else {
            errors.push(
                span,
                format!(
                    "value `{}` of enum `{}` has no valid Rust name (`{rust}`)",
                    v.name, e.name
                ),
            );
            continue;
        };
        if let Some(other) = seen.insert(rust.clone(), &v.name) {
            errors.push(
                span,
                format!(
                    "values `{other}` and `{}` of enum `{}` both become `{rust}` in Rust",
                    v.name, e.name
                ),
            );
            continue;
        }
        variants.push((ident, v));
    }
    // The catch-all is `Unknown`, unless a value already took that name.
    let unknown = if seen.contains_key("Unknown") {
        format_ident!("UnknownLabel")
    } else {
        format_ident!("Unknown")
    };
    let idents: Vec<&Ident> = variants.iter().map(|(i, _)| i).collect();
    let labels: Vec<&str> = variants.iter().map(|(_, v)| v.label.as_str()).collect();
    let prisma: Vec<&str> = variants.iter().map(|(_, v)| v.name.as_str()).collect();
    let variant_docs: Vec<String> = variants
        .iter()
        .map(|(_, v)| {
            if v.name == v.label {
                format!(" `{}`", v.name)
            } else {
                format!(" `{}` (database label `{}`)", v.name, v.label)
            }
        })
        .collect();
    let mut doc = String::new();
    if let Some(d) = &e.doc {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "The IDP enum `{}` (PostgreSQL `{}`.`{}`). A label this code does not know decodes as \
         `{unknown}(label)` instead of failing.",
        e.name, e.source_schema, e.db_name
    ));
    let docs = doc_attrs(Some(&doc));
    let ename = &e.name;
    let schema = &e.source_schema;
    let db_name = &e.db_name;
    let p = quote!(::idpviews::__private);
    let serde = if cfg!(feature = "serde") {
        quote!(#p::enum_serde!(#name);)
    } else {
        TokenStream::new()
    };
    let sqlx = if cfg!(feature = "sqlx") {
        quote!(#p::enum_sqlx!(#name);)
    } else {
        TokenStream::new()
    };
    quote! {
        #docs
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash)]
        #[allow(dead_code)]
        pub enum #name {
            #( #[doc = #variant_docs] #idents, )*
            /// A label this code does not know, e.g. one the IDP added later.
            #unknown(::std::string::String),
        }

        #[allow(dead_code)]
        impl #name {
            /// The Prisma enum name.
            pub const NAME: &'static str = #ename;
            /// The PostgreSQL schema of the IDP enum type.
            pub const DB_SCHEMA: &'static str = #schema;
            /// The PostgreSQL name of the IDP enum type.
            pub const DB_NAME: &'static str = #db_name;
            /// The database labels this code knows, in declaration order.
            pub const LABELS: &'static [&'static str] = &[#(#labels),*];
            /// The known values, in declaration order.
            pub const VALUES: &'static [#name] = &[#(#name::#idents),*];

            /// The database label (for `Unknown`, the label it was read from).
            pub fn as_str(&self) -> &str {
                match self {
                    #( #name::#idents => #labels, )*
                    #name::#unknown(label) => label.as_str(),
                }
            }

            /// The value for a database label, `Unknown` for one this code
            /// does not know.
            pub fn from_label(label: &str) -> Self {
                match label {
                    #( #labels => #name::#idents, )*
                    other => #name::#unknown(::std::borrow::ToOwned::to_owned(other)),
                }
            }

            /// The Prisma value name (`None` for `Unknown`).
            pub fn prisma_name(&self) -> ::core::option::Option<&'static str> {
                match self {
                    #( #name::#idents => ::core::option::Option::Some(#prisma), )*
                    #name::#unknown(_) => ::core::option::Option::None,
                }
            }

            /// `false` for a label this code does not know.
            pub fn is_known(&self) -> bool {
                !::core::matches!(self, #name::#unknown(_))
            }
        }

        impl #p::IdpEnum for #name {
            const NAME: &'static str = #ename;
            const DB_SCHEMA: &'static str = #schema;
            const DB_NAME: &'static str = #db_name;
            const LABELS: &'static [&'static str] = &[#(#labels),*];

            fn from_label(label: &str) -> Self {
                #name::from_label(label)
            }

            fn as_str(&self) -> &str {
                #name::as_str(self)
            }

            fn is_known(&self) -> bool {
                #name::is_known(self)
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #name {
            type Err = ::core::convert::Infallible;

            /// Parses a database label; never fails (see `Unknown`).
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(#name::from_label(s))
            }
        }

        impl ::core::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        #p::enum_sql!(#name);
        #serde
        #sqlx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idpviews_core::manifest::Manifest;
    use std::sync::Arc;

    /// A package of `n` views with 15 columns each (mixed types, one enum),
    /// built through the manifest's JSON form.
    pub(crate) fn synthetic(n: usize) -> Loaded {
        let cols = [
            ("id", "uuid"),
            ("email", "text"),
            ("firstName", "text"),
            ("lastName", "text"),
            ("mobileNumber", "character varying(32)"),
            ("isActive", "boolean"),
            ("tenantId", "uuid"),
            ("loginCount", "integer"),
            ("balance", "bigint"),
            ("score", "double precision"),
            ("createdAt", "timestamp(3) without time zone"),
            ("updatedAt", "timestamp(3) without time zone"),
            ("tags", "text[]"),
            ("avatarUrl", "text"),
        ];
        let mut columns: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(k, (f, t))| {
                format!(
                    r#"{{"field": "{f}", "column": "{f}", "prisma_type": "String", "sql_type": "{t}",
                        "nullable": {}, "list": {}, "doc": "The {f}."}}"#,
                    k % 3 == 1,
                    t.ends_with("[]")
                )
            })
            .collect();
        columns.push(
            r#"{"field": "kind", "column": "kind", "prisma_type": "String", "sql_type": "text",
                "nullable": false, "list": false, "enum": "Kind"}"#
                .to_string(),
        );
        let columns = columns.join(",");
        let views: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"name": "IdpModel{i}", "model": "Model{i}", "source_schema": "idp",
                        "source_table": "Model{i}", "doc": "A model.", "columns": [{columns}]}}"#
                )
            })
            .collect();
        let json = format!(
            r#"{{"format": 2, "generator": "test", "schema": "idp_views", "files": {{}},
                "views": [{}],
                "enums": [{{"name": "Kind", "source_schema": "idp", "db_name": "kind",
                            "values": [{{"name": "A", "label": "A"}}, {{"name": "B", "label": "B"}}]}}]}}"#,
            views.join(",")
        );
        Loaded {
            manifest: Arc::new(Manifest::from_json(&json).unwrap()),
            manifest_path: "/pkg/views.json".into(),
            sql_path: Some("/pkg/create-idp-views.sql".into()),
        }
    }

    #[test]
    fn expansion_is_deterministic_and_error_free() {
        let loaded = synthetic(3);
        let a = views(&loaded, Span::call_site()).to_string();
        let b = views(&loaded, Span::call_site()).to_string();
        assert_eq!(a, b);
        if cfg!(all(
            feature = "uuid",
            any(feature = "chrono", feature = "time")
        )) {
            assert!(!a.contains("compile_error"), "{a}");
        } else {
            // Without the features of `idpviews` that the uuid and timestamp
            // columns need, they are errors that say which feature to enable.
            assert!(a.contains("enable the `uuid` feature of `idpviews`"), "{a}");
        }
        assert!(a.contains("pub struct IdpModel2"));
        assert!(a.contains("pub first_name"));
        assert!(a.contains("include_str ! (\"/pkg/views.json\")"));
    }

    /// The sqlx impls exist exactly when the `sqlx` feature is on; an `oid`
    /// column decodes through sqlx's `Oid` (`get_oid`), the others directly.
    #[test]
    fn sqlx_impls_follow_the_feature() {
        let json = r#"{"format": 2, "generator": "t", "schema": "idp_views", "files": {},
            "views": [{"name": "IdpThing", "model": "Thing", "source_schema": "idp",
                       "source_table": "Thing", "columns": [
                {"field": "id", "column": "id", "prisma_type": "Int", "sql_type": "integer",
                 "nullable": false, "list": false},
                {"field": "owner", "column": "owner", "prisma_type": "Int", "sql_type": "oid",
                 "nullable": true, "list": false}]}],
            "enums": [{"name": "Kind", "source_schema": "idp", "db_name": "kind",
                       "values": [{"name": "A", "label": "A"}]}]}"#;
        let loaded = Loaded {
            manifest: Arc::new(Manifest::from_json(json).unwrap()),
            manifest_path: "/pkg/views.json".into(),
            sql_path: Some("/pkg/create-idp-views.sql".into()),
        };
        let out = views(&loaded, Span::call_site()).to_string();
        let on = cfg!(feature = "sqlx");
        assert!(!out.contains("compile_error"), "{out}");
        assert_eq!(out.contains("sqlx :: FromRow < 'r"), on, "{out}");
        assert_eq!(out.contains("DecodeAt <"), on, "{out}");
        assert_eq!(out.contains("enum_sqlx ! (Kind)"), on, "{out}");
        assert_eq!(
            out.contains(
                "owner : :: idpviews :: __private :: sqlx_rows :: get_oid (row , \"owner\")"
            ),
            on,
            "{out}"
        );
        assert_eq!(
            out.contains("id : :: idpviews :: __private :: sqlx_rows :: get (row , \"id\")"),
            on,
            "{out}"
        );
    }

    fn with_enum(values: &str) -> String {
        let json = format!(
            r#"{{"format": 2, "generator": "t", "schema": "idp_views", "files": {{}}, "views": [],
                "enums": [{{"name": "Gender", "source_schema": "idp", "db_name": "gender",
                            "values": [{values}]}}]}}"#
        );
        let loaded = Loaded {
            manifest: Arc::new(Manifest::from_json(&json).unwrap()),
            manifest_path: "/pkg/views.json".into(),
            sql_path: Some("/pkg/create-idp-views.sql".into()),
        };
        views(&loaded, Span::call_site()).to_string()
    }

    #[test]
    fn enum_variant_names() {
        // A value named `UNKNOWN` keeps its name; the catch-all steps aside.
        let out =
            with_enum(r#"{"name": "MALE", "label": "m"}, {"name": "UNKNOWN", "label": "unknown"}"#);
        assert!(out.contains("Male ,"), "{out}");
        assert!(out.contains("Unknown ,"), "{out}");
        assert!(
            out.contains("UnknownLabel (:: std :: string :: String)"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
        // Two values with the same Rust name: an error naming both.
        let out = with_enum(
            r#"{"name": "FLEET_MANAGER", "label": "a"}, {"name": "FleetManager", "label": "b"}"#,
        );
        assert!(
            out.contains("values `FLEET_MANAGER` and `FleetManager` of enum `Gender` both become `FleetManager` in Rust"),
            "{out}"
        );
    }

    /// The macro's own cost for a 300-view package (run with `--release
    /// -- --ignored --nocapture` for the figure in BENCHMARKS.md).
    #[test]
    #[ignore]
    fn expansion_time_300_views() {
        let loaded = synthetic(300);
        let runs = 20;
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..runs {
            let t = std::time::Instant::now();
            let ts = views(&loaded, Span::call_site());
            times.push(t.elapsed());
            size = ts.into_iter().count();
        }
        times.sort();
        println!(
            "include_views! expansion, 300 views x 15 columns: median {:?} (min {:?}, max {:?}), {size} top-level token trees",
            times[runs / 2],
            times[0],
            times[runs - 1]
        );
    }
}
