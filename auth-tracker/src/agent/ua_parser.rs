//! Built-in parser on the `ua-parser` crate (uap-rust) and uap-core's `regexes.yaml`.
//!
//! It reads the same embedded [`REGEXES_YAML`] as the [`uaparser`](super::uaparser)
//! backend, not the uap-core snapshot that `ua-parser` ships, so both backends parse
//! with the same data.
//!
//! # Regex cache memory
//!
//! `ua-parser` 0.2.2 compiles each of uap-core's patterns into its own `regex::Regex`
//! through `regex-filtered` 0.2.1, after rewriting `\d` and `\w` to ASCII classes and
//! repetitions with upper bounds above 99 to unbounded ones. An Aho-Corasick prefilter
//! on literal fragments of the patterns selects the candidate regexes of an input, so
//! a parse searches only the regexes whose fragments occur in the User-Agent, plus
//! those without usable fragments. Each `regex::Regex` keeps a pool of search caches,
//! like those of `uaparser`: the first thread that searches gets a cache of its own and
//! every other thread that searches at the same time creates another one. So the cache
//! memory grows with the number of threads that have parsed at once, as in
//! `uaparser`, and [`UapRustParser`] runs every search on the same [`PARSER_THREADS`]
//! process-wide threads as [`UaParser`](super::uaparser::UaParser). Each regex then
//! keeps at most [`PARSER_THREADS`] caches.
//!
//! The memory after building and after parsing uap-core's `test_ua.yaml` is recorded
//! in the repository's `BENCHMARKS.md`, with the program that measured it.

use std::sync::{Arc, LazyLock};

pub use super::uap::{PARSER_THREADS, REGEXES_YAML};
use super::uap::{UapResult, parse_on_parser_threads};
use super::{CachedParser, ParsedUserAgent, UserAgentParser, truncate_user_agent};

/// Error raised when [`build_extractor`] cannot build a `ua-parser` extractor.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The regexes file is not valid YAML of uap-core's layout.
    #[error("invalid uap-core regexes YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// A regex or a replacement of the regexes file was rejected by `ua-parser`.
    #[error("failed to compile uap-core regexes: {0}")]
    Compile(#[from] ua_parser::Error),
}

static EXTRACTOR: LazyLock<ua_parser::Extractor<'static>> = LazyLock::new(|| {
    build_extractor(REGEXES_YAML).expect("the embedded uap-core regexes.yaml is valid")
});

static SHARED: LazyLock<CachedParser<UapRustParser>> =
    LazyLock::new(|| CachedParser::new(UapRustParser));

/// Returns the process-wide cached [`UapRustParser`], built on first use.
///
/// The cache stores up to [`CachedParser::DEFAULT_CAPACITY`] entries. The first parse
/// compiles uap-core's regexes. Later calls return the same parser.
pub fn shared() -> &'static CachedParser<UapRustParser> {
    &SHARED
}

/// Returns the process-wide `ua-parser` extractor of the embedded regexes, built on
/// first use.
///
/// Its `extract` methods return uap's raw results, with `None` (not `Other`) where no
/// regex matches. They search on the calling thread, so each calling thread adds its
/// own regex caches. Use [`UapRustParser`] on the login path.
pub fn extractor() -> &'static ua_parser::Extractor<'static> {
    &EXTRACTOR
}

/// Builds a new `ua-parser` extractor from the text of a uap-core `regexes.yaml`.
///
/// Each call compiles every regex again. [`extractor`] returns the one built from
/// [`REGEXES_YAML`] for the whole process.
pub fn build_extractor(regexes_yaml: &[u8]) -> Result<ua_parser::Extractor<'static>, BuildError> {
    let regexes: ua_parser::Regexes<'static> = serde_yaml::from_slice(regexes_yaml)?;
    Ok(ua_parser::Extractor::try_from(regexes)?)
}

/// Parser on the `ua-parser` crate (uap-rust) and the embedded uap-core regexes,
/// without a cache.
///
/// All instances share one compiled extractor and the [`PARSER_THREADS`] search
/// threads, so creating one costs nothing. Use [`shared`] for the cached parser.
///
/// The results follow the rules of [`UaParser`](super::uaparser::UaParser): uap-core's
/// family names as written, `Other` or no match reported as `None`, versions joined the
/// same way and `device_type` from [`classify_device`](super::classify_device).
/// `ua-parser` also returns a user agent's `patch_minor`, which `browser_version` leaves
/// out as `uaparser` does not return it.
///
/// NOTE: `ua-parser` 0.2.2 rewrites each bounded repetition whose upper bound has three
/// or more digits into an unbounded one (`.{0,100}` into `.*`). So a pattern such as
/// uap-core's catch-all spider regex `^.{0,100}(bot|crawl|...)` also matches a token
/// that starts after the first 100 characters, and this parser then reports the device
/// `Spider` where [`UaParser`](super::uaparser::UaParser) reports none. That is the
/// only difference between the two on the 1,460 rows of uap-core's `test_ua.yaml`,
/// where it shows on 6 rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct UapRustParser;

impl UserAgentParser for UapRustParser {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        let user_agent = truncate_user_agent(user_agent);
        Arc::new(parse_on_parser_threads(user_agent, parse_with_extractor))
    }
}

/// Parses on the calling thread and maps uap's results to the login's columns.
fn parse_with_extractor(user_agent: &str) -> ParsedUserAgent {
    let (browser, os, device) = EXTRACTOR.extract(user_agent);

    let mut raw = UapResult {
        user_agent,
        ..UapResult::default()
    };
    if let Some(browser) = &browser {
        raw.browser = [
            Some(browser.family.as_ref()),
            browser.major,
            browser.minor,
            browser.patch,
        ];
    }
    if let Some(os) = &os {
        raw.os = [
            Some(os.os.as_ref()),
            os.major.as_deref(),
            os.minor.as_deref(),
            os.patch.as_deref(),
            os.patch_minor.as_deref(),
        ];
    }
    if let Some(device) = &device {
        raw.device = [
            Some(device.device.as_ref()),
            device.brand.as_deref(),
            device.model.as_deref(),
        ];
    }
    raw.to_parsed()
}
