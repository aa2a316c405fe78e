//! `auth-tracker logins list` and `auth-tracker logins revoke`.

use auth_tracker::{Error, Login, LoginId, Owner, RevokeReason, RevokeScope};
use clap::{ArgGroup, Args, Subcommand};

use crate::{CliError, CliResult, database, runtime};

/// Longest `user_id` and `user_type`: both columns are `VARCHAR(255)`.
const MAX_OWNER_FIELD_LEN: usize = 255;

#[derive(Debug, Args)]
pub(crate) struct LoginsArgs {
    #[command(subcommand)]
    command: LoginsCommand,
}

#[derive(Debug, Subcommand)]
enum LoginsCommand {
    /// List a user's active logins, most recent activity first.
    List(ListArgs),
    /// Revoke one of a user's logins, or all of them, with the reason `administrator`.
    Revoke(RevokeArgs),
}

/// Owner and table options shared by both commands.
#[derive(Debug, Args)]
struct OwnerArgs {
    /// User whose logins to read: the value of the `user_id` column.
    #[arg(long, value_name = "ID")]
    user_id: String,

    /// User model of the logins: the value of the `user_type` column, by default the
    /// user struct's name.
    #[arg(long, value_name = "TYPE", default_value = "User")]
    user_type: String,

    /// Name of the logins table.
    #[arg(long, value_name = "NAME", default_value = "logins")]
    table: String,
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    owner: OwnerArgs,

    /// Print one JSON object per login instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["id", "all"])))]
struct RevokeArgs {
    #[command(flatten)]
    owner: OwnerArgs,

    /// Id (UUID) of the login to revoke.
    #[arg(long, value_name = "LOGIN_ID")]
    id: Option<String>,

    /// Revoke every login of the user, API tokens included.
    #[arg(long)]
    all: bool,
}

pub(crate) fn run(database_url: Option<&str>, args: &LoginsArgs) -> CliResult {
    match &args.command {
        LoginsCommand::List(args) => list(database_url, args),
        LoginsCommand::Revoke(args) => revoke(database_url, args),
    }
}

fn list(database_url: Option<&str>, args: &ListArgs) -> CliResult {
    let owner = owner(&args.owner)?;
    let tracker = database::open_tracker(database_url)?;
    let logins = runtime()?.block_on(tracker.list_logins(&args.owner.table, &owner, None))?;

    if args.json {
        for login in &logins {
            println!("{}", serde_json::to_string(login)?);
        }
    } else if logins.is_empty() {
        println!("no active logins for {} {}", owner.user_type, owner.user_id);
    } else {
        print!("{}", format_table(&logins));
    }
    Ok(())
}

fn revoke(database_url: Option<&str>, args: &RevokeArgs) -> CliResult {
    let owner = owner(&args.owner)?;
    let scope = match &args.id {
        Some(id) => RevokeScope::One(parse_login_id(id)?),
        None => RevokeScope::All,
    };
    let tracker = database::open_tracker(database_url)?;
    let result = runtime()?.block_on(tracker.revoke(
        &args.owner.table,
        &owner,
        scope,
        RevokeReason::Administrator,
        None,
    ));
    let count = match result {
        Ok(count) => count,
        Err(Error::LoginNotFound) => {
            return Err(CliError::new(format!(
                "login {} not found among the logins of {} {}",
                args.id.as_deref().unwrap_or_default(),
                owner.user_type,
                owner.user_id
            )));
        }
        Err(error) => return Err(error.into()),
    };
    println!("revoked {count} logins");
    Ok(())
}

fn owner(args: &OwnerArgs) -> CliResult<Owner> {
    check_owner_field("user id", &args.user_id)?;
    check_owner_field("user type", &args.user_type)?;
    Ok(Owner::new(args.user_type.as_str(), &args.user_id))
}

/// Rejects values that no login can have: empty or blank text, control characters,
/// and text longer than the column.
fn check_owner_field(name: &str, value: &str) -> CliResult {
    let problem = if value.trim().is_empty() {
        "it is empty"
    } else if value.chars().any(char::is_control) {
        "it contains control characters"
    } else if value.len() > MAX_OWNER_FIELD_LEN {
        "it is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(CliError::new(format!(
        "invalid {name} {value:?}: {problem}"
    )))
}

fn parse_login_id(id: &str) -> CliResult<LoginId> {
    id.trim().parse().map_err(|_| {
        CliError::new(format!(
            "invalid login id {id:?}: expected a UUID such as 01890a5d-ac96-774b-bcce-b302099a8057"
        ))
    })
}

/// Formats logins as a table with aligned columns and a header row.
fn format_table(logins: &[Login]) -> String {
    let header = [
        "ID",
        "KIND",
        "BROWSER",
        "PLATFORM",
        "DEVICE",
        "IP ADDRESS",
        "LOCATION",
        "LAST ACTIVITY (UTC)",
    ];
    let rows: Vec<[String; 8]> = logins.iter().map(table_row).collect();

    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut table = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
    }
    table
}

fn table_row(login: &Login) -> [String; 8] {
    let browser = join_version(login.browser.as_deref(), login.browser_version.as_deref());
    let platform = join_version(login.platform.as_deref(), login.platform_version.as_deref());
    [
        login.id.to_string(),
        login.kind.as_str().to_owned(),
        browser,
        platform,
        login.device.clone().unwrap_or_else(|| "-".to_owned()),
        login.ip_address.clone().unwrap_or_else(|| "-".to_owned()),
        login.location().unwrap_or_else(|| "-".to_owned()),
        login
            .last_activity_at
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
    ]
}

fn join_version(family: Option<&str>, version: Option<&str>) -> String {
    match (family, version) {
        (Some(family), Some(version)) => format!("{family} {version}"),
        (Some(family), None) => family.to_owned(),
        (None, _) => "-".to_owned(),
    }
}
