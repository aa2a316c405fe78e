//! Throughput cost of `TrackingLayer` on top of plain tower-sessions, measured over
//! loopback HTTP with the `wrk` load generator.
//!
//! Run with `cargo bench -p auth-tracker --bench layer --features axum`. It needs `wrk`
//! on the `PATH` (Debian and Ubuntu: `apt-get install -y wrk`) and exits with status 1
//! without it.
//!
//! The process serves two axum apps on 127.0.0.1, both on one two-worker Tokio runtime:
//!
//! - `plain`: tower-sessions with a `MemoryStore`, and a handler that reads a value from
//!   the session;
//! - `tracked`: the same, with `TrackingLayer` inside the session layer, so every
//!   request also checks the session's login in a SQLite tracker with the default
//!   settings, which reuse a successful check for 1 s (`check_cache_ttl`);
//! - `tracked, no check cache`: the same with `check_cache_ttl` zero, so every request
//!   reads the login's row.
//!
//! Each app gets one signed-in session, and `wrk` sends its cookie on every request.
//! The runs alternate between the apps, so a change in the machine's load hits both.
//! Settings, through environment variables: `LAYER_ROUNDS` (runs per app, default 3),
//! `LAYER_DURATION` (seconds per run, default 10), `LAYER_CONNECTIONS` (default 16).
//! `wrk` runs one thread: it shares the machine's cores with the servers.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use auth_tracker::agent::uaparser;
use auth_tracker::axum::TrackingLayer;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::{
    Enrichment, LoginOptions, Owner, RevokeReason, RevokeScope, Tracker, TrackerConfig, Tracking,
};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

const USER_KEY: &str = "user_id";

/// Reads the signed-in user from the session, the work both apps share.
async fn home(session: Session) -> String {
    match session.get::<u64>(USER_KEY).await {
        Ok(Some(user)) => format!("user {user}"),
        _ => "anonymous".to_owned(),
    }
}

async fn plain_login(session: Session) -> Result<&'static str, StatusCode> {
    session
        .insert(USER_KEY, 1_u64)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok("signed in")
}

async fn tracked_login(session: Session, tracking: Tracking) -> Result<&'static str, StatusCode> {
    session
        .insert(USER_KEY, 1_u64)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let enrichment = Enrichment {
        parser: uaparser::shared(),
        ip_provider: ProviderChoice::None,
    };
    tracking
        .tracker()
        .record_session_login(
            "logins",
            Owner::new("User", 1),
            enrichment,
            &tracking,
            LoginOptions::default(),
        )
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok("signed in")
}

fn plain_app() -> Router {
    let sessions = MemoryStore::default();
    Router::new()
        .route("/", get(home))
        .route("/login", post(plain_login))
        .layer(SessionManagerLayer::new(sessions).with_secure(false))
}

fn tracked_app(tracker: Tracker) -> Router {
    let sessions = MemoryStore::default();
    Router::new()
        .route("/", get(home))
        .route("/login", post(tracked_login))
        .layer(TrackingLayer::new(tracker))
        .layer(SessionManagerLayer::new(sessions).with_secure(false))
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((IpAddr::from([127, 0, 0, 1]), 0))
        .await
        .expect("failed to bind a loopback port");
    let address = listener.local_addr().expect("bound socket has an address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server failed");
    });
    address
}

/// Response of [`request`]: the status line and headers, and the body.
struct Response {
    head: String,
    body: String,
}

/// Sends one HTTP/1.1 request on a new connection and reads the whole response.
fn request(address: SocketAddr, method: &str, path: &str, cookie: Option<&str>) -> Response {
    let mut stream = TcpStream::connect(address).expect("failed to connect to the server");
    let cookie = cookie.map_or_else(String::new, |cookie| format!("Cookie: {cookie}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}Content-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )
    .expect("failed to send the request");
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .expect("failed to read the response");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Response {
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Signs in and returns the session cookie, `id=...`, of the last `Set-Cookie` header.
fn sign_in(address: SocketAddr) -> String {
    let response = request(address, "POST", "/login", None);
    assert!(
        response.head.starts_with("HTTP/1.1 200"),
        "sign-in failed: {}",
        response.head
    );
    response
        .head
        .lines()
        .filter_map(|line| line.strip_prefix("set-cookie: "))
        .filter_map(|cookie| cookie.split(';').next())
        .rfind(|pair| pair.starts_with("id="))
        .expect("the sign-in set no session cookie")
        .to_owned()
}

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {value:?}")),
        Err(_) => default,
    }
}

/// Runs `wrk` against `address` with `cookie` and returns its requests per second.
fn run_wrk(address: SocketAddr, cookie: &str, seconds: u64, connections: u64) -> f64 {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(format!("http://{address}/"))
        .stderr(Stdio::inherit())
        .output()
        .expect("failed to run wrk");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed:\n{report}");
    assert!(
        !report.contains("Non-2xx or 3xx responses") && !report.contains("Socket errors"),
        "wrk saw failed requests:\n{report}"
    );
    report
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec line in the wrk report:\n{report}"))
}

fn wrk_installed() -> bool {
    Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn main() -> ExitCode {
    if !wrk_installed() {
        eprintln!(
            "error: `wrk` is not installed or not on the PATH; install it \
             (Debian and Ubuntu: `apt-get install -y wrk`) and run the benchmark again"
        );
        return ExitCode::FAILURE;
    }
    let rounds = setting("LAYER_ROUNDS", 3);
    let seconds = setting("LAYER_DURATION", 10);
    let connections = setting("LAYER_CONNECTIONS", 16);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("failed to start the Tokio runtime");
    let dir = tempfile::tempdir().expect("failed to create a temporary folder");
    let mut uncached = TrackerConfig::default();
    uncached.check_cache_ttl = Duration::ZERO;
    // Each tracked app gets its own file. The trackers have no session store, so a
    // revocation leaves the session in place and only the layer's check can turn the
    // cookie away (see the end of `main`).
    let trackers = [TrackerConfig::default(), uncached].map(|config| {
        let path = dir.path().join(format!(
            "logins-{}.sqlite3",
            config.check_cache_ttl.as_millis()
        ));
        let tracker = Tracker::sqlite(path.to_str().expect("temporary path is UTF-8"))
            .expect("failed to open the SQLite file")
            .with_config(config);
        runtime
            .block_on(tracker.migrate())
            .expect("failed to run the migrations");
        tracker
    });

    let mut apps = vec![("plain", runtime.block_on(serve(plain_app())))];
    apps.push((
        "tracked",
        runtime.block_on(serve(tracked_app(trackers[0].clone()))),
    ));
    apps.push((
        "tracked, no check cache",
        runtime.block_on(serve(tracked_app(trackers[1].clone()))),
    ));
    let cookies: Vec<String> = apps.iter().map(|(_, address)| sign_in(*address)).collect();
    for ((name, address), cookie) in apps.iter().zip(&cookies) {
        let body = request(*address, "GET", "/", Some(cookie)).body;
        assert_eq!(body, "user 1", "{name} app before the runs");
    }

    println!("layer: {rounds} alternating runs per app of `wrk -t1 -c{connections} -d{seconds}s`");
    let mut rates = vec![Vec::new(); apps.len()];
    for round in 1..=rounds {
        for (index, ((name, address), cookie)) in apps.iter().zip(&cookies).enumerate() {
            let rate = run_wrk(*address, cookie, seconds, connections);
            println!("round {round}: {name:<24} {rate:>9.0} requests/s");
            rates[index].push(rate);
        }
    }
    let plain_mean = mean(&rates[0]);
    println!("{:<32} {plain_mean:>9.0} requests/s (mean)", apps[0].0);
    for ((name, _), rates) in apps.iter().zip(&rates).skip(1) {
        let tracked_mean = mean(rates);
        println!(
            "{name:<32} {tracked_mean:>9.0} requests/s (mean), {:.1} % fewer, \
             {:.1} µs more server time per request",
            (1.0 - tracked_mean / plain_mean) * 100.0,
            // Two workers serve the requests, so each takes 2 / rate seconds of them.
            (2.0 / tracked_mean - 2.0 / plain_mean) * 1e6
        );
    }

    // Each layer checked the login on every request: once it is revoked, the same
    // cookie is turned away.
    for ((name, address), (tracker, cookie)) in apps
        .iter()
        .skip(1)
        .zip(trackers.iter().zip(cookies.iter().skip(1)))
    {
        let revoked = runtime
            .block_on(tracker.revoke(
                "logins",
                &Owner::new("User", 1),
                RevokeScope::All,
                RevokeReason::RevokedAll,
                None,
            ))
            .expect("revoke failed");
        assert_eq!(revoked, 1, "{name}: revoked logins");
        let body = request(*address, "GET", "/", Some(cookie)).body;
        assert_eq!(body, "anonymous", "{name} app after the revocation");
    }

    runtime.shutdown_timeout(Duration::from_secs(1));
    ExitCode::SUCCESS
}
