//! Scale: 1,000,000 logins over 50,000 users on a SQLite file, on PostgreSQL and on
//! MySQL or MariaDB. Each backend's test seeds the table that the shipped migrations
//! create and runs the tracker's operations on it, checking their results. It then runs
//! `EXPLAIN` on the SQL text of every query the tracker sends and checks that each reads
//! its index instead of scanning the table, and it prunes in batches. Nothing here
//! asserts on time, but the seeding and each phase print how long they took.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use auth_tracker::agent::NoParser;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::migrations::Dialect;
use auth_tracker::{
    CurrentLogin, Enrichment, LoginId, LoginKind, Owner, PruneOptions, RequestContext,
    RevokeReason, RevokeScope, Tracker,
};
#[cfg(feature = "mysql")]
use auth_tracker_tests::MysqlDatabase;
use auth_tracker_tests::{Demo, PgDatabase};
use chrono::{NaiveDateTime, Utc};
#[cfg(feature = "mysql")]
use diesel::MysqlConnection;
use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, QueryableByName};
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::row::NamedRow;
use diesel::serialize::ToSql;
#[cfg(feature = "mysql")]
use diesel::sql_types::Unsigned;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text, Timestamp};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use reqwest::StatusCode;
use serde_json::Value;

/// Users, with `user_id` `1` to `50000` and `user_type` `User`, like the demo's users.
const USERS: i64 = 50_000;
/// Logins per user. Row `n` belongs to user `n % USERS + 1` and fills slot `n / USERS`.
const SLOTS_PER_USER: i64 = 20;
const ROWS: i64 = USERS * SLOTS_PER_USER;

/// User whose logins the library operations read and revoke.
const USER: i64 = 31_337;
/// The demo's alice, user 1, who signs in over HTTP with a remember-me cookie.
const ALICE: (&str, &str) = ("alice@example.com", "alice-password");

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Retention of the prune run: one day.
const RETENTION: Duration = Duration::from_secs(DAY as u64);
const PRUNE_BATCH: usize = 1_000;

const ENRICHMENT: Enrichment = Enrichment {
    parser: &NoParser,
    ip_provider: ProviderChoice::None,
};

/// One login of every user. Ages are seconds before the seeding time, so a negative
/// `expires_age` is in the future. Each row's timestamps also move back by its user
/// number modulo 3,600 seconds, so users differ and no age crosses into another class.
/// The tracker's default idle timeout is 2 hours and the prune retention 1 day.
#[derive(Clone, Copy, Debug)]
struct Slot {
    kind: &'static str,
    remembered: bool,
    created_age: i64,
    activity_age: i64,
    expires_age: Option<i64>,
    revoked_age: Option<i64>,
    /// Listed by `list_logins`: neither revoked, expired nor idle.
    listed: bool,
    /// Deleted by the prune run.
    pruned: bool,
}

const fn slot(
    kind: &'static str,
    remembered: bool,
    ages: (i64, i64, Option<i64>, Option<i64>),
    listed: bool,
    pruned: bool,
) -> Slot {
    let (created_age, activity_age, expires_age, revoked_age) = ages;
    Slot {
        kind,
        remembered,
        created_age,
        activity_age,
        expires_age,
        revoked_age,
        listed,
        pruned,
    }
}

// Columns: kind, remembered, (created, last activity, expires, revoked) ages, listed,
// pruned.
#[rustfmt::skip]
const SLOTS: [Slot; SLOTS_PER_USER as usize] = [
    // Active API tokens: one used recently, one idle for days (tokens never idle-expire).
    slot("token",   false, (200 * DAY, 10 * MINUTE, None,             None),              true,  false),
    slot("token",   false, (100 * DAY, 3 * DAY,     Some(-365 * DAY), None),              true,  false),
    // Remembered sessions, which stay listed however long they are idle.
    slot("session", true,  (10 * DAY,  DAY,         Some(-20 * DAY),  None),              true,  false),
    slot("session", true,  (5 * DAY,   3 * DAY,     Some(-25 * DAY),  None),              true,  false),
    // Active sessions.
    slot("session", false, (DAY,       10 * MINUTE, Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (DAY,       20 * MINUTE, Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (2 * DAY,   30 * MINUTE, Some(-5 * DAY),   None),              true,  false),
    slot("session", false, (3 * DAY,   40 * MINUTE, Some(-4 * DAY),   None),              true,  false),
    // A session idle for 3 days: past the idle timeout plus the retention.
    slot("session", false, (4 * DAY,   3 * DAY,     Some(-3 * DAY),   None),              false, true),
    // A session idle for 5 hours: expired, but within the retention.
    slot("session", false, (DAY,       5 * HOUR,    Some(-6 * DAY),   None),              false, false),
    // A token that expired 10 days ago.
    slot("token",   false, (40 * DAY,  11 * DAY,    Some(10 * DAY),   None),              false, true),
    // A remembered session that expired 1 hour ago.
    slot("session", true,  (25 * DAY,  2 * DAY,     Some(HOUR),       None),              false, false),
    // A session and a token revoked 40 days ago.
    slot("session", false, (42 * DAY,  41 * DAY,    None,             Some(40 * DAY)),    false, true),
    slot("token",   false, (60 * DAY,  41 * DAY,    None,             Some(40 * DAY)),    false, true),
    // A session revoked 30 minutes ago.
    slot("session", false, (DAY,       40 * MINUTE, Some(-6 * DAY),   Some(30 * MINUTE)), false, false),
    // More active sessions, so a listing contains 13 logins.
    slot("session", false, (DAY,       5 * MINUTE,  Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (DAY,       15 * MINUTE, Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (DAY,       25 * MINUTE, Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (DAY,       35 * MINUTE, Some(-6 * DAY),   None),              true,  false),
    slot("session", false, (DAY,       45 * MINUTE, Some(-6 * DAY),   None),              true,  false),
];

const ACTIVE_SESSION_SLOT: i64 = 4;
const REMEMBERED_SLOT: i64 = 2;
const TOKEN_SLOT: i64 = 0;
const IDLE_SLOT: i64 = 9;
const EXPIRED_SLOT: i64 = 11;
const REVOKED_SLOT: i64 = 14;
const PRUNED_IDLE_SLOT: i64 = 8;

/// Returns the row number of a user's login in a slot.
fn row_number(user: i64, slot: i64) -> i64 {
    slot * USERS + (user - 1)
}

/// Returns the id of a seeded row, as the seeding SQL writes it.
fn seeded_id(user: i64, slot: i64) -> String {
    format!("00000000-0000-4000-8000-{:012x}", row_number(user, slot))
}

fn seeded_login_id(user: i64, slot: i64) -> LoginId {
    seeded_id(user, slot).parse().unwrap()
}

fn seeded_session_id(user: i64, slot: i64) -> String {
    format!("sid-{}", row_number(user, slot))
}

fn seeded_token_hash(user: i64, slot: i64) -> String {
    format!("{:064x}", row_number(user, slot))
}

fn seeded_selector(user: i64, slot: i64) -> String {
    format!("sel-{}", row_number(user, slot))
}

fn slots_where(condition: impl Fn(&Slot) -> bool) -> Vec<i64> {
    (0..SLOTS_PER_USER)
        .filter(|&index| condition(&SLOTS[index as usize]))
        .collect()
}

/// Backend of one scale run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
    #[cfg(feature = "mysql")]
    Mysql,
}

impl Db {
    fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite => Dialect::Sqlite,
            Self::Postgres => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Self::Mysql => Dialect::Mysql,
        }
    }

    fn timestamp(self, at: NaiveDateTime) -> String {
        let text = at.format("%Y-%m-%d %H:%M:%S");
        match self {
            Self::Sqlite => format!("'{text}'"),
            Self::Postgres => format!("TIMESTAMP '{text}'"),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("TIMESTAMP '{text}'"),
        }
    }

    /// Returns SQL for `base` moved back by `seconds`, an integer expression. Null
    /// seconds give null.
    fn minus_seconds(self, base: &str, seconds: &str) -> String {
        match self {
            Self::Sqlite => format!("datetime({base}, (-({seconds})) || ' seconds')"),
            Self::Postgres => format!("({base} - ({seconds}) * INTERVAL '1 second')"),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("({base} - INTERVAL ({seconds}) SECOND)"),
        }
    }

    /// Returns SQL for the lowercase hexadecimal text of `number`, zero-padded to `width`.
    fn hex(self, number: &str, width: usize) -> String {
        match self {
            Self::Sqlite => format!("printf('%0{width}x', {number})"),
            Self::Postgres => format!("lpad(to_hex({number}), {width}, '0')"),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("LPAD(LOWER(HEX({number})), {width}, '0')"),
        }
    }

    fn concat(self, parts: &[&str]) -> String {
        match self {
            Self::Sqlite | Self::Postgres => format!("({})", parts.join(" || ")),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("CONCAT({})", parts.join(", ")),
        }
    }

    fn integer_text(self, number: &str) -> String {
        match self {
            Self::Sqlite | Self::Postgres => format!("CAST({number} AS TEXT)"),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("CAST({number} AS CHAR)"),
        }
    }

    fn analyze(self) -> &'static str {
        match self {
            Self::Sqlite | Self::Postgres => "ANALYZE logins",
            #[cfg(feature = "mysql")]
            Self::Mysql => "ANALYZE TABLE logins",
        }
    }

    /// Returns whether every secondary index ends in the primary key, as InnoDB's do.
    fn appends_primary_key(self) -> bool {
        match self {
            Self::Sqlite | Self::Postgres => false,
            #[cfg(feature = "mysql")]
            Self::Mysql => true,
        }
    }

    /// Name of the primary key's index.
    fn primary_key(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite_autoindex_logins_1",
            Self::Postgres => "logins_pkey",
            #[cfg(feature = "mysql")]
            Self::Mysql => "PRIMARY",
        }
    }

    fn drop_index(self, index: &str) -> String {
        match self {
            Self::Sqlite | Self::Postgres => format!("DROP INDEX {index}"),
            #[cfg(feature = "mysql")]
            Self::Mysql => format!("DROP INDEX {index} ON logins"),
        }
    }
}

/// A direct connection for seeding, counting and `EXPLAIN`, beside the tracker's pool.
enum Raw {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(MysqlConnection),
}

#[derive(Debug)]
struct CountRow {
    count: i64,
}

impl<DB: Backend> QueryableByName<DB> for CountRow
where
    i64: deserialize::FromSql<BigInt, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        Ok(Self {
            count: NamedRow::get::<BigInt, i64>(row, "count")?,
        })
    }
}

#[derive(QueryableByName, Debug)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// One row of SQLite's `EXPLAIN QUERY PLAN`.
#[derive(QueryableByName, Debug)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The one row of PostgreSQL's `EXPLAIN (FORMAT JSON)`, whose column name has a space.
#[derive(Debug)]
struct PgPlanRow {
    plan: String,
}

impl QueryableByName<diesel::pg::Pg> for PgPlanRow {
    fn build<'a>(row: &impl NamedRow<'a, diesel::pg::Pg>) -> deserialize::Result<Self> {
        Ok(Self {
            plan: NamedRow::get::<Text, String>(row, "QUERY PLAN")?,
        })
    }
}

/// One row of MySQL's and MariaDB's tabular `EXPLAIN`.
#[cfg(feature = "mysql")]
#[derive(Debug)]
struct MysqlPlanRow {
    table: Option<String>,
    access_type: Option<String>,
    key: Option<String>,
    rows: Option<u64>,
    extra: Option<String>,
}

#[cfg(feature = "mysql")]
impl QueryableByName<diesel::mysql::Mysql> for MysqlPlanRow {
    fn build<'a>(row: &impl NamedRow<'a, diesel::mysql::Mysql>) -> deserialize::Result<Self> {
        Ok(Self {
            table: NamedRow::get::<Nullable<Text>, Option<String>>(row, "table")?,
            access_type: NamedRow::get::<Nullable<Text>, Option<String>>(row, "type")?,
            key: NamedRow::get::<Nullable<Text>, Option<String>>(row, "key")?,
            // MariaDB sends the estimate as text and MySQL as an unsigned BIGINT.
            rows: match NamedRow::get::<Nullable<Text>, Option<String>>(row, "rows") {
                Ok(rows) => rows.map(|rows| rows.parse()).transpose()?,
                Err(_) => NamedRow::get::<Nullable<Unsigned<BigInt>>, Option<u64>>(row, "rows")?,
            },
            extra: NamedRow::get::<Nullable<Text>, Option<String>>(row, "Extra")?,
        })
    }
}

/// A bound parameter of a query under `EXPLAIN`, typed as the store binds it.
#[derive(Clone, Debug)]
enum Param {
    Text(String),
    NullText,
    Timestamp(NaiveDateTime),
    BigInt(i64),
}

fn text(value: impl Into<String>) -> Param {
    Param::Text(value.into())
}

fn bind_params<'f, DB>(
    mut query: BoxedSqlQuery<'f, DB, SqlQuery>,
    params: &[Param],
) -> BoxedSqlQuery<'f, DB, SqlQuery>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Timestamp> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    i64: ToSql<BigInt, DB>,
{
    for param in params {
        query = match param.clone() {
            Param::Text(value) => query.bind::<Text, _>(value),
            Param::NullText => query.bind::<Nullable<Text>, _>(None::<String>),
            Param::Timestamp(value) => query.bind::<Timestamp, _>(value),
            Param::BigInt(value) => query.bind::<BigInt, _>(value),
        };
    }
    query
}

impl Raw {
    fn open(db: Db, url: &str) -> Self {
        match db {
            Db::Sqlite => Self::Sqlite(SqliteConnection::establish(url).unwrap()),
            Db::Postgres => Self::Postgres(PgConnection::establish(url).unwrap()),
            #[cfg(feature = "mysql")]
            Db::Mysql => Self::Mysql(MysqlConnection::establish(url).unwrap()),
        }
    }

    fn execute(&mut self, sql: &str) {
        let result = match self {
            Self::Sqlite(connection) => connection.batch_execute(sql),
            Self::Postgres(connection) => connection.batch_execute(sql),
            #[cfg(feature = "mysql")]
            Self::Mysql(connection) => connection.batch_execute(sql),
        };
        result.unwrap_or_else(|error| panic!("{sql} failed: {error}"));
    }

    /// Runs a query whose one row has a `count` column.
    fn count(&mut self, sql: &str) -> i64 {
        let query = diesel::sql_query(sql);
        let result = match self {
            Self::Sqlite(connection) => query.get_result::<CountRow>(connection),
            Self::Postgres(connection) => query.get_result::<CountRow>(connection),
            #[cfg(feature = "mysql")]
            Self::Mysql(connection) => query.get_result::<CountRow>(connection),
        };
        result
            .unwrap_or_else(|error| panic!("{sql} failed: {error}"))
            .count
    }

    fn ids(&mut self, sql: &str) -> Vec<String> {
        let query = diesel::sql_query(sql);
        let result = match self {
            Self::Sqlite(connection) => query.load::<IdRow>(connection),
            Self::Postgres(connection) => query.load::<IdRow>(connection),
            #[cfg(feature = "mysql")]
            Self::Mysql(connection) => query.load::<IdRow>(connection),
        };
        result
            .unwrap_or_else(|error| panic!("{sql} failed: {error}"))
            .into_iter()
            .map(|row| row.id)
            .collect()
    }

    /// Runs `EXPLAIN` on `sql` with `params` bound and returns the plan.
    fn explain(&mut self, sql: &str, params: &[Param]) -> Plan {
        match self {
            Self::Sqlite(connection) => {
                let query = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).into_boxed();
                let rows = bind_params(query, params)
                    .load::<SqlitePlanRow>(connection)
                    .unwrap_or_else(|error| panic!("EXPLAIN {sql} failed: {error}"));
                Plan::Sqlite(rows.into_iter().map(|row| row.detail).collect())
            }
            Self::Postgres(connection) => {
                let query = diesel::sql_query(format!("EXPLAIN (FORMAT JSON) {sql}")).into_boxed();
                let row = bind_params(query, params)
                    .get_result::<PgPlanRow>(connection)
                    .unwrap_or_else(|error| panic!("EXPLAIN {sql} failed: {error}"));
                Plan::Postgres(serde_json::from_str(&row.plan).unwrap())
            }
            #[cfg(feature = "mysql")]
            Self::Mysql(connection) => {
                let query = diesel::sql_query(format!("EXPLAIN {sql}")).into_boxed();
                let rows = bind_params(query, params)
                    .load::<MysqlPlanRow>(connection)
                    .unwrap_or_else(|error| panic!("EXPLAIN {sql} failed: {error}"));
                Plan::Mysql(rows)
            }
        }
    }
}

/// A query plan as the backend reports it.
#[derive(Debug)]
enum Plan {
    Sqlite(Vec<String>),
    Postgres(Value),
    #[cfg(feature = "mysql")]
    Mysql(Vec<MysqlPlanRow>),
}

impl Plan {
    /// Returns the indexes the plan reads `logins` through, or an error naming a full
    /// scan of `logins`, or a sort when `expectation.ordered` is set. For a point lookup,
    /// the row estimate must be a few rows where the backend gives one, because on MySQL
    /// a lookup by id may read a secondary index that ends in the primary key.
    fn logins_indexes(&self, expectation: &Expectation) -> Result<BTreeSet<String>, String> {
        let mut indexes = BTreeSet::new();
        match self {
            Self::Sqlite(details) => {
                for detail in details {
                    if detail.starts_with("SCAN logins") {
                        return Err(format!("full scan: {detail}"));
                    }
                    // Also "FOR RIGHT PART OF ORDER BY", SQLite's incremental sort.
                    let sorts =
                        detail.starts_with("USE TEMP B-TREE FOR") && detail.contains("ORDER BY");
                    if expectation.ordered && sorts {
                        return Err(format!("sorts the matching rows: {detail}"));
                    }
                    let Some(access) = detail.strip_prefix("SEARCH logins USING ") else {
                        continue;
                    };
                    let index = access
                        .strip_prefix("COVERING INDEX ")
                        .or_else(|| access.strip_prefix("INDEX "))
                        .and_then(|rest| rest.split_whitespace().next())
                        .ok_or_else(|| format!("search without an index: {detail}"))?;
                    indexes.insert(index.to_owned());
                }
            }
            Self::Postgres(plan) => {
                collect_pg_indexes(&plan[0]["Plan"], expectation, &mut indexes)?;
            }
            #[cfg(feature = "mysql")]
            Self::Mysql(rows) => {
                for row in rows
                    .iter()
                    .filter(|row| row.table.as_deref() == Some("logins"))
                {
                    let access_type = row.access_type.as_deref().unwrap_or_default();
                    if access_type == "ALL" || access_type == "index" {
                        return Err(format!("full scan: type {access_type}"));
                    }
                    let key = row
                        .key
                        .as_deref()
                        .ok_or_else(|| format!("no key for access type {access_type}"))?;
                    let rows = row.rows.unwrap_or(u64::MAX);
                    if expectation.point && rows > MAX_POINT_ROWS {
                        return Err(format!("point lookup estimates {rows} rows"));
                    }
                    let extra = row.extra.as_deref().unwrap_or_default();
                    if expectation.ordered && extra.contains("filesort") {
                        return Err(format!("sorts the matching rows: {extra}"));
                    }
                    indexes.extend(key.split(',').map(str::to_owned));
                }
                if indexes.is_empty()
                    && let Some(extra) = rows.iter().find_map(|row| row.extra.as_deref())
                {
                    return Err(format!("no access to logins: {extra}"));
                }
            }
        }
        Ok(indexes)
    }
}

fn collect_pg_indexes(
    node: &Value,
    expectation: &Expectation,
    indexes: &mut BTreeSet<String>,
) -> Result<(), String> {
    let node_type = node["Node Type"].as_str().unwrap_or_default();
    if node_type == "Seq Scan" && node["Relation Name"] == "logins" {
        return Err("full scan: Seq Scan on logins".to_owned());
    }
    if expectation.ordered && node_type.ends_with("Sort") {
        return Err(format!("sorts the matching rows: {node_type}"));
    }
    if let Some(index) = node["Index Name"].as_str() {
        let rows = node["Plan Rows"].as_u64().unwrap_or(u64::MAX);
        if expectation.point && rows > MAX_POINT_ROWS {
            return Err(format!("point lookup estimates {rows} rows from {index}"));
        }
        indexes.insert(index.to_owned());
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_pg_indexes(child, expectation, indexes)?;
    }
    Ok(())
}

/// Checks that a plan reads `logins` only through `expected` indexes, and at least
/// one of them. The error prints the plan.
fn check_plan(plan: &Plan, expectation: &Expectation, db: Db) -> Result<BTreeSet<String>, String> {
    let expected: Vec<String> = expectation
        .indexes
        .iter()
        .map(|&index| index_name(db, index))
        .collect();
    let verdict = plan.logins_indexes(expectation).and_then(|used| {
        if used.is_empty() {
            return Err("reads logins through no index".to_owned());
        }
        let unexpected: Vec<&String> = used
            .iter()
            .filter(|index| !expected.contains(index))
            .collect();
        if unexpected.is_empty() {
            Ok(used)
        } else {
            Err(format!("reads logins through {unexpected:?}"))
        }
    });
    verdict.map_err(|problem| format!("{problem}, expected one of {expected:?}; plan: {plan:#?}"))
}

/// Role of an index, named per backend by [`index_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Index {
    PrimaryKey,
    Owner,
    TokenHash,
    Selector,
    RevokedAt,
    ExpiresAt,
    Idle,
}

const SECONDARY_INDEXES: [Index; 6] = [
    Index::Owner,
    Index::TokenHash,
    Index::Selector,
    Index::RevokedAt,
    Index::ExpiresAt,
    Index::Idle,
];

fn index_name(db: Db, index: Index) -> String {
    match index {
        Index::PrimaryKey => db.primary_key().to_owned(),
        Index::Owner => "logins_owner_idx".to_owned(),
        Index::TokenHash => "logins_token_hash_idx".to_owned(),
        Index::Selector => "logins_remember_selector_idx".to_owned(),
        Index::RevokedAt => "logins_revoked_at_idx".to_owned(),
        Index::ExpiresAt => "logins_expires_at_idx".to_owned(),
        Index::Idle => "logins_idle_idx".to_owned(),
    }
}

/// Most rows a point lookup may estimate on PostgreSQL and MySQL.
const MAX_POINT_ROWS: u64 = 10;

/// What a query's plan must show.
#[derive(Debug)]
struct Expectation {
    params: Vec<Param>,
    /// Indexes the plan may read `logins` through.
    indexes: Vec<Index>,
    /// Whether the query finds rows by primary key or a unique key.
    point: bool,
    /// Whether the query reads the first rows in index order under a `LIMIT`, so a sort
    /// of every matching row would make each batch cost as much as the whole range.
    ordered: bool,
}

/// Values bound to the queries under `EXPLAIN`: real rows of [`USER`]. MariaDB reads a
/// constant row while planning, and a missing one gives no plan but "Impossible WHERE".
struct Probe {
    now: NaiveDateTime,
    user: String,
    session_id: String,
    id: String,
    other_id: String,
}

impl Probe {
    fn new(now: NaiveDateTime) -> Self {
        Self {
            now,
            user: USER.to_string(),
            session_id: seeded_session_id(USER, ACTIVE_SESSION_SLOT),
            id: seeded_id(USER, ACTIVE_SESSION_SLOT),
            other_id: seeded_id(USER, ACTIVE_SESSION_SLOT + 1),
        }
    }

    fn ago(&self, seconds: i64) -> Param {
        Param::Timestamp(self.now - chrono::Duration::seconds(seconds))
    }

    /// Returns the parameters and the index expectation of a query, or `None` for a
    /// query that reads no rows.
    fn expectation(&self, db: Db, name: &str) -> Option<Expectation> {
        let owner = || vec![text("User"), text(&self.user)];
        let with = |mut params: Vec<Param>, more: Vec<Param>| {
            params.extend(more);
            params
        };
        let id = || text(&self.id);
        let batch = Param::BigInt(PRUNE_BATCH as i64);
        // `id = ? AND revoked_at IS NULL` may be one entry of (revoked_at, id) where
        // secondary indexes end in the primary key.
        let mut by_id_unrevoked = vec![Index::PrimaryKey];
        if db.appends_primary_key() {
            by_id_unrevoked.push(Index::RevokedAt);
        }
        let point = |params: Vec<Param>, indexes: Vec<Index>| Expectation {
            params,
            indexes,
            point: true,
            ordered: false,
        };
        let range = |params: Vec<Param>, indexes: Vec<Index>| Expectation {
            params,
            indexes,
            point: false,
            ordered: false,
        };
        let batch_range = |params: Vec<Param>, indexes: Vec<Index>| Expectation {
            params,
            indexes,
            point: false,
            ordered: true,
        };
        let expectation = match name {
            "insert" => return None,
            "find" => point(vec![id()], vec![Index::PrimaryKey]),
            "list_active" => range(
                with(owner(), vec![self.ago(0), self.ago(2 * HOUR)]),
                vec![Index::Owner],
            ),
            "find_owned" => point(
                with(owner(), vec![id()]),
                vec![Index::PrimaryKey, Index::Owner],
            ),
            "select_unrevoked" | "select_unrevoked_sessions" => range(owner(), vec![Index::Owner]),
            "select_unrevoked_except" | "select_unrevoked_sessions_except" => {
                range(with(owner(), vec![id()]), vec![Index::Owner])
            }
            "find_by_selector" => point(
                vec![text(seeded_selector(USER, REMEMBERED_SLOT))],
                vec![Index::Selector],
            ),
            "find_by_token_hash" => point(
                vec![text(seeded_token_hash(USER, TOKEN_SLOT))],
                vec![Index::TokenHash],
            ),
            "bind_session" => point(
                vec![text(&self.session_id), self.ago(0), id()],
                by_id_unrevoked,
            ),
            "count_same_device" => range(
                with(
                    owner(),
                    vec![
                        self.ago(0),
                        self.ago(0),
                        id(),
                        text("Firefox"),
                        text("Windows"),
                        text(""),
                    ],
                ),
                vec![Index::Owner],
            ),
            "count_same_country" => range(
                with(owner(), vec![self.ago(0), self.ago(0), id(), text("GB")]),
                vec![Index::Owner],
            ),
            "revoke" => {
                let mut indexes = by_id_unrevoked;
                indexes.push(Index::Owner);
                point(
                    with(
                        vec![self.ago(0), text("revoked")],
                        with(owner(), vec![id(), text(&self.other_id)]),
                    ),
                    indexes,
                )
            }
            "touch" => point(
                vec![
                    self.ago(0),
                    text(&self.session_id),
                    id(),
                    self.ago(MINUTE),
                    text(&self.session_id),
                    text(&self.session_id),
                ],
                by_id_unrevoked,
            ),
            "select_prunable_revoked" => {
                batch_range(vec![self.ago(DAY), batch], vec![Index::RevokedAt])
            }
            "select_prunable_expired" => {
                batch_range(vec![self.ago(DAY), batch], vec![Index::ExpiresAt])
            }
            "select_prunable_idle" => {
                batch_range(vec![self.ago(DAY + 2 * HOUR), batch], vec![Index::Idle])
            }
            "delete_ids" | "blank_ips" => {
                point(vec![id(), text(&self.other_id)], vec![Index::PrimaryKey])
            }
            // A walk of the primary key from the previous batch's last id.
            "select_ip_blankable" => batch_range(
                vec![text(""), self.ago(30 * DAY), batch],
                vec![Index::PrimaryKey],
            ),
            "set_location" => point(
                vec![
                    text("London"),
                    text("England"),
                    text("United Kingdom"),
                    text("GB"),
                    Param::NullText,
                    id(),
                ],
                vec![Index::PrimaryKey],
            ),
            other => panic!(
                "query {other:?} has no plan expectation in this test: add its parameters and indexes"
            ),
        };
        Some(expectation)
    }
}

/// Checks the plan of every query the tracker sends and prints the indexes each reads.
fn check_every_plan(db: Db, raw: &mut Raw, probe: &Probe) {
    let queries = auth_tracker::__private::query_texts(db.dialect(), "logins").unwrap();
    let mut failures = Vec::new();
    for (name, sql) in &queries {
        let Some(expectation) = probe.expectation(db, name) else {
            continue;
        };
        let plan = raw.explain(sql, &expectation.params);
        match check_plan(&plan, &expectation, db) {
            Ok(used) => eprintln!("{db:?} plan of {name}: {used:?}"),
            Err(problem) => failures.push(format!("{name}: {problem}\nSQL: {sql}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries on {db:?} do not read their index:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n\n")
    );
}

/// Drops each secondary index in turn and checks that the plan check now fails for
/// every query that may read only that index, so a dropped or renamed index fails the
/// scale test. The table is left without secondary indexes.
fn check_plan_checker_catches_dropped_indexes(db: Db, raw: &mut Raw, probe: &Probe) {
    let queries = auth_tracker::__private::query_texts(db.dialect(), "logins").unwrap();
    for dropped in SECONDARY_INDEXES {
        raw.execute(&db.drop_index(&index_name(db, dropped)));
        let mut caught = 0;
        for (name, sql) in &queries {
            let Some(expectation) = probe.expectation(db, name) else {
                continue;
            };
            if expectation.indexes != [dropped] {
                continue;
            }
            let plan = raw.explain(sql, &expectation.params);
            assert!(
                check_plan(&plan, &expectation, db).is_err(),
                "{db:?}: with {dropped:?} dropped, the plan check still passes {name}: {plan:#?}"
            );
            caught += 1;
        }
        assert!(caught > 0, "no query reads only {dropped:?}");
    }
}

/// Creates the tables that the seeding joins: ten digits and the twenty slots.
fn create_seed_tables(raw: &mut Raw) {
    raw.execute("CREATE TABLE scale_digits (d INTEGER NOT NULL)");
    raw.execute(
        "INSERT INTO scale_digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)",
    );
    raw.execute(
        "CREATE TABLE scale_slots (k INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, \
         remembered INTEGER NOT NULL, created_age BIGINT NOT NULL, \
         activity_age BIGINT NOT NULL, expires_age BIGINT, revoked_age BIGINT)",
    );
    let values: Vec<String> = SLOTS
        .iter()
        .enumerate()
        .map(|(k, slot)| {
            let optional = |age: Option<i64>| age.map_or("NULL".to_owned(), |age| age.to_string());
            format!(
                "({k}, '{}', {}, {}, {}, {}, {})",
                slot.kind,
                i32::from(slot.remembered),
                slot.created_age,
                slot.activity_age,
                optional(slot.expires_age),
                optional(slot.revoked_age)
            )
        })
        .collect();
    raw.execute(&format!(
        "INSERT INTO scale_slots (k, kind, remembered, created_age, activity_age, \
         expires_age, revoked_age) VALUES {}",
        values.join(", ")
    ));
}

/// Returns one `INSERT ... SELECT` that writes every seeded row: the 50,000 users, made
/// from five joined digit tables, crossed with the twenty slots.
fn seed_sql(db: Db, now: NaiveDateTime) -> String {
    let base = db.timestamp(now);
    let n = format!("(s.k * {USERS} + u.u)");
    let jitter = "(u.u % 3600)";
    let at = |age_column: &str| db.minus_seconds(&base, &format!("s.{age_column} + {jitter}"));
    let uuid = db.concat(&["'00000000-0000-4000-8000-'", &db.hex(&n, 12)]);
    let user_id = db.integer_text("(u.u + 1)");
    let session_id = db.concat(&["'sid-'", &db.integer_text(&n)]);
    let selector = db.concat(&["'sel-'", &db.integer_text(&n)]);
    let hash = db.hex(&n, 64);
    let users = format!(
        "SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS u \
         FROM scale_digits a CROSS JOIN scale_digits b CROSS JOIN scale_digits c \
         CROSS JOIN scale_digits e CROSS JOIN scale_digits f WHERE f.d < {}",
        USERS / 10_000
    );
    format!(
        "INSERT INTO logins (id, user_type, user_id, kind, name, session_id, token_hash, \
         remember_selector, remember_verifier_hash, user_agent, ip_address, device, \
         device_type, platform, platform_version, browser, browser_version, city, region, \
         country, country_code, created_at, last_activity_at, expires_at, revoked_at, \
         revoke_reason) \
         SELECT {uuid}, 'User', {user_id}, s.kind, \
         CASE WHEN s.kind = 'token' THEN 'seeded token' END, \
         CASE WHEN s.kind = 'session' THEN {session_id} END, \
         CASE WHEN s.kind = 'token' THEN {hash} END, \
         CASE WHEN s.remembered = 1 THEN {selector} END, \
         CASE WHEN s.remembered = 1 THEN {hash} END, \
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', \
         '203.0.113.7', NULL, 'desktop', 'Windows', '10', 'Firefox', '133.0', \
         'London', 'England', 'United Kingdom', 'GB', \
         {created_at}, {activity_at}, {expires_at}, {revoked_at}, \
         CASE WHEN s.revoked_age IS NOT NULL THEN 'user' END \
         FROM ({users}) u CROSS JOIN scale_slots s",
        created_at = at("created_age"),
        activity_at = at("activity_age"),
        expires_at = at("expires_age"),
        revoked_at = at("revoked_age"),
    )
}

/// Seeds 1,000,000 rows into the migrated table and refreshes the planner statistics.
///
/// On SQLite and PostgreSQL the secondary indexes are dropped first and created again
/// afterwards by the shipped migration script, which builds each one in a single sort
/// instead of 1,000,000 inserts. MySQL's script declares them inside `CREATE TABLE`, so
/// there they stay in place.
fn seed(db: Db, raw: &mut Raw, now: NaiveDateTime) {
    let started = Instant::now();
    let secondary_indexes = match db {
        Db::Sqlite => {
            // A larger page cache than the default 2 MB keeps the index inserts in memory.
            raw.execute("PRAGMA cache_size = -262144");
            raw.ids(
                "SELECT name AS id FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = 'logins' AND sql IS NOT NULL \
                 ORDER BY name",
            )
        }
        Db::Postgres => {
            raw.execute("SET maintenance_work_mem = '256MB'");
            raw.ids(
                "SELECT indexname AS id FROM pg_indexes \
                 WHERE tablename = 'logins' AND indexname <> 'logins_pkey' ORDER BY indexname",
            )
        }
        #[cfg(feature = "mysql")]
        Db::Mysql => Vec::new(),
    };
    for index in &secondary_indexes {
        raw.execute(&db.drop_index(index));
    }

    create_seed_tables(raw);
    raw.execute(&seed_sql(db, now));
    raw.execute("DROP TABLE scale_slots");
    raw.execute("DROP TABLE scale_digits");

    if !secondary_indexes.is_empty() {
        raw.execute(&auth_tracker::migrations::up_sql(db.dialect(), "logins").unwrap());
    }
    let seeded = started.elapsed();
    raw.execute(db.analyze());
    eprintln!(
        "{db:?}: seeded {ROWS} rows in {seeded:.1?}, analyzed in {:.1?}",
        started.elapsed() - seeded
    );
    assert_eq!(raw.count("SELECT COUNT(*) AS count FROM logins"), ROWS);
}

/// Runs the tracker's operations on [`USER`] among 1,000,000 rows and checks results.
async fn check_operations(tracker: &Tracker) {
    let owner = Owner::new("User", USER);
    let table = "logins";

    let listed = tracker.list_logins(table, &owner, None).await.unwrap();
    let listed_ids: BTreeSet<LoginId> = listed.iter().map(|login| login.id).collect();
    let expected_ids: BTreeSet<LoginId> = slots_where(|slot| slot.listed)
        .into_iter()
        .map(|slot| seeded_login_id(USER, slot))
        .collect();
    assert_eq!(listed_ids, expected_ids, "listed logins of user {USER}");
    assert!(
        listed
            .windows(2)
            .all(|pair| pair[0].last_activity_at >= pair[1].last_activity_at),
        "listing is ordered by activity, newest first"
    );
    assert!(listed.iter().all(|login| login.user_id == USER.to_string()));

    // The per-request check of a session: active, idle, expired and revoked logins.
    let session = |slot: i64| CurrentLogin {
        id: seeded_login_id(USER, slot),
        table: table.to_owned(),
    };
    let checked = tracker
        .check_login(
            &session(ACTIVE_SESSION_SLOT),
            Some(seeded_session_id(USER, ACTIVE_SESSION_SLOT)),
        )
        .await
        .unwrap()
        .expect("the active session passes the per-request check");
    assert_eq!(checked.id, seeded_login_id(USER, ACTIVE_SESSION_SLOT));
    for slot in [IDLE_SLOT, EXPIRED_SLOT, REVOKED_SLOT] {
        let rejected = tracker
            .check_login(&session(slot), Some(seeded_session_id(USER, slot)))
            .await
            .unwrap();
        assert!(
            rejected.is_none(),
            "slot {slot} fails the per-request check"
        );
    }
    let found = tracker
        .find_active_login(table, &owner, seeded_login_id(USER, ACTIVE_SESSION_SLOT))
        .await
        .unwrap()
        .expect("find_active_login finds the current login");
    assert!(found.is_current);

    // Tokens: one created by the tracker, checked by id, and one recorded by hash.
    let request = RequestContext::new(Some("192.0.2.10".parse().unwrap()), None);
    let created = tracker
        .create_token(table, owner.clone(), "scale", ENRICHMENT, &request)
        .await
        .unwrap();
    let by_token = tracker
        .check_token(table, created.token.expose())
        .await
        .unwrap()
        .expect("a created token passes its check");
    assert_eq!(by_token.id, created.login.id);
    let recorded = tracker
        .record_token_login(
            table,
            owner.clone(),
            "jwt",
            "scale-jwt-id",
            None,
            ENRICHMENT,
            &request,
        )
        .await
        .unwrap();
    let by_hash = tracker
        .check_token_id(table, "scale-jwt-id")
        .await
        .unwrap()
        .expect("a recorded token id passes its check");
    assert_eq!(by_hash.id, recorded.id);
    assert_eq!(by_hash.kind, LoginKind::Token);
    assert!(
        tracker
            .check_token_id(table, "unknown-jwt-id")
            .await
            .unwrap()
            .is_none()
    );

    // Revoking one login, then every other one of this user.
    let revoked_one = tracker
        .revoke(
            table,
            &owner,
            RevokeScope::One(created.login.id),
            RevokeReason::Revoked,
            None,
        )
        .await
        .unwrap();
    assert_eq!(revoked_one, 1);
    let kept = seeded_login_id(USER, ACTIVE_SESSION_SLOT);
    let revoked_others = tracker
        .revoke(
            table,
            &owner,
            RevokeScope::AllExcept(Some(kept)),
            RevokeReason::RevokedOthers,
            Some(kept),
        )
        .await
        .unwrap();
    // Every unrevoked seeded row but the kept one, idle and expired ones included,
    // plus the recorded token.
    let unrevoked_seeded = slots_where(|slot| slot.revoked_age.is_none()).len() as u64;
    assert_eq!(revoked_others, unrevoked_seeded - 1 + 1);
    let left = tracker
        .list_logins(table, &owner, Some(kept))
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, kept);
    assert!(left[0].is_current);

    // The neighbours' logins are untouched.
    for neighbour in [USER - 1, USER + 1] {
        let listed = tracker
            .list_logins(table, &Owner::new("User", neighbour), None)
            .await
            .unwrap();
        assert_eq!(listed.len(), expected_ids.len(), "user {neighbour}");
    }
}

/// Signs alice in on the demo over HTTP with a remember-me cookie, comes back with only
/// that cookie, and signs out her other devices, all among 1,000,000 rows.
async fn check_demo_remember(database_url: &str) {
    let demo = Demo::start(database_url).await;
    let browser = demo.browser("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0");
    let response = browser
        .post(demo.url("/login"))
        .form(&[
            ("email", ALICE.0),
            ("password", ALICE.1),
            ("remember", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let remember = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.split(';').next()?.strip_prefix("remember="))
        .expect("a remember-me cookie")
        .to_owned();

    let logins = list_over_http(&demo, &browser).await;
    let seeded_listed = slots_where(|slot| slot.listed).len();
    assert_eq!(
        logins.len(),
        seeded_listed + 1,
        "alice's seeded and new logins"
    );
    let signed_in = current_id(&logins);

    // A browser with nothing but the remember-me cookie is bound to the same login.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("remember={remember}"),
        &demo.base_url.parse().unwrap(),
    );
    let returning = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let logins = list_over_http(&demo, &returning).await;
    assert_eq!(current_id(&logins), signed_in);

    let response = returning
        .post(demo.url("/logins/revoke-others"))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let unrevoked_seeded = slots_where(|slot| slot.revoked_age.is_none()).len();
    assert_eq!(body["revoked"], unrevoked_seeded);
    let logins = list_over_http(&demo, &returning).await;
    assert_eq!(logins.len(), 1);
    assert_eq!(current_id(&logins), signed_in);
}

async fn list_over_http(demo: &Demo, client: &reqwest::Client) -> Vec<Value> {
    let response = client.get(demo.url("/api/logins")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn current_id(logins: &[Value]) -> String {
    let current: Vec<&Value> = logins
        .iter()
        .filter(|login| login["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "one current login in {logins:?}");
    current[0]["id"].as_str().unwrap().to_owned()
}

/// Counts the rows the prune run must delete, by the same rules, with a table scan.
fn count_prunable(db: Db, raw: &mut Raw, now: NaiveDateTime, criteria: &str) -> i64 {
    let retention = db.timestamp(now - chrono::Duration::seconds(DAY));
    let idle = db.timestamp(now - chrono::Duration::seconds(DAY + 2 * HOUR));
    let revoked = format!("revoked_at < {retention}");
    let expired = format!("expires_at < {retention}");
    let idle =
        format!("(kind = 'session' AND remember_selector IS NULL AND last_activity_at < {idle})");
    let predicate = match criteria {
        "revoked or expired" => format!("{revoked} OR {expired}"),
        "all" => format!("{revoked} OR {expired} OR {idle}"),
        other => panic!("unknown criteria {other}"),
    };
    raw.count(&format!(
        "SELECT COUNT(*) AS count FROM logins WHERE {predicate}"
    ))
}

/// Prunes with a one-day retention and checks the counts and the batches.
///
/// On PostgreSQL and MySQL another connection first locks a row that only the last
/// criterion, idle sessions, deletes, so prune blocks on that row. While it is locked,
/// every revoked and expired row that prune deletes must disappear for a third
/// connection: their batches committed before prune reached the lock, which one long
/// transaction would not allow.
async fn check_prune(db: Db, url: &str, tracker: &Tracker) {
    let mut raw = Raw::open(db, url);
    let now = Utc::now().naive_utc();
    let before = raw.count("SELECT COUNT(*) AS count FROM logins");
    let prunable = count_prunable(db, &mut raw, now, "all");
    let seeded_prunable = slots_where(|slot| slot.pruned).len() as i64 * USERS;
    // Revoking logins earlier in this test made none of them prunable, because the
    // retention counts from the revocation.
    assert_eq!(prunable, seeded_prunable, "rows the prune run must delete");

    let locker = (db != Db::Sqlite).then(|| {
        let mut locker = Raw::open(db, url);
        let locked_id = seeded_id(USER + 1, PRUNED_IDLE_SLOT);
        locker.execute("BEGIN");
        let locked = locker.ids(&format!(
            "SELECT id FROM logins WHERE id = '{locked_id}' FOR UPDATE"
        ));
        assert_eq!(locked.len(), 1, "row {locked_id} exists");
        locker
    });

    let started = Instant::now();
    let options = PruneOptions::new(RETENTION).with_batch_size(PRUNE_BATCH);
    let finished = Arc::new(AtomicBool::new(false));
    let pruning = {
        let tracker = tracker.clone();
        let finished = Arc::clone(&finished);
        tokio::spawn(async move {
            let report = tracker.prune("logins", options).await;
            finished.store(true, Ordering::SeqCst);
            report
        })
    };
    let committed_before_lock = match locker {
        Some(locker) => {
            let url = url.to_owned();
            let finished = Arc::clone(&finished);
            tokio::task::spawn_blocking(move || {
                wait_for_committed_batches(db, &url, locker, now, &finished)
            })
            .await
            .unwrap()
        }
        None => true,
    };
    let report = pruning.await.unwrap().unwrap();
    assert!(
        committed_before_lock,
        "revoked and expired rows stayed visible while prune waited on a locked idle row"
    );
    eprintln!(
        "{db:?}: pruned {} rows in {} batches in {:.1?}",
        report.deleted,
        report.delete_batches,
        started.elapsed()
    );

    assert_eq!(report.deleted, prunable as u64);
    assert!(
        report.delete_batches >= report.deleted.div_ceil(PRUNE_BATCH as u64),
        "batches of at most {PRUNE_BATCH} rows: {report:?}"
    );
    assert_eq!(
        raw.count("SELECT COUNT(*) AS count FROM logins"),
        before - prunable
    );
    assert_eq!(count_prunable(db, &mut raw, now, "all"), 0);
    let again = tracker
        .prune("logins", PruneOptions::new(RETENTION))
        .await
        .unwrap();
    assert_eq!(again.deleted, 0);

    // Listings are unchanged by the prune.
    let neighbour = tracker
        .list_logins("logins", &Owner::new("User", USER + 2), None)
        .await
        .unwrap();
    assert_eq!(neighbour.len(), slots_where(|slot| slot.listed).len());
}

/// Polls, from its own connection, the revoked and expired rows that prune deletes
/// until none is visible, then rolls back `locker`'s transaction to release its lock.
/// Returns whether none was visible before prune finished or two minutes passed.
fn wait_for_committed_batches(
    db: Db,
    url: &str,
    mut locker: Raw,
    now: NaiveDateTime,
    finished: &AtomicBool,
) -> bool {
    let mut observer = Raw::open(db, url);
    // The deadline bounds the wait and does not time prune. MySQL's default lock wait
    // timeout of 50 seconds may end prune first, and then `finished` ends the loop.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut committed = false;
    while !finished.load(Ordering::SeqCst) && Instant::now() < deadline {
        if count_prunable(db, &mut observer, now, "revoked or expired") == 0 {
            committed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    locker.execute("ROLLBACK");
    committed
}

/// Runs the whole scale check on one backend.
async fn run_scale(db: Db, url: &str, tracker_url: &str) {
    let started = Instant::now();
    let tracker = Tracker::connect(tracker_url).unwrap();
    tracker.migrate().await.unwrap();
    let now = Utc::now().naive_utc();
    let mut raw = Raw::open(db, url);
    seed(db, &mut raw, now);

    let phase = Instant::now();
    let probe = Probe::new(now);
    check_every_plan(db, &mut raw, &probe);
    eprintln!("{db:?}: checked the plans in {:.1?}", phase.elapsed());

    let phase = Instant::now();
    check_operations(&tracker).await;
    check_demo_remember(tracker_url).await;
    eprintln!("{db:?}: ran the operations in {:.1?}", phase.elapsed());

    check_prune(db, url, &tracker).await;

    let phase = Instant::now();
    check_plan_checker_catches_dropped_indexes(db, &mut raw, &probe);
    eprintln!(
        "{db:?}: checked the plan checker in {:.1?}; whole test {:.1?}",
        phase.elapsed(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("scale.sqlite3");
    let path = path.to_str().unwrap();
    run_scale(Db::Sqlite, path, path).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_postgres() {
    let Some(database) = PgDatabase::create() else {
        return;
    };
    run_scale(Db::Postgres, &database.url, &database.url).await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_mysql() {
    let Some(database) = MysqlDatabase::create() else {
        return;
    };
    run_scale(Db::Mysql, &database.url, &database.url).await;
}

#[test]
fn slots_cover_every_class() {
    let listed = slots_where(|slot| slot.listed).len();
    let pruned = slots_where(|slot| slot.pruned).len();
    assert_eq!(listed, 13);
    assert_eq!(pruned, 4);
    let by_kind: BTreeMap<&str, usize> = SLOTS.iter().fold(BTreeMap::new(), |mut map, slot| {
        *map.entry(slot.kind).or_default() += 1;
        map
    });
    assert_eq!(by_kind["token"], 4);
    assert!(SLOTS.iter().all(|slot| !(slot.listed && slot.pruned)));
}
