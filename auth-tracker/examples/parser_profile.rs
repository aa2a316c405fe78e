//! Profiles one built-in User-Agent parser on the rows of uap-core's `test_ua.yaml`.
//!
//! It prints the resident memory (VmRSS) of this process before and after building the
//! parser and after parsing every row once without a cache, through the backend's
//! parser threads. Then it times each row with the crate's own call on the calling
//! thread and prints the median and mean. Linux only, because it reads
//! `/proc/self/status`. Run each backend in its own process:
//!
//! ```text
//! cargo run --release -p auth-tracker --features uaparser,ua-parser --example parser_profile -- uaparser
//! cargo run --release -p auth-tracker --features uaparser,ua-parser --example parser_profile -- ua_parser
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use auth_tracker::agent::UserAgentParser;
use auth_tracker::agent::ua_parser::{self as uap_rust, UapRustParser};
use auth_tracker::agent::uaparser::{self as uap_crate, UaParser};
use uaparser::Parser as _;

#[derive(serde::Deserialize)]
struct Suite {
    test_cases: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct Row {
    user_agent_string: String,
}

/// Returns the `VmRSS` value of `/proc/self/status`, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .expect("failed to read /proc/self/status, which exists on Linux only");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("missing VmRSS line in /proc/self/status")
}

fn mebibytes(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() -> ExitCode {
    let backend = std::env::args().nth(1).unwrap_or_default();
    let (parser, parse_raw): (&dyn UserAgentParser, fn(&str)) = match backend.as_str() {
        "uaparser" => (&UaParser, |user_agent| {
            black_box(uap_crate::uap().parse(user_agent));
        }),
        "ua_parser" => (&UapRustParser, |user_agent| {
            black_box(uap_rust::extractor().extract(user_agent));
        }),
        _ => {
            eprintln!("invalid backend {backend:?}: expected `uaparser` or `ua_parser`");
            return ExitCode::FAILURE;
        }
    };

    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "uap-core",
        "tests",
        "test_ua.yaml",
    ]
    .iter()
    .collect();
    let text = std::fs::read(&path).expect("failed to read uap-core's test_ua.yaml");
    let suite: Suite = serde_yaml::from_slice(&text).expect("invalid YAML in test_ua.yaml");
    drop(text);
    let user_agents: Vec<String> = suite
        .test_cases
        .into_iter()
        .map(|row| row.user_agent_string)
        .collect();

    let start = resident_kib();

    let build_started = Instant::now();
    parse_raw("");
    let build_time = build_started.elapsed();
    let built = resident_kib();

    for user_agent in &user_agents {
        parser.parse(user_agent);
    }
    let parsed = resident_kib();

    println!("backend: {backend}");
    println!("build time: {:.1} ms", build_time.as_secs_f64() * 1e3);
    println!("resident at start: {:.1} MiB", mebibytes(start));
    println!(
        "resident after build: {:.1} MiB (+{:.1} MiB)",
        mebibytes(built),
        mebibytes(built - start)
    );
    println!(
        "resident after {} uncached parses: {:.1} MiB (+{:.1} MiB)",
        user_agents.len(),
        mebibytes(parsed),
        mebibytes(parsed - built)
    );

    // One pass on the calling thread first, so that its regex caches are warm as they
    // are on the parser threads after the pass above.
    for user_agent in &user_agents {
        parse_raw(user_agent);
    }
    let mut times: Vec<Duration> = user_agents
        .iter()
        .map(|user_agent| {
            let started = Instant::now();
            parse_raw(user_agent);
            started.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "crate parse time per row, calling thread: median {:.1} µs, mean {:.1} µs",
        median.as_secs_f64() * 1e6,
        mean.as_secs_f64() * 1e6
    );
    ExitCode::SUCCESS
}
