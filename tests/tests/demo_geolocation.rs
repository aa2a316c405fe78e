//! The demo behind a trusted proxy, with geolocation from a MaxMind file and from a fake
//! ip-api service on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use auth_tracker_tests::Demo;
use auth_tracker_tests::user_agents::FIREFOX_WINDOWS;
use axum::Json;
use axum::extract::Path;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALICE: (&str, &str) = ("alice@example.com", "alice-password");

fn city_test_database() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../auth-tracker/tests/data/maxmind/GeoIP2-City-Test.mmdb")
}

/// Signs in as if through a proxy that reports `forwarded_for`, and returns the browser.
async fn sign_in_via_proxy(demo: &Demo, forwarded_for: &str) -> reqwest::Client {
    let browser = demo.browser(FIREFOX_WINDOWS);
    let response = browser
        .post(demo.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    browser
}

/// Polls the current login until its city is known, because geolocation completes after
/// the sign-in.
async fn current_login_located(demo: &Demo, browser: &reqwest::Client) -> Value {
    for _ in 0..100 {
        let logins: Vec<Value> = browser
            .get(demo.url("/api/logins"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let current = logins
            .into_iter()
            .find(|login| login["is_current"] == true)
            .unwrap();
        if !current["country"].is_null() {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the login was not geolocated within 2 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn trusted_proxy_and_mmdb_show_london() {
    let directory = tempfile::tempdir().unwrap();
    let mut settings =
        security_page::Settings::new(directory.path().join("demo.sqlite3").to_str().unwrap());
    settings.trusted_proxies = security_page::parse_trusted_proxies("127.0.0.1/32").unwrap();
    settings.geoip_mmdb = Some(city_test_database());
    let demo = Demo::start_with_settings(settings).await;

    let browser = sign_in_via_proxy(&demo, "81.2.69.160").await;
    let login = current_login_located(&demo, &browser).await;
    assert_eq!(
        login["ip_address"], "81.2.69.160",
        "the client behind the proxy is recorded"
    );
    assert_eq!(login["city"], "London");
    assert_eq!(login["country"], "United Kingdom");
    let page = browser
        .get(demo.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("London, England, United Kingdom"),
        "the page shows the location"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_peer_forwarding_is_ignored() {
    let directory = tempfile::tempdir().unwrap();
    let mut settings =
        security_page::Settings::new(directory.path().join("demo.sqlite3").to_str().unwrap());
    settings.geoip_mmdb = Some(city_test_database());
    let demo = Demo::start_with_settings(settings).await;

    let browser = sign_in_via_proxy(&demo, "81.2.69.160").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logins: Vec<Value> = browser
        .get(demo.url("/api/logins"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        logins[0]["ip_address"], "127.0.0.1",
        "a spoofed header from an untrusted peer is ignored"
    );
    assert!(logins[0]["city"].is_null(), "loopback is never looked up");
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_api_url_geolocates_logins() {
    // A stand-in for ip-api on loopback, replying in ip-api's response format.
    let service = axum::Router::new().route(
        "/json/{ip}",
        get(|Path(ip): Path<String>| async move {
            Json(json!({
                "status": "success", "country": "Portugal", "countryCode": "PT",
                "regionName": "Lisbon", "city": "Lisbon", "lat": 38.72, "lon": -9.14,
                "timezone": "Europe/Lisbon", "isp": "Example", "query": ip
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let service_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, service).await });

    let directory = tempfile::tempdir().unwrap();
    let mut settings =
        security_page::Settings::new(directory.path().join("demo.sqlite3").to_str().unwrap());
    settings.trusted_proxies = security_page::parse_trusted_proxies("127.0.0.1").unwrap();
    settings.ip_api_url = Some(service_url);
    let demo = Demo::start_with_settings(settings).await;

    let browser = sign_in_via_proxy(&demo, "81.2.70.9, 81.2.70.1").await;
    let login = current_login_located(&demo, &browser).await;
    assert_eq!(
        login["ip_address"], "81.2.70.1",
        "the rightmost untrusted address is the client"
    );
    assert_eq!(login["city"], "Lisbon");
    assert_eq!(login["country"], "Portugal");
}
