//! Per-request checks: the login behind a session, a bearer token or a remember-me
//! cookie, with throttled activity writes.

use super::{Tracker, now_utc};
use crate::error::Result;
use crate::model::{Login, LoginKind};
#[cfg(feature = "axum")]
use crate::model::{LoginId, Owner, RevokeReason};
use crate::secret::{hash_secret, parse_token, verify_secret};
use crate::store::LoginRow;
use crate::table::validate_table_name;

/// Outcome of presenting a remember-me cookie.
#[cfg(feature = "axum")]
#[derive(Debug)]
pub(crate) enum RememberCheck {
    /// The cookie names an active login, which may be bound to a new session.
    Valid(Box<Login>),
    /// The cookie is malformed, unknown, expired or revoked.
    Invalid,
    /// The selector matched a login but the verifier did not: the login was revoked.
    Theft,
}

impl Tracker {
    /// Checks the login behind a session on a request: returns it when it is active,
    /// after moving its activity time and session id forward if they are stale, and
    /// `None` when it is revoked, expired or gone. The axum `TrackingLayer`
    /// calls it on every request; other frameworks call it from their middleware.
    ///
    /// # Errors
    ///
    /// Database errors. Callers should return an error response for them instead of
    /// letting the request through unchecked.
    pub async fn check_login(
        &self,
        current: &crate::CurrentLogin,
        session_id: Option<String>,
    ) -> Result<Option<Login>> {
        let table = validate_table_name(&current.table)?.to_owned();
        let id = current.id;
        let find_table = table.clone();
        let Some(row) = self
            .blocking(move |store| store.find(&find_table, id))
            .await?
        else {
            return Ok(None);
        };
        if row.kind != LoginKind::Session.as_str() {
            return Ok(None);
        }
        self.accept(table, row, session_id).await
    }

    /// Checks a personal API token, `<login id>|<secret>`, with at most one database
    /// lookup: returns its active login, or `None` when the token is malformed, unknown,
    /// expired or revoked. The secret is compared by hash, in constant time.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`](crate::Error::InvalidTableName) or a database error.
    pub async fn check_token(&self, table: &str, token: &str) -> Result<Option<Login>> {
        let table = validate_table_name(table)?.to_owned();
        let Some((id, secret)) = parse_token(token) else {
            return Ok(None);
        };
        let find_table = table.clone();
        let Some(row) = self
            .blocking(move |store| store.find(&find_table, id))
            .await?
        else {
            return Ok(None);
        };
        let matches = row.kind == LoginKind::Token.as_str()
            && row
                .token_hash
                .as_deref()
                .is_some_and(|stored| verify_secret(secret, stored));
        if !matches {
            return Ok(None);
        }
        self.accept(table, row, None).await
    }

    /// Checks a token that the application issued itself and recorded with
    /// [`Tracker::record_token_login`]: returns its active login, or `None`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`](crate::Error::InvalidTableName) or a database error.
    pub async fn check_token_id(&self, table: &str, token_id: &str) -> Result<Option<Login>> {
        let table = validate_table_name(table)?.to_owned();
        let token_hash = hash_secret(token_id);
        let find_table = table.clone();
        let row = self
            .blocking(move |store| store.find_by_token_hash(&find_table, &token_hash))
            .await?;
        match row {
            Some(row) if row.kind == LoginKind::Token.as_str() => {
                self.accept(table, row, None).await
            }
            _ => Ok(None),
        }
    }

    /// Checks a remember-me cookie value. A right selector with a wrong verifier revokes
    /// that login: the cookie cannot have come from the browser it was issued to.
    #[cfg(feature = "axum")]
    pub(crate) async fn check_remember(&self, table: &str, cookie: &str) -> Result<RememberCheck> {
        let table = validate_table_name(table)?.to_owned();
        let Some(token) = crate::secret::RememberToken::parse(cookie) else {
            return Ok(RememberCheck::Invalid);
        };
        let selector = token.selector.clone();
        let find_table = table.clone();
        let Some(row) = self
            .blocking(move |store| store.find_by_selector(&find_table, &selector))
            .await?
        else {
            return Ok(RememberCheck::Invalid);
        };
        let verified = row
            .remember_verifier_hash
            .as_deref()
            .is_some_and(|stored| token.verify(stored));

        let login = row.into_login(None)?;
        if !verified {
            tracing::warn!(login.id = %login.id, "remember-me cookie with a wrong verifier; revoking the login");
            let owner = Owner {
                user_type: login.user_type.clone(),
                user_id: login.user_id.clone(),
            };
            self.revoke(
                &table,
                &owner,
                super::RevokeScope::One(login.id),
                RevokeReason::RememberTokenTheft,
                None,
            )
            .await?;
            return Ok(RememberCheck::Theft);
        }
        if !self.is_active(&login, now_utc()) {
            return Ok(RememberCheck::Invalid);
        }
        Ok(RememberCheck::Valid(Box::new(login)))
    }

    /// Binds a remembered login to a new session id. Returns `false` when the login was
    /// revoked in the meantime.
    #[cfg(feature = "axum")]
    pub(crate) async fn bind_session(
        &self,
        table: &str,
        id: LoginId,
        session_id: String,
    ) -> Result<bool> {
        let table = validate_table_name(table)?.to_owned();
        let now = now_utc().naive_utc();
        self.blocking(move |store| store.bind_session(&table, id, &session_id, now))
            .await
    }

    /// Returns the row's login when it is active, after a throttled activity write.
    async fn accept(
        &self,
        table: String,
        row: LoginRow,
        session_id: Option<String>,
    ) -> Result<Option<Login>> {
        // The row keeps a copy of the session id, so a mismatch is repaired here. It
        // differs when the application cycled the session id after recording the login.
        let session_moved = session_id.is_some() && row.session_id != session_id;
        let login = row.into_login(None)?;
        let now = now_utc();
        if !self.is_active(&login, now) {
            return Ok(None);
        }

        let interval =
            chrono::Duration::from_std(self.config.activity_interval).unwrap_or_default();
        let stale_before = now - interval;
        if login.last_activity_at < stale_before || session_moved {
            let id = login.id;
            self.blocking(move |store| {
                store.touch(
                    &table,
                    id,
                    now.naive_utc(),
                    stale_before.naive_utc(),
                    session_id.as_deref(),
                )
            })
            .await?;
        }
        Ok(Some(login))
    }
}
