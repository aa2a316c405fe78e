//! The demo binary as a user starts it: first start on a new SQLite file, the printed
//! address and accounts, and a clear error for a bad database URL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the demo process when the test ends, whatever its outcome.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn first_start_creates_database_and_prints_accounts() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("demo.sqlite3");
    let child = Command::new(env!("CARGO_BIN_EXE_security-page"))
        .env("ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", &database)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the demo binary starts");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();

    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .strip_prefix("security-page listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let printed: Vec<String> = lines.take(4).map(Result::unwrap).collect();
    assert_eq!(printed[0], "geolocation: off", "lookups are off by default");
    assert_eq!(printed[1], "demo accounts:");
    assert_eq!(printed[2].trim(), "alice@example.com / alice-password");
    assert_eq!(printed[3].trim(), "bob@example.com / bob-password");
    assert!(
        database.exists(),
        "the SQLite file is created on first start"
    );

    let page = reqwest::get(&url)
        .await
        .expect("the printed address answers");
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Sign in"));
}

#[test]
fn unreachable_database_exits_with_error() {
    // Nothing listens on port 1, so the connection is refused.
    let output = Command::new(env!("CARGO_BIN_EXE_security-page"))
        .env("ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", "postgres://root@127.0.0.1:1/test")
        .output()
        .expect("the demo binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: "),
        "one clear error line: {stderr}"
    );
    assert!(
        stderr.contains("cannot open the database postgres://root@127.0.0.1:1/test"),
        "names the cause: {stderr}"
    );
}
