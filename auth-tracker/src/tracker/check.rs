//! Per-request checks: the login behind a session, a bearer token or a remember-me
//! cookie, with throttled activity writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::{Tracker, now_utc};
use crate::error::Result;
use crate::model::{Login, LoginId, LoginKind};
#[cfg(feature = "axum")]
use crate::model::{Owner, RevokeReason};
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
    /// An active result is reused for the same login and session id for
    /// [`check_cache_ttl`](crate::TrackerConfig::check_cache_ttl), so the returned
    /// login's details can be that much older than the row.
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
        let login = self.check_session_login(current, session_id).await?;
        Ok(login.map(|login| Login::clone(&login)))
    }

    /// Does the work of [`Tracker::check_login`], returning the login shared with the
    /// check cache, so that a reused check copies nothing.
    pub(crate) async fn check_session_login(
        &self,
        current: &crate::CurrentLogin,
        session_id: Option<String>,
    ) -> Result<Option<Arc<Login>>> {
        let table = validate_table_name(&current.table)?;
        let id = current.id;
        // Read before the database, so a revocation that commits after this point
        // keeps the result below out of the cache.
        let generation = self.check_cache.generation();
        if let Some(login) = self.cached_check(table, id, session_id.as_deref(), generation) {
            return Ok(Some(login));
        }
        let table = table.to_owned();

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
        let Some(login) = self.accept(table.clone(), row, session_id.clone()).await? else {
            return Ok(None);
        };
        let login = Arc::new(login);
        if !self.config.check_cache_ttl.is_zero() {
            self.check_cache.insert(CachedCheck {
                table,
                session_id,
                login: Arc::clone(&login),
                checked_at: Instant::now(),
                generation,
            });
        }
        Ok(Some(login))
    }

    /// Returns a reusable earlier result of [`Tracker::check_login`]: one younger than
    /// the cache TTL, for the same table and session id, stored under the current
    /// revocation generation, whose login is still active and needs no activity write.
    fn cached_check(
        &self,
        table: &str,
        id: LoginId,
        session_id: Option<&str>,
        generation: u64,
    ) -> Option<Arc<Login>> {
        let ttl = self.config.check_cache_ttl;
        if ttl.is_zero() {
            return None;
        }
        let entry = self.check_cache.entries.get(&id)?;
        let reusable = entry.generation == generation
            && entry.checked_at.elapsed() < ttl
            && entry.table == table
            && entry.session_id.as_deref() == session_id;
        if !reusable {
            return None;
        }
        let now = now_utc();
        let interval =
            chrono::Duration::from_std(self.config.activity_interval).unwrap_or_default();
        let activity_due = entry.login.last_activity_at < now - interval;
        if activity_due || !self.is_active(&entry.login, now) {
            return None;
        }
        Some(Arc::clone(&entry.login))
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
        let mut login = row.into_login(None)?;
        let now = now_utc();
        if !self.is_active(&login, now) {
            return Ok(None);
        }

        let interval =
            chrono::Duration::from_std(self.config.activity_interval).unwrap_or_default();
        let stale_before = now - interval;
        if login.last_activity_at < stale_before || session_moved {
            let id = login.id;
            let written = self
                .blocking(move |store| {
                    store.touch(
                        &table,
                        id,
                        now.naive_utc(),
                        stale_before.naive_utc(),
                        session_id.as_deref(),
                    )
                })
                .await?;
            if written {
                login.last_activity_at = now;
            }
        }
        Ok(Some(login))
    }
}

/// Most logins whose check results a tracker keeps.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) const CHECK_CACHE_CAPACITY: usize = 10_000;

/// Recent active results of [`Tracker::check_login`], by login id.
pub(crate) struct CheckCache {
    entries: quick_cache::sync::Cache<LoginId, Arc<CachedCheck>>,
    /// Incremented after every revocation through the tracker. Entries stored under an
    /// older value are ignored, so a check that read a row before a revocation
    /// committed cannot serve that row afterwards.
    generation: AtomicU64,
}

/// One active result of [`Tracker::check_login`].
struct CachedCheck {
    table: String,
    session_id: Option<String>,
    login: Arc<Login>,
    checked_at: Instant,
    generation: u64,
}

impl CheckCache {
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity),
            generation: AtomicU64::new(0),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn insert(&self, entry: CachedCheck) {
        self.entries.insert(entry.login.id, Arc::new(entry));
    }

    /// Makes every stored result unusable. Called after each revocation, whatever it
    /// revoked, because revocations are rare next to checks.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::NaiveDateTime;

    use super::*;
    use crate::geo::Location;
    use crate::model::{LoginId, Owner, RevokeReason};
    use crate::secret::PlainToken;
    use crate::store::{LoginStore, NewLogin, RevokeTarget, RevokedLogin};

    /// Store that counts lookups and contains one token login.
    #[derive(Debug)]
    struct CountingStore {
        lookups: AtomicUsize,
        token_hash: String,
        id: LoginId,
    }

    impl CountingStore {
        fn row(&self) -> LoginRow {
            let now = chrono::Utc::now().naive_utc();
            LoginRow {
                id: self.id.to_string(),
                user_type: "User".into(),
                user_id: "1".into(),
                kind: "token".into(),
                name: Some("ci".into()),
                session_id: None,
                token_hash: Some(self.token_hash.clone()),
                remember_selector: None,
                remember_verifier_hash: None,
                user_agent: None,
                ip_address: None,
                device: None,
                device_type: None,
                platform: None,
                platform_version: None,
                browser: None,
                browser_version: None,
                city: None,
                region: None,
                country: None,
                country_code: None,
                ip_data: None,
                created_at: now,
                last_activity_at: now,
                expires_at: None,
                revoked_at: None,
                revoke_reason: None,
            }
        }
    }

    impl LoginStore for CountingStore {
        fn migrate(&self) -> Result<()> {
            unreachable!("not used by token checks")
        }
        fn create_table(&self, _table: &str) -> Result<()> {
            unreachable!("not used by token checks")
        }
        fn insert(&self, _table: &str, _login: &NewLogin) -> Result<()> {
            unreachable!("not used by token checks")
        }
        fn find(&self, _table: &str, id: LoginId) -> Result<Option<LoginRow>> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok((id == self.id).then(|| self.row()))
        }
        fn list_active(
            &self,
            _: &str,
            _: &Owner,
            _: NaiveDateTime,
            _: NaiveDateTime,
        ) -> Result<Vec<LoginRow>> {
            unreachable!("not used by token checks")
        }
        fn revoke(
            &self,
            _: &str,
            _: &Owner,
            _: RevokeTarget,
            _: RevokeReason,
            _: NaiveDateTime,
        ) -> Result<(u64, Vec<RevokedLogin>)> {
            unreachable!("not used by token checks")
        }
        fn touch(
            &self,
            _: &str,
            _: LoginId,
            _: NaiveDateTime,
            _: NaiveDateTime,
            _: Option<&str>,
        ) -> Result<bool> {
            Ok(false)
        }
        fn set_location(&self, _: &str, _: LoginId, _: &Location) -> Result<()> {
            unreachable!("not used by token checks")
        }
        fn prune_batch(
            &self,
            _: &str,
            _: crate::store::PruneCriterion,
            _: NaiveDateTime,
            _: usize,
        ) -> Result<u64> {
            unreachable!("not used by token checks")
        }
        fn blank_ip_batch(
            &self,
            _: &str,
            _: NaiveDateTime,
            _: &str,
            _: usize,
        ) -> Result<(u64, Option<String>)> {
            unreachable!("not used by token checks")
        }
        fn find_by_selector(&self, _: &str, _: &str) -> Result<Option<LoginRow>> {
            unreachable!("not used by token checks")
        }
        fn find_by_token_hash(&self, _: &str, _: &str) -> Result<Option<LoginRow>> {
            unreachable!("not used by token checks")
        }
        fn bind_session(&self, _: &str, _: LoginId, _: &str, _: NaiveDateTime) -> Result<bool> {
            unreachable!("not used by token checks")
        }
        fn count_same_device(
            &self,
            _: &str,
            _: &Owner,
            _: (LoginId, NaiveDateTime),
            _: [Option<&str>; 3],
        ) -> Result<u64> {
            unreachable!("not used by token checks")
        }
        fn count_same_country(
            &self,
            _: &str,
            _: &Owner,
            _: (LoginId, NaiveDateTime),
            _: &str,
        ) -> Result<u64> {
            unreachable!("not used by token checks")
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn token_check_looks_up_at_most_once() {
        let id = LoginId::new();
        let (token, token_hash) = PlainToken::generate(id);
        let store = Arc::new(CountingStore {
            lookups: AtomicUsize::new(0),
            token_hash,
            id,
        });
        let tracker = Tracker::from_store(store.clone());
        let secret = token.expose().split_once('|').unwrap().1.to_owned();
        // Changing the first character keeps the secret canonical base64, so the
        // check reaches the database and the hash comparison.
        let replacement = if secret.starts_with('A') { 'B' } else { 'A' };
        let other_secret = format!("{replacement}{}", &secret[1..]);

        let cases = [
            ("malformed", "garbage".to_owned(), 0),
            ("short secret", format!("{id}|short"), 0),
            ("unknown id", format!("{}|{secret}", LoginId::new()), 1),
            ("wrong secret", format!("{id}|{other_secret}"), 1),
            ("valid", token.expose().to_owned(), 1),
        ];
        for (case, presented, expected_lookups) in cases {
            store.lookups.store(0, Ordering::SeqCst);
            let login = tracker.check_token("logins", &presented).await.unwrap();
            assert_eq!(login.is_some(), case == "valid", "{case}: outcome");
            assert_eq!(
                store.lookups.load(Ordering::SeqCst),
                expected_lookups,
                "{case}: lookups"
            );
        }
    }
}
