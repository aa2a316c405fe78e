//! The ip-api provider against a fake ip-api server on 127.0.0.1.
//!
//! The fake returns the response shapes of the real service. No test sends a request
//! anywhere else.
#![cfg(feature = "ip-api")]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_tracker::geo::GeoProvider;
use auth_tracker::geo::ip_api::{IpApi, IpApiBuilder};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

const KEY: &str = "test-key-3f9a";

/// One request that the fake server received.
#[derive(Clone, Debug)]
struct ReceivedRequest {
    ip: String,
    query: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct FakeState {
    requests: Arc<Mutex<Vec<ReceivedRequest>>>,
}

/// Returns ip-api's response shapes for a few fixed addresses.
async fn json_endpoint(
    State(state): State<FakeState>,
    Path(ip): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    state.requests.lock().unwrap().push(ReceivedRequest {
        ip: ip.clone(),
        query,
    });

    match ip.as_str() {
        "81.2.69.160" => axum::Json(json!({
            "status": "success",
            "country": "United Kingdom",
            "countryCode": "GB",
            "regionName": "England",
            "city": "London",
            "lat": 51.5142,
            "lon": -0.0931,
            "timezone": "Europe/London",
            "isp": "Andrews & Arnold Ltd"
        }))
        .into_response(),
        "2a02:d3c0::1" => axum::Json(json!({
            "status": "success",
            "country": "Germany",
            "countryCode": "DE",
            "regionName": "Hesse",
            "city": "Frankfurt am Main",
            "lat": 50.1109,
            "lon": 8.68213,
            "timezone": "Europe/Berlin",
            "isp": ""
        }))
        .into_response(),
        "10.1.2.3" => axum::Json(json!({
            "status": "fail",
            "message": "private range",
            "query": "10.1.2.3"
        }))
        .into_response(),
        "192.0.2.1" => axum::Json(json!({
            "status": "fail",
            "message": "invalid query",
            "query": "192.0.2.1"
        }))
        .into_response(),
        "198.51.100.29" => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (HeaderName::from_static("x-rl"), "0"),
                (HeaderName::from_static("x-ttl"), "37"),
            ],
            "",
        )
            .into_response(),
        "198.51.100.30" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            axum::Json(json!({ "status": "success", "country": "Late" })).into_response()
        }
        "198.51.100.31" => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "{\"status\": \"success\", \"country\": ",
        )
            .into_response(),
        "198.51.100.32" => StatusCode::FORBIDDEN.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Starts the fake ip-api server on a random port of 127.0.0.1.
async fn start_fake_server() -> (SocketAddr, FakeState) {
    let state = FakeState::default();
    let app = Router::new()
        .route("/json/{ip}", get(json_endpoint))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (address, state)
}

fn builder_for(address: SocketAddr) -> IpApiBuilder {
    IpApi::builder().base_url(format!("http://{address}"))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[tokio::test]
async fn ipv4_success_fills_location() {
    let (address, state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    let location = provider.locate(ip("81.2.69.160")).await.unwrap().unwrap();

    assert_eq!(location.city.as_deref(), Some("London"));
    assert_eq!(location.region.as_deref(), Some("England"));
    assert_eq!(location.country.as_deref(), Some("United Kingdom"));
    assert_eq!(location.country_code.as_deref(), Some("GB"));
    assert_eq!(
        location.data,
        Some(json!({
            "latitude": 51.5142,
            "longitude": -0.0931,
            "time_zone": "Europe/London",
            "isp": "Andrews & Arnold Ltd",
        }))
    );

    let requests = state.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].ip, "81.2.69.160");
    assert!(!requests[0].query.contains_key("key"));
}

#[tokio::test]
async fn ipv6_success_fills_location() {
    let (address, state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    let location = provider.locate(ip("2a02:d3c0::1")).await.unwrap().unwrap();

    assert_eq!(location.city.as_deref(), Some("Frankfurt am Main"));
    assert_eq!(location.country_code.as_deref(), Some("DE"));
    // ip-api's empty `isp` is left out of the data.
    assert_eq!(
        location.data,
        Some(json!({
            "latitude": 50.1109,
            "longitude": 8.68213,
            "time_zone": "Europe/Berlin",
        }))
    );
    assert_eq!(state.requests.lock().unwrap()[0].ip, "2a02:d3c0::1");
}

#[tokio::test]
async fn request_carries_fields_and_key() {
    let (address, state) = start_fake_server().await;
    let provider = builder_for(address).key(KEY).lang("de").build().unwrap();

    provider.locate(ip("81.2.69.160")).await.unwrap();

    let requests = state.requests.lock().unwrap();
    let query = &requests[0].query;
    let fields: Vec<&str> = query["fields"].split(',').collect();
    for field in [
        "status",
        "message",
        "city",
        "regionName",
        "country",
        "countryCode",
        "lat",
        "lon",
        "timezone",
        "isp",
    ] {
        assert!(fields.contains(&field), "fields {fields:?} lack {field}");
    }
    assert_eq!(query.get("key").map(String::as_str), Some(KEY));
    assert_eq!(query.get("lang").map(String::as_str), Some("de"));
}

#[tokio::test]
async fn private_range_is_none() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    assert_eq!(provider.locate(ip("10.1.2.3")).await.unwrap(), None);
}

#[tokio::test]
async fn invalid_query_is_error() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    let error = provider
        .locate(ip("192.0.2.1"))
        .await
        .unwrap_err()
        .to_string();

    assert!(error.contains("invalid query"), "unexpected error: {error}");
}

#[tokio::test]
async fn rate_limit_reports_reset_and_pauses() {
    let (address, state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    let error = provider
        .locate(ip("198.51.100.29"))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("rate limit"), "unexpected error: {error}");
    assert!(
        error.contains("37 s"),
        "error lacks the reset time: {error}"
    );
    assert!(
        error.contains("0 requests left"),
        "unexpected error: {error}"
    );

    // Until the window resets, lookups fail without sending anything.
    let paused = provider
        .locate(ip("81.2.69.160"))
        .await
        .unwrap_err()
        .to_string();
    assert!(paused.contains("rate limit"), "unexpected error: {paused}");
    assert_eq!(state.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn slow_response_times_out() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address)
        .key(KEY)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = provider
        .locate(ip("198.51.100.30"))
        .await
        .unwrap_err()
        .to_string();
    let elapsed = start.elapsed();

    assert!(error.contains("timed out"), "unexpected error: {error}");
    assert!(!error.contains(KEY), "error shows the key: {error}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[tokio::test]
async fn timeout_applies_with_shared_client() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address)
        .timeout(Duration::from_millis(300))
        .build_with_client(reqwest::Client::new())
        .unwrap();

    let start = Instant::now();
    let error = provider
        .locate(ip("198.51.100.30"))
        .await
        .unwrap_err()
        .to_string();

    assert!(error.contains("timed out"), "unexpected error: {error}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn invalid_json_is_error() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address).build().unwrap();

    let error = provider
        .locate(ip("198.51.100.31"))
        .await
        .unwrap_err()
        .to_string();

    assert!(
        error.contains("not valid ip-api JSON"),
        "unexpected error: {error}"
    );
}

#[tokio::test]
async fn http_error_status_is_error() {
    let (address, _state) = start_fake_server().await;
    let provider = builder_for(address).key(KEY).build().unwrap();

    let error = provider
        .locate(ip("198.51.100.32"))
        .await
        .unwrap_err()
        .to_string();

    assert!(error.contains("403"), "unexpected error: {error}");
    assert!(!error.contains(KEY), "error shows the key: {error}");
}

#[test]
fn debug_hides_key() {
    let builder = IpApi::builder().key(KEY);
    assert!(!format!("{builder:?}").contains(KEY));

    let provider = builder.build().unwrap();
    let debug = format!("{provider:?}");
    assert!(!debug.contains(KEY), "Debug shows the key: {debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
}

#[test]
fn default_base_url_depends_on_key() {
    // Building sends nothing, so the real endpoints are safe to name here.
    let free = IpApi::builder().build().unwrap();
    assert_eq!(free.base_url(), "http://ip-api.com/");

    let pro = IpApi::builder().key(KEY).build().unwrap();
    assert_eq!(pro.base_url(), "https://pro.ip-api.com/");
}

#[test]
fn invalid_config_is_rejected() {
    let empty_key = IpApi::builder().key(" ").build().unwrap_err().to_string();
    assert!(empty_key.contains("key is empty"), "{empty_key}");

    let bad_scheme = IpApi::builder()
        .base_url("ftp://127.0.0.1")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        bad_scheme.contains("invalid ip-api base URL"),
        "{bad_scheme}"
    );

    let with_query = IpApi::builder()
        .base_url("http://127.0.0.1/?a=b")
        .build()
        .unwrap_err()
        .to_string();
    assert!(with_query.contains("query"), "{with_query}");
}
