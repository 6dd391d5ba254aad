//! What `#[idpviews::row]` expands to when the struct has errors: the
//! struct itself plus stub impls with the usual items, next to the
//! `compile_error!`s, so that code using the struct does not produce a
//! cascade of secondary errors (the approach of thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub(crate) fn row_stub(input: &DeriveInput, view: &str) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let p = quote!(::idpviews::__private);
    // (A generic struct is itself an error; its stub has no sqlx impls.)
    let sqlx = if cfg!(feature = "sqlx") && input.generics.params.is_empty() {
        quote! {
            impl<'r> #p::sqlx::FromRow<'r, #p::sqlx::postgres::PgRow> for #name {
                fn from_row(
                    _row: &'r #p::sqlx::postgres::PgRow,
                ) -> ::core::result::Result<Self, #p::sqlx::Error> {
                    ::core::unreachable!()
                }
            }

            impl #p::DecodeAt<#p::sqlx::postgres::PgRow> for #name {
                fn decode_at(
                    _row: &#p::sqlx::postgres::PgRow,
                    _indices: &[usize],
                ) -> ::core::result::Result<Self, ::idpviews::RowError> {
                    ::core::unreachable!()
                }
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #sqlx

        #[allow(dead_code)]
        impl #impl_generics #name #ty_generics #where_clause {
            pub const SCHEMA: &'static str = "";
            pub const VIEW: &'static str = #view;
            pub const COLUMNS: &'static [&'static str] = &[];
            pub const FROM: &'static str = "";
            pub const SELECT_LIST: &'static str = "";
            pub const SELECT: &'static str = "";

            pub fn select_list_as(_alias: &str, _prefix: &str) -> ::std::string::String {
                ::core::unreachable!()
            }

            pub fn prefixed<C: #p::ColumnName>(
                _columns: &[C],
                _prefix: &str,
            ) -> ::core::result::Result<::idpviews::Prefixed<Self>, ::idpviews::RowError> {
                ::core::unreachable!()
            }
        }

        impl #impl_generics ::idpviews::FromRow for #name #ty_generics #where_clause {
            const VIEW: &'static str = #view;
            const COLUMNS: &'static [&'static str] = &[];

            fn from_row(_row: &#p::Row) -> ::core::result::Result<Self, ::idpviews::RowError> {
                ::core::unreachable!()
            }

            fn from_row_at(
                _row: &#p::Row,
                _indices: &[usize],
            ) -> ::core::result::Result<Self, ::idpviews::RowError> {
                ::core::unreachable!()
            }
        }
    }
}
