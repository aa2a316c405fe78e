//! API tokens: the `Authorization: Bearer` header and the `<login id>|<secret>` token.
//!
//! Raw inputs check that nothing panics and that whatever is accepted is well formed.
//! Generated tokens from random bytes must be read from the header and parsed back, and
//! each malformation of them must be rejected.

#![no_main]

use arbitrary::Arbitrary;
use auth_tracker::__fuzz;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

/// Bytes of a token secret.
const SECRET_BYTES: usize = 32;

#[derive(Arbitrary, Debug)]
enum Input {
    /// A raw `Authorization` header value.
    RawHeader(Vec<u8>),
    /// A raw token, as the tracker's token check receives it.
    RawToken(String),
    Generated(Generated),
}

#[derive(Arbitrary, Debug)]
struct Generated {
    id: [u8; 16],
    secret: [u8; SECRET_BYTES],
    scheme: Scheme,
    spaces: u8,
    trailing_spaces: u8,
    malformation: Option<Malformation>,
}

#[derive(Arbitrary, Debug)]
enum Scheme {
    /// `Bearer` in some ASCII case, chosen by the bits.
    Bearer(u8),
    /// Another scheme, which the layer ignores.
    Other(u8),
}

/// A change that makes a well-formed token malformed.
#[derive(Arbitrary, Debug)]
enum Malformation {
    /// Replaces a char of the secret with one outside the URL-safe base64 alphabet.
    ForeignChar { index: u8, replacement: u8 },
    /// Drops a char of the secret.
    DropSecretChar(u8),
    /// Adds an alphabet char to the secret.
    ExtraSecretChar(u8),
    /// Sets the 2 unused low bits of the secret's last char.
    TrailingBits(u8),
    /// Drops the `|` separator.
    NoSeparator,
    /// Adds a second `|` part.
    ExtraPart,
    /// Drops a char of the login id.
    DropIdChar(u8),
    /// Replaces a char of the login id with a non-hex letter.
    BadIdChar(u8),
    /// Empty secret.
    EmptySecret,
}

fuzz_target!(|input: Input| match input {
    Input::RawHeader(bytes) => check_raw_header(&bytes),
    Input::RawToken(token) => check_token(&token),
    Input::Generated(generated) => check_generated(&generated),
});

fn check_raw_header(bytes: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(bytes) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    let Some(credentials) = __fuzz::bearer_token(&headers) else {
        return;
    };

    let text = headers[header::AUTHORIZATION].to_str().unwrap();
    let (scheme, rest) = text.split_once(' ').unwrap();
    assert!(scheme.eq_ignore_ascii_case("bearer"), "scheme {scheme:?}");
    assert_eq!(credentials, rest.trim(), "credentials of {text:?}");
    check_token(credentials);
}

/// Checks that an accepted token is a UUID, `|` and a canonical URL-safe base64 secret of
/// 32 bytes, and that the token in its issued form parses to the same id and secret.
fn check_token(token: &str) {
    let Some((id, secret)) = __fuzz::parse_token(token) else {
        return;
    };
    let (id_text, secret_text) = token.split_once('|').unwrap();
    assert_eq!(secret, secret_text);
    assert_eq!(Some(id.as_uuid()), Uuid::try_parse(id_text).ok());

    let decoded = URL_SAFE_NO_PAD.decode(secret).unwrap();
    assert_eq!(
        decoded.len(),
        SECRET_BYTES,
        "{secret:?} decodes to {} bytes",
        decoded.len()
    );
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&decoded),
        secret,
        "{secret:?} is not canonical"
    );

    let issued = format!("{id}|{secret}");
    let reparsed = __fuzz::parse_token(&issued).map(|(id, secret)| (id, secret.to_owned()));
    assert_eq!(
        reparsed,
        Some((id, secret.to_owned())),
        "issued form {issued:?}"
    );
}

fn check_generated(input: &Generated) {
    let id = Uuid::from_bytes(input.id);
    let secret = URL_SAFE_NO_PAD.encode(input.secret);
    let well_formed = format!("{id}|{secret}");

    let token = match &input.malformation {
        None => {
            let (parsed_id, parsed_secret) = __fuzz::parse_token(&well_formed)
                .unwrap_or_else(|| panic!("{well_formed:?} was rejected"));
            assert_eq!(parsed_id.as_uuid(), id);
            assert_eq!(parsed_secret, secret);
            well_formed
        }
        Some(malformation) => {
            let malformed = malform(&id.to_string(), &secret, malformation);
            assert!(
                __fuzz::parse_token(&malformed).is_none(),
                "{malformed:?} ({malformation:?}) was accepted"
            );
            malformed
        }
    };
    check_header(input, &token);
}

fn malform(id: &str, secret: &str, malformation: &Malformation) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut secret_chars: Vec<char> = secret.chars().collect();
    let mut id_chars: Vec<char> = id.chars().collect();
    match malformation {
        Malformation::ForeignChar { index, replacement } => {
            const FOREIGN: [char; 10] = ['+', '/', '=', '.', ' ', '%', '|', ':', '"', 'é'];
            let index = usize::from(*index) % secret_chars.len();
            secret_chars[index] = FOREIGN[usize::from(*replacement) % FOREIGN.len()];
        }
        Malformation::DropSecretChar(index) => {
            secret_chars.remove(usize::from(*index) % secret_chars.len());
        }
        Malformation::ExtraSecretChar(byte) => {
            secret_chars.push(char::from(alphabet[usize::from(*byte) % alphabet.len()]));
        }
        Malformation::TrailingBits(bits) => {
            let last = secret_chars.pop().unwrap();
            let position = alphabet
                .iter()
                .position(|&b| char::from(b) == last)
                .unwrap();
            let low_bits = usize::from(bits % 3) + 1;
            secret_chars.push(char::from(alphabet[position | low_bits]));
        }
        Malformation::NoSeparator => return format!("{id}{secret}"),
        Malformation::ExtraPart => return format!("{id}|{secret}|{secret}"),
        Malformation::DropIdChar(index) => {
            id_chars.remove(usize::from(*index) % id_chars.len());
        }
        Malformation::BadIdChar(index) => {
            let index = usize::from(*index) % id_chars.len();
            id_chars[index] = 'g';
        }
        Malformation::EmptySecret => return format!("{id}|"),
    }
    let id: String = id_chars.into_iter().collect();
    let secret: String = secret_chars.into_iter().collect();
    format!("{id}|{secret}")
}

/// Checks that the layer reads the token after a `Bearer` scheme in any case and one or
/// more spaces, and ignores other schemes.
fn check_header(input: &Generated, token: &str) {
    let scheme = match input.scheme {
        Scheme::Bearer(case_bits) => "bearer"
            .chars()
            .enumerate()
            .map(|(index, c)| {
                if case_bits >> index & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
        Scheme::Other(choice) => {
            let others = ["Basic", "Bearerx", "Bear", "Digest", "Token", "bearer:"];
            others[usize::from(choice) % others.len()].to_owned()
        }
    };
    let spaces = " ".repeat(usize::from(input.spaces % 3) + 1);
    let trailing = " ".repeat(usize::from(input.trailing_spaces % 3));
    let Ok(value) = HeaderValue::from_str(&format!("{scheme}{spaces}{token}{trailing}")) else {
        // A malformed token with a non-ASCII char is no header value.
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);

    // A header value with bytes beyond visible ASCII has no text, so it is ignored.
    let read = __fuzz::bearer_token(&headers);
    match input.scheme {
        Scheme::Bearer(_) if token.is_ascii() => {
            assert_eq!(read, Some(token.trim()), "scheme {scheme:?}");
        }
        _ => assert_eq!(read, None, "scheme {scheme:?}, token {token:?}"),
    }
    if input.malformation.is_none() {
        let (id, secret) = __fuzz::parse_token(read.unwrap_or(token)).unwrap();
        assert_eq!(id.to_string(), token.split_once('|').unwrap().0);
        assert_eq!(secret, URL_SAFE_NO_PAD.encode(input.secret));
    }
}
