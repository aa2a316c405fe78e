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

    /// A stored row holds a value the tracker did not write, such as an unknown `kind`.
    #[error("corrupt row in the logins table: {0}")]
    CorruptRow(String),
}

/// Result type of the tracker.
pub type Result<T, E = Error> = std::result::Result<T, E>;
