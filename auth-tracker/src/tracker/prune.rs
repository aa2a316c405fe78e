//! Pruning: deleting expired, idle and revoked rows after a retention period, and
//! blanking old IP addresses, in short batches.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{Tracker, now_utc};
use crate::error::Result;
use crate::store::PruneCriterion;
use crate::table::validate_table_name;

/// Options of [`Tracker::prune`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneOptions {
    /// How long revoked, expired and idle-expired rows are kept before deletion.
    pub retention: Duration,
    /// Most rows one batch selects and deletes, each batch in its own transaction.
    /// Default 1,000. Zero is treated as 1.
    pub batch_size: usize,
    /// When set, `ip_address` is set to null on every row created longer ago than this.
    pub blank_ip_after: Option<Duration>,
}

impl PruneOptions {
    /// Default batch size.
    pub const DEFAULT_BATCH_SIZE: usize = 1_000;

    /// Creates options that keep rows for `retention`, in batches of 1,000, and keep
    /// IP addresses.
    pub fn new(retention: Duration) -> Self {
        Self {
            retention,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            blank_ip_after: None,
        }
    }

    /// Sets the batch size.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Blanks the IP address of rows created longer ago than `age`.
    pub fn with_blank_ip_after(mut self, age: Duration) -> Self {
        self.blank_ip_after = Some(age);
        self
    }
}

/// Result of [`Tracker::prune`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneReport {
    /// Rows deleted.
    pub deleted: u64,
    /// Batches that deleted at least one row, each its own transaction.
    pub delete_batches: u64,
    /// Rows whose `ip_address` was set to null.
    pub ips_blanked: u64,
}

impl Tracker {
    /// Deletes rows that have been revoked, expired or idle-expired for longer than
    /// `options.retention`, then, when `options.blank_ip_after` is set, sets
    /// `ip_address` to null on rows created longer ago than that.
    ///
    /// A row is deleted when its `revoked_at` or its `expires_at` is older than now
    /// minus the retention. A session login without a remember-me token is also deleted
    /// when its `last_activity_at` is older than now minus the tracker's
    /// [`idle_timeout`](crate::TrackerConfig::idle_timeout) minus the retention.
    /// Active logins are never deleted. Deletion runs in batches of
    /// `options.batch_size` rows, each in its own short transaction: first revoked rows,
    /// then expired rows, then idle sessions, each oldest first and read through its own
    /// index, until no row is left. Running it again right away returns zero counts.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTableName`](crate::Error::InvalidTableName) or a database error.
    /// Batches committed before the error stay committed.
    #[tracing::instrument(level = "debug", skip(self), err)]
    pub async fn prune(&self, table: &str, options: PruneOptions) -> Result<PruneReport> {
        let table = validate_table_name(table)?.to_owned();
        let batch_size = options.batch_size.max(1);
        let now = now_utc();
        let retention_cutoff = cutoff(now, Some(options.retention));
        let mut criteria = vec![
            (PruneCriterion::Revoked, retention_cutoff),
            (PruneCriterion::Expired, retention_cutoff),
        ];
        if let Some(idle) = self.config.idle_timeout {
            let idle_cutoff = cutoff(now, idle.checked_add(options.retention));
            criteria.push((PruneCriterion::Idle, idle_cutoff));
        }

        let mut report = PruneReport::default();
        for (criterion, before) in criteria {
            loop {
                let batch_table = table.clone();
                let deleted = self
                    .blocking(move |store| {
                        store.prune_batch(&batch_table, criterion, before, batch_size)
                    })
                    .await?;
                if deleted == 0 {
                    break;
                }
                report.deleted += deleted;
                report.delete_batches += 1;
            }
        }

        if let Some(age) = options.blank_ip_after {
            let created_before = cutoff(now, Some(age));
            let mut after = String::new();
            loop {
                let batch_table = table.clone();
                let (blanked, last_id) = self
                    .blocking(move |store| {
                        store.blank_ip_batch(&batch_table, created_before, &after, batch_size)
                    })
                    .await?;
                report.ips_blanked += blanked;
                match last_id {
                    Some(id) => after = id,
                    None => break,
                }
            }
        }

        tracing::info!(
            deleted = report.deleted,
            delete_batches = report.delete_batches,
            ips_blanked = report.ips_blanked,
            "pruned logins"
        );
        Ok(report)
    }
}

/// Returns `now - age`, floored at the Unix epoch. `None`, an age too large to
/// represent, also gives the epoch, which no row is older than.
fn cutoff(now: DateTime<Utc>, age: Option<Duration>) -> NaiveDateTime {
    age.and_then(|age| chrono::Duration::from_std(age).ok())
        .and_then(|age| now.checked_sub_signed(age))
        .map_or(DateTime::UNIX_EPOCH, |at| at.max(DateTime::UNIX_EPOCH))
        .naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_subtracts_age() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let at = cutoff(now, Some(Duration::from_secs(1_000)));
        assert_eq!(at.and_utc().timestamp(), 999_000);
    }

    #[test]
    fn cutoff_floors_at_epoch() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(
            cutoff(now, Some(Duration::from_secs(5_000)))
                .and_utc()
                .timestamp(),
            0
        );
        assert_eq!(cutoff(now, Some(Duration::MAX)).and_utc().timestamp(), 0);
        assert_eq!(cutoff(now, None).and_utc().timestamp(), 0);
    }
}
