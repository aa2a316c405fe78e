//! The runtime against real databases: every test runs on a SQLite file, on
//! PostgreSQL, either the server named by `AUTH_TRACKER_POSTGRES_URL` or a throwaway
//! server started from the installed binaries, and on the MySQL or MariaDB server named
//! by `AUTH_TRACKER_MYSQL_URL`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_tracker::geo::{GeoProvider, LocateFuture, Location};
use auth_tracker::{
    AuthTracking, Error, LoginKind, RequestContext, Tracker, TrackerConfig, Tracking,
};
#[cfg(feature = "mysql")]
use auth_tracker_tests::MysqlDatabase;
use auth_tracker_tests::PgDatabase;
use auth_tracker_tests::user_agents::{CHROME_ANDROID, FIREFOX_WINDOWS, SAFARI_IPHONE};
use tower_sessions::{MemoryStore, Session, SessionStore};

#[derive(AuthTracking)]
struct User {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(table = "member_logins", user_type = "Member")]
struct Member {
    id: uuid::Uuid,
}

#[derive(AuthTracking)]
#[auth_tracking(id = handle, user_type = "Account", parser = none)]
struct Account {
    handle: String,
}

/// Records every address it is asked about and places each in London.
#[derive(Default)]
struct LondonProvider;

static LOOKED_UP: Mutex<Vec<IpAddr>> = Mutex::new(Vec::new());

impl GeoProvider for LondonProvider {
    fn locate(&self, ip: IpAddr) -> LocateFuture<'_> {
        LOOKED_UP.lock().unwrap().push(ip);
        Box::pin(async {
            Ok(Some(Location {
                city: Some("London".into()),
                region: Some("England".into()),
                country: Some("United Kingdom".into()),
                country_code: Some("GB".into()),
                data: Some(
                    serde_json::json!({ "latitude": 51.5142, "longitude": -0.0931, "isp": "Example ISP" }),
                ),
            }))
        })
    }
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = LondonProvider)]
struct Traveller {
    id: i64,
}

/// Creates the tracking handle of a new browser, with its own session in `sessions`.
fn browser(tracker: &Tracker, sessions: &MemoryStore, ip: &str, user_agent: &str) -> Tracking {
    let session = Session::new(None, Arc::new(sessions.clone()), None);
    let context = RequestContext::new(Some(ip.parse().unwrap()), Some(user_agent.to_owned()));
    Tracking::new(tracker.clone(), context).with_session(session)
}

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
    #[cfg(feature = "mysql")]
    Mysql(MysqlDatabase),
}

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

async fn list_marks_current_and_orders(tracker: Tracker, sessions: MemoryStore) {
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let android = browser(&tracker, &sessions, "::ffff:10.0.0.7", CHROME_ANDROID);
    let bob_desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);

    let first = alice.record_session_login(&desktop).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    alice.record_session_login(&phone).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let last = alice.record_session_login(&android).await.unwrap();
    bob.record_session_login(&bob_desktop).await.unwrap();

    assert_eq!(first.kind, LoginKind::Session);
    assert_eq!(first.browser.as_deref(), Some("Firefox"));
    assert_eq!(first.platform.as_deref(), Some("Windows"));
    assert_eq!(
        last.ip_address.as_deref(),
        Some("10.0.0.7"),
        "IPv4-mapped address stored as IPv4"
    );

    let listed = alice.logins(&desktop).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].id, last.id, "most recent activity first");
    assert_eq!(listed[2].id, first.id);
    let current: Vec<_> = listed.iter().filter(|login| login.is_current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, first.id);

    assert_eq!(bob.logins(&bob_desktop).await.unwrap().len(), 1);
    let bob_seen_from_alice = bob.logins(&desktop).await.unwrap();
    assert!(
        bob_seen_from_alice.iter().all(|login| !login.is_current),
        "alice's login is not bob's current"
    );

    let current_login = alice.current_login(&phone).await.unwrap().unwrap();
    assert_eq!(current_login.browser.as_deref(), Some("Mobile Safari"));
    assert!(
        bob.current_login(&phone).await.unwrap().is_none(),
        "another user's current login is None"
    );
    let anonymous = Tracking::new(tracker.clone(), RequestContext::default());
    assert!(alice.current_login(&anonymous).await.unwrap().is_none());
    assert!(
        alice
            .logins(&anonymous)
            .await
            .unwrap()
            .iter()
            .all(|login| !login.is_current)
    );
}

async fn record_cycles_and_stores_session(tracker: Tracker, sessions: MemoryStore) {
    let alice = User { id: 1 };
    let tracking = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let session = tracking.session().unwrap().clone();
    session.insert("theme", "dark").await.unwrap();
    session.save().await.unwrap();
    let before = session.id().unwrap();

    let login = alice.record_session_login(&tracking).await.unwrap();
    let after = session.id().unwrap();
    assert_ne!(before, after, "recording cycles the session id");
    assert!(
        sessions.load(&before).await.unwrap().is_none(),
        "the old session record is gone"
    );
    assert!(
        sessions.load(&after).await.unwrap().is_some(),
        "the new session is saved"
    );
    assert_eq!(tracking.current().unwrap().id, login.id);

    // Signing in again in the same session cycles the id again.
    let again = alice.record_session_login(&tracking).await.unwrap();
    assert_ne!(session.id().unwrap(), after);
    assert_ne!(again.id, login.id);
}

async fn revoke_one_is_owner_scoped(tracker: Tracker, sessions: MemoryStore) {
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let bob_desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();
    let bob_login = bob.record_session_login(&bob_desktop).await.unwrap();
    let phone_session = phone.session().unwrap().id().unwrap();

    let stolen = alice.logout(&desktop, bob_login.id).await;
    assert!(
        matches!(stolen, Err(Error::LoginNotFound)),
        "another user's login is not found"
    );
    let unknown = alice.logout(&desktop, auth_tracker::LoginId::new()).await;
    assert!(matches!(unknown, Err(Error::LoginNotFound)));
    assert_eq!(
        bob.logins(&bob_desktop).await.unwrap().len(),
        1,
        "bob's login untouched"
    );

    assert!(alice.logout(&desktop, phone_login.id).await.unwrap());
    assert!(
        !alice.logout(&desktop, phone_login.id).await.unwrap(),
        "revoking again changes nothing"
    );
    assert!(
        sessions.load(&phone_session).await.unwrap().is_none(),
        "the revoked session is deleted"
    );

    let revoked = tracker
        .find_login("logins", phone_login.id, None)
        .await
        .unwrap()
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoke_reason.as_deref(), Some("revoked"));
    let listed = alice.logins(&desktop).await.unwrap();
    assert_eq!(listed.len(), 1);
}

async fn revoke_others_and_all(tracker: Tracker, sessions: MemoryStore) {
    let alice = User { id: 1 };
    let bob = User { id: 2 };
    let desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let phone = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let android = browser(&tracker, &sessions, "127.0.0.1", CHROME_ANDROID);
    let bob_desktop = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let kept = alice.record_session_login(&desktop).await.unwrap();
    let phone_login = alice.record_session_login(&phone).await.unwrap();
    alice.record_session_login(&android).await.unwrap();
    bob.record_session_login(&bob_desktop).await.unwrap();

    assert_eq!(alice.logout_others(&desktop).await.unwrap(), 2);
    assert_eq!(
        alice.logout_others(&desktop).await.unwrap(),
        0,
        "a second press changes nothing"
    );
    let listed = alice.logins(&desktop).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, kept.id);
    assert!(listed[0].is_current);
    assert_eq!(
        bob.logins(&bob_desktop).await.unwrap().len(),
        1,
        "bob keeps his login"
    );
    let reason = tracker
        .find_login("logins", phone_login.id, None)
        .await
        .unwrap()
        .unwrap()
        .revoke_reason;
    assert_eq!(reason.as_deref(), Some("revoked_others"));

    let again = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    alice.record_session_login(&again).await.unwrap();
    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 2);
    assert!(alice.logins(&desktop).await.unwrap().is_empty());
    assert_eq!(alice.logout_all(&desktop).await.unwrap(), 0);
    assert_eq!(bob.logins(&bob_desktop).await.unwrap().len(), 1);

    // Without a current login, "all but current" means all.
    let fresh = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    bob.record_session_login(&fresh).await.unwrap();
    let anonymous = Tracking::new(tracker.clone(), RequestContext::default());
    assert_eq!(bob.logout_others(&anonymous).await.unwrap(), 2);
}

async fn expired_logins_are_hidden(backend: &Backend) {
    let sessions = MemoryStore::default();
    let mut config = TrackerConfig::default();
    config.session_lifetime = Some(Duration::from_millis(200));
    let tracker = open(backend, config, &sessions).await;
    let alice = User { id: 1 };
    let tracking = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let login = alice.record_session_login(&tracking).await.unwrap();
    assert!(login.expires_at.is_some());
    assert_eq!(alice.logins(&tracking).await.unwrap().len(), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        alice.logins(&tracking).await.unwrap().is_empty(),
        "past its lifetime"
    );
    assert!(alice.current_login(&tracking).await.unwrap().is_none());

    let mut idle_config = TrackerConfig::default();
    idle_config.idle_timeout = Some(Duration::from_millis(200));
    let idle_tracker = open(backend, idle_config, &sessions).await;
    let idle = browser(&idle_tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    alice.record_session_login(&idle).await.unwrap();
    assert_eq!(alice.logins(&idle).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        alice.logins(&idle).await.unwrap().is_empty(),
        "idle past the timeout"
    );
}

async fn keys_tables_and_agents(tracker: Tracker, sessions: MemoryStore) {
    tracker.create_table("member_logins").await.unwrap();
    tracker.create_table("member_logins").await.unwrap();

    let member = Member {
        id: uuid::Uuid::new_v4(),
    };
    let tracking = browser(&tracker, &sessions, "127.0.0.1", CHROME_ANDROID);
    let login = member.record_session_login(&tracking).await.unwrap();
    assert_eq!(login.user_type, "Member");
    assert_eq!(login.user_id, member.id.to_string());
    assert_eq!(member.logins(&tracking).await.unwrap().len(), 1);
    assert!(
        tracker
            .find_login("logins", login.id, None)
            .await
            .unwrap()
            .is_none(),
        "the member's login lives in its own table"
    );
    assert_eq!(member.logout_others(&tracking).await.unwrap(), 0);
    assert!(member.logins(&tracking).await.unwrap()[0].is_current);

    let account = Account {
        handle: "ops-team".into(),
    };
    let multibyte = "é".repeat(2000);
    let odd = browser(
        &tracker,
        &sessions,
        "127.0.0.1",
        &format!("Mozilla/5.0 {multibyte}"),
    );
    let login = account.record_session_login(&odd).await.unwrap();
    assert_eq!(login.user_id, "ops-team");
    assert!(login.browser.is_none(), "parser = none parses nothing");
    let stored = login.user_agent.unwrap();
    assert!(
        stored.len() <= 1024,
        "User-Agent capped at 1,024 bytes, got {}",
        stored.len()
    );
    assert!(stored.len() >= 1023, "cut close to the cap");

    assert!(matches!(
        tracker.create_table("bad name").await,
        Err(Error::InvalidTableName(_))
    ));
    tracker.migrate().await.expect("migrating twice is a no-op");
}

async fn geolocation_completes_the_row(tracker: Tracker, sessions: MemoryStore) {
    let traveller = Traveller { id: 7 };
    let local = browser(&tracker, &sessions, "192.168.1.20", FIREFOX_WINDOWS);
    traveller.record_session_login(&local).await.unwrap();

    let public = browser(&tracker, &sessions, "81.2.69.160", FIREFOX_WINDOWS);
    let login = public_login(&traveller, &public).await;
    assert_eq!(
        login.location().as_deref(),
        Some("London, England, United Kingdom")
    );
    assert_eq!(login.country_code.as_deref(), Some("GB"));
    assert_eq!(
        login.ip_data.as_ref().unwrap()["isp"],
        "Example ISP",
        "extra data round-trips"
    );
    let looked_up = LOOKED_UP.lock().unwrap().clone();
    assert!(looked_up.contains(&"81.2.69.160".parse().unwrap()));
    assert!(
        !looked_up.contains(&"192.168.1.20".parse().unwrap()),
        "private addresses are never looked up"
    );
    let private = traveller.logins(&local).await.unwrap();
    assert!(private.iter().any(|login| login.city.is_none()));
}

async fn public_login(traveller: &Traveller, tracking: &Tracking) -> auth_tracker::Login {
    let recorded = traveller.record_session_login(tracking).await.unwrap();
    for _ in 0..100 {
        let login = traveller.current_login(tracking).await.unwrap().unwrap();
        if login.city.is_some() {
            return login;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("login {} was not geolocated within 2 s", recorded.id);
}

/// Owner ids that differ only in letter case belong to different users, on every
/// backend. MySQL's default collations compare text case-insensitively, so the MySQL
/// table uses a binary collation.
async fn owner_ids_are_case_sensitive(tracker: Tracker, sessions: MemoryStore) {
    let lower = Account {
        handle: "alice".into(),
    };
    let upper = Account {
        handle: "Alice".into(),
    };
    let lower_browser = browser(&tracker, &sessions, "127.0.0.1", FIREFOX_WINDOWS);
    let upper_browser = browser(&tracker, &sessions, "127.0.0.1", SAFARI_IPHONE);
    let lower_login = lower.record_session_login(&lower_browser).await.unwrap();
    let upper_login = upper.record_session_login(&upper_browser).await.unwrap();

    let lower_listed = lower.logins(&lower_browser).await.unwrap();
    assert_eq!(lower_listed.len(), 1, "alice sees only her own login");
    assert_eq!(lower_listed[0].id, lower_login.id);
    let upper_listed = upper.logins(&upper_browser).await.unwrap();
    assert_eq!(upper_listed.len(), 1, "Alice sees only her own login");
    assert_eq!(upper_listed[0].id, upper_login.id);

    assert_eq!(
        lower.logout_all(&lower_browser).await.unwrap(),
        1,
        "alice revokes only her own login"
    );
    assert_eq!(
        upper.logins(&upper_browser).await.unwrap().len(),
        1,
        "Alice's login survives alice's logout_all"
    );
}

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let backend = super::Backend::Sqlite(tempfile::tempdir().unwrap());
                    let sessions = tower_sessions::MemoryStore::default();
                    let tracker = super::open(&backend, Default::default(), &sessions).await;
                    super::$name(tracker, sessions).await;
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
                    let backend = super::Backend::Postgres(database);
                    let sessions = tower_sessions::MemoryStore::default();
                    let tracker = super::open(&backend, Default::default(), &sessions).await;
                    super::$name(tracker, sessions).await;
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
                    let backend = super::Backend::Mysql(database);
                    let sessions = tower_sessions::MemoryStore::default();
                    let tracker = super::open(&backend, Default::default(), &sessions).await;
                    super::$name(tracker, sessions).await;
                }
            )*
        }
    };
}

on_every_backend!(
    list_marks_current_and_orders,
    record_cycles_and_stores_session,
    revoke_one_is_owner_scoped,
    revoke_others_and_all,
    keys_tables_and_agents,
    geolocation_completes_the_row,
    owner_ids_are_case_sensitive,
);

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_expired_logins_are_hidden() {
    expired_logins_are_hidden(&Backend::Sqlite(tempfile::tempdir().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_expired_logins_are_hidden() {
    if let Some(database) = PgDatabase::create() {
        expired_logins_are_hidden(&Backend::Postgres(database)).await;
    }
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread")]
async fn mysql_expired_logins_are_hidden() {
    if let Some(database) = MysqlDatabase::create() {
        expired_logins_are_hidden(&Backend::Mysql(database)).await;
    }
}

/// Counts its lookups, to show the cache at work.
#[derive(Default)]
struct CountingProvider;

static COUNTED_LOOKUPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl GeoProvider for CountingProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        COUNTED_LOOKUPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async {
            Ok(Some(Location {
                country: Some("Portugal".into()),
                country_code: Some("PT".into()),
                ..Location::default()
            }))
        })
    }
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = CountingProvider)]
struct Commuter {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = maxmind)]
struct Unconfigured {
    id: i64,
}

async fn wait_for_country(commuter: &Commuter, tracking: &Tracking) {
    for _ in 0..100 {
        let login = commuter.current_login(tracking).await.unwrap().unwrap();
        if login.country.is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("login was not geolocated within 2 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn geolocation_cache_reuses_results() {
    let directory = tempfile::tempdir().unwrap();
    let backend = Backend::Sqlite(directory);
    let sessions = MemoryStore::default();
    let tracker = open(&backend, TrackerConfig::default(), &sessions).await;
    let commuter = Commuter { id: 1 };

    let first = browser(&tracker, &sessions, "81.2.69.200", FIREFOX_WINDOWS);
    commuter.record_session_login(&first).await.unwrap();
    wait_for_country(&commuter, &first).await;
    let second = browser(&tracker, &sessions, "81.2.69.200", SAFARI_IPHONE);
    commuter.record_session_login(&second).await.unwrap();
    wait_for_country(&commuter, &second).await;
    assert_eq!(
        COUNTED_LOOKUPS.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second login reuses the cached result"
    );

    let mut no_cache = TrackerConfig::default();
    no_cache.geolocation_cache_ttl = Duration::ZERO;
    let uncached = open(&backend, no_cache, &sessions).await;
    let third = browser(&uncached, &sessions, "81.2.69.200", FIREFOX_WINDOWS);
    commuter.record_session_login(&third).await.unwrap();
    wait_for_country(&commuter, &third).await;
    assert_eq!(
        COUNTED_LOOKUPS.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "a zero TTL disables the cache"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unconfigured_builtin_provider_is_skipped() {
    let backend = Backend::Sqlite(tempfile::tempdir().unwrap());
    let sessions = MemoryStore::default();
    let tracker = open(&backend, TrackerConfig::default(), &sessions).await;
    let user = Unconfigured { id: 1 };
    let tracking = browser(&tracker, &sessions, "81.2.69.160", FIREFOX_WINDOWS);
    let login = user.record_session_login(&tracking).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let login = tracker
        .find_login("logins", login.id, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        login.country.is_none(),
        "no provider, no location, and the login is recorded"
    );
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = ip2location)]
struct LocalTraveller {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = maxmind)]
struct FileTraveller {
    id: i64,
}

async fn located_city(tracker: &Tracker, id: auth_tracker::LoginId) -> Option<String> {
    for _ in 0..100 {
        let login = tracker
            .find_login("logins", id, None)
            .await
            .unwrap()
            .unwrap();
        if login.city.is_some() {
            return login.city;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn builtin_providers_from_tracker() {
    use auth_tracker::geo::ip2location::{Ip2Location, IpFamily};
    use auth_tracker::geo::maxmind::MaxMind;

    let directory = tempfile::tempdir().unwrap();
    let geo_database = directory.path().join("ip2location.sqlite3");
    let ip2location = Ip2Location::sqlite(geo_database.to_str().unwrap()).unwrap();
    let rows = "\"1359103232\",\"1359103487\",\"GB\",\"United Kingdom\",\"England\",\"London\"\n";
    let ip2location_for_import = ip2location.clone();
    tokio::task::spawn_blocking(move || {
        ip2location_for_import.import_csv(rows.as_bytes(), IpFamily::V4)
    })
    .await
    .unwrap()
    .unwrap();
    let mmdb = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../auth-tracker/tests/data/maxmind/GeoIP2-City-Test.mmdb");

    let backend = Backend::Sqlite(directory);
    let sessions = MemoryStore::default();
    let tracker = open(&backend, TrackerConfig::default(), &sessions)
        .await
        .with_ip2location(ip2location)
        .with_maxmind(MaxMind::open(mmdb).unwrap());

    let local = LocalTraveller { id: 1 };
    let tracking = browser(&tracker, &sessions, "81.2.69.160", FIREFOX_WINDOWS);
    let login = local.record_session_login(&tracking).await.unwrap();
    assert_eq!(
        located_city(&tracker, login.id).await.as_deref(),
        Some("London"),
        "ip2location"
    );

    let file = FileTraveller { id: 2 };
    let tracking = browser(&tracker, &sessions, "81.2.69.160", SAFARI_IPHONE);
    let login = file.record_session_login(&tracking).await.unwrap();
    assert_eq!(
        located_city(&tracker, login.id).await.as_deref(),
        Some("London"),
        "maxmind"
    );
}
