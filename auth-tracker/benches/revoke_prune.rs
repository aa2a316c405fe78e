//! "Sign out other devices" (`Tracker::revoke` with `RevokeScope::AllExcept`) and
//! `Tracker::prune` as the table and the affected rows grow.
//!
//! Run with `cargo bench -p auth-tracker --bench revoke_prune`. Every iteration destroys
//! its input, so `iter_batched` restores it untimed before each one: an `UPDATE` that
//! clears the revocations for `revoke_others`, and a set-based insert of the deleted
//! rows for `prune`.
//!
//! - `revoke_others/{table}/{user}`: a table of `table` rows, of which `user` are the
//!   active sessions of the signed-in user. One iteration revokes all of them but the
//!   current one, in one transaction. The other users have 20 rows each, a mix of
//!   active, revoked, expired and idle logins. The tracker has no session store, so no
//!   session is deleted.
//! - `prune/{table}`: a table of `table` rows, 30% of them revoked, expired or idle for
//!   longer than the 30-day retention. One iteration deletes those 30%, in batches of
//!   1,000 rows, each batch its own transaction.

mod common;

use std::time::Duration;

use auth_tracker::{LoginId, Owner, PruneOptions, RevokeReason, RevokeScope};
use common::{RowState, SqliteDb, USER_TYPE, count_rows, runtime, seed, seed_table};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;

const TABLE_SIZES: [u64; 3] = [1_000, 10_000, 100_000];

/// Row number of the signed-in user's first row, above every seeded background row.
const TARGET_FIRST_ROW: u64 = 1_000_000_000;

/// Row number of the first prunable row.
const PRUNABLE_FIRST_ROW: u64 = 2_000_000_000;

const RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Returns the id that `common::seed` gives row `n`.
fn seeded_id(n: u64) -> LoginId {
    format!("00000000-0000-7000-8000-{n:012x}")
        .parse()
        .expect("seeded ids are UUIDs")
}

fn revoke_others(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("revoke_others");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));

    for table_rows in TABLE_SIZES {
        for user_rows in [20, table_rows / 10] {
            let db = SqliteDb::create(&runtime);
            let mut connection = db.connection();
            seed_table(&mut connection, table_rows - user_rows);
            seed(
                &mut connection,
                TARGET_FIRST_ROW,
                user_rows,
                "'target'",
                RowState::Active,
            );
            connection.batch_execute("ANALYZE").expect("ANALYZE failed");
            assert_eq!(count_rows(&mut connection), table_rows, "seeded rows");

            let owner = Owner::new(USER_TYPE, "target");
            let current = seeded_id(TARGET_FIRST_ROW);
            let restore = format!(
                "UPDATE logins SET revoked_at = NULL, revoke_reason = NULL \
                 WHERE user_type = '{USER_TYPE}' AND user_id = 'target'"
            );
            let revoke = || {
                runtime
                    .block_on(db.tracker.revoke(
                        "logins",
                        &owner,
                        RevokeScope::AllExcept(Some(current)),
                        RevokeReason::RevokedOthers,
                        Some(current),
                    ))
                    .expect("revoke failed")
            };
            assert_eq!(revoke(), user_rows - 1, "revoked logins");

            let id = BenchmarkId::new(table_rows.to_string(), user_rows);
            group.bench_function(id, |b| {
                b.iter_batched(
                    || {
                        connection
                            .batch_execute(&restore)
                            .expect("failed to clear the revocations")
                    },
                    |()| revoke(),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

fn prune(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("prune");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    for table_rows in TABLE_SIZES {
        let prunable = table_rows * 3 / 10;
        let db = SqliteDb::create(&runtime);
        let mut connection = db.connection();
        seed(
            &mut connection,
            0,
            table_rows - prunable,
            "n / 20",
            RowState::Active,
        );
        let reseed = |connection: &mut diesel::SqliteConnection| {
            seed(
                connection,
                PRUNABLE_FIRST_ROW,
                prunable,
                "n / 20",
                RowState::Prunable,
            )
        };
        reseed(&mut connection);
        connection.batch_execute("ANALYZE").expect("ANALYZE failed");

        let options = PruneOptions::new(RETENTION);
        let prune = || {
            runtime
                .block_on(db.tracker.prune("logins", options))
                .expect("prune failed")
        };
        assert_eq!(prune().deleted, prunable, "pruned rows");
        assert_eq!(
            count_rows(&mut connection),
            table_rows - prunable,
            "rows kept"
        );

        group.bench_function(BenchmarkId::from_parameter(table_rows), |b| {
            b.iter_batched(
                || reseed(&mut connection),
                |()| prune(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, revoke_others, prune);
criterion_main!(benches);
