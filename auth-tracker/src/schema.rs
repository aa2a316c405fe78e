//! Diesel schema of the default `logins` table, for applications that query it directly.
//!
//! `ip_data` is left out because its SQL type differs by backend (`JSONB` on
//! PostgreSQL, JSON text on SQLite); read it through [`Login::ip_data`](crate::Login::ip_data).
//! Timestamps are UTC.

diesel::table! {
    /// One row per login: a browser session or an API token.
    logins (id) {
        /// Public login id, a UUID as text.
        id -> Text,
        /// Owner's type name.
        user_type -> Text,
        /// Owner's key as text.
        user_id -> Text,
        /// `session` or `token`.
        kind -> Text,
        /// Token name or device label.
        name -> Nullable<Text>,
        /// Current session-store id of a session login. Secret: never show it.
        session_id -> Nullable<Text>,
        /// SHA-256 of an API token's secret, in hex.
        token_hash -> Nullable<Text>,
        /// Public half of the remember-me token.
        remember_selector -> Nullable<Text>,
        /// SHA-256 of the remember-me verifier, in hex.
        remember_verifier_hash -> Nullable<Text>,
        /// Raw `User-Agent` header, capped.
        user_agent -> Nullable<Text>,
        /// Client IP address.
        ip_address -> Nullable<Text>,
        /// Device family.
        device -> Nullable<Text>,
        /// Device class.
        device_type -> Nullable<Text>,
        /// Operating system family.
        platform -> Nullable<Text>,
        /// Operating system version.
        platform_version -> Nullable<Text>,
        /// Browser family.
        browser -> Nullable<Text>,
        /// Browser version.
        browser_version -> Nullable<Text>,
        /// City.
        city -> Nullable<Text>,
        /// Region.
        region -> Nullable<Text>,
        /// Country name.
        country -> Nullable<Text>,
        /// ISO 3166-1 alpha-2 country code.
        country_code -> Nullable<Text>,
        /// When the login was recorded.
        created_at -> Timestamp,
        /// Last request seen, throttled.
        last_activity_at -> Timestamp,
        /// Absolute expiry.
        expires_at -> Nullable<Timestamp>,
        /// When the login was revoked.
        revoked_at -> Nullable<Timestamp>,
        /// Reason for the revocation.
        revoke_reason -> Nullable<Text>,
    }
}
