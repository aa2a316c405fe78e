//! SQL text of every query, written once with `?` placeholders.

use super::PruneCriterion;

/// Backend differences that reach the SQL text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SqlDialect {
    /// PostgreSQL numbers its placeholders (`$1`); SQLite and MySQL take `?`.
    pub(crate) numbered_placeholders: bool,
    /// Expression that reads `ip_data` as JSON text.
    pub(crate) ip_data_as_text: &'static str,
    /// Placeholder that writes JSON text into `ip_data`.
    pub(crate) ip_data_param: &'static str,
}

/// Rows recorded before a given one: by creation time, then by id for equal times.
const EARLIER: &str = "AND (created_at < ? OR (created_at = ? AND id < ?))";

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: SqlDialect = SqlDialect {
    numbered_placeholders: false,
    ip_data_as_text: "ip_data",
    ip_data_param: "?",
};

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: SqlDialect = SqlDialect {
    numbered_placeholders: true,
    ip_data_as_text: "ip_data::text",
    ip_data_param: "CAST(? AS JSONB)",
};

/// MySQL and MariaDB. MySQL 8 stores JSON in a binary format, so reads cast it back to
/// text. MariaDB's JSON is LONGTEXT with a validity check, and the cast is a no-op there.
/// Writes bind the JSON as text on both.
#[cfg(feature = "mysql")]
pub(crate) const MYSQL: SqlDialect = SqlDialect {
    numbered_placeholders: false,
    ip_data_as_text: "CAST(ip_data AS CHAR)",
    ip_data_param: "?",
};

impl SqlDialect {
    /// Returns the SQL text of every query the store sends, by name, with two ids where
    /// a query takes a list. The query-plan tests run `EXPLAIN` on each one.
    pub(crate) fn every_query(&self, table: &str) -> Vec<(&'static str, String)> {
        vec![
            ("insert", self.insert(table)),
            ("find", self.find(table)),
            ("list_active", self.list_active(table)),
            ("find_owned", self.find_owned(table)),
            (
                "select_unrevoked",
                self.select_unrevoked(table, false, true),
            ),
            (
                "select_unrevoked_sessions",
                self.select_unrevoked(table, false, false),
            ),
            (
                "select_unrevoked_except",
                self.select_unrevoked(table, true, true),
            ),
            (
                "select_unrevoked_sessions_except",
                self.select_unrevoked(table, true, false),
            ),
            ("find_by_selector", self.find_by_selector(table)),
            ("find_by_token_hash", self.find_by_token_hash(table)),
            ("bind_session", self.bind_session(table)),
            ("count_same_device", self.count_same_device(table)),
            ("count_same_country", self.count_same_country(table)),
            ("revoke", self.revoke(table, 2)),
            ("touch", self.touch(table)),
            (
                "select_prunable_revoked",
                self.select_prunable(table, PruneCriterion::Revoked),
            ),
            (
                "select_prunable_expired",
                self.select_prunable(table, PruneCriterion::Expired),
            ),
            (
                "select_prunable_idle",
                self.select_prunable(table, PruneCriterion::Idle),
            ),
            ("delete_ids", self.delete_ids(table, 2)),
            ("select_ip_blankable", self.select_ip_blankable(table)),
            ("blank_ips", self.blank_ips(table, 2)),
            ("set_location", self.set_location(table)),
        ]
    }

    /// Rewrites `?` placeholders for this backend. The SQL text here never contains a
    /// literal `?`, so every one is a placeholder.
    pub(crate) fn finish(&self, sql: String) -> String {
        if !self.numbered_placeholders {
            return sql;
        }
        let mut numbered = String::with_capacity(sql.len() + 16);
        let mut index = 0;
        for ch in sql.chars() {
            if ch == '?' {
                index += 1;
                numbered.push('$');
                numbered.push_str(&index.to_string());
            } else {
                numbered.push(ch);
            }
        }
        numbered
    }

    fn columns(&self) -> String {
        format!(
            "id, user_type, user_id, kind, name, session_id, token_hash, remember_selector, \
             remember_verifier_hash, user_agent, ip_address, \
             device, device_type, platform, platform_version, browser, browser_version, \
             city, region, country, country_code, {} AS ip_data, created_at, \
             last_activity_at, expires_at, revoked_at, revoke_reason",
            self.ip_data_as_text
        )
    }

    pub(crate) fn insert(&self, table: &str) -> String {
        self.finish(format!(
            "INSERT INTO {table} (id, user_type, user_id, kind, name, session_id, token_hash, \
             remember_selector, remember_verifier_hash, user_agent, ip_address, device, \
             device_type, platform, platform_version, browser, browser_version, created_at, \
             last_activity_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
    }

    pub(crate) fn find(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT {} FROM {table} WHERE id = ?",
            self.columns()
        ))
    }

    /// Binds: user_type, user_id, now (expiry), idle cutoff.
    pub(crate) fn list_active(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT {} FROM {table} \
             WHERE user_type = ? AND user_id = ? AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?) \
             AND (kind <> 'session' OR remember_selector IS NOT NULL OR last_activity_at > ?) \
             ORDER BY last_activity_at DESC, id DESC",
            self.columns()
        ))
    }

    /// Binds: user_type, user_id, id.
    pub(crate) fn find_owned(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT id, kind, name, session_id, revoked_at FROM {table} \
             WHERE user_type = ? AND user_id = ? AND id = ?"
        ))
    }

    /// Binds: user_type, user_id, then the excluded id when `excluding` is set.
    pub(crate) fn select_unrevoked(
        &self,
        table: &str,
        excluding: bool,
        include_tokens: bool,
    ) -> String {
        let exclusion = if excluding { " AND id <> ?" } else { "" };
        let kinds = if include_tokens {
            ""
        } else {
            " AND kind = 'session'"
        };
        self.finish(format!(
            "SELECT id, kind, name, session_id, revoked_at FROM {table} \
             WHERE user_type = ? AND user_id = ? AND revoked_at IS NULL{exclusion}{kinds}"
        ))
    }

    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn find_by_selector(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT {} FROM {table} WHERE remember_selector = ?",
            self.columns()
        ))
    }

    pub(crate) fn find_by_token_hash(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT {} FROM {table} WHERE token_hash = ?",
            self.columns()
        ))
    }

    /// Binds: session id, now, id.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn bind_session(&self, table: &str) -> String {
        self.finish(format!(
            "UPDATE {table} SET session_id = ?, last_activity_at = ? \
             WHERE id = ? AND revoked_at IS NULL"
        ))
    }

    /// Binds: user_type, user_id, then the earlier-than predicate's created_at,
    /// created_at and id, then browser, platform, device (empty text for none).
    pub(crate) fn count_same_device(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT COUNT(*) AS count FROM {table} \
             WHERE user_type = ? AND user_id = ? {EARLIER} \
             AND COALESCE(browser, '') = ? AND COALESCE(platform, '') = ? \
             AND COALESCE(device, '') = ?"
        ))
    }

    /// Binds: user_type, user_id, created_at, created_at, id, country code.
    pub(crate) fn count_same_country(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT COUNT(*) AS count FROM {table} \
             WHERE user_type = ? AND user_id = ? {EARLIER} AND country_code = ?"
        ))
    }

    /// Binds: revoked_at, revoke_reason, user_type, user_id, then `ids` ids.
    ///
    /// The owner predicate is grouped apart from the id list, so no id can reach
    /// another owner's row whatever the list holds.
    pub(crate) fn revoke(&self, table: &str, ids: usize) -> String {
        let placeholders = vec!["?"; ids].join(", ");
        self.finish(format!(
            "UPDATE {table} SET revoked_at = ?, revoke_reason = ? \
             WHERE (user_type = ? AND user_id = ?) AND revoked_at IS NULL \
             AND id IN ({placeholders})"
        ))
    }

    /// Binds: now, session id (or null to keep it), id, stale-before, session id twice.
    pub(crate) fn touch(&self, table: &str) -> String {
        self.finish(format!(
            "UPDATE {table} SET last_activity_at = ?, session_id = COALESCE(?, session_id) \
             WHERE id = ? AND revoked_at IS NULL \
             AND (last_activity_at < ? \
                  OR (? IS NOT NULL AND (session_id IS NULL OR session_id <> ?)))"
        ))
    }

    /// Selects up to `limit` ids of rows that one prune criterion deletes, oldest first.
    ///
    /// Binds: the cutoff, then the limit. Each criterion walks one index from its oldest
    /// entry and stops at the limit, so no batch reads the whole range and no planner
    /// prefers a table scan for the `LIMIT`. The scale tests check both in the plans.
    pub(crate) fn select_prunable(&self, table: &str, criterion: PruneCriterion) -> String {
        let (predicate, order) = match criterion {
            PruneCriterion::Revoked => ("revoked_at < ?", "revoked_at"),
            PruneCriterion::Expired => ("expires_at < ?", "expires_at"),
            // These terms match the `WHERE` clause of the partial index on SQLite and
            // PostgreSQL, and the leading columns of the composite index on MySQL.
            PruneCriterion::Idle => (
                "kind = 'session' AND remember_selector IS NULL AND last_activity_at < ?",
                "last_activity_at",
            ),
        };
        self.finish(format!(
            "SELECT id FROM {table} WHERE {predicate} ORDER BY {order} LIMIT ?"
        ))
    }

    /// Binds: `ids` ids.
    pub(crate) fn delete_ids(&self, table: &str, ids: usize) -> String {
        let placeholders = vec!["?"; ids].join(", ");
        self.finish(format!("DELETE FROM {table} WHERE id IN ({placeholders})"))
    }

    /// Selects up to `limit` ids of rows created before a cutoff that still hold an IP
    /// address, in id order after a given id.
    ///
    /// Binds: after-id, created-before, limit. `created_at` has no index, so the scan
    /// walks the primary key from the previous batch's last id instead of restarting.
    pub(crate) fn select_ip_blankable(&self, table: &str) -> String {
        self.finish(format!(
            "SELECT id FROM {table} \
             WHERE id > ? AND created_at < ? AND ip_address IS NOT NULL \
             ORDER BY id LIMIT ?"
        ))
    }

    /// Binds: `ids` ids.
    pub(crate) fn blank_ips(&self, table: &str, ids: usize) -> String {
        let placeholders = vec!["?"; ids].join(", ");
        self.finish(format!(
            "UPDATE {table} SET ip_address = NULL \
             WHERE ip_address IS NOT NULL AND id IN ({placeholders})"
        ))
    }

    /// Binds: city, region, country, country_code, ip_data, id.
    pub(crate) fn set_location(&self, table: &str) -> String {
        let ip_data = self.ip_data_param;
        self.finish(format!(
            "UPDATE {table} SET city = ?, region = ?, country = ?, country_code = ?, \
             ip_data = {ip_data} WHERE id = ?"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_numbers_placeholders() {
        let sql = POSTGRES.revoke("logins", 2);
        assert!(sql.contains("revoked_at = $1, revoke_reason = $2"));
        assert!(sql.contains("id IN ($5, $6)"));
        assert!(!sql.contains('?'));
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_keeps_question_marks() {
        let sql = SQLITE.find("logins");
        assert!(sql.ends_with("WHERE id = ?"));
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_keeps_question_marks_and_casts_json() {
        let sql = MYSQL.find("logins");
        assert!(sql.ends_with("WHERE id = ?"));
        assert!(sql.contains("CAST(ip_data AS CHAR) AS ip_data"));
    }
}
