//! `auth-tracker lookup-ip`.

use std::net::IpAddr;
use std::path::PathBuf;

use auth_tracker::geo::ip2location::{DEFAULT_TABLE_PREFIX, Ip2Location};
use auth_tracker::geo::maxmind::MaxMind;
use clap::{ArgGroup, Args};

use crate::{CliResult, database};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["mmdb", "ip2location_url"])))]
pub(crate) struct LookupIpArgs {
    /// IP address to look up, IPv4 or IPv6.
    ip: IpAddr,

    /// MaxMind-format `.mmdb` file to read (GeoLite2, GeoIP2, DB-IP Lite, IPinfo Lite).
    #[arg(long, value_name = "FILE")]
    mmdb: Option<PathBuf>,

    /// Database holding tables filled by `import-ip2location`: a SQLite file path, a
    /// `postgres://` URL, or a `mysql://` URL when built with the `mysql` feature.
    #[arg(long, value_name = "URL")]
    ip2location_url: Option<String>,

    /// Prefix of the IP2Location tables, which are named PREFIX_v4 and PREFIX_v6.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_TABLE_PREFIX)]
    table_prefix: String,
}

/// Prints the location as a JSON object with `city`, `region`, `country`,
/// `country_code` and `data`, or `null` when the database has no location for the
/// address. Both sources are local, so the address never leaves the machine.
pub(crate) fn run(args: &LookupIpArgs) -> CliResult {
    let location = match (&args.mmdb, &args.ip2location_url) {
        (Some(path), _) => MaxMind::open(path)?.lookup(args.ip)?,
        (None, Some(url)) => {
            database::check_url(url, true)?;
            Ip2Location::connect(url)?
                .with_table_prefix(&args.table_prefix)?
                .lookup(args.ip)?
        }
        (None, None) => unreachable!("clap requires --mmdb or --ip2location-url"),
    };
    println!("{}", serde_json::to_string(&location)?);
    Ok(())
}
