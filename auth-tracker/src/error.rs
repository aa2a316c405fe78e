//! The error type of every fallible tracker call.

/// Errors returned by the tracker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No login with that id belongs to the user. Also returned for another user's login,
    /// so callers cannot probe which ids exist.
    #[error("login not found")]
    LoginNotFound,

    /// A session login was recorded without a session to bind it to.
    #[error("no session is available to record a session login; add the session layer")]
    NoSession,

    /// The configured table name is not a plain SQL identifier.
    #[error(
        "invalid logins table name {0:?}: use 1 to 63 ASCII letters, digits or underscores, not starting with a digit"
    )]
    InvalidTableName(String),

    /// A database URL names a backend that is not compiled in or not recognised.
    #[error("unsupported database URL {0:?}: {1}")]
    UnsupportedDatabase(String, &'static str),

    /// A query failed.
    #[error("database query failed: {0}")]
    Database(#[from] diesel::result::Error),

    /// No pooled connection could be opened.
    #[error("database connection failed: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),

    /// The database could not be opened: a missing folder, a refused connection, bad
    /// credentials.
    #[error("cannot open the database {database}: {source}")]
    Connection {
        /// The SQLite path, or the URL with its password hidden.
        database: String,
        /// The database's own message.
        source: diesel::ConnectionError,
    },

    /// Running the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),

    /// The session store failed while the login's session was cycled, saved or deleted.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    #[error("session store failed: {0}")]
    Session(#[from] tower_sessions::session::Error),

    /// A blocking database task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),

    /// A stored row contains a value the tracker did not write, such as an unknown `kind`.
    #[error("corrupt row in the logins table: {0}")]
    CorruptRow(String),
}

impl Error {
    /// Returns whether the database was unreachable, busy or locked, so the same call
    /// may succeed later. That is no pooled connection within the pool's timeout, a lost
    /// connection, a SQLite file locked by another connection past the busy timeout, or
    /// a transaction that lost a serialization conflict or a deadlock.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error as QueryError};

        match self {
            Self::Pool(_) => true,
            Self::Database(QueryError::DatabaseError(kind, info)) => match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::SerializationFailure => {
                    true
                }
                // Diesel 2 reports SQLITE_BUSY and SQLITE_LOCKED with SQLite's message
                // and no kind of their own.
                // NOTE: MySQL's lost-connection and lock-wait-timeout errors also arrive
                // as `Unknown` and are not recognised here, so they still get a 500.
                DatabaseErrorKind::Unknown => {
                    let message = info.message();
                    message.starts_with("database is locked")
                        || message.starts_with("database table is locked")
                }
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Error {
    /// Returns 404 for [`Error::LoginNotFound`], which handlers get for another user's
    /// login id, 503 when [`Error::is_unavailable`], and 500 for everything else,
    /// logging the last two. The body never carries the error's details.
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;

        if matches!(self, Self::LoginNotFound) {
            return (StatusCode::NOT_FOUND, "login not found").into_response();
        }
        tracing::error!(error = %self, "login tracking failed");
        if self.is_unavailable() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable, try again later",
            )
                .into_response();
        }
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}

/// Result type of the tracker.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as QueryError};

    use super::Error;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::Database(QueryError::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        ))
    }

    #[test]
    fn unavailable_database_errors() {
        let cases = [
            (
                "lost PostgreSQL connection",
                database_error(
                    DatabaseErrorKind::ClosedConnection,
                    "terminating connection due to administrator command",
                ),
                true,
            ),
            (
                "serialization failure",
                database_error(DatabaseErrorKind::SerializationFailure, "deadlock found"),
                true,
            ),
            (
                "SQLite busy",
                database_error(DatabaseErrorKind::Unknown, "database is locked"),
                true,
            ),
            (
                "SQLite table locked",
                database_error(
                    DatabaseErrorKind::Unknown,
                    "database table is locked: logins",
                ),
                true,
            ),
            (
                "other unknown error",
                database_error(DatabaseErrorKind::Unknown, "no such table: logins"),
                false,
            ),
            (
                "unique violation",
                database_error(DatabaseErrorKind::UniqueViolation, "duplicate key"),
                false,
            ),
            (
                "row not found",
                Error::Database(QueryError::NotFound),
                false,
            ),
            ("login not found", Error::LoginNotFound, false),
            ("corrupt row", Error::CorruptRow("id".to_owned()), false),
        ];
        for (case, error, expected) in cases {
            assert_eq!(error.is_unavailable(), expected, "{case}");
        }
    }

    #[cfg(feature = "axum")]
    #[test]
    fn unavailable_database_is_503() {
        use axum::http::StatusCode;
        use axum::response::IntoResponse;

        let locked = database_error(DatabaseErrorKind::Unknown, "database is locked");
        assert_eq!(
            locked.into_response().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let corrupt = Error::CorruptRow("id".to_owned());
        assert_eq!(
            corrupt.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            Error::LoginNotFound.into_response().status(),
            StatusCode::NOT_FOUND
        );
    }
}
