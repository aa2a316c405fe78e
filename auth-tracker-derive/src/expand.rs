//! Code generation for `#[derive(AuthTracking)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::DeriveInput;

use crate::ast::{Field, Input};
use crate::attr::Component;
use crate::ctxt::Ctxt;
use crate::{fallback, valid};

/// Expands the derive on `node`: the `AuthTracking` impl, or the errors together with a
/// stub impl.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let input = Input::from_syn(node, &cx);
    valid::validate(&input, &cx);
    // Validation only passes with an id field, so `id_field` is `Some` after `check`.
    let id_field = input.id_field();
    match cx.check() {
        Ok(()) => impl_struct(&input, id_field.expect("validated input has an id field")),
        Err(error) => {
            let errors = error.into_compile_error();
            let stub = fallback::expand(node);
            quote! {
                #errors
                #stub
            }
        }
    }
}

fn impl_struct(input: &Input<'_>, id_field: &Field<'_>) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let user_type = input.user_type();
    let table = input.attrs.table();

    let id_member = id_field.ident;
    let id_ty = id_field.ty;
    // Spanned at the field type, so a key type without `Display` is reported there.
    let id_check = quote_spanned! {id_ty.span()=>
        ::auth_tracker::__private::assert_user_key::<#id_ty>();
    };

    let parser = match input.attrs.parser() {
        Component::Builtin(builtin) => {
            let private_fn = format_ident!(
                "{}",
                builtin.private_fn.expect("every built-in parser has a function")
            );
            quote!(::auth_tracker::__private::#private_fn())
        }
        Component::Type(ty) => {
            let check = quote_spanned! {ty.span()=>
                ::auth_tracker::__private::assert_parser::<#ty>();
            };
            quote! {
                #check
                static __AUTH_TRACKING_PARSER: ::std::sync::OnceLock<#ty> =
                    ::std::sync::OnceLock::new();
                __AUTH_TRACKING_PARSER.get_or_init(::core::default::Default::default)
            }
        }
    };

    let ip_provider = match input.attrs.ip_provider() {
        Component::Builtin(builtin) => match builtin.private_fn {
            Some(private_fn) => {
                let private_fn = format_ident!("{private_fn}");
                quote!(::core::option::Option::Some(::auth_tracker::__private::#private_fn()))
            }
            None => quote!(::core::option::Option::None),
        },
        Component::Type(ty) => {
            let check = quote_spanned! {ty.span()=>
                ::auth_tracker::__private::assert_ip_provider::<#ty>();
            };
            quote! {
                #check
                static __AUTH_TRACKING_IP_PROVIDER: ::std::sync::OnceLock<#ty> =
                    ::std::sync::OnceLock::new();
                ::core::option::Option::Some(
                    __AUTH_TRACKING_IP_PROVIDER.get_or_init(::core::default::Default::default),
                )
            }
        }
    };

    quote! {
        #[automatically_derived]
        #[allow(unused_qualifications)]
        impl #impl_generics ::auth_tracker::AuthTracking for #ident #ty_generics #where_clause {
            const USER_TYPE: &'static str = #user_type;
            const LOGINS_TABLE: &'static str = #table;

            fn tracking_user_id(&self) -> ::std::string::String {
                #id_check
                ::std::string::ToString::to_string(&self.#id_member)
            }

            fn user_agent_parser() -> &'static dyn ::auth_tracker::UserAgentParser {
                #parser
            }

            fn ip_provider() -> ::core::option::Option<&'static dyn ::auth_tracker::GeoProvider> {
                #ip_provider
            }
        }
    }
}
