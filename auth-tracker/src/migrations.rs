//! Migrations that create the logins table, embedded and as plain SQL.
//!
//! [`Tracker::migrate`](crate::Tracker::migrate) runs the embedded Diesel migrations,
//! which share the application's `__diesel_schema_migrations` table under versions
//! named `auth_tracker_*`. Applications that manage their own migrations can copy
//! [`up_sql`] into one instead. Every statement uses `IF NOT EXISTS`, so running it
//! again is harmless.

use crate::error::Result;
use crate::table::validate_table_name;

/// Embedded migrations for SQLite.
#[cfg(feature = "sqlite")]
pub const SQLITE: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// Embedded migrations for PostgreSQL.
#[cfg(feature = "postgres")]
pub const POSTGRES: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");

/// Embedded migrations for MySQL and MariaDB.
#[cfg(feature = "mysql")]
pub const MYSQL: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/mysql");

/// SQL dialect of a migration script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.35 or later.
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
    /// MySQL 8.0.16 or later, or MariaDB 10.11 or later.
    // NOTE: the test suites run on MariaDB 10.11 only; MySQL 8 is untested.
    Mysql,
}

const SQLITE_UP: &str =
    include_str!("../migrations/sqlite/2026-12-04-000000_auth_tracker_create_logins/up.sql");
const POSTGRES_UP: &str =
    include_str!("../migrations/postgres/2026-12-04-000000_auth_tracker_create_logins/up.sql");
const MYSQL_UP: &str =
    include_str!("../migrations/mysql/2026-12-04-000000_auth_tracker_create_logins/up.sql");

/// Returns the SQL that creates the logins table and its indexes under `table`.
///
/// # Errors
///
/// [`Error::InvalidTableName`](crate::Error::InvalidTableName) unless `table` is a plain
/// SQL identifier.
pub fn up_sql(dialect: Dialect, table: &str) -> Result<String> {
    let table = validate_table_name(table)?;
    let script = match dialect {
        Dialect::Sqlite => SQLITE_UP,
        Dialect::Postgres => POSTGRES_UP,
        Dialect::Mysql => MYSQL_UP,
    };
    Ok(rename_table(script, table))
}

/// Replaces the identifier `logins` and the `logins_` index-name prefix outside comments.
fn rename_table(script: &str, table: &str) -> String {
    let mut renamed = String::with_capacity(script.len());
    for line in script.lines() {
        if line.trim_start().starts_with("--") {
            renamed.push_str(line);
        } else {
            renamed.push_str(&line.replace("logins", table));
        }
        renamed.push('\n');
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_sql_renames_table_and_indexes() {
        let sql = up_sql(Dialect::Postgres, "staff_logins").unwrap();
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS staff_logins ("));
        assert!(sql.contains("staff_logins_owner_idx ON staff_logins"));
        let statements = sql.lines().filter(|line| !line.starts_with("--"));
        for line in statements {
            assert!(!line.contains(" logins"), "unrenamed line: {line}");
        }
    }

    #[test]
    fn mysql_up_sql_renames_inline_indexes() {
        let sql = up_sql(Dialect::Mysql, "staff_logins").unwrap();
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS staff_logins ("));
        assert!(sql.contains("INDEX staff_logins_owner_idx (user_type"));
        let statements = sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"));
        for line in statements {
            assert!(!line.contains(" logins"), "unrenamed line: {line}");
        }
    }

    #[test]
    fn up_sql_rejects_injection() {
        assert!(up_sql(Dialect::Sqlite, "logins; DROP TABLE users").is_err());
    }
}
