//! auth-tracker demo: a "where you're signed in" page and JSON API on axum, with
//! tower-sessions and axum-login.
//!
//! [`build`] assembles the application; `main.rs` serves it. The end-to-end tests in
//! the workspace's `tests` crate call [`build`] and [`serve`] on a loopback port.

use std::net::SocketAddr;

use auth_tracker::axum::TrackingLayer;
use auth_tracker::{Tracker, TrackerConfig};
use axum::Router;
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

pub use users::DEMO_ACCOUNTS;

/// Default database: a SQLite file in the working folder.
pub const DEFAULT_DATABASE_URL: &str = "security-page.sqlite3";

/// Error of [`build`].
#[derive(Debug, thiserror::Error)]
#[error("failed to open the logins database: {0}")]
pub struct BuildError(#[from] auth_tracker::Error);

/// Returns the demo's tracker settings: the defaults, with a remember-me cookie that
/// plain HTTP on loopback can carry.
pub fn demo_config() -> TrackerConfig {
    let mut config = TrackerConfig::default();
    // Browsers drop `Secure` cookies on plain HTTP, which the demo serves.
    config.remember_cookie_secure = false;
    config
}

/// Opens and migrates the database, seeds the demo accounts and assembles the router,
/// with [`demo_config`].
///
/// `database_url` is a SQLite path or a `postgres://` URL.
///
/// # Errors
///
/// [`BuildError`] when the database cannot be opened or migrated.
pub async fn build(database_url: &str) -> Result<Router, BuildError> {
    build_with_config(database_url, demo_config()).await
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
    let tracker = Tracker::connect(database_url)?.with_config(config);
    tracker.migrate().await?;

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
        .layer(TrackingLayer::new(tracker).with_axum_login::<users::Users>())
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
