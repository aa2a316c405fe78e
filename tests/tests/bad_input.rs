//! Malformed and oversized input over real HTTP against the demo: request bodies,
//! cookies, forwarding and other headers, login ids in paths, and methods. Every case
//! must get a 4xx status, never 5xx, change nothing it should not, and leave the server
//! serving normal requests.
//!
//! Requests that reqwest would normalise or refuse to send (bytes that are not text,
//! thousands of headers, dot segments in paths) go over a raw TCP connection. Some of
//! them are rejected by hyper before the demo sees them, which is fine as long as the
//! status is 4xx.

mod common;

use std::time::Duration;

use auth_tracker_tests::Demo;
use auth_tracker_tests::user_agents::FIREFOX_WINDOWS;
use common::{
    ALICE, BOB, cookie_value, current_login_id, list_logins, post_json, set_cookies,
    signed_in_browser, stored_logins,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bound of a raw exchange, reached only when the server hangs.
const RAW_TIMEOUT: Duration = Duration::from_secs(30);

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Status and header block of a response to a raw request.
#[derive(Debug)]
struct RawResponse {
    status: StatusCode,
    head: String,
}

/// Sends `request` as is over a new TCP connection and reads the response head.
///
/// The request is written from a separate task, because the server may respond and
/// close before it has read the whole request. A failed write is therefore no error.
async fn send_raw(demo: &Demo, case: &str, request: Vec<u8>) -> RawResponse {
    exchange_raw(demo, case, request, false).await
}

/// Sends `request` like [`send_raw`], then closes the sending half of the connection, as
/// a client does that gives up on its request body.
async fn send_raw_and_close(demo: &Demo, case: &str, request: Vec<u8>) -> RawResponse {
    exchange_raw(demo, case, request, true).await
}

async fn exchange_raw(demo: &Demo, case: &str, request: Vec<u8>, close: bool) -> RawResponse {
    let address = demo.base_url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address)
        .await
        .unwrap_or_else(|error| panic!("{case}: cannot connect to {address}: {error}"));
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        if close {
            let _ = writer.shutdown().await;
        }
        writer
    });

    let mut head = Vec::new();
    let read = tokio::time::timeout(RAW_TIMEOUT, async {
        let mut buffer = [0_u8; 4096];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            match reader.read(&mut buffer).await {
                Ok(0) => break,
                Ok(count) => head.extend_from_slice(&buffer[..count]),
                Err(error) => panic!("{case}: reading the response failed: {error}"),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "{case}: no response within {} s",
        RAW_TIMEOUT.as_secs()
    );
    // Keeps the write half open until the response is read, so the server does not see
    // the end of the request early.
    drop(writing.await);

    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("{case}: no HTTP/1.1 status line in {head:?}"));
    RawResponse { status, head }
}

/// Builds a request with the given extra header lines, `Host` and `Connection: close`.
fn raw_request(method: &str, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
            .into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    request
}

/// Checks that the server still serves a new visitor and a signed-in browser.
async fn assert_still_serving(demo: &Demo, browser: &reqwest::Client, batch: &str) {
    let page = reqwest::Client::new()
        .get(demo.url("/login"))
        .send()
        .await
        .unwrap_or_else(|error| panic!("after {batch}: GET /login failed: {error}"));
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "after {batch}: the sign-in page is served"
    );
    assert_eq!(
        list_logins(demo, browser).await.0,
        StatusCode::OK,
        "after {batch}: a signed-in browser is still signed in"
    );
}

/// Whether a raw request keeps the connection open for the response or closes its
/// sending half after the last byte.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    KeepOpen,
    ThenClose,
}

/// A request body sent to a route, and the status it must get.
struct BodyCase {
    name: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    expected: StatusCode,
}

fn body_cases() -> Vec<BodyCase> {
    let over_limit = security_page::MAX_BODY_BYTES + 1;
    let padded_form = {
        let mut form = format!("email=alice%40example.com&password={}&pad=", ALICE.1);
        form.push_str(&"x".repeat(over_limit - form.len()));
        form.into_bytes()
    };
    let padded_json = {
        let mut json = String::from("{\"name\":\"");
        json.push_str(&"x".repeat(over_limit));
        json.push_str("\"}");
        json.into_bytes()
    };
    let case = |name, path, content_type, body: &[u8], expected| BodyCase {
        name,
        path,
        content_type,
        body: body.to_vec(),
        expected,
    };
    vec![
        BodyCase {
            name: "sign-in form over the body limit",
            path: "/login",
            content_type: Some(FORM),
            body: padded_form,
            expected: StatusCode::PAYLOAD_TOO_LARGE,
        },
        case("empty sign-in form", "/login", Some(FORM), b"", StatusCode::UNPROCESSABLE_ENTITY),
        case(
            "sign-in form without password",
            "/login",
            Some(FORM),
            b"email=alice%40example.com",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        case(
            "sign-in form with a duplicate field",
            "/login",
            Some(FORM),
            b"email=alice%40example.com&email=bob%40example.com&password=alice-password",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Form decoding keeps an undecodable escape as text, so the credentials are wrong.
        case(
            "sign-in form with invalid percent-encoding",
            "/login",
            Some(FORM),
            b"email=%ZZalice%40example.com&password=%",
            StatusCode::UNAUTHORIZED,
        ),
        case(
            "sign-in form with bytes that are not UTF-8",
            "/login",
            Some(FORM),
            b"email=alice\xff\xfe%40example.com&password=\xc3",
            StatusCode::UNAUTHORIZED,
        ),
        case(
            "sign-in form with percent-encoded bytes that are not UTF-8",
            "/login",
            Some(FORM),
            b"email=%FF%FEalice%40example.com&password=%C3",
            StatusCode::UNAUTHORIZED,
        ),
        case(
            "sign-in form with a NUL byte",
            "/login",
            Some(FORM),
            b"email=alice%40example.com%00&password=alice-password%00",
            StatusCode::UNAUTHORIZED,
        ),
        case(
            "sign-in as plain text",
            "/login",
            Some("text/plain"),
            b"email=alice%40example.com&password=alice-password",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        case(
            "sign-in without a content type",
            "/login",
            None,
            b"email=alice%40example.com&password=alice-password",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        case(
            "sign-in as JSON",
            "/login",
            Some(JSON),
            br#"{"email":"alice@example.com","password":"alice-password"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        case(
            "sign-in as multipart",
            "/login",
            Some("multipart/form-data; boundary=x"),
            b"--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nalice@example.com\r\n--x--\r\n",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        case(
            "JSON sign-in labelled as a form",
            "/login",
            Some(FORM),
            br#"{"email":"alice@example.com","password":"alice-password"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        BodyCase {
            name: "token JSON over the body limit",
            path: "/api/tokens",
            content_type: Some(JSON),
            body: padded_json,
            expected: StatusCode::PAYLOAD_TOO_LARGE,
        },
        case(
            "token form labelled as JSON",
            "/api/tokens",
            Some(JSON),
            b"name=ci",
            StatusCode::BAD_REQUEST,
        ),
        case(
            "token JSON labelled as a form",
            "/api/tokens",
            Some(FORM),
            br#"{"name":"ci"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        case(
            "truncated token JSON",
            "/api/tokens",
            Some(JSON),
            br#"{"name":"#,
            StatusCode::BAD_REQUEST,
        ),
        case(
            "token JSON without name",
            "/api/tokens",
            Some(JSON),
            br#"{"label":"ci"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        case(
            "token JSON with a number as name",
            "/api/tokens",
            Some(JSON),
            br#"{"name":5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        case(
            "token JSON with bytes that are not UTF-8",
            "/api/tokens",
            Some(JSON),
            b"{\"name\":\"\xff\xfe\"}",
            StatusCode::BAD_REQUEST,
        ),
        case(
            "token JSON with a name of 101 characters",
            "/api/tokens",
            Some(JSON),
            format!("{{\"name\":\"{}\"}}", "é".repeat(101)).as_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        case(
            "token name as plain text",
            "/api/tokens",
            Some("text/plain"),
            b"ci",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_4xx() {
    let demo = Demo::start_sqlite().await;
    let browser = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;

    for case in body_cases() {
        // Sign-in attempts use a browser of their own, so a case that signed in by
        // mistake could not end the signed-in browser's login.
        let client = if case.path == "/login" {
            demo.browser(FIREFOX_WINDOWS)
        } else {
            browser.clone()
        };
        let mut request = client.post(demo.url(case.path)).body(case.body);
        if let Some(content_type) = case.content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{}: request failed: {error}", case.name));
        assert_eq!(response.status(), case.expected, "{}", case.name);
    }

    // Bodies that reqwest would frame correctly, and broken framing that hyper rejects.
    let declared_length = (security_page::MAX_BODY_BYTES + 1).to_string();
    let chunk = "x".repeat(security_page::MAX_BODY_BYTES);
    let chunked_over_limit = format!(
        "{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    );
    let form_header = ("Content-Type", FORM.as_bytes());
    let raw_cases: [(&str, Vec<u8>, Delivery, StatusCode); 4] = [
        (
            "declared length over the body limit, body cut short",
            raw_request(
                "POST",
                "/login",
                &[form_header, ("Content-Length", declared_length.as_bytes())],
                b"email=alice%40example.com",
            ),
            Delivery::ThenClose,
            StatusCode::BAD_REQUEST,
        ),
        (
            "chunked body over the body limit",
            raw_request(
                "POST",
                "/login",
                &[form_header, ("Transfer-Encoding", b"chunked")],
                chunked_over_limit.as_bytes(),
            ),
            Delivery::KeepOpen,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "chunk size that is not hexadecimal",
            raw_request(
                "POST",
                "/login",
                &[form_header, ("Transfer-Encoding", b"chunked")],
                b"zz\r\nemail=a\r\n0\r\n\r\n",
            ),
            Delivery::KeepOpen,
            StatusCode::BAD_REQUEST,
        ),
        (
            "two different content lengths",
            raw_request(
                "POST",
                "/login",
                &[
                    form_header,
                    ("Content-Length", b"5"),
                    ("Content-Length", b"7"),
                ],
                b"email=a",
            ),
            Delivery::KeepOpen,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (case, request, delivery, expected) in raw_cases {
        let response = match delivery {
            Delivery::KeepOpen => send_raw(&demo, case, request).await,
            Delivery::ThenClose => send_raw_and_close(&demo, case, request).await,
        };
        assert_eq!(response.status, expected, "{case}: {}", response.head);
    }

    let rows = stored_logins(&demo.database).await;
    assert_eq!(
        rows.len(),
        1,
        "no bad body recorded a login or a token: {rows:#?}"
    );
    assert_still_serving(&demo, &browser, "malformed bodies").await;
}

/// Returns the session cookie, `id=<value>`, of a fresh signed-in browser.
async fn fresh_session_cookie(demo: &Demo) -> String {
    let browser = demo.browser(FIREFOX_WINDOWS);
    let response = demo.sign_in(&browser, ALICE.0, ALICE.1).await;
    let value = cookie_value(&set_cookies(&response), "id").expect("a session cookie");
    format!("id={value}")
}

/// Returns a session cookie, `id=<value>`, with the first character of its value
/// changed. The value stays canonical base64, so it parses as a session id that the
/// store does not know.
fn altered_session_cookie(cookie: &str) -> String {
    let value = cookie.strip_prefix("id=").expect("an `id=` cookie");
    let replacement = if value.starts_with('A') { 'B' } else { 'A' };
    format!("id={replacement}{}", &value[1..])
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_cookies_are_signed_out() {
    let demo = Demo::start_sqlite().await;
    let browser = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let live_session = fresh_session_cookie(&demo).await;
    let unknown_session = altered_session_cookie(&live_session);
    let selector = "A".repeat(22);
    let verifier = "B".repeat(43);
    let thousands_of_cookies = (0..5_000)
        .map(|index| format!("cookie{index}=value{index}"))
        .collect::<Vec<_>>()
        .join("; ");

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage session id", b"id=garbage".to_vec()),
        ("empty session id", b"id=".to_vec()),
        ("unknown session id", unknown_session.into_bytes()),
        (
            "session id of 4 KiB",
            format!("id={}", "A".repeat(4096)).into_bytes(),
        ),
        ("quoted session id", b"id=\"garbage\"".to_vec()),
        ("two session ids", b"id=garbage; id=other".to_vec()),
        ("only separators", b"; ;; =; =x".to_vec()),
        (
            "remember cookie without a colon",
            b"remember=abcdef".to_vec(),
        ),
        ("remember cookie of one colon", b"remember=:".to_vec()),
        (
            "remember cookie with 4 KiB parts",
            format!("remember={}:{}", "A".repeat(4096), "B".repeat(4096)).into_bytes(),
        ),
        (
            "remember cookie that is not base64",
            b"remember=!!!!:????".to_vec(),
        ),
        (
            "remember cookie of the right shape, unknown",
            format!("remember={selector}:{verifier}").into_bytes(),
        ),
        (
            "thousands of cookies in one header",
            thousands_of_cookies.into_bytes(),
        ),
        (
            "session and remember cookies that are not UTF-8",
            b"id=\xff\xfe; remember=\x80\x81:\xc3".to_vec(),
        ),
    ];
    for (case, cookie) in &cases {
        let api = send_raw(
            &demo,
            case,
            raw_request("GET", "/api/logins", &[("Cookie", cookie)], b""),
        )
        .await;
        assert_eq!(
            api.status,
            StatusCode::UNAUTHORIZED,
            "{case}: API: {}",
            api.head
        );
        let page = send_raw(
            &demo,
            case,
            raw_request("GET", "/security", &[("Cookie", cookie)], b""),
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{case}: page: {}",
            page.head
        );
        assert!(
            page.head
                .to_ascii_lowercase()
                .contains("\r\nlocation: /login\r\n"),
            "{case}: the page redirects to the sign-in form: {}",
            page.head
        );
    }

    // Rejected by hyper before the demo runs.
    let many_headers: Vec<(&str, &[u8])> = (0..2_000).map(|_| ("Cookie", &b"a=b"[..])).collect();
    let hyper_cases: [(&str, Vec<u8>, StatusCode); 2] = [
        (
            "thousands of Cookie headers",
            raw_request("GET", "/api/logins", &many_headers, b""),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
        (
            "control bytes in a cookie",
            raw_request("GET", "/api/logins", &[("Cookie", b"id=\x01\x02")], b""),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (case, request, expected) in hyper_cases {
        let response = send_raw(&demo, case, request).await;
        assert_eq!(response.status, expected, "{case}: {}", response.head);
    }

    // A broken remember-me cookie next to a live session changes nothing.
    let live_with_garbage = format!("{live_session}; remember=garbage");
    let response = reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(COOKIE, live_with_garbage)
        .send()
        .await
        .expect("GET /api/logins");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a live session with a broken remember-me cookie stays signed in"
    );

    let rows = stored_logins(&demo.database).await;
    assert_eq!(
        rows.len(),
        2,
        "no cookie recorded or revoked a login: {rows:#?}"
    );
    assert!(
        rows.iter().all(|row| row.revoked_at.is_none()),
        "no cookie revoked a login: {rows:#?}"
    );
    assert_still_serving(&demo, &browser, "malformed cookies").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_headers_never_fail_sign_in() {
    let mut settings = security_page::Settings::new("");
    settings.trusted_proxies =
        security_page::parse_trusted_proxies("127.0.0.1/32").expect("proxy list");
    let directory = tempfile::tempdir().expect("temporary folder");
    settings.database_url = directory
        .path()
        .join("security-page.sqlite3")
        .to_str()
        .expect("UTF-8 path")
        .to_owned();
    let demo = Demo::start_with_settings(settings).await;

    let ten_thousand = (0..10_000)
        .map(|index| format!("203.0.{}.{}", index / 256 % 256, index % 256))
        .collect::<Vec<_>>()
        .join(", ");
    let cases: [(&str, &str, String, &str); 6] = [
        (
            "one forwarded address",
            "x-forwarded-for",
            "203.0.113.9".to_owned(),
            "203.0.113.9",
        ),
        (
            "X-Forwarded-For with 10,000 entries",
            "x-forwarded-for",
            ten_thousand,
            "127.0.0.1",
        ),
        (
            "X-Forwarded-For of garbage",
            "x-forwarded-for",
            "not-an-ip, , ,,, 999.1.1.1, [::1".to_owned(),
            "127.0.0.1",
        ),
        (
            "X-Forwarded-For of one 8 KiB entry",
            "x-forwarded-for",
            "1".repeat(8192),
            "127.0.0.1",
        ),
        (
            "Forwarded of garbage",
            "forwarded",
            "for=\"[::1; by=;;;==,,for=".to_owned(),
            "127.0.0.1",
        ),
        (
            "Forwarded with 10,000 elements",
            "forwarded",
            vec!["for=203.0.113.9"; 10_000].join(", "),
            "127.0.0.1",
        ),
    ];
    let mut browsers = Vec::new();
    for (index, (case, header, value, expected_ip)) in cases.iter().enumerate() {
        let agent = format!("forwarding case {index}");
        let browser = demo.browser(&agent);
        let response = browser
            .post(demo.url("/login"))
            .header(*header, value)
            .form(&[("email", ALICE.0), ("password", ALICE.1)])
            .send()
            .await
            .unwrap_or_else(|error| panic!("{case}: sign-in failed: {error}"));
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{case}: signs in");
        let rows = stored_logins(&demo.database).await;
        assert_eq!(
            common::by_user_agent(&rows, &agent).ip_address.as_deref(),
            Some(*expected_ip),
            "{case}: stored client address"
        );
        browsers.push(browser);
    }

    let many_headers: Vec<(&str, &[u8])> = (0..2_000)
        .map(|_| ("X-Forwarded-For", &b"203.0.113.9"[..]))
        .collect();
    let response = send_raw(
        &demo,
        "thousands of X-Forwarded-For headers",
        raw_request("GET", "/login", &many_headers, b""),
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "thousands of X-Forwarded-For headers: {}",
        response.head
    );

    assert_still_serving(&demo, &browsers[0], "forwarding headers").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_user_agent_is_cut_when_stored() {
    let demo = Demo::start_sqlite().await;
    let max_bytes = security_page::demo_config().max_user_agent_bytes;
    let prefix = "Mozilla/5.0 (X11; Linux x86_64) ";
    let huge = format!("{prefix}{}", "x".repeat(64 * 1024 - prefix.len()));

    let browser = signed_in_browser(&demo, &huge, ALICE).await;
    let rows = stored_logins(&demo.database).await;
    assert_eq!(rows.len(), 1, "the sign-in is recorded");
    let stored = rows[0].user_agent.as_deref().expect("a stored User-Agent");
    assert_eq!(
        stored.len(),
        max_bytes,
        "the stored User-Agent is cut to the limit"
    );
    assert_eq!(
        stored,
        &huge[..max_bytes],
        "the stored User-Agent is its start"
    );

    // 1 MiB is more than hyper buffers for a request head.
    let over_hyper_limit = "x".repeat(1024 * 1024);
    let response = send_raw(
        &demo,
        "User-Agent of 1 MiB",
        raw_request(
            "GET",
            "/login",
            &[("User-Agent", over_hyper_limit.as_bytes())],
            b"",
        ),
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "User-Agent of 1 MiB: {}",
        response.head
    );
    assert_still_serving(&demo, &browser, "huge User-Agents").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_authorization_is_401() {
    let demo = Demo::start_sqlite().await;
    let browser = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let created = browser
        .post(demo.url("/api/tokens"))
        .form(&[("name", "ci")])
        .send()
        .await
        .expect("POST /api/tokens");
    assert_eq!(created.status(), StatusCode::CREATED);
    let token = created.json::<Value>().await.expect("JSON")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (token_id, secret) = token.split_once('|').expect("token has a `|`");
    let unknown_id = uuid::Uuid::new_v4();
    let huge = "A".repeat(64 * 1024);

    let cases: Vec<(&str, String)> = vec![
        ("Bearer with garbage", "Bearer garbage".to_owned()),
        ("Bearer with nothing", "Bearer ".to_owned()),
        ("Bearer without a space", "Bearer".to_owned()),
        ("token without `|`", format!("Bearer {token_id}{secret}")),
        ("token with an empty secret", format!("Bearer {token_id}|")),
        ("token with an empty id", format!("Bearer |{secret}")),
        ("token with a numeric id", format!("Bearer 123|{secret}")),
        ("token with a negative id", format!("Bearer -1|{secret}")),
        (
            "token of an unknown id",
            format!("Bearer {unknown_id}|{secret}"),
        ),
        (
            "token with a 64 KiB secret",
            format!("Bearer {token_id}|{huge}"),
        ),
        ("Bearer with 64 KiB of garbage", format!("Bearer {huge}")),
        ("token with three parts", format!("Bearer {token}|{secret}")),
        (
            "Basic credentials",
            "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=".to_owned(),
        ),
        ("unknown scheme with the token", format!("Token {token}")),
    ];
    for (case, value) in &cases {
        let response = reqwest::Client::new()
            .get(demo.url("/api/logins"))
            .header(AUTHORIZATION, value)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{case}: request failed: {error}"));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            response.headers().get("www-authenticate"),
            Some(&HeaderValue::from_static("Bearer")),
            "{case}: the challenge names the scheme"
        );
    }

    // An invalid token is not rescued by the browser's live session.
    let with_session = browser
        .get(demo.url("/api/logins"))
        .header(AUTHORIZATION, "Bearer garbage")
        .send()
        .await
        .expect("GET /api/logins");
    assert_eq!(
        with_session.status(),
        StatusCode::UNAUTHORIZED,
        "an invalid token with a live session cookie"
    );
    let binary = send_raw(
        &demo,
        "Authorization that is not UTF-8",
        raw_request(
            "GET",
            "/api/logins",
            &[("Authorization", b"Bearer \xff\xfe|\x80")],
            b"",
        ),
    )
    .await;
    assert_eq!(
        binary.status,
        StatusCode::UNAUTHORIZED,
        "Authorization that is not UTF-8: {}",
        binary.head
    );

    let valid = reqwest::Client::new()
        .get(demo.url("/api/logins"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .expect("GET /api/logins");
    assert_eq!(
        valid.status(),
        StatusCode::OK,
        "the genuine token still works"
    );
    assert_still_serving(&demo, &browser, "invalid Authorization headers").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_login_ids_are_404_and_change_nothing() {
    let demo = Demo::start_sqlite().await;
    let alice = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let alice_id = current_login_id(&demo, &alice).await;
    let bob = signed_in_browser(&demo, "bob's browser", BOB).await;
    let bob_id = current_login_id(&demo, &bob).await;
    let before = stored_logins(&demo.database).await;

    let long_id = "9".repeat(10 * 1024);
    let ids: Vec<(&str, String, StatusCode)> = vec![
        ("text", "not-a-number".to_owned(), StatusCode::NOT_FOUND),
        ("negative number", "-1".to_owned(), StatusCode::NOT_FOUND),
        ("zero", "0".to_owned(), StatusCode::NOT_FOUND),
        (
            "i64 overflow",
            "9223372036854775808".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "u128 overflow",
            "340282366920938463463374607431768211456".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "encoded traversal",
            "..%2f..%2fetc%2fpasswd".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        ("encoded NUL byte", "%00".to_owned(), StatusCode::NOT_FOUND),
        // axum rejects a path parameter that does not decode to UTF-8.
        (
            "encoded bytes that are not UTF-8",
            "%ff%fe".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "own id with a suffix",
            format!("{alice_id}x"),
            StatusCode::NOT_FOUND,
        ),
        (
            "own id cut short",
            alice_id[..35].to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "another user's login in braces",
            format!("{{{bob_id}}}"),
            StatusCode::NOT_FOUND,
        ),
        (
            "another user's login as a URN",
            format!("urn:uuid:{bob_id}"),
            StatusCode::NOT_FOUND,
        ),
        ("id of 10 KiB", long_id, StatusCode::NOT_FOUND),
        (
            "another user's login",
            bob_id.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            "another user's login in upper case",
            bob_id.to_uppercase(),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (case, id, expected) in &ids {
        let (status, body) = post_json(&demo, &alice, &format!("/logins/{id}/revoke")).await;
        assert_eq!(status, *expected, "{case}: {body}");
    }

    // Paths that reqwest would normalise, sent as they are.
    let cookie = {
        let response = demo
            .sign_in(&demo.browser("raw client"), ALICE.0, ALICE.1)
            .await;
        let value = cookie_value(&set_cookies(&response), "id").expect("a session cookie");
        format!("id={value}")
    };
    let raw_paths: [(&str, String, StatusCode); 6] = [
        (
            "dot segment as id",
            "/logins/../revoke".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "encoded dot segment as id",
            "/logins/%2e%2e/revoke".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "dot segments to revoke-all",
            "/logins/../logins/revoke-all".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "empty id",
            "/logins//revoke".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "another user's login after dot segments",
            format!("/logins/./{bob_id}/revoke"),
            StatusCode::NOT_FOUND,
        ),
        (
            "id of 64 KiB",
            format!("/logins/{}/revoke", "9".repeat(64 * 1024)),
            StatusCode::URI_TOO_LONG,
        ),
    ];
    for (case, path, expected) in &raw_paths {
        let request = raw_request(
            "POST",
            path,
            &[
                ("Cookie", cookie.as_bytes()),
                ("Accept", JSON.as_bytes()),
                ("Content-Length", b"0"),
            ],
            b"",
        );
        let response = send_raw(&demo, case, request).await;
        assert_eq!(response.status, *expected, "{case}: {}", response.head);
    }

    let after = stored_logins(&demo.database).await;
    let before_revoked: Vec<_> = before.iter().map(|row| &row.revoked_at).collect();
    let after_revoked: Vec<_> = after
        .iter()
        .take(before.len())
        .map(|row| &row.revoked_at)
        .collect();
    assert_eq!(after_revoked, before_revoked, "no bad id revoked a login");
    assert!(
        after.iter().all(|row| row.revoked_at.is_none()),
        "every login is still active: {after:#?}"
    );
    assert_eq!(
        list_logins(&demo, &bob).await.0,
        StatusCode::OK,
        "bob is still signed in"
    );
    assert_still_serving(&demo, &alice, "bad login ids").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn other_methods_are_405() {
    let demo = Demo::start_sqlite().await;
    let browser = signed_in_browser(&demo, FIREFOX_WINDOWS, ALICE).await;
    let login_id = current_login_id(&demo, &browser).await;
    let _other = signed_in_browser(&demo, "other browser", ALICE).await;
    let revoke_one = format!("/logins/{login_id}/revoke");
    let unknown = Method::from_bytes(b"REVOKE").expect("extension method");

    let post_only = [
        "/logout",
        "/logins/revoke-others",
        "/logins/revoke-all",
        revoke_one.as_str(),
        "/api/tokens",
    ];
    let mut cases: Vec<(Method, &str)> = Vec::new();
    for path in post_only {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            unknown.clone(),
        ] {
            cases.push((method, path));
        }
    }
    cases.extend([
        (Method::PUT, "/login"),
        (Method::DELETE, "/login"),
        (Method::POST, "/security"),
        (Method::POST, "/api/logins"),
        (Method::DELETE, "/api/logins"),
    ]);

    for (method, path) in &cases {
        let response = browser
            .request(method.clone(), demo.url(path))
            .header(ACCEPT, JSON)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: request failed: {error}"));
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(
            response.headers().contains_key("allow"),
            "{method} {path}: the response lists the allowed methods"
        );
    }

    let (status, logins) = list_logins(&demo, &browser).await;
    assert_eq!(status, StatusCode::OK, "still signed in");
    assert_eq!(logins.len(), 2, "no login was revoked: {logins:?}");
    let rows = stored_logins(&demo.database).await;
    assert!(
        rows.iter().all(|row| row.kind == "session"),
        "no token was created: {rows:#?}"
    );
    let page = browser
        .get(demo.url("/security"))
        .send()
        .await
        .expect("GET /security");
    assert_eq!(page.status(), StatusCode::OK, "the page still renders");
    assert!(page.headers().get(LOCATION).is_none());
    assert_still_serving(&demo, &browser, "other methods").await;
}
