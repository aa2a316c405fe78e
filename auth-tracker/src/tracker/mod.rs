//! The tracker: configuration, connection pool and every login operation.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

use crate::agent::UserAgentParser;
// With every backend compiled in, only doc links name `Error`, and rustc does not count them.
#[cfg_attr(
    all(feature = "sqlite", feature = "postgres", feature = "mysql"),
    allow(unused_imports)
)]
use crate::error::Error;
use crate::error::Result;
use crate::events::{GeolocationFailed, Listeners, LoginRevoked, NewLogin, TokenCreated};
use crate::geo::{GeoProvider, Location, ProviderChoice};
use crate::model::{Login, LoginId, Owner};
use crate::store::LoginStore;
use crate::table::validate_table_name;

pub(crate) mod check;
mod prune;
mod record;
mod revoke;

pub use prune::{PruneOptions, PruneReport};
pub use record::{LoginOptions, NewToken};
pub use revoke::{RevokeFuture, RevokeScope, RevokedToken, TokenRevoker};

/// Tracker settings. Every field has a default, see [`TrackerConfig::default`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerConfig {
    /// Minimum time between two writes of a login's `last_activity_at`. Default 60 s.
    pub activity_interval: Duration,
    /// A session login unused for this long is expired. `None` disables idle expiry.
    /// Default 2 hours.
    pub idle_timeout: Option<Duration>,
    /// Absolute lifetime of a session login from its creation. `None` means no limit.
    /// Default 7 days.
    pub session_lifetime: Option<Duration>,
    /// Longest stored `User-Agent`, in bytes, cut on a char boundary. Default 1,024.
    pub max_user_agent_bytes: usize,
    /// Time limit of one geolocation lookup. Default 2 s.
    pub geolocation_timeout: Duration,
    /// Absolute lifetime of a remembered session login, from its creation. Its remember
    /// cookie lives as long. Remembered logins do not expire when idle. Default 30 days.
    pub remember_lifetime: Duration,
    /// Name of the remember-me cookie. Default `remember`.
    pub remember_cookie_name: String,
    /// Whether the remember-me cookie is marked `Secure`, so browsers send it over HTTPS
    /// only. Default `true`; turn it off only for plain-HTTP development servers.
    pub remember_cookie_secure: bool,
    /// Absolute lifetime of a personal API token. `None` means no limit. Default `None`.
    pub token_lifetime: Option<Duration>,
    /// Whether "sign out other devices" also revokes API tokens. Default `true`.
    pub revoke_others_includes_tokens: bool,
    /// How long a geolocation result is reused for the same address and provider.
    /// Failed lookups are not cached. Zero disables the cache. Default 1 hour.
    pub geolocation_cache_ttl: Duration,
    /// How long [`Tracker::check_login`] reuses a successful check of a session login
    /// for the same session id without reading the database. Zero disables the reuse.
    /// Default 1 s.
    ///
    /// A revocation through this tracker or one of its clones ends the reuse at once,
    /// and expiry and idle timeouts are applied on every check. A login revoked by
    /// another process, such as another instance of the application or the CLI, or by
    /// hand in the database is rejected once this time has passed. It is rejected at
    /// once when that revocation also deleted the session from a shared session store.
    pub check_cache_ttl: Duration,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            activity_interval: Duration::from_secs(60),
            idle_timeout: Some(Duration::from_secs(2 * 60 * 60)),
            session_lifetime: Some(Duration::from_secs(7 * 24 * 60 * 60)),
            max_user_agent_bytes: 1024,
            geolocation_timeout: Duration::from_secs(2),
            remember_lifetime: Duration::from_secs(30 * 24 * 60 * 60),
            remember_cookie_name: "remember".to_owned(),
            remember_cookie_secure: true,
            token_lifetime: None,
            revoke_others_includes_tokens: true,
            geolocation_cache_ttl: Duration::from_secs(60 * 60),
            check_cache_ttl: Duration::from_secs(1),
        }
    }
}

/// Enrichment settings of a user model: its User-Agent parser and geolocation provider.
#[derive(Clone, Copy)]
pub struct Enrichment {
    /// User-Agent parser.
    pub parser: &'static dyn UserAgentParser,
    /// Geolocation provider.
    pub ip_provider: ProviderChoice,
}

impl fmt::Debug for Enrichment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrichment")
            .field("ip_provider", &self.ip_provider)
            .finish_non_exhaustive()
    }
}

/// Session-store key under which the current login is kept.
#[cfg(feature = "axum")]
pub(crate) const SESSION_KEY: &str = "auth_tracker.login";

/// Records, lists and revokes logins. Cheap to clone: clones share the pool.
///
/// Every call runs its queries on a pooled connection in a blocking task, so the async
/// executor is never blocked by the database.
#[derive(Clone)]
pub struct Tracker {
    store: Arc<dyn LoginStore>,
    config: Arc<TrackerConfig>,
    listeners: Arc<Listeners>,
    token_revoker: Option<Arc<dyn TokenRevoker>>,
    providers: Arc<BuiltinProviders>,
    geolocation_cache: Arc<GeolocationCache>,
    check_cache: Arc<check::CheckCache>,
    #[cfg(feature = "axum")]
    session_store: Option<Arc<dyn tower_sessions::SessionStore>>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("store", &self.store)
            .field("config", &self.config)
            .field("listeners", &self.listeners)
            .field("token_revoker", &self.token_revoker.is_some())
            .finish_non_exhaustive()
    }
}

impl Tracker {
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    fn from_store(store: Arc<dyn LoginStore>) -> Self {
        Self {
            store,
            config: Arc::default(),
            listeners: Arc::default(),
            token_revoker: None,
            providers: Arc::default(),
            geolocation_cache: Arc::new(GeolocationCache::new(GEOLOCATION_CACHE_CAPACITY)),
            check_cache: Arc::new(check::CheckCache::new(check::CHECK_CACHE_CAPACITY)),
            #[cfg(feature = "axum")]
            session_store: None,
        }
    }

    /// Opens a pool of connections to a SQLite file, creating the file if needed.
    ///
    /// # Errors
    ///
    /// [`Error::Connection`] when the file cannot be opened.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite(path: &str) -> Result<Self> {
        let pool = crate::store::pools::sqlite_pool(path)?;
        Ok(Self::from_sqlite_pool(pool))
    }

    /// Uses an existing SQLite pool. Give it a `busy_timeout`, as [`Tracker::sqlite`] does,
    /// or concurrent writes fail with "database is locked".
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn from_sqlite_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::SqliteConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(crate::store::SqliteStore::new(pool)))
    }

    /// Opens a pool of connections to a PostgreSQL URL.
    ///
    /// # Errors
    ///
    /// [`Error::Connection`] when the server cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres(url: &str) -> Result<Self> {
        let pool = crate::store::pools::postgres_pool(url)?;
        Ok(Self::from_postgres_pool(pool))
    }

    /// Uses an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn from_postgres_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::PgConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(crate::store::PgStore::new(pool)))
    }

    /// Opens a pool of connections to a `mysql://` URL, on MySQL or MariaDB.
    ///
    /// # Errors
    ///
    /// [`Error::Connection`] when the server cannot be reached.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql(url: &str) -> Result<Self> {
        let pool = crate::store::pools::mysql_pool(url)?;
        Ok(Self::from_mysql_pool(pool))
    }

    /// Uses an existing MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn from_mysql_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::MysqlConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(crate::store::MysqlStore::new(pool)))
    }

    /// Opens the database a URL names: `postgres://` or `postgresql://` URLs open
    /// PostgreSQL, `mysql://` or `mariadb://` URLs open MySQL or MariaDB, and anything
    /// else is a SQLite path (`sqlite://` prefix optional).
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedDatabase`] when the backend is not compiled in, and
    /// [`Error::Pool`] when the database cannot be opened.
    pub fn connect(url: &str) -> Result<Self> {
        use crate::store::url::{DatabaseUrl, classify};

        match classify(url) {
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => Self::postgres(url),
            #[cfg(not(feature = "postgres"))]
            DatabaseUrl::Postgres(url) => Err(Error::UnsupportedDatabase(
                redact_url(url),
                "enable the `postgres` feature of auth-tracker",
            )),
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => Self::mysql(&url),
            #[cfg(not(feature = "mysql"))]
            DatabaseUrl::Mysql(url) => Err(Error::UnsupportedDatabase(
                redact_url(&url),
                "enable the `mysql` feature of auth-tracker",
            )),
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => Self::sqlite(path),
            #[cfg(not(feature = "sqlite"))]
            DatabaseUrl::Sqlite(path) => Err(Error::UnsupportedDatabase(
                path.to_owned(),
                "enable the `sqlite` feature of auth-tracker",
            )),
        }
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: TrackerConfig) -> Self {
        self.config = Arc::new(config);
        self
    }

    /// Sets the session store whose sessions are deleted when their logins are revoked.
    /// Pass the same store the session layer uses.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn with_session_store(mut self, store: impl tower_sessions::SessionStore) -> Self {
        self.session_store = Some(Arc::new(store));
        self
    }

    /// Calls `revoker` whenever token logins are revoked, so tokens that the application
    /// issued itself (JWT ids, OAuth access tokens) can be revoked at their issuer too.
    pub fn with_token_revoker(mut self, revoker: impl TokenRevoker) -> Self {
        self.token_revoker = Some(Arc::new(revoker));
        self
    }

    /// Adds a listener for new logins. It is not called when a remember-me cookie binds
    /// an existing login to a new session.
    pub fn on_new_login(mut self, listener: impl Fn(&NewLogin) + Send + Sync + 'static) -> Self {
        Arc::make_mut(&mut self.listeners)
            .new_login
            .push(Arc::new(listener));
        self
    }

    /// Adds a listener for revoked logins, called once per revoked login.
    pub fn on_login_revoked(
        mut self,
        listener: impl Fn(&LoginRevoked) + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.listeners)
            .login_revoked
            .push(Arc::new(listener));
        self
    }

    /// Adds a listener for created personal API tokens.
    pub fn on_token_created(
        mut self,
        listener: impl Fn(&TokenCreated) + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.listeners)
            .token_created
            .push(Arc::new(listener));
        self
    }

    /// Adds a listener for failed geolocation lookups.
    pub fn on_geolocation_failed(
        mut self,
        listener: impl Fn(&GeolocationFailed) + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.listeners)
            .geolocation_failed
            .push(Arc::new(listener));
        self
    }

    /// Sets the provider of models declared with `ip_provider = ip_api`.
    #[cfg(feature = "ip-api")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ip-api")))]
    pub fn with_ip_api(mut self, provider: crate::geo::ip_api::IpApi) -> Self {
        Arc::make_mut(&mut self.providers).ip_api = Some(Arc::new(provider));
        self
    }

    /// Sets the provider of models declared with `ip_provider = maxmind`.
    #[cfg(feature = "maxmind")]
    #[cfg_attr(docsrs, doc(cfg(feature = "maxmind")))]
    pub fn with_maxmind(mut self, provider: crate::geo::maxmind::MaxMind) -> Self {
        Arc::make_mut(&mut self.providers).maxmind = Some(Arc::new(provider));
        self
    }

    /// Sets the provider of models declared with `ip_provider = ip2location`.
    #[cfg(feature = "ip2location")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ip2location")))]
    pub fn with_ip2location(mut self, provider: crate::geo::ip2location::Ip2Location) -> Self {
        Arc::make_mut(&mut self.providers).ip2location = Some(Arc::new(provider));
        self
    }

    /// Sets the provider of models declared with `ip_provider = configured`: any
    /// [`GeoProvider`], chosen by the application at run time.
    pub fn with_geo_provider(mut self, provider: impl GeoProvider) -> Self {
        Arc::make_mut(&mut self.providers).configured = Some(Arc::new(provider));
        self
    }

    /// Returns the provider a model's choice names, or `None` when it names none or a
    /// built-in that this tracker was not given.
    pub(crate) fn resolve_provider(&self, choice: ProviderChoice) -> Option<ResolvedProvider> {
        let shared = match choice {
            ProviderChoice::None => return None,
            ProviderChoice::Custom(provider) => return Some(ResolvedProvider::Static(provider)),
            ProviderChoice::IpApi => &self.providers.ip_api,
            ProviderChoice::MaxMind => &self.providers.maxmind,
            ProviderChoice::Ip2Location => &self.providers.ip2location,
            ProviderChoice::Configured => &self.providers.configured,
        };
        if shared.is_none() {
            tracing::warn!(provider = ?choice, "the model's geolocation provider is not configured on the tracker; skipping the lookup");
        }
        shared.clone().map(ResolvedProvider::Shared)
    }

    /// Returns the settings.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Runs the embedded migrations, which create the default `logins` table.
    /// Running them again is a no-op.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] or [`Error::Pool`].
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn migrate(&self) -> Result<()> {
        self.blocking(|store| store.migrate()).await
    }

    /// Creates a logins table under a custom name, with its indexes, unless it exists.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error.
    #[tracing::instrument(level = "debug", skip(self), err)]
    pub async fn create_table(&self, table: &str) -> Result<()> {
        let table = validate_table_name(table)?.to_owned();
        self.blocking(move |store| store.create_table(&table)).await
    }

    /// Lists an owner's active logins, most recent activity first, marking `current`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %owner.user_id), err)]
    pub async fn list_logins(
        &self,
        table: &str,
        owner: &Owner,
        current: Option<LoginId>,
    ) -> Result<Vec<Login>> {
        let table = validate_table_name(table)?.to_owned();
        let owner = owner.clone();
        let now = now_utc();
        let idle_cutoff = self.idle_cutoff(now);
        let rows = self
            .blocking(move |store| store.list_active(&table, &owner, now.naive_utc(), idle_cutoff))
            .await?;
        rows.into_iter()
            .map(|row| row.into_login(current))
            .collect()
    }

    /// Finds one of an owner's logins if it is active.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error.
    pub async fn find_active_login(
        &self,
        table: &str,
        owner: &Owner,
        id: LoginId,
    ) -> Result<Option<Login>> {
        let login = self.find_login(table, id, Some(id)).await?;
        Ok(login.filter(|login| {
            login.user_type == owner.user_type
                && login.user_id == owner.user_id
                && self.is_active(login, now_utc())
        }))
    }

    /// Finds a login by id in any state and for any owner. Meant for administrators and
    /// for the per-request check: never pass an id from a request without checking the
    /// owner.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`] or a database error.
    pub async fn find_login(
        &self,
        table: &str,
        id: LoginId,
        current: Option<LoginId>,
    ) -> Result<Option<Login>> {
        let table = validate_table_name(table)?.to_owned();
        let row = self.blocking(move |store| store.find(&table, id)).await?;
        row.map(|row| row.into_login(current)).transpose()
    }

    fn is_active(&self, login: &Login, now: DateTime<Utc>) -> bool {
        let idle = self
            .config
            .idle_timeout
            .and_then(|idle| chrono::Duration::from_std(idle).ok());
        login.is_active(now, idle)
    }

    fn idle_cutoff(&self, now: DateTime<Utc>) -> NaiveDateTime {
        self.config
            .idle_timeout
            .and_then(|idle| chrono::Duration::from_std(idle).ok())
            .map_or(DateTime::UNIX_EPOCH.naive_utc(), |idle| {
                (now - idle).naive_utc()
            })
    }

    async fn blocking<T, F>(&self, task: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn LoginStore) -> Result<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || task(store.as_ref())).await?
    }
}

/// Built-in geolocation providers configured on a tracker.
#[derive(Clone, Default)]
struct BuiltinProviders {
    ip_api: Option<Arc<dyn GeoProvider>>,
    maxmind: Option<Arc<dyn GeoProvider>>,
    ip2location: Option<Arc<dyn GeoProvider>>,
    configured: Option<Arc<dyn GeoProvider>>,
}

/// A geolocation provider ready to call from a spawned task.
#[derive(Clone)]
pub(crate) enum ResolvedProvider {
    Static(&'static dyn GeoProvider),
    Shared(Arc<dyn GeoProvider>),
}

impl ResolvedProvider {
    pub(crate) fn get(&self) -> &dyn GeoProvider {
        match self {
            Self::Static(provider) => *provider,
            Self::Shared(provider) => provider.as_ref(),
        }
    }

    /// Returns an address that identifies the provider instance, for cache keys.
    fn identity(&self) -> usize {
        std::ptr::from_ref(self.get()).cast::<()>() as usize
    }
}

/// Most addresses kept in the geolocation cache.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
const GEOLOCATION_CACHE_CAPACITY: usize = 10_000;

/// Recent geolocation results, per provider instance and address.
pub(crate) struct GeolocationCache {
    entries: quick_cache::sync::Cache<(usize, IpAddr), (std::time::Instant, Option<Location>)>,
}

impl GeolocationCache {
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity),
        }
    }

    /// Returns a result younger than `ttl`, if there is one.
    pub(crate) fn get(
        &self,
        provider: &ResolvedProvider,
        ip: IpAddr,
        ttl: Duration,
    ) -> Option<Option<Location>> {
        let (stored_at, location) = self.entries.get(&(provider.identity(), ip))?;
        (stored_at.elapsed() < ttl).then_some(location)
    }

    pub(crate) fn insert(
        &self,
        provider: &ResolvedProvider,
        ip: IpAddr,
        location: Option<Location>,
    ) {
        self.entries.insert(
            (provider.identity(), ip),
            (std::time::Instant::now(), location),
        );
    }
}

/// Returns the current time at the microsecond precision every backend stores.
fn now_utc() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Returns whether an address is routable on the public internet, so that it may be
/// sent to a geolocation provider.
pub(crate) fn is_public_ip(ip: IpAddr) -> bool {
    match crate::context::normalize_ip(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            let benchmarking = a == 198 && (b == 18 || b == 19);
            let reserved = a >= 240 || a == 0;
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || shared
                || benchmarking
                || reserved)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            let unique_local = (first & 0xfe00) == 0xfc00;
            let link_local = (first & 0xffc0) == 0xfe80;
            let documentation = first == 0x2001 && v6.segments()[1] == 0x0db8;
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local
                || documentation)
        }
    }
}

/// Hides the password of a database URL before it reaches an error message.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}://{user}:***@{}", &url[..scheme_end], &url[at + 1..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ip_excludes_private_ranges() {
        for private in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(
                !is_public_ip(private.parse().unwrap()),
                "{private} is not public"
            );
        }
        for public in [
            "81.2.69.160",
            "8.8.8.8",
            "2a00:1450:4009::1",
            "::ffff:81.2.69.160",
        ] {
            assert!(is_public_ip(public.parse().unwrap()), "{public} is public");
        }
    }

    #[test]
    fn redact_url_hides_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db/app"),
            "postgres://app:***@db/app"
        );
        assert_eq!(redact_url("logins.sqlite3"), "logins.sqlite3");
        assert_eq!(redact_url("mysql://root@db/app"), "mysql://root@db/app");
    }
}
