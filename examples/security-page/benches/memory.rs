//! Resident memory of the demo server before and after it parses the 17,660 distinct
//! User-Agents of uap-core's test files, one request each.
//!
//! Run with `cargo bench -p security-page --bench memory`. It starts the release build
//! of the `security-page` binary on a loopback port with a SQLite file in a temporary
//! folder, and reads `VmRSS` and `VmHWM` from `/proc/PID/status` (Linux only) after
//! start-up, after the first request and after the last. The requests come from
//! `MEMORY_CONNECTIONS` concurrent connections (default 8), so the demo's Tokio
//! workers, its blocking threads and the User-Agent parser threads all take part.
//!
//! `MEMORY_REQUESTS` picks the request that records a login with each User-Agent:
//!
//! - `sign-ins` (default): `POST /login` as alice. Each one also verifies an Argon2
//!   password hash (19 MiB of memory per verification) and creates a session in the
//!   demo's in-memory session store.
//! - `tokens`: one sign-in, then `POST /api/tokens` on its session, which records a
//!   token login without a password check.
//!
//! `MEMORY_USER_AGENTS=N` keeps only the first N User-Agents, for short runs.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "alice-password";

/// uap-core's test files, in the auth-tracker crate.
const SUITES: [&str; 3] = ["test_ua.yaml", "test_os.yaml", "test_device.yaml"];

#[derive(serde::Deserialize)]
struct Suite {
    test_cases: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct Row {
    user_agent_string: String,
}

/// Returns the distinct User-Agents of uap-core's test files, in file order.
fn user_agents() -> Vec<String> {
    let folder: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "auth-tracker",
        "uap-core",
        "tests",
    ]
    .iter()
    .collect();
    let mut seen = HashSet::new();
    let mut distinct = Vec::new();
    for name in SUITES {
        let path = folder.join(name);
        let text = std::fs::read(&path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
        let suite: Suite = serde_yaml::from_slice(&text)
            .unwrap_or_else(|error| panic!("invalid YAML in {}: {error}", path.display()));
        for row in suite.test_cases {
            if seen.insert(row.user_agent_string.clone()) {
                distinct.push(row.user_agent_string);
            }
        }
    }
    distinct
}

/// Memory figures of a process, from `/proc/PID/status`, in KiB.
#[derive(Clone, Copy, Debug)]
struct Memory {
    resident: u64,
    peak: u64,
    threads: u64,
}

impl Memory {
    fn read(pid: u32) -> Self {
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("failed to read {path}: {error}"));
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{path} has no {name} line"))
        };
        Self {
            resident: field("VmRSS:"),
            peak: field("VmHWM:"),
            threads: field("Threads:"),
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Kills the demo when the benchmark ends, also on a panic.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo and returns it with the address it printed.
fn start_demo(database: &str) -> (Demo, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_security-page"))
        .args(["--addr", "127.0.0.1:0", "--database-url", database])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("failed to start the security-page binary");
    let stdout = child.stdout.take().expect("stdout is piped");
    let demo = Demo(child);
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the demo exited before printing its address")
            .expect("failed to read the demo's output");
        if let Some(rest) = line.strip_prefix("security-page listening on http://") {
            break rest.trim_end_matches("/login").to_owned();
        }
    };
    // Keep reading, so the demo never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (demo, address)
}

/// Request that records a login with a given User-Agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Requests {
    SignIns,
    Tokens,
}

/// Records one login per User-Agent, from `connections` concurrent tasks. Tokens are
/// created on the session of `cookie`, the `id=...` pair of a signed-in session.
async fn record_all(
    address: &str,
    requests: Requests,
    cookie: Option<&str>,
    user_agents: Vec<String>,
    connections: usize,
) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("failed to build the HTTP client");
    let (path, expected) = match requests {
        Requests::SignIns => ("/login", reqwest::StatusCode::SEE_OTHER),
        Requests::Tokens => ("/api/tokens", reqwest::StatusCode::CREATED),
    };
    let url: Arc<str> = format!("http://{address}{path}").into();
    let cookie: Option<Arc<str>> = cookie.map(Arc::from);
    let user_agents = Arc::new(user_agents);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..connections {
        let (client, url, cookie, user_agents) = (
            client.clone(),
            url.clone(),
            cookie.clone(),
            user_agents.clone(),
        );
        tasks.spawn(async move {
            for user_agent in user_agents.iter().skip(task).step_by(connections) {
                let request = client
                    .post(&*url)
                    .header(reqwest::header::USER_AGENT, user_agent);
                let request = match (requests, &cookie) {
                    (Requests::Tokens, Some(cookie)) => request
                        .header(reqwest::header::COOKIE, &**cookie)
                        .form(&[("name", "memory benchmark")]),
                    _ => request.form(&[("email", EMAIL), ("password", PASSWORD)]),
                };
                let response = request
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("{path} request failed: {error}"));
                assert_eq!(
                    response.status(),
                    expected,
                    "{path} with User-Agent {user_agent:?}"
                );
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("request task panicked");
    }
}

/// Signs in with `user_agent` and returns the session cookie, `id=...`.
async fn sign_in(address: &str, user_agent: String) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("failed to build the HTTP client");
    let response = client
        .post(format!("http://{address}/login"))
        .header(reqwest::header::USER_AGENT, user_agent)
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign-in request failed");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "sign-in");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next())
        .rfind(|pair| pair.starts_with("id="))
        .expect("the sign-in set no session cookie")
        .to_owned()
}

fn main() -> ExitCode {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("error: this benchmark reads /proc/PID/status and runs on Linux only");
        return ExitCode::FAILURE;
    }
    let connections: usize = match std::env::var("MEMORY_CONNECTIONS") {
        Ok(value) => match value.parse() {
            Ok(connections) if connections > 0 => connections,
            _ => {
                eprintln!(
                    "error: MEMORY_CONNECTIONS must be a positive whole number, got {value:?}"
                );
                return ExitCode::FAILURE;
            }
        },
        Err(_) => 8,
    };
    let requests = match std::env::var("MEMORY_REQUESTS").as_deref() {
        Ok("sign-ins") | Err(_) => Requests::SignIns,
        Ok("tokens") => Requests::Tokens,
        Ok(other) => {
            eprintln!("error: MEMORY_REQUESTS must be `sign-ins` or `tokens`, got {other:?}");
            return ExitCode::FAILURE;
        }
    };
    let mut user_agents = user_agents();
    if let Ok(limit) = std::env::var("MEMORY_USER_AGENTS") {
        let limit: usize = limit
            .parse()
            .expect("MEMORY_USER_AGENTS must be a whole number");
        user_agents.truncate(limit.max(1));
    }
    let total = user_agents.len();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("failed to start the Tokio runtime");

    let dir = tempfile::tempdir().expect("failed to create a temporary folder");
    let database = dir.path().join("security-page.sqlite3");
    let (demo, address) = start_demo(database.to_str().expect("temporary path is UTF-8"));
    let pid = demo.0.id();
    let started = Memory::read(pid);

    // The first sign-in builds the User-Agent parser and starts its threads.
    let rest = user_agents.split_off(1);
    let first_user_agent = user_agents.pop().expect("uap-core has User-Agents");
    let cookie = runtime.block_on(sign_in(&address, first_user_agent));
    let first = Memory::read(pid);

    let clock = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut samples = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                samples.push((clock.elapsed(), Memory::read(pid)));
            }
            samples
        }
    });
    runtime.block_on(record_all(
        &address,
        requests,
        Some(&cookie),
        rest,
        connections,
    ));
    let elapsed = clock.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let samples = sampler.join().expect("sampler panicked");
    for (at, memory) in samples.iter().step_by((samples.len() / 10).max(1)) {
        eprintln!(
            "  at {:>6.1} s: VmRSS {:>8.1} MiB, {} threads",
            at.as_secs_f64(),
            mib(memory.resident),
            memory.threads
        );
    }
    let after = Memory::read(pid);

    println!(
        "memory: {total} distinct User-Agents, one {requests:?} request each, {connections} \
         connections, {:.1} s ({:.0} requests/s)",
        elapsed.as_secs_f64(),
        (total - 1) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<40} {:>10} {:>10} {:>8}",
        "point", "VmRSS MiB", "VmHWM MiB", "threads"
    );
    for (point, memory) in [
        ("after start-up", started),
        ("after the first sign-in", first),
        ("after the last request", after),
    ] {
        println!(
            "{point:<40} {:>10.1} {:>10.1} {:>8}",
            mib(memory.resident),
            mib(memory.peak),
            memory.threads
        );
    }
    drop(demo);
    ExitCode::SUCCESS
}
