//! Listing one user's active logins with `Tracker::list_logins` as the table grows from
//! 1,000 to 1,000,000 rows.
//!
//! Run with `cargo bench -p auth-tracker --bench listing`. Each size gets its own SQLite
//! file, seeded once with one set-based insert. Every user has 20 rows: 12 active
//! sessions, 2 active tokens, 2 revoked, 2 expired and 2 idle sessions. So the listed
//! user always has 14 active logins. The seed time of each size is printed.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use auth_tracker::Owner;
use common::{ROWS_PER_USER, SqliteDb, USER_TYPE, runtime, seed_table};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];

fn listing(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("listing");
    group.measurement_time(Duration::from_secs(5));

    for rows in SIZES {
        let db = SqliteDb::create(&runtime);
        let started = Instant::now();
        seed_table(&mut db.connection(), rows);
        eprintln!(
            "listing: seeded {rows} rows in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        // A user in the middle of the table.
        let owner = Owner::new(USER_TYPE, rows / ROWS_PER_USER / 2);
        let listed = runtime
            .block_on(db.tracker.list_logins("logins", &owner, None))
            .expect("list_logins failed");
        assert_eq!(listed.len(), 14, "active logins of the listed user");

        group.bench_with_input(BenchmarkId::from_parameter(rows), &owner, |b, owner| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        let logins = db
                            .tracker
                            .list_logins("logins", owner, None)
                            .await
                            .expect("list_logins failed");
                        black_box(logins);
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, listing);
criterion_main!(benches);
