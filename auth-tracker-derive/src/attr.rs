//! Parsing of the `#[auth_tracking(...)]` container attributes into [`Attrs`].
//!
//! Parsers record each problem in the [`Ctxt`] and go on with the next key, so one build
//! reports every mistake.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::parse::discouraged::Speculative;
use syn::{Attribute, Ident, LitStr, Meta, Path, Token};

use crate::ctxt::Ctxt;

/// Name of the helper attribute.
pub(crate) const ATTRIBUTE: &str = "auth_tracking";

/// A key of `#[auth_tracking(...)]`, with the value it takes and a correct example of
/// the whole attribute for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) expects: &'static str,
    pub(crate) form: &'static str,
}

pub(crate) const ID: Key = Key {
    name: "id",
    expects: "a field name",
    form: "#[auth_tracking(id = user_id)]",
};
pub(crate) const USER_TYPE: Key = Key {
    name: "user_type",
    expects: "a string literal",
    form: "#[auth_tracking(user_type = \"User\")]",
};
pub(crate) const TABLE: Key = Key {
    name: "table",
    expects: "a string literal",
    form: "#[auth_tracking(table = \"logins\")]",
};
pub(crate) const PARSER: Key = Key {
    name: "parser",
    expects: "a built-in parser name or a type path",
    form: "#[auth_tracking(parser = uaparser)]",
};
pub(crate) const IP_PROVIDER: Key = Key {
    name: "ip_provider",
    expects: "a built-in provider name or a type path",
    form: "#[auth_tracking(ip_provider = crate::geo::OfficeNetwork)]",
};

const KEYS: [Key; 5] = [ID, USER_TYPE, TABLE, PARSER, IP_PROVIDER];

/// A parser or geolocation provider that `auth_tracker` ships, selected by name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Builtin {
    /// Name written after `parser =` or `ip_provider =`.
    pub(crate) name: &'static str,
    /// Function in `auth_tracker::__private` that returns the component, or `None` for
    /// no component at all.
    pub(crate) private_fn: Option<&'static str>,
}

/// Built-in User-Agent parsers. The first one is the default.
pub(crate) const BUILTIN_PARSERS: &[Builtin] = &[
    Builtin {
        name: "uaparser",
        private_fn: Some("uaparser_parser"),
    },
    Builtin {
        name: "ua_parser",
        private_fn: Some("ua_parser_parser"),
    },
    Builtin {
        name: "none",
        private_fn: Some("no_parser"),
    },
];

/// Built-in geolocation providers. The first one is the default. The tracker keeps the
/// configured instance of each built-in, so the model only names which one it uses.
pub(crate) const BUILTIN_IP_PROVIDERS: &[Builtin] = &[
    Builtin {
        name: "none",
        private_fn: Some("no_ip_provider"),
    },
    Builtin {
        name: "ip_api",
        private_fn: Some("ip_api_provider"),
    },
    Builtin {
        name: "maxmind",
        private_fn: Some("maxmind_provider"),
    },
    Builtin {
        name: "ip2location",
        private_fn: Some("ip2location_provider"),
    },
    Builtin {
        name: "configured",
        private_fn: Some("configured_provider"),
    },
];

/// Value of `parser` or `ip_provider`.
#[derive(Clone, Debug)]
pub(crate) enum Component {
    Builtin(&'static Builtin),
    /// A type implementing the component trait and `Default`.
    Type(Path),
}

/// Settings of all `#[auth_tracking(...)]` attributes on one container.
#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) id: Option<Ident>,
    pub(crate) user_type: Option<LitStr>,
    pub(crate) table: Option<LitStr>,
    pub(crate) parser: Option<Component>,
    pub(crate) ip_provider: Option<Component>,
    /// Keys written by the user, including those whose value was malformed.
    written: HashSet<&'static str>,
}

impl Attrs {
    /// Returns whether the user wrote `key`, even with a malformed value.
    pub(crate) fn is_written(&self, key: Key) -> bool {
        self.written.contains(key.name)
    }

    /// Returns the logins table name, `logins` by default.
    pub(crate) fn table(&self) -> String {
        match &self.table {
            Some(table) => table.value(),
            None => "logins".to_owned(),
        }
    }

    pub(crate) fn parser(&self) -> Component {
        match &self.parser {
            Some(parser) => parser.clone(),
            None => Component::Builtin(&BUILTIN_PARSERS[0]),
        }
    }

    pub(crate) fn ip_provider(&self) -> Component {
        match &self.ip_provider {
            Some(provider) => provider.clone(),
            None => Component::Builtin(&BUILTIN_IP_PROVIDERS[0]),
        }
    }
}

/// Parses every `#[auth_tracking(...)]` in `attrs`, recording mistakes in `cx`.
pub(crate) fn get(attrs: &[Attribute], cx: &Ctxt) -> Attrs {
    let mut parsed = Attrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(ATTRIBUTE)) {
        if !matches!(attr.meta, Meta::List(_)) {
            cx.error_spanned_by(
                attr,
                format!("expected a list of keys, such as `{}`", TABLE.form),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            parse_key(&meta, &mut parsed, cx);
            Ok(())
        });
        // Only a key that is not a path ends up here, which leaves the rest of this
        // attribute unreadable.
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    parsed
}

fn parse_key(meta: &ParseNestedMeta<'_>, parsed: &mut Attrs, cx: &Ctxt) {
    let Some(key) = KEYS.iter().find(|key| meta.path.is_ident(key.name)) else {
        let names: Vec<String> = KEYS.iter().map(|key| format!("`{}`", key.name)).collect();
        cx.error_spanned_by(
            &meta.path,
            format!(
                "unknown key `{}` in `#[auth_tracking(...)]`, expected one of {}",
                path_to_string(&meta.path),
                names.join(", "),
            ),
        );
        skip_value(meta.input);
        return;
    };
    if !parsed.written.insert(key.name) {
        cx.error_spanned_by(
            &meta.path,
            format!(
                "duplicate key `{}`, each key of `#[auth_tracking(...)]` may be set once",
                key.name
            ),
        );
    }
    match key.name {
        // id = user_id
        "id" => {
            let value = parse_value(meta, *key, cx, |input| input.parse::<Ident>());
            store(&mut parsed.id, value);
        }
        // user_type = "User"
        "user_type" => {
            let value = parse_value(meta, *key, cx, |input| input.parse::<LitStr>());
            store(&mut parsed.user_type, value);
        }
        // table = "logins"
        "table" => {
            let value = parse_value(meta, *key, cx, |input| input.parse::<LitStr>());
            store(&mut parsed.table, value);
        }
        // parser = uaparser | none | path::to::Parser
        "parser" => {
            let value = parse_value(meta, *key, cx, |input| input.parse::<Path>())
                .and_then(|path| resolve_component(path, BUILTIN_PARSERS, "parser", cx));
            store(&mut parsed.parser, value);
        }
        // ip_provider = none | path::to::Provider
        "ip_provider" => {
            let value = parse_value(meta, *key, cx, |input| input.parse::<Path>())
                .and_then(|path| resolve_component(path, BUILTIN_IP_PROVIDERS, "provider", cx));
            store(&mut parsed.ip_provider, value);
        }
        _ => unreachable!("every entry of KEYS has a branch"),
    }
}

/// Keeps the first valid value of a key. Later ones were reported as duplicates.
fn store<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Parses `= value` after a key with `parse`, which must consume the whole value.
///
/// On a malformed value, records an error that shows the key's correct form and skips
/// to the next key.
fn parse_value<T>(
    meta: &ParseNestedMeta<'_>,
    key: Key,
    cx: &Ctxt,
    parse: fn(ParseStream<'_>) -> syn::Result<T>,
) -> Option<T> {
    let input = meta.input;
    let Ok(eq) = input.parse::<Token![=]>() else {
        cx.error_spanned_by(
            &meta.path,
            format!("missing value for `{}`\nexpected `{}`", key.name, key.form),
        );
        skip_value(input);
        return None;
    };
    let fork = input.fork();
    if let Ok(value) = parse(&fork)
        && (fork.is_empty() || fork.peek(Token![,]))
    {
        input.advance_to(&fork);
        return Some(value);
    }
    let tokens = skip_value(input);
    let message = format!(
        "`{}` must be {}\nexpected `{}`",
        key.name, key.expects, key.form
    );
    if tokens.is_empty() {
        cx.error_spanned_by(eq, message);
    } else {
        cx.error_spanned_by(tokens, message);
    }
    None
}

/// Reads a `parser` or `ip_provider` path as a built-in name or a type.
///
/// A single identifier without upper-case letters names a built-in, because type names
/// are written in upper camel case. Any other path is a type.
fn resolve_component(
    path: Path,
    builtins: &'static [Builtin],
    kind: &str,
    cx: &Ctxt,
) -> Option<Component> {
    let Some(ident) = builtin_name(&path) else {
        return Some(Component::Type(path));
    };
    let name = ident.to_string();
    if let Some(builtin) = builtins.iter().find(|builtin| builtin.name == name) {
        return Some(Component::Builtin(builtin));
    }
    let names: Vec<String> = builtins
        .iter()
        .map(|builtin| format!("`{}`", builtin.name))
        .collect();
    cx.error_spanned_by(
        ident,
        format!(
            "unknown built-in {kind} `{name}`, expected one of {} or the path of a type, such as `crate::MyType`",
            names.join(", "),
        ),
    );
    None
}

fn builtin_name(path: &Path) -> Option<&Ident> {
    if path.leading_colon.is_some() || path.segments.len() != 1 {
        return None;
    }
    let segment = &path.segments[0];
    let is_lower_case = !segment
        .ident
        .to_string()
        .chars()
        .any(|c| c.is_ascii_uppercase());
    (segment.arguments.is_none() && is_lower_case).then_some(&segment.ident)
}

/// Consumes the tokens up to the next `,` at this nesting level and returns them.
fn skip_value(input: ParseStream<'_>) -> TokenStream {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        match input.parse::<TokenTree>() {
            Ok(token) => tokens.extend([token]),
            Err(_) => break,
        }
    }
    tokens
}

fn path_to_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
