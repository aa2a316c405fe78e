//! `Debug` output of the public types that hold a secret: the per-request handle with
//! its session and remember-me cookie, the tracker opened on a URL with a password, and
//! the error of a failed connection. Plain tokens, new tokens and provider keys are
//! covered beside their own tests.

use std::sync::Arc;

use auth_tracker::{AuthTracking, LoginOptions, RequestContext, Tracker, Tracking};
use auth_tracker_tests::PgDatabase;
use auth_tracker_tests::user_agents::FIREFOX_WINDOWS;
use tower_sessions::{MemoryStore, Session};

#[derive(AuthTracking)]
#[auth_tracking(user_type = "User")]
struct User {
    id: i64,
}

/// A password that trust authentication accepts and ignores, so the connection works.
const PASSWORD: &str = "debug-redaction-password";

#[tokio::test(flavor = "multi_thread")]
async fn tracking_debug_hides_session_and_cookie() {
    let directory = tempfile::tempdir().unwrap();
    let sessions = MemoryStore::default();
    let tracker = Tracker::sqlite(directory.path().join("logins.sqlite3").to_str().unwrap())
        .unwrap()
        .with_session_store(sessions.clone());
    tracker.migrate().await.unwrap();
    let session = Session::new(None, Arc::new(sessions), None);
    let context = RequestContext::new(
        Some("127.0.0.1".parse().unwrap()),
        Some(FIREFOX_WINDOWS.to_owned()),
    );
    let tracking = Tracking::new(tracker, context).with_session(session.clone());

    User { id: 1 }
        .record_session_login_with(&tracking, LoginOptions::remember(true))
        .await
        .unwrap();
    let id = session.id().expect("signing in saves the session");
    let debug = format!("{tracking:?}");

    assert!(
        !debug.contains(&id.to_string()),
        "the session cookie value shows in {debug}"
    );
    assert!(
        !debug.contains(&id.0.to_string()),
        "the session id's number shows in {debug}"
    );
    assert!(
        debug.contains("has_session: true"),
        "the output says a session is attached: {debug}"
    );
    assert!(
        debug.contains("Set([redacted])"),
        "the pending remember cookie is redacted: {debug}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tracker_debug_hides_database_password() {
    let Some(database) = PgDatabase::create() else {
        return;
    };
    let url = with_password(&database.url);
    let tracker = Tracker::postgres(&url).expect("trust authentication ignores the password");

    let debug = format!("{tracker:?}");

    assert!(!debug.contains(PASSWORD), "the password shows in {debug}");
}

#[test]
fn connection_error_hides_password() {
    // Nothing listens on port 1, so the connection is refused.
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:1/app");

    let error = Tracker::postgres(&url).expect_err("nothing listens on port 1");

    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(PASSWORD), "the password shows in {text}");
        assert!(
            text.contains("127.0.0.1:1"),
            "the error names the server: {text}"
        );
    }
}

/// Puts [`PASSWORD`] into a PostgreSQL URL's user part.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap();
            format!("{scheme}://{user}:{PASSWORD}@{host}")
        }
        None => format!("{scheme}://postgres:{PASSWORD}@{rest}"),
    }
}
