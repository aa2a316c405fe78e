//! Remember-me cookies and personal API tokens on the demo over real HTTP, on SQLite,
//! PostgreSQL and MySQL or MariaDB.

use std::sync::Arc;
use std::time::Duration;

use auth_tracker::TrackerConfig;
#[cfg(feature = "mysql")]
use auth_tracker_tests::MysqlDatabase;
use auth_tracker_tests::user_agents::{FIREFOX_WINDOWS, SAFARI_IPHONE};
use auth_tracker_tests::{Demo, PgDatabase};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, SET_COOKIE};
use serde_json::Value;

const ALICE: (&str, &str) = ("alice@example.com", "alice-password");

/// Returns `secret` with its first character changed. The result is still canonical
/// unpadded base64 of the same length, because only the last character carries
/// padding bits, so it reaches the hash comparison instead of the format check.
fn altered(secret: &str) -> String {
    let replacement = if secret.starts_with('A') { 'B' } else { 'A' };
    format!("{replacement}{}", &secret[1..])
}

/// A signed-in browser with its remember-me cookie value.
struct Remembered {
    browser: reqwest::Client,
    remember: String,
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|cookie| {
        let pair = cookie.split(';').next()?.trim();
        let (cookie_name, value) = pair.split_once('=')?;
        (cookie_name == name).then(|| value.to_owned())
    })
}

fn clears_remember_cookie(response: &reqwest::Response) -> bool {
    set_cookies(response).iter().any(|cookie| {
        cookie.starts_with("remember=;") && cookie.to_ascii_lowercase().contains("max-age=0")
    })
}

async fn sign_in_remembered(demo: &Demo, user_agent: &str) -> Remembered {
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
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let remember = cookie_value(&set_cookies(&response), "remember").expect("a remember-me cookie");
    Remembered { browser, remember }
}

/// Creates a browser that has nothing but the given remember-me cookie, as after a
/// restart.
fn browser_with_remember(demo: &Demo, remember: &str) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("remember={remember}"),
        &demo.base_url.parse().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn list(demo: &Demo, client: &reqwest::Client) -> (StatusCode, Vec<Value>) {
    let response = client.get(demo.url("/api/logins")).send().await.unwrap();
    let status = response.status();
    let logins = if status == StatusCode::OK {
        response.json().await.unwrap()
    } else {
        Vec::new()
    };
    (status, logins)
}

async fn list_with_token(demo: &Demo, token: &str) -> (StatusCode, Vec<Value>) {
    let response = reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let logins = if status == StatusCode::OK {
        response.json().await.unwrap()
    } else {
        Vec::new()
    };
    (status, logins)
}

fn current(logins: &[Value]) -> &Value {
    let current: Vec<&Value> = logins
        .iter()
        .filter(|login| login["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "one current login in {logins:?}");
    current[0]
}

async fn create_token(demo: &Demo, browser: &reqwest::Client, name: &str) -> (String, String) {
    let response = browser
        .post(demo.url("/api/tokens"))
        .form(&[("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    let token = body["token"].as_str().unwrap().to_owned();
    (id, token)
}

async fn remember_rebinds_same_login(demo: &Demo) {
    let first = sign_in_remembered(demo, FIREFOX_WINDOWS).await;
    let (_, logins) = list(demo, &first.browser).await;
    let login_id = current(&logins)["id"].clone();

    let restarted = browser_with_remember(demo, &first.remember);
    let response = restarted.get(demo.url("/api/logins")).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the remember-me cookie signs in"
    );
    assert!(
        cookie_value(&set_cookies(&response), "id").is_some(),
        "a new session starts"
    );
    let logins: Vec<Value> = response.json().await.unwrap();
    assert_eq!(logins.len(), 1, "no new login row");
    assert_eq!(
        current(&logins)["id"],
        login_id,
        "the same login is current"
    );

    let (status, _) = list(demo, &restarted).await;
    assert_eq!(status, StatusCode::OK, "the new session keeps working");
    let page = restarted.get(demo.url("/security")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "pages work too");
}

async fn revoking_kills_only_its_remember_cookie(demo: &Demo) {
    let desktop = sign_in_remembered(demo, FIREFOX_WINDOWS).await;
    let phone = sign_in_remembered(demo, SAFARI_IPHONE).await;
    let (_, phone_logins) = list(demo, &phone.browser).await;
    let phone_login = current(&phone_logins)["id"].as_str().unwrap().to_owned();

    let revoked = desktop
        .browser
        .post(demo.url(&format!("/logins/{phone_login}/revoke")))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);

    let phone_restarted = browser_with_remember(demo, &phone.remember);
    let response = phone_restarted
        .get(demo.url("/api/logins"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the revoked login's cookie is dead"
    );
    assert!(
        clears_remember_cookie(&response),
        "and the response removes it"
    );

    let desktop_restarted = browser_with_remember(demo, &desktop.remember);
    assert_eq!(
        list(demo, &desktop_restarted).await.0,
        StatusCode::OK,
        "other devices stay remembered"
    );

    let logout = desktop
        .browser
        .post(demo.url("/logout"))
        .send()
        .await
        .unwrap();
    assert!(
        clears_remember_cookie(&logout),
        "signing out removes the remember-me cookie"
    );
    let after_logout = browser_with_remember(demo, &desktop.remember);
    assert_eq!(list(demo, &after_logout).await.0, StatusCode::UNAUTHORIZED);
}

async fn wrong_verifier_revokes_login(demo: &Demo) {
    let remembered = sign_in_remembered(demo, FIREFOX_WINDOWS).await;
    let (selector, verifier) = remembered.remember.split_once(':').unwrap();
    let forged_verifier = altered(verifier);
    let forged = browser_with_remember(demo, &format!("{selector}:{forged_verifier}"));

    let response = forged.get(demo.url("/api/logins")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(clears_remember_cookie(&response));
    assert_eq!(
        list(demo, &remembered.browser).await.0,
        StatusCode::UNAUTHORIZED,
        "the login is revoked as a likely theft"
    );
    let genuine = browser_with_remember(demo, &remembered.remember);
    assert_eq!(list(demo, &genuine).await.0, StatusCode::UNAUTHORIZED);
}

async fn tokens_authenticate_and_list(demo: &Demo) {
    let browser = demo.browser(FIREFOX_WINDOWS);
    assert_eq!(
        demo.sign_in(&browser, ALICE.0, ALICE.1).await.status(),
        StatusCode::SEE_OTHER
    );
    let (ci_id, ci_token) = create_token(demo, &browser, "ci").await;
    assert!(
        ci_token.starts_with(&format!("{ci_id}|")),
        "token is <login id>|<secret>"
    );
    let secret = ci_token.split_once('|').unwrap().1;
    assert!(secret.len() >= 43, "at least 256 bits of secret");

    let json = browser
        .post(demo.url("/api/tokens"))
        .json(&serde_json::json!({ "name": "deploy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::CREATED, "JSON bodies work too");

    let (status, logins) = list_with_token(demo, &ci_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(logins.len(), 3, "session and two tokens: {logins:?}");
    let current = current(&logins);
    assert_eq!(current["id"], ci_id.as_str());
    assert_eq!(current["kind"], "token");
    assert_eq!(current["name"], "ci");

    let (_, from_session) = list(demo, &browser).await;
    let tokens: Vec<&Value> = from_session
        .iter()
        .filter(|login| login["kind"] == "token")
        .collect();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|token| token["is_current"] == false));
    let page = browser
        .get(demo.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("API token \u{201c}ci\u{201d}"),
        "tokens are shown by name"
    );

    let empty = browser
        .post(demo.url("/api/tokens"))
        .form(&[("name", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = reqwest::Client::new()
        .post(demo.url("/api/tokens"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn bad_tokens_are_401(demo: &Demo) {
    let browser = demo.browser(FIREFOX_WINDOWS);
    demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let (id, token) = create_token(demo, &browser, "ci").await;
    let secret = token.split_once('|').unwrap().1;
    let other_secret = altered(secret);
    let unknown_id = uuid::Uuid::new_v4();

    for bad in [
        "garbage".to_owned(),
        format!("{id}|short"),
        format!("{id}|{other_secret}"),
        format!("{unknown_id}|{secret}"),
        format!("{id}{secret}"),
        String::new(),
    ] {
        let (status, _) = list_with_token(demo, &bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {bad:?}");
    }

    let challenge = reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(AUTHORIZATION, "Bearer garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.headers()["www-authenticate"], "Bearer");

    let missing_name = browser
        .post(demo.url("/api/tokens"))
        .form(&[("label", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing_name.json::<Value>().await.unwrap()["error"].is_string(),
        "errors are JSON"
    );

    let lower_case = reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(AUTHORIZATION, format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        lower_case.status(),
        StatusCode::OK,
        "the scheme name is case-insensitive"
    );

    let revoked = browser
        .post(demo.url(&format!("/logins/{id}/revoke")))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.json::<Value>().await.unwrap()["revoked"], 1);
    assert_eq!(
        list_with_token(demo, &token).await.0,
        StatusCode::UNAUTHORIZED,
        "revoked token"
    );
}

async fn token_and_session_revoke_each_other(demo: &Demo) {
    let browser = demo.browser(FIREFOX_WINDOWS);
    demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let (_, first) = create_token(demo, &browser, "first").await;
    let (_, second) = create_token(demo, &browser, "second").await;

    // A token can sign out the browser and the other token.
    let response = reqwest::Client::new()
        .post(demo.url("/logins/revoke-others"))
        .header(AUTHORIZATION, format!("Bearer {first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["revoked"], 2);
    assert_eq!(list(demo, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        list_with_token(demo, &second).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(list_with_token(demo, &first).await.0, StatusCode::OK);

    // "Sign out other devices" in a browser reaches tokens by default.
    let browser = demo.browser(SAFARI_IPHONE);
    demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let others = browser
        .post(demo.url("/logins/revoke-others"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(others.json::<Value>().await.unwrap()["revoked"], 1);
    assert_eq!(
        list_with_token(demo, &first).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn concurrent_sign_ins_get_distinct_tokens(demo: &Demo) {
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..10 {
        let url = demo.url("/login");
        let tokens_url = demo.url("/api/tokens");
        let browser = demo.browser(FIREFOX_WINDOWS);
        tasks.spawn(async move {
            let signed_in = browser
                .post(url)
                .form(&[
                    ("email", ALICE.0),
                    ("password", ALICE.1),
                    ("remember", "on"),
                ])
                .send()
                .await
                .unwrap();
            let remember = cookie_value(&set_cookies(&signed_in), "remember").unwrap();
            let created = browser
                .post(tokens_url)
                .form(&[("name", format!("token {index}"))])
                .send()
                .await
                .unwrap();
            let body: Value = created.json().await.unwrap();
            (remember, body["token"].as_str().unwrap().to_owned())
        });
    }
    let mut remembers = Vec::new();
    let mut tokens = Vec::new();
    while let Some(result) = tasks.join_next().await {
        let (remember, token) = result.unwrap();
        remembers.push(remember);
        tokens.push(token);
    }
    remembers.sort();
    remembers.dedup();
    tokens.sort();
    tokens.dedup();
    assert_eq!(
        remembers.len(),
        10,
        "each login has its own remember-me token"
    );
    assert_eq!(tokens.len(), 10, "each token is distinct");
}

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    super::$name(&auth_tracker_tests::Demo::start_sqlite().await).await;
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
                    super::$name(&auth_tracker_tests::Demo::start(&database.url).await).await;
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
                    super::$name(&auth_tracker_tests::Demo::start(&database.url).await).await;
                }
            )*
        }
    };
}

on_every_backend!(
    remember_rebinds_same_login,
    revoking_kills_only_its_remember_cookie,
    wrong_verifier_revokes_login,
    tokens_authenticate_and_list,
    bad_tokens_are_401,
    token_and_session_revoke_each_other,
    concurrent_sign_ins_get_distinct_tokens,
);

#[tokio::test(flavor = "multi_thread")]
async fn remember_cookie_attributes() {
    let demo = Demo::start_sqlite().await;
    let browser = demo.browser(FIREFOX_WINDOWS);
    let response = browser
        .post(demo.url("/login"))
        .form(&[
            ("email", ALICE.0),
            ("password", ALICE.1),
            ("remember", "on"),
        ])
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    let remember = cookies
        .iter()
        .find(|cookie| cookie.starts_with("remember="))
        .unwrap();
    let attributes: Vec<String> = remember
        .split(';')
        .skip(1)
        .map(|part| part.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.contains(&"httponly".to_owned()), "{remember}");
    assert!(
        attributes.contains(&"samesite=lax".to_owned()),
        "{remember}"
    );
    assert!(attributes.contains(&"path=/".to_owned()), "{remember}");
    assert!(
        attributes.contains(&"max-age=2592000".to_owned()),
        "30 days: {remember}"
    );

    let plain = demo.browser(FIREFOX_WINDOWS);
    let response = demo.sign_in(&plain, ALICE.0, ALICE.1).await;
    assert!(
        cookie_value(&set_cookies(&response), "remember").is_none(),
        "no box, no cookie"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remember_and_token_expire() {
    let mut config = security_page::demo_config();
    config.remember_lifetime = Duration::from_secs(1);
    config.token_lifetime = Some(Duration::from_secs(1));
    let demo = Demo::start_sqlite_with(config).await;
    let remembered = sign_in_remembered(&demo, FIREFOX_WINDOWS).await;
    let (_, token) = create_token(&demo, &remembered.browser, "short").await;
    assert_eq!(list_with_token(&demo, &token).await.0, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let restarted = browser_with_remember(&demo, &remembered.remember);
    assert_eq!(
        list(&demo, &restarted).await.0,
        StatusCode::UNAUTHORIZED,
        "expired remember-me"
    );
    assert_eq!(
        list_with_token(&demo, &token).await.0,
        StatusCode::UNAUTHORIZED,
        "expired token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remembered_login_outlives_idle_timeout() {
    let demo = Demo::start_sqlite().await;
    let remembered = sign_in_remembered(&demo, FIREFOX_WINDOWS).await;
    let plain = demo.browser(FIREFOX_WINDOWS);
    demo.sign_in(&plain, ALICE.0, ALICE.1).await;

    // Three hours without a request, past the default two-hour idle timeout.
    let mut connection =
        <diesel::SqliteConnection as diesel::Connection>::establish(&demo.database).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE logins SET last_activity_at = datetime(last_activity_at, '-3 hours')",
        ),
        &mut connection,
    )
    .unwrap();

    assert_eq!(
        list(&demo, &plain).await.0,
        StatusCode::UNAUTHORIZED,
        "a session login without remember-me ends when idle"
    );
    assert_eq!(
        list(&demo, &remembered.browser).await.0,
        StatusCode::OK,
        "the remembered session stays signed in"
    );
    let restarted = browser_with_remember(&demo, &remembered.remember);
    assert_eq!(
        list(&demo, &restarted).await.0,
        StatusCode::OK,
        "the remember-me cookie still signs in after the idle timeout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_token_requests_write_once() {
    let mut config: TrackerConfig = security_page::demo_config();
    config.activity_interval = Duration::from_secs(1);
    let demo = Demo::start_sqlite_with(config).await;
    let browser = demo.browser(FIREFOX_WINDOWS);
    demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let (_, token) = create_token(&demo, &browser, "busy").await;

    let mut connection =
        <diesel::SqliteConnection as diesel::Connection>::establish(&demo.database).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut connection,
        "CREATE TABLE activity_writes (login_id TEXT NOT NULL);
         CREATE TRIGGER count_activity_writes AFTER UPDATE OF last_activity_at ON logins
         BEGIN INSERT INTO activity_writes VALUES (NEW.id); END;",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let url = demo.url("/api/logins");
        let token = token.clone();
        requests.spawn(async move {
            reqwest::Client::new()
                .get(url)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let writes: i64 = diesel::RunQueryDsl::get_result::<WriteCount>(
        diesel::sql_query("SELECT COUNT(*) AS count FROM activity_writes"),
        &mut connection,
    )
    .unwrap()
    .count;
    assert_eq!(
        writes, 1,
        "50 concurrent requests with one token write activity once"
    );
}

#[derive(diesel::QueryableByName)]
struct WriteCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// Signs in with remember-me and creates a token, returning the secrets in clear.
async fn issue_secrets(demo: &Demo) -> (String, String, String) {
    let remembered = sign_in_remembered(demo, FIREFOX_WINDOWS).await;
    let (_, token) = create_token(demo, &remembered.browser, "dump").await;
    let verifier = remembered.remember.split_once(':').unwrap().1.to_owned();
    let secret = token.split_once('|').unwrap().1.to_owned();
    (remembered.remember.clone(), verifier, secret)
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_file_holds_no_secrets() {
    let demo = Demo::start_sqlite().await;
    let (_, verifier, secret) = issue_secrets(&demo).await;

    let mut dump = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", demo.database)) {
            dump.extend(bytes);
        }
    }
    let dump = String::from_utf8_lossy(&dump);
    assert!(
        dump.contains(&sha256_hex(&secret)),
        "the dump holds the token's hash"
    );
    assert!(
        !dump.contains(&secret),
        "no token secret in the database file"
    );
    assert!(
        !dump.contains(&verifier),
        "no remember-me verifier in the database file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_rows_hold_no_secrets() {
    let Some(database) = PgDatabase::create() else {
        return;
    };
    let demo = Demo::start(&database.url).await;
    let (_, verifier, secret) = issue_secrets(&demo).await;

    #[derive(diesel::QueryableByName)]
    struct RowText {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut connection =
        <diesel::PgConnection as diesel::Connection>::establish(&database.url).unwrap();
    let rows: Vec<RowText> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT row_to_json(logins)::text AS row FROM logins"),
        &mut connection,
    )
    .unwrap();
    let dump: String = rows.into_iter().map(|row| row.row).collect();
    assert!(dump.contains(&sha256_hex(&secret)));
    assert!(!dump.contains(&secret));
    assert!(!dump.contains(&verifier));
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread")]
async fn mysql_rows_hold_no_secrets() {
    let Some(database) = MysqlDatabase::create() else {
        return;
    };
    let demo = Demo::start(&database.url).await;
    let (_, verifier, secret) = issue_secrets(&demo).await;

    #[derive(diesel::QueryableByName)]
    struct RowText {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut connection =
        <diesel::MysqlConnection as diesel::Connection>::establish(&database.url).unwrap();
    // MySQL has no row-to-text function, so every text column is listed. CONCAT_WS skips
    // nulls.
    let rows: Vec<RowText> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT CONCAT_WS('|', id, user_type, user_id, kind, name, session_id, token_hash, \
             remember_selector, remember_verifier_hash, user_agent, ip_address, device, \
             device_type, platform, platform_version, browser, browser_version, city, region, \
             country, country_code, CAST(ip_data AS CHAR), revoke_reason) AS `row` FROM logins",
        ),
        &mut connection,
    )
    .unwrap();
    let dump: String = rows.into_iter().map(|row| row.row).collect();
    assert!(dump.contains(&sha256_hex(&secret)));
    assert!(!dump.contains(&secret));
    assert!(!dump.contains(&verifier));
}
