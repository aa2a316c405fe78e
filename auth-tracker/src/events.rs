//! Typed events about logins, delivered to listeners registered on the [`Tracker`](crate::Tracker).
//!
//! Listeners run on the task that caused the event, right after the database change, so
//! they should return quickly: spawn a task for slow work such as sending mail. Events
//! carry no secret: no session id, token, verifier or hash.

use std::fmt;
use std::sync::Arc;

use crate::model::{Login, LoginId, LoginKind, Owner, RevokeReason};

/// A login was recorded: a session sign-in, a created API token or an application token.
///
/// Not fired when a remember-me cookie binds an existing login to a new session.
#[derive(Clone, Debug)]
pub struct NewLogin {
    /// The login, enriched with what was known when the event fired. When a geolocation
    /// provider is configured, the event waits for the lookup (bounded by its timeout).
    pub login: Login,
    /// Whether the user has no earlier login, in any state, with the same browser,
    /// platform and device families. Logins recorded after this one never count, so two
    /// quick sign-ins from a new device both report it.
    pub new_device: bool,
    /// Whether the user has no earlier login, in any state, located in the same country.
    /// `None` when the country of this login is unknown.
    pub new_country: Option<bool>,
}

/// A login was revoked.
#[derive(Clone, Debug)]
pub struct LoginRevoked {
    /// The revoked login.
    pub login_id: LoginId,
    /// Session or token.
    pub kind: LoginKind,
    /// Token name or device label.
    pub name: Option<String>,
    /// Owner of the login.
    pub owner: Owner,
    /// Reason for the revocation.
    pub reason: RevokeReason,
    /// The login whose request revoked it, or `None` when the application or the tracker
    /// itself did (a theft signal, an administrator call).
    pub revoked_by: Option<LoginId>,
}

/// A personal API token was created. The plain token is not part of the event.
#[derive(Clone, Debug)]
pub struct TokenCreated {
    /// The token's login.
    pub login: Login,
}

/// A geolocation lookup failed or timed out. The login keeps empty location columns.
#[derive(Clone, Debug)]
pub struct GeolocationFailed {
    /// The login that was being located.
    pub login_id: LoginId,
    /// Description of the failure, for logs.
    pub error: String,
}

type Listener<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// Listeners registered on a tracker.
#[derive(Clone, Default)]
pub(crate) struct Listeners {
    pub(crate) new_login: Vec<Listener<NewLogin>>,
    pub(crate) login_revoked: Vec<Listener<LoginRevoked>>,
    pub(crate) token_created: Vec<Listener<TokenCreated>>,
    pub(crate) geolocation_failed: Vec<Listener<GeolocationFailed>>,
}

impl Listeners {
    pub(crate) fn emit<E>(listeners: &[Listener<E>], event: &E) {
        for listener in listeners {
            listener(event);
        }
    }
}

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listeners")
            .field("new_login", &self.new_login.len())
            .field("login_revoked", &self.login_revoked.len())
            .field("token_created", &self.token_created.len())
            .field("geolocation_failed", &self.geolocation_failed.len())
            .finish()
    }
}
