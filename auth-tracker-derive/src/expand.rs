//! Code generation for `#[derive(AuthTracking)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

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
    // Spanned at the field type, so a key type without `Display` is reported there. The
    // conversion goes through a helper bounded by the same trait, so that rustc reports
    // the missing impl once instead of again for `ToString` at the derive.
    let user_id = quote_spanned! {id_ty.span()=>
        ::auth_tracker::__private::assert_user_key::<#id_ty>();
        __auth_tracking_user_key_to_string::<#id_ty>(&self.#id_member)
    };

    let parser = match input.attrs.parser() {
        Component::Builtin(builtin) => {
            let private_fn = format_ident!(
                "{}",
                builtin
                    .private_fn
                    .expect("every built-in parser has a function")
            );
            quote!(::auth_tracker::__private::#private_fn())
        }
        Component::Type(ty) => {
            // Spanned at the type for the same reason as the key check, with the
            // coercion to `dyn UserAgentParser` inside a helper bounded like the check.
            let check = quote_spanned! {ty.span()=>
                ::auth_tracker::__private::assert_parser::<#ty>();
            };
            let get = quote_spanned! {ty.span()=>
                __auth_tracking_parser::<#ty>(&__AUTH_TRACKING_PARSER)
            };
            quote! {
                fn __auth_tracking_parser<T>(
                    cell: &'static ::std::sync::OnceLock<T>,
                ) -> &'static dyn ::auth_tracker::UserAgentParser
                where
                    T: ::auth_tracker::UserAgentParser + ::core::default::Default,
                {
                    cell.get_or_init(::core::default::Default::default)
                }
                static __AUTH_TRACKING_PARSER: ::std::sync::OnceLock<#ty> =
                    ::std::sync::OnceLock::new();
                #check
                #get
            }
        }
    };

    let ip_provider = match input.attrs.ip_provider() {
        Component::Builtin(builtin) => match builtin.private_fn {
            Some(private_fn) => {
                let private_fn = format_ident!("{private_fn}");
                quote!(::auth_tracker::__private::#private_fn())
            }
            None => quote!(::auth_tracker::geo::ProviderChoice::None),
        },
        Component::Type(ty) => {
            let check = quote_spanned! {ty.span()=>
                ::auth_tracker::__private::assert_ip_provider::<#ty>();
            };
            let get = quote_spanned! {ty.span()=>
                __auth_tracking_ip_provider::<#ty>(&__AUTH_TRACKING_IP_PROVIDER)
            };
            quote! {
                fn __auth_tracking_ip_provider<T>(
                    cell: &'static ::std::sync::OnceLock<T>,
                ) -> &'static dyn ::auth_tracker::GeoProvider
                where
                    T: ::auth_tracker::GeoProvider + ::core::default::Default,
                {
                    cell.get_or_init(::core::default::Default::default)
                }
                static __AUTH_TRACKING_IP_PROVIDER: ::std::sync::OnceLock<#ty> =
                    ::std::sync::OnceLock::new();
                #check
                ::auth_tracker::geo::ProviderChoice::Custom(#get)
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
                fn __auth_tracking_user_key_to_string<T>(key: &T) -> ::std::string::String
                where
                    T: ::auth_tracker::__private::UserKey + ?::core::marker::Sized,
                {
                    ::std::string::ToString::to_string(key)
                }
                #user_id
            }

            fn user_agent_parser() -> &'static dyn ::auth_tracker::UserAgentParser {
                #parser
            }

            fn ip_provider() -> ::auth_tracker::geo::ProviderChoice {
                #ip_provider
            }
        }
    }
}
