//! Benchmarks of the two built-in User-Agent parsers: building the parser, parsing each
//! User-Agent of uap-core's `test_ua.yaml` without a cache, and a cache hit through
//! `CachedParser`.
//!
//! Run with `cargo bench -p auth-tracker --bench parsers --features uaparser,ua-parser`.
//! The sample sizes and measurement times keep a full run near one minute on 2 cores.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use auth_tracker::agent::ua_parser::{self as uap_rust, UapRustParser};
use auth_tracker::agent::uaparser::{self as uap_crate, REGEXES_YAML, UaParser};
use auth_tracker::agent::{CachedParser, UserAgentParser};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uaparser::Parser as _;

#[derive(serde::Deserialize)]
struct Suite {
    test_cases: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct Row {
    user_agent_string: String,
}

/// Returns the User-Agents of uap-core's `test_ua.yaml`.
fn user_agents() -> Vec<String> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "uap-core",
        "tests",
        "test_ua.yaml",
    ]
    .iter()
    .collect();
    let text = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
    let suite: Suite = serde_yaml::from_slice(&text)
        .unwrap_or_else(|error| panic!("invalid YAML in {}: {error}", path.display()));
    suite
        .test_cases
        .into_iter()
        .map(|row| row.user_agent_string)
        .collect()
}

fn build_uaparser() -> uaparser::UserAgentParser {
    // The same settings as `auth_tracker::agent::uaparser::uap()`.
    uaparser::UserAgentParser::builder()
        .with_unicode_support(false)
        .build_from_bytes(REGEXES_YAML)
        .expect("the embedded uap-core regexes.yaml is valid")
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("uaparser", |b| b.iter(build_uaparser));
    group.bench_function("ua_parser", |b| {
        b.iter(|| uap_rust::build_extractor(black_box(REGEXES_YAML)).unwrap())
    });
    group.finish();
}

/// Parses every row once per iteration, so criterion's throughput is User-Agents per
/// second and the time per element is the mean uncached parse time.
fn parse_uncached(c: &mut Criterion) {
    let user_agents = user_agents();
    // Build both regex sets and start the parser threads outside the measurements.
    UaParser.parse("warm-up");
    UapRustParser.parse("warm-up");

    let mut group = c.benchmark_group("parse_uncached");
    group.throughput(Throughput::Elements(user_agents.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    group.bench_function("uaparser/parser", |b| {
        b.iter(|| {
            for user_agent in &user_agents {
                black_box(UaParser.parse(user_agent));
            }
        })
    });
    group.bench_function("ua_parser/parser", |b| {
        b.iter(|| {
            for user_agent in &user_agents {
                black_box(UapRustParser.parse(user_agent));
            }
        })
    });
    // The crates' own calls on the calling thread, without the hand-off to the parser
    // threads and the mapping to `ParsedUserAgent`.
    group.bench_function("uaparser/crate", |b| {
        b.iter(|| {
            for user_agent in &user_agents {
                black_box(uap_crate::uap().parse(user_agent));
            }
        })
    });
    group.bench_function("ua_parser/crate", |b| {
        b.iter(|| {
            for user_agent in &user_agents {
                black_box(uap_rust::extractor().extract(user_agent));
            }
        })
    });
    group.finish();
}

fn cache_hit(c: &mut Criterion) {
    let user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    let uaparser = CachedParser::new(UaParser);
    let ua_parser = CachedParser::new(UapRustParser);
    uaparser.parse(user_agent);
    ua_parser.parse(user_agent);

    let mut group = c.benchmark_group("cache_hit");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("uaparser", |b| {
        b.iter(|| uaparser.parse(black_box(user_agent)))
    });
    group.bench_function("ua_parser", |b| {
        b.iter(|| ua_parser.parse(black_box(user_agent)))
    });
    group.finish();
}

criterion_group!(benches, build, parse_uncached, cache_hit);
criterion_main!(benches);
