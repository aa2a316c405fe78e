//! uap-core conformance: every row of uap-core's `test_ua.yaml`, `test_os.yaml` and
//! `test_device.yaml` (vendored in `uap-core/tests/`) must parse to the expected raw uap
//! result with the embedded regexes, through each built-in backend.
//!
//! The rows are compared with the crates' own results, before auth-tracker maps `Other`
//! to `None`. `uaparser` 0.6.4 returns no `patch_minor` for user agents, so `test_ua.yaml`
//! rows are compared on family, major, minor and patch. `ua-parser` 0.2.2 returns no
//! result where no regex matches, which uap-core writes as family `Other` and no parts.
#![cfg(any(feature = "uaparser", feature = "ua-parser"))]

use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct Suite<Row> {
    test_cases: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct UserAgentRow {
    user_agent_string: String,
    family: String,
    major: Option<String>,
    minor: Option<String>,
    patch: Option<String>,
}

#[derive(serde::Deserialize)]
struct OsRow {
    user_agent_string: String,
    family: String,
    major: Option<String>,
    minor: Option<String>,
    patch: Option<String>,
    patch_minor: Option<String>,
}

#[derive(serde::Deserialize)]
struct DeviceRow {
    user_agent_string: String,
    family: String,
    brand: Option<String>,
    model: Option<String>,
}

fn load<Row: serde::de::DeserializeOwned>(name: &str) -> Vec<Row> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "uap-core", "tests", name]
        .iter()
        .collect();
    let text = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
    let suite: Suite<Row> = serde_yaml::from_slice(&text)
        .unwrap_or_else(|error| panic!("invalid YAML in {}: {error}", path.display()));
    assert!(
        !suite.test_cases.is_empty(),
        "{} has no test case",
        path.display()
    );
    suite.test_cases
}

/// uap-core writes a missing version part as an empty value, which serde reads as
/// `None`, and `uaparser` returns `None` for it too.
fn part(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// Panics with every mismatching row, so a regexes.yaml update shows all its failures at
/// once.
fn assert_no_failures(suite: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} {suite} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Raw family and version parts of a user agent or an OS, or family, brand and model of
/// a device, as a backend returns them.
type Raw = (String, Vec<Option<String>>);

fn owned(parts: &[Option<&str>]) -> Vec<Option<String>> {
    parts.iter().map(|part| part.map(str::to_owned)).collect()
}

/// Compares every row of `suite` with `parse(user_agent_string)` and panics with all
/// mismatches.
fn check_rows<Row>(suite: &str, expected: impl Fn(&Row) -> (&str, Raw), parse: impl Fn(&str) -> Raw)
where
    Row: serde::de::DeserializeOwned,
{
    let rows: Vec<Row> = load(suite);
    let mut failures = Vec::new();
    for row in &rows {
        let (user_agent, expected) = expected(row);
        let found = parse(user_agent);
        if expected != found {
            failures.push(format!(
                "{user_agent:?}: expected {expected:?}, found {found:?}"
            ));
        }
    }
    assert_no_failures(suite, rows.len(), &failures);
}

fn expected_user_agent(row: &UserAgentRow) -> (&str, Raw) {
    let parts = [
        part(row.major.as_deref()),
        part(row.minor.as_deref()),
        part(row.patch.as_deref()),
    ];
    (&row.user_agent_string, (row.family.clone(), owned(&parts)))
}

fn expected_os(row: &OsRow) -> (&str, Raw) {
    let parts = [
        part(row.major.as_deref()),
        part(row.minor.as_deref()),
        part(row.patch.as_deref()),
        part(row.patch_minor.as_deref()),
    ];
    (&row.user_agent_string, (row.family.clone(), owned(&parts)))
}

fn expected_device(row: &DeviceRow) -> (&str, Raw) {
    let parts = [part(row.brand.as_deref()), part(row.model.as_deref())];
    (&row.user_agent_string, (row.family.clone(), owned(&parts)))
}

#[cfg(feature = "uaparser")]
mod uaparser_backend {
    use auth_tracker::agent::uaparser::uap;
    use uaparser::Parser as _;

    use super::*;

    #[test]
    fn user_agent_rows_match() {
        check_rows("test_ua.yaml", expected_user_agent, |user_agent| {
            let actual = uap().parse_user_agent(user_agent);
            let parts = [
                actual.major.as_deref(),
                actual.minor.as_deref(),
                actual.patch.as_deref(),
            ];
            (actual.family.into_owned(), owned(&parts))
        });
    }

    #[test]
    fn os_rows_match() {
        check_rows("test_os.yaml", expected_os, |user_agent| {
            let actual = uap().parse_os(user_agent);
            let parts = [
                actual.major.as_deref(),
                actual.minor.as_deref(),
                actual.patch.as_deref(),
                actual.patch_minor.as_deref(),
            ];
            (actual.family.into_owned(), owned(&parts))
        });
    }

    #[test]
    fn device_rows_match() {
        check_rows("test_device.yaml", expected_device, |user_agent| {
            let actual = uap().parse_device(user_agent);
            let parts = [actual.brand.as_deref(), actual.model.as_deref()];
            (actual.family.into_owned(), owned(&parts))
        });
    }
}

#[cfg(feature = "ua-parser")]
mod ua_parser_backend {
    use auth_tracker::agent::ua_parser::extractor;

    use super::*;

    /// uap-core's family of an input that no regex matches.
    const OTHER: &str = "Other";

    #[test]
    fn user_agent_rows_match() {
        check_rows(
            "test_ua.yaml",
            expected_user_agent,
            |user_agent| match extractor().ua.extract(user_agent) {
                Some(actual) => {
                    let parts = [actual.major, actual.minor, actual.patch];
                    (actual.family.into_owned(), owned(&parts))
                }
                None => (OTHER.to_owned(), vec![None; 3]),
            },
        );
    }

    #[test]
    fn os_rows_match() {
        check_rows("test_os.yaml", expected_os, |user_agent| {
            match extractor().os.extract(user_agent) {
                Some(actual) => {
                    let parts = [
                        actual.major.as_deref(),
                        actual.minor.as_deref(),
                        actual.patch.as_deref(),
                        actual.patch_minor.as_deref(),
                    ];
                    (actual.os.into_owned(), owned(&parts))
                }
                None => (OTHER.to_owned(), vec![None; 4]),
            }
        });
    }

    #[test]
    fn device_rows_match() {
        check_rows(
            "test_device.yaml",
            expected_device,
            |user_agent| match extractor().dev.extract(user_agent) {
                Some(actual) => {
                    let parts = [actual.brand.as_deref(), actual.model.as_deref()];
                    (actual.device.into_owned(), owned(&parts))
                }
                None => (OTHER.to_owned(), vec![None; 2]),
            },
        );
    }
}

/// Both backends must map every `test_ua.yaml` row to the same login columns, except
/// for the known difference below.
///
/// `ua-parser` 0.2.2 rewrites each bounded repetition whose upper bound has three or
/// more digits into an unbounded one (`.{0,100}` into `.*`), to save regex memory. The
/// catch-all spider regex of uap-core starts with `^.{0,100}(bot|crawl|...)`, so on a
/// long User-Agent whose bot token starts after its first 100 characters `ua-parser`
/// reports the device `Spider` where uap-core's regex and `uaparser` report none.
#[cfg(all(feature = "uaparser", feature = "ua-parser"))]
#[test]
fn backends_agree_on_user_agent_rows() {
    use auth_tracker::agent::UserAgentParser;
    use auth_tracker::agent::ua_parser::UapRustParser;
    use auth_tracker::agent::uaparser::UaParser;

    /// Rows of the uap-core snapshot in `uap-core/tests/` that show the difference.
    const SPIDER_BEYOND_100_CHARS: usize = 6;

    let rows: Vec<UserAgentRow> = load("test_ua.yaml");
    let mut differences = Vec::new();
    let mut late_spiders = 0;
    for row in &rows {
        let uaparser = UaParser.parse(&row.user_agent_string);
        let ua_parser = UapRustParser.parse(&row.user_agent_string);
        if uaparser == ua_parser {
            continue;
        }
        let late_spider = uaparser.device.is_none()
            && ua_parser.device.as_deref() == Some("Spider")
            && ParsedUserAgentWithoutDevice::from(&*uaparser)
                == ParsedUserAgentWithoutDevice::from(&*ua_parser);
        if late_spider {
            late_spiders += 1;
        } else {
            differences.push(format!(
                "{:?}: uaparser {uaparser:?}, ua-parser {ua_parser:?}",
                row.user_agent_string
            ));
        }
    }
    assert_no_failures("test_ua.yaml backend comparison", rows.len(), &differences);
    assert_eq!(
        late_spiders, SPIDER_BEYOND_100_CHARS,
        "rows where only ua-parser reports a Spider device"
    );
}

/// The columns of a `ParsedUserAgent` other than `device`.
#[cfg(all(feature = "uaparser", feature = "ua-parser"))]
#[derive(Debug, PartialEq)]
struct ParsedUserAgentWithoutDevice<'a> {
    device_type: Option<auth_tracker::agent::DeviceType>,
    platform: Option<&'a str>,
    platform_version: Option<&'a str>,
    browser: Option<&'a str>,
    browser_version: Option<&'a str>,
}

#[cfg(all(feature = "uaparser", feature = "ua-parser"))]
impl<'a> From<&'a auth_tracker::agent::ParsedUserAgent> for ParsedUserAgentWithoutDevice<'a> {
    fn from(parsed: &'a auth_tracker::agent::ParsedUserAgent) -> Self {
        Self {
            device_type: parsed.device_type,
            platform: parsed.platform.as_deref(),
            platform_version: parsed.platform_version.as_deref(),
            browser: parsed.browser.as_deref(),
            browser_version: parsed.browser_version.as_deref(),
        }
    }
}
