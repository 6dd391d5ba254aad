//! Proc macros for idpviews. Use them through the `idpviews` crate:
//! `idpviews::include_views!()` and `#[idpviews::row(view = "...")]`.
//!
//! The pipeline: `input` (arguments) -> `load` (find and parse the views
//! manifest) -> `types` (column type -> Rust type) -> `expand` /
//! `row_attr` (tokens via `quote!`), with `fallback` stubs on errors.

mod expand;
mod fallback;
mod input;
mod load;
mod naming;
mod row_attr;
mod types;

use proc_macro::TokenStream;

/// Typed, read-only row structs for the IDP views, one enum per IDP enum,
/// and `package()`; see the `idpviews` crate docs.
///
/// `include_views!()` reads `$OUT_DIR/idpviews/` (written by `idpviews-build`
/// in the build script); `include_views!(path = "dir")` reads a directory
/// relative to `CARGO_MANIFEST_DIR` (else relative to the source file, as
/// `include_str!` does), holding `views.json` or a vendored package's
/// `idp-views.lock`, and `create-idp-views.sql`. Expands to items: put it
/// in a module, `mod idp { idpviews::include_views!(); }`.
#[proc_macro]
pub fn include_views(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::ViewsInput);
    expand::include_views(input).into()
}

/// Checks a struct's fields against a view at compile time and generates
/// its column list, select list and decoding:
/// `#[idpviews::row(view = "IdpUser")]` (optionally `path = "dir"` as for
/// `include_views!`).
#[proc_macro_attribute]
pub fn row(args: TokenStream, item: TokenStream) -> TokenStream {
    row_attr::row(args.into(), item.into()).into()
}
