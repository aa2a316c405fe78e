//! The security-page demo over real HTTP on loopback, as browsers and API clients use it.

#[cfg(feature = "mysql")]
use auth_tracker_tests::MysqlDatabase;
use auth_tracker_tests::user_agents::{CHROME_ANDROID, FIREFOX_WINDOWS, SAFARI_IPHONE};
use auth_tracker_tests::{Demo, PgDatabase};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, HeaderValue, LOCATION, SET_COOKIE};
use serde_json::Value;

const ALICE: (&str, &str) = ("alice@example.com", "alice-password");
const BOB: (&str, &str) = ("bob@example.com", "bob-password");

/// Signs a new browser in and returns it with its session cookie as `name=value`.
async fn signed_in_browser(
    demo: &Demo,
    user_agent: &str,
    account: (&str, &str),
) -> (reqwest::Client, String) {
    let browser = demo.browser(user_agent);
    let response = demo.sign_in(&browser, account.0, account.1).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in redirects"
    );
    assert_eq!(response.headers()[LOCATION], "/security");
    let cookie = session_cookie(&response).expect("sign-in sets the session cookie");
    (browser, cookie)
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .find(|pair| pair.starts_with("id=") && pair.len() > 3)
}

async fn list_logins(demo: &Demo, client: &reqwest::Client) -> (StatusCode, Vec<Value>) {
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

fn current_of(logins: &[Value]) -> &Value {
    let current: Vec<&Value> = logins
        .iter()
        .filter(|login| login["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "exactly one current login in {logins:?}");
    current[0]
}

async fn post_json(demo: &Demo, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client
        .post(demo.url(path))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("POST")
}

/// Requests `/api/logins` with only a replayed cookie, as an attacker holding it would.
async fn replay_cookie(demo: &Demo, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("GET with replayed cookie")
        .status()
}

async fn three_browsers_each_see_three_logins(demo: &Demo) {
    let expected = [
        (FIREFOX_WINDOWS, "Firefox", "Windows", "desktop"),
        (SAFARI_IPHONE, "Mobile Safari", "iOS", "phone"),
        (CHROME_ANDROID, "Chrome Mobile", "Android", "phone"),
    ];
    let mut browsers = Vec::new();
    for (user_agent, ..) in expected {
        browsers.push(signed_in_browser(demo, user_agent, ALICE).await.0);
    }

    let mut current_ids = Vec::new();
    for (browser, (_, family, platform, device_type)) in browsers.iter().zip(expected) {
        let (status, logins) = list_logins(demo, browser).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(logins.len(), 3, "three logins listed: {logins:?}");
        let current = current_of(&logins);
        assert_eq!(current["browser"], family);
        assert_eq!(current["platform"], platform);
        assert_eq!(current["device_type"], device_type);
        assert_eq!(current["kind"], "session");
        current_ids.push(current["id"].as_str().unwrap().to_owned());
    }
    current_ids.sort();
    current_ids.dedup();
    assert_eq!(
        current_ids.len(),
        3,
        "each browser has its own current login"
    );

    let page = browsers[1]
        .get(demo.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("This device").count(), 1);
    assert!(
        page.contains("Mobile Safari 17.1 on iOS 17.1"),
        "page shows the parsed client"
    );
    assert!(page.contains("Sign out other devices"));
    assert!(page.contains("Sign out everywhere"));
}

async fn revoking_one_signs_that_browser_out(demo: &Demo) {
    let (desktop, _) = signed_in_browser(demo, FIREFOX_WINDOWS, ALICE).await;
    let (phone, phone_cookie) = signed_in_browser(demo, SAFARI_IPHONE, ALICE).await;
    let (_, phone_logins) = list_logins(demo, &phone).await;
    let phone_login = current_of(&phone_logins)["id"].as_str().unwrap().to_owned();

    let response = post_json(demo, &desktop, &format!("/logins/{phone_login}/revoke")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["revoked"], 1);

    assert_eq!(list_logins(demo, &phone).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        replay_cookie(demo, &phone_cookie).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, remaining) = list_logins(demo, &desktop).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        remaining
            .iter()
            .all(|login| login["id"] != phone_login.as_str())
    );

    let again = post_json(demo, &desktop, &format!("/logins/{phone_login}/revoke")).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "revoking twice is idempotent"
    );
    assert_eq!(again.json::<Value>().await.unwrap()["revoked"], 0);
}

async fn revoke_others_twice_keeps_current(demo: &Demo) {
    let (desktop, _) = signed_in_browser(demo, FIREFOX_WINDOWS, BOB).await;
    let (phone, _) = signed_in_browser(demo, SAFARI_IPHONE, BOB).await;
    let (android, _) = signed_in_browser(demo, CHROME_ANDROID, BOB).await;

    let first = post_json(demo, &desktop, "/logins/revoke-others").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap()["revoked"], 2);
    let second = post_json(demo, &desktop, "/logins/revoke-others").await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.json::<Value>().await.unwrap()["revoked"], 0);

    let (status, logins) = list_logins(demo, &desktop).await;
    assert_eq!(status, StatusCode::OK, "the current device stays signed in");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["is_current"], true);
    assert_eq!(list_logins(demo, &phone).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        list_logins(demo, &android).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sqlite_three_browsers_each_see_three() {
    three_browsers_each_see_three_logins(&Demo::start_sqlite().await).await;
}

#[tokio::test]
async fn sqlite_revoke_one_signs_it_out() {
    revoking_one_signs_that_browser_out(&Demo::start_sqlite().await).await;
}

#[tokio::test]
async fn sqlite_revoke_others_twice() {
    revoke_others_twice_keeps_current(&Demo::start_sqlite().await).await;
}

#[tokio::test]
async fn postgres_demo_flows() {
    let Some(database) = PgDatabase::create() else {
        return;
    };
    let demo = Demo::start(&database.url).await;
    three_browsers_each_see_three_logins(&demo).await;
    revoking_one_signs_that_browser_out(&demo).await;
    revoke_others_twice_keeps_current(&demo).await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_demo_flows() {
    let Some(database) = MysqlDatabase::create() else {
        return;
    };
    let demo = Demo::start(&database.url).await;
    three_browsers_each_see_three_logins(&demo).await;
    revoking_one_signs_that_browser_out(&demo).await;
    revoke_others_twice_keeps_current(&demo).await;
}

#[tokio::test]
async fn revoke_other_users_login_is_404() {
    let demo = Demo::start_sqlite().await;
    let (alice, _) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let (bob, _) = signed_in_browser(&demo, SAFARI_IPHONE, BOB).await;
    let (_, alice_logins) = list_logins(&demo, &alice).await;
    let alice_login = current_of(&alice_logins)["id"].as_str().unwrap().to_owned();

    let response = post_json(&demo, &bob, &format!("/logins/{alice_login}/revoke")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let malformed = post_json(&demo, &bob, "/logins/not-a-login-id/revoke").await;
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);

    let (status, after) = list_logins(&demo, &alice).await;
    assert_eq!(status, StatusCode::OK, "alice is still signed in");
    assert_eq!(after, alice_logins, "nothing changed");
}

#[tokio::test]
async fn logout_ends_session_server_side() {
    let demo = Demo::start_sqlite().await;
    let (browser, cookie) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let (other, _) = signed_in_browser(&demo, SAFARI_IPHONE, ALICE).await;

    let response = browser.post(demo.url("/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/login");

    assert_eq!(
        replay_cookie(&demo, &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, remaining) = list_logins(&demo, &other).await;
    assert_eq!(
        remaining.len(),
        1,
        "the signed-out login is no longer listed"
    );
}

#[tokio::test]
async fn sign_in_cycles_session_id() {
    let demo = Demo::start_sqlite().await;
    let (browser, first_cookie) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;

    let again = demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let second_cookie = session_cookie(&again).expect("a new session cookie");
    assert_ne!(
        first_cookie, second_cookie,
        "signing in again cycles the session id"
    );
    assert_eq!(
        replay_cookie(&demo, &first_cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(replay_cookie(&demo, &second_cookie).await, StatusCode::OK);
    let (_, logins) = list_logins(&demo, &browser).await;
    assert_eq!(
        logins.len(),
        1,
        "the earlier login of this browser ended: {logins:?}"
    );

    // Signing in as someone else in the same browser ends the first user's login too.
    let as_bob = demo.sign_in(&browser, BOB.0, BOB.1).await;
    assert_eq!(as_bob.status(), StatusCode::SEE_OTHER);
    let alice_elsewhere = signed_in_browser(&demo, SAFARI_IPHONE, ALICE).await.0;
    let (_, alice_logins) = list_logins(&demo, &alice_elsewhere).await;
    assert_eq!(
        alice_logins.len(),
        1,
        "only alice's phone is left: {alice_logins:?}"
    );
}

#[tokio::test]
async fn odd_user_agents_still_sign_in() {
    let demo = Demo::start_sqlite().await;
    let prefix = "Mozilla/5.0 (X11; Linux x86_64) ";
    let long = format!("{prefix}{}", "x".repeat(1200 - prefix.len()));
    assert_eq!(long.len(), 1200);
    let garbage = [
        "",
        "()()()",
        "%s%n%x",
        "Mozilla/5.0 (",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
    ];

    let mut agents: Vec<String> = vec![long];
    agents.extend(garbage.iter().map(|agent| (*agent).to_owned()));
    for agent in &agents {
        let browser = demo.browser(agent);
        let response = demo.sign_in(&browser, ALICE.0, ALICE.1).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "User-Agent {agent:?} signs in"
        );
        let (status, logins) = list_logins(&demo, &browser).await;
        assert_eq!(status, StatusCode::OK);
        current_of(&logins);
    }

    // A header with bytes that are not text is stored as no User-Agent at all.
    let binary = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(
                reqwest::header::USER_AGENT,
                HeaderValue::from_bytes(b"Mozilla/5.0 \xff\xfe\x80").unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    assert_eq!(
        demo.sign_in(&binary, ALICE.0, ALICE.1).await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, logins) = list_logins(&demo, &binary).await;
    assert_eq!(status, StatusCode::OK);
    assert!(current_of(&logins)["browser"].is_null());
}

#[tokio::test]
async fn wrong_password_is_401() {
    let demo = Demo::start_sqlite().await;
    let browser = demo.browser(FIREFOX_WINDOWS);
    let response = demo.sign_in(&browser, ALICE.0, "wrong-password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Invalid email or password")
    );
    let unknown = demo
        .sign_in(&browser, "nobody@example.com", "alice-password")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        list_logins(&demo, &browser).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unauthenticated_requests_are_turned_away() {
    let demo = Demo::start_sqlite().await;
    let browser = demo.browser(FIREFOX_WINDOWS);

    assert_eq!(
        list_logins(&demo, &browser).await.0,
        StatusCode::UNAUTHORIZED
    );
    let page = browser.get(demo.url("/security")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[LOCATION], "/login");
    let json = browser
        .get(demo.url("/security"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNAUTHORIZED);
    let revoke = post_json(&demo, &browser, "/logins/revoke-all").await;
    assert_eq!(revoke.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn state_changes_need_post() {
    let demo = Demo::start_sqlite().await;
    let (browser, _) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    for path in ["/logout", "/logins/revoke-others", "/logins/revoke-all"] {
        let response = browser.get(demo.url(path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "GET {path}"
        );
    }
    let delete = browser
        .delete(demo.url("/logins/revoke-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        list_logins(&demo, &browser).await.0,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn cross_site_posts_are_403() {
    let demo = Demo::start_sqlite().await;
    let (browser, _) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let (other, _) = signed_in_browser(&demo, SAFARI_IPHONE, ALICE).await;

    let fetch_metadata = browser
        .post(demo.url("/logins/revoke-others"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), StatusCode::FORBIDDEN);
    let origin = browser
        .post(demo.url("/logins/revoke-all"))
        .header("origin", "https://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(origin.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        list_logins(&demo, &other).await.0,
        StatusCode::OK,
        "nothing was revoked"
    );
    let (_, logins) = list_logins(&demo, &browser).await;
    assert_eq!(logins.len(), 2);

    let same_origin = browser
        .post(demo.url("/logins/revoke-others"))
        .header("sec-fetch-site", "same-origin")
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoke_all_signs_everyone_out() {
    let demo = Demo::start_sqlite().await;
    let (browser, _) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let (other, _) = signed_in_browser(&demo, SAFARI_IPHONE, ALICE).await;

    let response = post_json(&demo, &browser, "/logins/revoke-all").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["revoked"], 2);
    assert_eq!(
        list_logins(&demo, &browser).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(list_logins(&demo, &other).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_json_has_contract_fields_only() {
    let demo = Demo::start_sqlite().await;
    let (browser, cookie) = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let (_, logins) = list_logins(&demo, &browser).await;
    let login = logins[0].as_object().unwrap();

    let mut keys: Vec<&str> = login.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "id",
        "kind",
        "name",
        "device",
        "device_type",
        "platform",
        "platform_version",
        "browser",
        "browser_version",
        "ip_address",
        "city",
        "region",
        "country",
        "created_at",
        "last_activity_at",
        "expires_at",
        "is_current",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(login["ip_address"], "127.0.0.1");

    let session_id = cookie.trim_start_matches("id=");
    let body = serde_json::to_string(&logins).unwrap();
    assert!(
        !body.contains(session_id),
        "the session id never reaches JSON"
    );
}

#[tokio::test]
async fn client_hints_refine_device() {
    let demo = Demo::start_sqlite().await;
    let reduced_android = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    let browser = demo.browser(reduced_android);
    let response = browser
        .post(demo.url("/login"))
        .header("sec-ch-ua-mobile", "?1")
        .header("sec-ch-ua-platform", "\"Android\"")
        .header("sec-ch-ua-model", "\"Pixel 8\"")
        .form(&[("email", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, logins) = list_logins(&demo, &browser).await;
    let current = current_of(&logins);
    assert_eq!(
        current["device"], "Pixel 8",
        "the model hint replaces the reduced `K`"
    );
    assert_eq!(current["device_type"], "phone");
    assert_eq!(current["platform"], "Android");

    let windows = demo.browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
    windows
        .post(demo.url("/login"))
        .header("sec-ch-ua-mobile", "?0")
        .header("sec-ch-ua-platform", "\"Windows\"")
        .header("sec-ch-ua-platform-version", "\"15.0.0\"")
        .form(&[("email", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    let (_, logins) = list_logins(&demo, &windows).await;
    let current = current_of(&logins);
    assert_eq!(current["platform"], "Windows");
    assert_eq!(
        current["platform_version"], "11",
        "platform version 13 or later is Windows 11"
    );
    assert_eq!(current["device_type"], "desktop");
}

#[tokio::test]
async fn session_cookie_is_http_only_and_strict() {
    let demo = Demo::start_sqlite().await;
    let browser = demo.browser(FIREFOX_WINDOWS);
    let response = demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("id="))
        .expect("a session cookie")
        .to_owned();
    let attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|part| part.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    assert!(
        attributes.contains(&"samesite=strict".to_owned()),
        "{cookie}"
    );
    assert!(attributes.contains(&"path=/".to_owned()), "{cookie}");
}
