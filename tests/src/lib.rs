//! Shared harness of the workspace tests: the demo on a loopback port, browser-like
//! HTTP clients, and throwaway PostgreSQL and MySQL databases and Redis connections.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

#[cfg(feature = "mysql")]
use diesel::MysqlConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};

mod log_buffer;
mod pg_server;
pub mod user_agents;

pub use log_buffer::LogBuffer;
pub use pg_server::RestartablePgServer;

/// Environment variable naming a PostgreSQL server URL with rights to create databases,
/// such as `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_VAR: &str = "AUTH_TRACKER_POSTGRES_URL";

/// Environment variable naming a MySQL or MariaDB server URL with rights to create
/// databases, such as `mysql://root@127.0.0.1:3306/test`.
pub const MYSQL_URL_VAR: &str = "AUTH_TRACKER_MYSQL_URL";

/// Environment variable naming a Redis server URL, such as `redis://127.0.0.1:6379`.
pub const REDIS_URL_VAR: &str = "AUTH_TRACKER_REDIS_URL";

/// Environment variable listing backend suites (`postgres`, `mysql`, `redis`) that must not be
/// skipped: a run without their server fails instead.
pub const REQUIRED_BACKENDS_VAR: &str = "AUTH_TRACKER_REQUIRE_BACKENDS";

/// Reports a skipped backend suite on the real stderr, past the test harness's output
/// capture, and fails instead when the backend is required.
pub fn skip_backend(backend: &str, reason: &str) {
    let required = std::env::var(REQUIRED_BACKENDS_VAR)
        .unwrap_or_default()
        .split(',')
        .any(|name| name.trim() == backend);
    assert!(
        !required,
        "the {backend} suite is required by {REQUIRED_BACKENDS_VAR} but cannot run: {reason}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {backend} suite not run: {reason} ***\n"
    );
}

/// A PostgreSQL database created for one test and dropped when this value is.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl PgDatabase {
    /// Creates an empty database on the server named by [`POSTGRES_URL_VAR`]. When the
    /// variable is unset, it uses a throwaway server that this test process starts from
    /// the installed PostgreSQL binaries on first use. Returns `None` after reporting the
    /// skip when neither is available.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or rejects creating the database, or when the
    /// throwaway server fails to start.
    pub fn create() -> Option<Self> {
        let admin_url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) => url,
            Err(_) => match pg_server::shared_server() {
                Ok(server) => server.admin_url.clone(),
                Err(reason) => {
                    skip_backend(
                        "postgres",
                        &format!("{POSTGRES_URL_VAR} is not set and {reason}"),
                    );
                    return None;
                }
            },
        };
        Some(Self::create_on(admin_url))
    }

    /// Creates an empty database through `admin_url`, a URL with rights to create databases.
    fn create_on(admin_url: String) -> Self {
        let name = format!("auth_tracker_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
            panic!("failed to connect to the PostgreSQL server at {admin_url}: {error}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// A MySQL or MariaDB database created for one test and dropped when this value is.
#[cfg(feature = "mysql")]
#[derive(Debug)]
pub struct MysqlDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

#[cfg(feature = "mysql")]
impl MysqlDatabase {
    /// Creates an empty database on the server named by [`MYSQL_URL_VAR`]. Returns `None`
    /// after reporting the skip when the variable is unset.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or rejects creating the database.
    pub fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var(MYSQL_URL_VAR) else {
            skip_backend("mysql", &format!("{MYSQL_URL_VAR} is not set"));
            return None;
        };
        let name = format!("auth_tracker_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = MysqlConnection::establish(&admin_url).unwrap_or_else(|error| {
            panic!("failed to connect to the MySQL server at {admin_url}: {error}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

#[cfg(feature = "mysql")]
impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = MysqlConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", self.name))
                .execute(&mut admin);
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

/// The demo served on a loopback port for the duration of a test.
#[derive(Debug)]
pub struct Demo {
    /// Base URL, such as `http://127.0.0.1:41234`.
    pub base_url: String,
    /// Database URL or SQLite path the demo runs on.
    pub database: String,
    _directory: Option<tempfile::TempDir>,
}

impl Demo {
    /// Starts the demo on a fresh SQLite file in a temporary folder.
    pub async fn start_sqlite() -> Self {
        Self::start_sqlite_with(security_page::demo_config()).await
    }

    /// Starts the demo on a fresh SQLite file with other tracker settings.
    pub async fn start_sqlite_with(config: auth_tracker::TrackerConfig) -> Self {
        let directory = tempfile::tempdir().expect("temporary folder");
        let database = directory.path().join("security-page.sqlite3");
        let mut demo = Self::start_with(database.to_str().expect("UTF-8 path"), config).await;
        demo._directory = Some(directory);
        demo
    }

    /// Starts the demo on a database URL.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, security_page::demo_config()).await
    }

    /// Starts the demo on a database URL with other tracker settings.
    pub async fn start_with(database_url: &str, config: auth_tracker::TrackerConfig) -> Self {
        let mut settings = security_page::Settings::new(database_url);
        settings.tracker = config;
        Self::start_with_settings(settings).await
    }

    /// Starts the demo with full settings: proxies, geolocation and tracker settings.
    pub async fn start_with_settings(settings: security_page::Settings) -> Self {
        let database_url = settings.database_url.clone();
        let database_url = database_url.as_str();
        let router = security_page::build_with(settings)
            .await
            .expect("demo builds");
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("loopback port");
        let address = listener.local_addr().expect("bound address");
        tokio::spawn(security_page::serve(listener, router));
        Self {
            base_url: format!("http://{address}"),
            database: database_url.to_owned(),
            _directory: None,
        }
    }

    /// Returns the absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Creates a client that keeps cookies like a browser, sends `user_agent`, and does
    /// not follow redirects so tests can check them.
    pub fn browser(&self, user_agent: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client")
    }

    /// Signs `client` in and returns the response to the form post.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("POST /login")
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replace_database_keeps_authority_and_query() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "fresh"),
            "postgres://postgres@127.0.0.1:5432/fresh"
        );
        assert_eq!(
            replace_database("postgres://u:p@host/test?sslmode=disable", "fresh"),
            "postgres://u:p@host/fresh?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://host", "fresh"),
            "postgres://host/fresh"
        );
    }
}
