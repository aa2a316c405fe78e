//! Built-in parser on the `uaparser` crate and uap-core's `regexes.yaml`.
//!
//! # Regex cache memory
//!
//! `uaparser` 0.6.4 compiles each of uap-core's 1,200 patterns into its own
//! `regex::bytes::Regex`, with unicode classes as configured and regex's default lazy
//! DFA cache capacity of 2 MiB per regex, which callers cannot change. Every regex keeps
//! a pool of search caches. The first thread that searches gets a cache of its own.
//! Every other thread takes a cache from the pool, or creates one when the pool is
//! empty, and returns it to the pool afterwards. So the cache memory of the parser grows with the
//! number of threads that have parsed at once, and a login path running on
//! `spawn_blocking` threads could reach hundreds of them.
//!
//! [`UaParser`] therefore runs every regex search on a fixed set of [`PARSER_THREADS`]
//! threads shared by the whole process, and the calling thread waits for the result.
//! Each regex then keeps at most [`PARSER_THREADS`] caches, however many threads call
//! the parser. Put a [`CachedParser`] in front (as [`shared`] does) so that only cache
//! misses pay the thread hand-off, which costs tens of microseconds on top of the parse.
//!
//! Measured on x86_64 Linux with a release build, parsing the 1,460 User-Agents of
//! uap-core's `test_ua.yaml` once per calling thread: the compiled regexes take about
//! 30 MiB, and each thread that searches grows about 50 MiB of caches. From 8 calling
//! threads the process reached 457 MiB of resident memory when they searched
//! themselves, and 135 MiB through [`UaParser`]. The per-thread figure depends on the
//! variety of the input, so treat it as an estimate of the order of magnitude.

use std::sync::{Arc, LazyLock};

use uaparser::Parser as _;

pub use super::uap::{PARSER_THREADS, REGEXES_YAML};
use super::uap::{UapResult, parse_on_parser_threads};
use super::{CachedParser, ParsedUserAgent, UserAgentParser, truncate_user_agent};

static UAP: LazyLock<uaparser::UserAgentParser> = LazyLock::new(|| {
    uaparser::UserAgentParser::builder()
        .with_unicode_support(false)
        .build_from_bytes(REGEXES_YAML)
        .expect("the embedded uap-core regexes.yaml is valid")
});

static SHARED: LazyLock<CachedParser<UaParser>> = LazyLock::new(|| CachedParser::new(UaParser));

/// Returns the process-wide cached [`UaParser`], built on first use.
///
/// The cache stores up to [`CachedParser::DEFAULT_CAPACITY`] entries. The first parse
/// compiles uap-core's regexes, which adds about 30 MiB of resident memory (measured on
/// x86_64 Linux, release build). Later calls return the same parser.
pub fn shared() -> &'static CachedParser<UaParser> {
    &SHARED
}

/// Returns the process-wide `uaparser` parser of the embedded regexes, built on first use
/// with unicode classes off.
///
/// Its `Parser` methods return uap's raw results, with `Other` for an unknown family.
/// They search on the calling thread, so each calling thread adds its own regex caches.
/// Use [`UaParser`] on the login path.
pub fn uap() -> &'static uaparser::UserAgentParser {
    &UAP
}

/// Parser on the `uaparser` crate and the embedded uap-core regexes, without a cache.
///
/// All instances share one compiled regex set and the [`PARSER_THREADS`] search threads,
/// so creating one costs nothing. Use [`shared`] for the cached parser.
///
/// The fields of the result are uap-core's family names as written, with uap's `Other`
/// reported as `None`:
///
/// - `browser_version` joins the user agent's major, minor and patch; `platform_version`
///   joins the OS's major, minor, patch and patch_minor. Both stop at the first missing
///   part and put a dot before each part that starts with a digit, so uap's
///   `3`, `5`, `b4` becomes `3.5b4`.
/// - `device` is uap's device family, such as `iPhone`, `Samsung SM-G991B` or `Spider`.
/// - `device_type` comes from [`classify_device`](super::classify_device).
#[derive(Clone, Copy, Debug, Default)]
pub struct UaParser;

impl UserAgentParser for UaParser {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        let user_agent = truncate_user_agent(user_agent);
        Arc::new(parse_on_parser_threads(user_agent, parse_with_uap))
    }
}

/// Parses on the calling thread and maps uap's results to the login's columns.
fn parse_with_uap(user_agent: &str) -> ParsedUserAgent {
    let client = UAP.parse(user_agent);
    let raw = UapResult {
        user_agent,
        browser: [
            Some(client.user_agent.family.as_ref()),
            client.user_agent.major.as_deref(),
            client.user_agent.minor.as_deref(),
            client.user_agent.patch.as_deref(),
        ],
        os: [
            Some(client.os.family.as_ref()),
            client.os.major.as_deref(),
            client.os.minor.as_deref(),
            client.os.patch.as_deref(),
            client.os.patch_minor.as_deref(),
        ],
        device: [
            Some(client.device.family.as_ref()),
            client.device.brand.as_deref(),
            client.device.model.as_deref(),
        ],
    };
    raw.to_parsed()
}
