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
//! layer receives the client address.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tower::{Layer, Service};
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite, time};

use crate::agent::ClientHints;
use crate::client_ip::{self, ClientIp, ClientIpConfig};
use crate::context::RequestContext;
use crate::tracker::check::RememberCheck;
use crate::tracker::{SESSION_KEY, Tracker};
use crate::tracking::{CurrentLogin, RememberCookie, Tracking};

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// An authentication layer that loaded the user before this layer ran, and must learn
/// what this layer decided about the request.
trait AuthIntegration: Send + Sync + 'static {
    /// Signs the request out: its login was revoked or its credential is invalid.
    fn sign_out(&self, extensions: &mut http::Extensions);

    /// Signs the request in as the owner of a login authenticated by a bearer token
    /// (`persist` false) or a remember-me cookie (`persist` true, kept in the session).
    fn sign_in<'a>(
        &'a self,
        extensions: &'a mut http::Extensions,
        user_id: &'a str,
        persist: bool,
    ) -> BoxFuture<'a>;
}

/// Layer that puts a [`Tracking`] handle into every request and authenticates it by its
/// login.
///
/// For each request it resolves the client context (the socket peer address, the
/// `User-Agent` header and Client Hints), then finds the current login:
///
/// - an `Authorization: Bearer` personal API token, checked with one database lookup;
///   an invalid token leaves the request unauthenticated, whatever its cookies;
/// - otherwise the login stored in the session. A revoked, expired or deleted login has
///   its session flushed, so the request continues unauthenticated;
/// - otherwise a remember-me cookie, which binds its login to a new session: no new row
///   and no new-login event.
///
/// An active login gets its `last_activity_at` written at most once per
/// [`activity_interval`](crate::TrackerConfig::activity_interval). The layer also writes
/// the remember-me cookie that handlers set or clear through the tracker.
///
/// Add it inside the session layer (before it, in `Router::layer` order). When the
/// database is unreachable, the request is answered with 503 rather than let through
/// unchecked.
#[derive(Clone)]
pub struct TrackingLayer {
    tracker: Tracker,
    table: Arc<str>,
    client_ip: Arc<ClientIpConfig>,
    integration: Option<Arc<dyn AuthIntegration>>,
}

impl fmt::Debug for TrackingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingLayer")
            .field("tracker", &self.tracker)
            .field("table", &self.table)
            .field("client_ip", &self.client_ip)
            .field("integration", &self.integration.is_some())
            .finish()
    }
}

impl TrackingLayer {
    /// Creates the layer. Bearer tokens and remember-me cookies are looked up in the
    /// default `logins` table.
    pub fn new(tracker: Tracker) -> Self {
        Self {
            tracker,
            table: Arc::from("logins"),
            client_ip: Arc::default(),
            integration: None,
        }
    }

    /// Resolves the client IP address behind trusted proxies. By default the layer
    /// records the socket peer address and ignores forwarding headers. A
    /// [`ClientIp`] in the request's extensions, put there by an earlier layer of the
    /// application, takes precedence over both.
    pub fn with_client_ip(mut self, config: ClientIpConfig) -> Self {
        self.client_ip = Arc::new(config);
        self
    }

    /// Looks up bearer tokens and remember-me cookies in `table`, for user models with a
    /// custom `table` attribute.
    pub fn with_table(mut self, table: &str) -> Self {
        self.table = Arc::from(table);
        self
    }

    /// Keeps axum-login's [`AuthSession`](axum_login::AuthSession) in step with this
    /// layer: its `user` is cleared when the login is revoked or the bearer token is
    /// invalid, loaded for a valid bearer token, and signed in (kept in the session) when
    /// a remember-me cookie starts a new session. axum-login's layer wraps the session
    /// layer, so it loads the user before this layer runs.
    #[cfg(feature = "axum-login")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum-login")))]
    pub fn with_axum_login<B>(mut self) -> Self
    where
        B: axum_login::AuthnBackend + 'static,
    {
        self.integration = Some(Arc::new(AxumLogin::<B>(std::marker::PhantomData)));
        self
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
            let context = request_context(&request, &layer.client_ip);
            let mut tracking = Tracking::new(layer.tracker.clone(), context);
            let session = request.extensions().get::<Session>().cloned();
            if let Some(session) = &session {
                tracking = tracking.with_session(session.clone());
            }

            if let Err(error) = layer
                .authenticate(&tracking, &mut request, session.as_ref())
                .await
            {
                tracing::error!(%error, "login check failed");
                return Ok((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "login check failed, try again",
                )
                    .into_response());
            }

            request.extensions_mut().insert(tracking.clone());
            let mut response = inner.call(request).await?;
            if let Some(change) = tracking.take_remember_cookie() {
                layer.write_remember_cookie(response.headers_mut(), change);
            }
            Ok(response)
        })
    }
}

impl TrackingLayer {
    async fn authenticate(
        &self,
        tracking: &Tracking,
        request: &mut Request,
        session: Option<&Session>,
    ) -> crate::Result<()> {
        if let Some(token) = bearer_token(request.headers()) {
            let token = token.to_owned();
            return self.authenticate_token(tracking, request, &token).await;
        }
        let Some(session) = session else {
            return Ok(());
        };

        match check_session(&self.tracker, session).await? {
            SessionCheck::Active(current) => {
                tracking.set_current(Some(current));
                return Ok(());
            }
            SessionCheck::Ended(current) => {
                tracing::info!(login.id = %current.id, "rejected a revoked or expired login");
                if let Err(error) = session.flush().await {
                    tracing::warn!(login.id = %current.id, %error, "failed to flush the session of an ended login");
                }
                if let Some(integration) = &self.integration {
                    integration.sign_out(request.extensions_mut());
                }
            }
            SessionCheck::Anonymous => {}
        }

        let cookie_name = self.tracker.config().remember_cookie_name.clone();
        if let Some(cookie) = read_cookie(request.headers(), &cookie_name) {
            self.authenticate_remembered(tracking, request, session, &cookie)
                .await?;
        }
        Ok(())
    }

    async fn authenticate_token(
        &self,
        tracking: &Tracking,
        request: &mut Request,
        token: &str,
    ) -> crate::Result<()> {
        match self.tracker.check_token(&self.table, token).await? {
            Some(login) => {
                tracking.set_current(Some(CurrentLogin {
                    id: login.id,
                    table: self.table.to_string(),
                }));
                if let Some(integration) = &self.integration {
                    integration
                        .sign_in(request.extensions_mut(), &login.user_id, false)
                        .await;
                }
            }
            None => {
                tracing::info!("rejected an invalid bearer token");
                if let Some(integration) = &self.integration {
                    integration.sign_out(request.extensions_mut());
                }
            }
        }
        Ok(())
    }

    /// Binds the login of a valid remember-me cookie to this request's session.
    async fn authenticate_remembered(
        &self,
        tracking: &Tracking,
        request: &mut Request,
        session: &Session,
        cookie: &str,
    ) -> crate::Result<()> {
        let login = match self.tracker.check_remember(&self.table, cookie).await? {
            RememberCheck::Valid(login) => login,
            RememberCheck::Invalid | RememberCheck::Theft => {
                tracking.set_remember_cookie(RememberCookie::Clear);
                return Ok(());
            }
        };
        let current = CurrentLogin {
            id: login.id,
            table: self.table.to_string(),
        };

        // The session is new to this login, so it gets a fresh id like any sign-in.
        session.cycle_id().await?;
        session.insert(SESSION_KEY, &current).await?;
        if let Some(integration) = &self.integration {
            integration
                .sign_in(request.extensions_mut(), &login.user_id, true)
                .await;
        }
        session.save().await?;

        let session_id = session.id().map(|id| id.to_string()).unwrap_or_default();
        if self
            .tracker
            .bind_session(&self.table, login.id, session_id)
            .await?
        {
            tracing::info!(login.id = %login.id, "remember-me cookie bound a new session");
            tracking.set_current(Some(current));
        } else {
            // Revoked between the check and the bind.
            session.flush().await?;
            tracking.set_remember_cookie(RememberCookie::Clear);
            if let Some(integration) = &self.integration {
                integration.sign_out(request.extensions_mut());
            }
        }
        Ok(())
    }

    fn write_remember_cookie(&self, headers: &mut HeaderMap, change: RememberCookie) {
        let config = self.tracker.config();
        let cookie = match change {
            RememberCookie::Set(value) => {
                let max_age = time::Duration::seconds(
                    i64::try_from(config.remember_lifetime.as_secs()).unwrap_or(i64::MAX),
                );
                Cookie::build((config.remember_cookie_name.clone(), value)).max_age(max_age)
            }
            RememberCookie::Clear => Cookie::build((config.remember_cookie_name.clone(), ""))
                .max_age(time::Duration::ZERO)
                .expires(time::OffsetDateTime::UNIX_EPOCH),
        }
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.remember_cookie_secure)
        .build();
        // The value is base64url with one `:`, all valid cookie octets (RFC 6265), so it
        // is written unencoded and read back as is.
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(value) => {
                headers.append(header::SET_COOKIE, value);
            }
            Err(error) => tracing::error!(%error, "remember-me cookie is not a valid header value"),
        }
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
    match tracker.check_session_login(&current, session_id).await {
        Ok(Some(_)) => Ok(SessionCheck::Active(current)),
        Ok(None) | Err(crate::Error::InvalidTableName(_)) => Ok(SessionCheck::Ended(current)),
        Err(error) => Err(error),
    }
}

/// Returns the credentials of an `Authorization: Bearer` header. The scheme name is
/// case-insensitive, as HTTP authentication schemes are.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Returns the value of the named cookie from the `Cookie` headers.
pub(crate) fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

pub(crate) fn request_context(request: &Request, client_ip: &ClientIpConfig) -> RequestContext {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let injected = request
        .extensions()
        .get::<ClientIp>()
        .map(|ClientIp(ip)| *ip);
    let ip = injected.or_else(|| {
        let peer = peer?;
        let header_name = client_ip.source.header_name()?;
        Some(client_ip::resolve(
            peer,
            request.headers().get_all(header_name),
            client_ip,
        ))
    });
    let ip = ip.or(peer);
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

#[cfg(feature = "axum-login")]
struct AxumLogin<B>(std::marker::PhantomData<fn() -> B>);

#[cfg(feature = "axum-login")]
impl<B> AuthIntegration for AxumLogin<B>
where
    B: axum_login::AuthnBackend + 'static,
{
    fn sign_out(&self, extensions: &mut http::Extensions) {
        if let Some(auth_session) = extensions.get_mut::<axum_login::AuthSession<B>>() {
            auth_session.user = None;
        }
    }

    fn sign_in<'a>(
        &'a self,
        extensions: &'a mut http::Extensions,
        user_id: &'a str,
        persist: bool,
    ) -> BoxFuture<'a> {
        Box::pin(async move {
            let Some(mut auth_session) = extensions.get::<axum_login::AuthSession<B>>().cloned()
            else {
                return;
            };
            // Keys are stored as text: numbers parse as JSON, anything else as a string.
            let id = serde_json::from_str::<axum_login::UserId<B>>(user_id)
                .or_else(|_| serde_json::from_value(serde_json::Value::String(user_id.to_owned())));
            let Ok(id) = id else {
                tracing::warn!(
                    user.id = user_id,
                    "stored user key does not parse as the axum-login user id"
                );
                return;
            };
            let user = match auth_session.backend.get_user(&id).await {
                Ok(Some(user)) => user,
                Ok(None) => {
                    tracing::warn!(
                        user.id = user_id,
                        "the user of an active login no longer exists"
                    );
                    return;
                }
                Err(error) => {
                    tracing::error!(user.id = user_id, %error, "loading the user of a login failed");
                    return;
                }
            };
            if persist {
                if let Err(error) = auth_session.login(&user).await {
                    tracing::error!(user.id = user_id, %error, "signing in a remembered user failed");
                    return;
                }
            } else {
                auth_session.user = Some(user);
            }
            extensions.insert(auth_session);
        })
    }
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
