//! Helpers shared by the concurrency, bad-input and database-failure suites: login rows
//! read straight from the database, and the demo's sign-in and listing requests.
//!
//! Each suite uses part of this module, so items unused by one binary are allowed.
#![allow(dead_code)]

use std::sync::Arc;

use auth_tracker_tests::Demo;
use chrono::NaiveDateTime;
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, SET_COOKIE};
use serde_json::Value;

pub(crate) const ALICE: (&str, &str) = ("alice@example.com", "alice-password");
pub(crate) const BOB: (&str, &str) = ("bob@example.com", "bob-password");

/// The columns of a `logins` row that the suites check, read without the tracker.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub(crate) struct StoredLogin {
    #[diesel(sql_type = Text)]
    pub(crate) id: String,
    #[diesel(sql_type = Text)]
    pub(crate) user_id: String,
    #[diesel(sql_type = Text)]
    pub(crate) kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) session_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) user_agent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) ip_address: Option<String>,
    #[diesel(sql_type = Timestamp)]
    pub(crate) last_activity_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub(crate) revoked_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) revoke_reason: Option<String>,
}

const STORED_LOGINS_SQL: &str = "SELECT id, user_id, kind, session_id, user_agent, ip_address, \
     last_activity_at, revoked_at, revoke_reason FROM logins ORDER BY created_at, id";

/// Reads every row of the `logins` table of a demo database: a SQLite path, a
/// `postgres://` URL or, with the `mysql` feature, a `mysql://` URL.
pub(crate) async fn stored_logins(database: &str) -> Vec<StoredLogin> {
    let database = database.to_owned();
    tokio::task::spawn_blocking(move || read_stored_logins(&database))
        .await
        .expect("the database read does not panic")
}

fn read_stored_logins(database: &str) -> Vec<StoredLogin> {
    let query = diesel::sql_query(STORED_LOGINS_SQL);
    let rows = if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let mut connection = diesel::PgConnection::establish(database)
            .unwrap_or_else(|error| panic!("cannot connect to {database}: {error}"));
        query.load(&mut connection)
    } else if database.starts_with("mysql://") {
        read_mysql(database)
    } else {
        let mut connection = diesel::SqliteConnection::establish(database)
            .unwrap_or_else(|error| panic!("cannot open {database}: {error}"));
        query.load(&mut connection)
    };
    rows.unwrap_or_else(|error| panic!("cannot read the logins of {database}: {error}"))
}

#[cfg(feature = "mysql")]
fn read_mysql(database: &str) -> diesel::QueryResult<Vec<StoredLogin>> {
    let mut connection = diesel::MysqlConnection::establish(database)
        .unwrap_or_else(|error| panic!("cannot connect to {database}: {error}"));
    diesel::sql_query(STORED_LOGINS_SQL).load(&mut connection)
}

#[cfg(not(feature = "mysql"))]
fn read_mysql(database: &str) -> diesel::QueryResult<Vec<StoredLogin>> {
    panic!("{database} needs the `mysql` feature of auth-tracker-tests")
}

/// Returns the one stored login whose User-Agent is `user_agent`.
pub(crate) fn by_user_agent<'a>(rows: &'a [StoredLogin], user_agent: &str) -> &'a StoredLogin {
    let matching: Vec<&StoredLogin> = rows
        .iter()
        .filter(|row| row.user_agent.as_deref() == Some(user_agent))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one login of User-Agent {user_agent:?} in {rows:#?}"
    );
    matching[0]
}

/// Returns the one stored login with id `id`.
pub(crate) fn by_id<'a>(rows: &'a [StoredLogin], id: &str) -> &'a StoredLogin {
    rows.iter()
        .find(|row| row.id == id)
        .unwrap_or_else(|| panic!("no login {id} in {rows:#?}"))
}

/// Returns the `Set-Cookie` headers of a response.
pub(crate) fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}

/// Returns the value of cookie `name` among `Set-Cookie` headers.
pub(crate) fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|cookie| {
        let pair = cookie.split(';').next()?.trim();
        let (cookie_name, value) = pair.split_once('=')?;
        (cookie_name == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// Signs a new browser in and returns it. Fails unless the demo redirects to the
/// security page.
pub(crate) async fn signed_in_browser(
    demo: &Demo,
    user_agent: &str,
    account: (&str, &str),
) -> reqwest::Client {
    let browser = demo.browser(user_agent);
    let response = demo.sign_in(&browser, account.0, account.1).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {user_agent:?} redirects"
    );
    browser
}

/// Signs a new browser in with remember-me, returning it and its remember-me cookie.
pub(crate) async fn remembered_browser(demo: &Demo, user_agent: &str) -> (reqwest::Client, String) {
    let browser = demo.browser(user_agent);
    let response = browser
        .post(demo.url("/login"))
        .form(&[
            ("email", ALICE.0),
            ("password", ALICE.1),
            ("remember", "on"),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "remembered sign-in of {user_agent:?} redirects"
    );
    let remember =
        cookie_value(&set_cookies(&response), "remember").expect("a remember-me cookie is set");
    (browser, remember)
}

/// Creates a browser that has nothing but a remember-me cookie, as after a restart.
pub(crate) fn browser_with_remember(
    demo: &Demo,
    user_agent: &str,
    remember: &str,
) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("remember={remember}"),
        &demo.base_url.parse().expect("base URL"),
    );
    reqwest::Client::builder()
        .cookie_provider(jar)
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Requests `GET /api/logins` and returns the status with the listed logins, which are
/// empty unless the status is 200.
pub(crate) async fn list_logins(demo: &Demo, client: &reqwest::Client) -> (StatusCode, Vec<Value>) {
    let response = client
        .get(demo.url("/api/logins"))
        .send()
        .await
        .expect("GET /api/logins");
    let status = response.status();
    let logins = if status == StatusCode::OK {
        response.json::<Vec<Value>>().await.expect("JSON array")
    } else {
        Vec::new()
    };
    (status, logins)
}

/// Returns the id of the client's current login, from `GET /api/logins`.
pub(crate) async fn current_login_id(demo: &Demo, client: &reqwest::Client) -> String {
    let (status, logins) = list_logins(demo, client).await;
    assert_eq!(status, StatusCode::OK, "the client is signed in");
    let current: Vec<&Value> = logins
        .iter()
        .filter(|login| login["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "exactly one current login in {logins:?}");
    current[0]["id"]
        .as_str()
        .expect("the login id is text")
        .to_owned()
}

/// Posts to `path` as an API client, returning the status and the JSON body, or `Null`
/// when the body is not JSON.
pub(crate) async fn post_json(
    demo: &Demo,
    client: &reqwest::Client,
    path: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(demo.url(path))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"));
    let status = response.status();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}
