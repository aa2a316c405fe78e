//! Tests of the `auth-tracker` binary, run as a child process.
//!
//! The list, revoke and prune cases also run against PostgreSQL when
//! `AUTH_TRACKER_POSTGRES_URL` names a server where the user may create databases. Each
//! case then creates its own database and drops it afterwards. Built with the `mysql`
//! feature, the migrate, list, revoke, prune and IP2Location cases do the same on the
//! MySQL or MariaDB server that `AUTH_TRACKER_MYSQL_URL` names.
#![cfg(feature = "cli")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use auth_tracker::agent::NoParser;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::{Enrichment, LoginId, Owner, RequestContext, Tracker};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

#[cfg(feature = "mysql")]
use diesel::MysqlConnection;

const POSTGRES_URL_VAR: &str = "AUTH_TRACKER_POSTGRES_URL";
#[cfg(feature = "mysql")]
const MYSQL_URL_VAR: &str = "AUTH_TRACKER_MYSQL_URL";
const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
const ENRICHMENT: Enrichment = Enrichment {
    parser: &NoParser,
    ip_provider: ProviderChoice::None,
};

/// Folder under the system temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("auth-tracker-cli-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Database that one test runs on.
enum TestDatabase {
    Sqlite {
        _folder: TempDir,
        path: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    #[cfg(feature = "mysql")]
    Mysql {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    fn sqlite() -> Self {
        let folder = TempDir::new();
        let path = folder.file("logins.sqlite3");
        Self::Sqlite {
            _folder: folder,
            path,
        }
    }

    /// Creates a fresh PostgreSQL database, or reports the skip and returns `None` when
    /// no server is configured.
    fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            let required = std::env::var("AUTH_TRACKER_REQUIRE_BACKENDS")
                .unwrap_or_default()
                .split(',')
                .any(|name| name.trim() == "postgres");
            assert!(
                !required,
                "AUTH_TRACKER_REQUIRE_BACKENDS requires postgres but {POSTGRES_URL_VAR} is not set"
            );
            eprintln!(
                "\n*** SKIPPED: PostgreSQL cases of the auth-tracker binary, because {POSTGRES_URL_VAR} is not set ***\n"
            );
            return None;
        };
        let name = format!("auth_tracker_cli_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("cannot connect to {admin_url}: {error}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Some(Self::Postgres {
            admin_url,
            name,
            url,
        })
    }

    /// Creates a fresh MySQL or MariaDB database, or reports the skip and returns `None`
    /// when no server is configured.
    #[cfg(feature = "mysql")]
    fn mysql() -> Option<Self> {
        let Ok(admin_url) = std::env::var(MYSQL_URL_VAR) else {
            let required = std::env::var("AUTH_TRACKER_REQUIRE_BACKENDS")
                .unwrap_or_default()
                .split(',')
                .any(|name| name.trim() == "mysql");
            assert!(
                !required,
                "AUTH_TRACKER_REQUIRE_BACKENDS requires mysql but {MYSQL_URL_VAR} is not set"
            );
            eprintln!(
                "\n*** SKIPPED: MySQL cases of the auth-tracker binary, because {MYSQL_URL_VAR} is not set ***\n"
            );
            return None;
        };
        let name = format!("auth_tracker_cli_{}", uuid::Uuid::now_v7().simple());
        let mut admin = MysqlConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("cannot connect to {admin_url}: {error}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Some(Self::Mysql {
            admin_url,
            name,
            url,
        })
    }

    /// SQLite always, and PostgreSQL and MySQL when configured.
    fn all() -> Vec<Self> {
        let mut databases = vec![Self::sqlite()];
        databases.extend(Self::postgres());
        #[cfg(feature = "mysql")]
        databases.extend(Self::mysql());
        databases
    }

    fn url(&self) -> &str {
        match self {
            Self::Sqlite { path, .. } => path,
            Self::Postgres { url, .. } => url,
            #[cfg(feature = "mysql")]
            Self::Mysql { url, .. } => url,
        }
    }

    fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite { path, .. } => SqliteConnection::establish(path)
                .unwrap()
                .batch_execute(sql),
            Self::Postgres { url, .. } => PgConnection::establish(url).unwrap().batch_execute(sql),
            #[cfg(feature = "mysql")]
            Self::Mysql { url, .. } => MysqlConnection::establish(url).unwrap().batch_execute(sql),
        }
        .unwrap_or_else(|error| panic!("{sql} failed: {error}"));
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { .. } => {}
            Self::Postgres {
                admin_url, name, ..
            } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            #[cfg(feature = "mysql")]
            Self::Mysql {
                admin_url, name, ..
            } => {
                if let Ok(mut admin) = MysqlConnection::establish(admin_url) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
        }
    }
}

/// Replaces the database name in a PostgreSQL or MySQL URL, keeping any query string.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut replaced = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Runs the binary with `args` and `stdin`, without the caller's `DATABASE_URL`.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-tracker"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, b"")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit status {:?}, stderr: {}",
        output.status,
        stderr(output)
    );
}

/// Checks that the command failed with exactly one `error: ...` line mentioning `expected`.
#[track_caller]
fn assert_error(output: &Output, expected: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {message}");
    assert!(message.starts_with("error: "), "stderr: {message}");
    assert_eq!(message.trim_end().lines().count(), 1, "stderr: {message}");
    assert!(
        message.contains(expected),
        "expected {expected:?} in: {message}"
    );
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn migrate(url: &str) {
    assert_success(&run(&["--database-url", url, "migrate"]));
}

fn context(ip: &str) -> RequestContext {
    RequestContext::new(Some(ip.parse().unwrap()), Some(FIREFOX.to_owned()))
}

/// Records a session login through the library.
fn record_session(tracker: &Tracker, user_id: &str, ip: &str) -> LoginId {
    let owner = Owner::new("User", user_id);
    block_on(tracker.record_login(
        "logins",
        owner,
        Some(LoginId::new().to_string()),
        ENRICHMENT,
        &context(ip),
    ))
    .unwrap()
    .id
}

/// Creates an API token through the library.
fn record_token(tracker: &Tracker, user_id: &str, ip: &str) -> LoginId {
    let owner = Owner::new("User", user_id);
    block_on(tracker.create_token("logins", owner, "deploy script", ENRICHMENT, &context(ip)))
        .unwrap()
        .login
        .id
}

#[test]
fn migrate_twice_is_no_op() {
    let database = TestDatabase::sqlite();
    let first = run(&["--database-url", database.url(), "migrate"]);
    assert_success(&first);
    let second = run(&["--database-url", database.url(), "migrate"]);
    assert_success(&second);
    assert_eq!(stdout(&first), stdout(&second));
}

#[cfg(feature = "mysql")]
#[test]
fn migrate_twice_is_no_op_on_mysql() {
    let Some(database) = TestDatabase::mysql() else {
        return;
    };
    let first = run(&["--database-url", database.url(), "migrate"]);
    assert_success(&first);
    let second = run(&["--database-url", database.url(), "migrate"]);
    assert_success(&second);
    assert_eq!(stdout(&first), stdout(&second));
}

#[test]
fn migrate_reads_database_url_from_environment() {
    let database = TestDatabase::sqlite();
    let output = Command::new(env!("CARGO_BIN_EXE_auth-tracker"))
        .arg("migrate")
        .env("DATABASE_URL", database.url())
        .output()
        .unwrap();
    assert_success(&output);
    assert!(Path::new(database.url()).is_file());
}

#[test]
fn migrate_custom_table() {
    let database = TestDatabase::sqlite();
    for _ in 0..2 {
        let output = run(&[
            "--database-url",
            database.url(),
            "migrate",
            "--table",
            "staff_logins",
        ]);
        assert_success(&output);
        assert!(stdout(&output).contains("staff_logins"));
    }
    let listed = run(&[
        "--database-url",
        database.url(),
        "logins",
        "list",
        "--user-id",
        "1",
        "--table",
        "staff_logins",
    ]);
    assert_success(&listed);
}

#[test]
fn migrate_rejects_invalid_table_name() {
    let database = TestDatabase::sqlite();
    let output = run(&[
        "--database-url",
        database.url(),
        "migrate",
        "--table",
        "logins; DROP TABLE users",
    ]);
    assert_error(&output, "invalid logins table name");
}

#[test]
fn missing_folder_is_one_line_error() {
    let folder = TempDir::new();
    let path = folder.file("missing/logins.sqlite3");
    let output = run(&["--database-url", &path, "migrate"]);
    assert_error(&output, "folder");
    assert_error(&output, "not found");
    assert!(!Path::new(&path).exists());
}

#[test]
fn unreachable_server_hides_password() {
    // Nothing listens on port 1, so the connection is refused.
    let output = run(&[
        "--database-url",
        "postgres://root:secret@127.0.0.1:1/test",
        "migrate",
    ]);
    assert_error(
        &output,
        "cannot open the database postgres://root:***@127.0.0.1:1/test",
    );
    assert!(
        !stderr(&output).contains("secret"),
        "the password must be hidden"
    );
}

#[test]
fn unknown_url_scheme_is_rejected() {
    let output = run(&["--database-url", "http://127.0.0.1/logins", "migrate"]);
    assert_error(&output, "invalid database URL scheme");
}

#[test]
fn missing_database_url_is_reported() {
    let output = run(&["migrate"]);
    assert_error(&output, "--database-url");
}

#[test]
fn parse_ua_from_arguments() {
    let output = run(&["parse-ua", FIREFOX, "curl/8.5.0"]);
    assert_success(&output);
    let objects = json_lines(&output);
    assert_eq!(objects.len(), 2);

    let firefox = &objects[0];
    assert_eq!(firefox["user_agent"], FIREFOX);
    assert_eq!(firefox["browser"], "Firefox");
    assert_eq!(firefox["browser_version"], "121.0");
    assert_eq!(firefox["platform"], "Windows");
    assert_eq!(firefox["device_type"], "desktop");
    assert!(
        firefox["device"].is_null(),
        "uap's Other is reported as null"
    );

    for key in [
        "user_agent",
        "browser",
        "browser_version",
        "platform",
        "platform_version",
        "device",
        "device_type",
    ] {
        assert!(objects[1].get(key).is_some(), "missing key {key}");
    }
}

#[test]
fn parse_ua_from_stdin_with_odd_lines() {
    let long = "a".repeat(100_000);
    let mut input = Vec::new();
    input.extend_from_slice(FIREFOX.as_bytes());
    input.extend_from_slice(b"\n\n");
    input.extend_from_slice(b"\xff\xfe\x00binary\x01\n");
    input.extend_from_slice(long.as_bytes());
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(FIREFOX.as_bytes());

    let output = run_with_stdin(&["parse-ua"], &input);
    assert_success(&output);
    let objects = json_lines(&output);
    assert_eq!(objects.len(), 5, "one object per input line");

    assert_eq!(objects[0]["browser"], "Firefox");

    let empty = &objects[1];
    assert_eq!(empty["user_agent"], "");
    assert!(empty["browser"].is_null());
    assert!(empty["platform"].is_null());

    let binary = objects[2]["user_agent"].as_str().unwrap();
    assert!(
        binary.contains('\u{fffd}'),
        "invalid UTF-8 is replaced: {binary:?}"
    );

    assert_eq!(objects[3]["user_agent"].as_str().unwrap().len(), long.len());

    assert_eq!(
        objects[4]["user_agent"], FIREFOX,
        "the last line needs no newline"
    );
    assert_eq!(objects[4]["browser"], "Firefox");
}

#[test]
fn lookup_ip_in_maxmind_database() {
    let mmdb = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/maxmind/GeoIP2-City-Test.mmdb"
    );
    let output = run(&["lookup-ip", "81.2.69.160", "--mmdb", mmdb]);
    assert_success(&output);
    let location = &json_lines(&output)[0];
    assert_eq!(location["city"], "London");
    assert_eq!(location["country"], "United Kingdom");
    assert_eq!(location["country_code"], "GB");
    assert!(location["data"].is_object());

    let unknown = run(&["lookup-ip", "10.0.0.1", "--mmdb", mmdb]);
    assert_success(&unknown);
    assert_eq!(stdout(&unknown).trim(), "null");
}

#[test]
fn lookup_ip_needs_a_source() {
    let output = run(&["lookup-ip", "81.2.69.160"]);
    assert!(!output.status.success());
}

#[test]
fn lookup_ip_missing_mmdb_file() {
    let folder = TempDir::new();
    let output = run(&[
        "lookup-ip",
        "81.2.69.160",
        "--mmdb",
        &folder.file("missing.mmdb"),
    ]);
    assert_error(&output, "missing.mmdb");
}

const IP2LOCATION_CSV: &str = "\"0\",\"16777215\",\"-\",\"-\",\"-\",\"-\"\n\
\"16777216\",\"16777471\",\"AU\",\"Australia\",\"Queensland\",\"Brisbane\"\n\
\"16777472\",\"4294967295\",\"-\",\"-\",\"-\",\"-\"\n";

#[test]
fn import_ip2location_then_lookup() {
    for database in TestDatabase::all() {
        let folder = TempDir::new();
        let csv = folder.file("db3.csv");
        std::fs::write(&csv, IP2LOCATION_CSV).unwrap();

        let output = run(&[
            "--database-url",
            database.url(),
            "import-ip2location",
            "--family",
            "v4",
            &csv,
        ]);
        assert_success(&output);
        assert!(
            stdout(&output).contains("imported 3 ranges"),
            "{}",
            stdout(&output)
        );

        let found = run(&["lookup-ip", "1.0.0.1", "--ip2location-url", database.url()]);
        assert_success(&found);
        let location = &json_lines(&found)[0];
        assert_eq!(location["city"], "Brisbane");
        assert_eq!(location["country_code"], "AU");

        let reserved = run(&["lookup-ip", "0.0.0.1", "--ip2location-url", database.url()]);
        assert_success(&reserved);
        assert_eq!(stdout(&reserved).trim(), "null");
    }
}

#[test]
fn missing_table_suggests_command() {
    for database in TestDatabase::all() {
        let listed = run(&[
            "--database-url",
            database.url(),
            "logins",
            "list",
            "--user-id",
            "1",
        ]);
        assert_error(&listed, "auth-tracker migrate");

        let looked_up = run(&["lookup-ip", "1.0.0.1", "--ip2location-url", database.url()]);
        assert_error(&looked_up, "auth-tracker import-ip2location");
    }
}

#[test]
fn import_ipv6_file_as_v4_names_option() {
    let database = TestDatabase::sqlite();
    let folder = TempDir::new();
    let csv = folder.file("db3-ipv6.csv");
    std::fs::write(
        &csv,
        "\"281470681743360\",\"281470698520575\",\"-\",\"-\",\"-\",\"-\"\n",
    )
    .unwrap();

    let output = run(&[
        "--database-url",
        database.url(),
        "import-ip2location",
        "--family",
        "v4",
        &csv,
    ]);

    assert_error(&output, "--family v6");
    assert!(!stderr(&output).contains("IpFamily"), "{}", stderr(&output));
}

#[test]
fn import_ip2location_bad_row_names_line() {
    let database = TestDatabase::sqlite();
    let folder = TempDir::new();
    let csv = folder.file("bad.csv");
    let bad = IP2LOCATION_CSV.replace("\"16777472\"", "\"not-a-number\"");
    std::fs::write(&csv, bad).unwrap();

    let output = run(&[
        "--database-url",
        database.url(),
        "import-ip2location",
        "--family",
        "v4",
        &csv,
    ]);
    assert_error(&output, "line 3");
    assert_error(&output, "bad.csv");
}

#[test]
fn import_ip2location_missing_file() {
    let database = TestDatabase::sqlite();
    let folder = TempDir::new();
    let csv = folder.file("missing.csv");
    let output = run(&[
        "--database-url",
        database.url(),
        "import-ip2location",
        "--family",
        "v6",
        &csv,
    ]);
    assert_error(&output, "missing.csv");
}

#[test]
fn lookup_ip_missing_ip2location_database() {
    let folder = TempDir::new();
    let path = folder.file("none.sqlite3");
    let output = run(&["lookup-ip", "1.0.0.1", "--ip2location-url", &path]);
    assert_error(&output, "not found");
    assert!(
        !Path::new(&path).exists(),
        "the lookup must not create the file"
    );
}

#[test]
fn logins_list_and_revoke() {
    for database in TestDatabase::all() {
        let url = database.url();
        migrate(url);
        let tracker = Tracker::connect(url).unwrap();
        let older = record_session(&tracker, "7", "81.2.69.160");
        let newer = record_session(&tracker, "7", "192.0.2.1");
        let token = record_token(&tracker, "7", "192.0.2.2");
        let stranger = record_session(&tracker, "8", "192.0.2.3");

        let listed = run(&[
            "--database-url",
            url,
            "logins",
            "list",
            "--user-id",
            "7",
            "--json",
        ]);
        assert_success(&listed);
        let ids: Vec<String> = json_lines(&listed)
            .iter()
            .map(|login| login["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            ids,
            [token.to_string(), newer.to_string(), older.to_string()],
            "newest activity first"
        );
        assert!(!stdout(&listed).contains("session_id"));

        let table = run(&["--database-url", url, "logins", "list", "--user-id", "7"]);
        assert_success(&table);
        let text = stdout(&table);
        assert!(text.starts_with("ID "), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("81.2.69.160"), "{text}");

        let one = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--id",
            &older.to_string(),
        ]);
        assert_success(&one);
        assert_eq!(stdout(&one).trim(), "revoked 1 logins");
        let revoked = block_on(tracker.find_login("logins", older, None))
            .unwrap()
            .unwrap();
        assert_eq!(revoked.revoke_reason.as_deref(), Some("administrator"));

        let foreign = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--id",
            &stranger.to_string(),
        ]);
        assert_error(&foreign, "not found");

        let unknown = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--id",
            &LoginId::new().to_string(),
        ]);
        assert_error(&unknown, "not found");

        let all = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--all",
        ]);
        assert_success(&all);
        assert_eq!(stdout(&all).trim(), "revoked 2 logins");

        let again = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--all",
        ]);
        assert_eq!(stdout(&again).trim(), "revoked 0 logins");

        let empty = run(&[
            "--database-url",
            url,
            "logins",
            "list",
            "--user-id",
            "7",
            "--json",
        ]);
        assert_success(&empty);
        assert_eq!(stdout(&empty), "");

        let others = run(&[
            "--database-url",
            url,
            "logins",
            "list",
            "--user-id",
            "8",
            "--json",
        ]);
        assert_eq!(
            json_lines(&others).len(),
            1,
            "other users' logins are untouched"
        );
    }
}

#[test]
fn logins_invalid_arguments() {
    let database = TestDatabase::sqlite();
    migrate(database.url());
    let url = database.url();

    let blank = run(&["--database-url", url, "logins", "list", "--user-id", " "]);
    assert_error(&blank, "invalid user id");

    let control = run(&["--database-url", url, "logins", "list", "--user-id", "7\n8"]);
    assert_error(&control, "invalid user id");

    let bad_id = run(&[
        "--database-url",
        url,
        "logins",
        "revoke",
        "--user-id",
        "7",
        "--id",
        "42",
    ]);
    assert_error(&bad_id, "invalid login id");

    let no_target = run(&["--database-url", url, "logins", "revoke", "--user-id", "7"]);
    assert!(!no_target.status.success());
}

#[test]
fn prune_deletes_old_rows_once() {
    for database in TestDatabase::all() {
        let url = database.url();
        migrate(url);
        let tracker = Tracker::connect(url).unwrap();
        let active = record_session(&tracker, "7", "192.0.2.1");
        let revoked_long_ago = record_session(&tracker, "7", "192.0.2.2");
        let expired_long_ago = record_session(&tracker, "7", "192.0.2.3");
        let revoked_recently = record_session(&tracker, "7", "192.0.2.4");
        let idle_long_ago = record_session(&tracker, "7", "192.0.2.5");
        let old_token = record_token(&tracker, "7", "192.0.2.6");

        database.execute(&format!(
            "UPDATE logins SET revoked_at = '2000-01-01 00:00:00', revoke_reason = 'logout' WHERE id = '{revoked_long_ago}';
             UPDATE logins SET expires_at = '2000-01-01 00:00:00' WHERE id = '{expired_long_ago}';
             UPDATE logins SET last_activity_at = '2000-01-01 00:00:00' WHERE id IN ('{idle_long_ago}', '{old_token}');
             UPDATE logins SET created_at = '2000-01-01 00:00:00' WHERE id IN ('{active}', '{old_token}');"
        ));
        let revoke = run(&[
            "--database-url",
            url,
            "logins",
            "revoke",
            "--user-id",
            "7",
            "--id",
            &revoked_recently.to_string(),
        ]);
        assert_success(&revoke);

        let args = [
            "--database-url",
            url,
            "prune",
            "--retention-days",
            "30",
            "--blank-ip-after-days",
            "90",
            "--batch-size",
            "2",
        ];
        let first = run(&args);
        assert_success(&first);
        assert_eq!(
            stdout(&first),
            "deleted 3 logins\nblanked the IP address of 2 logins\n"
        );

        let find = |id| block_on(tracker.find_login("logins", id, None)).unwrap();
        assert!(find(revoked_long_ago).is_none());
        assert!(find(expired_long_ago).is_none());
        assert!(find(idle_long_ago).is_none());
        assert_eq!(find(active).unwrap().ip_address, None);
        assert_eq!(find(old_token).unwrap().ip_address, None);
        let recent = find(revoked_recently).unwrap();
        assert_eq!(
            recent.ip_address.as_deref(),
            Some("192.0.2.4"),
            "recent rows keep their IP address"
        );

        let second = run(&args);
        assert_success(&second);
        assert_eq!(
            stdout(&second),
            "deleted 0 logins\nblanked the IP address of 0 logins\n"
        );
    }
}

#[test]
fn prune_rejects_zero_batch_size() {
    let database = TestDatabase::sqlite();
    let output = run(&[
        "--database-url",
        database.url(),
        "prune",
        "--retention-days",
        "30",
        "--batch-size",
        "0",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap rejects it: {}",
        stderr(&output)
    );
}

#[test]
fn help_describes_every_option() {
    for command in [
        &["migrate"][..],
        &["parse-ua"],
        &["lookup-ip"],
        &["import-ip2location"],
        &["logins", "list"],
        &["logins", "revoke"],
        &["prune"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let output = run(&args);
        assert_success(&output);
        let help = stdout(&output);
        assert!(help.contains("--database-url"), "{command:?}: {help}");
    }
    let prune = stdout(&run(&["prune", "--help"]));
    assert!(prune.contains("Days to keep"), "{prune}");
}

#[test]
fn non_sqlite_file_fails_at_once() {
    let directory = std::env::temp_dir().join(format!("auth-tracker-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("notes.txt");
    std::fs::write(
        &path,
        "these are not the pages of a SQLite database, just text\n".repeat(20),
    )
    .unwrap();

    let output = run(&["--database-url", path.to_str().unwrap(), "migrate"]);
    std::fs::remove_dir_all(&directory).unwrap();

    assert_error(&output, "cannot open the database");
    assert_error(&output, "file is not a database");
    // Without the first direct connection, the pool retried until its timeout.
    assert!(
        !stderr(&output).contains("timed out"),
        "{}",
        stderr(&output)
    );
}
