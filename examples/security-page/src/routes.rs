//! Route handlers of the demo's HTTP contract.

use auth_tracker::{AuthTracking, Error as TrackerError, LoginId, LoginOptions, Tracking};
use axum::Json;
use axum::extract::{Form, FromRequest, Path, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::pages;
use crate::users::{Credentials, User, Users};

type AuthSession = axum_login::AuthSession<Users>;

/// Fields of the sign-in form.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    /// `on` when the "remember me" box is ticked.
    #[serde(default)]
    remember: Option<String>,
}

/// Handler error, logged and returned to the client as a 503 response when the database
/// is unavailable and as a 500 response otherwise.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// The tracker failed.
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    /// axum-login failed.
    #[error("authentication failed: {0}")]
    Auth(#[from] axum_login::Error<Users>),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Tracker(TrackerError::LoginNotFound)) {
            return (StatusCode::NOT_FOUND, "login not found").into_response();
        }
        tracing::error!(error = %self, "request failed");
        if let Self::Tracker(error) = &self
            && error.is_unavailable()
        {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable, try again later",
            )
                .into_response();
        }
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}

/// Returns the signed-in user, or the response that turns the request away.
///
/// Both axum-login's user and a tracked current login are required, so a session whose
/// login was never recorded is not accepted either.
// The rejection is an axum response like a handler's, and is built once per request.
#[allow(clippy::result_large_err)]
fn signed_in(
    auth: &AuthSession,
    tracking: &Tracking,
    headers: &HeaderMap,
    api: bool,
) -> Result<(User, LoginId), Response> {
    let current = tracking.current().map(|current| current.id);
    match (auth.user.clone(), current) {
        (Some(user), Some(current)) => Ok((user, current)),
        // A rejected bearer token gets the scheme the route expects (RFC 6750).
        _ if headers.contains_key(header::AUTHORIZATION) => Err((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "not signed in" })),
        )
            .into_response()),
        _ if api || wants_json(headers) => Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "not signed in" })),
        )
            .into_response()),
        _ => Err(Redirect::to("/login").into_response()),
    }
}

/// API clients, recognised by `Accept: application/json` or a bearer token, get JSON
/// instead of redirects.
fn wants_json(headers: &HeaderMap) -> bool {
    let accepts_json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    accepts_json || headers.contains_key(header::AUTHORIZATION)
}

/// `GET /login`
pub(crate) async fn login_page(auth: AuthSession, tracking: Tracking) -> Response {
    if auth.user.is_some() && tracking.current().is_some() {
        return Redirect::to("/security").into_response();
    }
    Html(pages::login(None).into_string()).into_response()
}

/// `POST /login`
pub(crate) async fn login(
    mut auth: AuthSession,
    tracking: Tracking,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let credentials = Credentials {
        email: form.email,
        password: form.password,
    };
    let Some(user) = auth.authenticate(credentials).await? else {
        let page = pages::login(Some("Invalid email or password."));
        return Ok((StatusCode::UNAUTHORIZED, Html(page.into_string())).into_response());
    };

    auth.login(&user).await?;
    let remember = form.remember.as_deref() == Some("on");
    user.record_session_login_with(&tracking, LoginOptions::remember(remember))
        .await?;
    Ok(Redirect::to("/security").into_response())
}

/// `POST /logout`
pub(crate) async fn logout(
    mut auth: AuthSession,
    tracking: Tracking,
) -> Result<Response, AppError> {
    if let (Some(user), Some(current)) = (auth.user.clone(), tracking.current()) {
        user.logout(&tracking, current.id).await?;
    }
    // A bearer-token request has no stored session, and flushing one without an id
    // makes tower-sessions log a warning.
    let has_stored_session = tracking
        .session()
        .is_some_and(|session| session.id().is_some());
    if has_stored_session {
        auth.logout().await?;
    }
    Ok(Redirect::to("/login").into_response())
}

/// `GET /security`
pub(crate) async fn security(
    auth: AuthSession,
    tracking: Tracking,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (user, _) = match signed_in(&auth, &tracking, &headers, false) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    let logins = user.logins(&tracking).await?;
    Ok(Html(pages::security(&user, &logins).into_string()).into_response())
}

/// `GET /api/logins`
pub(crate) async fn api_logins(
    auth: AuthSession,
    tracking: Tracking,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (user, _) = match signed_in(&auth, &tracking, &headers, true) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    let logins = user.logins(&tracking).await?;
    Ok(Json(logins).into_response())
}

/// `POST /logins/{id}/revoke`
pub(crate) async fn revoke_one(
    mut auth: AuthSession,
    tracking: Tracking,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (user, current) = match signed_in(&auth, &tracking, &headers, false) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    // An id that is not a UUID cannot name any login, so it gets the same 404 as
    // another user's id.
    let Ok(id) = id.parse::<LoginId>() else {
        return Ok(login_not_found(&headers));
    };

    let revoked = match user.logout(&tracking, id).await {
        Ok(revoked) => revoked,
        Err(TrackerError::LoginNotFound) => return Ok(login_not_found(&headers)),
        Err(error) => return Err(error.into()),
    };
    let signed_out = id == current;
    if signed_out {
        auth.logout().await?;
    }
    Ok(revoke_response(&headers, u64::from(revoked), signed_out))
}

/// `POST /logins/revoke-others`
pub(crate) async fn revoke_others(
    auth: AuthSession,
    tracking: Tracking,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (user, _) = match signed_in(&auth, &tracking, &headers, false) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    let revoked = user.logout_others(&tracking).await?;
    Ok(revoke_response(&headers, revoked, false))
}

/// `POST /logins/revoke-all`
pub(crate) async fn revoke_all(
    mut auth: AuthSession,
    tracking: Tracking,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (user, _) = match signed_in(&auth, &tracking, &headers, false) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    let revoked = user.logout_all(&tracking).await?;
    auth.logout().await?;
    Ok(revoke_response(&headers, revoked, true))
}

fn login_not_found(headers: &HeaderMap) -> Response {
    if wants_json(headers) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "login not found" })),
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, "login not found").into_response()
}

fn revoke_response(headers: &HeaderMap, revoked: u64, signed_out: bool) -> Response {
    if wants_json(headers) {
        return Json(json!({ "revoked": revoked })).into_response();
    }
    let next = if signed_out { "/login" } else { "/security" };
    Redirect::to(next).into_response()
}

/// Body of `POST /api/tokens`, as a form or as JSON.
#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    name: String,
}

/// Longest accepted token name, in characters.
const MAX_TOKEN_NAME_CHARS: usize = 100;

/// `POST /api/tokens`
pub(crate) async fn create_token(
    auth: AuthSession,
    tracking: Tracking,
    request: Request,
) -> Result<Response, AppError> {
    let headers = request.headers().clone();
    let (user, _) = match signed_in(&auth, &tracking, &headers, true) {
        Ok(signed_in) => signed_in,
        Err(response) => return Ok(response),
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let body = if is_json {
        Json::<TokenRequest>::from_request(request, &())
            .await
            .map(|Json(body)| body)
            .map_err(IntoResponse::into_response)
    } else {
        Form::<TokenRequest>::from_request(request, &())
            .await
            .map(|Form(body)| body)
            .map_err(IntoResponse::into_response)
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let error = "invalid request: send a `name` field as a form or as JSON";
            return Ok((rejection.status(), Json(json!({ "error": error }))).into_response());
        }
    };

    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        let error = format!("invalid token name: use 1 to {MAX_TOKEN_NAME_CHARS} characters");
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": error })),
        )
            .into_response());
    }
    let created = user.create_token(&tracking, name).await?;
    let body = json!({ "id": created.login.id, "token": created.token.expose() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
