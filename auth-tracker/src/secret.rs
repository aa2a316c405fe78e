//! Bearer secrets: API tokens and remember-me tokens, generated, hashed and checked.
//!
//! Only SHA-256 hashes of secrets reach the database. The secrets carry 256 random bits
//! from the operating system's CSPRNG (through `rand`'s thread generator), so a fast
//! unsalted hash is enough: there is nothing to brute-force.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::LoginId;

/// Random bytes in a token secret or remember verifier: 256 bits.
const SECRET_BYTES: usize = 32;
/// Random bytes in a remember selector: 128 bits, unique enough to be a lookup key.
#[cfg(feature = "axum")]
const SELECTOR_BYTES: usize = 16;

/// Returns `bytes` random bytes as unpadded URL-safe base64.
fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// Returns the lower-case hex SHA-256 of `secret`, as stored in the database.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub(crate) fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    let presented = hash_secret(secret);
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Checks that `text` is unpadded URL-safe base64 of exactly `bytes` bytes, so malformed
/// input is rejected before any database lookup.
fn is_encoded_len(text: &str, bytes: usize) -> bool {
    text.len() == base64::encoded_len(bytes, false).unwrap_or(0)
        && URL_SAFE_NO_PAD
            .decode(text)
            .is_ok_and(|decoded| decoded.len() == bytes)
}

/// A personal API token in clear, `<login id>|<secret>`. Shown to its owner once.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    pub(crate) fn generate(id: LoginId) -> (Self, String) {
        let secret = random_text(SECRET_BYTES);
        let hash = hash_secret(&secret);
        (Self(format!("{id}|{secret}")), hash)
    }

    /// Returns the token text to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken([redacted])")
    }
}

/// Splits a presented API token into its login id and secret, or `None` when it is
/// malformed.
pub(crate) fn parse_token(token: &str) -> Option<(LoginId, &str)> {
    let (id, secret) = token.split_once('|')?;
    let id = id.parse().ok()?;
    is_encoded_len(secret, SECRET_BYTES).then_some((id, secret))
}

/// A remember-me token, `selector:verifier`, as sent in the remember cookie.
#[cfg(feature = "axum")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RememberToken {
    pub(crate) selector: String,
    verifier: String,
}

#[cfg(feature = "axum")]
impl RememberToken {
    /// Generates a token and the hash of its verifier.
    pub(crate) fn generate() -> (Self, String) {
        let token = Self {
            selector: random_text(SELECTOR_BYTES),
            verifier: random_text(SECRET_BYTES),
        };
        let hash = hash_secret(&token.verifier);
        (token, hash)
    }

    /// Parses a cookie value, or returns `None` when it is malformed.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (selector, verifier) = value.split_once(':')?;
        let well_formed =
            is_encoded_len(selector, SELECTOR_BYTES) && is_encoded_len(verifier, SECRET_BYTES);
        well_formed.then(|| Self {
            selector: selector.to_owned(),
            verifier: verifier.to_owned(),
        })
    }

    pub(crate) fn verify(&self, stored_hash: &str) -> bool {
        verify_secret(&self.verifier, stored_hash)
    }

    /// Returns the cookie value. It contains the verifier, so it goes only into the
    /// `Set-Cookie` header.
    pub(crate) fn cookie_value(&self) -> String {
        format!("{}:{}", self.selector, self.verifier)
    }
}

#[cfg(feature = "axum")]
impl fmt::Debug for RememberToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RememberToken")
            .field("selector", &self.selector)
            .field("verifier", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn token_round_trips_and_verifies() {
        let id = LoginId::new();
        let (token, hash) = PlainToken::generate(id);
        let (parsed_id, secret) = parse_token(token.expose()).unwrap();
        assert_eq!(parsed_id, id);
        assert!(verify_secret(secret, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(
            !token.expose().contains(&hash),
            "the hash is not the secret"
        );
        assert_eq!(format!("{token:?}"), "PlainToken([redacted])");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let id = LoginId::new();
        let secret = random_text(SECRET_BYTES);
        for token in [
            String::new(),
            "no-separator".to_owned(),
            format!("not-a-uuid|{secret}"),
            format!("{id}|short"),
            format!("{id}|{secret}x"),
            format!("{id}|{}", "!".repeat(43)),
            format!("{id}|{secret}|extra"),
        ] {
            assert!(
                parse_token(&token).is_none(),
                "{token:?} should be rejected"
            );
        }
    }

    #[cfg(feature = "axum")]
    #[test]
    fn remember_token_round_trips() {
        let (token, hash) = RememberToken::generate();
        let parsed = RememberToken::parse(&token.cookie_value()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.verify(&hash));
        assert!(!format!("{token:?}").contains(&token.verifier));
        for value in [
            "",
            ":",
            "abc:def",
            &format!("{}:", token.selector),
            &format!("{}:{}", token.selector, token.selector),
        ] {
            assert!(
                RememberToken::parse(value).is_none(),
                "{value:?} should be rejected"
            );
        }
    }

    #[test]
    fn secrets_are_unique_and_long() {
        let secrets: HashSet<String> = (0..10_000).map(|_| random_text(SECRET_BYTES)).collect();
        assert_eq!(secrets.len(), 10_000);
        for secret in secrets.iter().take(10) {
            assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        }
    }
}
