//! The remember-me cookie: reading it from `Cookie` headers and parsing its
//! `selector:verifier` value.
//!
//! Raw inputs check that nothing panics and that an accepted value is well formed and
//! round-trips. Generated values from random bytes must parse, and each malformation
//! of them must be rejected.

#![no_main]

use arbitrary::Arbitrary;
use auth_tracker::__fuzz;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

/// Default `TrackerConfig::remember_cookie_name`.
const COOKIE_NAME: &str = "remember";
/// Bytes of the selector and of the verifier.
const SELECTOR_BYTES: usize = 16;
const VERIFIER_BYTES: usize = 32;

#[derive(Arbitrary, Debug)]
enum Input {
    /// Raw `Cookie` header values.
    Raw(Vec<Vec<u8>>),
    /// A raw cookie value, as the tracker receives it.
    RawValue(String),
    Generated(Generated),
}

#[derive(Arbitrary, Debug)]
struct Generated {
    selector: [u8; SELECTOR_BYTES],
    verifier: [u8; VERIFIER_BYTES],
    malformation: Option<Malformation>,
    /// Other cookies of the request, before or after the remember cookie.
    others: Vec<OtherCookie>,
    position: u8,
    /// Splits the cookies over several `Cookie` headers after these indices.
    header_breaks: u16,
    compact_separators: bool,
}

#[derive(Arbitrary, Debug)]
struct OtherCookie {
    name: Vec<u8>,
    value: Vec<u8>,
}

/// A change that makes a well-formed value malformed.
#[derive(Arbitrary, Debug)]
enum Malformation {
    /// Replaces the char at an index with one outside the URL-safe base64 alphabet.
    ForeignChar { index: u8, replacement: u8 },
    /// Drops the char at an index.
    Drop(u8),
    /// Inserts an alphabet char at an index.
    Insert { index: u8, byte: u8 },
    /// Sets the unused low bits of the selector's or the verifier's last char.
    TrailingBits { verifier: bool, bits: u8 },
    /// Appends base64 padding.
    Padding,
    /// Swaps selector and verifier.
    Swap,
    /// Writes the value in the standard alphabet, with `+` and `/`.
    StandardAlphabet,
}

fuzz_target!(|input: Input| match input {
    Input::Raw(values) => check_raw_headers(&values),
    Input::RawValue(value) => check_value(&value),
    Input::Generated(generated) => check_generated(&generated),
});

fn check_raw_headers(values: &[Vec<u8>]) {
    let mut headers = HeaderMap::new();
    for value in values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(header::COOKIE, value);
        }
    }
    if let Some(value) = __fuzz::read_cookie(&headers, COOKIE_NAME) {
        let found = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok())
            .any(|header| header.contains(&value));
        assert!(found, "{value:?} is in no Cookie header");
        check_value(&value);
    }
}

/// An accepted value is two canonical URL-safe base64 strings of the right lengths, and
/// the token writes back exactly the value it read.
fn check_value(value: &str) {
    let Some(parts) = __fuzz::parse_remember_cookie(value) else {
        return;
    };
    assert_eq!(parts.cookie_value, value, "the value does not round-trip");
    let (selector, verifier) = value.split_once(':').unwrap();
    assert_eq!(parts.selector, selector);
    for (text, bytes) in [(selector, SELECTOR_BYTES), (verifier, VERIFIER_BYTES)] {
        let decoded = URL_SAFE_NO_PAD.decode(text).unwrap();
        assert_eq!(
            decoded.len(),
            bytes,
            "{text:?} decodes to {} bytes",
            decoded.len()
        );
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&decoded),
            text,
            "{text:?} is not canonical"
        );
    }
}

fn check_generated(input: &Generated) {
    let selector = URL_SAFE_NO_PAD.encode(input.selector);
    let verifier = URL_SAFE_NO_PAD.encode(input.verifier);
    let well_formed = format!("{selector}:{verifier}");

    let value = match &input.malformation {
        None => {
            let parts = __fuzz::parse_remember_cookie(&well_formed)
                .unwrap_or_else(|| panic!("{well_formed:?} was rejected"));
            assert_eq!(parts.selector, selector);
            assert_eq!(parts.cookie_value, well_formed);
            well_formed
        }
        Some(malformation) => {
            let Some(malformed) = malform(&selector, &verifier, malformation) else {
                return;
            };
            assert!(
                __fuzz::parse_remember_cookie(&malformed).is_none(),
                "{malformed:?} ({malformation:?}) was accepted"
            );
            malformed
        }
    };
    check_cookie_header(input, &value);
}

/// Returns the malformed value, or `None` when the change leaves the value well formed.
fn malform(selector: &str, verifier: &str, malformation: &Malformation) -> Option<String> {
    let value = format!("{selector}:{verifier}");
    let mut chars: Vec<char> = value.chars().collect();
    let malformed = match malformation {
        Malformation::ForeignChar { index, replacement } => {
            const FOREIGN: [char; 10] = ['+', '/', '=', '.', ' ', '%', '~', '"', ':', 'é'];
            let index = usize::from(*index) % chars.len();
            if chars[index] == ':' {
                // Replacing the separator itself leaves no separator.
                chars[index] = '-';
            } else {
                chars[index] = FOREIGN[usize::from(*replacement) % FOREIGN.len()];
            }
            chars.into_iter().collect()
        }
        Malformation::Drop(index) => {
            chars.remove(usize::from(*index) % chars.len());
            chars.into_iter().collect()
        }
        Malformation::Insert { index, byte } => {
            let alphabet = b"ABCxyz059-_";
            let c = char::from(alphabet[usize::from(*byte) % alphabet.len()]);
            chars.insert(usize::from(*index) % (chars.len() + 1), c);
            chars.into_iter().collect()
        }
        Malformation::TrailingBits {
            verifier: on_verifier,
            bits,
        } => {
            // 16 bytes leave 4 unused bits in the last char, and 32 bytes leave 2.
            let (text, unused_bits) = if *on_verifier {
                (verifier, 2)
            } else {
                (selector, 4)
            };
            let low_bits = (bits % ((1 << unused_bits) - 1)) + 1;
            let last = text.chars().last().unwrap();
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let position = alphabet
                .iter()
                .position(|&b| char::from(b) == last)
                .unwrap();
            let changed = char::from(alphabet[position | usize::from(low_bits)]);
            let text = format!("{}{changed}", &text[..text.len() - 1]);
            if *on_verifier {
                format!("{selector}:{text}")
            } else {
                format!("{text}:{verifier}")
            }
        }
        Malformation::Padding => format!("{value}=="),
        Malformation::Swap => format!("{verifier}:{selector}"),
        Malformation::StandardAlphabet => {
            if !value.contains(['-', '_']) {
                return None;
            }
            value.replace('-', "+").replace('_', "/")
        }
    };
    Some(malformed)
}

/// Cookie name made of token characters other than `=`.
fn cookie_name(bytes: &[u8]) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCXYZ0189!#$%&'*+-.^_`|~";
    let name: String = bytes
        .iter()
        .map(|&b| char::from(CHARS[usize::from(b) % CHARS.len()]))
        .collect();
    if name.is_empty() {
        "session".to_owned()
    } else {
        name
    }
}

/// Cookie value made of `cookie-octet` characters (RFC 6265): no space, quote, comma,
/// semicolon or backslash.
fn cookie_octets(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            let c = 0x21 + b % (0x7f - 0x21);
            if matches!(c, b'"' | b',' | b';' | b'\\') {
                'x'
            } else {
                char::from(c)
            }
        })
        .collect()
}

/// The layer reads the first cookie named `remember` wherever it sits among the others
/// and across `Cookie` headers.
fn check_cookie_header(input: &Generated, value: &str) {
    let mut cookies: Vec<(String, String)> = input
        .others
        .iter()
        .map(|other| (cookie_name(&other.name), cookie_octets(&other.value)))
        .collect();
    let position = usize::from(input.position) % (cookies.len() + 1);
    cookies.insert(position, (COOKIE_NAME.to_owned(), value.to_owned()));
    let separator = if input.compact_separators { ";" } else { "; " };
    let mut headers = HeaderMap::new();
    let mut expected = None;
    let mut current: Vec<&(String, String)> = Vec::new();
    for (index, cookie) in cookies.iter().enumerate() {
        current.push(cookie);
        let last = index + 1 == cookies.len();
        if !last && input.header_breaks >> (index % 16) & 1 == 0 {
            continue;
        }
        let text = current
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(separator);
        // A header value with bytes beyond visible ASCII has no text, so it is ignored.
        if text.is_ascii() && expected.is_none() {
            // The cookie parser trims whitespace around values.
            expected = current
                .iter()
                .find(|(name, _)| name == COOKIE_NAME)
                .map(|(_, value)| value.trim().to_owned());
        }
        headers.append(header::COOKIE, HeaderValue::from_str(&text).unwrap());
        current.clear();
    }
    assert_eq!(
        __fuzz::read_cookie(&headers, COOKIE_NAME),
        expected,
        "cookies {cookies:?}"
    );
}
