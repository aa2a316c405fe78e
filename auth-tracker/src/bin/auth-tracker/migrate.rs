//! `auth-tracker migrate`.

use clap::Args;

use crate::{CliResult, database, runtime};

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Name of a logins table to create instead of running the embedded migrations,
    /// which create `logins`. 1 to 63 ASCII letters, digits or underscores.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
}

pub(crate) fn run(database_url: Option<&str>, args: &MigrateArgs) -> CliResult {
    let tracker = database::open_tracker(database_url)?;
    runtime()?.block_on(async {
        match &args.table {
            Some(table) => tracker.create_table(table).await,
            None => tracker.migrate().await,
        }
    })?;
    let table = args.table.as_deref().unwrap_or("logins");
    println!("table {table} is up to date");
    Ok(())
}
