//! `auth-tracker prune`.

use std::time::Duration;

use auth_tracker::{PruneOptions, TrackerConfig};
use clap::Args;

use crate::{CliResult, database, runtime};

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// Days to keep revoked, expired and idle-expired logins before deleting them.
    #[arg(long, value_name = "DAYS")]
    retention_days: u32,

    /// Days after its creation when a login's IP address is set to null. IP addresses
    /// are kept when this is not given.
    #[arg(long, value_name = "DAYS")]
    blank_ip_after_days: Option<u32>,

    /// Rows deleted or updated per transaction.
    #[arg(
        long,
        value_name = "ROWS",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    batch_size: u32,

    /// Idle timeout of the application's session logins, in minutes, so that idle-expired
    /// sessions are pruned too. 0 means the application has no idle timeout.
    #[arg(long, value_name = "MINUTES", default_value_t = 120)]
    idle_timeout_minutes: u32,

    /// Name of the logins table.
    #[arg(long, value_name = "NAME", default_value = "logins")]
    table: String,
}

pub(crate) fn run(database_url: Option<&str>, args: &PruneArgs) -> CliResult {
    let idle_timeout = (args.idle_timeout_minutes > 0)
        .then(|| Duration::from_secs(u64::from(args.idle_timeout_minutes) * 60));
    let mut config = TrackerConfig::default();
    config.idle_timeout = idle_timeout;
    let tracker = database::open_tracker(database_url)?.with_config(config);

    let mut options = PruneOptions::new(days(args.retention_days))
        .with_batch_size(usize::try_from(args.batch_size).unwrap_or(usize::MAX));
    if let Some(age) = args.blank_ip_after_days {
        options = options.with_blank_ip_after(days(age));
    }

    let report = runtime()?.block_on(tracker.prune(&args.table, options))?;
    println!("deleted {} logins", report.deleted);
    println!("blanked the IP address of {} logins", report.ips_blanked);
    Ok(())
}

fn days(count: u32) -> Duration {
    Duration::from_secs(u64::from(count) * SECONDS_PER_DAY)
}
