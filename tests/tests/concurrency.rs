//! Races between sign-ins, revocations, remember-me re-binds and activity writes, over
//! real HTTP against the demo and directly against the tracker. Every scenario runs on a
//! SQLite file, on PostgreSQL (the server named by `AUTH_TRACKER_POSTGRES_URL` or a
//! throwaway server started from the installed binaries) and, with the `mysql` feature,
//! on the MySQL or MariaDB server named by `AUTH_TRACKER_MYSQL_URL`.
//!
//! The invariants: no sign-in is lost, no revoked login comes back, and no request of
//! the race gets a server error.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_tracker::{
    AuthTracking, RequestContext, RevokeReason, RevokeScope, Tracker, TrackerConfig, Tracking,
};
use auth_tracker_tests::Demo;
use common::{
    ALICE, browser_with_remember, by_id, by_user_agent, current_login_id, list_logins, post_json,
    remembered_browser, signed_in_browser, stored_logins,
};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE};
use serde_json::Value;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tower_sessions::{MemoryStore, Session};

/// User-Agent of the browser that revokes the others, by which its row is found.
const REVOKER_AGENT: &str = "concurrency revoker";

/// Sign-ins of one user that race a revoke-others loop.
const PARALLEL_SIGN_INS: usize = 20;

/// Rounds of the remember-me race, each with a new remembered login.
const REBIND_ROUNDS: usize = 16;

/// Browsers per round that present the remember-me cookie while the login is revoked.
const REBINDS_PER_ROUND: usize = 6;

/// Rounds of the activity-write race, each with a new session and token.
const ACTIVITY_ROUNDS: usize = 4;

/// Clients per round that keep sending requests on the revoked logins.
const ACTIVITY_WORKERS: usize = 6;

/// Requests each worker sends after the revoke returned, all of which must be rejected.
const REQUESTS_AFTER_REVOKE: usize = 3;

/// Upper bound of any wait in this file, reached only when something hangs.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Tracker settings under which every accepted request writes `last_activity_at`.
fn activity_on_every_request() -> TrackerConfig {
    let mut config = security_page::demo_config();
    config.activity_interval = Duration::ZERO;
    config
}

/// Waits until `counter` reaches `target`, failing with `what` after [`WAIT_LIMIT`].
async fn wait_for_count(counter: &AtomicUsize, target: usize, what: &str) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while counter.load(Ordering::SeqCst) < target {
        assert!(
            Instant::now() < deadline,
            "timed out after {} s waiting for {what}",
            WAIT_LIMIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Signs twenty browsers of one user in at once while another browser of that user
/// keeps calling revoke-others.
async fn sign_ins_race_revoke_others(demo: Demo) {
    let demo = Arc::new(demo);
    let revoker = signed_in_browser(&demo, REVOKER_AGENT, ALICE).await;
    let revoker_id = current_login_id(&demo, &revoker).await;

    let signing_in = Arc::new(AtomicUsize::new(PARALLEL_SIGN_INS));
    let start = Arc::new(Barrier::new(PARALLEL_SIGN_INS + 1));
    let revoke_loop = tokio::spawn({
        let (demo, revoker, signing_in, start) = (
            demo.clone(),
            revoker.clone(),
            signing_in.clone(),
            start.clone(),
        );
        async move {
            start.wait().await;
            let mut responses = Vec::new();
            loop {
                responses.push(post_json(&demo, &revoker, "/logins/revoke-others").await);
                if signing_in.load(Ordering::SeqCst) == 0 {
                    return responses;
                }
            }
        }
    });

    let mut sign_ins = JoinSet::new();
    for index in 0..PARALLEL_SIGN_INS {
        let (demo, signing_in, start) = (demo.clone(), signing_in.clone(), start.clone());
        sign_ins.spawn(async move {
            let agent = format!("concurrency client {index}");
            let browser = demo.browser(&agent);
            start.wait().await;
            let status = demo.sign_in(&browser, ALICE.0, ALICE.1).await.status();
            signing_in.fetch_sub(1, Ordering::SeqCst);
            (agent, browser, status)
        });
    }
    let mut clients = Vec::new();
    while let Some(joined) = sign_ins.join_next().await {
        let (agent, browser, status) = joined.expect("sign-in task");
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{agent}: sign-in during revoke-others redirects"
        );
        clients.push((agent, browser));
    }

    let responses = revoke_loop.await.expect("revoke-others task");
    let mut revoked_by_race = 0;
    for (call, (status, body)) in responses.iter().enumerate() {
        assert_eq!(*status, StatusCode::OK, "revoke-others call {call}: {body}");
        revoked_by_race += body["revoked"]
            .as_u64()
            .unwrap_or_else(|| panic!("revoke-others call {call} returns a count: {body}"));
    }

    let rows = stored_logins(&demo.database).await;
    assert_eq!(
        rows.len(),
        PARALLEL_SIGN_INS + 1,
        "every sign-in and the revoker's are recorded: {rows:#?}"
    );
    assert_eq!(
        by_id(&rows, &revoker_id).revoked_at,
        None,
        "the revoker's own login stays active"
    );
    let mut revoked_rows: u64 = 0;
    for (agent, browser) in &clients {
        let row = by_user_agent(&rows, agent);
        let (status, _) = list_logins(&demo, browser).await;
        if row.revoked_at.is_some() {
            revoked_rows += 1;
            assert_eq!(
                row.revoke_reason.as_deref(),
                Some("revoked_others"),
                "{agent}: a revoked login has its reason"
            );
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{agent}: a revoked login is signed out"
            );
        } else {
            assert_eq!(
                row.revoke_reason, None,
                "{agent}: an active login has no reason"
            );
            assert_eq!(status, StatusCode::OK, "{agent}: an active login works");
        }
    }
    assert_eq!(
        revoked_rows, revoked_by_race,
        "the revoke-others counts add up to the revoked rows"
    );

    // One more call after the race reaches exactly the logins the race left active.
    let (status, body) = post_json(&demo, &revoker, "/logins/revoke-others").await;
    assert_eq!(status, StatusCode::OK, "revoke-others after the race");
    assert_eq!(
        body["revoked"].as_u64(),
        Some(PARALLEL_SIGN_INS as u64 - revoked_rows),
        "revoke-others after the race revokes the remaining logins"
    );
    for (agent, browser) in &clients {
        assert_eq!(
            list_logins(&demo, browser).await.0,
            StatusCode::UNAUTHORIZED,
            "{agent}: signed out after the race"
        );
    }
    let rows = stored_logins(&demo.database).await;
    assert_eq!(rows.len(), PARALLEL_SIGN_INS + 1, "no login row is lost");
    for row in rows.iter().filter(|row| row.id != revoker_id) {
        assert!(row.revoked_at.is_some(), "login {} is revoked", row.id);
        assert_eq!(
            row.revoke_reason.as_deref(),
            Some("revoked_others"),
            "login {} has its reason",
            row.id
        );
    }
    let (status, logins) = list_logins(&demo, &revoker).await;
    assert_eq!(status, StatusCode::OK, "the revoker is still signed in");
    assert_eq!(
        logins.len(),
        1,
        "only the revoker's login is listed: {logins:?}"
    );
}

/// Presents a remembered login's remember-me cookie from several fresh browsers at once,
/// as after a restart, at the moment another browser revokes that login.
async fn revoke_races_remember_rebind(demo: Demo) {
    let demo = Arc::new(demo);
    let revoker = signed_in_browser(&demo, REVOKER_AGENT, ALICE).await;

    for round in 0..REBIND_ROUNDS {
        let agent = format!("remembered client {round}");
        let (browser, remember) = remembered_browser(&demo, &agent).await;
        let login_id = current_login_id(&demo, &browser).await;

        let start = Arc::new(Barrier::new(REBINDS_PER_ROUND + 1));
        let mut rebinds = JoinSet::new();
        for attempt in 0..REBINDS_PER_ROUND {
            let restarted = browser_with_remember(&demo, &agent, &remember);
            let (demo, start) = (demo.clone(), start.clone());
            rebinds.spawn(async move {
                start.wait().await;
                let (status, _) = list_logins(&demo, &restarted).await;
                (attempt, restarted, status)
            });
        }
        start.wait().await;
        let (status, body) =
            post_json(&demo, &revoker, &format!("/logins/{login_id}/revoke")).await;
        let at_revoke = by_id(&stored_logins(&demo.database).await, &login_id).clone();
        assert_eq!(status, StatusCode::OK, "round {round}: revoke: {body}");
        assert_eq!(body["revoked"], 1, "round {round}: one login revoked");
        assert!(
            at_revoke.revoked_at.is_some(),
            "round {round}: revoked_at is set when the revoke returns"
        );
        assert_eq!(
            at_revoke.revoke_reason.as_deref(),
            Some("revoked"),
            "round {round}: revoke reason"
        );

        let mut restarted_browsers = Vec::new();
        while let Some(joined) = rebinds.join_next().await {
            let (attempt, restarted, status) = joined.expect("re-bind task");
            assert!(
                status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                "round {round} attempt {attempt}: a re-bind racing the revoke answers 200 or 401, not {status}"
            );
            restarted_browsers.push((attempt, restarted));
        }
        for (attempt, restarted) in &restarted_browsers {
            assert_eq!(
                list_logins(&demo, restarted).await.0,
                StatusCode::UNAUTHORIZED,
                "round {round} attempt {attempt}: signed out after the revoke returned"
            );
        }
        assert_eq!(
            list_logins(&demo, &browser).await.0,
            StatusCode::UNAUTHORIZED,
            "round {round}: the original browser is signed out"
        );
        let later = browser_with_remember(&demo, &agent, &remember);
        assert_eq!(
            list_logins(&demo, &later).await.0,
            StatusCode::UNAUTHORIZED,
            "round {round}: the remember-me cookie never signs in again"
        );

        let rows = stored_logins(&demo.database).await;
        assert_eq!(
            by_id(&rows, &login_id),
            &at_revoke,
            "round {round}: no session is bound to the revoked login and no activity is written after the revoke returned"
        );
        assert_eq!(
            rows.len(),
            round + 2,
            "round {round}: re-binds add no login rows"
        );
    }

    let rows = stored_logins(&demo.database).await;
    let active: Vec<_> = rows.iter().filter(|row| row.revoked_at.is_none()).collect();
    assert_eq!(active.len(), 1, "only the revoker is active: {active:#?}");
    assert_eq!(active[0].user_agent.as_deref(), Some(REVOKER_AGENT));
}

/// What one worker of the activity race sends its requests with.
#[derive(Clone, Copy, Debug)]
enum Credential {
    SessionCookie,
    BearerToken,
}

/// Sends requests on a session and an API token of one user from several clients, each
/// request writing `last_activity_at`, while another browser revokes both.
async fn revoke_races_activity_writes(demo: Demo) {
    let demo = Arc::new(demo);
    let revoker = signed_in_browser(&demo, REVOKER_AGENT, ALICE).await;

    for round in 0..ACTIVITY_ROUNDS {
        let agent = format!("busy client {round}");
        let browser = demo.browser(&agent);
        let signed_in = demo.sign_in(&browser, ALICE.0, ALICE.1).await;
        assert_eq!(
            signed_in.status(),
            StatusCode::SEE_OTHER,
            "round {round}: sign-in"
        );
        let session_cookie = common::cookie_value(&common::set_cookies(&signed_in), "id")
            .map(|value| format!("id={value}"))
            .expect("the sign-in sets a session cookie");
        let session_login_id = current_login_id(&demo, &browser).await;
        let created = browser
            .post(demo.url("/api/tokens"))
            .form(&[("name", format!("busy token {round}"))])
            .send()
            .await
            .expect("POST /api/tokens");
        assert_eq!(
            created.status(),
            StatusCode::CREATED,
            "round {round}: token"
        );
        let created: Value = created.json().await.expect("token JSON");
        let token_id = created["id"].as_str().expect("token id").to_owned();
        let token = created["token"].as_str().expect("token").to_owned();
        let before = stored_logins(&demo.database).await;

        let revoked = Arc::new(AtomicBool::new(false));
        let accepted_sessions = Arc::new(AtomicUsize::new(0));
        let accepted_tokens = Arc::new(AtomicUsize::new(0));
        let mut workers = JoinSet::new();
        for worker in 0..ACTIVITY_WORKERS {
            let (credential, accepted) = if worker % 2 == 0 {
                (Credential::SessionCookie, accepted_sessions.clone())
            } else {
                (Credential::BearerToken, accepted_tokens.clone())
            };
            let (demo, revoked) = (demo.clone(), revoked.clone());
            let (session_cookie, token) = (session_cookie.clone(), token.clone());
            workers.spawn(async move {
                // A client without a cookie store, so every request presents the
                // credential even after a response cleared it.
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("HTTP client");
                let mut sent_after_revoke = 0;
                while sent_after_revoke < REQUESTS_AFTER_REVOKE {
                    let after_revoke = revoked.load(Ordering::SeqCst);
                    let request = client.get(demo.url("/api/logins"));
                    let request = match credential {
                        Credential::SessionCookie => request.header(COOKIE, &session_cookie),
                        Credential::BearerToken => {
                            request.header(AUTHORIZATION, format!("Bearer {token}"))
                        }
                    };
                    let status = request.send().await.expect("GET /api/logins").status();
                    if status == StatusCode::OK {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                    assert!(
                        status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                        "round {round} worker {worker} ({credential:?}): answers 200 or 401, not {status}"
                    );
                    if after_revoke {
                        sent_after_revoke += 1;
                        assert_eq!(
                            status,
                            StatusCode::UNAUTHORIZED,
                            "round {round} worker {worker} ({credential:?}): a request sent after the revoke returned is rejected"
                        );
                    }
                }
            });
        }

        // Revoke once both credentials have been accepted a few times, so the revoke
        // overlaps activity writes on both logins.
        wait_for_count(
            &accepted_sessions,
            ACTIVITY_WORKERS,
            "accepted session requests",
        )
        .await;
        wait_for_count(
            &accepted_tokens,
            ACTIVITY_WORKERS,
            "accepted token requests",
        )
        .await;
        let (status, body) = post_json(&demo, &revoker, "/logins/revoke-others").await;
        revoked.store(true, Ordering::SeqCst);
        let at_revoke = stored_logins(&demo.database).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "round {round}: revoke-others: {body}"
        );
        assert_eq!(
            body["revoked"], 2,
            "round {round}: session and token revoked"
        );

        while let Some(joined) = workers.join_next().await {
            joined.expect("worker task");
        }

        let after = stored_logins(&demo.database).await;
        for (kind, id) in [("session", &session_login_id), ("token", &token_id)] {
            let at_revoke = by_id(&at_revoke, id);
            assert!(
                at_revoke.revoked_at.is_some(),
                "round {round}: the {kind} login is revoked when the revoke returns"
            );
            assert!(
                at_revoke.last_activity_at > by_id(&before, id).last_activity_at,
                "round {round}: the {kind} login's activity was written during the race"
            );
            assert_eq!(
                by_id(&after, id),
                at_revoke,
                "round {round}: the {kind} login's revoked_at and last_activity_at stay as the revoke left them"
            );
        }
    }

    let (status, logins) = list_logins(&demo, &revoker).await;
    assert_eq!(status, StatusCode::OK, "the revoker is still signed in");
    assert_eq!(
        logins.len(),
        1,
        "only the revoker's login is listed: {logins:?}"
    );
}

/// Generates one test per scenario and backend. Each scenario takes a demo started with
/// the settings that the named function returns.
macro_rules! on_every_backend {
    ($($scenario:ident with $config:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $scenario() {
                    let demo = auth_tracker_tests::Demo::start_sqlite_with(super::$config()).await;
                    super::$scenario(demo).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $scenario() {
                    let Some(database) = auth_tracker_tests::PgDatabase::create() else {
                        return;
                    };
                    let demo =
                        auth_tracker_tests::Demo::start_with(&database.url, super::$config()).await;
                    super::$scenario(demo).await;
                }
            )*
        }

        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $scenario() {
                    let Some(database) = auth_tracker_tests::MysqlDatabase::create() else {
                        return;
                    };
                    let demo =
                        auth_tracker_tests::Demo::start_with(&database.url, super::$config()).await;
                    super::$scenario(demo).await;
                }
            )*
        }
    };
}

on_every_backend!(
    sign_ins_race_revoke_others with demo_config,
    revoke_races_remember_rebind with demo_config,
    revoke_races_activity_writes with activity_on_every_request,
    check_login_races_revoke with activity_on_every_request,
);

fn demo_config() -> TrackerConfig {
    security_page::demo_config()
}

#[derive(AuthTracking)]
#[auth_tracking(user_type = "User")]
struct User {
    id: i64,
}

/// Checks per round, from all tasks, that must pass before the revoke starts.
const CHECKS_BEFORE_REVOKE: usize = 40;

/// Checks that each task makes after the revoke returned.
const CHECKS_AFTER_REVOKE: usize = 20;

/// Tasks that call `check_login` in a loop.
const CHECKING_TASKS: usize = 8;

/// Calls the per-request check of a session login in tight loops from several tasks
/// while the login is revoked. It runs once with an activity write on every check, and
/// once with the demo's settings, under which writes are throttled and checks may be
/// reused from the tracker's cache. It uses the demo's database through a tracker of
/// its own.
async fn check_login_races_revoke(demo: Demo) {
    let settings = [
        (
            "activity written on every check",
            activity_on_every_request(),
        ),
        ("demo settings", demo_config()),
    ];
    for (label, config) in settings {
        let writes_activity = config.activity_interval.is_zero();
        let sessions = MemoryStore::default();
        let tracker = Tracker::connect(&demo.database)
            .expect("tracker opens the demo database")
            .with_config(config)
            .with_session_store(sessions.clone());
        for round in 0..ACTIVITY_ROUNDS {
            let case = format!("{label}, round {round}");
            race_checks_with_revoke(&tracker, &sessions, &case, writes_activity).await;
        }
    }
}

async fn race_checks_with_revoke(
    tracker: &Tracker,
    sessions: &MemoryStore,
    case: &str,
    writes_activity: bool,
) {
    let session = Session::new(None, Arc::new(sessions.clone()), None);
    let context = RequestContext::new(
        Some("127.0.0.1".parse().expect("IP address")),
        Some(format!("direct client, {case}")),
    );
    let tracking = Tracking::new(tracker.clone(), context).with_session(session.clone());
    let login = (User { id: 1 })
        .record_session_login(&tracking)
        .await
        .expect("the login is recorded");
    let current = tracking.current().expect("the new login is current");
    let session_id = session.id().map(|id| id.to_string());

    let revoked = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for task in 0..CHECKING_TASKS {
        let (tracker, current, session_id) = (tracker.clone(), current.clone(), session_id.clone());
        let (revoked, checked, case) = (revoked.clone(), checked.clone(), case.to_owned());
        tasks.spawn(async move {
            let mut after_revoke = 0;
            while after_revoke < CHECKS_AFTER_REVOKE {
                // A check served from the cache completes without waiting, so the loop
                // yields to let the revoking task run.
                tokio::task::yield_now().await;
                let started_after_revoke = revoked.load(Ordering::SeqCst);
                let outcome = tracker.check_login(&current, session_id.clone()).await;
                checked.fetch_add(1, Ordering::SeqCst);
                let active = outcome.unwrap_or_else(|error| {
                    panic!("{case}, task {task}: check_login failed: {error}")
                });
                if started_after_revoke {
                    after_revoke += 1;
                    assert!(
                        active.is_none(),
                        "{case}, task {task}: a check started after the revoke returned rejects the login"
                    );
                }
            }
        });
    }

    wait_for_count(&checked, CHECKS_BEFORE_REVOKE, "the first checks").await;
    let owner = auth_tracker::Owner::new("User", 1);
    let count = tracker
        .revoke(
            "logins",
            &owner,
            RevokeScope::One(login.id),
            RevokeReason::Revoked,
            None,
        )
        .await
        .expect("the revoke succeeds");
    revoked.store(true, Ordering::SeqCst);
    let at_revoke = tracker
        .find_login("logins", login.id, None)
        .await
        .expect("the login is read")
        .expect("the login exists");
    assert_eq!(count, 1, "{case}: one login revoked");
    assert!(
        at_revoke.revoked_at.is_some(),
        "{case}: revoked_at is set when the revoke returns"
    );
    if writes_activity {
        assert!(
            at_revoke.last_activity_at > login.last_activity_at,
            "{case}: activity was written during the race"
        );
    }

    while let Some(joined) = tasks.join_next().await {
        joined.expect("checking task");
    }
    let after = tracker
        .find_login("logins", login.id, None)
        .await
        .expect("the login is read")
        .expect("the login exists");
    assert_eq!(
        after.revoked_at, at_revoke.revoked_at,
        "{case}: revoked_at is never cleared or moved"
    );
    assert_eq!(
        after.last_activity_at, at_revoke.last_activity_at,
        "{case}: no activity is written after the revoke returned"
    );
}
