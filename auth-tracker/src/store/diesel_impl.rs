//! [`LoginStore`] for each Diesel backend, over an r2d2 connection pool.
//!
//! One macro writes the implementation once for every backend, because Diesel's
//! generic bounds over raw SQL queries grow unreadable. Backend differences live in
//! [`SqlDialect`](super::sql::SqlDialect) and in the macro's arguments.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sql_query;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel_migrations::MigrationHarness;

use super::sql::SqlDialect;
use super::{LoginRow, LoginStore, NewLogin, PruneCriterion, RevokeTarget, RevokedLogin};
use crate::error::{Error, Result};
use crate::migrations::{Dialect, up_sql};
use crate::model::{LoginId, LoginKind, Owner, RevokeReason};

/// Ids are bound one placeholder each. This chunk size keeps each statement of a revoke
/// or a prune batch well under SQLite's limit of 32,766 bound parameters.
const REVOKE_CHUNK: usize = 500;

#[derive(QueryableByName)]
struct OwnedRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    session_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    revoked_at: Option<NaiveDateTime>,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn revoked_login(row: OwnedRow) -> Result<RevokedLogin> {
    let id = parse_id(&row.id)?;
    let kind = LoginKind::from_column(&row.kind)
        .ok_or_else(|| Error::CorruptRow(format!("login {id} has unknown kind {:?}", row.kind)))?;
    Ok(RevokedLogin {
        id,
        kind,
        name: row.name,
        session_id: row.session_id,
    })
}

fn parse_id(text: &str) -> Result<LoginId> {
    text.parse()
        .map_err(|_| Error::CorruptRow(format!("id {text:?} is not a UUID")))
}

macro_rules! diesel_login_store {
    (
        $(#[$meta:meta])*
        $store:ident,
        connection = $connection:ty,
        backend = $backend:ty,
        sql = $sql:expr,
        dialect = $dialect:expr,
        migrations = $migrations:expr,
        transaction = $transaction:ident $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub(crate) struct $store {
            pool: Pool<ConnectionManager<$connection>>,
        }

        impl fmt::Debug for $store {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($store))
                    .field("connections", &self.pool.state().connections)
                    .finish()
            }
        }

        impl $store {
            pub(crate) fn new(pool: Pool<ConnectionManager<$connection>>) -> Self {
                Self { pool }
            }

            fn connection(&self) -> Result<PooledConnection<ConnectionManager<$connection>>> {
                Ok(self.pool.get()?)
            }
        }

        impl LoginStore for $store {
            fn migrate(&self) -> Result<()> {
                let mut connection = self.connection()?;
                connection
                    .run_pending_migrations($migrations)
                    .map_err(|error| Error::Migration(error.to_string()))?;
                Ok(())
            }

            fn create_table(&self, table: &str) -> Result<()> {
                let script = up_sql($dialect, table)?;
                self.connection()?.batch_execute(&script)?;
                Ok(())
            }

            fn insert(&self, table: &str, login: &NewLogin) -> Result<()> {
                let sql: SqlDialect = $sql;
                sql_query(sql.insert(table))
                    .bind::<Text, _>(login.id.to_string())
                    .bind::<Text, _>(&login.owner.user_type)
                    .bind::<Text, _>(&login.owner.user_id)
                    .bind::<Text, _>(login.kind.as_str())
                    .bind::<Nullable<Text>, _>(login.name.as_deref())
                    .bind::<Nullable<Text>, _>(login.session_id.as_deref())
                    .bind::<Nullable<Text>, _>(login.token_hash.as_deref())
                    .bind::<Nullable<Text>, _>(login.remember_selector.as_deref())
                    .bind::<Nullable<Text>, _>(login.remember_verifier_hash.as_deref())
                    .bind::<Nullable<Text>, _>(login.user_agent.as_deref())
                    .bind::<Nullable<Text>, _>(login.ip_address.as_deref())
                    .bind::<Nullable<Text>, _>(login.device.as_deref())
                    .bind::<Nullable<Text>, _>(login.device_type.as_deref())
                    .bind::<Nullable<Text>, _>(login.platform.as_deref())
                    .bind::<Nullable<Text>, _>(login.platform_version.as_deref())
                    .bind::<Nullable<Text>, _>(login.browser.as_deref())
                    .bind::<Nullable<Text>, _>(login.browser_version.as_deref())
                    .bind::<Timestamp, _>(login.created_at)
                    .bind::<Timestamp, _>(login.created_at)
                    .bind::<Nullable<Timestamp>, _>(login.expires_at)
                    .execute(&mut self.connection()?)?;
                Ok(())
            }

            fn find(&self, table: &str, id: LoginId) -> Result<Option<LoginRow>> {
                let sql: SqlDialect = $sql;
                let row = sql_query(sql.find(table))
                    .bind::<Text, _>(id.to_string())
                    .get_result::<LoginRow>(&mut self.connection()?)
                    .optional()?;
                Ok(row)
            }

            fn list_active(
                &self,
                table: &str,
                owner: &Owner,
                now: NaiveDateTime,
                idle_cutoff: NaiveDateTime,
            ) -> Result<Vec<LoginRow>> {
                let sql: SqlDialect = $sql;
                let rows = sql_query(sql.list_active(table))
                    .bind::<Text, _>(&owner.user_type)
                    .bind::<Text, _>(&owner.user_id)
                    .bind::<Timestamp, _>(now)
                    .bind::<Timestamp, _>(idle_cutoff)
                    .load::<LoginRow>(&mut self.connection()?)?;
                Ok(rows)
            }

            fn revoke(
                &self,
                table: &str,
                owner: &Owner,
                target: RevokeTarget,
                reason: RevokeReason,
                now: NaiveDateTime,
            ) -> Result<(u64, Vec<RevokedLogin>)> {
                let sql: SqlDialect = $sql;
                let mut connection = self.connection()?;
                connection.$transaction(|connection| {
                    let candidates: Vec<OwnedRow> = match target {
                        RevokeTarget::One(id) => {
                            let rows = sql_query(sql.find_owned(table))
                                .bind::<Text, _>(&owner.user_type)
                                .bind::<Text, _>(&owner.user_id)
                                .bind::<Text, _>(id.to_string())
                                .load::<OwnedRow>(connection)?;
                            if rows.is_empty() {
                                return Err(Error::LoginNotFound);
                            }
                            rows.into_iter().filter(|row| row.revoked_at.is_none()).collect()
                        }
                        RevokeTarget::AllExcept { kept: Some(kept), include_tokens } => {
                            sql_query(sql.select_unrevoked(table, true, include_tokens))
                                .bind::<Text, _>(&owner.user_type)
                                .bind::<Text, _>(&owner.user_id)
                                .bind::<Text, _>(kept.to_string())
                                .load::<OwnedRow>(connection)?
                        }
                        RevokeTarget::AllExcept { kept: None, include_tokens } => {
                            sql_query(sql.select_unrevoked(table, false, include_tokens))
                                .bind::<Text, _>(&owner.user_type)
                                .bind::<Text, _>(&owner.user_id)
                                .load::<OwnedRow>(connection)?
                        }
                    };

                    let mut revoked_count = 0;
                    for chunk in candidates.chunks(REVOKE_CHUNK) {
                        let mut query = sql_query(sql.revoke(table, chunk.len()))
                            .into_boxed::<$backend>()
                            .bind::<Timestamp, _>(now)
                            .bind::<Text, _>(reason.as_str())
                            .bind::<Text, _>(owner.user_type.clone())
                            .bind::<Text, _>(owner.user_id.clone());
                        for row in chunk {
                            query = query.bind::<Text, _>(row.id.clone());
                        }
                        revoked_count += query.execute(connection)? as u64;
                    }

                    let revoked = candidates
                        .into_iter()
                        .map(revoked_login)
                        .collect::<Result<Vec<_>>>()?;
                    Ok((revoked_count, revoked))
                })
            }

            fn touch(
                &self,
                table: &str,
                id: LoginId,
                now: NaiveDateTime,
                stale_before: NaiveDateTime,
                session_id: Option<&str>,
            ) -> Result<bool> {
                let sql: SqlDialect = $sql;
                let updated = sql_query(sql.touch(table))
                    .bind::<Timestamp, _>(now)
                    .bind::<Nullable<Text>, _>(session_id)
                    .bind::<Text, _>(id.to_string())
                    .bind::<Timestamp, _>(stale_before)
                    .bind::<Nullable<Text>, _>(session_id)
                    .bind::<Nullable<Text>, _>(session_id)
                    .execute(&mut self.connection()?)?;
                Ok(updated > 0)
            }

            fn prune_batch(
                &self,
                table: &str,
                criterion: PruneCriterion,
                cutoff: NaiveDateTime,
                limit: usize,
            ) -> Result<u64> {
                let sql: SqlDialect = $sql;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let mut connection = self.connection()?;
                connection.$transaction(|connection| {
                    let ids = sql_query(sql.select_prunable(table, criterion))
                        .bind::<Timestamp, _>(cutoff)
                        .bind::<BigInt, _>(limit)
                        .load::<IdRow>(connection)?;

                    let mut deleted = 0;
                    for chunk in ids.chunks(REVOKE_CHUNK) {
                        let mut delete = sql_query(sql.delete_ids(table, chunk.len()))
                            .into_boxed::<$backend>();
                        for row in chunk {
                            delete = delete.bind::<Text, _>(row.id.clone());
                        }
                        deleted += delete.execute(connection)? as u64;
                    }
                    Ok(deleted)
                })
            }

            fn blank_ip_batch(
                &self,
                table: &str,
                created_before: NaiveDateTime,
                after: &str,
                limit: usize,
            ) -> Result<(u64, Option<String>)> {
                let sql: SqlDialect = $sql;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let mut connection = self.connection()?;
                // The selection may walk many rows because `created_at` has no index, so it
                // runs before the transaction, and SQLite's write lock covers the updates
                // alone. `created_at` never changes, and the update checks `ip_address` again.
                let ids = sql_query(sql.select_ip_blankable(table))
                    .bind::<Text, _>(after)
                    .bind::<Timestamp, _>(created_before)
                    .bind::<BigInt, _>(limit)
                    .load::<IdRow>(&mut connection)?;
                connection.$transaction(|connection| {
                    let mut blanked = 0;
                    for chunk in ids.chunks(REVOKE_CHUNK) {
                        let mut update = sql_query(sql.blank_ips(table, chunk.len()))
                            .into_boxed::<$backend>();
                        for row in chunk {
                            update = update.bind::<Text, _>(row.id.clone());
                        }
                        blanked += update.execute(connection)? as u64;
                    }
                    Ok((blanked, ids.last().map(|row| row.id.clone())))
                })
            }

            fn set_location(
                &self,
                table: &str,
                id: LoginId,
                location: &crate::geo::Location,
            ) -> Result<()> {
                let sql: SqlDialect = $sql;
                let data = location.data.as_ref().map(|data| data.to_string());
                sql_query(sql.set_location(table))
                    .bind::<Nullable<Text>, _>(location.city.as_deref())
                    .bind::<Nullable<Text>, _>(location.region.as_deref())
                    .bind::<Nullable<Text>, _>(location.country.as_deref())
                    .bind::<Nullable<Text>, _>(location.country_code.as_deref())
                    .bind::<Nullable<Text>, _>(data)
                    .bind::<Text, _>(id.to_string())
                    .execute(&mut self.connection()?)?;
                Ok(())
            }

            fn find_by_selector(&self, table: &str, selector: &str) -> Result<Option<LoginRow>> {
                let sql: SqlDialect = $sql;
                let row = sql_query(sql.find_by_selector(table))
                    .bind::<Text, _>(selector)
                    .get_result::<LoginRow>(&mut self.connection()?)
                    .optional()?;
                Ok(row)
            }

            fn find_by_token_hash(&self, table: &str, token_hash: &str) -> Result<Option<LoginRow>> {
                let sql: SqlDialect = $sql;
                let row = sql_query(sql.find_by_token_hash(table))
                    .bind::<Text, _>(token_hash)
                    .get_result::<LoginRow>(&mut self.connection()?)
                    .optional()?;
                Ok(row)
            }

            fn bind_session(
                &self,
                table: &str,
                id: LoginId,
                session_id: &str,
                now: NaiveDateTime,
            ) -> Result<bool> {
                let sql: SqlDialect = $sql;
                let updated = sql_query(sql.bind_session(table))
                    .bind::<Text, _>(session_id)
                    .bind::<Timestamp, _>(now)
                    .bind::<Text, _>(id.to_string())
                    .execute(&mut self.connection()?)?;
                Ok(updated > 0)
            }

            fn count_same_device(
                &self,
                table: &str,
                owner: &Owner,
                earlier_than: (LoginId, NaiveDateTime),
                device: [Option<&str>; 3],
            ) -> Result<u64> {
                let (id, created_at) = earlier_than;
                let sql: SqlDialect = $sql;
                let [browser, platform, device] = device.map(|part| part.unwrap_or_default());
                let row = sql_query(sql.count_same_device(table))
                    .bind::<Text, _>(&owner.user_type)
                    .bind::<Text, _>(&owner.user_id)
                    .bind::<Timestamp, _>(created_at)
                    .bind::<Timestamp, _>(created_at)
                    .bind::<Text, _>(id.to_string())
                    .bind::<Text, _>(browser)
                    .bind::<Text, _>(platform)
                    .bind::<Text, _>(device)
                    .get_result::<CountRow>(&mut self.connection()?)?;
                Ok(row.count.unsigned_abs())
            }

            fn count_same_country(
                &self,
                table: &str,
                owner: &Owner,
                earlier_than: (LoginId, NaiveDateTime),
                country_code: &str,
            ) -> Result<u64> {
                let (id, created_at) = earlier_than;
                let sql: SqlDialect = $sql;
                let row = sql_query(sql.count_same_country(table))
                    .bind::<Text, _>(&owner.user_type)
                    .bind::<Text, _>(&owner.user_id)
                    .bind::<Timestamp, _>(created_at)
                    .bind::<Timestamp, _>(created_at)
                    .bind::<Text, _>(id.to_string())
                    .bind::<Text, _>(country_code)
                    .get_result::<CountRow>(&mut self.connection()?)?;
                Ok(row.count.unsigned_abs())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
diesel_login_store! {
    /// Logins in SQLite.
    SqliteStore,
    connection = diesel::SqliteConnection,
    backend = diesel::sqlite::Sqlite,
    sql = super::sql::SQLITE,
    dialect = Dialect::Sqlite,
    migrations = crate::migrations::SQLITE,
    transaction = immediate_transaction,
}

#[cfg(feature = "postgres")]
diesel_login_store! {
    /// Logins in PostgreSQL.
    PgStore,
    connection = diesel::PgConnection,
    backend = diesel::pg::Pg,
    sql = super::sql::POSTGRES,
    dialect = Dialect::Postgres,
    migrations = crate::migrations::POSTGRES,
    transaction = transaction,
}

#[cfg(feature = "mysql")]
diesel_login_store! {
    /// Logins in MySQL or MariaDB.
    MysqlStore,
    connection = diesel::MysqlConnection,
    backend = diesel::mysql::Mysql,
    sql = super::sql::MYSQL,
    dialect = Dialect::Mysql,
    migrations = crate::migrations::MYSQL,
    transaction = transaction,
}

/// Connection settings for every pooled SQLite connection: wait for locks instead of
/// failing at once, and let readers run beside the writer.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas;

#[cfg(feature = "sqlite")]
impl diesel::r2d2::CustomizeConnection<diesel::SqliteConnection, diesel::r2d2::Error>
    for SqlitePragmas
{
    fn on_acquire(
        &self,
        connection: &mut diesel::SqliteConnection,
    ) -> std::result::Result<(), diesel::r2d2::Error> {
        connection
            .batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)
    }
}
