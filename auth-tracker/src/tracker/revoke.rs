//! Revocation: one login, all but the current one, or all, with the side effects that
//! make it take hold at once.

use std::future::Future;
use std::pin::Pin;

use super::{Tracker, now_utc};
use crate::error::Result;
use crate::events::{Listeners, LoginRevoked};
use crate::model::{LoginId, LoginKind, Owner, RevokeReason};
use crate::store::{RevokeTarget, RevokedLogin};
use crate::table::validate_table_name;

/// Set of a user's logins that a revoke reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeScope {
    /// One login, by id.
    One(LoginId),
    /// Every login except the given one, or every login when it is `None`. API tokens
    /// are included unless [`revoke_others_includes_tokens`](crate::TrackerConfig::revoke_others_includes_tokens)
    /// is off.
    AllExcept(Option<LoginId>),
    /// Every login, tokens included.
    All,
}

/// A revoked token login, as passed to a [`TokenRevoker`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedToken {
    /// The token's login id.
    pub login_id: LoginId,
    /// The token's name.
    pub name: Option<String>,
    /// Owner of the token.
    pub owner: Owner,
}

/// Boxed future returned by [`TokenRevoker::revoke_tokens`].
pub type RevokeFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Revokes tokens at the service that issued them, for tokens an application records
/// with [`Tracker::record_token_login`] (JWT ids, OAuth access tokens).
///
/// The tracker calls it after the revocation committed, so the login rows are revoked
/// whatever it does. It should log its own failures, because it cannot fail the revocation.
///
/// # Example
///
/// ```
/// use std::sync::Mutex;
/// use auth_tracker::{RevokeFuture, RevokedToken, TokenRevoker};
///
/// /// Keeps a deny-list of revoked JWT ids, checked by the application's JWT layer.
/// #[derive(Default)]
/// struct DenyList(Mutex<Vec<String>>);
///
/// impl TokenRevoker for DenyList {
///     fn revoke_tokens<'a>(&'a self, tokens: &'a [RevokedToken]) -> RevokeFuture<'a> {
///         Box::pin(async move {
///             let mut denied = self.0.lock().unwrap();
///             denied.extend(tokens.iter().map(|token| token.login_id.to_string()));
///         })
///     }
/// }
/// ```
pub trait TokenRevoker: Send + Sync + 'static {
    /// Revokes the given tokens at their issuer.
    fn revoke_tokens<'a>(&'a self, tokens: &'a [RevokedToken]) -> RevokeFuture<'a>;
}

impl Tracker {
    /// Revokes an owner's logins in one transaction, then deletes their sessions from the
    /// session store, calls the token revoker and notifies listeners. Returns how many
    /// logins this call revoked: revoking again is a no-op that returns 0.
    ///
    /// `revoked_by` is the login whose request asked for the revocation, if any.
    ///
    /// # Errors
    ///
    /// [`Error::LoginNotFound`](crate::Error::LoginNotFound) when [`RevokeScope::One`]
    /// names a login the owner does not have,
    /// [`Error::InvalidTableName`](crate::Error::InvalidTableName), or a database error.
    /// A session store that fails to delete a session is logged, not returned: the
    /// per-request check rejects the revoked login anyway.
    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(user.id = %owner.user_id, ?scope, reason = reason.as_str()),
        // A missing login is a normal outcome of a request, not a fault of the tracker.
        err(level = "debug")
    )]
    pub async fn revoke(
        &self,
        table: &str,
        owner: &Owner,
        scope: RevokeScope,
        reason: RevokeReason,
        revoked_by: Option<LoginId>,
    ) -> Result<u64> {
        let table = validate_table_name(table)?.to_owned();
        let target = match scope {
            RevokeScope::One(id) => RevokeTarget::One(id),
            RevokeScope::AllExcept(kept) => RevokeTarget::AllExcept {
                kept,
                include_tokens: self.config.revoke_others_includes_tokens,
            },
            RevokeScope::All => RevokeTarget::AllExcept {
                kept: None,
                include_tokens: true,
            },
        };
        let now = now_utc().naive_utc();
        let store_owner = owner.clone();
        let revoked = self
            .blocking(move |store| store.revoke(&table, &store_owner, target, reason, now))
            .await;
        // Also after an error: the revocation may have committed before it was reported.
        self.check_cache.invalidate();
        let (count, revoked) = revoked?;
        tracing::info!(revoked = count, "revoked logins");

        #[cfg(feature = "axum")]
        self.delete_sessions(&revoked).await;
        self.revoke_tokens_at_issuer(owner, &revoked).await;
        for login in &revoked {
            let event = LoginRevoked {
                login_id: login.id,
                kind: login.kind,
                name: login.name.clone(),
                owner: owner.clone(),
                reason,
                revoked_by,
            };
            Listeners::emit(&self.listeners.login_revoked, &event);
        }

        Ok(count)
    }

    async fn revoke_tokens_at_issuer(&self, owner: &Owner, revoked: &[RevokedLogin]) {
        let Some(revoker) = &self.token_revoker else {
            return;
        };
        let tokens: Vec<RevokedToken> = revoked
            .iter()
            .filter(|login| login.kind == LoginKind::Token)
            .map(|login| RevokedToken {
                login_id: login.id,
                name: login.name.clone(),
                owner: owner.clone(),
            })
            .collect();
        if !tokens.is_empty() {
            revoker.revoke_tokens(&tokens).await;
        }
    }

    #[cfg(feature = "axum")]
    async fn delete_sessions(&self, revoked: &[RevokedLogin]) {
        let Some(session_store) = &self.session_store else {
            return;
        };
        for login in revoked {
            let Some(session_id) = &login.session_id else {
                continue;
            };
            let Ok(session_id) = session_id.parse::<tower_sessions::session::Id>() else {
                tracing::warn!(login.id = %login.id, "stored session id is not a tower-sessions id");
                continue;
            };
            if let Err(error) = session_store.delete(&session_id).await {
                tracing::warn!(login.id = %login.id, %error, "failed to delete a revoked login's session");
            }
        }
    }
}
