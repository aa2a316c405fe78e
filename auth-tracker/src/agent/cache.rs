//! Bounded cache in front of a [`UserAgentParser`].

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use quick_cache::sync::Cache;

use super::{ParsedUserAgent, UserAgentParser, truncate_user_agent};

/// Parser that caches the results of another parser, keyed by the User-Agent.
///
/// The input is cut to [`MAX_USER_AGENT_LEN`](super::MAX_USER_AGENT_LEN) bytes before
/// the lookup, so a key never exceeds that length. A hit returns the stored
/// `Arc<ParsedUserAgent>` without copying its strings. Concurrent misses on the same
/// User-Agent run the inner parser once and share its result. Entries are evicted by
/// quick_cache's CLOCK-Pro policy once the cache contains `capacity` entries.
///
/// ```no_run
/// use auth_tracker::agent::{CachedParser, NoParser, UserAgentParser};
///
/// let parser = CachedParser::with_capacity(NoParser, 1_000);
/// let first = parser.parse("curl/8.5.0");
/// let second = parser.parse("curl/8.5.0");
/// assert!(std::sync::Arc::ptr_eq(&first, &second));
/// ```
pub struct CachedParser<P> {
    inner: P,
    cache: Cache<String, Arc<ParsedUserAgent>>,
    capacity: usize,
}

impl<P: UserAgentParser> CachedParser<P> {
    /// Default number of cached User-Agents.
    ///
    /// Real traffic repeats a few thousand distinct User-Agents, so 10,000 entries hold
    /// the working set with room to spare. One entry of a typical 150-byte User-Agent
    /// takes about 0.5 KiB (key, parsed strings and cache overhead, an estimate), so a
    /// full cache takes about 5 MiB.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// Wraps `inner` with a cache of [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY)
    /// entries.
    pub fn new(inner: P) -> Self {
        Self::with_capacity(inner, Self::DEFAULT_CAPACITY)
    }

    /// Wraps `inner` with a cache of at most `capacity` entries. A capacity of 0 caches
    /// nothing.
    pub fn with_capacity(inner: P, capacity: usize) -> Self {
        Self {
            inner,
            cache: Cache::new(capacity),
            capacity,
        }
    }

    /// Returns the wrapped parser.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Returns the maximum number of cached entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Returns the number of cached entries.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Returns `true` when the cache contains no entry.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl<P: UserAgentParser> UserAgentParser for CachedParser<P> {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        let user_agent = truncate_user_agent(user_agent);
        let parsed = self.cache.get_or_insert_with(user_agent, || {
            Ok::<_, Infallible>(self.inner.parse(user_agent))
        });
        match parsed {
            Ok(parsed) => parsed,
            Err(never) => match never {},
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for CachedParser<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedParser")
            .field("inner", &self.inner)
            .field("capacity", &self.capacity)
            .field("len", &self.cache.len())
            .finish()
    }
}
