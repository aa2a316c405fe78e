-- auth-tracker: one row per login (browser session or API token), MySQL 8 and MariaDB 10.11.
-- Indexes are declared inside CREATE TABLE because MySQL 8 has no CREATE INDEX IF NOT EXISTS.
-- The binary collation makes user ids, session ids, token hashes and remember-me
-- selectors compare case-sensitively, as on SQLite and PostgreSQL.
-- NOTE: utf8mb4_bin still ignores trailing spaces in comparisons (PAD SPACE), so 'a'
-- and 'a ' are the same user id here.
-- DATETIME(6) keeps the microseconds of every timestamp.
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
    ip_data JSON,
    created_at DATETIME(6) NOT NULL,
    last_activity_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6),
    revoked_at DATETIME(6),
    revoke_reason VARCHAR(32),
    -- Listing a user's active logins by activity, revoking them, and finding new devices.
    INDEX logins_owner_idx (user_type, user_id, revoked_at, last_activity_at),
    -- Finding the login of a session id, when a session store reports one.
    INDEX logins_session_id_idx (session_id),
    -- Authenticating API tokens and remember-me cookies.
    UNIQUE INDEX logins_token_hash_idx (token_hash),
    UNIQUE INDEX logins_remember_selector_idx (remember_selector),
    -- Pruning expired, idle and revoked rows.
    INDEX logins_expires_at_idx (expires_at),
    INDEX logins_revoked_at_idx (revoked_at),
    -- Idle sessions: MySQL has no partial indexes, so the prune query's equality terms
    -- lead the key and tokens and remembered sessions sort apart from them.
    INDEX logins_idle_idx (kind, remember_selector, last_activity_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
