//! Database access: one object-safe store trait, implemented for each Diesel backend.
//!
//! Queries are SQL text with bound parameters rather than Diesel's query builder,
//! because the table name is chosen at run time (a per-model `table` attribute).
//! Table names are validated as plain identifiers before they reach any SQL text.

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::error::{Error, Result};
use crate::model::{Login, LoginId, LoginKind, Owner, RevokeReason};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod diesel_impl;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod pools;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;
pub(crate) mod url;

#[cfg(feature = "mysql")]
pub(crate) use diesel_impl::MysqlStore;
#[cfg(feature = "postgres")]
pub(crate) use diesel_impl::PgStore;
#[cfg(feature = "sqlite")]
pub(crate) use diesel_impl::{SqlitePragmas, SqliteStore};

/// Returns the SQL text of every query sent on `dialect`'s backend, by name.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) fn query_texts(
    dialect: crate::migrations::Dialect,
    table: &str,
) -> Result<Vec<(&'static str, String)>> {
    use crate::migrations::Dialect;

    let table = crate::table::validate_table_name(table)?;
    let sql = match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => sql::SQLITE,
        #[cfg(feature = "postgres")]
        Dialect::Postgres => sql::POSTGRES,
        #[cfg(feature = "mysql")]
        Dialect::Mysql => sql::MYSQL,
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::UnsupportedDatabase(
                format!("{other:?}"),
                "enable the backend's feature of auth-tracker",
            ));
        }
    };
    Ok(sql.every_query(table))
}

/// A row to insert. Its `Debug` output leaves out the session id and the hashes.
#[derive(Clone)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) struct NewLogin {
    pub(crate) id: LoginId,
    pub(crate) owner: Owner,
    pub(crate) kind: LoginKind,
    pub(crate) name: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) token_hash: Option<String>,
    pub(crate) remember_selector: Option<String>,
    pub(crate) remember_verifier_hash: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) ip_address: Option<String>,
    pub(crate) device: Option<String>,
    pub(crate) device_type: Option<String>,
    pub(crate) platform: Option<String>,
    pub(crate) platform_version: Option<String>,
    pub(crate) browser: Option<String>,
    pub(crate) browser_version: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) expires_at: Option<NaiveDateTime>,
}

/// Set of an owner's logins that a revoke reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RevokeTarget {
    One(LoginId),
    AllExcept {
        kept: Option<LoginId>,
        include_tokens: bool,
    },
}

/// A login revoked by one call, with the session to delete from the session store.
/// Its `Debug` output leaves out the session id.
#[derive(Clone)]
pub(crate) struct RevokedLogin {
    pub(crate) id: LoginId,
    pub(crate) kind: LoginKind,
    pub(crate) name: Option<String>,
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) session_id: Option<String>,
}

/// Rows that one [`LoginStore::prune_batch`] deletes, each served by its own index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PruneCriterion {
    /// Revoked rows whose `revoked_at` is before the cutoff.
    Revoked,
    /// Rows whose `expires_at` is before the cutoff.
    Expired,
    /// Session logins without a remember-me token whose `last_activity_at` is before
    /// the cutoff.
    Idle,
}

/// Database operations of the tracker. Implementations block, so callers run them on a
/// blocking thread.
pub(crate) trait LoginStore: Send + Sync + std::fmt::Debug + 'static {
    /// Runs the embedded migrations of the default table.
    fn migrate(&self) -> Result<()>;

    /// Creates `table` and its indexes if they do not exist.
    fn create_table(&self, table: &str) -> Result<()>;

    fn insert(&self, table: &str, login: &NewLogin) -> Result<()>;

    /// Finds a login by id, in any state.
    fn find(&self, table: &str, id: LoginId) -> Result<Option<LoginRow>>;

    /// Lists an owner's logins that are neither revoked nor expired, by activity.
    fn list_active(
        &self,
        table: &str,
        owner: &Owner,
        now: NaiveDateTime,
        idle_cutoff: NaiveDateTime,
    ) -> Result<Vec<LoginRow>>;

    /// Revokes an owner's logins in one transaction. Returns how many rows this call
    /// changed, and the logins it selected, whose sessions are to be deleted.
    ///
    /// Returns [`Error::LoginNotFound`] when a single target does not belong to the owner.
    fn revoke(
        &self,
        table: &str,
        owner: &Owner,
        target: RevokeTarget,
        reason: RevokeReason,
        now: NaiveDateTime,
    ) -> Result<(u64, Vec<RevokedLogin>)>;

    /// Moves `last_activity_at` to `now`, and `session_id` to `session_id` when given,
    /// but only on an active row whose activity is older than `stale_before` or whose
    /// session id differs. Concurrent callers therefore write at most once.
    fn touch(
        &self,
        table: &str,
        id: LoginId,
        now: NaiveDateTime,
        stale_before: NaiveDateTime,
        session_id: Option<&str>,
    ) -> Result<bool>;

    /// Deletes up to `limit` rows that `criterion` selects with `cutoff`, oldest first,
    /// in one transaction. Returns how many rows it deleted.
    fn prune_batch(
        &self,
        table: &str,
        criterion: PruneCriterion,
        cutoff: NaiveDateTime,
        limit: usize,
    ) -> Result<u64>;

    /// Sets `ip_address` to null on up to `limit` rows created before `created_before`
    /// whose id sorts after `after`, selected first and then updated in one transaction.
    /// Returns how many rows it changed and the last id it selected, or `None` when it
    /// selected none.
    fn blank_ip_batch(
        &self,
        table: &str,
        created_before: NaiveDateTime,
        after: &str,
        limit: usize,
    ) -> Result<(u64, Option<String>)>;

    /// Stores a geolocation result on a login.
    fn set_location(&self, table: &str, id: LoginId, location: &crate::geo::Location)
    -> Result<()>;

    /// Finds a login by its remember-me selector, in any state.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    fn find_by_selector(&self, table: &str, selector: &str) -> Result<Option<LoginRow>>;

    /// Finds a login by the hash of its token, in any state.
    fn find_by_token_hash(&self, table: &str, token_hash: &str) -> Result<Option<LoginRow>>;

    /// Binds an active login to a new session id and moves its activity to `now`.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    fn bind_session(
        &self,
        table: &str,
        id: LoginId,
        session_id: &str,
        now: NaiveDateTime,
    ) -> Result<bool>;

    /// Counts the owner's logins recorded before `earlier_than`, in any state, from the
    /// same browser, platform and device. `None` matches a missing value.
    fn count_same_device(
        &self,
        table: &str,
        owner: &Owner,
        earlier_than: (LoginId, NaiveDateTime),
        device: [Option<&str>; 3],
    ) -> Result<u64>;

    /// Counts the owner's logins recorded before `earlier_than`, in any state, located
    /// in `country_code`.
    fn count_same_country(
        &self,
        table: &str,
        owner: &Owner,
        earlier_than: (LoginId, NaiveDateTime),
        country_code: &str,
    ) -> Result<u64>;
}

/// A row as read. It contains the session id and secret hashes, so it never leaves the
/// crate: [`LoginRow::into_login`] drops them.
#[derive(Clone, QueryableByName)]
pub(crate) struct LoginRow {
    #[diesel(sql_type = Text)]
    pub(crate) id: String,
    #[diesel(sql_type = Text)]
    pub(crate) user_type: String,
    #[diesel(sql_type = Text)]
    pub(crate) user_id: String,
    #[diesel(sql_type = Text)]
    pub(crate) kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) session_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) token_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) remember_selector: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) remember_verifier_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) user_agent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) ip_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) device: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) device_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) platform: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) platform_version: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) browser: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) browser_version: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) city: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) region: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) country_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) ip_data: Option<String>,
    #[diesel(sql_type = Timestamp)]
    pub(crate) created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub(crate) last_activity_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(crate) expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(crate) revoked_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) revoke_reason: Option<String>,
}

/// Returns `[redacted]` in place of a secret-bearing column's value, if it has one.
fn redacted(value: &Option<String>) -> Option<&'static str> {
    value.as_ref().map(|_| "[redacted]")
}

impl std::fmt::Debug for NewLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLogin")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("session_id", &redacted(&self.session_id))
            .field("token_hash", &redacted(&self.token_hash))
            .field("remember_selector", &self.remember_selector)
            .field(
                "remember_verifier_hash",
                &redacted(&self.remember_verifier_hash),
            )
            .field("ip_address", &self.ip_address)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RevokedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokedLogin")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("session_id", &redacted(&self.session_id))
            .finish()
    }
}

impl std::fmt::Debug for LoginRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRow")
            .field("id", &self.id)
            .field("user_type", &self.user_type)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("session_id", &redacted(&self.session_id))
            .field("token_hash", &redacted(&self.token_hash))
            .field("remember_selector", &self.remember_selector)
            .field(
                "remember_verifier_hash",
                &redacted(&self.remember_verifier_hash),
            )
            .field("ip_address", &self.ip_address)
            .field("created_at", &self.created_at)
            .field("last_activity_at", &self.last_activity_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("revoke_reason", &self.revoke_reason)
            .finish_non_exhaustive()
    }
}

impl LoginRow {
    /// Converts the row into the public view, marking it current when its id is `current`.
    pub(crate) fn into_login(self, current: Option<LoginId>) -> Result<Login> {
        let id: LoginId = self
            .id
            .parse()
            .map_err(|_| Error::CorruptRow(format!("id {:?} is not a UUID", self.id)))?;
        let kind = LoginKind::from_column(&self.kind).ok_or_else(|| {
            Error::CorruptRow(format!("login {id} has unknown kind {:?}", self.kind))
        })?;
        let device_type = self.device_type.as_deref().and_then(parse_device_type);
        // Extra geolocation data is informational, so a value that is not JSON is dropped
        // instead of failing the whole listing.
        let ip_data = self
            .ip_data
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok());

        Ok(Login {
            id,
            kind,
            remembered: self.remember_selector.is_some(),
            name: self.name,
            user_type: self.user_type,
            user_id: self.user_id,
            user_agent: self.user_agent,
            device: self.device,
            device_type,
            platform: self.platform,
            platform_version: self.platform_version,
            browser: self.browser,
            browser_version: self.browser_version,
            ip_address: self.ip_address,
            city: self.city,
            region: self.region,
            country: self.country,
            country_code: self.country_code,
            ip_data,
            created_at: self.created_at.and_utc(),
            last_activity_at: self.last_activity_at.and_utc(),
            expires_at: self.expires_at.map(|at| at.and_utc()),
            revoked_at: self.revoked_at.map(|at| at.and_utc()),
            revoke_reason: self.revoke_reason,
            is_current: current == Some(id),
        })
    }
}

fn parse_device_type(value: &str) -> Option<crate::agent::DeviceType> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION_ID: &str = "session-id-value";
    const TOKEN_HASH: &str = "token-hash-value";
    const VERIFIER_HASH: &str = "verifier-hash-value";

    fn assert_redacted(debug: &str) {
        for secret in [SESSION_ID, TOKEN_HASH, VERIFIER_HASH] {
            assert!(!debug.contains(secret), "{secret} shows in {debug}");
        }
        assert!(debug.contains("[redacted]"), "no redaction mark in {debug}");
    }

    #[test]
    fn new_login_debug_redacts_secrets() {
        let row = NewLogin {
            id: LoginId::new(),
            owner: Owner::new("User", 1),
            kind: LoginKind::Session,
            name: None,
            session_id: Some(SESSION_ID.to_owned()),
            token_hash: Some(TOKEN_HASH.to_owned()),
            remember_selector: Some("selector".to_owned()),
            remember_verifier_hash: Some(VERIFIER_HASH.to_owned()),
            user_agent: None,
            ip_address: None,
            device: None,
            device_type: None,
            platform: None,
            platform_version: None,
            browser: None,
            browser_version: None,
            created_at: NaiveDateTime::default(),
            expires_at: None,
        };
        assert_redacted(&format!("{row:?}"));
    }

    #[test]
    fn login_row_debug_redacts_secrets() {
        let row = LoginRow {
            id: LoginId::new().to_string(),
            user_type: "User".to_owned(),
            user_id: "1".to_owned(),
            kind: "session".to_owned(),
            name: None,
            session_id: Some(SESSION_ID.to_owned()),
            token_hash: Some(TOKEN_HASH.to_owned()),
            remember_selector: None,
            remember_verifier_hash: Some(VERIFIER_HASH.to_owned()),
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
            created_at: NaiveDateTime::default(),
            last_activity_at: NaiveDateTime::default(),
            expires_at: None,
            revoked_at: None,
            revoke_reason: None,
        };
        assert_redacted(&format!("{row:?}"));
    }

    #[test]
    fn revoked_login_debug_redacts_session_id() {
        let revoked = RevokedLogin {
            id: LoginId::new(),
            kind: LoginKind::Session,
            name: None,
            session_id: Some(SESSION_ID.to_owned()),
        };
        let debug = format!("{revoked:?}");
        assert!(!debug.contains(SESSION_ID), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
