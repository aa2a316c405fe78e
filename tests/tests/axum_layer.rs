//! The tracking layer on a minimal axum app over loopback HTTP: throttled activity
//! writes and revocation through the memory and Redis session stores.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use auth_tracker::axum::TrackingLayer;
use auth_tracker::{AuthTracking, Tracker, TrackerConfig, Tracking};
use auth_tracker_tests::{REDIS_URL_VAR, skip_backend};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use reqwest::header::SET_COOKIE;
use tower_sessions::session::Id;
use tower_sessions::{MemoryStore, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

#[derive(AuthTracking)]
struct User {
    id: i64,
}

async fn sign_in(tracking: Tracking) -> StatusCode {
    match (User { id: 1 }).record_session_login(&tracking).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn sign_in_remembered(tracking: Tracking) -> StatusCode {
    let options = auth_tracker::LoginOptions::remember(true);
    match (User { id: 1 })
        .record_session_login_with(&tracking, options)
        .await
    {
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

async fn revoke_others(tracking: Tracking) -> String {
    (User { id: 1 })
        .logout_others(&tracking)
        .await
        .unwrap()
        .to_string()
}

/// Serves a small app with `store` as its session store and returns its base URL.
async fn serve<S: SessionStore + Clone>(tracker: Tracker, store: S) -> String {
    let tracker = tracker.with_session_store(store.clone());
    let app = Router::new()
        .route("/login", post(sign_in))
        .route("/login-remembered", post(sign_in_remembered))
        .route("/me", get(whoami))
        .route("/revoke-others", post(revoke_others))
        .layer(TrackingLayer::new(tracker))
        .layer(SessionManagerLayer::new(store).with_secure(false));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    format!("http://{address}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// Signs a new client in and returns it with its session id.
async fn signed_in(base: &str) -> (reqwest::Client, Id) {
    let client = client();
    let response = client.post(format!("{base}/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let value = cookie.split(';').next().unwrap().trim_start_matches("id=");
    (client, Id::from_str(value).unwrap())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn activity_writes(database: &str) -> i64 {
    let mut connection = SqliteConnection::establish(database).unwrap();
    diesel::sql_query("SELECT COUNT(*) AS count FROM activity_writes")
        .get_result::<Count>(&mut connection)
        .unwrap()
        .count
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_write_activity_once() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("logins.sqlite3");
    let database = database.to_str().unwrap();
    let mut config = TrackerConfig::default();
    config.activity_interval = Duration::from_secs(1);
    let tracker = Tracker::sqlite(database).unwrap().with_config(config);
    tracker.migrate().await.unwrap();

    // A trigger counts every write of last_activity_at, from any connection.
    let mut connection = SqliteConnection::establish(database).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut connection,
        "CREATE TABLE activity_writes (login_id TEXT NOT NULL);
         CREATE TRIGGER count_activity_writes AFTER UPDATE OF last_activity_at ON logins
         BEGIN INSERT INTO activity_writes VALUES (NEW.id); END;",
    )
    .unwrap();

    let base = serve(tracker, MemoryStore::default()).await;
    let (client, _) = signed_in(&base).await;

    send_concurrently(&client, &format!("{base}/me"), 50).await;
    assert_eq!(
        activity_writes(database),
        0,
        "fresh activity is not written again"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    send_concurrently(&client, &format!("{base}/me"), 50).await;
    assert_eq!(
        activity_writes(database),
        1,
        "50 concurrent requests write once"
    );
}

/// Sends `count` GET requests at once and checks that each one is authenticated.
async fn send_concurrently(client: &reqwest::Client, url: &str, count: usize) {
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..count {
        let client = client.clone();
        let url = url.to_owned();
        requests.spawn(async move {
            client
                .get(url)
                .send()
                .await
                .map(|response| response.status())
        });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap().unwrap(), StatusCode::OK);
    }
}

async fn revoke_deletes_sessions_from<S: SessionStore + Clone>(store: S) {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("logins.sqlite3");
    let tracker = Tracker::sqlite(database.to_str().unwrap()).unwrap();
    tracker.migrate().await.unwrap();
    let base = serve(tracker, store.clone()).await;

    let (desktop, desktop_session) = signed_in(&base).await;
    let (phone, phone_session) = signed_in(&base).await;
    assert!(store.load(&phone_session).await.unwrap().is_some());

    let revoked = desktop
        .post(format!("{base}/revoke-others"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.text().await.unwrap(), "1");
    assert!(
        store.load(&phone_session).await.unwrap().is_none(),
        "the revoked session is deleted from the store"
    );
    assert!(
        store.load(&desktop_session).await.unwrap().is_some(),
        "the current session stays"
    );

    let phone_me = phone.get(format!("{base}/me")).send().await.unwrap();
    assert_eq!(phone_me.status(), StatusCode::UNAUTHORIZED);
    let desktop_me = desktop.get(format!("{base}/me")).send().await.unwrap();
    assert_eq!(desktop_me.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_sessions_are_deleted() {
    revoke_deletes_sessions_from(MemoryStore::default()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_sessions_are_deleted() {
    let Ok(url) = std::env::var(REDIS_URL_VAR) else {
        skip_backend("redis", &format!("{REDIS_URL_VAR} is not set"));
        return;
    };
    let config = Config::from_url(&url)
        .unwrap_or_else(|error| panic!("invalid {REDIS_URL_VAR}={url}: {error}"));
    let pool = Pool::new(config, None, None, None, 2).unwrap();
    pool.init()
        .await
        .unwrap_or_else(|error| panic!("cannot connect to Redis at {url}: {error}"));
    revoke_deletes_sessions_from(RedisStore::new(pool)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remember_rebind_fires_no_new_login() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("logins.sqlite3");
    let new_logins = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&new_logins);
    let mut config = TrackerConfig::default();
    config.remember_cookie_secure = false;
    let tracker = Tracker::sqlite(database.to_str().unwrap())
        .unwrap()
        .with_config(config)
        .on_new_login(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    tracker.migrate().await.unwrap();
    let base = serve(tracker, MemoryStore::default()).await;

    let response = client()
        .post(format!("{base}/login-remembered"))
        .send()
        .await
        .unwrap();
    let remember = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("remember="))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .expect("a remember-me cookie");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(new_logins.load(std::sync::atomic::Ordering::SeqCst), 1);

    let returning = reqwest::Client::new()
        .get(format!("{base}/me"))
        .header(reqwest::header::COOKIE, format!("remember={remember}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        returning.status(),
        StatusCode::OK,
        "the remember-me cookie authenticates"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        new_logins.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "binding a new session is not a new login"
    );
}
