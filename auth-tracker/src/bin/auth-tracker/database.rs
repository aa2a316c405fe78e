//! Checking and opening the database named by `--database-url`.

use std::path::Path;

use auth_tracker::Tracker;

use crate::{CliError, CliResult};

/// Returns the database URL, or an error that explains how to pass one.
pub(crate) fn require_url(url: Option<&str>) -> CliResult<&str> {
    match url {
        Some(url) if !url.trim().is_empty() => Ok(url),
        _ => Err(CliError::new(
            "missing database: pass --database-url or set DATABASE_URL",
        )),
    }
}

/// Rejects URL schemes that no backend reads, and SQLite paths whose folder is missing,
/// so the error names the problem instead of SQLite's "unable to open database file".
/// With `must_exist`, a SQLite file that does not exist is rejected too.
pub(crate) fn check_url(url: &str, must_exist: bool) -> CliResult {
    let path = match url.split_once("://") {
        Some(("sqlite", path)) => path,
        Some(("postgres" | "postgresql" | "mysql" | "mariadb", _)) => return Ok(()),
        Some((scheme, _)) => {
            return Err(CliError::new(format!(
                "invalid database URL scheme {scheme:?}: use a SQLite file path or a postgres:// or mysql:// URL"
            )));
        }
        None => url,
    };
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }

    let path = Path::new(path);
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = folder
        && !folder.is_dir()
    {
        return Err(CliError::new(format!(
            "folder {} not found for SQLite database {}: create it or pass another --database-url",
            folder.display(),
            path.display()
        )));
    }
    if must_exist && !path.is_file() {
        return Err(CliError::new(format!(
            "SQLite database {} not found",
            path.display()
        )));
    }
    Ok(())
}

/// Opens the tracker on a checked database URL.
pub(crate) fn open_tracker(url: Option<&str>) -> CliResult<Tracker> {
    let url = require_url(url)?;
    check_url(url, false)?;
    Ok(Tracker::connect(url)?)
}
