-- auth-tracker: one row per login (browser session or API token), SQLite.
CREATE TABLE IF NOT EXISTS logins (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    user_type VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('session', 'token')),
    name TEXT,
    session_id VARCHAR(255),
    token_hash VARCHAR(64),
    remember_selector VARCHAR(64),
    remember_verifier_hash VARCHAR(64),
    user_agent TEXT,
    ip_address VARCHAR(45),
    device TEXT,
    device_type VARCHAR(16),
    platform TEXT,
    platform_version TEXT,
    browser TEXT,
    browser_version TEXT,
    city TEXT,
    region TEXT,
    country TEXT,
    country_code TEXT,
    ip_data TEXT CHECK (ip_data IS NULL OR json_valid(ip_data)),
    created_at TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoke_reason VARCHAR(32)
);
-- Listing a user's active logins by activity, revoking them, and finding new devices.
CREATE INDEX IF NOT EXISTS logins_owner_idx ON logins (user_type, user_id, revoked_at, last_activity_at);
-- Finding the login of a session id, when a session store reports one.
CREATE INDEX IF NOT EXISTS logins_session_id_idx ON logins (session_id);
-- Authenticating API tokens and remember-me cookies.
CREATE UNIQUE INDEX IF NOT EXISTS logins_token_hash_idx ON logins (token_hash);
CREATE UNIQUE INDEX IF NOT EXISTS logins_remember_selector_idx ON logins (remember_selector);
-- Pruning expired, idle and revoked rows.
CREATE INDEX IF NOT EXISTS logins_expires_at_idx ON logins (expires_at);
CREATE INDEX IF NOT EXISTS logins_revoked_at_idx ON logins (revoked_at);
-- Only the sessions that can expire when idle, so pruning them never walks past tokens
-- and remembered sessions. The WHERE clause must match the prune query's terms.
CREATE INDEX IF NOT EXISTS logins_idle_idx ON logins (last_activity_at)
    WHERE kind = 'session' AND remember_selector IS NULL;
