//! uap-core conformance: every row of uap-core's `test_ua.yaml`, `test_os.yaml` and
//! `test_device.yaml` (vendored in `uap-core/tests/`) must parse to the expected raw uap
//! result with the embedded regexes.
//!
//! The rows are compared with `uaparser`'s own results, before auth-tracker maps `Other`
//! to `None`. `uaparser` 0.6.4 returns no `patch_minor` for user agents, so `test_ua.yaml`
//! rows are compared on family, major, minor and patch.
#![cfg(feature = "uaparser")]

use std::path::PathBuf;

use auth_tracker::agent::uaparser::uap;
use uaparser::Parser as _;

#[derive(serde::Deserialize)]
struct Suite<Row> {
    test_cases: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct UserAgentRow {
    user_agent_string: String,
    family: String,
    major: Option<String>,
    minor: Option<String>,
    patch: Option<String>,
}

#[derive(serde::Deserialize)]
struct OsRow {
    user_agent_string: String,
    family: String,
    major: Option<String>,
    minor: Option<String>,
    patch: Option<String>,
    patch_minor: Option<String>,
}

#[derive(serde::Deserialize)]
struct DeviceRow {
    user_agent_string: String,
    family: String,
    brand: Option<String>,
    model: Option<String>,
}

fn load<Row: serde::de::DeserializeOwned>(name: &str) -> Vec<Row> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "uap-core", "tests", name]
        .iter()
        .collect();
    let text = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
    let suite: Suite<Row> = serde_yaml::from_slice(&text)
        .unwrap_or_else(|error| panic!("invalid YAML in {}: {error}", path.display()));
    assert!(
        !suite.test_cases.is_empty(),
        "{} has no test case",
        path.display()
    );
    suite.test_cases
}

/// uap-core writes a missing version part as an empty value, which serde reads as
/// `None`, and `uaparser` returns `None` for it too.
fn part(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// Panics with every mismatching row, so a regexes.yaml update shows all its failures at
/// once.
fn assert_no_failures(suite: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} {suite} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn user_agent_rows_match() {
    let rows: Vec<UserAgentRow> = load("test_ua.yaml");
    let mut failures = Vec::new();
    for row in &rows {
        let actual = uap().parse_user_agent(&row.user_agent_string);
        let expected = (
            row.family.as_str(),
            part(row.major.as_deref()),
            part(row.minor.as_deref()),
            part(row.patch.as_deref()),
        );
        let found = (
            actual.family.as_ref(),
            actual.major.as_deref(),
            actual.minor.as_deref(),
            actual.patch.as_deref(),
        );
        if expected != found {
            failures.push(format!(
                "{:?}: expected {expected:?}, found {found:?}",
                row.user_agent_string
            ));
        }
    }
    assert_no_failures("test_ua.yaml", rows.len(), &failures);
}

#[test]
fn os_rows_match() {
    let rows: Vec<OsRow> = load("test_os.yaml");
    let mut failures = Vec::new();
    for row in &rows {
        let actual = uap().parse_os(&row.user_agent_string);
        let expected = (
            row.family.as_str(),
            part(row.major.as_deref()),
            part(row.minor.as_deref()),
            part(row.patch.as_deref()),
            part(row.patch_minor.as_deref()),
        );
        let found = (
            actual.family.as_ref(),
            actual.major.as_deref(),
            actual.minor.as_deref(),
            actual.patch.as_deref(),
            actual.patch_minor.as_deref(),
        );
        if expected != found {
            failures.push(format!(
                "{:?}: expected {expected:?}, found {found:?}",
                row.user_agent_string
            ));
        }
    }
    assert_no_failures("test_os.yaml", rows.len(), &failures);
}

#[test]
fn device_rows_match() {
    let rows: Vec<DeviceRow> = load("test_device.yaml");
    let mut failures = Vec::new();
    for row in &rows {
        let actual = uap().parse_device(&row.user_agent_string);
        let expected = (
            row.family.as_str(),
            part(row.brand.as_deref()),
            part(row.model.as_deref()),
        );
        let found = (
            actual.family.as_ref(),
            actual.brand.as_deref(),
            actual.model.as_deref(),
        );
        if expected != found {
            failures.push(format!(
                "{:?}: expected {expected:?}, found {found:?}",
                row.user_agent_string
            ));
        }
    }
    assert_no_failures("test_device.yaml", rows.len(), &failures);
}
