//! User-Agent parsing: the parser trait, the parsed result and the device-type vocabulary.
//!
//! - [`UserAgentParser`] is the pluggable parser. [`NoParser`] parses nothing, and the
//!   `uaparser` cargo feature adds [`uaparser::UaParser`], built on the `uaparser` crate
//!   and uap-core's regexes. The `ua-parser` feature adds `ua_parser::UapRustParser`,
//!   built on the `ua-parser` crate (uap-rust) and the same regexes.
//! - [`CachedParser`] puts a bounded cache in front of any parser.
//! - [`classify_device`] derives a [`DeviceType`] from parsed families and the
//!   User-Agent's own tokens, for parsers that do not classify devices themselves.
//! - [`ClientHints`] carries the `Sec-CH-UA-*` request headers, and
//!   [`UserAgentParser::parse_with_hints`] refines a parse with them.

use std::sync::Arc;

pub mod cache;
mod device;
mod hints;
#[cfg(feature = "ua-parser")]
#[cfg_attr(docsrs, doc(cfg(feature = "ua-parser")))]
pub mod ua_parser;
#[cfg(any(feature = "uaparser", feature = "ua-parser"))]
mod uap;
#[cfg(feature = "uaparser")]
#[cfg_attr(docsrs, doc(cfg(feature = "uaparser")))]
pub mod uaparser;

pub use cache::CachedParser;
pub use device::{DeviceEvidence, classify_device};
pub use hints::ClientHints;

/// Maximum length, in bytes, of the User-Agent that the built-in parsers read.
///
/// Real User-Agents are shorter than 300 bytes. The regex parse time grows with the
/// input length, so longer headers are cut to this length before parsing and caching.
pub const MAX_USER_AGENT_LEN: usize = 512;

/// Cuts `user_agent` to at most [`MAX_USER_AGENT_LEN`] bytes, on a char boundary.
pub fn truncate_user_agent(user_agent: &str) -> &str {
    if user_agent.len() <= MAX_USER_AGENT_LEN {
        return user_agent;
    }
    let mut end = MAX_USER_AGENT_LEN;
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    &user_agent[..end]
}

/// Device class of a login, from a fixed lower-case vocabulary.
///
/// uap-core does not classify devices, so the built-in parsers derive this from the
/// parsed families and the User-Agent's own tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    /// Desktop or laptop computer.
    Desktop,
    /// Mobile phone.
    Phone,
    /// Tablet.
    Tablet,
    /// Smart TV, set-top box or streaming stick.
    Tv,
    /// Game console.
    Console,
    /// Watch or other wearable.
    Wearable,
    /// Crawler, monitor or other automated client.
    Bot,
    /// Known client that fits none of the other classes (a command-line tool, a library).
    Other,
}

impl DeviceType {
    /// Returns the value stored in the `device_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Phone => "phone",
            Self::Tablet => "tablet",
            Self::Tv => "tv",
            Self::Console => "console",
            Self::Wearable => "wearable",
            Self::Bot => "bot",
            Self::Other => "other",
        }
    }
}

/// Parsed User-Agent columns of a login. A `None` field is unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParsedUserAgent {
    /// Device family, such as `iPhone` or `Pixel 7`.
    pub device: Option<String>,
    /// Device class.
    pub device_type: Option<DeviceType>,
    /// Operating system family, such as `Windows` or `iOS`.
    pub platform: Option<String>,
    /// Operating system version, such as `17.1`.
    pub platform_version: Option<String>,
    /// Browser family, such as `Firefox`.
    pub browser: Option<String>,
    /// Browser version, such as `121.0`.
    pub browser_version: Option<String>,
}

/// Parses a `User-Agent` header into the login's device columns.
///
/// Implementations must not panic on any input and should return quickly: they run on
/// the login path. Return [`ParsedUserAgent::default()`] for input they cannot parse.
/// Wrap a slow parser in [`CachedParser`], which also cuts the input to
/// [`MAX_USER_AGENT_LEN`] bytes.
///
/// # Example
///
/// A parser that recognises curl and nothing else:
///
/// ```no_run
/// use std::sync::Arc;
///
/// use auth_tracker::agent::{CachedParser, DeviceType, ParsedUserAgent, UserAgentParser};
///
/// #[derive(Debug)]
/// struct CurlOnly;
///
/// impl UserAgentParser for CurlOnly {
///     fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
///         let Some(version) = user_agent.strip_prefix("curl/") else {
///             return Arc::default();
///         };
///         Arc::new(ParsedUserAgent {
///             browser: Some("curl".to_owned()),
///             browser_version: Some(version.to_owned()),
///             device_type: Some(DeviceType::Other),
///             ..ParsedUserAgent::default()
///         })
///     }
/// }
///
/// let parser = CachedParser::new(CurlOnly);
/// let parsed = parser.parse("curl/8.5.0");
/// assert_eq!(parsed.browser.as_deref(), Some("curl"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a User-Agent parser",
    note = "implement `auth_tracker::UserAgentParser` for it, or use `parser = uaparser` or `parser = none`"
)]
pub trait UserAgentParser: Send + Sync + 'static {
    /// Parses one `User-Agent` header value.
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent>;

    /// Parses one `User-Agent` header value and refines the result with the request's
    /// Client Hints.
    ///
    /// The default calls [`parse`](Self::parse) and then [`ClientHints::refine`], so a
    /// cached parser returns its cached result and only the cheap refinement runs per
    /// request. It returns the cached `Arc` itself when the hints change nothing.
    fn parse_with_hints(&self, user_agent: &str, hints: &ClientHints) -> Arc<ParsedUserAgent> {
        hints.refine(self.parse(user_agent))
    }
}

/// Parser that parses nothing, selected with `parser = none`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoParser;

impl UserAgentParser for NoParser {
    fn parse(&self, _user_agent: &str) -> Arc<ParsedUserAgent> {
        Arc::default()
    }
}
