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
//! Each regex then holds at most [`PARSER_THREADS`] caches, however many threads call
//! the parser. Put a [`CachedParser`] in front (as [`shared`] does) so that only cache
//! misses pay the thread hand-off, which costs tens of microseconds on top of the parse.
//!
//! Measured on x86_64 Linux with a release build, parsing the 1,460 User-Agents of
//! uap-core's `test_ua.yaml` once per calling thread: the compiled regexes take about
//! 30 MiB, and each thread that searches grows about 50 MiB of caches. From 8 calling
//! threads the process reached 457 MiB of resident memory when they searched
//! themselves, and 135 MiB through [`UaParser`]. The per-thread figure depends on the
//! variety of the input, so treat it as an estimate of the order of magnitude.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::thread;

use uaparser::Parser as _;

use super::{
    CachedParser, DeviceEvidence, ParsedUserAgent, UserAgentParser, classify_device,
    truncate_user_agent,
};

/// uap-core's `regexes.yaml`, embedded at build time.
///
/// This is the uap-core 0.18.0 snapshot that the `ua-parser` crate 0.2.2 ships under
/// `uap-core/`, vendored in this crate's `uap-core/` folder with its Apache-2.0 licence.
pub const REGEXES_YAML: &[u8] = include_bytes!("../../uap-core/regexes.yaml");

/// Number of threads that run the regex searches of [`UaParser`] in a process.
///
/// By estimate, two threads parse 10,000 to 30,000 uncached User-Agents per second (at
/// 60 to 200 µs per parse), far above any login rate, while each regex keeps at most
/// two search caches.
pub const PARSER_THREADS: usize = 2;

/// uap family name that means "not recognised".
const UAP_UNKNOWN: &str = "Other";

static UAP: LazyLock<uaparser::UserAgentParser> = LazyLock::new(|| {
    uaparser::UserAgentParser::builder()
        .with_unicode_support(false)
        .build_from_bytes(REGEXES_YAML)
        .expect("the embedded uap-core regexes.yaml is valid")
});

static SHARED: LazyLock<CachedParser<UaParser>> = LazyLock::new(|| CachedParser::new(UaParser));

static QUEUE: LazyLock<Sender<Job>> = LazyLock::new(start_parser_threads);

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
/// - `device_type` comes from [`classify_device`].
#[derive(Clone, Copy, Debug, Default)]
pub struct UaParser;

impl UserAgentParser for UaParser {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        let user_agent = truncate_user_agent(user_agent);
        Arc::new(parse_on_parser_threads(user_agent))
    }
}

/// One parse request for the parser threads.
struct Job {
    user_agent: String,
    reply: SyncSender<ParsedUserAgent>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

fn parse_on_parser_threads(user_agent: &str) -> ParsedUserAgent {
    let (reply, result) = mpsc::sync_channel(1);
    let job = Job {
        user_agent: user_agent.to_owned(),
        reply,
    };
    if let Err(mpsc::SendError(job)) = QUEUE.send(job) {
        // No parser thread could be started, so the caller parses itself.
        return parse_with_uap(&job.user_agent);
    }
    // The reply is missing only when the parse panicked. That is not expected on any
    // input, and an empty result is a valid output of any parser.
    result.recv().unwrap_or_default()
}

fn start_parser_threads() -> Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..PARSER_THREADS {
        let receiver = Arc::clone(&receiver);
        let spawned = thread::Builder::new()
            .name(format!("auth-tracker-ua-{index}"))
            .spawn(move || run_parser_thread(&receiver));
        if let Err(error) = spawned {
            tracing::warn!(%error, "failed to start a User-Agent parser thread");
        }
    }
    sender
}

fn run_parser_thread(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held while waiting, so idle threads queue on the mutex and each
        // job goes to exactly one thread.
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else {
            return;
        };
        let parsed = panic::catch_unwind(AssertUnwindSafe(|| parse_with_uap(&job.user_agent)));
        match parsed {
            Ok(parsed) => {
                // The send fails only when the caller stopped waiting, so the result is dropped.
                let _ = job.reply.send(parsed);
            }
            Err(_) => {
                tracing::warn!(user_agent = %job.user_agent, "User-Agent parser panicked");
            }
        }
    }
}

/// Parses on the calling thread and maps uap's results to the login's columns.
fn parse_with_uap(user_agent: &str) -> ParsedUserAgent {
    let client = UAP.parse(user_agent);

    let browser = known_family(&client.user_agent.family);
    let platform = known_family(&client.os.family);
    let device = known_family(&client.device.family);

    let browser_version = join_version(&[
        client.user_agent.major.as_deref(),
        client.user_agent.minor.as_deref(),
        client.user_agent.patch.as_deref(),
    ]);
    let platform_version = join_version(&[
        client.os.major.as_deref(),
        client.os.minor.as_deref(),
        client.os.patch.as_deref(),
        client.os.patch_minor.as_deref(),
    ]);

    let device_type = classify_device(&DeviceEvidence {
        user_agent,
        browser,
        platform,
        device,
        brand: client.device.brand.as_deref(),
        model: client.device.model.as_deref(),
    });

    ParsedUserAgent {
        device: device.map(str::to_owned),
        device_type,
        platform: platform.map(str::to_owned),
        platform_version: if platform.is_some() {
            platform_version
        } else {
            None
        },
        browser: browser.map(str::to_owned),
        browser_version: if browser.is_some() {
            browser_version
        } else {
            None
        },
    }
}

/// Maps uap's `Other` and empty families to `None`.
fn known_family(family: &str) -> Option<&str> {
    let family = family.trim();
    if family.is_empty() || family == UAP_UNKNOWN {
        None
    } else {
        Some(family)
    }
}

/// Joins version parts up to the first missing one, with a dot before each part that
/// starts with a digit.
fn join_version(parts: &[Option<&str>]) -> Option<String> {
    let mut version = String::new();
    for part in parts {
        let Some(part) = part.map(str::trim).filter(|part| !part.is_empty()) else {
            break;
        };
        let starts_with_digit = part.starts_with(|c: char| c.is_ascii_digit());
        if !version.is_empty() && starts_with_digit {
            version.push('.');
        }
        version.push_str(part);
    }
    if version.is_empty() {
        None
    } else {
        Some(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_version_stops_at_first_gap() {
        assert_eq!(
            join_version(&[Some("17"), None, Some("3")]).as_deref(),
            Some("17")
        );
        assert_eq!(
            join_version(&[Some("10"), Some("15"), Some("7")]).as_deref(),
            Some("10.15.7")
        );
        assert_eq!(join_version(&[None, Some("1")]), None);
        assert_eq!(join_version(&[]), None);
    }

    #[test]
    fn join_version_glues_letter_parts() {
        assert_eq!(
            join_version(&[Some("3"), Some("5"), Some("b4")]).as_deref(),
            Some("3.5b4")
        );
    }
}
