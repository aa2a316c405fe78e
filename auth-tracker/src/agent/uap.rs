//! Parts shared by the built-in parsers on uap-core's regexes: the process-wide parser
//! threads and the mapping of uap's raw results to [`ParsedUserAgent`].
//!
//! Both backends keep a regex search cache for each thread that searches at once (see
//! their module docs). Running every search on the [`PARSER_THREADS`] threads bounds
//! that to [`PARSER_THREADS`] caches per regex, however many threads call the parsers.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::thread;

use super::{DeviceEvidence, ParsedUserAgent, classify_device};

/// uap-core's `regexes.yaml`, embedded at build time.
///
/// This is the uap-core 0.18.0 snapshot that the `ua-parser` crate 0.2.2 ships under
/// `uap-core/`, vendored in this crate's `uap-core/` folder with its Apache-2.0 licence.
pub const REGEXES_YAML: &[u8] = include_bytes!("../../uap-core/regexes.yaml");

/// Number of threads that run the regex searches of the built-in parsers in a process.
///
/// Both built-in parsers share these threads, so each regex keeps at most two search
/// caches. A release build on a 2-core x86_64 Linux machine parsed uap-core's test
/// User-Agents in 190 µs (`uaparser`) and 10 µs (`ua-parser`) on average. By that
/// estimate two threads parse over 10,000 uncached User-Agents per second, far above
/// any login rate.
pub const PARSER_THREADS: usize = 2;

/// Parse function of one backend, run on a parser thread.
pub(crate) type ParseFn = fn(&str) -> ParsedUserAgent;

static QUEUE: LazyLock<Sender<Job>> = LazyLock::new(start_parser_threads);

/// One parse request for the parser threads.
struct Job {
    user_agent: String,
    parse: ParseFn,
    reply: SyncSender<ParsedUserAgent>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Runs `parse(user_agent)` on a parser thread and waits for its result.
pub(crate) fn parse_on_parser_threads(user_agent: &str, parse: ParseFn) -> ParsedUserAgent {
    let (reply, result) = mpsc::sync_channel(1);
    let job = Job {
        user_agent: user_agent.to_owned(),
        parse,
        reply,
    };
    if let Err(mpsc::SendError(job)) = QUEUE.send(job) {
        // No parser thread could be started, so the caller parses itself.
        return parse(&job.user_agent);
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
        let parsed = panic::catch_unwind(AssertUnwindSafe(|| (job.parse)(&job.user_agent)));
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

/// uap family name that means "not recognised".
const UAP_UNKNOWN: &str = "Other";

/// One raw uap result of a User-Agent, as both backends return it.
#[derive(Debug, Default)]
pub(crate) struct UapResult<'a> {
    /// The User-Agent that was parsed, after truncation.
    pub(crate) user_agent: &'a str,
    /// User agent family, then major, minor and patch.
    pub(crate) browser: [Option<&'a str>; 4],
    /// OS family, then major, minor, patch and patch_minor.
    pub(crate) os: [Option<&'a str>; 5],
    /// Device family, brand and model.
    pub(crate) device: [Option<&'a str>; 3],
}

impl UapResult<'_> {
    /// Maps uap's results to the login's columns, with `Other` as `None`.
    pub(crate) fn to_parsed(&self) -> ParsedUserAgent {
        let [browser, browser_parts @ ..] = self.browser;
        let [platform, platform_parts @ ..] = self.os;
        let [device, brand, model] = self.device;

        let browser = browser.and_then(known_family);
        let platform = platform.and_then(known_family);
        let device = device.and_then(known_family);

        let device_type = classify_device(&DeviceEvidence {
            user_agent: self.user_agent,
            browser,
            platform,
            device,
            brand,
            model,
        });

        ParsedUserAgent {
            device: device.map(str::to_owned),
            device_type,
            platform: platform.map(str::to_owned),
            platform_version: platform.and_then(|_| join_version(&platform_parts)),
            browser: browser.map(str::to_owned),
            browser_version: browser.and_then(|_| join_version(&browser_parts)),
        }
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

    #[test]
    fn other_family_maps_to_none() {
        let raw = UapResult {
            user_agent: "",
            browser: [Some("Other"), Some("1"), None, None],
            os: [Some(" "), Some("2"), None, None, None],
            device: [Some("Other"), None, None],
        };
        assert_eq!(raw.to_parsed(), ParsedUserAgent::default());
    }
}
