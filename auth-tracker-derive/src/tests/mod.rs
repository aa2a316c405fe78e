//! Expansion snapshots and error messages, checked at the `proc_macro2` level.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;
use crate::ctxt::Ctxt;
use crate::{expand, valid};

/// Expands `input` and formats the result for a snapshot.
fn expand_to_string(input: TokenStream) -> String {
    let node = syn::parse2(input).expect("test input is a derive input");
    let file = syn::parse2(expand::derive(&node)).expect("the expansion is a list of items");
    prettyplease::unparse(&file)
}

/// Returns the messages of every error `input` produces, in order.
fn error_messages(input: TokenStream) -> Vec<String> {
    let node = syn::parse2(input).expect("test input is a derive input");
    let cx = Ctxt::new();
    let input = Input::from_syn(&node, &cx);
    valid::validate(&input, &cx);
    match cx.check() {
        Ok(()) => Vec::new(),
        Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
    }
}

#[test]
fn expand_defaults() {
    insta::assert_snapshot!(expand_to_string(quote! {
        struct User {
            id: i64,
            email: String,
        }
    }));
}

#[test]
fn expand_every_key() {
    insta::assert_snapshot!(expand_to_string(quote! {
        #[auth_tracking(id = user_id, user_type = "Customer")]
        #[auth_tracking(table = "customer_logins", parser = none)]
        struct Customer {
            user_id: ::uuid::Uuid,
        }
    }));
}

#[test]
fn expand_component_types() {
    insta::assert_snapshot!(expand_to_string(quote! {
        #[auth_tracking(parser = crate::ua::MyParser, ip_provider = OfficeNetwork)]
        struct User {
            id: String,
        }
    }));
}

#[test]
fn expand_generic_struct() {
    insta::assert_snapshot!(expand_to_string(quote! {
        struct User<'a, K: ::std::fmt::Display>
        where
            K: Clone,
        {
            id: K,
            name: &'a str,
        }
    }));
}

#[test]
fn expand_error_with_stub() {
    insta::assert_snapshot!(expand_to_string(quote! {
        #[auth_tracking(table = "my-logins")]
        struct User<T> {
            id: T,
        }
    }));
}

#[test]
fn valid_input_has_no_errors() {
    let messages = error_messages(quote! {
        #[auth_tracking(id = r#type, parser = self::lower_case_type)]
        #[auth_tracking()]
        struct User {
            r#type: i64,
        }
    });
    assert_eq!(messages, Vec::<String>::new());
}

#[test]
fn unknown_key_lists_valid_keys() {
    let messages = error_messages(quote! {
        #[auth_tracking(tabel = "logins")]
        struct User { id: i64 }
    });
    assert_eq!(
        messages,
        [
            "unknown key `tabel` in `#[auth_tracking(...)]`, expected one of `id`, `user_type`, `table`, `parser`, `ip_provider`"
        ]
    );
}

#[test]
fn duplicate_key_across_attributes() {
    let messages = error_messages(quote! {
        #[auth_tracking(table = "a")]
        #[auth_tracking(table = "b")]
        struct User { id: i64 }
    });
    assert_eq!(
        messages,
        ["duplicate key `table`, each key of `#[auth_tracking(...)]` may be set once"]
    );
}

#[test]
fn malformed_values_show_full_form() {
    let cases = [
        (
            quote!(#[auth_tracking(id = "user_id")]),
            "`id` must be a field name\nexpected `#[auth_tracking(id = user_id)]`",
        ),
        (
            quote!(#[auth_tracking(id = a.b)]),
            "`id` must be a field name\nexpected `#[auth_tracking(id = user_id)]`",
        ),
        (
            quote!(#[auth_tracking(user_type = User)]),
            "`user_type` must be a string literal\nexpected `#[auth_tracking(user_type = \"User\")]`",
        ),
        (
            quote!(#[auth_tracking(table = logins)]),
            "`table` must be a string literal\nexpected `#[auth_tracking(table = \"logins\")]`",
        ),
        (
            quote!(#[auth_tracking(table = )]),
            "`table` must be a string literal\nexpected `#[auth_tracking(table = \"logins\")]`",
        ),
        (
            quote!(#[auth_tracking(table)]),
            "missing value for `table`\nexpected `#[auth_tracking(table = \"logins\")]`",
        ),
        (
            quote!(#[auth_tracking(table("logins"))]),
            "missing value for `table`\nexpected `#[auth_tracking(table = \"logins\")]`",
        ),
        (
            quote!(#[auth_tracking(parser = "uaparser")]),
            "`parser` must be a built-in parser name or a type path\nexpected `#[auth_tracking(parser = uaparser)]`",
        ),
        (
            quote!(#[auth_tracking(ip_provider = 1)]),
            "`ip_provider` must be a built-in provider name or a type path\nexpected `#[auth_tracking(ip_provider = crate::geo::OfficeNetwork)]`",
        ),
    ];
    for (attr, expected) in cases {
        let messages = error_messages(quote! {
            #attr
            struct User { id: i64 }
        });
        assert_eq!(messages, [expected], "{attr}");
    }
}

#[test]
fn every_bad_key_is_reported() {
    let messages = error_messages(quote! {
        #[auth_tracking(tabel = "logins", user_type = "", parser = woothee)]
        #[auth_tracking(id = uid, ip_provider = geoip, table = "2fa")]
        enum User {}
    });
    assert_eq!(messages.len(), 6, "{messages:#?}");
    assert!(messages[0].starts_with("unknown key `tabel`"));
    assert!(messages[1].starts_with("unknown built-in parser `woothee`"));
    assert!(messages[2].starts_with("unknown built-in provider `geoip`"));
    assert!(messages[3].starts_with("`AuthTracking` cannot be derived for an enum"));
    assert!(messages[4].starts_with("`user_type` must not be empty"));
    assert!(messages[5].starts_with("invalid table name, `2fa` starts with a digit"));
}

#[test]
fn table_name_must_be_identifier() {
    let messages = error_messages(quote! {
        #[auth_tracking(table = "public.logins")]
        struct User { id: i64 }
    });
    assert_eq!(
        messages,
        [
            "invalid table name, `public.logins` contains '.'\nexpected 1 to 63 ASCII letters, digits or underscores, not starting with a digit"
        ]
    );
}

#[test]
fn unknown_builtin_lists_builtins() {
    let messages = error_messages(quote! {
        #[auth_tracking(parser = woothee, ip_provider = geoip)]
        struct User { id: i64 }
    });
    assert_eq!(
        messages,
        [
            "unknown built-in parser `woothee`, expected one of `uaparser`, `ua_parser`, `none` or the path of a type, such as `crate::MyType`",
            "unknown built-in provider `geoip`, expected one of `none`, `ip_api`, `maxmind`, `ip2location`, `configured` or the path of a type, such as `crate::MyType`",
        ]
    );
}

#[test]
fn component_type_paths() {
    for path in [
        quote!(MyParser),
        quote!(crate::ua::MyParser),
        quote!(::ua::Parser),
        quote!(self::lower),
        quote!(Wrapper<Inner, u8>),
    ] {
        let messages = error_messages(quote! {
            #[auth_tracking(parser = #path, ip_provider = #path)]
            struct User { id: i64 }
        });
        assert_eq!(messages, Vec::<String>::new(), "{path}");
    }
}

#[test]
fn unsupported_shapes() {
    let cases = [
        (
            quote!(
                struct User(i64);
            ),
            "a tuple struct",
        ),
        (
            quote!(
                struct User;
            ),
            "a unit struct",
        ),
        (
            quote!(
                enum User {
                    A,
                }
            ),
            "an enum",
        ),
        (quote!(union User { id: i64 }), "a union"),
    ];
    for (item, what) in cases {
        assert_eq!(
            error_messages(item.clone()),
            [format!(
                "`AuthTracking` cannot be derived for {what}, only for a struct with named fields"
            )],
            "{item}"
        );
    }
}

#[test]
fn missing_id_field() {
    let defaulted = error_messages(quote! {
        struct User { user_id: i64 }
    });
    assert_eq!(
        defaulted,
        [
            "`User` has no field `id`, name the field holding the user's key with `#[auth_tracking(id = user_id)]`"
        ]
    );
    let named = error_messages(quote! {
        #[auth_tracking(id = uid)]
        struct User { id: i64, email: String }
    });
    assert_eq!(
        named,
        ["`User` has no field `uid`, its fields are `id`, `email`"]
    );
    let no_fields = error_messages(quote! {
        #[auth_tracking(id = uid)]
        struct User {}
    });
    assert_eq!(no_fields, ["`User` has no field `uid`, it has no fields"]);
}

#[test]
fn malformed_id_hides_default_id_error() {
    let messages = error_messages(quote! {
        #[auth_tracking(id = "user_id")]
        struct User { user_id: i64 }
    });
    assert_eq!(
        messages,
        ["`id` must be a field name\nexpected `#[auth_tracking(id = user_id)]`"]
    );
}

#[test]
fn attribute_without_list() {
    for attr in [quote!(#[auth_tracking]), quote!(#[auth_tracking = "x"])] {
        let messages = error_messages(quote! {
            #attr
            struct User { id: i64 }
        });
        assert_eq!(
            messages,
            ["expected a list of keys, such as `#[auth_tracking(table = \"logins\")]`"],
            "{attr}"
        );
    }
}

#[test]
fn attribute_on_field() {
    let messages = error_messages(quote! {
        struct User {
            #[auth_tracking(id)]
            id: i64,
        }
    });
    assert_eq!(
        messages,
        [
            "`#[auth_tracking(...)]` is not supported on fields, put it on the struct, such as `#[auth_tracking(id = user_id)]`"
        ]
    );
}

#[test]
fn other_attributes_are_ignored() {
    let messages = error_messages(quote! {
        #[derive(Debug)]
        #[serde(rename = "user")]
        struct User {
            #[serde(skip)]
            id: i64,
        }
    });
    assert_eq!(messages, Vec::<String>::new());
}
