//! Public view of logins: ids, kinds, revoke reasons, owners and the listed row.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::DeviceType;

/// Public id of a login: a UUID (version 7), stored as 36-character text.
///
/// It is safe in URLs and JSON because every query that takes it is also scoped to
/// the owner, so knowing another user's login id grants nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoginId(uuid::Uuid);

impl LoginId {
    /// Creates a new random id. Version 7 keeps new rows close together in the index.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// Returns the UUID.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for LoginId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<uuid::Uuid> for LoginId {
    fn from(id: uuid::Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoginId({})", self.0.hyphenated())
    }
}

impl FromStr for LoginId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::try_parse(s).map(Self)
    }
}

/// Credential kind of a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginKind {
    /// A browser session held by a session cookie.
    Session,
    /// An API token presented as `Authorization: Bearer`.
    Token,
}

impl LoginKind {
    /// Returns the value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Token => "token",
        }
    }

    pub(crate) fn from_column(value: &str) -> Option<Self> {
        match value {
            "session" => Some(Self::Session),
            "token" => Some(Self::Token),
            _ => None,
        }
    }
}

/// Reason for a revocation, stored in `revoke_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// The user signed out of this login.
    Logout,
    /// The user revoked this login from a list of their logins.
    Revoked,
    /// The user signed out of every login but the current one.
    RevokedOthers,
    /// The user signed out everywhere.
    RevokedAll,
    /// The browser signed in again, so the login its session held before ended.
    Replaced,
    /// A remember-me cookie with the right selector and a wrong verifier was presented,
    /// which suggests the cookie was stolen and used by someone else first.
    RememberTokenTheft,
    /// An administrator revoked the login, for example with the `auth-tracker` binary.
    Administrator,
}

impl RevokeReason {
    /// Returns the value stored in the `revoke_reason` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Revoked => "revoked",
            Self::RevokedOthers => "revoked_others",
            Self::RevokedAll => "revoked_all",
            Self::Replaced => "replaced",
            Self::RememberTokenTheft => "remember_token_theft",
            Self::Administrator => "administrator",
        }
    }
}

/// Owner of a login: the user model's type name and its key as text.
///
/// Keeping the key as text lets integer, UUID and string user keys share one table,
/// and the type name lets several user models share it too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    /// Value of the `user_type` column.
    pub user_type: String,
    /// Value of the `user_id` column.
    pub user_id: String,
}

impl Owner {
    /// Creates an owner from a type name and a key.
    pub fn new(user_type: impl Into<String>, user_id: impl fmt::Display) -> Self {
        Self {
            user_type: user_type.into(),
            user_id: user_id.to_string(),
        }
    }
}

/// One login of a user, as listed to the application and the user.
///
/// It carries no secret: the session id, token hash and remember-me hashes stay in the
/// database, so serializing a `Login` is safe.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Login {
    /// Public id.
    pub id: LoginId,
    /// Browser session or API token.
    pub kind: LoginKind,
    /// Whether the login owns a remember-me token, which lets it outlive its session.
    #[serde(skip)]
    pub remembered: bool,
    /// Token name or device label.
    pub name: Option<String>,
    /// Owner's type name.
    #[serde(skip)]
    pub user_type: String,
    /// Owner's key as text.
    #[serde(skip)]
    pub user_id: String,
    /// Raw `User-Agent` header, capped in length.
    #[serde(skip)]
    pub user_agent: Option<String>,
    /// Device family.
    pub device: Option<String>,
    /// Device class.
    pub device_type: Option<DeviceType>,
    /// Operating system family.
    pub platform: Option<String>,
    /// Operating system version.
    pub platform_version: Option<String>,
    /// Browser family.
    pub browser: Option<String>,
    /// Browser version.
    pub browser_version: Option<String>,
    /// Client IP address, with IPv4-mapped IPv6 addresses stored as IPv4.
    pub ip_address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(skip)]
    pub country_code: Option<String>,
    /// Extra geolocation data.
    #[serde(skip)]
    pub ip_data: Option<serde_json::Value>,
    /// When the login was recorded.
    pub created_at: DateTime<Utc>,
    /// Last request seen for this login, updated at most once per throttle interval.
    pub last_activity_at: DateTime<Utc>,
    /// Absolute expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the login was revoked, if it was.
    #[serde(skip)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Reason for the revocation.
    #[serde(skip)]
    pub revoke_reason: Option<String>,
    /// Whether this is the login making the current request.
    pub is_current: bool,
}

impl Login {
    /// Joins the city, region and country that are known with `", "`.
    ///
    /// Returns `None` when none of them is known, never a string with stray commas.
    pub fn location(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.city, &self.region, &self.country]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Returns whether the login was neither revoked nor expired at `now`.
    ///
    /// The idle timeout applies to session logins without a remember-me token only:
    /// tokens and remembered sessions end at `expires_at`.
    pub fn is_active(&self, now: DateTime<Utc>, idle_timeout: Option<chrono::Duration>) -> bool {
        if self.revoked_at.is_some() {
            return false;
        }
        if self.expires_at.is_some_and(|expires_at| expires_at <= now) {
            return false;
        }
        let idle_expired = idle_timeout.is_some_and(|idle| {
            self.kind == LoginKind::Session
                && !self.remembered
                && self.last_activity_at + idle <= now
        });
        !idle_expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login_at(city: Option<&str>, region: Option<&str>, country: Option<&str>) -> Login {
        let now = Utc::now();
        Login {
            id: LoginId::new(),
            kind: LoginKind::Session,
            remembered: false,
            name: None,
            user_type: "User".into(),
            user_id: "1".into(),
            user_agent: None,
            device: None,
            device_type: None,
            platform: None,
            platform_version: None,
            browser: None,
            browser_version: None,
            ip_address: None,
            city: city.map(Into::into),
            region: region.map(Into::into),
            country: country.map(Into::into),
            country_code: None,
            ip_data: None,
            created_at: now,
            last_activity_at: now,
            expires_at: None,
            revoked_at: None,
            revoke_reason: None,
            is_current: false,
        }
    }

    #[test]
    fn idle_timeout_spares_remembered_sessions() {
        let idle = chrono::Duration::hours(2);
        let now = Utc::now();
        let mut session = login_at(None, None, None);
        session.last_activity_at = now - chrono::Duration::hours(3);
        assert!(!session.is_active(now, Some(idle)), "an idle session ends");
        assert!(session.is_active(now, None), "no idle timeout, no idle end");

        let mut remembered = session.clone();
        remembered.remembered = true;
        assert!(
            remembered.is_active(now, Some(idle)),
            "a remembered session outlives the idle timeout"
        );
        remembered.expires_at = Some(now - chrono::Duration::seconds(1));
        assert!(
            !remembered.is_active(now, Some(idle)),
            "a remembered session ends at its expiry"
        );

        let mut token = session.clone();
        token.kind = LoginKind::Token;
        assert!(token.is_active(now, Some(idle)), "tokens never idle out");
    }

    #[test]
    fn location_joins_known_parts() {
        let full = login_at(Some("London"), Some("England"), Some("United Kingdom"));
        assert_eq!(
            full.location().as_deref(),
            Some("London, England, United Kingdom")
        );

        let country_only = login_at(None, None, Some("France"));
        assert_eq!(country_only.location().as_deref(), Some("France"));

        let city_and_country = login_at(Some("Lyon"), Some(" "), Some("France"));
        assert_eq!(city_and_country.location().as_deref(), Some("Lyon, France"));

        let nothing = login_at(None, None, None);
        assert_eq!(nothing.location(), None);
    }

    #[test]
    fn login_json_has_no_private_columns() {
        let login = login_at(None, None, None);
        let json = serde_json::to_value(&login).unwrap();
        let object = json.as_object().unwrap();
        for hidden in [
            "session_id",
            "token_hash",
            "remember_selector",
            "user_id",
            "user_agent",
        ] {
            assert!(
                !object.contains_key(hidden),
                "{hidden} must not be serialized"
            );
        }
        assert!(object.contains_key("is_current"));
        assert!(object.contains_key("last_activity_at"));
    }

    #[test]
    fn login_id_round_trips_through_text() {
        let id = LoginId::new();
        let parsed: LoginId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert!("not-a-uuid".parse::<LoginId>().is_err());
    }
}
