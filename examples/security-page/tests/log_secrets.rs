//! The demo binary's own log over a full flow, with every log level on, contains no
//! password, cookie value, remember-me verifier or API token.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, LOCATION, SET_COOKIE};

const PASSWORD: &str = "alice-password";

/// Kills the demo process when the test ends, whatever its outcome.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo binary with `filter` as `RUST_LOG`, its stdout and stderr both
/// written to `log`, and returns it with its base URL.
fn start_demo(directory: &Path, filter: &str, log: &Path) -> (Running, String) {
    let stdout = File::create(log).unwrap();
    let stderr = stdout.try_clone().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_security-page"))
        .env("ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", directory.join("demo.sqlite3"))
        .env("RUST_LOG", filter)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("the demo binary starts");
    let running = Running(child);

    for _ in 0..600 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find_map(|line| line.strip_prefix("security-page listening on "))
        {
            // The printed address is the sign-in page's URL.
            let base = line.trim().trim_end_matches("/login").to_owned();
            return (running, base);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "the demo printed no address within 30 s; its log:\n{}",
        read(log)
    );
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Collects `name=value` pairs from the `Set-Cookie` headers of a response.
fn set_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// Builds a client without a cookie store, so the test sends exactly the cookies it chooses.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn cookie_header(cookies: &[(String, String)]) -> String {
    cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs sign-in with remember-me, token creation and use, a remember-me re-bind, and
/// every kind of revocation, and returns every secret that crossed the wire.
async fn full_flow(base: &str) -> Vec<String> {
    let http = client();
    let mut secrets = vec![PASSWORD.to_owned()];

    let signed_in = http
        .post(format!("{base}/login"))
        .form(&[
            ("email", "alice@example.com"),
            ("password", PASSWORD),
            ("remember", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "sign-in succeeds"
    );
    let cookies = set_cookies(signed_in.headers());
    assert_eq!(
        cookies.len(),
        2,
        "a session and a remember cookie: {cookies:?}"
    );
    secrets.extend(cookies.iter().map(|(_, value)| value.clone()));
    let remember = cookies
        .iter()
        .find(|(_, value)| value.contains(':'))
        .cloned()
        .expect("a remember cookie of the form selector:verifier");
    let verifier = remember.1.split_once(':').unwrap().1.to_owned();
    secrets.push(verifier);
    let session: Vec<_> = cookies
        .iter()
        .filter(|cookie| **cookie != remember)
        .cloned()
        .collect();

    let created = http
        .post(format!("{base}/api/tokens"))
        .header(COOKIE, cookie_header(&session))
        .json(&serde_json::json!({ "name": "ci" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "the token is created"
    );
    let body: serde_json::Value = created.json().await.unwrap();
    let token = body["token"].as_str().expect("a token").to_owned();
    let token_id = body["id"].as_str().expect("a login id").to_owned();
    let token_secret = token.split_once('|').expect("id|secret").1.to_owned();
    secrets.push(token.clone());
    secrets.push(token_secret);

    let listed = http
        .get(format!("{base}/api/logins"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK, "the token authenticates");

    // Only the remember cookie: the demo binds a new session to the same login.
    let rebound = http
        .get(format!("{base}/security"))
        .header(COOKIE, cookie_header(std::slice::from_ref(&remember)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rebound.status(),
        StatusCode::OK,
        "the remember cookie signs in"
    );
    let rebound_cookies = set_cookies(rebound.headers());
    assert!(
        !rebound_cookies.is_empty(),
        "the re-bind sets a new session cookie"
    );
    secrets.extend(rebound_cookies.iter().map(|(_, value)| value.clone()));

    let revoked = http
        .post(format!("{base}/logins/{token_id}/revoke"))
        .header(COOKIE, cookie_header(&rebound_cookies))
        .send()
        .await
        .unwrap();
    assert!(
        revoked.status().is_success() || revoked.status().is_redirection(),
        "the token is revoked: {}",
        revoked.status()
    );
    let revoked_others = http
        .post(format!("{base}/logins/revoke-others"))
        .header(COOKIE, cookie_header(&rebound_cookies))
        .send()
        .await
        .unwrap();
    assert!(
        revoked_others.status().is_redirection(),
        "revoke-others answers"
    );
    let logged_out = http
        .post(format!("{base}/logout"))
        .header(COOKIE, cookie_header(&rebound_cookies))
        .send()
        .await
        .unwrap();
    assert_eq!(
        logged_out.status(),
        StatusCode::SEE_OTHER,
        "sign-out answers"
    );
    assert_eq!(
        logged_out.headers().get(LOCATION).unwrap(),
        "/login",
        "sign-out leads to the sign-in page"
    );

    let refused = http
        .get(format!("{base}/api/logins"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "the revoked token no longer authenticates"
    );
    secrets
}

/// Tells whether `line` is one of the banner's `email / password` lines.
fn is_account_line(line: &str) -> bool {
    security_page::DEMO_ACCOUNTS
        .iter()
        .any(|(email, password)| line.trim() == format!("{email} / {password}"))
}

async fn log_contains_no_secret(filter: &str) {
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("demo.log");
    let (running, base) = start_demo(directory.path(), filter, &log);

    let secrets = full_flow(&base).await;
    drop(running);
    // The start-up banner prints the demo accounts' passwords on purpose, so its
    // account lines are left out of the search.
    let text: String = read(&log)
        .lines()
        .filter(|line| !is_account_line(line))
        .map(|line| format!("{line}\n"))
        .collect();

    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the demo log at RUST_LOG={filter} contains a secret ({} characters long):\n{text}",
            secret.len()
        );
    }
    assert!(
        text.contains("recorded a login"),
        "the log at RUST_LOG={filter} contains the sign-in:\n{text}"
    );
}

#[tokio::test]
async fn default_log_contains_no_secret() {
    log_contains_no_secret("info").await;
}

#[tokio::test]
async fn trace_log_contains_no_secret() {
    log_contains_no_secret("trace").await;
}
