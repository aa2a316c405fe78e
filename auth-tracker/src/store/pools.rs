//! Connection pools shared by the tracker and the database-backed geolocation provider.

use diesel::r2d2::{ConnectionManager, Pool};

/// Failure to open a pool.
#[derive(Debug)]
pub(crate) enum OpenPoolError {
    /// The first connection failed, with the database's own message. `database` is the
    /// path or the URL with its password hidden.
    Connection {
        database: String,
        source: diesel::ConnectionError,
    },
    /// The pool could not be built.
    Pool(diesel::r2d2::PoolError),
}

impl From<OpenPoolError> for crate::Error {
    fn from(error: OpenPoolError) -> Self {
        match error {
            OpenPoolError::Connection { database, source } => Self::Connection { database, source },
            OpenPoolError::Pool(error) => Self::Pool(error),
        }
    }
}

/// Opens a pool on a SQLite file, creating the file if needed, with the pragmas every
/// connection needs.
///
/// One direct connection comes first, with the same pragmas, so a bad path or a file
/// that is not a SQLite database fails at once with SQLite's own message instead of
/// after the pool's connection timeout.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_pool(
    path: &str,
) -> Result<Pool<ConnectionManager<diesel::SqliteConnection>>, OpenPoolError> {
    use diesel::r2d2::CustomizeConnection;

    let connection_error = |source| OpenPoolError::Connection {
        database: path.to_owned(),
        source,
    };
    let mut first = <diesel::SqliteConnection as diesel::Connection>::establish(path)
        .map_err(connection_error)?;
    super::SqlitePragmas
        .on_acquire(&mut first)
        .map_err(|error| match error {
            diesel::r2d2::Error::QueryError(query_error) => connection_error(
                diesel::ConnectionError::CouldntSetupConfiguration(query_error),
            ),
            diesel::r2d2::Error::ConnectionError(source) => connection_error(source),
        })?;
    // r2d2 pings each connection on checkout by default, which runs `SELECT 1` before
    // every query. A SQLite connection is an open file that no server can drop, so the
    // ping only costs time.
    Pool::builder()
        .connection_customizer(Box::new(super::SqlitePragmas))
        .test_on_check_out(false)
        .build(ConnectionManager::new(path))
        .map_err(OpenPoolError::Pool)
}

/// Opens a pool on a PostgreSQL URL. One direct connection comes first, so an
/// unreachable server or bad credentials fail at once with the server's message.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_pool(
    url: &str,
) -> Result<Pool<ConnectionManager<diesel::PgConnection>>, OpenPoolError> {
    <diesel::PgConnection as diesel::Connection>::establish(url).map_err(|source| {
        OpenPoolError::Connection {
            database: crate::tracker::redact_url(url),
            source,
        }
    })?;
    Pool::builder()
        .build(ConnectionManager::new(url))
        .map_err(OpenPoolError::Pool)
}

/// Opens a pool on a `mysql://` URL, for MySQL or MariaDB. One direct connection comes
/// first, so an unreachable server or bad credentials fail at once with the server's
/// message.
#[cfg(feature = "mysql")]
pub(crate) fn mysql_pool(
    url: &str,
) -> Result<Pool<ConnectionManager<diesel::MysqlConnection>>, OpenPoolError> {
    <diesel::MysqlConnection as diesel::Connection>::establish(url).map_err(|source| {
        OpenPoolError::Connection {
            database: crate::tracker::redact_url(url),
            source,
        }
    })?;
    Pool::builder()
        .build(ConnectionManager::new(url))
        .map_err(OpenPoolError::Pool)
}
