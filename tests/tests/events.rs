//! Tracker events, the token revoker and the absence of secrets in logs. Every test runs
//! on a SQLite file, on PostgreSQL, either the server named by
//! `AUTH_TRACKER_POSTGRES_URL` or a throwaway server started from the installed binaries,
//! and on the MySQL or MariaDB server named by `AUTH_TRACKER_MYSQL_URL`.
//!
//! This binary installs a global `tracing` subscriber that captures the logs of every
//! test in it, see [`captured_logs`].

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use auth_tracker::axum::TrackingLayer;
use auth_tracker::events::{GeolocationFailed, LoginRevoked, NewLogin, TokenCreated};
use auth_tracker::geo::{GeoError, GeoProvider, LocateFuture, Location};
use auth_tracker::{
    AuthTracking, LoginId, LoginKind, LoginOptions, RequestContext, RevokeFuture, RevokeReason,
    RevokeScope, RevokedToken, TokenRevoker, Tracker, TrackerConfig, Tracking,
};
#[cfg(feature = "mysql")]
use auth_tracker_tests::MysqlDatabase;
use auth_tracker_tests::user_agents::{FIREFOX_WINDOWS, SAFARI_IPHONE};
use auth_tracker_tests::{LogBuffer, PgDatabase};
use axum::Router;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::routing::{get, post};
use tokio::sync::mpsc;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
use tracing_subscriber::fmt::format::FmtSpan;

/// A public address, so the tracker sends it to the geolocation provider.
const PUBLIC_IP: &str = "81.2.69.160";

/// Maximum wait for an event that the tracker fires from a spawned task.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a test waits before it concludes that no further event is coming.
const QUIET_PERIOD: Duration = Duration::from_millis(300);

/// Message of every lookup error that [`FailingProvider`] returns.
const PROVIDER_ERROR: &str = "example geolocation service returned HTTP 503";

#[derive(AuthTracking)]
#[auth_tracking(user_type = "User")]
struct User {
    id: i64,
}

/// Same owners as [`User`], located in London.
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = LondonProvider)]
struct LondonUser {
    id: i64,
}

/// Same owners as [`User`], located in Paris.
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = ParisProvider)]
struct ParisUser {
    id: i64,
}

/// Same owners as [`User`], located in London after a delay.
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = DelayedLondonProvider)]
struct DelayedLondonUser {
    id: i64,
}

/// Same owners as [`User`], located in London after a longer delay than
/// [`DelayedLondonUser`].
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = LaterLondonProvider)]
struct LaterLondonUser {
    id: i64,
}

/// Same owners as [`User`], whose every lookup fails.
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = FailingProvider)]
struct FailingUser {
    id: i64,
}

/// Same owners as [`User`], whose lookups outlast any short timeout.
#[derive(AuthTracking)]
#[auth_tracking(user_type = "User", ip_provider = SlowProvider)]
struct SlowUser {
    id: i64,
}

fn london() -> Location {
    Location {
        city: Some("London".into()),
        region: Some("England".into()),
        country: Some("United Kingdom".into()),
        country_code: Some("GB".into()),
        data: None,
    }
}

fn paris() -> Location {
    Location {
        city: Some("Paris".into()),
        region: Some("Île-de-France".into()),
        country: Some("France".into()),
        country_code: Some("FR".into()),
        data: None,
    }
}

/// Places every address in London.
#[derive(Default)]
struct LondonProvider;

impl GeoProvider for LondonProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async { Ok(Some(london())) })
    }
}

/// Places every address in Paris.
#[derive(Default)]
struct ParisProvider;

impl GeoProvider for ParisProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async { Ok(Some(paris())) })
    }
}

/// Places every address in London after 300 ms, well within the default 2 s timeout, so
/// that a test can record several logins before the first new-login event fires.
#[derive(Default)]
struct DelayedLondonProvider;

impl GeoProvider for DelayedLondonProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Some(london()))
        })
    }
}

/// Places every address in London after 900 ms, so that a login located by it is
/// compared with earlier logins that [`DelayedLondonProvider`] located 600 ms before.
#[derive(Default)]
struct LaterLondonProvider;

impl GeoProvider for LaterLondonProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(900)).await;
            Ok(Some(london()))
        })
    }
}

/// Fails every lookup, as an unavailable geolocation service would.
#[derive(Default)]
struct FailingProvider;

impl GeoProvider for FailingProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async { Err(GeoError::new(PROVIDER_ERROR)) })
    }
}

/// Places every address in London after 5 s, far past the 200 ms geolocation timeout
/// that its tests configure.
#[derive(Default)]
struct SlowProvider;

impl GeoProvider for SlowProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(Some(london()))
        })
    }
}

/// Token revoker that records the tokens of each call.
#[derive(Clone, Default)]
struct RecordingRevoker(Arc<Mutex<Vec<Vec<RevokedToken>>>>);

impl RecordingRevoker {
    /// Removes and returns the calls recorded so far, one token list per call.
    fn take_calls(&self) -> Vec<Vec<RevokedToken>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl TokenRevoker for RecordingRevoker {
    fn revoke_tokens<'a>(&'a self, tokens: &'a [RevokedToken]) -> RevokeFuture<'a> {
        Box::pin(async move {
            self.0.lock().unwrap().push(tokens.to_vec());
        })
    }
}

/// Events that one listener received, in the order the tracker sent them.
struct Events<E>(mpsc::UnboundedReceiver<E>);

/// Creates a listener that forwards a copy of each event to the returned [`Events`].
fn listener<E: Clone + Send + 'static>() -> (impl Fn(&E) + Send + Sync + 'static, Events<E>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let forward = move |event: &E| {
        // Sending fails only once the test has dropped its receiver and reads no more.
        let _ = sender.send(event.clone());
    };
    (forward, Events(receiver))
}

impl<E> Events<E> {
    /// Waits for the next event, failing the test after [`EVENT_TIMEOUT`].
    async fn next(&mut self) -> E {
        tokio::time::timeout(EVENT_TIMEOUT, self.0.recv())
            .await
            .unwrap_or_else(|_| panic!("no event within {EVENT_TIMEOUT:?}"))
            .expect("the tracker keeps its listeners while the test runs")
    }

    /// Returns the events received so far without waiting. Revocation and token-creation
    /// events are sent before the call that causes them returns.
    fn received(&mut self) -> Vec<E> {
        let mut events = Vec::new();
        while let Ok(event) = self.0.try_recv() {
            events.push(event);
        }
        events
    }

    /// Returns whether no event arrives within [`QUIET_PERIOD`].
    async fn stays_quiet(&mut self) -> bool {
        tokio::time::timeout(QUIET_PERIOD, self.0.recv())
            .await
            .is_err()
    }
}

/// Creates the tracking handle of a new browser, with its own session in `sessions`.
fn browser(tracker: &Tracker, sessions: &MemoryStore, ip: &str, user_agent: &str) -> Tracking {
    let session = Session::new(None, Arc::new(sessions.clone()), None);
    let context = RequestContext::new(Some(ip.parse().unwrap()), Some(user_agent.to_owned()));
    Tracking::new(tracker.clone(), context).with_session(session)
}

/// Creates a tracking handle with no session and no current login, as an administrator
/// task or a background job has.
fn anonymous(tracker: &Tracker) -> Tracking {
    Tracking::new(tracker.clone(), RequestContext::default())
}

/// Records a session login and returns its new-login event.
async fn sign_in<U: AuthTracking>(
    user: &U,
    tracking: &Tracking,
    new_logins: &mut Events<NewLogin>,
) -> NewLogin {
    let login = user.record_session_login(tracking).await.unwrap();
    let event = new_logins.next().await;
    assert_eq!(
        event.login.id, login.id,
        "the event names the recorded login"
    );
    event
}

/// Records an application token login for `user`, as a JWT or OAuth layer would.
async fn record_app_token(
    tracker: &Tracker,
    user: &User,
    name: &str,
    token_id: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> auth_tracker::Login {
    let request = RequestContext::new(
        Some("127.0.0.1".parse().unwrap()),
        Some(FIREFOX_WINDOWS.to_owned()),
    );
    tracker
        .record_token_login(
            User::LOGINS_TABLE,
            user.tracking_owner(),
            name,
            token_id,
            expires_at,
            User::enrichment(),
            &request,
        )
        .await
        .unwrap()
}

/// Returns the secret after the `|` of a personal API token.
fn secret_part(token: &str) -> &str {
    token.split_once('|').expect("a token is `<id>|<secret>`").1
}

/// Returns the ids of the given logins as a set, for comparisons that ignore order.
fn id_set(ids: impl IntoIterator<Item = LoginId>) -> HashSet<LoginId> {
    ids.into_iter().collect()
}

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
    #[cfg(feature = "mysql")]
    Mysql(MysqlDatabase),
}

/// Opens the backend's database with `config` and runs the migrations. Revocations
/// delete their sessions from `sessions`.
async fn open(backend: &Backend, config: TrackerConfig, sessions: &MemoryStore) -> Tracker {
    let tracker = match backend {
        Backend::Sqlite(directory) => {
            Tracker::sqlite(directory.path().join("logins.sqlite3").to_str().unwrap())
        }
        Backend::Postgres(database) => Tracker::postgres(&database.url),
        #[cfg(feature = "mysql")]
        Backend::Mysql(database) => Tracker::mysql(&database.url),
    }
    .expect("tracker opens")
    .with_config(config)
    .with_session_store(sessions.clone());
    tracker.migrate().await.expect("migrations run");
    tracker
}

/// Asserts that the stored login has no location, as after a failed lookup.
async fn assert_not_located(tracker: &Tracker, id: LoginId) {
    let stored = tracker
        .find_login(User::LOGINS_TABLE, id, None)
        .await
        .unwrap()
        .expect("the login is recorded");
    assert_eq!(stored.city, None, "city");
    assert_eq!(stored.region, None, "region");
    assert_eq!(stored.country, None, "country");
    assert_eq!(stored.country_code, None, "country code");
    assert_eq!(stored.ip_data, None, "extra geolocation data");
}

async fn new_login_per_recorded_login(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_new_login(on_new_login);
    let alice = User { id: 1 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);

    let session = alice.record_session_login(&desktop).await.unwrap();
    let event = new_logins.next().await;
    assert_eq!(event.login.id, session.id);
    assert_eq!(event.login.kind, LoginKind::Session);

    let created = alice.create_token(&desktop, "ci").await.unwrap();
    let event = new_logins.next().await;
    assert_eq!(event.login.id, created.login.id);
    assert_eq!(event.login.kind, LoginKind::Token);
    assert_eq!(event.login.name.as_deref(), Some("ci"));

    let issued = record_app_token(&tracker, &alice, "mobile app", "jwt-1", None).await;
    let event = new_logins.next().await;
    assert_eq!(event.login.id, issued.id);
    assert_eq!(event.login.kind, LoginKind::Token);
    assert_eq!(event.login.name.as_deref(), Some("mobile app"));

    assert!(new_logins.stays_quiet().await, "one event per login");
}

async fn new_device_follows_families(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_new_login(on_new_login);
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let firefox = || browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);
    let safari = browser(&tracker, &sessions, PUBLIC_IP, SAFARI_IPHONE);

    let first = sign_in(&alice, &firefox(), &mut new_logins).await;
    assert!(first.new_device, "first Firefox on Windows");
    assert_eq!(first.new_country, None, "no geolocation provider");

    let second = sign_in(&alice, &firefox(), &mut new_logins).await;
    assert!(!second.new_device, "second Firefox on Windows");

    let phone = sign_in(&alice, &safari, &mut new_logins).await;
    assert!(phone.new_device, "first Safari on iPhone");

    let other_user = sign_in(&bob, &firefox(), &mut new_logins).await;
    assert!(
        other_user.new_device,
        "another user's first Firefox on Windows"
    );

    assert_eq!(alice.logout_all(&anonymous(&tracker)).await.unwrap(), 3);
    let after_revoke = sign_in(&alice, &firefox(), &mut new_logins).await;
    assert!(
        !after_revoke.new_device,
        "revoked logins still count as seen devices"
    );
}

async fn new_country_follows_provider(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_new_login(on_new_login);
    let public = || browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);

    let first = sign_in(&LondonUser { id: 1 }, &public(), &mut new_logins).await;
    assert_eq!(first.new_country, Some(true), "first login from GB");
    assert_eq!(
        first.login.country_code.as_deref(),
        Some("GB"),
        "the event carries the looked-up location"
    );

    let second = sign_in(&LondonUser { id: 1 }, &public(), &mut new_logins).await;
    assert_eq!(second.new_country, Some(false), "second login from GB");

    let abroad = sign_in(&ParisUser { id: 1 }, &public(), &mut new_logins).await;
    assert_eq!(abroad.new_country, Some(true), "first login from FR");
    assert_eq!(abroad.login.country_code.as_deref(), Some("FR"));

    let private = browser(&tracker, &sessions, "192.168.1.20", FIREFOX_WINDOWS);
    let unlocated = sign_in(&LondonUser { id: 1 }, &private, &mut new_logins).await;
    assert_eq!(
        unlocated.new_country, None,
        "private addresses are not located"
    );

    let other_user = sign_in(&LondonUser { id: 2 }, &public(), &mut new_logins).await;
    assert_eq!(
        other_user.new_country,
        Some(true),
        "another user's first login from GB"
    );
}

/// Two logins recorded before the first event fires: each event must compare its login
/// with the logins recorded before it, not with the later one.
async fn new_login_ignores_later_logins(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_new_login(on_new_login);
    let carol = DelayedLondonUser { id: 3 };
    let carol_later = LaterLondonUser { id: 3 };
    let first_browser = browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);
    let second_browser = browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);

    // Both logins exist before either event fires. The second one's lookup ends later,
    // so the first login's location is stored before the second is compared with it.
    let first = carol.record_session_login(&first_browser).await.unwrap();
    let second = carol_later
        .record_session_login(&second_browser)
        .await
        .unwrap();
    let events = [new_logins.next().await, new_logins.next().await];
    let first_event = events
        .iter()
        .find(|event| event.login.id == first.id)
        .expect("an event for the first login");
    let second_event = events
        .iter()
        .find(|event| event.login.id == second.id)
        .expect("an event for the second login");

    assert!(
        first_event.new_device,
        "first login: device never seen before"
    );
    assert_eq!(
        first_event.new_country,
        Some(true),
        "first login: country never seen before"
    );
    assert!(!second_event.new_device, "second login: same device");
    assert_eq!(
        second_event.new_country,
        Some(false),
        "second login: same country"
    );
}

async fn geolocation_error_raises_event(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_failed, mut failures) = listener::<GeolocationFailed>();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_geolocation_failed(on_failed)
        .on_new_login(on_new_login);
    let tracking = browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);

    let event = sign_in(&FailingUser { id: 1 }, &tracking, &mut new_logins).await;
    let failure = failures.next().await;
    assert_eq!(failure.login_id, event.login.id);
    assert!(
        failure.error.contains(PROVIDER_ERROR),
        "the error names the cause: {:?}",
        failure.error
    );
    assert_eq!(event.new_country, None, "the country stays unknown");
    assert_not_located(&tracker, event.login.id).await;
    assert!(failures.stays_quiet().await, "one failure per lookup");
}

async fn geolocation_timeout_raises_event(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_failed, mut failures) = listener::<GeolocationFailed>();
    let (on_new_login, mut new_logins) = listener::<NewLogin>();
    let mut config = TrackerConfig::default();
    config.geolocation_timeout = Duration::from_millis(200);
    let tracker = open(backend, config, &sessions)
        .await
        .on_geolocation_failed(on_failed)
        .on_new_login(on_new_login);
    let tracking = browser(&tracker, &sessions, PUBLIC_IP, FIREFOX_WINDOWS);

    let started = Instant::now();
    let login = (SlowUser { id: 1 })
        .record_session_login(&tracking)
        .await
        .unwrap();
    let recorded_after = started.elapsed();
    // A functional bound, far from both the 200 ms timeout and the provider's 5 s.
    assert!(
        recorded_after < Duration::from_secs(1),
        "recording waited {recorded_after:?} for the lookup"
    );
    let stored = tracker
        .find_login(User::LOGINS_TABLE, login.id, None)
        .await
        .unwrap();
    assert!(
        stored.is_some(),
        "the login is stored before the lookup ends"
    );

    let failure = failures.next().await;
    let failed_after = started.elapsed();
    assert_eq!(failure.login_id, login.id);
    assert!(
        failure.error.contains("timed out after 200 ms"),
        "the error names the timeout: {:?}",
        failure.error
    );
    assert!(
        failed_after < Duration::from_secs(2),
        "the timeout ended the lookup, not the provider, after {failed_after:?}"
    );

    let event = new_logins.next().await;
    assert_eq!(event.login.id, login.id);
    assert_eq!(event.new_country, None, "the country stays unknown");
    assert_not_located(&tracker, login.id).await;
}

async fn logout_one_emits_revoked(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_revoked, mut revoked) = listener::<LoginRevoked>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_login_revoked(on_revoked);
    let alice = User { id: 1 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let desktop_login = alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();

    assert!(alice.logout(&desktop, phone_login.id).await.unwrap());
    let events = revoked.received();
    assert_eq!(events.len(), 1, "one event for one login");
    assert_eq!(events[0].login_id, phone_login.id);
    assert_eq!(events[0].reason, RevokeReason::Revoked);
    assert_eq!(events[0].kind, LoginKind::Session);
    assert_eq!(events[0].name, None);
    assert_eq!(events[0].owner, alice.tracking_owner());
    assert_eq!(events[0].revoked_by, Some(desktop_login.id));

    assert!(!alice.logout(&desktop, phone_login.id).await.unwrap());
    assert!(
        revoked.received().is_empty(),
        "revoking again emits nothing"
    );

    assert!(alice.logout(&desktop, desktop_login.id).await.unwrap());
    let events = revoked.received();
    assert_eq!(events.len(), 1, "one event for signing out");
    assert_eq!(events[0].login_id, desktop_login.id);
    assert_eq!(events[0].reason, RevokeReason::Logout);
    assert_eq!(events[0].revoked_by, Some(desktop_login.id));

    let administrator = anonymous(&tracker);
    let token = alice.create_token(&administrator, "ci").await.unwrap();
    assert!(alice.logout(&administrator, token.login.id).await.unwrap());
    let events = revoked.received();
    assert_eq!(events.len(), 1, "one event for the token");
    assert_eq!(events[0].login_id, token.login.id);
    assert_eq!(events[0].reason, RevokeReason::Revoked);
    assert_eq!(events[0].kind, LoginKind::Token);
    assert_eq!(events[0].name.as_deref(), Some("ci"));
    assert_eq!(events[0].revoked_by, None, "no login made the request");
}

async fn logout_others_emits_revoked(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_revoked, mut revoked) = listener::<LoginRevoked>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_login_revoked(on_revoked);
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let bob_desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let desktop_login = alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();
    let token = alice.create_token(&desktop, "ci").await.unwrap();
    bob.record_session_login(&bob_desktop).await.unwrap();

    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 2);
    let events = revoked.received();
    assert_eq!(events.len(), 2, "one event per revoked login");
    assert_eq!(
        id_set(events.iter().map(|event| event.login_id)),
        id_set([phone_login.id, token.login.id]),
        "the phone and the token, not the current login or bob's"
    );
    for event in &events {
        assert_eq!(event.reason, RevokeReason::RevokedOthers);
        assert_eq!(event.owner, alice.tracking_owner());
        assert_eq!(event.revoked_by, Some(desktop_login.id));
    }
    let token_event = events
        .iter()
        .find(|event| event.login_id == token.login.id)
        .unwrap();
    assert_eq!(token_event.kind, LoginKind::Token);
    assert_eq!(token_event.name.as_deref(), Some("ci"));
    let phone_event = events
        .iter()
        .find(|event| event.login_id == phone_login.id)
        .unwrap();
    assert_eq!(phone_event.kind, LoginKind::Session);
    assert_eq!(phone_event.name, None);

    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 0);
    assert!(
        revoked.received().is_empty(),
        "revoking again emits nothing"
    );
}

async fn logout_all_emits_revoked(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_revoked, mut revoked) = listener::<LoginRevoked>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_login_revoked(on_revoked);
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let bob_desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let desktop_login = alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();
    let token = alice.create_token(&desktop, "ci").await.unwrap();
    let bob_login = bob.record_session_login(&bob_desktop).await.unwrap();

    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 3);
    let events = revoked.received();
    assert_eq!(events.len(), 3, "one event per revoked login");
    assert_eq!(
        id_set(events.iter().map(|event| event.login_id)),
        id_set([desktop_login.id, phone_login.id, token.login.id]),
        "every login of alice, the current one included"
    );
    for event in &events {
        assert_eq!(event.reason, RevokeReason::RevokedAll);
        assert_eq!(event.owner, alice.tracking_owner());
        assert_eq!(event.revoked_by, Some(desktop_login.id));
    }
    let token_event = events
        .iter()
        .find(|event| event.login_id == token.login.id)
        .unwrap();
    assert_eq!(token_event.kind, LoginKind::Token);
    assert_eq!(token_event.name.as_deref(), Some("ci"));

    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 0);
    assert!(
        revoked.received().is_empty(),
        "revoking again emits nothing"
    );

    assert_eq!(bob.logout_all(&anonymous(&tracker)).await.unwrap(), 1);
    let events = revoked.received();
    assert_eq!(events.len(), 1, "one event for bob's login");
    assert_eq!(events[0].login_id, bob_login.id);
    assert_eq!(events[0].owner, bob.tracking_owner());
    assert_eq!(events[0].reason, RevokeReason::RevokedAll);
    assert_eq!(events[0].revoked_by, None, "no login made the request");
}

async fn token_created_hides_token(backend: &Backend) {
    let sessions = MemoryStore::default();
    let (on_created, mut created) = listener::<TokenCreated>();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .on_token_created(on_created);
    let alice = User { id: 1 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);

    alice.record_session_login(&desktop).await.unwrap();
    assert!(created.received().is_empty(), "a session is not a token");
    record_app_token(&tracker, &alice, "mobile app", "jwt-1", None).await;
    assert!(
        created.received().is_empty(),
        "an application token is not a personal API token"
    );

    let new_token = alice.create_token(&desktop, "deploy").await.unwrap();
    let events = created.received();
    assert_eq!(events.len(), 1, "one event per created token");
    let event = &events[0];
    assert_eq!(event.login.id, new_token.login.id);
    assert_eq!(event.login.kind, LoginKind::Token);
    assert_eq!(event.login.name.as_deref(), Some("deploy"));

    let plain = new_token.token.expose();
    let event_debug = format!("{event:?}");
    assert!(!event_debug.contains(plain), "event Debug shows the token");
    assert!(
        !event_debug.contains(secret_part(plain)),
        "event Debug shows the token secret"
    );
    let new_token_debug = format!("{new_token:?}");
    assert!(
        !new_token_debug.contains(plain),
        "NewToken Debug shows the token"
    );
    assert!(
        !new_token_debug.contains(secret_part(plain)),
        "NewToken Debug shows the token secret"
    );
}

async fn token_id_check_follows_state(backend: &Backend) {
    let sessions = MemoryStore::default();
    let tracker = open(backend, TrackerConfig::default(), &sessions).await;
    let alice = User { id: 1 };
    let table = User::LOGINS_TABLE;

    let lasting = record_app_token(&tracker, &alice, "mobile app", "jwt-lasting", None).await;
    assert_eq!(lasting.kind, LoginKind::Token);
    assert_eq!(lasting.name.as_deref(), Some("mobile app"));
    let found = tracker.check_token_id(table, "jwt-lasting").await.unwrap();
    assert_eq!(found.map(|login| login.id), Some(lasting.id), "active");
    let unknown = tracker.check_token_id(table, "jwt-unknown").await.unwrap();
    assert!(unknown.is_none(), "never recorded");
    let duplicate = tracker
        .record_token_login(
            table,
            alice.tracking_owner(),
            "copy",
            "jwt-lasting",
            None,
            User::enrichment(),
            &RequestContext::default(),
        )
        .await;
    assert!(duplicate.is_err(), "a token id is recorded once");

    let revoked = tracker
        .revoke(
            table,
            &alice.tracking_owner(),
            RevokeScope::One(lasting.id),
            RevokeReason::Revoked,
            None,
        )
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    let found = tracker.check_token_id(table, "jwt-lasting").await.unwrap();
    assert!(found.is_none(), "revoked");

    let expires_at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let expiring = record_app_token(&tracker, &alice, "short", "jwt-short", Some(expires_at)).await;
    let found = tracker.check_token_id(table, "jwt-short").await.unwrap();
    assert_eq!(
        found.map(|login| login.id),
        Some(expiring.id),
        "before expires_at"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let found = tracker.check_token_id(table, "jwt-short").await.unwrap();
    assert!(found.is_none(), "past expires_at");
}

async fn token_revoker_gets_revoked_tokens(backend: &Backend) {
    let sessions = MemoryStore::default();
    let revoker = RecordingRevoker::default();
    let tracker = open(backend, TrackerConfig::default(), &sessions)
        .await
        .with_token_revoker(revoker.clone());
    let alice = User { id: 1 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    alice.record_session_login(&desktop).await.unwrap();
    alice.record_session_login(&phone).await.unwrap();
    let app_token = record_app_token(&tracker, &alice, "mobile app", "jwt-1", None).await;
    let created = alice.create_token(&desktop, "ci").await.unwrap();

    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 3);
    let calls = revoker.take_calls();
    assert_eq!(calls.len(), 1, "one call per revocation");
    assert_eq!(
        id_set(calls[0].iter().map(|token| token.login_id)),
        id_set([app_token.id, created.login.id]),
        "exactly the revoked tokens, no session"
    );
    let app_entry = calls[0]
        .iter()
        .find(|token| token.login_id == app_token.id)
        .unwrap();
    assert_eq!(app_entry.name.as_deref(), Some("mobile app"));
    assert_eq!(app_entry.owner, alice.tracking_owner());

    let tablet = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    alice.record_session_login(&tablet).await.unwrap();
    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 1);
    assert!(
        revoker.take_calls().is_empty(),
        "no call when only sessions are revoked"
    );

    let second_app_token = record_app_token(&tracker, &alice, "cli", "jwt-2", None).await;
    assert!(alice.logout(&desktop, second_app_token.id).await.unwrap());
    let calls = revoker.take_calls();
    assert_eq!(calls.len(), 1, "one call for one revoked token");
    assert_eq!(
        id_set(calls[0].iter().map(|token| token.login_id)),
        id_set([second_app_token.id])
    );

    let third_app_token = record_app_token(&tracker, &alice, "watch", "jwt-3", None).await;
    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 2);
    let calls = revoker.take_calls();
    assert_eq!(calls.len(), 1, "one call for signing out everywhere");
    assert_eq!(
        id_set(calls[0].iter().map(|token| token.login_id)),
        id_set([third_app_token.id]),
        "the token, not the current session"
    );
}

async fn revoke_others_can_keep_tokens(backend: &Backend) {
    let sessions = MemoryStore::default();
    let revoker = RecordingRevoker::default();
    let (on_revoked, mut revoked) = listener::<LoginRevoked>();
    let mut config = TrackerConfig::default();
    config.revoke_others_includes_tokens = false;
    let tracker = open(backend, config, &sessions)
        .await
        .with_token_revoker(revoker.clone())
        .on_login_revoked(on_revoked);
    let alice = User { id: 1 };
    let table = User::LOGINS_TABLE;
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();
    let app_token = record_app_token(&tracker, &alice, "mobile app", "jwt-kept", None).await;
    let created = alice.create_token(&desktop, "ci").await.unwrap();

    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 1);
    let events = revoked.received();
    assert_eq!(
        id_set(events.iter().map(|event| event.login_id)),
        id_set([phone_login.id]),
        "only the other session"
    );
    let app_check = tracker.check_token_id(table, "jwt-kept").await.unwrap();
    assert!(app_check.is_some(), "the application token stays active");
    let created_check = tracker
        .check_token(table, created.token.expose())
        .await
        .unwrap();
    assert!(
        created_check.is_some(),
        "the personal API token stays active"
    );
    assert!(revoker.take_calls().is_empty(), "no token was revoked");

    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 3);
    let app_check = tracker.check_token_id(table, "jwt-kept").await.unwrap();
    assert!(app_check.is_none(), "signing out everywhere revokes tokens");
    let calls = revoker.take_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        id_set(calls[0].iter().map(|token| token.login_id)),
        id_set([app_token.id, created.login.id])
    );
}

/// Installs, on first call, a global subscriber that writes every `auth_tracker` event
/// and span at TRACE level into the returned buffer. It is global, rather than set for
/// one thread, because the tracker logs from spawned and blocking tasks too.
fn captured_logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        tracing_subscriber::fmt()
            .with_env_filter("auth_tracker=trace")
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(buffer.clone())
            .try_init()
            .expect("no other code in this test binary installs a global subscriber");
        buffer
    })
}

async fn sign_in_remembered(tracking: Tracking) -> StatusCode {
    let signed_in = (User { id: 2 })
        .record_session_login_with(&tracking, LoginOptions::remember(true))
        .await;
    match signed_in {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn whoami(tracking: Tracking) -> StatusCode {
    if tracking.current().is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// Returns the value of the cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .find_map(|cookie| {
            let (cookie_name, rest) = cookie.split_once('=')?;
            let value = rest.split(';').next()?;
            (cookie_name == name).then(|| value.to_owned())
        })
}

/// Signs a browser in with remember-me over loopback HTTP, then comes back with nothing
/// but the remember-me cookie, and once with the bearer `token`. Returns the secrets that
/// only the HTTP exchange carries: session ids and the remember-me cookie value.
async fn remembered_over_http(tracker: Tracker, sessions: MemoryStore, token: &str) -> Vec<String> {
    let app = Router::new()
        .route("/login", post(sign_in_remembered))
        .route("/me", get(whoami))
        .layer(TrackingLayer::new(tracker))
        .layer(SessionManagerLayer::new(sessions).with_secure(false));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let signed_in = client
        .post(format!("{base}/login"))
        .header("user-agent", FIREFOX_WINDOWS)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::NO_CONTENT);
    let first_session = set_cookie_value(&signed_in, "id").expect("a session cookie");
    let remember = set_cookie_value(&signed_in, "remember").expect("a remember-me cookie");

    let remembered = client
        .get(format!("{base}/me"))
        .header(COOKIE, format!("remember={remember}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        remembered.status(),
        StatusCode::OK,
        "the remember-me cookie signs in"
    );
    let second_session = set_cookie_value(&remembered, "id").expect("a new session cookie");

    let bearer = client
        .get(format!("{base}/me"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK, "the bearer token signs in");

    // The cookie value is `selector:verifier`, possibly with the colon percent-encoded.
    let decoded = remember.replace("%3A", ":");
    let verifier = decoded
        .split_once(':')
        .expect("a remember-me cookie is `selector:verifier`")
        .1
        .to_owned();
    vec![first_session, second_session, decoded, verifier]
}

async fn logs_contain_no_secrets(backend: &Backend) {
    let logs = captured_logs();
    let sessions = MemoryStore::default();
    let tracker = open(backend, TrackerConfig::default(), &sessions).await;
    let alice = User { id: 1 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);

    let login = alice
        .record_session_login_with(&desktop, LoginOptions::remember(true))
        .await
        .unwrap();
    let session_id = desktop.session().unwrap().id().unwrap().to_string();
    let new_token = alice.create_token(&desktop, "ci").await.unwrap();
    let plain = new_token.token.expose();
    let checked = tracker
        .check_token(User::LOGINS_TABLE, plain)
        .await
        .unwrap();
    assert_eq!(checked.map(|login| login.id), Some(new_token.login.id));
    let http_secrets = remembered_over_http(tracker.clone(), sessions.clone(), plain).await;
    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 2);

    let text = logs.text();
    assert!(!text.contains(plain), "the plain token is logged");
    assert!(
        !text.contains(secret_part(plain)),
        "the token secret is logged"
    );
    assert!(!text.contains(&session_id), "the session id is logged");
    for secret in &http_secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a session id or remember-me secret from HTTP is logged"
        );
    }

    assert!(
        text.contains("recorded a login"),
        "the capture holds the sign-in"
    );
    assert!(
        text.contains(&login.id.to_string()),
        "the capture holds login ids"
    );
    assert!(
        text.contains("remember-me cookie bound a new session"),
        "the capture holds the layer's logs"
    );
    assert!(
        text.contains("revoked logins"),
        "the capture holds the revocation"
    );
}

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let backend = super::Backend::Sqlite(tempfile::tempdir().unwrap());
                    super::$name(&backend).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let Some(database) = auth_tracker_tests::PgDatabase::create() else {
                        return;
                    };
                    super::$name(&super::Backend::Postgres(database)).await;
                }
            )*
        }

        #[cfg(feature = "mysql")]

        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let Some(database) = auth_tracker_tests::MysqlDatabase::create() else {
                        return;
                    };
                    super::$name(&super::Backend::Mysql(database)).await;
                }
            )*
        }
    };
}

on_every_backend!(
    new_login_per_recorded_login,
    new_device_follows_families,
    new_country_follows_provider,
    new_login_ignores_later_logins,
    geolocation_error_raises_event,
    geolocation_timeout_raises_event,
    logout_one_emits_revoked,
    logout_others_emits_revoked,
    logout_all_emits_revoked,
    token_created_hides_token,
    token_id_check_follows_state,
    token_revoker_gets_revoked_tokens,
    revoke_others_can_keep_tokens,
    logs_contain_no_secrets,
);
