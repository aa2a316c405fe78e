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

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Error {
    /// Returns 404 for [`Error::LoginNotFound`], which handlers get for another user's
    /// login id, and 500 for everything else, logging it. The body never carries the
    /// error's details.
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;

        if matches!(self, Self::LoginNotFound) {
            return (StatusCode::NOT_FOUND, "login not found").into_response();
        }
        tracing::error!(error = %self, "login tracking failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}

/// Result type of the tracker.
pub type Result<T, E = Error> = std::result::Result<T, E>;
