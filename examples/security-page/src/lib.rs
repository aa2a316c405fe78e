//! auth-tracker demo: a "where you're signed in" page and JSON API on axum, with
//! tower-sessions and axum-login.
//!
//! [`build`] assembles the application; `main.rs` serves it. The end-to-end tests in
//! the workspace's `tests` crate call [`build`] and [`serve`] on a loopback port.

use std::net::SocketAddr;

use auth_tracker::axum::TrackingLayer;
use std::path::PathBuf;

use auth_tracker::client_ip::{ClientIpConfig, ForwardedSource};
use auth_tracker::geo::ip_api::IpApi;
use auth_tracker::geo::maxmind::MaxMind;
use auth_tracker::{Tracker, TrackerConfig};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum_login::AuthManagerLayerBuilder;
use tokio::net::TcpListener;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, MemoryStore, SessionManagerLayer};

mod guard;
mod pages;
mod routes;
pub mod users;

pub use auth_tracker::client_ip::{IpNet, parse_trusted_proxies};
pub use users::DEMO_ACCOUNTS;

/// Default database: a SQLite file in the working folder.
pub const DEFAULT_DATABASE_URL: &str = "security-page.sqlite3";

/// Largest request body the demo's forms and JSON extractors read, in bytes. Its bodies
/// are a few hundred bytes, so a larger one is rejected with 413 Payload Too Large.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Returns the demo's tracker settings: the defaults, with a remember-me cookie that
/// plain HTTP on loopback can carry.
pub fn demo_config() -> TrackerConfig {
    let mut config = TrackerConfig::default();
    // Browsers drop `Secure` cookies on plain HTTP, which the demo serves.
    config.remember_cookie_secure = false;
    config
}

/// Everything the demo can be configured with. Its `Debug` output hides a database URL
/// that carries credentials.
#[derive(Clone)]
pub struct Settings {
    /// SQLite path or `postgres://` URL of the logins database.
    pub database_url: String,
    /// Proxies whose `X-Forwarded-For` headers are believed. Empty: the socket peer is
    /// the client.
    pub trusted_proxies: Vec<IpNet>,
    /// MaxMind-format `.mmdb` file to geolocate with.
    pub geoip_mmdb: Option<PathBuf>,
    /// Base URL of an ip-api compatible endpoint (`{url}/json/{ip}`) to geolocate with.
    pub ip_api_url: Option<String>,
    /// Tracker settings.
    pub tracker: TrackerConfig,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL with `@` may carry a user name and password, and a SQLite path never does.
        let database_url = if self.database_url.contains('@') {
            "[redacted]"
        } else {
            self.database_url.as_str()
        };
        f.debug_struct("Settings")
            .field("database_url", &database_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("geoip_mmdb", &self.geoip_mmdb)
            .field("ip_api_url", &self.ip_api_url)
            .field("tracker", &self.tracker)
            .finish()
    }
}

impl Settings {
    /// Settings for a database, with no proxies, no geolocation and [`demo_config`].
    pub fn new(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            trusted_proxies: Vec::new(),
            geoip_mmdb: None,
            ip_api_url: None,
            tracker: demo_config(),
        }
    }
}

/// Error of [`build_with`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The logins database could not be opened or migrated.
    #[error("failed to open the logins database: {0}")]
    Database(#[from] auth_tracker::Error),
    /// The geolocation source could not be set up.
    #[error("failed to set up geolocation: {0}")]
    Geolocation(#[from] auth_tracker::geo::GeoError),
}

/// Opens and migrates the database, seeds the demo accounts and assembles the router,
/// with [`demo_config`].
///
/// `database_url` is a SQLite path, a `postgres://` URL or a `mysql://` URL.
///
/// # Errors
///
/// [`BuildError`] when the database cannot be opened or migrated.
pub async fn build(database_url: &str) -> Result<Router, BuildError> {
    build_with(Settings::new(database_url)).await
}

/// Builds the demo with other tracker settings, such as short lifetimes in tests.
///
/// # Errors
///
/// [`BuildError`] when the database cannot be opened or migrated.
pub async fn build_with_config(
    database_url: &str,
    config: TrackerConfig,
) -> Result<Router, BuildError> {
    let mut settings = Settings::new(database_url);
    settings.tracker = config;
    build_with(settings).await
}

/// Builds the demo from its full settings.
///
/// # Errors
///
/// [`BuildError`] when the database cannot be opened or migrated, or the geolocation
/// file or URL is unusable.
pub async fn build_with(settings: Settings) -> Result<Router, BuildError> {
    let mut tracker = Tracker::connect(&settings.database_url)?.with_config(settings.tracker);
    tracker.migrate().await?;
    if let Some(path) = &settings.geoip_mmdb {
        tracker = tracker.with_geo_provider(MaxMind::open(path)?);
    } else if let Some(url) = &settings.ip_api_url {
        tracker = tracker.with_geo_provider(IpApi::builder().base_url(url.clone()).build()?);
    }
    let source = if settings.trusted_proxies.is_empty() {
        ForwardedSource::None
    } else {
        ForwardedSource::XForwardedFor
    };
    let client_ip = ClientIpConfig::new(settings.trusted_proxies, source);

    // NOTE: sessions live in memory, so a restart signs every browser out; their logins
    // then end at the idle timeout. A persistent tower-sessions store lifts this.
    let sessions = MemoryStore::default();
    let tracker = tracker.with_session_store(sessions.clone());
    let session_layer = SessionManagerLayer::new(sessions)
        // The demo serves plain HTTP on loopback, where browsers drop `Secure` cookies.
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(Duration::hours(2)));
    let auth_layer = AuthManagerLayerBuilder::new(users::Users::seeded(), session_layer).build();

    let router = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/security") }),
        )
        .route("/login", get(routes::login_page).post(routes::login))
        .route("/logout", post(routes::logout))
        .route("/security", get(routes::security))
        .route("/api/logins", get(routes::api_logins))
        .route("/api/tokens", post(routes::create_token))
        .route("/logins/{id}/revoke", post(routes::revoke_one))
        .route("/logins/revoke-others", post(routes::revoke_others))
        .route("/logins/revoke-all", post(routes::revoke_all))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            TrackingLayer::new(tracker)
                .with_client_ip(client_ip)
                .with_axum_login::<users::Users>(),
        )
        .layer(auth_layer)
        .layer(middleware::from_fn(guard::reject_cross_site));
    Ok(router)
}

/// Serves `router` on `listener` until the process ends, passing each client's socket
/// address to the tracking layer.
///
/// # Errors
///
/// Accept errors of the listener.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn settings_debug_hides_database_password() {
        let settings = Settings::new("postgres://app:s3cret@127.0.0.1:5432/app");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cret"), "{debug}");

        let sqlite = Settings::new("security-page.sqlite3");
        assert!(
            format!("{sqlite:?}").contains("security-page.sqlite3"),
            "a SQLite path stays readable"
        );
    }
}
