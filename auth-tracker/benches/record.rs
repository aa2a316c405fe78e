//! Recording a session login through the tracker, with its User-Agent already in the
//! parser cache, against a bare Diesel insert of the same row into the same table.
//!
//! Run with `cargo bench -p auth-tracker --bench record`. Each variant writes to its
//! own freshly migrated SQLite file in a temporary folder, with the pragmas of the
//! tracker's pool (WAL, `synchronous = NORMAL`). After the criterion groups, the
//! variants run again in turn, and the tracker's ratio to each is printed.
//!
//! - `tracker`: `Tracker::record_login`, awaited on a two-worker Tokio runtime, with the
//!   cached `uaparser` parser and no geolocation provider or listener.
//! - `diesel_insert`: `diesel::insert_into(logins)` of the same columns on a connection
//!   from an r2d2 pool set up like the tracker's, on the calling thread.
//! - `diesel_insert_spawn_blocking`: the same insert run through
//!   `tokio::task::spawn_blocking`, as an async application calls synchronous Diesel.
//! - `diesel_sql_query`: the same row inserted with `diesel::sql_query` and bound
//!   parameters, on the calling thread. Diesel prepares such a statement again on
//!   every call, where it caches the prepared statement of `insert_into`.

mod common;

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_tracker::agent::UserAgentParser;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::schema::logins;
use auth_tracker::{Enrichment, LoginId, Owner, ParsedUserAgent, RequestContext};
use chrono::{NaiveDateTime, SubsecRound, Utc};
use common::{SQLITE_PRAGMAS, SqliteDb, USER_AGENT, USER_TYPE, runtime};
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

/// Row of the bare insert: the columns `Tracker::record_login` writes for a session.
#[derive(Insertable)]
#[diesel(table_name = logins)]
struct NewRow<'a> {
    id: String,
    user_type: &'a str,
    user_id: &'a str,
    kind: &'a str,
    name: Option<&'a str>,
    session_id: Option<String>,
    token_hash: Option<&'a str>,
    remember_selector: Option<&'a str>,
    remember_verifier_hash: Option<&'a str>,
    user_agent: Option<&'a str>,
    ip_address: Option<&'a str>,
    device: Option<&'a str>,
    device_type: Option<&'a str>,
    platform: Option<&'a str>,
    platform_version: Option<&'a str>,
    browser: Option<&'a str>,
    browser_version: Option<&'a str>,
    created_at: NaiveDateTime,
    last_activity_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, connection: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        connection
            .batch_execute(SQLITE_PRAGMAS)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

const SESSION_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Inserts one session row with fresh ids and timestamps, as the tracker does.
fn bare_insert(connection: &mut SqliteConnection, parsed: &ParsedUserAgent) {
    let now = Utc::now().trunc_subsecs(6).naive_utc();
    let row = NewRow {
        id: LoginId::new().to_string(),
        user_type: USER_TYPE,
        user_id: "1",
        kind: "session",
        name: None,
        session_id: Some(session_id()),
        token_hash: None,
        remember_selector: None,
        remember_verifier_hash: None,
        user_agent: Some(USER_AGENT),
        ip_address: Some("203.0.113.7"),
        device: parsed.device.as_deref(),
        device_type: parsed.device_type.map(|device_type| device_type.as_str()),
        platform: parsed.platform.as_deref(),
        platform_version: parsed.platform_version.as_deref(),
        browser: parsed.browser.as_deref(),
        browser_version: parsed.browser_version.as_deref(),
        created_at: now,
        last_activity_at: now,
        expires_at: Some(now + SESSION_LIFETIME),
    };
    diesel::insert_into(logins::table)
        .values(&row)
        .execute(connection)
        .expect("bare insert failed");
}

/// Inserts the same row as [`bare_insert`] with `sql_query`.
fn sql_query_insert(connection: &mut SqliteConnection, parsed: &ParsedUserAgent) {
    use diesel::sql_types::{Nullable, Text, Timestamp};

    let now = Utc::now().trunc_subsecs(6).naive_utc();
    diesel::sql_query(
        "INSERT INTO logins (id, user_type, user_id, kind, name, session_id, token_hash, \
         remember_selector, remember_verifier_hash, user_agent, ip_address, device, \
         device_type, platform, platform_version, browser, browser_version, created_at, \
         last_activity_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind::<Text, _>(LoginId::new().to_string())
    .bind::<Text, _>(USER_TYPE)
    .bind::<Text, _>("1")
    .bind::<Text, _>("session")
    .bind::<Nullable<Text>, _>(None::<&str>)
    .bind::<Nullable<Text>, _>(Some(session_id()))
    .bind::<Nullable<Text>, _>(None::<&str>)
    .bind::<Nullable<Text>, _>(None::<&str>)
    .bind::<Nullable<Text>, _>(None::<&str>)
    .bind::<Nullable<Text>, _>(Some(USER_AGENT))
    .bind::<Nullable<Text>, _>(Some("203.0.113.7"))
    .bind::<Nullable<Text>, _>(parsed.device.as_deref())
    .bind::<Nullable<Text>, _>(parsed.device_type.map(|device_type| device_type.as_str()))
    .bind::<Nullable<Text>, _>(parsed.platform.as_deref())
    .bind::<Nullable<Text>, _>(parsed.platform_version.as_deref())
    .bind::<Nullable<Text>, _>(parsed.browser.as_deref())
    .bind::<Nullable<Text>, _>(parsed.browser_version.as_deref())
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(now)
    .bind::<Nullable<Timestamp>, _>(Some(now + SESSION_LIFETIME))
    .execute(connection)
    .expect("sql_query insert failed");
}

/// Returns a new session id for a row, made the same way for both sides.
fn session_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Runtime that each recording call runs on.
struct Recorder<'a> {
    runtime: &'a tokio::runtime::Runtime,
    enrichment: Enrichment,
    owner: Owner,
    request: RequestContext,
    parsed: Arc<ParsedUserAgent>,
}

impl Recorder<'_> {
    /// Records `count` logins through the tracker and returns the time taken.
    fn tracker(&self, db: &SqliteDb, count: u64) -> Duration {
        self.runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..count {
                let login = db
                    .tracker
                    .record_login(
                        "logins",
                        self.owner.clone(),
                        Some(session_id()),
                        self.enrichment,
                        &self.request,
                    )
                    .await
                    .expect("record_login failed");
                black_box(login);
            }
            start.elapsed()
        })
    }

    /// Inserts `count` rows with `insert` on the calling thread and returns the time
    /// taken.
    fn bare(&self, pool: &SqlitePool, insert: InsertFn, count: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..count {
            let mut connection = pool.get().expect("no pooled connection");
            insert(&mut connection, &self.parsed);
        }
        start.elapsed()
    }

    /// Inserts `count` rows with `insert` in `spawn_blocking` tasks and returns the
    /// time taken.
    fn bare_spawn_blocking(&self, pool: &SqlitePool, insert: InsertFn, count: u64) -> Duration {
        self.runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..count {
                let pool = pool.clone();
                let parsed = self.parsed.clone();
                tokio::task::spawn_blocking(move || {
                    let mut connection = pool.get().expect("no pooled connection");
                    insert(&mut connection, &parsed);
                })
                .await
                .expect("insert task panicked");
            }
            start.elapsed()
        })
    }
}

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;
type InsertFn = fn(&mut SqliteConnection, &ParsedUserAgent);

/// Returns a pool on `db` with the settings of the tracker's own SQLite pool.
fn bare_pool(db: &SqliteDb) -> SqlitePool {
    Pool::builder()
        .connection_customizer(Box::new(Pragmas))
        .test_on_check_out(false)
        .build(ConnectionManager::<SqliteConnection>::new(&db.path))
        .expect("failed to open the bare pool")
}

/// Rounds of [`interleaved`], and rows each variant writes per round.
const ROUNDS: usize = 30;
const ROWS_PER_ROUND: u64 = 300;

/// Runs the variants in turn, `ROWS_PER_ROUND` rows each per round, each into its own
/// fresh file, and prints each one's median time per row and the tracker's ratio to
/// it. A change in the machine's load then reaches every variant alike, which the
/// criterion groups, run one after the other, cannot promise.
fn interleaved(recorder: &Recorder<'_>) {
    let tracked = SqliteDb::create(recorder.runtime);
    let files = [(); 3].map(|()| SqliteDb::create(recorder.runtime));
    let pools = files.each_ref().map(bare_pool);
    let names = [
        "tracker",
        "diesel_insert",
        "diesel_insert_spawn_blocking",
        "diesel_sql_query",
    ];
    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..ROUNDS {
        let round = [
            recorder.tracker(&tracked, ROWS_PER_ROUND),
            recorder.bare(&pools[0], bare_insert, ROWS_PER_ROUND),
            recorder.bare_spawn_blocking(&pools[1], bare_insert, ROWS_PER_ROUND),
            recorder.bare(&pools[2], sql_query_insert, ROWS_PER_ROUND),
        ];
        for (samples, elapsed) in times.iter_mut().zip(round) {
            samples.push(elapsed.as_secs_f64() * 1e6 / ROWS_PER_ROUND as f64);
        }
    }
    let medians = times.map(|mut samples| {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    });
    println!(
        "record, interleaved: median time per row over {ROUNDS} rounds of {ROWS_PER_ROUND} rows"
    );
    for (name, median) in names.iter().zip(medians) {
        println!(
            "  {name:<30} {median:>8.1} µs, tracker / this {:.2}",
            medians[0] / median
        );
    }
}

fn record(c: &mut Criterion) {
    let runtime = runtime();
    let parser = auth_tracker::agent::uaparser::shared();
    // The first parse builds the regexes; every later one is a cache hit.
    let parsed = parser.parse(USER_AGENT);
    let recorder = Recorder {
        runtime: &runtime,
        enrichment: Enrichment {
            parser,
            ip_provider: ProviderChoice::None,
        },
        owner: Owner::new(USER_TYPE, 1),
        request: RequestContext::new(
            Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
            Some(USER_AGENT.to_owned()),
        ),
        parsed,
    };

    let mut group = c.benchmark_group("record");
    group.measurement_time(Duration::from_secs(8));
    {
        // Each variant writes into a fresh file of its own.
        let tracked = SqliteDb::create(&runtime);
        group.bench_function("tracker", |b| {
            b.iter_custom(|iterations| recorder.tracker(&tracked, iterations))
        });
        let bare = SqliteDb::create(&runtime);
        let pool = bare_pool(&bare);
        group.bench_function("diesel_insert", |b| {
            b.iter_custom(|iterations| recorder.bare(&pool, bare_insert, iterations))
        });
        let bare = SqliteDb::create(&runtime);
        let pool = bare_pool(&bare);
        group.bench_function("diesel_insert_spawn_blocking", |b| {
            b.iter_custom(|iterations| recorder.bare_spawn_blocking(&pool, bare_insert, iterations))
        });
        let bare = SqliteDb::create(&runtime);
        let pool = bare_pool(&bare);
        group.bench_function("diesel_sql_query", |b| {
            b.iter_custom(|iterations| recorder.bare(&pool, sql_query_insert, iterations))
        });
    }
    group.finish();

    interleaved(&recorder);
}

criterion_group!(benches, record);
criterion_main!(benches);
