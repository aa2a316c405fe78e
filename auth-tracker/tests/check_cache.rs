//! Reuse of per-request session checks (`TrackerConfig::check_cache_ttl`), and the
//! login that recording returns, on SQLite files.
//!
//! A revocation written straight into the table, as another process would, shows
//! whether a check read the database or reused an earlier result.
#![cfg(feature = "sqlite")]

use std::time::Duration;

use auth_tracker::agent::NoParser;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::{
    CurrentLogin, Enrichment, Login, Owner, RequestContext, RevokeReason, RevokeScope, Tracker,
    TrackerConfig,
};
use chrono::{SubsecRound, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

const ENRICHMENT: Enrichment = Enrichment {
    parser: &NoParser,
    ip_provider: ProviderChoice::None,
};

const SESSION_ID: &str = "session-a";

/// A tracker on a migrated SQLite file, with one recorded session login.
struct Fixture {
    tracker: Tracker,
    path: String,
    login: Login,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(config: TrackerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logins.sqlite3");
        let path = path.to_str().unwrap().to_owned();
        let tracker = Tracker::sqlite(&path).unwrap().with_config(config);
        tracker.migrate().await.unwrap();
        let request = RequestContext::new(Some("192.0.2.1".parse().unwrap()), None);
        let login = tracker
            .record_login(
                "logins",
                Owner::new("User", 1),
                Some(SESSION_ID.to_owned()),
                ENRICHMENT,
                &request,
            )
            .await
            .unwrap();
        Self {
            tracker,
            path,
            login,
            _dir: dir,
        }
    }

    fn current(&self) -> CurrentLogin {
        CurrentLogin {
            id: self.login.id,
            table: "logins".to_owned(),
        }
    }

    async fn check(&self, session_id: &str) -> Option<Login> {
        self.tracker
            .check_login(&self.current(), Some(session_id.to_owned()))
            .await
            .unwrap()
    }

    /// Revokes the login with SQL on a connection of its own, bypassing the tracker.
    fn revoke_in_database(&self) {
        let mut connection = SqliteConnection::establish(&self.path).unwrap();
        connection
            .batch_execute(&format!(
                "UPDATE logins SET revoked_at = '2026-01-01 00:00:00', revoke_reason = 'revoked' \
                 WHERE id = '{}'",
                self.login.id
            ))
            .unwrap();
    }
}

fn config_with_ttl(ttl: Duration) -> TrackerConfig {
    let mut config = TrackerConfig::default();
    config.check_cache_ttl = ttl;
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reuses_result_within_ttl() {
    let fixture = Fixture::new(config_with_ttl(Duration::from_secs(600))).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    fixture.revoke_in_database();
    let reused = fixture.check(SESSION_ID).await;
    assert_eq!(
        reused.map(|login| login.id),
        Some(fixture.login.id),
        "a check within the TTL reuses the active result"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tracker_revoke_ends_reuse_at_once() {
    let fixture = Fixture::new(config_with_ttl(Duration::from_secs(600))).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    let revoked = fixture
        .tracker
        .clone()
        .revoke(
            "logins",
            &Owner::new("User", 1),
            RevokeScope::One(fixture.login.id),
            RevokeReason::Revoked,
            None,
        )
        .await
        .unwrap();
    assert_eq!(revoked, 1, "revoked logins");
    assert!(
        fixture.check(SESSION_ID).await.is_none(),
        "a check after a revoke through a clone of the tracker reads the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_ttl_reads_every_check() {
    let fixture = Fixture::new(config_with_ttl(Duration::ZERO)).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    fixture.revoke_in_database();
    assert!(fixture.check(SESSION_ID).await.is_none(), "second check");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_after_ttl_reads_database() {
    let fixture = Fixture::new(config_with_ttl(Duration::from_millis(50))).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    fixture.revoke_in_database();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        fixture.check(SESSION_ID).await.is_none(),
        "check after the TTL"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_session_id_reads_database() {
    let fixture = Fixture::new(config_with_ttl(Duration::from_secs(600))).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    fixture.revoke_in_database();
    assert!(
        fixture.check("session-b").await.is_none(),
        "a check with another session id does not reuse the result"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reused_result_still_expires_when_idle() {
    let mut config = config_with_ttl(Duration::from_secs(600));
    config.idle_timeout = Some(Duration::from_millis(300));
    let fixture = Fixture::new(config).await;
    assert!(fixture.check(SESSION_ID).await.is_some(), "first check");

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        fixture.check(SESSION_ID).await.is_none(),
        "an idle login is rejected although its check was cached"
    );
}

/// The recorded login is built from the inserted values, so it must equal the row as
/// read back, including a caller's expiry with nanoseconds that no backend stores.
#[tokio::test(flavor = "multi_thread")]
async fn recorded_logins_match_stored_rows() {
    let mut config = TrackerConfig::default();
    config.session_lifetime = Some(Duration::from_nanos(7 * 24 * 3_600_000_000_000 + 1_234));
    let fixture = Fixture::new(config).await;
    let tracker = &fixture.tracker;
    let owner = Owner::new("User", 1);
    let request = RequestContext::new(
        Some("2001:db8::1".parse().unwrap()),
        Some("curl/8.5.0".to_owned()),
    );
    let token = tracker
        .create_token("logins", owner.clone(), "ci", ENRICHMENT, &request)
        .await
        .unwrap();
    let expires_at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    let recorded_token = tracker
        .record_token_login(
            "logins",
            owner,
            "jwt",
            "jwt-id-1",
            Some(expires_at),
            ENRICHMENT,
            &request,
        )
        .await
        .unwrap();
    assert_eq!(
        recorded_token.expires_at,
        Some(expires_at.trunc_subsecs(6)),
        "expiry is kept to the microsecond"
    );

    for (kind, recorded) in [
        ("session", fixture.login.clone()),
        ("token", token.login),
        ("recorded token", recorded_token),
    ] {
        let stored = tracker
            .find_login("logins", recorded.id, Some(recorded.id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{kind}: the row exists"));
        assert_eq!(recorded, stored, "{kind}: recorded login and stored row");
    }
}
