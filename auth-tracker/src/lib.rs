//! Track, list and revoke every login of a web application's users.
//!
//! # Overview
//!
//! auth-tracker records each login (one browser session, or one API token) as a row of a
//! `logins` table, with the parsed User-Agent, the client IP address and, optionally, a
//! geolocation. The application and the user can then list the user's active logins,
//! see which one is current, and revoke one, all, or all but the current one. Revocation
//! is enforced on every request by the axum layer, so a revoked device is signed out at
//! once, even where its session could not be deleted from the session store.
//!
//! # Usage
//!
//! ```no_run
//! use auth_tracker::{AuthTracking, Tracker, Tracking};
//!
//! #[derive(AuthTracking)]
//! struct User {
//!     id: i64,
//!     email: String,
//! }
//!
//! # async fn example(user: User, tracking: Tracking) -> auth_tracker::Result<()> {
//! // In the sign-in handler, right after checking the password, the `axum` feature's
//! // `user.record_session_login(&tracking)` records the login.
//!
//! // On the "where you're signed in" page:
//! for login in user.logins(&tracking).await? {
//!     println!("{:?} {:?} current={}", login.browser, login.location(), login.is_current);
//! }
//!
//! // "Sign out other devices":
//! user.logout_others(&tracking).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Build the [`Tracker`] once at start-up with [`Tracker::connect`], run
//! [`Tracker::migrate`], and, with the `axum` feature, add `axum::TrackingLayer` inside
//! the session layer.
//!
//! # Known limitations
//!
//! - Timestamps come from the application server's clock in UTC. Servers that share a
//!   database should keep their clocks in sync, or idle expiry and the activity
//!   throttle drift by the skew.
//! - A login racing a concurrent "sign out other devices" of the same user may survive
//!   it when its row is inserted after the revoke's transaction committed. That login
//!   was made after the revoke and is listed as usual.
//! - The per-request check reads the login row on every authenticated request. The
//!   activity write is throttled, the read is not.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod agent;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod client_ip;
pub mod context;
mod error;
pub mod events;
pub mod geo;
pub mod migrations;
mod model;
pub mod schema;
mod secret;
mod store;
mod table;
mod tracker;
mod tracking;

#[doc(hidden)]
pub mod __fuzz;
#[doc(hidden)]
pub mod __private;

pub use agent::{DeviceType, ParsedUserAgent, UserAgentParser};
pub use auth_tracker_derive::AuthTracking;
pub use context::RequestContext;
pub use error::{Error, Result};
pub use geo::{GeoProvider, Location};
pub use model::{Login, LoginId, LoginKind, Owner, RevokeReason};
pub use secret::PlainToken;
pub use tracker::{
    Enrichment, LoginOptions, NewToken, PruneOptions, PruneReport, RevokeFuture, RevokeScope,
    RevokedToken, TokenRevoker, Tracker, TrackerConfig,
};
pub use tracking::{AuthTracking, CurrentLogin, Tracking};
