//! The User-Agent path of a login: the header read by the axum layer, the stored length
//! cap, the built-in parsers, device classification and Client Hints.

#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use auth_tracker::__fuzz;
use auth_tracker::agent::ua_parser::UapRustParser;
use auth_tracker::agent::uaparser::UaParser;
use auth_tracker::agent::{
    CachedParser, ClientHints, DeviceEvidence, MAX_USER_AGENT_LEN, NoParser, ParsedUserAgent,
    UserAgentParser, classify_device, truncate_user_agent,
};
use auth_tracker::client_ip::ClientIpConfig;
use auth_tracker::{DeviceType, TrackerConfig};
use axum::body::Body;
use axum::extract::Request;
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

/// Built-in parser that a user model selects.
#[derive(Arbitrary, Debug)]
enum Backend {
    /// `parser = uaparser`: the process-wide cached parser.
    UaparserShared,
    /// `parser = ua_parser`: the process-wide cached parser.
    UaParserShared,
    /// The uncached parsers, which parse every input again.
    UaparserUncached,
    UaParserUncached,
}

/// Path of the `User-Agent` into the tracker.
#[derive(Arbitrary, Debug)]
enum Source {
    /// As raw header bytes, read by the axum layer (visible ASCII only).
    Header,
    /// As any text, through `RequestContext::new`.
    Text,
}

#[derive(Arbitrary, Debug)]
struct Input {
    parser: Backend,
    source: Source,
    /// `TrackerConfig::max_user_agent_bytes`, or the default when `None`.
    stored_cap: Option<u16>,
    mobile: Option<Vec<u8>>,
    platform: Option<Vec<u8>>,
    model: Option<Vec<u8>>,
    platform_version: Option<Vec<u8>>,
    /// Families a third-party parser could report, for `classify_device`.
    evidence: [Option<String>; 5],
    user_agent: Vec<Piece>,
}

/// Part of a generated `User-Agent`: a token that real User-Agents and the classifier's
/// rules contain, or raw bytes.
#[derive(Arbitrary, Debug)]
enum Piece {
    Token(u8),
    Raw(Vec<u8>),
}

/// Tokens of real User-Agents, so that generated ones reach the parsers' and the
/// classifier's rules sooner than random bytes would.
const TOKENS: &[&str] = &[
    "Mozilla/5.0 ",
    "Opera/9.80 ",
    "(Windows NT 10.0; Win64; x64) ",
    "(Macintosh; Intel Mac OS X 10_15_7) ",
    "(X11; Linux x86_64) ",
    "(X11; CrOS x86_64 14541.0.0) ",
    "(Linux; Android 13; ",
    "(Linux; Android 3.2; ",
    "(Linux; 13; ",
    "(iPhone; CPU iPhone OS 17_1 like Mac OS X) ",
    "(iPad; CPU OS 16_6 like Mac OS X) ",
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "AppleWebKit/537.36 (KHTML, like Gecko) ",
    "Chrome/120.0.0.0 ",
    "HeadlessChrome/120.0.0.0 ",
    "Safari/537.36",
    "Mobile Safari/537.36",
    "Version/17.1 Mobile/15E148 Safari/604.1",
    "Firefox/121.0",
    "Gecko/20100101 ",
    "Edg/120.0.0.0",
    "OPR/105.0.0.0",
    "SamsungBrowser/23.0 ",
    "Silk/112.4.1 ",
    "CriOS/120.0.6099.119 ",
    "Mobile",
    "Tablet",
    "K) ",
    "SM-G991B) ",
    "SM-T510) ",
    "SM-X200) ",
    "SM-R800) ",
    "Pixel 7) ",
    "Pixel Tablet) ",
    "BTV-W09) ",
    "JDN2-W09HN) ",
    "23073RPBFG) ",
    "OPD2101) ",
    "TB-X606F) ",
    "; TB310FU) ",
    "KFTRWI) ",
    "Nexus 7) ",
    "MID) ",
    "OW19W1) ",
    "SHIELD Android TV) ",
    "AFTMM) ",
    "BRAVIA 4K GB) ",
    "SMART-TV; Tizen 6.5) ",
    "Web0S; Linux/SmartTV) ",
    "CrKey/1.56.500000 ",
    "Roku/DVP-12.5 ",
    "PlayStation 5 ",
    "Xbox; Xbox One) ",
    "Nintendo Switch; WifiWebKit/606.4 ",
    "Watch OS 10.0 ",
    "Wear OS ",
    "OculusBrowser/31.0 ",
    "Tesla/2023.44 ",
    "HomePod ",
    "Kindle/3.0 ",
    "Windows Phone 10.0; ",
    "BlackBerry 9900 ",
    "Opera Mini/8.0 ",
    "KAIOS/2.5 ",
    "LG-U900 ",
    "LGE-VM510 ",
    "Cubot Note 7 ",
    "openSUSE 13.1 (Bottle) ",
    "bingbot/2.0",
    "AdsBot-Google",
    "crawler@example.com ",
    "ar-SA@calendar=gregorian",
    "android@69.0 ",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "reqwest/0.12",
    "PostmanRuntime/7.36.0",
    "Dalvik/2.1.0 ",
    "Amiga-AWeb/3.5 ",
    "Haiku ",
    "FreeBSD amd64 ",
    "Tablet PC 2.0; ",
    "\u{e9}",
    "\u{1f600}",
    " ",
    "; ",
    ") ",
    "/",
];

fuzz_target!(|input: Input| {
    let Some((user_agent, hints)) = read_request(&input) else {
        return;
    };

    check_truncation(&user_agent);
    let cap = input.stored_cap.map_or_else(
        || TrackerConfig::default().max_user_agent_bytes,
        usize::from,
    );
    let stored = __fuzz::truncate_on_char_boundary(&user_agent, cap);
    check_cut(&user_agent, stored, cap);

    let parser: &dyn UserAgentParser = match input.parser {
        Backend::UaparserShared => auth_tracker::agent::uaparser::shared(),
        Backend::UaParserShared => auth_tracker::agent::ua_parser::shared(),
        Backend::UaparserUncached => &UaParser,
        Backend::UaParserUncached => &UapRustParser,
    };
    let parsed = parser.parse(stored);
    check_parsed(&parsed);
    check_hints(&hints, &parsed);
    check_cached_no_parser(stored);
    check_classification(stored, &input.evidence);
});

/// Builds the request context as the axum layer or an application does, and returns its
/// `User-Agent` and Client Hints. Returns `None` when the request has no `User-Agent`.
fn read_request(input: &Input) -> Option<(String, ClientHints)> {
    let mut user_agent_bytes = Vec::new();
    for piece in &input.user_agent {
        match piece {
            Piece::Token(index) => {
                let token = TOKENS[usize::from(*index) % TOKENS.len()];
                user_agent_bytes.extend_from_slice(token.as_bytes());
            }
            Piece::Raw(bytes) => user_agent_bytes.extend_from_slice(bytes),
        }
    }

    match input.source {
        Source::Text => {
            let user_agent = String::from_utf8_lossy(&user_agent_bytes).into_owned();
            let hints = ClientHints::from_headers(
                lossy(&input.mobile).as_deref(),
                lossy(&input.platform).as_deref(),
                lossy(&input.model).as_deref(),
            )
            .with_platform_version(lossy(&input.platform_version).as_deref());
            Some((user_agent, hints))
        }
        Source::Header => {
            let mut request = Request::new(Body::empty());
            let headers = [
                ("user-agent", Some(&user_agent_bytes)),
                ("sec-ch-ua-mobile", input.mobile.as_ref()),
                ("sec-ch-ua-platform", input.platform.as_ref()),
                ("sec-ch-ua-model", input.model.as_ref()),
                (
                    "sec-ch-ua-platform-version",
                    input.platform_version.as_ref(),
                ),
            ];
            for (name, value) in headers {
                if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
                    request.headers_mut().insert(name, value);
                }
            }
            let context = __fuzz::request_context(&request, &ClientIpConfig::default());
            assert_eq!(context.ip, None, "no peer and no header, so no address");

            // The layer passes on the text of each header that is visible ASCII.
            let text = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
            };
            assert_eq!(context.user_agent.as_deref(), text("user-agent"));
            let expected_hints = ClientHints::from_headers(
                text("sec-ch-ua-mobile"),
                text("sec-ch-ua-platform"),
                text("sec-ch-ua-model"),
            )
            .with_platform_version(text("sec-ch-ua-platform-version"));
            assert_eq!(context.client_hints, expected_hints);

            Some((context.user_agent?, context.client_hints))
        }
    }
}

fn lossy(bytes: &Option<Vec<u8>>) -> Option<String> {
    bytes
        .as_ref()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

/// Checks the parsers' own cap: at most `MAX_USER_AGENT_LEN` bytes, cut on a char boundary.
fn check_truncation(user_agent: &str) {
    let cut = truncate_user_agent(user_agent);
    check_cut(user_agent, cut, MAX_USER_AGENT_LEN);
}

/// Checks that `cut` is the longest prefix of `text` of at most `cap` bytes that ends on a
/// char boundary.
fn check_cut(text: &str, cut: &str, cap: usize) {
    assert!(
        cut.len() <= cap,
        "{} bytes kept of a {cap}-byte cap",
        cut.len()
    );
    assert!(text.starts_with(cut), "the cut is not a prefix");
    if text.len() <= cap {
        assert_eq!(cut.len(), text.len(), "text within the cap was cut");
    } else {
        // The next char would cross the cap, so at most 3 bytes of a 4-byte char are lost.
        let next = text[cut.len()..].chars().next().unwrap();
        assert!(
            cut.len() + next.len_utf8() > cap,
            "the cut stopped early, at {} of {cap} bytes",
            cut.len()
        );
    }
}

/// Checks that parsed fields are trimmed, non-empty names, never uap's `Other`, and that a
/// version comes with its family.
fn check_parsed(parsed: &ParsedUserAgent) {
    let fields = [
        ("device", &parsed.device),
        ("platform", &parsed.platform),
        ("platform_version", &parsed.platform_version),
        ("browser", &parsed.browser),
        ("browser_version", &parsed.browser_version),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            assert!(!value.is_empty(), "{name} is empty");
            assert_eq!(value.trim(), value, "{name} is not trimmed");
        }
    }
    for (name, value) in [
        ("device", &parsed.device),
        ("platform", &parsed.platform),
        ("browser", &parsed.browser),
    ] {
        assert_ne!(value.as_deref(), Some("Other"), "{name} is uap's Other");
    }
    if parsed.platform_version.is_some() {
        assert!(
            parsed.platform.is_some(),
            "platform version without platform"
        );
    }
    if parsed.browser_version.is_some() {
        assert!(parsed.browser.is_some(), "browser version without browser");
    }
}

/// Checks that Client Hints parse to trimmed printable ASCII, and that refining follows the
/// documented rules and is idempotent.
fn check_hints(hints: &ClientHints, parsed: &Arc<ParsedUserAgent>) {
    for (name, value) in [
        ("platform", &hints.platform),
        ("model", &hints.model),
        ("platform_version", &hints.platform_version),
    ] {
        if let Some(value) = value {
            assert!(!value.is_empty(), "hint {name} is empty");
            assert_eq!(value.trim(), value, "hint {name} is not trimmed");
            assert!(
                value.bytes().all(|byte| (b' '..=b'~').contains(&byte)),
                "hint {name} {value:?} is not printable ASCII"
            );
        }
    }

    let refined = hints.refine(Arc::clone(parsed));
    if hints.is_empty() {
        assert!(Arc::ptr_eq(&refined, parsed), "empty hints made a copy");
    }
    if *refined == **parsed {
        assert!(Arc::ptr_eq(&refined, parsed), "unchanged result was copied");
    }
    check_parsed(&refined);

    let twice = hints.refine(Arc::clone(&refined));
    assert_eq!(*twice, *refined, "refining twice changed the result");

    if hints.mobile == Some(true) {
        assert!(
            !matches!(
                refined.device_type,
                None | Some(DeviceType::Desktop | DeviceType::Other)
            ),
            "Sec-CH-UA-Mobile ?1 left device type {:?}",
            refined.device_type
        );
    }
    if hints.mobile == Some(false) && parsed.device_type.is_none() {
        assert!(
            refined.device_type.is_some(),
            "Sec-CH-UA-Mobile ?0 left no type"
        );
    }
    if let Some(model) = &hints.model
        && parsed.device.is_none()
    {
        assert_eq!(refined.device.as_ref(), Some(model), "model hint not used");
    }
    let platform_hint = hints.platform.as_deref().filter(|p| *p != "Unknown");
    if let Some(platform) = platform_hint {
        let expected = match platform {
            "macOS" => "Mac OS X",
            "Chromium OS" => "Chrome OS",
            other => other,
        };
        assert_eq!(refined.platform.as_deref(), Some(expected));
    } else {
        assert_eq!(
            refined.platform, parsed.platform,
            "platform changed without hint"
        );
    }
}

/// Checks that a cache hit returns what the inner parser returned, keyed by the capped
/// input.
fn check_cached_no_parser(user_agent: &str) {
    let cache = CachedParser::with_capacity(NoParser, 4);
    let first = cache.parse(user_agent);
    assert_eq!(*first, ParsedUserAgent::default());
    let capped = cache.parse(truncate_user_agent(user_agent));
    assert!(
        Arc::ptr_eq(&first, &capped),
        "the capped input missed the cache"
    );
    assert_eq!(cache.len(), 1);
}

/// Checks that classification ignores the ASCII case of the User-Agent and needs some text.
fn check_classification(user_agent: &str, families: &[Option<String>; 5]) {
    let [browser, platform, device, brand, model] = families.each_ref().map(Option::as_deref);
    let evidence = DeviceEvidence {
        user_agent,
        browser,
        platform,
        device,
        brand,
        model,
    };
    let device_type = classify_device(&evidence);
    if user_agent.trim().is_empty() {
        assert_eq!(device_type, None, "a blank User-Agent was classified");
    }

    let upper = user_agent.to_ascii_uppercase();
    let shouted = DeviceEvidence {
        user_agent: &upper,
        ..evidence
    };
    assert_eq!(
        classify_device(&shouted),
        device_type,
        "classification depends on the User-Agent's case"
    );
}
