//! The `#[derive(AuthTracking)]` macro of `auth-tracker`.
//!
//! Use it through `auth_tracker::AuthTracking`, which re-exports it next to the trait
//! it implements.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod fallback;
#[cfg(test)]
mod tests;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `auth_tracker::AuthTracking` for a user model, so that its logins can be
/// recorded, listed and revoked.
///
/// # What is generated
///
/// One `impl auth_tracker::AuthTracking for YourStruct` with the trait's required items:
///
/// - `const USER_TYPE: &'static str`, the value of the `user_type` column;
/// - `const LOGINS_TABLE: &'static str`, the name of the logins table;
/// - `fn tracking_user_id(&self) -> String`, the id field converted with
///   [`ToString`];
/// - `fn user_agent_parser() -> &'static dyn UserAgentParser`;
/// - `fn ip_provider() -> ProviderChoice`.
///
/// The methods that work on logins (`logins`, `current_login`, `logout`,
/// `logout_all`, `logout_others` and, with the `axum` feature, `record_session_login`)
/// are provided by the trait, so the trait must be in scope to call them:
/// `use auth_tracker::AuthTracking;`.
///
/// With no attributes, the derive assumes a field named `id`, stores the struct's
/// name as the user type, uses the `logins` table, parses User-Agents with the built-in
/// `uaparser` parser and looks up no geolocation.
///
/// # Container attributes
///
/// Keys go in one or more `#[auth_tracking(...)]` attributes on the struct, separated by
/// commas. Each key may be set once.
///
/// - `id = field_name`: the field holding the user's key, written as an identifier.
///   Default: `id`. Its type must implement [`Display`](std::fmt::Display), as
///   integers, `uuid::Uuid` and `String` do. The text form is stored in `user_id`.
/// - `user_type = "Name"`: the value stored in the `user_type` column, which
///   distinguishes user models that share one table. A non-empty string literal.
///   Default: the struct's name.
/// - `table = "logins"`: the name of the logins table. A string literal holding a
///   plain SQL identifier of 1 to 63 ASCII letters, digits or underscores, not
///   starting with a digit. Default: `"logins"`.
/// - `parser = ...`: the User-Agent parser. Default: `uaparser`.
///   - `uaparser`: the built-in parser on the `uaparser` crate, which needs the
///     `uaparser` feature of `auth-tracker`;
///   - `ua_parser`: the built-in parser on the `ua-parser` crate (uap-rust), which
///     needs the `ua-parser` feature of `auth-tracker`. It reads the same uap-core
///     regexes as `uaparser`, but on long User-Agents it can report a `Spider` device
///     where `uaparser` reports none (see `auth_tracker::agent::ua_parser`);
///   - `none`: no parsing, so the device columns stay empty;
///   - a type path such as `MyParser` or `crate::ua::MyParser`: a type implementing
///     `UserAgentParser` and [`Default`]. It is created with `Default::default()` on
///     first use and kept for the rest of the program.
/// - `ip_provider = ...`: the geolocation provider. Default: `none`.
///   - `none`: no geolocation;
///   - `ip_api`, `maxmind` or `ip2location`: the built-in provider configured on the
///     `Tracker` with `with_ip_api`, `with_maxmind` or `with_ip2location` (cargo features
///     `ip-api`, `maxmind`, `ip2location`). A tracker without it skips the lookup and
///     logs a warning;
///   - `configured`: whatever provider the `Tracker` was given with
///     `with_geo_provider`, for applications that choose one at run time;
///   - a type path: a type implementing `GeoProvider` and [`Default`], created on first
///     use like a parser type.
///
/// For `parser` and `ip_provider`, a single identifier without upper-case letters
/// names a built-in, and anything else is a type. Write a type whose name is all lower
/// case with a path, such as `self::myparser`.
///
/// # Field attributes
///
/// None. `#[auth_tracking(...)]` on a field is an error.
///
/// # Example
///
/// ```
/// use auth_tracker::AuthTracking;
///
/// #[derive(AuthTracking)]
/// #[auth_tracking(id = user_id, user_type = "Customer")]
/// #[auth_tracking(table = "customer_logins", parser = none)]
/// struct Customer {
///     user_id: i64,
///     email: String,
/// }
///
/// let customer = Customer { user_id: 42, email: "ada@example.com".into() };
/// assert_eq!(Customer::USER_TYPE, "Customer");
/// assert_eq!(Customer::LOGINS_TABLE, "customer_logins");
/// assert_eq!(customer.tracking_user_id(), "42");
/// # let _ = customer.email;
/// ```
///
/// A struct whose key field is not named `id` needs the `id` key:
///
/// ```compile_fail
/// use auth_tracker::AuthTracking;
///
/// #[derive(AuthTracking)]
/// struct User {
///     user_id: i64,
/// }
/// ```
///
/// # Methods with the same names
///
/// When the struct has an inherent method named like a trait method, such as its own
/// `logins`, method call syntax picks the inherent one. Call the trait method through
/// the trait path instead: `AuthTracking::logins(&user, &tracking)`.
///
/// # Known limitations
///
/// - The derive supports structs with named fields only.
/// - The generated code names the runtime crate `::auth_tracker`, so the crate using
///   the derive must depend on `auth-tracker` under that name.
/// - On a generic struct, `parser` and `ip_provider` types cannot use the struct's
///   type parameters, because each instance is kept in a `static`. The struct's own
///   bounds are copied onto the impl, so write `struct User<K: Display>` for a generic
///   key type.
#[proc_macro_derive(AuthTracking, attributes(auth_tracking))]
pub fn derive_auth_tracking(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
