//! Client IP address of a request, from the socket peer and, behind trusted proxies, from
//! a forwarding header.
//!
//! # Trust model
//!
//! Any client can send `X-Forwarded-For` or `Forwarded`, so the resolver reads the
//! configured header only when the socket peer lies inside one of the
//! [trusted proxy](ClientIpConfig::trusted_proxies) CIDR blocks. Each proxy appends the
//! address it received the request from, so the resolver walks the header from the right,
//! skips the entries of trusted proxies and returns the first address it does not trust.
//! Entries further left were written by the client or by proxies outside the application's
//! control, so they are ignored, apart from counting towards [`MAX_FORWARDED_ENTRIES`]. A missing header, or a malformed or obfuscated entry met
//! during the walk, makes the resolver return the peer. IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`) are compared and returned as IPv4.
//!
//! ```
//! use std::net::IpAddr;
//!
//! use auth_tracker::client_ip::{parse_trusted_proxies, resolve, ClientIpConfig, ForwardedSource};
//!
//! let config = ClientIpConfig {
//!     trusted_proxies: parse_trusted_proxies("10.0.0.0/8, ::1")?,
//!     source: ForwardedSource::XForwardedFor,
//! };
//!
//! // The client forged the first entry, and the load balancer appended the real address.
//! let load_balancer: IpAddr = "10.0.0.5".parse()?;
//! let ip = resolve(load_balancer, ["198.51.100.7, 203.0.113.9"], &config);
//! assert_eq!(ip.to_string(), "203.0.113.9");
//!
//! // A request that reached the application directly keeps its peer address.
//! let direct: IpAddr = "203.0.113.50".parse()?;
//! assert_eq!(resolve(direct, ["198.51.100.7"], &config), direct);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The module does not depend on an HTTP library. An integration passes the values of
//! the header named by [`ForwardedSource::header_name`], in the order the request carried
//! them, as anything that yields bytes: `&str`, `&[u8]` or `&http::HeaderValue`.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// CIDR block of the `ipnet` crate, re-exported so configuration needs no extra dependency.
pub use ipnet::IpNet;
use ipnet::{Ipv4Net, Ipv6Net};

use crate::context::normalize_ip;

/// Maximum number of forwarding entries the resolver reads from one request.
///
/// Real chains have a handful of hops, while a client can send thousands of entries to
/// make every request expensive. A request with more entries, across all instances of
/// the header, is treated as malformed and resolves to the peer, so the work per request
/// stays bounded by this number.
pub const MAX_FORWARDED_ENTRIES: usize = 64;

/// Maximum length in bytes of one entry, after surrounding whitespace is removed.
///
/// The longest entry with a numeric port,
/// `[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535`, has 53 bytes, so longer input
/// is rejected before it is parsed. An address with an obfuscated port (`_` and a name)
/// longer than this limit is rejected too, and the request resolves to the peer.
const MAX_ENTRY_LEN: usize = 64;

/// Client IP address that an application resolved itself, which overrides the resolver.
///
/// An application that already determines the client address, for example with another
/// extractor or a proxy protocol, inserts this value into the request's extensions. The
/// axum layer (`auth_tracker::axum`) uses it instead of calling [`resolve`] when the
/// request's extensions contain it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl From<ClientIp> for IpAddr {
    fn from(client_ip: ClientIp) -> Self {
        client_ip.0
    }
}

/// Header that trusted proxies use to pass on the client address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ForwardedSource {
    /// No header: the client address is always the socket peer.
    #[default]
    None,
    /// `X-Forwarded-For`, a comma-separated list of addresses. Every instance of the
    /// header is read, concatenated in order.
    XForwardedFor,
    /// `Forwarded` (RFC 7239), whose elements carry the address in a `for=` parameter.
    /// Every instance of the header is read, concatenated in order.
    Forwarded,
    /// A header containing exactly one address, such as `X-Real-IP` or `CF-Connecting-IP`,
    /// stored as its lower-case name. A request carrying the header more than once is
    /// treated as malformed. Build it with [`ForwardedSource::single_value_header`] to
    /// validate the name.
    SingleValueHeader(String),
}

impl ForwardedSource {
    /// Creates a [`ForwardedSource::SingleValueHeader`] source for the header `name`.
    ///
    /// # Errors
    ///
    /// Returns [`ClientIpConfigError::InvalidHeaderName`] when `name` is not a valid HTTP
    /// header name.
    pub fn single_value_header(name: &str) -> Result<Self, ClientIpConfigError> {
        let is_valid = !name.is_empty() && name.bytes().all(is_token_byte);
        if !is_valid {
            return Err(ClientIpConfigError::InvalidHeaderName(name.to_owned()));
        }
        Ok(Self::SingleValueHeader(name.to_ascii_lowercase()))
    }

    /// Returns the lower-case name of the header to read, or `None` when no header is read.
    pub fn header_name(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::XForwardedFor => Some("x-forwarded-for"),
            Self::Forwarded => Some("forwarded"),
            Self::SingleValueHeader(name) => Some(name),
        }
    }
}

impl FromStr for ForwardedSource {
    type Err = ClientIpConfigError;

    /// Parses a configuration value, ignoring ASCII case: `none` or an empty string,
    /// `x-forwarded-for`, `forwarded`, or any other header name, which becomes a
    /// [`ForwardedSource::SingleValueHeader`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("none") {
            Ok(Self::None)
        } else if text.eq_ignore_ascii_case("x-forwarded-for") {
            Ok(Self::XForwardedFor)
        } else if text.eq_ignore_ascii_case("forwarded") {
            Ok(Self::Forwarded)
        } else {
            Self::single_value_header(text)
        }
    }
}

impl fmt::Display for ForwardedSource {
    /// Writes the lower-case header name, or `none` when no header is read.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.header_name().unwrap_or("none"))
    }
}

/// Client IP resolver settings: the trusted proxies and the header they set.
///
/// The default trusts no proxy and reads no header, so the client address is the socket
/// peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientIpConfig {
    /// CIDR blocks of the proxies in front of the application. The header is read only
    /// when the socket peer lies inside one of them. A block written as IPv4-mapped IPv6,
    /// such as `::ffff:10.0.0.0/104`, also matches the IPv4 addresses it maps.
    pub trusted_proxies: Vec<IpNet>,
    /// Header that the trusted proxies set.
    pub source: ForwardedSource,
}

impl ClientIpConfig {
    /// Creates a configuration from trusted proxy blocks and a header source.
    pub fn new(trusted_proxies: Vec<IpNet>, source: ForwardedSource) -> Self {
        Self {
            trusted_proxies,
            source,
        }
    }

    /// Returns whether `ip` lies inside a trusted proxy block, after normalising an
    /// IPv4-mapped IPv6 address to IPv4.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = normalize_ip(ip);
        self.trusted_proxies
            .iter()
            .any(|block| block_contains(block, ip))
    }
}

/// Error in a client IP configuration value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIpConfigError {
    /// An entry of a trusted proxy list is neither an IP address nor a CIDR block.
    #[error(
        "invalid trusted proxy {entry:?} (entry {position} of the list): expected an IP address or a CIDR block such as 10.0.0.0/8 or ::1/128"
    )]
    InvalidTrustedProxy {
        /// Entry as written, without surrounding whitespace.
        entry: String,
        /// Position of the entry in the list, counting from 1.
        position: usize,
    },

    /// A trusted proxy list contains an empty entry, such as the one between two commas.
    #[error(
        "empty entry {position} in the trusted proxy list: remove the extra comma or add an address"
    )]
    EmptyTrustedProxy {
        /// Position of the entry in the list, counting from 1.
        position: usize,
    },

    /// A configured header name contains characters that HTTP does not allow in names.
    #[error(
        "invalid header name {0:?}: use letters, digits and hyphens, such as X-Real-IP or CF-Connecting-IP"
    )]
    InvalidHeaderName(String),
}

/// Parses a comma-separated list of trusted proxies, such as
/// `127.0.0.1/32, 10.0.0.0/8, ::1/128`.
///
/// A bare IP address is a block of one address (`/32` or `/128`). Host bits below the
/// prefix are cleared, so `10.1.2.3/8` becomes `10.0.0.0/8`, and IPv4-mapped IPv6 blocks
/// become IPv4 blocks. An empty or all-whitespace list returns no blocks.
///
/// # Errors
///
/// Returns [`ClientIpConfigError::InvalidTrustedProxy`] or
/// [`ClientIpConfigError::EmptyTrustedProxy`] naming the first bad entry.
pub fn parse_trusted_proxies(list: &str) -> Result<Vec<IpNet>, ClientIpConfigError> {
    if list.trim().is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .enumerate()
        .map(|(index, entry)| parse_trusted_proxy(entry.trim(), index + 1))
        .collect()
}

fn parse_trusted_proxy(entry: &str, position: usize) -> Result<IpNet, ClientIpConfigError> {
    if entry.is_empty() {
        return Err(ClientIpConfigError::EmptyTrustedProxy { position });
    }

    let parsed = if entry.contains('/') {
        entry.parse::<IpNet>().ok()
    } else {
        entry.parse::<IpAddr>().ok().map(IpNet::from)
    };
    let Some(block) = parsed else {
        return Err(ClientIpConfigError::InvalidTrustedProxy {
            entry: entry.to_owned(),
            position,
        });
    };

    let block = match block {
        IpNet::V6(v6_block) => mapped_block_to_v4(&v6_block).map_or(block, IpNet::V4),
        IpNet::V4(_) => block,
    };
    Ok(block.trunc())
}

/// Resolves the client IP address of a request.
///
/// `peer` is the socket peer address, and `header_values` are the values of the header
/// named by [`ForwardedSource::header_name`], in the order the request carried them.
/// Values of other headers must not be passed. The resolver:
///
/// 1. returns the peer when it is not a trusted proxy, or when no header is configured;
/// 2. otherwise walks the header's entries from the right, skips the entries of trusted
///    proxies and returns the first untrusted address;
/// 3. returns the leftmost entry when every entry is a trusted proxy;
/// 4. returns the peer when the header is missing, when it has more than
///    [`MAX_FORWARDED_ENTRIES`] entries, or when the walk meets a malformed entry or an
///    obfuscated one (`unknown`, or `_hidden` in `Forwarded`).
///
/// Ports (`203.0.113.9:5678`, `[2001:db8::1]:443`) and whitespace around entries are
/// ignored. The result, like the peer and every entry, is normalised with
/// [`normalize_ip`].
pub fn resolve<I>(peer: IpAddr, header_values: I, config: &ClientIpConfig) -> IpAddr
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let peer = normalize_ip(peer);
    if !config.is_trusted(peer) {
        return peer;
    }

    let entries = match &config.source {
        ForwardedSource::None => return peer,
        ForwardedSource::XForwardedFor => x_forwarded_for_entries(header_values),
        ForwardedSource::Forwarded => forwarded_entries(header_values),
        ForwardedSource::SingleValueHeader(_) => single_value_entries(header_values),
    };
    let Some(entries) = entries else {
        return peer;
    };
    select_client(&entries, config).unwrap_or(peer)
}

/// Walks `entries` from the right and returns the first untrusted address, or the
/// leftmost entry when all are trusted. Returns `None` when a malformed entry comes first
/// or there are no entries.
fn select_client(entries: &[Option<IpAddr>], config: &ClientIpConfig) -> Option<IpAddr> {
    for entry in entries.iter().rev() {
        let ip = (*entry)?;
        if !config.is_trusted(ip) {
            return Some(ip);
        }
    }
    entries.first().copied().flatten()
}

/// Splits every `X-Forwarded-For` value on commas. Each entry is the parsed address, or
/// `None` when it is malformed. Returns `None` when there are more than
/// [`MAX_FORWARDED_ENTRIES`] entries.
fn x_forwarded_for_entries<I>(header_values: I) -> Option<Vec<Option<IpAddr>>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut entries = Vec::new();
    for value in header_values {
        for entry in value.as_ref().split(|&byte| byte == b',') {
            if entries.len() == MAX_FORWARDED_ENTRIES {
                return None;
            }
            entries.push(parse_node(entry));
        }
    }
    Some(entries)
}

/// Reads the `for=` address of every `Forwarded` element. An element without exactly one
/// `for=` parameter, or with a malformed or obfuscated one, becomes `None`. A syntax
/// error, such as an unterminated quoted string, turns the rest of that header value into
/// one `None` entry. Returns `None` when there are more than [`MAX_FORWARDED_ENTRIES`]
/// entries.
fn forwarded_entries<I>(header_values: I) -> Option<Vec<Option<IpAddr>>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut entries = Vec::new();
    for value in header_values {
        let mut cursor = Cursor::new(value.as_ref());
        loop {
            if entries.len() == MAX_FORWARDED_ENTRIES {
                return None;
            }
            match parse_forwarded_element(&mut cursor) {
                Ok((entry, ElementEnd::Comma)) => entries.push(entry),
                Ok((entry, ElementEnd::EndOfValue)) => {
                    entries.push(entry);
                    break;
                }
                Err(SyntaxError) => {
                    entries.push(None);
                    break;
                }
            }
        }
    }
    Some(entries)
}

/// Reads a single-value header. Returns no entries when the header is missing, and `None`
/// when the request carries it more than once.
fn single_value_entries<I>(header_values: I) -> Option<Vec<Option<IpAddr>>>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut values = header_values.into_iter();
    let Some(first) = values.next() else {
        return Some(Vec::new());
    };
    if values.next().is_some() {
        return None;
    }
    Some(vec![parse_node(first.as_ref())])
}

/// Parses one forwarding entry: an IPv4 address with an optional port, an IPv6 address
/// with or without brackets, or a bracketed IPv6 address with a port. Returns `None` for
/// anything else, including the obfuscated identifiers of RFC 7239 (`unknown`,
/// `_hidden`).
fn parse_node(raw: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(raw).ok()?.trim_matches([' ', '\t']);
    if text.is_empty() || text.len() > MAX_ENTRY_LEN {
        return None;
    }

    let ip = if let Some(bracketed) = text.strip_prefix('[') {
        let (address, rest) = bracketed.split_once(']')?;
        if !rest.is_empty() && !is_port(rest.strip_prefix(':')?) {
            return None;
        }
        IpAddr::V6(address.parse::<Ipv6Addr>().ok()?)
    } else if let Ok(ip) = text.parse::<IpAddr>() {
        ip
    } else {
        let (address, port) = text.split_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(address.parse::<Ipv4Addr>().ok()?)
    };
    Some(normalize_ip(ip))
}

/// Returns whether `text` is a port number or an obfuscated port (`_` followed by
/// letters, digits, `.`, `_` or `-`, as RFC 7239 allows).
fn is_port(text: &str) -> bool {
    if let Some(obfuscated) = text.strip_prefix('_') {
        return !obfuscated.is_empty()
            && obfuscated
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    }
    (1..=5).contains(&text.len())
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && text.parse::<u16>().is_ok()
}

fn block_contains(block: &IpNet, ip: IpAddr) -> bool {
    match (block, ip) {
        (IpNet::V6(v6_block), IpAddr::V4(v4)) => {
            mapped_block_to_v4(v6_block).is_some_and(|v4_block| v4_block.contains(&v4))
        }
        _ => block.contains(&ip),
    }
}

/// Returns the IPv4 block that an IPv6 block inside `::ffff:0:0/96` maps, or `None` for
/// other IPv6 blocks.
fn mapped_block_to_v4(block: &Ipv6Net) -> Option<Ipv4Net> {
    let prefix_len = block.prefix_len().checked_sub(96)?;
    let network = block.network().to_ipv4_mapped()?;
    Ipv4Net::new(network, prefix_len).ok()
}

/// Returns whether `byte` may appear in an HTTP token, such as a header or parameter name
/// (RFC 9110 section 5.6.2).
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Delimiter that ended a `Forwarded` element.
enum ElementEnd {
    Comma,
    EndOfValue,
}

/// A `Forwarded` value breaks the RFC 7239 syntax, so its remaining elements cannot be
/// located.
#[derive(Debug)]
struct SyntaxError;

/// Parses one `forwarded-element` (`name=value` pairs separated by `;`) and the comma or
/// end of value after it. Returns the element's `for=` address, or `None` when it has no
/// usable one.
fn parse_forwarded_element(
    cursor: &mut Cursor<'_>,
) -> Result<(Option<IpAddr>, ElementEnd), SyntaxError> {
    // `None` until a `for=` pair is seen, then the parsed node of that pair.
    let mut for_node: Option<Option<IpAddr>> = None;
    let mut has_duplicate_for = false;

    loop {
        cursor.skip_whitespace();
        let name = cursor.take_while(is_token_byte);
        if name.is_empty() {
            return Err(SyntaxError);
        }
        cursor.skip_whitespace();
        if !cursor.eat(b'=') {
            return Err(SyntaxError);
        }
        cursor.skip_whitespace();
        let value = cursor.take_value()?;

        if name.eq_ignore_ascii_case(b"for") {
            if for_node.is_some() {
                has_duplicate_for = true;
            }
            for_node = Some(parse_node(&value));
        }

        cursor.skip_whitespace();
        if cursor.eat(b';') {
            continue;
        }
        let end = if cursor.eat(b',') {
            ElementEnd::Comma
        } else if cursor.is_at_end() {
            ElementEnd::EndOfValue
        } else {
            return Err(SyntaxError);
        };

        // RFC 7239 allows each parameter once per element, so a second `for=` makes the
        // element's address ambiguous.
        let entry = if has_duplicate_for {
            None
        } else {
            for_node.flatten()
        };
        return Ok((entry, end));
    }
}

/// Position in one `Forwarded` header value.
struct Cursor<'a> {
    input: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { input, position: 0 }
    }

    fn is_at_end(&self) -> bool {
        self.position >= self.input.len()
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    /// Consumes `byte` if it is next, and returns whether it was.
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        self.take_while(|byte| byte == b' ' || byte == b'\t');
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.position;
        while self.peek().is_some_and(&accept) {
            self.position += 1;
        }
        &self.input[start..self.position]
    }

    /// Takes a parameter value: a quoted string without its quotes and escapes, or the
    /// unquoted text up to the next delimiter. Unquoted values may contain `:` and
    /// brackets although RFC 7239 requires quotes around them, because the value is
    /// checked as an address afterwards anyway.
    fn take_value(&mut self) -> Result<Cow<'a, [u8]>, SyntaxError> {
        if !self.eat(b'"') {
            let value = self.take_while(|byte| !matches!(byte, b';' | b',' | b'"' | b' ' | b'\t'));
            if value.is_empty() {
                return Err(SyntaxError);
            }
            return Ok(Cow::Borrowed(value));
        }

        let start = self.position;
        let contents = self.take_while(|byte| byte != b'"' && byte != b'\\');
        if self.eat(b'"') {
            return Ok(Cow::Borrowed(contents));
        }

        // The string contains a backslash escape, so its value is copied without them.
        self.position = start;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(SyntaxError),
                Some(b'"') => {
                    self.position += 1;
                    return Ok(Cow::Owned(value));
                }
                Some(b'\\') => {
                    self.position += 1;
                    let escaped = self.peek().ok_or(SyntaxError)?;
                    value.push(escaped);
                    self.position += 1;
                }
                Some(byte) => {
                    value.push(byte);
                    self.position += 1;
                }
            }
        }
    }
}
