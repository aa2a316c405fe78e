//! axum integration: a layer that checks each request's login and an extractor for
//! handlers.
//!
//! ```no_run
//! use auth_tracker::Tracker;
//! use auth_tracker::axum::TrackingLayer;
//! use axum::Router;
//! use tower_sessions::{MemoryStore, SessionManagerLayer};
//!
//! # async fn build() -> auth_tracker::Result<Router> {
//! let sessions = MemoryStore::default();
//! let tracker = Tracker::sqlite("logins.sqlite3")?.with_session_store(sessions.clone());
//! tracker.migrate().await?;
//!
//! // The last layer added runs first: sessions, then tracking, then the routes.
//! let app = Router::new()
//!     .layer(TrackingLayer::new(tracker))
//!     .layer(SessionManagerLayer::new(sessions));
//! # Ok(app)
//! # }
//! ```
//!
//! Serve the app with `into_make_service_with_connect_info::<SocketAddr>()` so the
//! layer sees the client address.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use tower::{Layer, Service};
use tower_sessions::Session;

use crate::agent::ClientHints;
use crate::context::RequestContext;
use crate::tracker::{SESSION_KEY, Tracker};
use crate::tracking::{CurrentLogin, Tracking};

type RevokedHook = Arc<dyn Fn(&mut http::Extensions) + Send + Sync>;

/// Layer that puts a [`Tracking`] handle into every request and rejects revoked or
/// expired logins.
///
/// For each request it resolves the client context (the socket peer address and the
/// `User-Agent` header), reads the current login from the session and checks it in the
/// database. A revoked, expired or deleted login has its session flushed, so the
/// request continues unauthenticated. An active login gets its `last_activity_at`
/// written at most once per [`activity_interval`](crate::TrackerConfig::activity_interval).
///
/// Add it inside the session layer (before it, in `Router::layer` order). When the
/// database is unreachable the request is answered with 503 rather than let through
/// unchecked.
#[derive(Clone)]
pub struct TrackingLayer {
    tracker: Tracker,
    on_revoked: Option<RevokedHook>,
}

impl fmt::Debug for TrackingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingLayer")
            .field("tracker", &self.tracker)
            .field("on_revoked", &self.on_revoked.is_some())
            .finish()
    }
}

impl TrackingLayer {
    /// Creates the layer.
    pub fn new(tracker: Tracker) -> Self {
        Self {
            tracker,
            on_revoked: None,
        }
    }

    /// Runs `hook` on the request's extensions when its login turns out revoked, after
    /// the session was flushed. Use it to sign the request out of an authentication
    /// layer that already loaded the user.
    pub fn on_revoked(
        mut self,
        hook: impl Fn(&mut http::Extensions) + Send + Sync + 'static,
    ) -> Self {
        self.on_revoked = Some(Arc::new(hook));
        self
    }

    /// Clears axum-login's [`AuthSession::user`](axum_login::AuthSession) when the login
    /// is revoked, so handlers see the request as signed out at once. axum-login's layer
    /// wraps the session layer, so it loads the user before this layer runs.
    #[cfg(feature = "axum-login")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum-login")))]
    pub fn with_axum_login<B>(self) -> Self
    where
        B: axum_login::AuthnBackend + 'static,
    {
        self.on_revoked(|extensions| {
            if let Some(auth_session) = extensions.get_mut::<axum_login::AuthSession<B>>() {
                auth_session.user = None;
            }
        })
    }
}

impl<S> Layer<S> for TrackingLayer {
    type Service = TrackingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrackingService {
            inner,
            layer: self.clone(),
        }
    }
}

/// Service produced by [`TrackingLayer`].
#[derive(Clone)]
pub struct TrackingService<S> {
    inner: S,
    layer: TrackingLayer,
}

impl<S> fmt::Debug for TrackingService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingService")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl<S> Service<Request> for TrackingService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The ready service is the one that must handle this request, so keep it and
        // leave a fresh clone behind for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();

        Box::pin(async move {
            let context = request_context(&request);
            let session = request.extensions().get::<Session>().cloned();
            let mut tracking = Tracking::new(layer.tracker.clone(), context);

            if let Some(session) = session {
                tracking = tracking.with_session(session.clone());
                match check_session(&layer.tracker, &session).await {
                    Ok(SessionCheck::Anonymous) => {}
                    Ok(SessionCheck::Active(current)) => tracking.set_current(Some(current)),
                    Ok(SessionCheck::Ended(current)) => {
                        tracing::info!(login.id = %current.id, "rejected a revoked or expired login");
                        if let Err(error) = session.flush().await {
                            tracing::warn!(login.id = %current.id, %error, "failed to flush the session of an ended login");
                        }
                        if let Some(hook) = &layer.on_revoked {
                            hook(request.extensions_mut());
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "login check failed");
                        return Ok((
                            StatusCode::SERVICE_UNAVAILABLE,
                            "login check failed, try again",
                        )
                            .into_response());
                    }
                }
            }

            request.extensions_mut().insert(tracking);
            inner.call(request).await
        })
    }
}

enum SessionCheck {
    Anonymous,
    Active(CurrentLogin),
    Ended(CurrentLogin),
}

async fn check_session(tracker: &Tracker, session: &Session) -> crate::Result<SessionCheck> {
    let current = match session.get::<CurrentLogin>(SESSION_KEY).await {
        Ok(Some(current)) => current,
        Ok(None) => return Ok(SessionCheck::Anonymous),
        Err(error) => {
            // A value this layer cannot read is treated as a login that has ended.
            tracing::warn!(%error, "unreadable login in session");
            session.flush().await?;
            return Ok(SessionCheck::Anonymous);
        }
    };
    let session_id = session.id().map(|id| id.to_string());
    match tracker.check_login(&current, session_id).await {
        Ok(Some(_)) => Ok(SessionCheck::Active(current)),
        Ok(None) | Err(crate::Error::InvalidTableName(_)) => Ok(SessionCheck::Ended(current)),
        Err(error) => Err(error),
    }
}

fn request_context(request: &Request) -> RequestContext {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let user_agent = header("user-agent").map(str::to_owned);
    let client_hints = ClientHints::from_headers(
        header("sec-ch-ua-mobile"),
        header("sec-ch-ua-platform"),
        header("sec-ch-ua-model"),
    )
    .with_platform_version(header("sec-ch-ua-platform-version"));
    RequestContext::new(ip, user_agent).with_client_hints(client_hints)
}

/// Rejection of the [`Tracking`] extractor when [`TrackingLayer`] is not installed.
#[derive(Debug, Clone, Copy)]
pub struct MissingTrackingLayer;

impl IntoResponse for MissingTrackingLayer {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "auth-tracker: the Tracking extractor needs TrackingLayer on this route",
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tracking {
    type Rejection = MissingTrackingLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Tracking>()
            .cloned()
            .ok_or(MissingTrackingLayer)
    }
}
