//! Client context of a request: IP address, `User-Agent` header and Client Hints.

use std::net::IpAddr;

use crate::agent::ClientHints;

/// Client context of one request: its IP address, `User-Agent` header and Client Hints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Client IP address. IPv4-mapped IPv6 addresses are normalised to IPv4 on entry.
    pub ip: Option<IpAddr>,
    /// `User-Agent` header, if the request sent one as valid text.
    pub user_agent: Option<String>,
    /// `Sec-CH-UA-*` headers, which refine the device type and platform.
    pub client_hints: ClientHints,
}

impl RequestContext {
    /// Creates a context from an IP address and a `User-Agent` value.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<String>) -> Self {
        Self {
            ip: ip.map(normalize_ip),
            user_agent,
            client_hints: ClientHints::default(),
        }
    }

    /// Sets the Client Hints the request carried.
    pub fn with_client_hints(mut self, client_hints: ClientHints) -> Self {
        self.client_hints = client_hints;
        self
    }
}

/// Returns IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as IPv4 and other addresses unchanged.
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Cuts `text` to at most `max_bytes` bytes, on a char boundary.
pub(crate) fn truncate_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv6_becomes_ipv4() {
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(normalize_ip(mapped).to_string(), "203.0.113.9");

        let plain_v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(normalize_ip(plain_v6), plain_v6);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_on_char_boundary("abcdef", 4), "abcd");
        assert_eq!(truncate_on_char_boundary("abc", 10), "abc");
        // "é" is two bytes, so a cut inside it moves back to before it.
        assert_eq!(truncate_on_char_boundary("aéb", 2), "a");
        assert_eq!(truncate_on_char_boundary("aéb", 3), "aé");
    }
}
