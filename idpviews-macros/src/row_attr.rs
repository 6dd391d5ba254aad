//! `#[idpviews::row(view = "IdpUser")]`: a user-written projection of a
//! view, checked field by field at compile time.
//!
//! A field `first_name` reads the view field `firstName` (the same
//! snake_case conversion as `include_views!()`); `#[idpviews(field =
//! "firstName")]` on a field names the view field explicitly.

use crate::expand::{self, Errors, RowField, RowSpec};
use crate::fallback;
use crate::input::RowArgs;
use crate::load;
use crate::naming;
use crate::types::{self, Mismatch};
use idpviews_core::manifest::{ManifestColumn, ManifestView};
use idpviews_core::suggest::did_you_mean;
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{DeriveInput, LitStr};

pub(crate) fn row(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    let mut errors = Errors::default();
    // Strip our field attributes first: the struct is emitted in every case.
    let renames = take_field_attrs(&mut input, &mut errors);
    let args: Option<RowArgs> = match syn::parse2(args) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push_error(e);
            None
        }
    };
    let view_lit = args.as_ref().and_then(|a| a.view.clone());
    let expansion = match (&args, &view_lit) {
        (Some(args), Some(view)) if errors.is_empty() => {
            expand_row(&input, args, view, &renames, &mut errors)
        }
        (Some(_), None) => {
            errors.push(
                Span::call_site(),
                "expected `#[idpviews::row(view = \"<View>\")]`: name the view to read",
            );
            None
        }
        _ => None,
    };
    let errors_ts = errors.to_compile_errors();
    let body = match expansion {
        Some(ts) if errors.is_empty() => ts,
        _ => fallback::row_stub(&input, &view_lit.map(|l| l.value()).unwrap_or_default()),
    };
    quote! {
        #input
        #body
        #errors_ts
    }
}

/// Removes `#[idpviews(field = "...")]` from the fields; returns the view
/// field named for each struct field (`None`: derived from the name).
fn take_field_attrs(input: &mut DeriveInput, errors: &mut Errors) -> Vec<Option<LitStr>> {
    let mut out = Vec::new();
    let syn::Data::Struct(data) = &mut input.data else {
        return out;
    };
    for field in data.fields.iter_mut() {
        let mut rename = None;
        let mut keep = Vec::new();
        for attr in std::mem::take(&mut field.attrs) {
            if !attr.path().is_ident("idpviews") {
                keep.push(attr);
                continue;
            }
            let res = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("field") {
                    rename = Some(meta.value()?.parse::<LitStr>()?);
                    Ok(())
                } else {
                    Err(meta.error("unknown attribute; expected `field = \"<view field>\"`"))
                }
            });
            if let Err(e) = res {
                errors.push_error(e);
            }
        }
        field.attrs = keep;
        out.push(rename);
    }
    out
}

fn expand_row(
    input: &DeriveInput,
    args: &RowArgs,
    view_lit: &LitStr,
    renames: &[Option<LitStr>],
    errors: &mut Errors,
) -> Option<TokenStream> {
    let fields = match &input.data {
        syn::Data::Struct(syn::DataStruct {
            fields: syn::Fields::Named(f),
            ..
        }) => &f.named,
        _ => {
            errors.push(
                input.ident.span(),
                "`#[idpviews::row]` needs a struct with named fields",
            );
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        errors.push_spanned(
            &input.generics,
            "`#[idpviews::row]` structs cannot be generic",
        );
        return None;
    }
    let loaded = match load::load(args.path.as_ref()) {
        Ok(l) => l,
        Err(e) => {
            errors.push_error(e);
            return None;
        }
    };
    let m = &loaded.manifest;
    let view_name = view_lit.value();
    let Some(view) = m.view(&view_name) else {
        let names: Vec<&str> = m.views.iter().map(|v| v.name.as_str()).collect();
        let mut msg = format!("no view named `{view_name}` in the views package");
        if let Some(s) = did_you_mean(&view_name, names.iter().copied()) {
            msg.push_str(&format!("\nhelp: did you mean `{s}`?"));
        }
        msg.push_str(&format!("\nnote: the package has {}", list(&names)));
        errors.push(view_lit.span(), msg);
        return None;
    };

    let mut row_fields = Vec::new();
    let mut used: Vec<(&str, String)> = Vec::new();
    for (k, field) in fields.iter().enumerate() {
        let Some(ident) = &field.ident else { continue };
        let rust_name = syn::ext::IdentExt::unraw(ident).to_string();
        let rename = renames.get(k).and_then(Option::as_ref);
        let col = match rename {
            Some(lit) => match view.column(&lit.value()) {
                Some(c) => c,
                None => {
                    errors.push(lit.span(), unknown_field(view, &lit.value(), false));
                    continue;
                }
            },
            None => match find_column(view, &rust_name) {
                Some(c) => c,
                None => {
                    errors.push(ident.span(), unknown_field(view, &rust_name, true));
                    continue;
                }
            },
        };
        if let Some((_, other)) = used.iter().find(|(c, _)| *c == col.field) {
            errors.push(
                ident.span(),
                format!(
                    "field `{rust_name}` reads `{}` of view `{}`, which field `{other}` already reads",
                    col.field, view.name
                ),
            );
            continue;
        }
        used.push((&col.field, rust_name.clone()));
        check_type(view, col, &field.ty, errors);
        row_fields.push(RowField {
            ident: ident.clone(),
            column: col.column.clone(),
            oid: types::column_type(col).is_some_and(|t| t.scalar == types::Scalar::Oid),
        });
    }
    if !errors.is_empty() {
        return None;
    }
    let impls = expand::row_impls(&RowSpec {
        name: &input.ident,
        schema: &m.schema,
        view: &view.name,
        fields: &row_fields,
    });
    let track = loaded.manifest_path.to_string_lossy().into_owned();
    Some(quote! {
        #impls
        const _: &str = ::core::include_str!(#track);
    })
}

/// The view column for a Rust field name: `first_name` -> `firstName`
/// (also `firstName` itself).
fn find_column<'v>(view: &'v ManifestView, rust_name: &str) -> Option<&'v ManifestColumn> {
    view.columns
        .iter()
        .find(|c| naming::snake_case(&c.field) == rust_name)
        .or_else(|| view.column(rust_name))
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "no views".to_string();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_field(view: &ManifestView, name: &str, snake: bool) -> String {
    let candidates: Vec<String> = view
        .columns
        .iter()
        .map(|c| {
            if snake {
                naming::snake_case(&c.field)
            } else {
                c.field.clone()
            }
        })
        .collect();
    if let Some(s) = did_you_mean(name, candidates.iter().map(String::as_str)) {
        return format!(
            "view `{}` has no field `{name}`\nhelp: did you mean `{s}`?",
            view.name
        );
    }
    let exposed: Vec<&str> = candidates.iter().map(String::as_str).collect();
    format!(
        "view `{}` does not expose a field `{name}`: the IDP allowlist (`idp-views.toml`) does not include it\n\
         note: `{}` exposes {}",
        view.name,
        view.name,
        list(&exposed)
    )
}

fn check_type(view: &ManifestView, col: &ManifestColumn, ty: &syn::Type, errors: &mut Errors) {
    // A column no generated type decodes: the field type must implement
    // `FromSql` for it, which the compiler checks on the decoding code.
    let Some(expected) = types::column_type(col) else {
        return;
    };
    let found = type_string(ty);
    match types::check_user_type(ty, &expected) {
        Ok(()) => {}
        Err(Mismatch::NeedsOption) => errors.push_spanned(
            ty,
            format!(
                "column `{}` of view `{}` is nullable, so the field must be an `Option`: expected `{}`, found `{found}`",
                col.field,
                view.name,
                expected.display()
            ),
        ),
        Err(Mismatch::NeedlessOption) => errors.push_spanned(
            ty,
            format!(
                "column `{}` of view `{}` is never NULL: expected `{}`, found `{found}`",
                col.field,
                view.name,
                expected.display()
            ),
        ),
        Err(Mismatch::Type) => errors.push_spanned(
            ty,
            format!(
                "mismatched types: column `{}` of view `{}` is `{}` (Prisma `{}`): expected `{}`, found `{found}`",
                col.field,
                view.name,
                col.sql_type,
                types::prisma_display(col),
                expected.display()
            ),
        ),
    }
}

/// `Option < String >` -> `Option<String>`.
fn type_string(ty: &syn::Type) -> String {
    let s = ty.to_token_stream().to_string();
    s.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" ,", ",")
        .replace("& ", "&")
}
