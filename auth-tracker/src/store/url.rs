//! Recognition of database URLs, shared by every type that opens a database from one.

use std::borrow::Cow;

/// Database a URL names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DatabaseUrl<'a> {
    /// A SQLite file path, with any `sqlite://` prefix removed.
    Sqlite(&'a str),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(&'a str),
    /// A `mysql://` URL. Diesel's MySQL client serves MariaDB too but only parses
    /// `mysql://`, so `mariadb://` URLs are rewritten to it.
    Mysql(Cow<'a, str>),
}

/// Sorts a URL by its scheme. Anything without a known scheme is a SQLite path.
pub(crate) fn classify(url: &str) -> DatabaseUrl<'_> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return DatabaseUrl::Postgres(url);
    }
    if let Some(rest) = url.strip_prefix("mariadb://") {
        return DatabaseUrl::Mysql(Cow::Owned(format!("mysql://{rest}")));
    }
    if url.starts_with("mysql://") {
        return DatabaseUrl::Mysql(Cow::Borrowed(url));
    }
    DatabaseUrl::Sqlite(url.strip_prefix("sqlite://").unwrap_or(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_recognises_schemes() {
        assert_eq!(
            classify("postgres://db/app"),
            DatabaseUrl::Postgres("postgres://db/app")
        );
        assert_eq!(
            classify("postgresql://db/app"),
            DatabaseUrl::Postgres("postgresql://db/app")
        );
        assert_eq!(
            classify("mysql://db/app"),
            DatabaseUrl::Mysql("mysql://db/app".into())
        );
        assert_eq!(
            classify("mariadb://db/app"),
            DatabaseUrl::Mysql("mysql://db/app".into())
        );
        assert_eq!(
            classify("sqlite://logins.db"),
            DatabaseUrl::Sqlite("logins.db")
        );
        assert_eq!(
            classify("/var/lib/app/logins.db"),
            DatabaseUrl::Sqlite("/var/lib/app/logins.db")
        );
    }
}
