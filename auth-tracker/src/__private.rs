//! Items the derive's generated code calls. Not a public API: they may change in any release.

use std::fmt::Display;

use crate::agent::{NoParser, UserAgentParser};
use crate::geo::{GeoProvider, ProviderChoice};

/// User keys are stored as text, so the derive's id field must implement `Display`.
#[diagnostic::on_unimplemented(
    message = "the `#[auth_tracking]` id field of type `{Self}` cannot be stored as a user key",
    note = "the id field must implement `std::fmt::Display`: integers, `uuid::Uuid` and `String` do"
)]
pub trait UserKey: Display {}

impl<T: Display + ?Sized> UserKey for T {}

/// Fails to compile unless `T` can be a user key.
pub fn assert_user_key<T: UserKey + ?Sized>() {}

/// Fails to compile unless `T` can be a `parser = ...` type.
pub fn assert_parser<T: UserAgentParser + Default>() {}

/// Fails to compile unless `T` can be an `ip_provider = ...` type.
pub fn assert_ip_provider<T: GeoProvider + Default>() {}

/// Returns the built-in parser selected with `parser = uaparser`.
#[cfg(feature = "uaparser")]
pub fn uaparser_parser() -> &'static dyn UserAgentParser {
    crate::agent::uaparser::shared()
}

/// Returns the built-in parser selected with `parser = ua_parser`.
#[cfg(feature = "ua-parser")]
pub fn ua_parser_parser() -> &'static dyn UserAgentParser {
    crate::agent::ua_parser::shared()
}

/// Returns the choice made with `ip_provider = none`.
pub fn no_ip_provider() -> ProviderChoice {
    ProviderChoice::None
}

/// Returns the choice made with `ip_provider = ip_api`.
pub fn ip_api_provider() -> ProviderChoice {
    ProviderChoice::IpApi
}

/// Returns the choice made with `ip_provider = maxmind`.
pub fn maxmind_provider() -> ProviderChoice {
    ProviderChoice::MaxMind
}

/// Returns the choice made with `ip_provider = ip2location`.
pub fn ip2location_provider() -> ProviderChoice {
    ProviderChoice::Ip2Location
}

/// Returns the choice made with `ip_provider = configured`.
pub fn configured_provider() -> ProviderChoice {
    ProviderChoice::Configured
}

/// Returns the parser selected with `parser = none`.
pub fn no_parser() -> &'static dyn UserAgentParser {
    static NO_PARSER: NoParser = NoParser;
    &NO_PARSER
}

/// Returns the SQL text of every query the tracker sends on `dialect`'s backend, by
/// name, for the query-plan tests. Queries that take a list of ids take two.
///
/// # Errors
///
/// [`Error::InvalidTableName`](crate::Error::InvalidTableName), or
/// [`Error::UnsupportedDatabase`](crate::Error::UnsupportedDatabase) when the backend is
/// not compiled in.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub fn query_texts(
    dialect: crate::migrations::Dialect,
    table: &str,
) -> crate::Result<Vec<(&'static str, String)>> {
    crate::store::query_texts(dialect, table)
}

pub use uuid;
