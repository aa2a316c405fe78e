//! Client IP resolution behind trusted proxies.

use std::net::IpAddr;

use auth_tracker::client_ip::{
    ClientIp, ClientIpConfig, ClientIpConfigError, ForwardedSource, MAX_FORWARDED_ENTRIES,
    parse_trusted_proxies, resolve,
};
use ipnet::IpNet;

/// One request: its socket peer, the values of the configured header in order, and the
/// client address the resolver must return.
struct Case {
    name: &'static str,
    peer: &'static str,
    header_values: &'static [&'static str],
    expected: &'static str,
}

fn ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|error| panic!("test address {text:?} is invalid: {error}"))
}

fn build_config(trusted_proxies: &str, source: ForwardedSource) -> ClientIpConfig {
    ClientIpConfig::new(parse_trusted_proxies(trusted_proxies).unwrap(), source)
}

fn check_cases(config: &ClientIpConfig, cases: &[Case]) {
    for case in cases {
        let resolved = resolve(ip(case.peer), case.header_values, config);
        assert_eq!(resolved, ip(case.expected), "case: {}", case.name);
    }
}

#[test]
fn x_forwarded_for_cases() {
    let config = build_config(
        "127.0.0.1/32, 10.0.0.0/8, ::1/128",
        ForwardedSource::XForwardedFor,
    );
    let cases = [
        Case {
            name: "untrusted peer with spoofed header",
            peer: "203.0.113.50",
            header_values: &["198.51.100.7"],
            expected: "203.0.113.50",
        },
        Case {
            name: "untrusted peer with trusted-looking header",
            peer: "203.0.113.50",
            header_values: &["10.0.0.1"],
            expected: "203.0.113.50",
        },
        Case {
            name: "one trusted proxy",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "two proxies, client then trusted proxy1",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9, 10.0.0.6"],
            expected: "203.0.113.9",
        },
        Case {
            name: "forged leftmost entry is not read",
            peer: "10.0.0.5",
            header_values: &["198.51.100.7, 203.0.113.9, 10.0.0.6"],
            expected: "203.0.113.9",
        },
        Case {
            name: "untrusted hop in the middle returns the rightmost untrusted",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9, 198.51.100.20, 10.0.0.6"],
            expected: "198.51.100.20",
        },
        Case {
            name: "all entries trusted returns the leftmost",
            peer: "10.0.0.5",
            header_values: &["10.1.1.1, 127.0.0.1, 10.0.0.6"],
            expected: "10.1.1.1",
        },
        Case {
            name: "missing header",
            peer: "10.0.0.5",
            header_values: &[],
            expected: "10.0.0.5",
        },
        Case {
            name: "repeated headers are concatenated in order",
            peer: "10.0.0.5",
            header_values: &["198.51.100.7", "203.0.113.9", "10.0.0.6"],
            expected: "203.0.113.9",
        },
        Case {
            name: "repeated headers, all trusted, leftmost is in the first header",
            peer: "10.0.0.5",
            header_values: &["10.9.9.9, 10.0.0.7", "10.0.0.6"],
            expected: "10.9.9.9",
        },
        Case {
            name: "IPv4 entry with port",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9:5678"],
            expected: "203.0.113.9",
        },
        Case {
            name: "bracketed IPv6 entry with port",
            peer: "10.0.0.5",
            header_values: &["[2001:db8::1]:443"],
            expected: "2001:db8::1",
        },
        Case {
            name: "bracketed IPv6 entry without port",
            peer: "10.0.0.5",
            header_values: &["[2001:db8::1]"],
            expected: "2001:db8::1",
        },
        Case {
            name: "bare IPv6 entry",
            peer: "10.0.0.5",
            header_values: &["2001:db8::1"],
            expected: "2001:db8::1",
        },
        Case {
            name: "whitespace and tabs around entries",
            peer: "10.0.0.5",
            header_values: &["  203.0.113.9\t,\t10.0.0.6  "],
            expected: "203.0.113.9",
        },
        Case {
            name: "IPv4-mapped entry is returned as IPv4",
            peer: "10.0.0.5",
            header_values: &["::ffff:203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "IPv4-mapped entry of a trusted proxy is skipped",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9, ::ffff:10.0.0.6"],
            expected: "203.0.113.9",
        },
        Case {
            name: "malformed entry left of the client is not read",
            peer: "10.0.0.5",
            header_values: &["not-an-ip, 203.0.113.9"],
            expected: "203.0.113.9",
        },
    ];
    check_cases(&config, &cases);
}

#[test]
fn x_forwarded_for_garbage_returns_peer() {
    let config = build_config("10.0.0.0/8", ForwardedSource::XForwardedFor);
    let overlong = "9".repeat(5_000);
    let garbage = [
        ("unknown", "unknown"),
        ("word", "not-an-ip"),
        ("empty value", ""),
        ("whitespace only", "   "),
        ("three-part IPv4", "1.2.3"),
        ("octet over 255", "203.0.113.256"),
        ("leading zeros", "203.0.113.09"),
        ("overlong entry", overlong.as_str()),
        ("hidden identifier", "_hidden"),
        ("trailing comma", "203.0.113.9,"),
        ("empty entry between commas", "203.0.113.9,,10.0.0.6"),
        ("empty port", "203.0.113.9:"),
        ("port too large", "203.0.113.9:65536"),
        ("bracketed IPv6 with port but no colon", "[2001:db8::1]443"),
        ("bracketed IPv4", "[203.0.113.9]"),
        ("IPv6 zone index", "fe80::1%eth0"),
        ("host name", "client.example.com"),
        ("garbage right of a valid client", "203.0.113.9, garbage"),
    ];
    for (name, value) in garbage {
        let resolved = resolve(ip("10.0.0.5"), [value], &config);
        assert_eq!(resolved, ip("10.0.0.5"), "garbage case: {name}");
    }

    let invalid_utf8: &[u8] = b"203.0.113.9, 10.0.0.\xff";
    assert_eq!(
        resolve(ip("10.0.0.5"), [invalid_utf8], &config),
        ip("10.0.0.5"),
        "entry that is not valid UTF-8"
    );
}

#[test]
fn forwarded_cases() {
    let config = build_config("10.0.0.0/8, 2001:db8:ffff::/48", ForwardedSource::Forwarded);
    let cases = [
        Case {
            name: "untrusted peer with spoofed header",
            peer: "203.0.113.50",
            header_values: &["for=198.51.100.7"],
            expected: "203.0.113.50",
        },
        Case {
            name: "plain IPv4 for",
            peer: "10.0.0.5",
            header_values: &["for=203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "quoted IPv6 with port",
            peer: "10.0.0.5",
            header_values: &[r#"for="[2001:db8:cafe::17]:4711""#],
            expected: "2001:db8:cafe::17",
        },
        Case {
            name: "quoted IPv4 with port",
            peer: "10.0.0.5",
            header_values: &[r#"for="203.0.113.9:8080""#],
            expected: "203.0.113.9",
        },
        Case {
            name: "quoted IPv6 with obfuscated port",
            peer: "10.0.0.5",
            header_values: &[r#"for="[2001:db8:cafe::17]:_port1""#],
            expected: "2001:db8:cafe::17",
        },
        Case {
            name: "quoted value with an escaped character",
            peer: "10.0.0.5",
            header_values: &[r#"for="203.0.113.\9""#],
            expected: "203.0.113.9",
        },
        Case {
            name: "other parameters and case-insensitive name",
            peer: "10.0.0.5",
            header_values: &["proto=https;For=203.0.113.9;by=10.0.0.5;host=example.com"],
            expected: "203.0.113.9",
        },
        Case {
            name: "whitespace around delimiters",
            peer: "10.0.0.5",
            header_values: &["for = 198.51.100.7 ; proto=http , for=203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "multiple for in one header",
            peer: "10.0.0.5",
            header_values: &["for=198.51.100.7, for=203.0.113.9, for=10.0.0.6"],
            expected: "203.0.113.9",
        },
        Case {
            name: "multiple for across headers",
            peer: "10.0.0.5",
            header_values: &["for=198.51.100.7", r#"for="[2001:db8::9]""#, "for=10.0.0.6"],
            expected: "2001:db8::9",
        },
        Case {
            name: "trusted IPv6 proxy is skipped",
            peer: "10.0.0.5",
            header_values: &[r#"for=203.0.113.9, for="[2001:db8:ffff::1]:443""#],
            expected: "203.0.113.9",
        },
        Case {
            name: "all entries trusted returns the leftmost",
            peer: "10.0.0.5",
            header_values: &["for=10.1.1.1, for=10.0.0.6"],
            expected: "10.1.1.1",
        },
        Case {
            name: "missing header",
            peer: "10.0.0.5",
            header_values: &[],
            expected: "10.0.0.5",
        },
        Case {
            name: "obfuscated entry left of the client is not read",
            peer: "10.0.0.5",
            header_values: &["for=_hidden, for=203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "broken earlier header instance is not read",
            peer: "10.0.0.5",
            header_values: &[r#"for="198.51.100.7"#, "for=203.0.113.9"],
            expected: "203.0.113.9",
        },
    ];
    check_cases(&config, &cases);
}

#[test]
fn forwarded_garbage_returns_peer() {
    let config = build_config("10.0.0.0/8", ForwardedSource::Forwarded);
    let garbage = [
        ("hidden identifier", "for=_hidden"),
        ("quoted hidden identifier", r#"for="_hidden""#),
        ("unknown identifier", "for=unknown"),
        (
            "hidden hop right of the client",
            "for=203.0.113.9, for=_hidden",
        ),
        ("element without for", "for=203.0.113.9, proto=https"),
        (
            "duplicate for in one element",
            "for=203.0.113.9;for=198.51.100.7",
        ),
        (
            "unterminated quoted string",
            r#"for=203.0.113.9, for="10.0.0.6"#,
        ),
        ("missing equals sign", "for"),
        ("empty value", "for="),
        ("empty header", ""),
        ("trailing comma", "for=203.0.113.9,"),
        ("text after quoted value", r#"for="203.0.113.9"x"#),
        ("invalid address", "for=1.2.3"),
        ("unquoted value with a quote inside", "for=203.0\"113.9"),
        ("X-Forwarded-For syntax", "203.0.113.9"),
    ];
    for (name, value) in garbage {
        let resolved = resolve(ip("10.0.0.5"), [value], &config);
        assert_eq!(resolved, ip("10.0.0.5"), "garbage case: {name}");
    }
}

#[test]
fn single_value_header_cases() {
    let source = ForwardedSource::single_value_header("X-Real-IP").unwrap();
    let config = build_config("10.0.0.0/8", source);
    let cases = [
        Case {
            name: "trusted peer",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "untrusted peer",
            peer: "203.0.113.50",
            header_values: &["198.51.100.7"],
            expected: "203.0.113.50",
        },
        Case {
            name: "duplicated header",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9", "198.51.100.7"],
            expected: "10.0.0.5",
        },
        Case {
            name: "missing header",
            peer: "10.0.0.5",
            header_values: &[],
            expected: "10.0.0.5",
        },
        Case {
            name: "list in a single-value header",
            peer: "10.0.0.5",
            header_values: &["203.0.113.9, 198.51.100.7"],
            expected: "10.0.0.5",
        },
        Case {
            name: "IPv6 value with port",
            peer: "10.0.0.5",
            header_values: &["[2001:db8::1]:443"],
            expected: "2001:db8::1",
        },
        Case {
            name: "value inside a trusted block",
            peer: "10.0.0.5",
            header_values: &["10.0.0.6"],
            expected: "10.0.0.6",
        },
        Case {
            name: "malformed value",
            peer: "10.0.0.5",
            header_values: &["unknown"],
            expected: "10.0.0.5",
        },
    ];
    check_cases(&config, &cases);
}

#[test]
fn source_none_ignores_headers() {
    let config = build_config("10.0.0.0/8", ForwardedSource::None);
    let resolved = resolve(ip("10.0.0.5"), ["203.0.113.9"], &config);
    assert_eq!(
        resolved,
        ip("10.0.0.5"),
        "trusted peer with no header source"
    );

    let default = ClientIpConfig::default();
    let resolved = resolve(ip("203.0.113.50"), ["198.51.100.7"], &default);
    assert_eq!(resolved, ip("203.0.113.50"), "default configuration");
}

#[test]
fn ipv6_peers_and_blocks() {
    let config = build_config("2001:db8:ffff::/48, ::1", ForwardedSource::XForwardedFor);
    let cases = [
        Case {
            name: "trusted IPv6 peer",
            peer: "2001:db8:ffff::10",
            header_values: &["2001:db8:1::5"],
            expected: "2001:db8:1::5",
        },
        Case {
            name: "untrusted IPv6 peer",
            peer: "2001:db8:1::5",
            header_values: &["2001:db8:2::5"],
            expected: "2001:db8:1::5",
        },
        Case {
            name: "IPv6 loopback peer with IPv4 client",
            peer: "::1",
            header_values: &["203.0.113.9"],
            expected: "203.0.113.9",
        },
        Case {
            name: "trusted IPv6 hop skipped",
            peer: "::1",
            header_values: &["2001:db8:1::5, 2001:db8:ffff::20"],
            expected: "2001:db8:1::5",
        },
    ];
    check_cases(&config, &cases);
}

#[test]
fn ipv4_mapped_addresses_match_ipv4_blocks() {
    let config = build_config("10.0.0.0/8", ForwardedSource::XForwardedFor);
    let resolved = resolve(ip("::ffff:10.0.0.5"), ["203.0.113.9"], &config);
    assert_eq!(
        resolved,
        ip("203.0.113.9"),
        "mapped peer inside an IPv4 block is trusted"
    );

    let resolved = resolve(ip("::ffff:203.0.113.50"), ["198.51.100.7"], &config);
    assert_eq!(
        resolved,
        ip("203.0.113.50"),
        "mapped untrusted peer is returned as IPv4"
    );

    let mapped_block = ClientIpConfig::new(
        vec!["::ffff:10.0.0.0/104".parse::<IpNet>().unwrap()],
        ForwardedSource::XForwardedFor,
    );
    let resolved = resolve(ip("10.0.0.5"), ["203.0.113.9"], &mapped_block);
    assert_eq!(
        resolved,
        ip("203.0.113.9"),
        "IPv4 peer inside a hand-built mapped block is trusted"
    );
    assert!(
        !mapped_block.is_trusted(ip("11.0.0.1")),
        "IPv4 address outside the mapped block is not trusted"
    );

    let everything_v6 = ClientIpConfig::new(
        vec!["::/0".parse::<IpNet>().unwrap()],
        ForwardedSource::XForwardedFor,
    );
    assert!(
        !everything_v6.is_trusted(ip("10.0.0.5")),
        "an IPv6 block wider than the mapped range does not trust IPv4"
    );
}

#[test]
fn oversized_headers_return_peer() {
    let config = build_config("10.0.0.0/8", ForwardedSource::XForwardedFor);
    let peer = ip("10.0.0.5");

    let ten_thousand: Vec<String> = (0..10_000)
        .map(|index| format!("198.51.{}.{}", index / 256 % 256, index % 256))
        .collect();
    let one_header = ten_thousand.join(", ");
    assert_eq!(
        resolve(peer, [one_header.as_str()], &config),
        peer,
        "one header with 10,000 entries"
    );
    assert_eq!(
        resolve(peer, &ten_thousand, &config),
        peer,
        "10,000 header instances"
    );

    let forwarded = ten_thousand
        .iter()
        .map(|address| format!("for={address}"))
        .collect::<Vec<_>>()
        .join(", ");
    let forwarded_config = build_config("10.0.0.0/8", ForwardedSource::Forwarded);
    assert_eq!(
        resolve(peer, [forwarded.as_str()], &forwarded_config),
        peer,
        "Forwarded header with 10,000 elements"
    );

    let at_limit = ten_thousand[..MAX_FORWARDED_ENTRIES].join(", ");
    assert_eq!(
        resolve(peer, [at_limit.as_str()], &config),
        ip(&ten_thousand[MAX_FORWARDED_ENTRIES - 1]),
        "header with exactly the maximum number of entries"
    );

    let over_limit = ten_thousand[..=MAX_FORWARDED_ENTRIES].join(", ");
    assert_eq!(
        resolve(peer, [over_limit.as_str()], &config),
        peer,
        "header with one entry over the maximum"
    );
}

#[test]
fn trusted_proxy_list_parses() {
    let blocks = parse_trusted_proxies("127.0.0.1/32, 10.0.0.0/8, ::1/128").unwrap();
    let expected: Vec<IpNet> = vec![
        "127.0.0.1/32".parse().unwrap(),
        "10.0.0.0/8".parse().unwrap(),
        "::1/128".parse().unwrap(),
    ];
    assert_eq!(blocks, expected, "list from the documentation");

    let blocks = parse_trusted_proxies("192.0.2.7,2001:db8::7").unwrap();
    let expected: Vec<IpNet> = vec![
        "192.0.2.7/32".parse().unwrap(),
        "2001:db8::7/128".parse().unwrap(),
    ];
    assert_eq!(
        blocks, expected,
        "bare addresses become single-address blocks"
    );

    let blocks = parse_trusted_proxies(" 10.1.2.3/8 ").unwrap();
    let expected: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    assert_eq!(blocks, expected, "host bits are cleared");

    let blocks = parse_trusted_proxies("::ffff:10.0.0.0/104, ::ffff:192.0.2.1").unwrap();
    let expected: Vec<IpNet> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "192.0.2.1/32".parse().unwrap(),
    ];
    assert_eq!(blocks, expected, "IPv4-mapped blocks become IPv4 blocks");

    assert_eq!(
        parse_trusted_proxies("").unwrap(),
        Vec::<IpNet>::new(),
        "empty list"
    );
    assert_eq!(
        parse_trusted_proxies("  \t ").unwrap(),
        Vec::<IpNet>::new(),
        "whitespace-only list"
    );
}

#[test]
fn trusted_proxy_list_rejects_bad_entries() {
    let invalid = [
        ("10.0.0.0/8, 10.0.0.0/33", "10.0.0.0/33", 2),
        ("not-an-ip", "not-an-ip", 1),
        ("127.0.0.1, 1.2.3", "1.2.3", 2),
        ("10.0.0.0/", "10.0.0.0/", 1),
        ("::1/129", "::1/129", 1),
        ("[::1]", "[::1]", 1),
        ("10.0.0.0/8 192.168.0.0/16", "10.0.0.0/8 192.168.0.0/16", 1),
    ];
    for (list, entry, position) in invalid {
        let error = parse_trusted_proxies(list).unwrap_err();
        let expected = ClientIpConfigError::InvalidTrustedProxy {
            entry: entry.to_owned(),
            position,
        };
        assert_eq!(error, expected, "invalid list {list:?}");
    }

    let error = parse_trusted_proxies("10.0.0.0/8,,::1").unwrap_err();
    assert_eq!(
        error,
        ClientIpConfigError::EmptyTrustedProxy { position: 2 },
        "empty entry between commas"
    );
    let error = parse_trusted_proxies("10.0.0.0/8,").unwrap_err();
    assert_eq!(
        error,
        ClientIpConfigError::EmptyTrustedProxy { position: 2 },
        "trailing comma"
    );

    let message = parse_trusted_proxies("10.0.0.0/8, 10.0.0.0/33")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("\"10.0.0.0/33\""),
        "error message names the entry: {message}"
    );
}

#[test]
fn forwarded_source_parses_and_names_header() {
    let parsed = [
        ("", ForwardedSource::None),
        ("none", ForwardedSource::None),
        ("X-Forwarded-For", ForwardedSource::XForwardedFor),
        ("forwarded", ForwardedSource::Forwarded),
        (
            "CF-Connecting-IP",
            ForwardedSource::SingleValueHeader("cf-connecting-ip".to_owned()),
        ),
    ];
    for (text, expected) in parsed {
        let source: ForwardedSource = text.parse().unwrap();
        assert_eq!(source, expected, "parsing {text:?}");
        let round_trip: ForwardedSource = source.to_string().parse().unwrap();
        assert_eq!(round_trip, expected, "display of {text:?} parses back");
    }

    let error = "X Real IP".parse::<ForwardedSource>().unwrap_err();
    assert_eq!(
        error,
        ClientIpConfigError::InvalidHeaderName("X Real IP".to_owned()),
        "header name with spaces"
    );
    assert!(
        ForwardedSource::single_value_header("x-real-ip:").is_err(),
        "header name with a colon"
    );

    assert_eq!(
        ForwardedSource::None.header_name(),
        None,
        "no header name without a source"
    );
    assert_eq!(
        ForwardedSource::XForwardedFor.header_name(),
        Some("x-forwarded-for"),
        "X-Forwarded-For header name"
    );
    assert_eq!(
        ForwardedSource::Forwarded.header_name(),
        Some("forwarded"),
        "Forwarded header name"
    );
    assert_eq!(
        ForwardedSource::single_value_header("X-Real-IP")
            .unwrap()
            .header_name(),
        Some("x-real-ip"),
        "single-value header name is lower case"
    );
}

#[test]
fn client_ip_converts_to_address() {
    let address: IpAddr = ClientIp(ip("203.0.113.9")).into();
    assert_eq!(address, ip("203.0.113.9"), "ClientIp into IpAddr");
}
