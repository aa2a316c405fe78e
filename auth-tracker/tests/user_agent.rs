//! User-Agent parsing through the public API: input capping, garbage input, the cache,
//! device classification and Client Hints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_tracker::agent::{
    CachedParser, ClientHints, DeviceType, MAX_USER_AGENT_LEN, ParsedUserAgent, UserAgentParser,
    truncate_user_agent,
};

const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36";
const CHROME_ANDROID_REDUCED: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36";

/// Parser that records the inputs it receives and returns a fresh result for each.
#[derive(Debug, Default)]
struct CountingParser {
    calls: AtomicUsize,
}

impl UserAgentParser for CountingParser {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Arc::new(ParsedUserAgent {
            browser: Some(format!("{} bytes", user_agent.len())),
            ..ParsedUserAgent::default()
        })
    }
}

#[test]
fn truncate_keeps_short_input() {
    assert_eq!(truncate_user_agent(""), "");
    assert_eq!(truncate_user_agent(CHROME_WINDOWS), CHROME_WINDOWS);
    let exact = "a".repeat(MAX_USER_AGENT_LEN);
    assert_eq!(truncate_user_agent(&exact), exact);
}

#[test]
fn truncate_cuts_on_char_boundary() {
    // 511 ASCII bytes and a 2-byte "é" straddling the limit.
    let straddling = format!("{}é", "a".repeat(MAX_USER_AGENT_LEN - 1));
    assert_eq!(
        truncate_user_agent(&straddling).len(),
        MAX_USER_AGENT_LEN - 1
    );

    // 3-byte chars: 170 of them take 510 bytes, the 171st would end at 513.
    let euros = "€".repeat(300);
    let cut = truncate_user_agent(&euros);
    assert_eq!(cut.len(), 510);
    assert!(cut.chars().all(|c| c == '€'));

    // A 4-byte emoji ending exactly at the limit is kept.
    let emoji = format!("{}😀tail", "a".repeat(MAX_USER_AGENT_LEN - 4));
    assert_eq!(truncate_user_agent(&emoji).len(), MAX_USER_AGENT_LEN);
    assert!(truncate_user_agent(&emoji).ends_with('😀'));
}

#[test]
fn cache_returns_same_arc_on_hit() {
    let parser = CachedParser::new(CountingParser::default());
    let first = parser.parse(CHROME_WINDOWS);
    let second = parser.parse(CHROME_WINDOWS);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(parser.inner().calls.load(Ordering::SeqCst), 1);
    assert_eq!(parser.len(), 1);
}

#[test]
fn cache_keys_by_capped_input() {
    let parser = CachedParser::new(CountingParser::default());
    let long = format!("{CHROME_WINDOWS}{}", "x".repeat(1_000));
    let longer = format!("{long}more");
    let first = parser.parse(&long);
    let second = parser.parse(&longer);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.browser.as_deref(), Some("512 bytes"));
    assert_eq!(parser.inner().calls.load(Ordering::SeqCst), 1);
}

#[test]
fn cache_capacity_bounds_entries() {
    let parser = CachedParser::with_capacity(CountingParser::default(), 100);
    for index in 0..1_000 {
        parser.parse(&format!("agent/{index}"));
    }
    assert_eq!(parser.capacity(), 100);
    assert!(parser.len() <= 100, "cache holds {} entries", parser.len());
}

#[test]
fn hints_refine_mobile_to_phone() {
    let parsed = Arc::new(ParsedUserAgent {
        platform: Some("Linux".to_owned()),
        device_type: Some(DeviceType::Desktop),
        ..ParsedUserAgent::default()
    });
    let hints = ClientHints::from_headers(Some("?1"), Some("\"Android\""), None);
    let refined = hints.refine(parsed);
    assert_eq!(refined.device_type, Some(DeviceType::Phone));
    assert_eq!(refined.platform.as_deref(), Some("Android"));
    assert_eq!(refined.platform_version, None);
}

#[test]
fn hints_keep_tablet_when_mobile() {
    let parsed = Arc::new(ParsedUserAgent {
        device_type: Some(DeviceType::Tablet),
        ..ParsedUserAgent::default()
    });
    let hints = ClientHints::from_headers(Some("?1"), None, None);
    assert_eq!(hints.refine(parsed).device_type, Some(DeviceType::Tablet));
}

#[test]
fn hints_not_mobile_fill_unknown_type() {
    let unknown = Arc::new(ParsedUserAgent::default());
    let desktop = ClientHints::from_headers(Some("?0"), Some("\"Windows\""), None);
    assert_eq!(
        desktop.refine(Arc::clone(&unknown)).device_type,
        Some(DeviceType::Desktop)
    );
    let android = ClientHints::from_headers(Some("?0"), Some("\"Android\""), None);
    assert_eq!(
        android.refine(unknown).device_type,
        Some(DeviceType::Tablet)
    );
}

#[test]
fn hints_without_change_return_same_arc() {
    let parsed = Arc::new(ParsedUserAgent {
        platform: Some("Windows".to_owned()),
        platform_version: Some("10".to_owned()),
        device_type: Some(DeviceType::Desktop),
        ..ParsedUserAgent::default()
    });
    let same_platform = ClientHints::from_headers(Some("?0"), Some("\"Windows\""), Some("\"\""));
    assert!(Arc::ptr_eq(
        &same_platform.refine(Arc::clone(&parsed)),
        &parsed
    ));
    let empty = ClientHints::default();
    assert!(empty.is_empty());
    assert!(Arc::ptr_eq(&empty.refine(Arc::clone(&parsed)), &parsed));
}

#[test]
fn hints_malformed_headers_are_ignored() {
    let hints = ClientHints::from_headers(Some("yes"), Some("Windows"), Some("\"Pixel"));
    assert!(hints.is_empty());
}

/// The same behaviour tests for each built-in parser, in a module named after the
/// parser's module in `auth_tracker::agent`.
macro_rules! builtin_parser_tests {
    ($module:ident, $feature:literal, $parser:ident) => {
#[cfg(feature = $feature)]
mod $module {
    use super::*;
    use auth_tracker::agent::$module::{$parser, shared};

    fn parse(user_agent: &str) -> Arc<ParsedUserAgent> {
        $parser.parse(user_agent)
    }

    #[test]
    fn parse_chrome_on_windows() {
        let parsed = parse(CHROME_WINDOWS);
        assert_eq!(parsed.browser.as_deref(), Some("Chrome"));
        assert_eq!(parsed.browser_version.as_deref(), Some("121.0.0"));
        assert_eq!(parsed.platform.as_deref(), Some("Windows"));
        assert_eq!(parsed.platform_version.as_deref(), Some("10"));
        assert_eq!(parsed.device, None);
        assert_eq!(parsed.device_type, Some(DeviceType::Desktop));
    }

    #[test]
    fn parse_iphone_versions() {
        let parsed = parse(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(parsed.browser.as_deref(), Some("Mobile Safari"));
        assert_eq!(parsed.browser_version.as_deref(), Some("17.1"));
        assert_eq!(parsed.platform.as_deref(), Some("iOS"));
        assert_eq!(parsed.platform_version.as_deref(), Some("17.1.2"));
        assert_eq!(parsed.device.as_deref(), Some("iPhone"));
        assert_eq!(parsed.device_type, Some(DeviceType::Phone));
    }

    #[test]
    fn unknown_families_are_none() {
        let parsed = parse("xq7-unknown-client");
        assert_eq!(parsed.browser, None);
        assert_eq!(parsed.browser_version, None);
        assert_eq!(parsed.platform, None);
        assert_eq!(parsed.platform_version, None);
        assert_eq!(parsed.device, None);
        assert_eq!(parsed.device_type, None);
    }

    #[test]
    fn garbage_input_parses_to_nothing() {
        assert_eq!(*parse(""), ParsedUserAgent::default());
        assert_eq!(*parse("   "), ParsedUserAgent::default());

        let control: String = (0_u8..32).map(char::from).collect();
        assert_eq!(parse(&control).browser, None);

        let binary = String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x9f, 0x80, 0x41]).into_owned();
        assert_eq!(parse(&binary).browser, None);
    }

    #[test]
    fn long_input_is_capped() {
        let ten_kib = "A".repeat(10 * 1024);
        assert_eq!(*parse(&ten_kib), ParsedUserAgent::default());

        // A real User-Agent padded to 10 KiB still parses from its first 512 bytes.
        let padded = format!("{CHROME_WINDOWS} {}", "(x; ".repeat(2_600));
        let parsed = shared().parse(&padded);
        assert_eq!(parsed.browser.as_deref(), Some("Chrome"));
    }

    #[test]
    fn shared_parser_caches() {
        let first = shared().parse(CHROME_ANDROID_REDUCED);
        let second = shared().parse(CHROME_ANDROID_REDUCED);
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn hints_replace_reduced_model() {
        let hints = ClientHints::from_headers(Some("?1"), Some("\"Android\""), Some("\"Pixel 7\""))
            .with_platform_version(Some("\"14.0.0\""));
        let parsed = shared().parse_with_hints(CHROME_ANDROID_REDUCED, &hints);
        assert_eq!(parsed.device.as_deref(), Some("Pixel 7"));
        assert_eq!(parsed.platform.as_deref(), Some("Android"));
        assert_eq!(parsed.platform_version.as_deref(), Some("14"));
        assert_eq!(parsed.device_type, Some(DeviceType::Phone));
    }

    #[test]
    fn hints_name_windows_11() {
        let hints = ClientHints::from_headers(Some("?0"), Some("\"Windows\""), None)
            .with_platform_version(Some("\"15.0.0\""));
        let parsed = shared().parse_with_hints(CHROME_WINDOWS, &hints);
        assert_eq!(parsed.platform.as_deref(), Some("Windows"));
        assert_eq!(parsed.platform_version.as_deref(), Some("11"));
        assert_eq!(parsed.device_type, Some(DeviceType::Desktop));
    }

    #[test]
    fn device_types_of_representative_agents() {
        let cases = [
            (CHROME_WINDOWS, Some(DeviceType::Desktop)),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                Some(DeviceType::Desktop),
            ),
            (CHROME_ANDROID_REDUCED, Some(DeviceType::Phone)),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                Some(DeviceType::Phone),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
                Some(DeviceType::Tablet),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            (
                "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 \
                 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
                Some(DeviceType::Tv),
            ),
            ("Roku/DVP-12.0 (12.0.0.4182-88)", Some(DeviceType::Tv)),
            (
                "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
                Some(DeviceType::Console),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/44.18363.8131",
                Some(DeviceType::Console),
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-R875U) AppleWebKit/537.36 \
                 (KHTML, like Gecko) SamsungBrowser/2.2 Chrome/102.0.5005.125 Mobile Safari/537.36",
                Some(DeviceType::Wearable),
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Some(DeviceType::Bot),
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                Some(DeviceType::Bot),
            ),
            ("curl/8.5.0", Some(DeviceType::Other)),
            ("python-requests/2.31.0", Some(DeviceType::Other)),
            ("Wget/1.21.4", Some(DeviceType::Other)),
            ("", None),
        ];
        assert_device_types(&cases);
    }

    #[test]
    fn device_types_of_model_codes() {
        let cases = [
            // Huawei Wi-Fi-only model code, with the Mobile token of a phone browser.
            (
                "Mozilla/5.0 (Linux; Android 12; HUAWEI MRX-W09) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/114.0.0.0 Mobile Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            // Huawei tablet line with a cellular radio.
            (
                "Mozilla/5.0 (Linux; Android 10; CMR-AL09; wv) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            // Xiaomi Pad model number.
            (
                "Mozilla/5.0 (Linux; Android 14; 23043RP34G) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            // OnePlus and OPPO Pad model code.
            (
                "Mozilla/5.0 (Linux; Android 14; OPD2404) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            // OPPO Watch model code.
            (
                "Dalvik/2.1.0 (Linux; U; Android 8.1.0; OW19W1 Build/OPM1.171019.011)",
                Some(DeviceType::Wearable),
            ),
            // Android version right after "Linux;", without the word Android.
            (
                "Mozilla/5.0 (Linux; 13; SM-X210) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
                Some(DeviceType::Tablet),
            ),
            // Android 3 ran on tablets only.
            (
                "Mozilla/5.0 (Linux; U; Android 3.0.1; en-us; Generic Build/HRI66) \
                 AppleWebKit/534.13 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.13",
                Some(DeviceType::Tablet),
            ),
        ];
        assert_device_types(&cases);
    }

    #[test]
    fn device_types_without_mobile_token() {
        let cases = [
            // A WebView of a Galaxy S phone that sends no Mobile token.
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B; wv) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Safari/537.36",
                Some(DeviceType::Phone),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                Some(DeviceType::Phone),
            ),
            (
                "Opera/9.80 (Android; Opera Mini/8.0.1807/36.1609; U; en) Presto/2.12.423 \
                 Version/12.16",
                Some(DeviceType::Phone),
            ),
        ];
        assert_device_types(&cases);
    }

    #[test]
    fn device_types_of_other_devices() {
        let cases = [
            (
                "Mozilla/5.0 (X11; GNU/Linux) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chromium/120.0.0.0 Chrome/120.0.0.0 Safari/537.36 Tesla/2024.20.1",
                Some(DeviceType::Other),
            ),
            (
                "Mozilla/5.0 (MFP; 2.0; like Gecko) NetFront/4.1",
                Some(DeviceType::Other),
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A.210105.003) \
                 AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                Some(DeviceType::Tv),
            ),
            (
                "Mozilla/5.0 (PS3; 4.90) AppleWebKit/531.22.8 (KHTML, like Gecko)",
                Some(DeviceType::Console),
            ),
            ("LG-KS360 Obigo/WAP2.0 MIDP-2.0/CLDC-1.1", Some(DeviceType::Phone)),
            ("LGE-AX8600 UP.Browser/6.2.3", Some(DeviceType::Phone)),
        ];
        assert_device_types(&cases);
    }

    #[test]
    fn device_types_of_at_signs() {
        let cases = [
            // A contact address marks a crawler.
            (
                "Acme-Indexer/2.1 (ops@example.org)",
                Some(DeviceType::Bot),
            ),
            // An "@" in a version or a locale does not.
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (Example android@120.0)",
                Some(DeviceType::Phone),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; ar-SA@calendar=islamic) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                Some(DeviceType::Desktop),
            ),
        ];
        assert_device_types(&cases);
    }

    fn assert_device_types(cases: &[(&str, Option<DeviceType>)]) {
        for (user_agent, expected) in cases {
            assert_eq!(parse(user_agent).device_type, *expected, "{user_agent}");
        }
    }
}
    };
}

builtin_parser_tests!(uaparser, "uaparser", UaParser);
builtin_parser_tests!(ua_parser, "ua-parser", UapRustParser);

/// `parser = ua_parser` selects the process-wide cached `ua-parser` backend.
#[cfg(feature = "ua-parser")]
#[test]
fn derive_selects_ua_parser() {
    use auth_tracker::AuthTracking;

    #[derive(AuthTracking)]
    #[auth_tracking(parser = ua_parser)]
    struct Member {
        id: i64,
    }

    let member = Member { id: 7 };
    assert_eq!(member.tracking_user_id(), "7");

    let selected = Member::user_agent_parser().parse(CHROME_WINDOWS);
    let cached = auth_tracker::agent::ua_parser::shared().parse(CHROME_WINDOWS);
    assert!(Arc::ptr_eq(&selected, &cached));
    assert_eq!(selected.browser.as_deref(), Some("Chrome"));
}
