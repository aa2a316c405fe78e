//! `auth-tracker`: operator commands for the logins table, User-Agent parsing and IP
//! geolocation. Every error is printed as one `error: ...` line on standard error,
//! with exit status 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod database;
mod import_ip2location;
mod logins;
mod lookup_ip;
mod migrate;
mod parse_ua;
mod prune;

/// Operator commands of auth-tracker.
#[derive(Debug, Parser)]
#[command(name = "auth-tracker", version, about)]
struct Cli {
    /// Database of the logins table: a SQLite file path (optionally `sqlite://PATH`) or a
    /// `postgres://` or `mysql://` URL. Needed by every command except `parse-ua` and `lookup-ip`.
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "URL")]
    database_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the logins table and its indexes. Running it again changes nothing.
    Migrate(migrate::MigrateArgs),
    /// Parse User-Agents and print one JSON object per User-Agent.
    ParseUa(parse_ua::ParseUaArgs),
    /// Geolocate one IP address from a local database and print the result as JSON.
    LookupIp(lookup_ip::LookupIpArgs),
    /// Import an IP2Location LITE DB3 CSV file into the database.
    #[command(name = "import-ip2location")]
    ImportIp2Location(import_ip2location::ImportArgs),
    /// List or revoke a user's logins.
    Logins(logins::LoginsArgs),
    /// Delete old revoked and expired logins and optionally blank old IP addresses.
    Prune(prune::PruneArgs),
}

/// Error of a command: one line of text for standard error.
#[derive(Debug)]
struct CliError(String);

impl CliError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

type CliResult<T = ()> = Result<T, CliError>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let database_url = cli.database_url.as_deref();
    let result = match cli.command {
        Command::Migrate(args) => migrate::run(database_url, &args),
        Command::ParseUa(args) => parse_ua::run(&args),
        Command::LookupIp(args) => lookup_ip::run(&args),
        Command::ImportIp2Location(args) => import_ip2location::run(database_url, &args),
        Command::Logins(args) => logins::run(database_url, &args),
        Command::Prune(args) => prune::run(database_url, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = one_line(&error.0);
            match missing_table_hint(&message) {
                Some(hint) => eprintln!("error: {message}; {hint}"),
                None => eprintln!("error: {message}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Joins the lines of a message, such as a multi-line PostgreSQL error, with spaces.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Returns what to run first when `message` is a database's missing-table error:
/// SQLite's `no such table: T`, PostgreSQL's `relation "T" does not exist` or MySQL's
/// `Table 'db.T' doesn't exist`.
fn missing_table_hint(message: &str) -> Option<&'static str> {
    let missing = message.contains("no such table")
        || (message.contains("relation \"") && message.contains("does not exist"))
        || (message.contains("Table '") && message.contains("doesn't exist"));
    if !missing {
        return None;
    }
    if message.contains("ip2location") {
        Some("import the IP2Location CSV files with `auth-tracker import-ip2location` first")
    } else {
        Some("create the table with `auth-tracker migrate` first")
    }
}

/// Builds the runtime that the tracker's async calls run on.
fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .map_err(|error| CliError::new(format!("failed to start the async runtime: {error}")))
}

#[cfg(test)]
mod tests {
    use super::missing_table_hint;

    #[test]
    fn missing_table_hint_per_backend() {
        let migrate = Some("create the table with `auth-tracker migrate` first");
        assert_eq!(missing_table_hint("no such table: logins"), migrate);
        assert_eq!(
            missing_table_hint("relation \"logins\" does not exist"),
            migrate
        );
        assert_eq!(
            missing_table_hint("Table 'test.logins' doesn't exist"),
            migrate
        );
        assert!(
            missing_table_hint("no such table: ip2location_db3_v4")
                .is_some_and(|hint| hint.contains("import-ip2location")),
            "IP2Location tables point to the importer"
        );
        assert_eq!(missing_table_hint("database is locked"), None);
    }
}
