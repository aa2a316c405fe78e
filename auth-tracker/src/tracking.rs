//! The per-request tracking handle and the trait that `#[derive(AuthTracking)]` implements.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::agent::UserAgentParser;
use crate::context::RequestContext;
use crate::error::Result;
use crate::geo::ProviderChoice;
use crate::model::{Login, LoginId, Owner, RevokeReason};
#[cfg(feature = "axum")]
use crate::tracker::LoginOptions;
use crate::tracker::{NewToken, RevokeScope, Tracker};

/// The login making the current request, as stored in its session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CurrentLogin {
    /// Login id.
    pub id: LoginId,
    /// Table the login row lives in.
    pub table: String,
}

/// Tracking handle of one request: the tracker, the request's client context, its
/// session and its current login.
///
/// The axum layer puts one into every request, and handlers extract it. Outside axum,
/// build one with [`Tracking::new`]. Clones share the current login, so a login recorded
/// through one clone is current for all of them.
///
/// Its `Debug` output shows whether a session is attached but not the session, whose
/// own `Debug` prints the session id.
#[derive(Clone)]
pub struct Tracking {
    tracker: Tracker,
    request: RequestContext,
    #[cfg(feature = "axum")]
    session: Option<tower_sessions::Session>,
    current: Arc<Mutex<Option<CurrentLogin>>>,
    remember_cookie: Arc<Mutex<Option<RememberCookie>>>,
}

/// Change to the remember-me cookie that the layer writes into the response.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum RememberCookie {
    /// Set the cookie to this value, `selector:verifier`.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    Set(String),
    /// Remove the cookie.
    Clear,
}

impl std::fmt::Debug for RememberCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Set(_) => f.write_str("Set([redacted])"),
            Self::Clear => f.write_str("Clear"),
        }
    }
}

impl std::fmt::Debug for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Tracking");
        debug
            .field("tracker", &self.tracker)
            .field("request", &self.request);
        #[cfg(feature = "axum")]
        debug.field("has_session", &self.session.is_some());
        debug
            .field("current", &self.current())
            .field("remember_cookie", &self.remember_cookie)
            .finish()
    }
}

impl Tracking {
    /// Creates a handle for a request with no current login.
    pub fn new(tracker: Tracker, request: RequestContext) -> Self {
        Self {
            tracker,
            request,
            #[cfg(feature = "axum")]
            session: None,
            current: Arc::default(),
            remember_cookie: Arc::default(),
        }
    }

    /// Attaches the request's session, which session logins are bound to.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn with_session(mut self, session: tower_sessions::Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Sets the current login, for callers that authenticate requests themselves.
    pub fn with_current(self, current: Option<CurrentLogin>) -> Self {
        self.set_current(current);
        self
    }

    /// Returns the tracker.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// Returns the request's client context.
    pub fn request(&self) -> &RequestContext {
        &self.request
    }

    /// Returns the request's session, if the session layer runs.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn session(&self) -> Option<&tower_sessions::Session> {
        self.session.as_ref()
    }

    /// Returns the login making this request, if it is authenticated by one.
    pub fn current(&self) -> Option<CurrentLogin> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Returns the current login's id when it lives in `table`.
    pub fn current_id_in(&self, table: &str) -> Option<LoginId> {
        self.current()
            .filter(|current| current.table == table)
            .map(|current| current.id)
    }

    pub(crate) fn set_current(&self, current: Option<CurrentLogin>) {
        *self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = current;
    }

    pub(crate) fn set_remember_cookie(&self, change: RememberCookie) {
        *self
            .remember_cookie
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(change);
    }

    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn take_remember_cookie(&self) -> Option<RememberCookie> {
        self.remember_cookie
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

/// Login tracking for a user model, implemented by `#[derive(AuthTracking)]`.
///
/// The derive supplies the four required items from its attributes. The provided
/// methods list and revoke the user's logins and record new ones. Each takes the
/// request's [`Tracking`] handle, which carries the current login.
///
/// When the user type already has an inherent method with one of these names, method
/// syntax picks the inherent one. Reach the tracking method with the trait path, for
/// example `AuthTracking::logins(&user, &tracking)`.
///
/// # Example
///
/// ```no_run
/// use auth_tracker::{AuthTracking, Tracking};
///
/// #[derive(AuthTracking)]
/// #[auth_tracking(parser = uaparser)]
/// struct User {
///     id: i64,
///     email: String,
/// }
///
/// async fn sign_out_elsewhere(user: &User, tracking: &Tracking) -> auth_tracker::Result<()> {
///     let revoked = user.logout_others(tracking).await?;
///     println!("signed out of {revoked} other devices");
///     Ok(())
/// }
/// ```
pub trait AuthTracking {
    /// Value of the `user_type` column for this model.
    const USER_TYPE: &'static str;

    /// Name of the logins table.
    const LOGINS_TABLE: &'static str;

    /// Returns the user's key as text, stored in `user_id`.
    fn tracking_user_id(&self) -> String;

    /// Returns the User-Agent parser for this model's logins.
    fn user_agent_parser() -> &'static dyn UserAgentParser;

    /// Returns the geolocation provider for this model's logins.
    fn ip_provider() -> ProviderChoice;

    /// Returns the owner of this user's logins.
    fn tracking_owner(&self) -> Owner {
        Owner {
            user_type: Self::USER_TYPE.to_owned(),
            user_id: self.tracking_user_id(),
        }
    }

    /// Lists the user's active logins, most recent activity first, marking the current one.
    fn logins(&self, tracking: &Tracking) -> impl Future<Output = Result<Vec<Login>>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            let current = tracking.current_id_in(Self::LOGINS_TABLE);
            tracking
                .tracker()
                .list_logins(Self::LOGINS_TABLE, &owner, current)
                .await
        }
    }

    /// Returns the login making the current request, or `None` when there is none
    /// (an unauthenticated request, or another user's login).
    fn current_login(
        &self,
        tracking: &Tracking,
    ) -> impl Future<Output = Result<Option<Login>>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            let Some(current) = tracking.current_id_in(Self::LOGINS_TABLE) else {
                return Ok(None);
            };
            tracking
                .tracker()
                .find_active_login(Self::LOGINS_TABLE, &owner, current)
                .await
        }
    }

    /// Revokes one of the user's logins.
    ///
    /// Returns `true` when this call revoked it and `false` when it was already revoked.
    ///
    /// # Errors
    ///
    /// [`Error::LoginNotFound`](crate::Error::LoginNotFound) when no login with that id
    /// belongs to this user.
    fn logout(
        &self,
        tracking: &Tracking,
        id: LoginId,
    ) -> impl Future<Output = Result<bool>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            let current = tracking.current_id_in(Self::LOGINS_TABLE);
            let reason = if current == Some(id) {
                RevokeReason::Logout
            } else {
                RevokeReason::Revoked
            };
            let revoked = tracking
                .tracker()
                .revoke(
                    Self::LOGINS_TABLE,
                    &owner,
                    RevokeScope::One(id),
                    reason,
                    current,
                )
                .await?;
            if current == Some(id) {
                tracking.set_remember_cookie(RememberCookie::Clear);
            }
            Ok(revoked > 0)
        }
    }

    /// Revokes every login of the user, the current one included. Returns how many
    /// logins this call revoked.
    fn logout_all(&self, tracking: &Tracking) -> impl Future<Output = Result<u64>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            let current = tracking.current_id_in(Self::LOGINS_TABLE);
            let revoked = tracking
                .tracker()
                .revoke(
                    Self::LOGINS_TABLE,
                    &owner,
                    RevokeScope::All,
                    RevokeReason::RevokedAll,
                    current,
                )
                .await?;
            tracking.set_remember_cookie(RememberCookie::Clear);
            Ok(revoked)
        }
    }

    /// Revokes every login of the user except the current one. Returns how many logins
    /// this call revoked. Without a current login it revokes them all.
    fn logout_others(&self, tracking: &Tracking) -> impl Future<Output = Result<u64>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            let current = tracking.current_id_in(Self::LOGINS_TABLE);
            tracking
                .tracker()
                .revoke(
                    Self::LOGINS_TABLE,
                    &owner,
                    RevokeScope::AllExcept(current),
                    RevokeReason::RevokedOthers,
                    current,
                )
                .await
        }
    }

    /// Records a session login for this user, right after the application authenticated
    /// them: cycles the session id, stores the login id in the session and inserts the
    /// row with the final session id. The new login becomes the current one.
    ///
    /// # Errors
    ///
    /// [`Error::NoSession`](crate::Error::NoSession) without a session, and database or
    /// session-store errors. Parsing and geolocation never fail the call.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    fn record_session_login(
        &self,
        tracking: &Tracking,
    ) -> impl Future<Output = Result<Login>> + Send {
        self.record_session_login_with(tracking, LoginOptions::default())
    }

    /// Records a session login with options, such as a remember-me cookie that lets the
    /// login outlive its session. See [`AuthTracking::record_session_login`].
    ///
    /// # Errors
    ///
    /// As [`AuthTracking::record_session_login`].
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    fn record_session_login_with(
        &self,
        tracking: &Tracking,
        options: LoginOptions,
    ) -> impl Future<Output = Result<Login>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        async move {
            tracking
                .tracker()
                .record_session_login(
                    Self::LOGINS_TABLE,
                    owner,
                    Self::enrichment(),
                    &tracking,
                    options,
                )
                .await
        }
    }

    /// Creates a personal API token named `name` for this user. The returned
    /// [`NewToken`] contains the token in clear, to show once.
    ///
    /// # Errors
    ///
    /// Database errors.
    fn create_token(
        &self,
        tracking: &Tracking,
        name: &str,
    ) -> impl Future<Output = Result<NewToken>> + Send {
        let owner = self.tracking_owner();
        let tracking = tracking.clone();
        let name = name.to_owned();
        async move {
            tracking
                .tracker()
                .create_token(
                    Self::LOGINS_TABLE,
                    owner,
                    &name,
                    Self::enrichment(),
                    tracking.request(),
                )
                .await
        }
    }

    /// Returns this model's User-Agent parser and geolocation provider.
    fn enrichment() -> crate::tracker::Enrichment {
        crate::tracker::Enrichment {
            parser: Self::user_agent_parser(),
            ip_provider: Self::ip_provider(),
        }
    }
}
