//! The client IP resolver over forwarding headers and trusted proxy lists.
//!
//! Raw inputs check that nothing panics and that the result is the peer or an address
//! written in the header. Generated headers, whose entries are known addresses or known
//! malformed text, are checked against a model of the documented walk.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::Arbitrary;
use auth_tracker::__fuzz;
use auth_tracker::client_ip::{
    ClientIpConfig, ClientIpConfigError, ForwardedSource, IpNet, MAX_FORWARDED_ENTRIES,
    parse_trusted_proxies, resolve,
};
use auth_tracker::context::normalize_ip;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use http::{HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// Maximum length of an entry that the resolver parses, after trimming (`MAX_ENTRY_LEN` in
/// the resolver).
const MAX_ENTRY_LEN: usize = 64;

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(RawInput),
    Generated(GeneratedInput),
}

fuzz_target!(|input: Input| match input {
    Input::Raw(raw) => check_raw(&raw),
    Input::Generated(generated) => check_generated(&generated),
});

// ---------------------------------------------------------------------------------------
// Raw input

#[derive(Arbitrary, Debug)]
struct RawInput {
    peer: Address,
    source: RawSource,
    trusted_list: String,
    fallback_blocks: Vec<Block>,
    values: Vec<Vec<u8>>,
}

#[derive(Arbitrary, Debug)]
enum RawSource {
    None,
    XForwardedFor,
    Forwarded,
    SingleValue,
    /// A configuration value parsed with `ForwardedSource::from_str`.
    Named(String),
}

fn check_raw(input: &RawInput) {
    let trusted_proxies = match parse_trusted_proxies(&input.trusted_list) {
        Ok(blocks) => {
            check_trusted_list(&input.trusted_list, &blocks);
            blocks
        }
        Err(error) => {
            check_trusted_list_error(&input.trusted_list, &error);
            input
                .fallback_blocks
                .iter()
                .copied()
                .map(Block::to_net)
                .collect()
        }
    };
    let source = match &input.source {
        RawSource::None => ForwardedSource::None,
        RawSource::XForwardedFor => ForwardedSource::XForwardedFor,
        RawSource::Forwarded => ForwardedSource::Forwarded,
        RawSource::SingleValue => ForwardedSource::single_value_header("x-real-ip").unwrap(),
        RawSource::Named(name) => match name.parse::<ForwardedSource>() {
            Ok(source) => {
                check_source_name(name, &source);
                source
            }
            Err(error) => {
                assert!(
                    matches!(error, ClientIpConfigError::InvalidHeaderName(_)),
                    "{error:?}"
                );
                ForwardedSource::XForwardedFor
            }
        },
    };
    let config = ClientIpConfig::new(trusted_proxies, source);
    let peer = input.peer.to_ip();
    let peer_normalized = normalize_ip(peer);

    let resolved = resolve(peer, &input.values, &config);
    assert_eq!(resolved, normalize_ip(resolved), "an IPv4-mapped result");
    if !config.is_trusted(peer) || config.source == ForwardedSource::None {
        assert_eq!(
            resolved, peer_normalized,
            "the header of an untrusted peer was read"
        );
    }
    if input.values.is_empty() {
        assert_eq!(resolved, peer_normalized, "no header, yet not the peer");
    }
    if resolved != peer_normalized {
        assert!(
            header_addresses(&input.values).contains(&resolved),
            "{resolved} is neither the peer nor written in the header"
        );
    }
    match config.source {
        ForwardedSource::XForwardedFor => {
            let entries: usize = input
                .values
                .iter()
                .map(|value| value.split(|&byte| byte == b',').count())
                .sum();
            if entries > MAX_FORWARDED_ENTRIES {
                assert_eq!(resolved, peer_normalized, "{entries} entries were read");
            }
            if resolved != peer_normalized && config.is_trusted(resolved) {
                check_all_trusted(&input.values, &config, resolved);
            }
        }
        ForwardedSource::SingleValueHeader(_) if input.values.len() > 1 => {
            assert_eq!(
                resolved, peer_normalized,
                "a repeated single-value header was read"
            );
        }
        _ => {}
    }

    check_axum_layer(peer, &input.values, &config, resolved);
}

/// Checks that every `X-Forwarded-For` entry is a trusted address and that `resolved` is
/// the leftmost, the only case where the resolver returns a trusted address.
fn check_all_trusted(values: &[Vec<u8>], config: &ClientIpConfig, resolved: IpAddr) {
    let entries = values
        .iter()
        .flat_map(|value| value.split(|&byte| byte == b','));
    for (index, entry) in entries.enumerate() {
        let addresses = header_addresses(&[entry.to_vec()]);
        assert!(!addresses.is_empty(), "entry {index} is no address");
        for address in &addresses {
            assert!(config.is_trusted(*address), "untrusted entry {address}");
        }
        if index == 0 {
            assert!(
                addresses.contains(&resolved),
                "{resolved} is not the leftmost"
            );
        }
    }
}

/// Checks that the axum layer passes the request's values of the configured header to the
/// resolver.
fn check_axum_layer(peer: IpAddr, values: &[Vec<u8>], config: &ClientIpConfig, resolved: IpAddr) {
    let Some(name) = config.source.header_name() else {
        return;
    };
    let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
        return;
    };
    let Ok(values) = values
        .iter()
        .map(|value| HeaderValue::from_bytes(value))
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let mut request = Request::new(Body::empty());
    for value in values {
        request.headers_mut().append(name.clone(), value);
    }
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer, 443)));
    let context = __fuzz::request_context(&request, config);
    assert_eq!(
        context.ip,
        Some(resolved),
        "the layer resolved another address"
    );
}

/// Returns every address that an entry of the header could denote: the text between
/// delimiters, with escapes removed, parsed as an address or as an IPv4 address and a port.
fn header_addresses(values: &[Vec<u8>]) -> Vec<IpAddr> {
    let mut addresses = Vec::new();
    for value in values {
        let unescaped: Vec<u8> = value
            .iter()
            .copied()
            .filter(|&byte| byte != b'\\')
            .collect();
        let pieces = unescaped.split(|byte| b",;=\"[] \t".contains(byte));
        for piece in pieces.filter_map(|piece| std::str::from_utf8(piece).ok()) {
            if let Ok(ip) = piece.parse::<IpAddr>() {
                addresses.push(normalize_ip(ip));
            }
            if let Some((host, _)) = piece.rsplit_once(':')
                && let Ok(ip) = host.parse::<Ipv4Addr>()
            {
                addresses.push(IpAddr::V4(ip));
            }
        }
    }
    addresses
}

/// Checks that a parsed list has one block per entry, with host bits cleared and
/// IPv4-mapped blocks written as IPv4.
fn check_trusted_list(list: &str, blocks: &[IpNet]) {
    let entries = if list.trim().is_empty() {
        0
    } else {
        list.split(',').count()
    };
    assert_eq!(blocks.len(), entries, "one block per entry of {list:?}");
    for block in blocks {
        assert_eq!(*block, block.trunc(), "host bits kept in {block}");
        if let IpNet::V6(v6) = block {
            let mapped = v6.prefix_len() >= 96 && v6.network().to_ipv4_mapped().is_some();
            assert!(!mapped, "IPv4-mapped block {block} was not made IPv4");
        }
    }
}

/// Checks that an error names the first bad entry by its position and text.
fn check_trusted_list_error(list: &str, error: &ClientIpConfigError) {
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    let (position, entry) = match error {
        ClientIpConfigError::InvalidTrustedProxy { entry, position } => (*position, entry.as_str()),
        ClientIpConfigError::EmptyTrustedProxy { position } => (*position, ""),
        other => panic!("unexpected error {other:?} for {list:?}"),
    };
    assert!(position >= 1, "position {position}");
    assert!(
        position <= entries.len(),
        "position {position} of {}",
        entries.len()
    );
    assert_eq!(
        entries[position - 1],
        entry,
        "wrong entry named for {list:?}"
    );
    for earlier in &entries[..position - 1] {
        assert!(
            parse_trusted_proxies(earlier).is_ok(),
            "{earlier:?} comes before the named entry but is invalid"
        );
    }
}

fn check_source_name(name: &str, source: &ForwardedSource) {
    let name = name.trim();
    match source {
        ForwardedSource::None => {
            assert!(
                name.is_empty() || name.eq_ignore_ascii_case("none"),
                "{name:?}"
            );
        }
        ForwardedSource::SingleValueHeader(header) => {
            assert_eq!(*header, name.to_ascii_lowercase());
            assert!(
                HeaderName::from_bytes(header.as_bytes()).is_ok(),
                "{header:?}"
            );
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Generated headers

/// An address, often one of a few that the trusted blocks below contain.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Address {
    Known(u8),
    V4([u8; 4]),
    V6([u8; 16]),
    MappedV4([u8; 4]),
}

const KNOWN_ADDRESSES: [&str; 8] = [
    "10.0.0.5",
    "10.1.2.3",
    "127.0.0.1",
    "203.0.113.9",
    "198.51.100.7",
    "::1",
    "2001:db8::1",
    "fd00::7",
];

impl Address {
    fn to_ip(self) -> IpAddr {
        match self {
            Self::Known(index) => KNOWN_ADDRESSES[usize::from(index) % KNOWN_ADDRESSES.len()]
                .parse()
                .unwrap(),
            Self::V4(octets) => IpAddr::V4(Ipv4Addr::from(octets)),
            Self::V6(octets) => IpAddr::V6(Ipv6Addr::from(octets)),
            Self::MappedV4(octets) => IpAddr::V6(Ipv4Addr::from(octets).to_ipv6_mapped()),
        }
    }
}

/// A trusted proxy block: an address and a prefix length, cut to the family's width.
#[derive(Arbitrary, Clone, Copy, Debug)]
struct Block {
    address: Address,
    prefix_len: u8,
}

impl Block {
    fn to_net(self) -> IpNet {
        let ip = self.address.to_ip();
        let width = if ip.is_ipv4() { 33 } else { 129 };
        IpNet::new(ip, self.prefix_len % width).unwrap().trunc()
    }
}

#[derive(Arbitrary, Debug)]
struct GeneratedInput {
    peer: Address,
    blocks: Vec<Block>,
    header: GeneratedHeader,
}

#[derive(Arbitrary, Debug)]
enum GeneratedHeader {
    XForwardedFor(Vec<Vec<PaddedEntry>>),
    Forwarded(Vec<Vec<Element>>),
    SingleValue(Vec<Entry>),
}

/// Port after an address.
#[derive(Arbitrary, Clone, Debug)]
enum Port {
    Number(u16),
    /// Zero-padded to 5 digits.
    Padded(u16),
    /// RFC 7239 obfuscated port, `_` and `[A-Za-z0-9._-]` characters.
    Obfuscated(Vec<u8>),
    /// Out of range or not a number.
    Invalid(u8),
}

/// One forwarding entry.
#[derive(Arbitrary, Clone, Debug)]
enum Entry {
    V4 {
        address: Address,
        port: Option<Port>,
    },
    /// An IPv6 address, bracketed when `bracketed` or when it has a port.
    V6 {
        address: [u8; 16],
        bracketed: bool,
        port: Option<Port>,
    },
    /// An IPv4-mapped IPv6 address written in the dotted form.
    Mapped([u8; 4]),
    Unknown,
    /// RFC 7239 obfuscated identifier, `_` and letters.
    Obfuscated(Vec<u8>),
    /// Text with a letter that no address contains.
    Garbage(Vec<u8>),
    Empty,
}

/// An `X-Forwarded-For` entry with spaces and tabs around it, which the resolver ignores.
#[derive(Arbitrary, Clone, Debug)]
struct PaddedEntry {
    entry: Entry,
    before: u8,
    after: u8,
}

/// Returns up to 3 spaces or tabs, chosen by the bits of `choice`.
fn whitespace(choice: u8) -> String {
    (0..choice % 4)
        .map(|bit| {
            if choice >> (bit + 2) & 1 == 1 {
                '\t'
            } else {
                ' '
            }
        })
        .collect()
}

/// A `Forwarded` parameter.
#[derive(Arbitrary, Clone, Debug)]
struct Parameter {
    name: ParameterName,
    value: Entry,
    /// Quote the value. Values that need quotes are quoted anyway.
    quoted: bool,
    /// Bit mask of the characters of a quoted value written as `\c` escapes.
    escapes: u64,
    space_around_equals: bool,
}

#[derive(Arbitrary, Clone, Copy, Debug)]
enum ParameterName {
    For,
    ForUpper,
    By,
    Proto,
    Host,
}

#[derive(Arbitrary, Clone, Debug)]
struct Element {
    parameters: Vec<Parameter>,
    space_after_separators: bool,
}

fn port_text(port: &Port) -> (String, bool) {
    match port {
        Port::Number(number) => (number.to_string(), true),
        Port::Padded(number) => (format!("{number:05}"), true),
        Port::Obfuscated(name) => {
            let name: String = name.iter().map(|&b| obfuscated_char(b)).collect();
            let valid = !name.is_empty();
            (format!("_{name}"), valid)
        }
        Port::Invalid(choice) => {
            let text = ["65536", "99999", "", "-1", "8o", "123456", "0x50"];
            (text[usize::from(*choice) % text.len()].to_owned(), false)
        }
    }
}

fn obfuscated_char(byte: u8) -> char {
    const CHARS: &[u8] = b"abcXYZ019._-";
    char::from(CHARS[usize::from(byte) % CHARS.len()])
}

/// Returns the entry's text and the address the resolver must read from it.
fn render_entry(entry: &Entry) -> (String, Option<IpAddr>) {
    let (text, ip) = match entry {
        Entry::V4 { address, port } => {
            let ip = normalize_ip(address.to_ip());
            let address_text = match ip {
                IpAddr::V4(v4) => v4.to_string(),
                // An IPv6 address from the known list, written as an IPv6 entry.
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            match port {
                None => (address_text, Some(ip)),
                Some(port) => {
                    let (port, valid) = port_text(port);
                    (format!("{address_text}:{port}"), valid.then_some(ip))
                }
            }
        }
        Entry::V6 {
            address,
            bracketed,
            port,
        } => {
            let v6 = Ipv6Addr::from(*address);
            let ip = normalize_ip(IpAddr::V6(v6));
            match port {
                None if *bracketed => (format!("[{v6}]"), Some(ip)),
                None => (v6.to_string(), Some(ip)),
                Some(port) => {
                    let (port, valid) = port_text(port);
                    (format!("[{v6}]:{port}"), valid.then_some(ip))
                }
            }
        }
        Entry::Mapped(octets) => {
            let v4 = Ipv4Addr::from(*octets);
            (format!("::ffff:{v4}"), Some(IpAddr::V4(v4)))
        }
        Entry::Unknown => ("unknown".to_owned(), None),
        Entry::Obfuscated(name) => {
            let name: String = name.iter().map(|&b| obfuscated_char(b)).collect();
            (format!("_{name}"), None)
        }
        Entry::Garbage(text) => {
            let text: String = text
                .iter()
                .map(|&b| char::from(b"ghijklmnopqrstuvwxyz0123456789."[usize::from(b) % 31]))
                .collect();
            (format!("{text}g"), None)
        }
        Entry::Empty => (String::new(), None),
    };
    let ip = if text.len() > MAX_ENTRY_LEN { None } else { ip };
    (text, ip)
}

/// Writes a `Forwarded` parameter value, quoted and escaped as chosen. Returns the text
/// and the address of the unescaped value.
fn render_parameter_value(parameter: &Parameter) -> (String, Option<IpAddr>) {
    let (text, ip) = render_entry(&parameter.value);
    // Empty values and bracketed or colon-separated ones need quotes.
    let needs_quotes = text.is_empty();
    if !parameter.quoted && !needs_quotes {
        return (text, ip);
    }
    let mut quoted = String::from("\"");
    for (index, c) in text.chars().enumerate() {
        if parameter.escapes >> (index % 64) & 1 == 1 {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    (quoted, ip)
}

/// Writes one `Forwarded` element and returns the address the resolver must read: the
/// one `for=` value, or none when there is no `for=` or more than one.
fn render_element(element: &Element) -> (String, Option<IpAddr>) {
    let separator = if element.space_after_separators {
        "; "
    } else {
        ";"
    };
    let mut parts = Vec::new();
    let mut for_values = Vec::new();
    for parameter in &element.parameters {
        let name = match parameter.name {
            ParameterName::For => "for",
            ParameterName::ForUpper => "FOR",
            ParameterName::By => "by",
            ParameterName::Proto => "proto",
            ParameterName::Host => "host",
        };
        let (value, ip) = render_parameter_value(parameter);
        if matches!(parameter.name, ParameterName::For | ParameterName::ForUpper) {
            for_values.push(ip);
        }
        let equals = if parameter.space_around_equals {
            " = "
        } else {
            "="
        };
        parts.push(format!("{name}{equals}{value}"));
    }
    let ip = match for_values.as_slice() {
        [ip] => *ip,
        _ => None,
    };
    (parts.join(separator), ip)
}

/// Model of the documented walk: from the right, skip trusted entries and return the
/// first untrusted one, stop at a malformed one, or return the leftmost when all are
/// trusted.
fn model_walk(entries: &[Option<IpAddr>], trusted: impl Fn(IpAddr) -> bool) -> Option<IpAddr> {
    if entries.len() > MAX_FORWARDED_ENTRIES {
        return None;
    }
    for entry in entries.iter().rev() {
        let ip = (*entry)?;
        if !trusted(ip) {
            return Some(ip);
        }
    }
    entries.first().copied().flatten()
}

/// Model of the trust check: the block contains the address, and an IPv4-mapped IPv6
/// block also contains the IPv4 addresses it maps.
fn model_trusted(blocks: &[IpNet], ip: IpAddr) -> bool {
    let ip = normalize_ip(ip);
    blocks.iter().any(|block| match (block, ip) {
        (IpNet::V6(v6_block), IpAddr::V4(v4)) => {
            v6_block.prefix_len() >= 96 && v6_block.contains(&v4.to_ipv6_mapped())
        }
        _ => block.contains(&ip),
    })
}

fn check_generated(input: &GeneratedInput) {
    let blocks: Vec<IpNet> = input.blocks.iter().copied().map(Block::to_net).collect();
    let peer = input.peer.to_ip();
    let trusted = |ip: IpAddr| model_trusted(&blocks, ip);

    let (source, values, entries) = match &input.header {
        GeneratedHeader::XForwardedFor(values) => {
            let mut texts = Vec::new();
            let mut entries = Vec::new();
            for value in values {
                let mut parts = Vec::new();
                for padded in value {
                    let (text, ip) = render_entry(&padded.entry);
                    parts.push(format!(
                        "{}{text}{}",
                        whitespace(padded.before),
                        whitespace(padded.after)
                    ));
                    entries.push(ip);
                }
                // An empty value is one empty entry.
                if value.is_empty() {
                    entries.push(None);
                }
                texts.push(parts.join(","));
            }
            (ForwardedSource::XForwardedFor, texts, entries)
        }
        GeneratedHeader::Forwarded(values) => {
            let mut texts = Vec::new();
            let mut entries = Vec::new();
            for value in values {
                let mut parts = Vec::new();
                for element in value {
                    let (text, ip) = render_element(element);
                    parts.push(text);
                    entries.push(ip);
                }
                let text = parts.join(", ");
                // An element without parameters is a syntax error, which makes the rest of
                // the value one malformed entry.
                if let Some(first_empty) = value.iter().position(|e| e.parameters.is_empty()) {
                    let kept = entries.len() - value.len() + first_empty;
                    entries.truncate(kept);
                    entries.push(None);
                } else if value.is_empty() {
                    entries.push(None);
                }
                texts.push(text);
            }
            (ForwardedSource::Forwarded, texts, entries)
        }
        GeneratedHeader::SingleValue(values) => {
            let texts: Vec<String> = values.iter().map(|entry| render_entry(entry).0).collect();
            let entries = match values.as_slice() {
                [entry] => vec![render_entry(entry).1],
                _ => vec![None],
            };
            let entries = if values.is_empty() {
                Vec::new()
            } else {
                entries
            };
            (
                ForwardedSource::single_value_header("x-real-ip").unwrap(),
                texts,
                entries,
            )
        }
    };

    let config = ClientIpConfig::new(blocks.clone(), source);
    for ip in [peer].into_iter().chain(entries.iter().flatten().copied()) {
        assert_eq!(
            config.is_trusted(ip),
            trusted(ip),
            "trust of {ip} under {blocks:?}"
        );
    }

    let peer_normalized = normalize_ip(peer);
    let expected = if trusted(peer) {
        model_walk(&entries, trusted).unwrap_or(peer_normalized)
    } else {
        peer_normalized
    };
    let resolved = resolve(peer, &values, &config);
    assert_eq!(
        resolved, expected,
        "peer {peer}, header {values:?}, entries {entries:?}, trusted {blocks:?}"
    );
}
