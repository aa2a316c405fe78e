//! The demo's two accounts and the axum-login backend that signs them in.

use std::fmt;
use std::sync::Arc;

use auth_tracker::AuthTracking;
use axum_login::{AuthUser, AuthnBackend, UserId};
use serde::Deserialize;

/// A demo account. The password hash is the axum-login session hash, so changing a
/// password would end every session of the user.
#[derive(Clone, AuthTracking)]
#[auth_tracking(id = id, user_type = "User", parser = uaparser, ip_provider = configured)]
pub struct User {
    /// Numeric key, stored in `logins.user_id`.
    pub id: i64,
    /// Sign-in name.
    pub email: String,
    password_hash: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// Email and password from the sign-in form.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// Sign-in name.
    pub email: String,
    /// Password in clear, checked against the Argon2 hash and then dropped.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The seeded accounts: `(email, password)`.
pub const DEMO_ACCOUNTS: [(&str, &str); 2] = [
    ("alice@example.com", "alice-password"),
    ("bob@example.com", "bob-password"),
];

/// In-memory user directory with the two demo accounts.
#[derive(Clone)]
pub struct Users {
    users: Arc<Vec<User>>,
    /// Hash checked when the email is unknown, so both cases take the same time.
    decoy_hash: Arc<str>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Seeds the demo accounts with freshly salted Argon2 hashes.
    pub fn seeded() -> Self {
        let users = DEMO_ACCOUNTS
            .iter()
            .zip(1..)
            .map(|((email, password), id)| User {
                id,
                email: (*email).to_owned(),
                password_hash: password_auth::generate_hash(password),
            })
            .collect();
        Self {
            users: Arc::new(users),
            decoy_hash: password_auth::generate_hash("decoy password").into(),
        }
    }

    fn by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
    }
}

/// Error of the demo's authentication backend.
#[derive(Debug, thiserror::Error)]
#[error("password check failed: {0}")]
pub struct BackendError(#[from] tokio::task::JoinError);

impl AuthnBackend for Users {
    type User = User;
    type Credentials = Credentials;
    type Error = BackendError;

    async fn authenticate(&self, credentials: Credentials) -> Result<Option<User>, BackendError> {
        let user = self.by_email(&credentials.email).cloned();
        let hash = user.as_ref().map_or_else(
            || self.decoy_hash.to_string(),
            |user| user.password_hash.clone(),
        );
        // Argon2 takes tens of milliseconds, so it runs off the async executor.
        let verified = tokio::task::spawn_blocking(move || {
            password_auth::verify_password(credentials.password, &hash).is_ok()
        })
        .await?;
        Ok(user.filter(|_| verified))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, BackendError> {
        Ok(self.users.iter().find(|user| user.id == *id).cloned())
    }
}
