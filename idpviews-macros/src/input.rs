//! The macros' arguments.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// `include_views!()` or `include_views!(path = "dir")`.
pub(crate) struct ViewsInput {
    pub(crate) path: Option<LitStr>,
}

impl Parse for ViewsInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut path = None;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse()?;
            if key == "path" {
                if path.is_some() {
                    return Err(syn::Error::new(key.span(), "`path` is given twice"));
                }
                path = Some(value);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown argument `{key}`; expected `path = \"<dir>\"`"),
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(ViewsInput { path })
    }
}

/// `#[idpviews::row(view = "IdpUser")]`, optionally with `path = "dir"`.
pub(crate) struct RowArgs {
    pub(crate) view: Option<LitStr>,
    pub(crate) path: Option<LitStr>,
}

impl Parse for RowArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = RowArgs {
            view: None,
            path: None,
        };
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse()?;
            let slot = if key == "view" {
                &mut args.view
            } else if key == "path" {
                &mut args.path
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`; expected `view = \"<View>\"` and optionally `path = \"<dir>\"`"
                    ),
                ));
            };
            if slot.is_some() {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` is given twice"),
                ));
            }
            *slot = Some(value);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}
