//! `auth-tracker import-ip2location`.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use auth_tracker::geo::ip2location::{DEFAULT_TABLE_PREFIX, Ip2Location, IpFamily};
use clap::{Args, ValueEnum};

use crate::{CliError, CliResult, database};

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Address family of the file: `v4` for IP2LOCATION-LITE-DB3.CSV, `v6` for
    /// IP2LOCATION-LITE-DB3.IPV6.CSV.
    #[arg(long, value_enum)]
    family: Family,

    /// IP2Location LITE DB3 CSV file to import. Its rows replace the table's rows.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Prefix of the IP2Location tables, which are named PREFIX_v4 and PREFIX_v6.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_TABLE_PREFIX)]
    table_prefix: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Family {
    V4,
    V6,
}

pub(crate) fn run(database_url: Option<&str>, args: &ImportArgs) -> CliResult {
    let url = database::require_url(database_url)?;
    database::check_url(url, false)?;
    let file = File::open(&args.file).map_err(|error| {
        CliError::new(format!("failed to open {}: {error}", args.file.display()))
    })?;
    let family = match args.family {
        Family::V4 => IpFamily::V4,
        Family::V6 => IpFamily::V6,
    };

    let provider = Ip2Location::connect(url)?.with_table_prefix(&args.table_prefix)?;
    let stats = provider
        .import_csv(BufReader::new(file), family)
        .map_err(|error| {
            // The library names its own API; here the option is what the user can change.
            let message = error
                .to_string()
                .replace("imports as IpFamily::V6", "imports with --family v6");
            CliError::new(format!("{}: {message}", args.file.display()))
        })?;
    println!(
        "imported {} ranges into table {}",
        stats.rows,
        provider.table_name(family)
    );
    Ok(())
}
