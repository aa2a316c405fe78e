//! Helpers shared by the database benchmarks: a migrated SQLite file in a temporary
//! folder, a Tokio runtime, and set-based seeding of the `logins` table.
//!
//! Each bench target includes this module with `mod common;` and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use auth_tracker::Tracker;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use tempfile::TempDir;

/// User-Agent of every benchmark login: Chrome 120 on Windows 10.
pub(crate) const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// `user_type` of every seeded row.
pub(crate) const USER_TYPE: &str = "User";

/// Seeded rows per user, apart from the users a benchmark gives more rows.
pub(crate) const ROWS_PER_USER: u64 = 20;

/// A migrated SQLite database in its own temporary folder, removed on drop.
pub(crate) struct SqliteDb {
    // Dropped last, after the tracker's pool has closed its connections.
    pub(crate) tracker: Tracker,
    pub(crate) path: String,
    _dir: TempDir,
}

impl SqliteDb {
    /// Creates `logins.sqlite3` in a new temporary folder and runs the migrations.
    pub(crate) fn create(runtime: &tokio::runtime::Runtime) -> Self {
        let dir = tempfile::tempdir().expect("failed to create a temporary folder");
        let path: PathBuf = dir.path().join("logins.sqlite3");
        let path = path.to_str().expect("temporary path is UTF-8").to_owned();
        let tracker = Tracker::sqlite(&path).expect("failed to open the SQLite file");
        runtime
            .block_on(tracker.migrate())
            .expect("failed to run the migrations");
        Self {
            tracker,
            path,
            _dir: dir,
        }
    }

    /// Opens a direct connection with the pragmas of the tracker's pool.
    pub(crate) fn connection(&self) -> SqliteConnection {
        let mut connection =
            SqliteConnection::establish(&self.path).expect("failed to open the SQLite file");
        connection
            .batch_execute(SQLITE_PRAGMAS)
            .expect("failed to set the pragmas");
        connection
    }
}

/// The pragmas that auth-tracker sets on each pooled SQLite connection.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Returns a multi-thread runtime with two workers, the core count of the machine the
/// figures in BENCHMARKS.md come from.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("failed to start the Tokio runtime")
}

/// Mix of states of the seeded rows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RowState {
    /// A mix like a live table: per user, 60% active sessions, 10% active tokens, 10%
    /// revoked, 10% expired and 10% idle sessions.
    Mixed,
    /// Active sessions, used recently.
    Active,
    /// Rows that prune deletes: revoked, expired or idle long enough ago, a third each.
    Prunable,
}

/// Inserts `rows` rows with ids `first..first + rows` in one statement.
///
/// `user_of` is an SQL expression of the row number `n` giving the row's `user_id`.
/// Ids are UUID text built from `n`, so seeding the same numbers twice fails on the
/// primary key, and reseeding after a delete restores the same rows.
pub(crate) fn seed(
    connection: &mut SqliteConnection,
    first: u64,
    rows: u64,
    user_of: &str,
    state: RowState,
) {
    if rows == 0 {
        return;
    }
    let last = first + rows - 1;
    // Every row kind takes the same columns; `state_of` picks per row which one it is.
    let state_of = match state {
        RowState::Mixed => "n % 10",
        RowState::Active => "0",
        RowState::Prunable => "7 + n % 3",
    };
    // 0-5: active session, 6: active token, 7: revoked, 8: expired, 9: idle session.
    let sql = format!(
        "WITH RECURSIVE seq(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM seq WHERE n < {last}), \
         rows AS (SELECT n, {user_of} AS owner, {state_of} AS state FROM seq) \
         INSERT INTO logins (id, user_type, user_id, kind, name, session_id, token_hash, \
             user_agent, ip_address, device, device_type, platform, platform_version, \
             browser, browser_version, created_at, last_activity_at, expires_at, \
             revoked_at, revoke_reason) \
         SELECT printf('00000000-0000-7000-8000-%012x', n), '{USER_TYPE}', CAST(owner AS TEXT), \
             CASE state WHEN 6 THEN 'token' ELSE 'session' END, \
             CASE state WHEN 6 THEN 'ci' END, \
             CASE WHEN state <> 6 THEN printf('session-%016x', n) END, \
             CASE state WHEN 6 THEN printf('%064x', n) END, \
             '{USER_AGENT}', '203.0.113.' || (n % 250), 'Other', 'desktop', 'Windows', '10', \
             'Chrome', '120.0.0', \
             strftime('%Y-%m-%d %H:%M:%f', 'now', CASE WHEN state >= 7 THEN '-60 days' ELSE '-1 days' END), \
             strftime('%Y-%m-%d %H:%M:%f', 'now', CASE WHEN state >= 7 THEN '-50 days' \
                 ELSE printf('-%d seconds', n % 3600) END), \
             CASE state WHEN 6 THEN NULL \
                 WHEN 8 THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days') \
                 ELSE strftime('%Y-%m-%d %H:%M:%f', 'now', '+6 days') END, \
             CASE state WHEN 7 THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '-40 days') END, \
             CASE state WHEN 7 THEN 'revoked' END \
         FROM rows"
    );
    connection
        .batch_execute(&sql)
        .unwrap_or_else(|error| panic!("failed to seed {rows} rows: {error}"));
}

/// Seeds `rows` rows of [`RowState::Mixed`] over users of [`ROWS_PER_USER`] rows each,
/// numbered from user 0, and updates the planner statistics.
pub(crate) fn seed_table(connection: &mut SqliteConnection, rows: u64) {
    connection
        .batch_execute("BEGIN")
        .expect("failed to begin the seed");
    seed(
        connection,
        0,
        rows,
        &format!("n / {ROWS_PER_USER}"),
        RowState::Mixed,
    );
    connection
        .batch_execute("COMMIT; ANALYZE;")
        .expect("failed to commit the seed");
}

/// Counts the rows of the `logins` table.
pub(crate) fn count_rows(connection: &mut SqliteConnection) -> u64 {
    use diesel::prelude::*;

    let count: i64 = auth_tracker::schema::logins::table
        .count()
        .get_result(connection)
        .expect("failed to count the rows");
    count.unsigned_abs()
}
