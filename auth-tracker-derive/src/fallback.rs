//! Stub impl emitted next to the errors of an invalid derive input.
//!
//! With the stub in place, code that uses the type as `AuthTracking` (for example
//! `user.logins(&tracking)`) still type-checks, so the user sees the attribute errors
//! and not a cascade of missing-trait errors. The stub never runs, because the crate
//! does not compile.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub(crate) fn expand(node: &DeriveInput) -> TokenStream {
    let ident = &node.ident;
    let (impl_generics, ty_generics, where_clause) = node.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        #[allow(unused_qualifications, unreachable_code)]
        impl #impl_generics ::auth_tracker::AuthTracking for #ident #ty_generics #where_clause {
            const USER_TYPE: &'static str = "";
            const LOGINS_TABLE: &'static str = "";

            fn tracking_user_id(&self) -> ::std::string::String {
                ::core::unreachable!()
            }

            fn user_agent_parser() -> &'static dyn ::auth_tracker::UserAgentParser {
                ::core::unreachable!()
            }

            fn ip_provider() -> ::auth_tracker::geo::ProviderChoice {
                ::core::unreachable!()
            }
        }
    }
}
