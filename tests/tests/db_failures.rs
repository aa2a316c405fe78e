//! Database failures under the demo: a SQLite file locked by another connection for
//! longer than the busy timeout, and a PostgreSQL server stopped and started again.
//! Requests during the failure get a clear 503 once SQLite's busy timeout or the pool's
//! connection timeout has passed, the server recovers on its own afterwards, and no
//! login reported as recorded is lost.
//!
//! The PostgreSQL test runs a server of its own from the installed binaries, never the
//! shared server named by `AUTH_TRACKER_POSTGRES_URL`. This binary installs a global
//! `tracing` subscriber that captures the logs of every test in it.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth_tracker_tests::{Demo, LogBuffer, RestartablePgServer};
use common::{ALICE, by_id, current_login_id, list_logins, post_json, stored_logins};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use tokio::task::JoinSet;

/// Timeout of every HTTP client here. It exceeds the 30 s connection timeout of the
/// tracker's r2d2 pool, so a request that waits for the pool gets its response.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// Body of the demo's response when the database is unavailable.
const UNAVAILABLE_BODY: &str = "database unavailable, try again later";

/// Body of the tracking layer's response when the per-request check cannot reach the
/// database.
const CHECK_FAILED_BODY: &str = "login check failed, try again";

/// Installs, on first call, a global subscriber that writes the events of the tracker
/// and the demo into the returned buffer.
fn captured_logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        tracing_subscriber::fmt()
            .with_env_filter("auth_tracker=info,security_page=info")
            .with_ansi(false)
            .with_writer(buffer.clone())
            .try_init()
            .expect("no other code in this test binary installs a global subscriber");
        buffer
    })
}

/// Creates a browser-like client with the [`CLIENT_TIMEOUT`].
fn patient_browser(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// Posts the sign-in form and returns the status and body, failing with `case` when no
/// response comes within the [`CLIENT_TIMEOUT`].
async fn try_sign_in(demo: &Demo, browser: &reqwest::Client, case: &str) -> (StatusCode, String) {
    let response = browser
        .post(demo.url("/login"))
        .form(&[("email", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap_or_else(|error| panic!("{case}: no response to the sign-in: {error}"));
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// Requests `GET /api/logins` and returns the status and body, failing with `case` when
/// no response comes within the [`CLIENT_TIMEOUT`].
async fn try_list(demo: &Demo, browser: &reqwest::Client, case: &str) -> (StatusCode, String) {
    let response = browser
        .get(demo.url("/api/logins"))
        .send()
        .await
        .unwrap_or_else(|error| panic!("{case}: no response to the listing: {error}"));
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// An exclusive lock on a SQLite file, held by a connection on a thread of its own.
struct SqliteLock {
    release: mpsc::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl SqliteLock {
    /// Opens a connection to `path` and runs `BEGIN EXCLUSIVE` on it, which in WAL mode
    /// blocks every other writer and no reader.
    async fn acquire(path: &str) -> Self {
        let path = path.to_owned();
        let (locked, is_locked) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let mut connection = diesel::SqliteConnection::establish(&path)
                .unwrap_or_else(|error| panic!("cannot open {path}: {error}"));
            connection
                .batch_execute("PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE;")
                .unwrap_or_else(|error| panic!("cannot lock {path}: {error}"));
            locked.send(()).expect("the test waits for the lock");
            let _ = released.recv();
            connection
                .batch_execute("ROLLBACK;")
                .unwrap_or_else(|error| panic!("cannot unlock {path}: {error}"));
        });
        tokio::task::spawn_blocking(move || is_locked.recv_timeout(Duration::from_secs(30)))
            .await
            .expect("waiting for the lock does not panic")
            .expect("the lock is taken within 30 s");
        Self { release, holder }
    }

    async fn release(self) {
        self.release.send(()).expect("the lock holder is running");
        tokio::task::spawn_blocking(move || self.holder.join())
            .await
            .expect("waiting for the lock holder does not panic")
            .expect("the lock holder does not panic");
    }
}

/// Outcome of one sign-in attempt of a test with a database failure.
struct Attempt {
    agent: String,
    browser: reqwest::Client,
    status: StatusCode,
    body: String,
}

/// Starts a sign-in of a new browser with the User-Agent `agent`.
fn spawn_sign_in(attempts: &mut JoinSet<Attempt>, demo: &Arc<Demo>, agent: String) {
    let demo = demo.clone();
    attempts.spawn(async move {
        let browser = patient_browser(&agent);
        let (status, body) = try_sign_in(&demo, &browser, &agent).await;
        Attempt {
            agent,
            browser,
            status,
            body,
        }
    });
}

async fn join_attempts(attempts: &mut JoinSet<Attempt>) -> Vec<Attempt> {
    let mut finished = Vec::new();
    while let Some(joined) = attempts.join_next().await {
        finished.push(joined.expect("sign-in task"));
    }
    finished
}

/// Checks that every sign-in reported as done is recorded, active and signed in, and
/// that every failed one reported the outage and left its browser signed out. Failed
/// attempts must also have left no row when `failed_leave_no_row` is set.
async fn assert_no_lost_login(demo: &Demo, attempts: &[Attempt], failed_leave_no_row: bool) {
    let rows = stored_logins(&demo.database).await;
    for attempt in attempts {
        let agent = &attempt.agent;
        let recorded: Vec<_> = rows
            .iter()
            .filter(|row| row.user_agent.as_deref() == Some(agent.as_str()))
            .collect();
        let (status, _) = list_logins(demo, &attempt.browser).await;
        if attempt.status == StatusCode::SEE_OTHER {
            assert_eq!(
                recorded.len(),
                1,
                "{agent}: the reported sign-in is recorded"
            );
            assert_eq!(recorded[0].revoked_at, None, "{agent}: its login is active");
            assert_eq!(status, StatusCode::OK, "{agent}: its browser is signed in");
        } else {
            assert_eq!(
                attempt.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{agent}: a failed sign-in answers 503: {}",
                attempt.body
            );
            assert_eq!(attempt.body, UNAVAILABLE_BODY, "{agent}: the 503 says why");
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{agent}: a failed sign-in leaves the browser signed out"
            );
            if failed_leave_no_row {
                assert!(recorded.is_empty(), "{agent}: a failed sign-in left no row");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn locked_sqlite_is_503_then_recovers() {
    let logs = captured_logs();
    let demo = Arc::new(Demo::start_sqlite().await);
    let early = patient_browser("signed in before the lock");
    let (status, _) = try_sign_in(&demo, &early, "sign-in before the lock").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sign-in before the lock");
    let early_id = current_login_id(&demo, &early).await;

    let lock = SqliteLock::acquire(&demo.database).await;

    // Held until every request below has returned a response, so each write waits the whole
    // busy timeout and fails.
    let mut during = JoinSet::new();
    for index in 0..3 {
        spawn_sign_in(
            &mut during,
            &demo,
            format!("sign-in during the lock {index}"),
        );
    }
    let (listing, revoking) = tokio::join!(
        try_list(&demo, &early, "listing during the lock"),
        post_json(&demo, &early, "/logins/revoke-others"),
    );
    let during = join_attempts(&mut during).await;
    assert_eq!(
        listing.0,
        StatusCode::OK,
        "a listing only reads, and reads pass a write lock in WAL mode"
    );
    assert_eq!(
        revoking.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "revoke-others during the lock: {}",
        revoking.1
    );
    for attempt in &during {
        assert_eq!(
            attempt.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}: a sign-in during the lock fails: {}",
            attempt.agent,
            attempt.body
        );
    }

    // Sign-ins that start while the lock is held and may finish after its release.
    let mut racing = JoinSet::new();
    for index in 0..3 {
        spawn_sign_in(
            &mut racing,
            &demo,
            format!("sign-in racing the unlock {index}"),
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    lock.release().await;
    let racing = join_attempts(&mut racing).await;

    let mut after = JoinSet::new();
    for index in 0..3 {
        spawn_sign_in(&mut after, &demo, format!("sign-in after the lock {index}"));
    }
    let after = join_attempts(&mut after).await;
    for attempt in &after {
        assert_eq!(
            attempt.status,
            StatusCode::SEE_OTHER,
            "{}: a sign-in after the lock succeeds: {}",
            attempt.agent,
            attempt.body
        );
    }

    assert_no_lost_login(&demo, &during, true).await;
    assert_no_lost_login(&demo, &racing, true).await;
    assert_no_lost_login(&demo, &after, true).await;
    let rows = stored_logins(&demo.database).await;
    assert_eq!(
        by_id(&rows, &early_id).revoked_at,
        None,
        "the failed revoke changed nothing"
    );
    assert_eq!(
        list_logins(&demo, &early).await.0,
        StatusCode::OK,
        "the browser signed in before the lock still is"
    );

    let logs = logs.text();
    assert!(
        logs.contains("database is locked"),
        "the log names the failure:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_is_503_then_recovers() {
    let logs = captured_logs();
    let Some(server) = tokio::task::spawn_blocking(RestartablePgServer::start)
        .await
        .expect("starting the server does not panic")
    else {
        return;
    };
    let server = Arc::new(server);
    let database = server.create_database();
    let demo = Arc::new(Demo::start(&database.url).await);

    let mut before = JoinSet::new();
    for index in 0..3 {
        spawn_sign_in(
            &mut before,
            &demo,
            format!("sign-in before the outage {index}"),
        );
    }
    let before = join_attempts(&mut before).await;
    let mut before_ids = Vec::new();
    for attempt in &before {
        assert_eq!(
            attempt.status,
            StatusCode::SEE_OTHER,
            "{}: a sign-in before the outage succeeds: {}",
            attempt.agent,
            attempt.body
        );
        before_ids.push(current_login_id(&demo, &attempt.browser).await);
    }

    // Sign-ins racing the shutdown may succeed or fail, but they must not hang.
    let mut racing = JoinSet::new();
    for index in 0..4 {
        spawn_sign_in(
            &mut racing,
            &demo,
            format!("sign-in racing the stop {index}"),
        );
    }
    let stopping = server.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .expect("the server stops");

    // With the server down, every request waits for the pool's connection timeout and
    // then gets a 503.
    let mut during = JoinSet::new();
    for index in 0..2 {
        spawn_sign_in(
            &mut during,
            &demo,
            format!("sign-in during the outage {index}"),
        );
    }
    let (listing, during, racing) = tokio::join!(
        try_list(&demo, &before[0].browser, "listing during the outage"),
        join_attempts(&mut during),
        join_attempts(&mut racing),
    );
    assert_eq!(
        listing.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "listing during the outage: {}",
        listing.1
    );
    // The tracking layer responds when the check reads the database, and the handler
    // when the check was served from the tracker's cache.
    assert!(
        listing.1 == CHECK_FAILED_BODY || listing.1 == UNAVAILABLE_BODY,
        "the 503 of the listing says why: {}",
        listing.1
    );
    for attempt in &during {
        assert_eq!(
            attempt.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}: a sign-in during the outage fails: {}",
            attempt.agent,
            attempt.body
        );
    }

    let starting = server.clone();
    tokio::task::spawn_blocking(move || starting.start_again())
        .await
        .expect("the server starts again");

    // The first request after the restart already works: the pool reconnects.
    for (attempt, id) in before.iter().zip(&before_ids) {
        let (status, body) = try_list(&demo, &attempt.browser, &attempt.agent).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}: signed in after the restart: {body}",
            attempt.agent
        );
        assert!(
            body.contains(id.as_str()),
            "{}: its login {id} is listed after the restart: {body}",
            attempt.agent
        );
    }
    let mut after = JoinSet::new();
    for index in 0..2 {
        spawn_sign_in(
            &mut after,
            &demo,
            format!("sign-in after the restart {index}"),
        );
    }
    let after = join_attempts(&mut after).await;
    for attempt in &after {
        assert_eq!(
            attempt.status,
            StatusCode::SEE_OTHER,
            "{}: a sign-in after the restart succeeds: {}",
            attempt.agent,
            attempt.body
        );
    }

    assert_no_lost_login(&demo, &before, true).await;
    // A sign-in cut by the shutdown may have stored its row before the error, so only
    // the reported outcome is checked.
    assert_no_lost_login(&demo, &racing, false).await;
    assert_no_lost_login(&demo, &during, true).await;
    assert_no_lost_login(&demo, &after, true).await;
    let rows = stored_logins(&demo.database).await;
    for id in &before_ids {
        assert_eq!(
            by_id(&rows, id).revoked_at,
            None,
            "login {id} survives the restart"
        );
    }

    let logs = logs.text();
    assert!(
        logs.contains("login check failed") || logs.contains("request failed"),
        "the log reports the failed requests:\n{logs}"
    );
    assert!(
        logs.contains("timed out waiting for connection"),
        "the log names the pool timeout:\n{logs}"
    );
}
