//! Library tests of `Tracker::prune` on SQLite files, on PostgreSQL when
//! `AUTH_TRACKER_POSTGRES_URL` is set and the `postgres` feature is on, and on MySQL or
//! MariaDB when `AUTH_TRACKER_MYSQL_URL` is set and the `mysql` feature is on.
#![cfg(feature = "sqlite")]

use std::path::PathBuf;
use std::time::Duration;

use auth_tracker::agent::NoParser;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::{
    Enrichment, LoginId, Owner, PruneOptions, PruneReport, RequestContext, RevokeReason,
    RevokeScope, Tracker, TrackerConfig,
};
use diesel::Connection;
use diesel::connection::SimpleConnection;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const LONG_AGO: &str = "2000-01-01 00:00:00";
const ENRICHMENT: Enrichment = Enrichment {
    parser: &NoParser,
    ip_provider: ProviderChoice::None,
};

/// Returns whether `AUTH_TRACKER_REQUIRE_BACKENDS` lists `backend`, so a skip must fail.
fn required(backend: &str) -> bool {
    std::env::var("AUTH_TRACKER_REQUIRE_BACKENDS")
        .unwrap_or_default()
        .split(',')
        .any(|name| name.trim() == backend)
}

/// A migrated database for one test, removed or dropped afterwards.
struct Database {
    tracker: Tracker,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(PathBuf),
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    PgDatabase {
        admin_url: String,
        name: String,
    },
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    MysqlDatabase {
        admin_url: String,
        name: String,
    },
}

impl Database {
    async fn sqlite() -> Self {
        let folder =
            std::env::temp_dir().join(format!("auth-tracker-prune-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&folder).unwrap();
        let url = folder.join("logins.sqlite3").to_str().unwrap().to_owned();
        Self::open(url, Cleanup::Folder(folder)).await
    }

    #[cfg(feature = "postgres")]
    async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("AUTH_TRACKER_POSTGRES_URL") else {
            assert!(
                !required("postgres"),
                "AUTH_TRACKER_REQUIRE_BACKENDS requires postgres but AUTH_TRACKER_POSTGRES_URL is not set"
            );
            eprintln!(
                "\n*** SKIPPED: PostgreSQL prune tests, because AUTH_TRACKER_POSTGRES_URL is not set ***\n"
            );
            return None;
        };
        let name = format!("auth_tracker_prune_{}", uuid::Uuid::now_v7().simple());
        diesel::PgConnection::establish(&admin_url)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self::open(url, Cleanup::PgDatabase { admin_url, name }).await)
    }

    #[cfg(not(feature = "postgres"))]
    async fn postgres() -> Option<Self> {
        assert!(
            !required("postgres"),
            "AUTH_TRACKER_REQUIRE_BACKENDS requires postgres but the `postgres` feature is off"
        );
        eprintln!(
            "\n*** SKIPPED: PostgreSQL prune tests, because the `postgres` feature is off ***\n"
        );
        None
    }

    #[cfg(feature = "mysql")]
    async fn mysql() -> Option<Self> {
        let Ok(admin_url) = std::env::var("AUTH_TRACKER_MYSQL_URL") else {
            assert!(
                !required("mysql"),
                "AUTH_TRACKER_REQUIRE_BACKENDS requires mysql but AUTH_TRACKER_MYSQL_URL is not set"
            );
            eprintln!(
                "\n*** SKIPPED: MySQL prune tests, because AUTH_TRACKER_MYSQL_URL is not set ***\n"
            );
            return None;
        };
        let name = format!("auth_tracker_prune_{}", uuid::Uuid::now_v7().simple());
        diesel::MysqlConnection::establish(&admin_url)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self::open(url, Cleanup::MysqlDatabase { admin_url, name }).await)
    }

    // Without the feature the MySQL suite is not part of this build; CI runs it in a
    // second build with `--features auth-tracker-tests/mysql`, where it is required.
    #[cfg(not(feature = "mysql"))]
    async fn mysql() -> Option<Self> {
        eprintln!("\n*** SKIPPED: MySQL prune tests, because the `mysql` feature is off ***\n");
        None
    }

    async fn all() -> Vec<Self> {
        let mut databases = vec![Self::sqlite().await];
        databases.extend(Self::postgres().await);
        databases.extend(Self::mysql().await);
        databases
    }

    async fn open(url: String, cleanup: Cleanup) -> Self {
        let tracker = Tracker::connect(&url).unwrap();
        tracker.migrate().await.unwrap();
        Self {
            tracker,
            url,
            cleanup,
        }
    }

    fn execute(&self, sql: &str) {
        let result = match &self.cleanup {
            Cleanup::Folder(_) => diesel::SqliteConnection::establish(&self.url)
                .unwrap()
                .batch_execute(sql),
            #[cfg(feature = "postgres")]
            Cleanup::PgDatabase { .. } => diesel::PgConnection::establish(&self.url)
                .unwrap()
                .batch_execute(sql),
            #[cfg(not(feature = "postgres"))]
            Cleanup::PgDatabase { .. } => unreachable!(),
            #[cfg(feature = "mysql")]
            Cleanup::MysqlDatabase { .. } => diesel::MysqlConnection::establish(&self.url)
                .unwrap()
                .batch_execute(sql),
            #[cfg(not(feature = "mysql"))]
            Cleanup::MysqlDatabase { .. } => unreachable!(),
        };
        result.unwrap_or_else(|error| panic!("{sql} failed: {error}"));
    }

    async fn session(&self, user_id: &str) -> LoginId {
        let request = RequestContext::new(Some("192.0.2.1".parse().unwrap()), None);
        self.tracker
            .record_login(
                "logins",
                Owner::new("User", user_id),
                Some(LoginId::new().to_string()),
                ENRICHMENT,
                &request,
            )
            .await
            .unwrap()
            .id
    }

    async fn token(&self, user_id: &str) -> LoginId {
        let request = RequestContext::new(Some("192.0.2.1".parse().unwrap()), None);
        self.tracker
            .create_token(
                "logins",
                Owner::new("User", user_id),
                "ci",
                ENRICHMENT,
                &request,
            )
            .await
            .unwrap()
            .login
            .id
    }

    async fn exists(&self, id: LoginId) -> bool {
        self.tracker
            .find_login("logins", id, None)
            .await
            .unwrap()
            .is_some()
    }

    async fn ip_address(&self, id: LoginId) -> Option<String> {
        self.tracker
            .find_login("logins", id, None)
            .await
            .unwrap()
            .unwrap()
            .ip_address
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            #[cfg(feature = "postgres")]
            Cleanup::PgDatabase { admin_url, name } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            #[cfg(not(feature = "postgres"))]
            Cleanup::PgDatabase { .. } => {}
            #[cfg(feature = "mysql")]
            Cleanup::MysqlDatabase { admin_url, name } => {
                if let Ok(mut admin) = diesel::MysqlConnection::establish(admin_url) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
            #[cfg(not(feature = "mysql"))]
            Cleanup::MysqlDatabase { .. } => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_deletes_old_revoked_and_expired() {
    for database in Database::all().await {
        let active = database.session("1").await;
        let revoked_old = database.session("1").await;
        let expired_old = database.session("1").await;
        let revoked_new = database.session("1").await;
        database.execute(&format!(
            "UPDATE logins SET revoked_at = '{LONG_AGO}', revoke_reason = 'logout' WHERE id = '{revoked_old}';
             UPDATE logins SET expires_at = '{LONG_AGO}' WHERE id = '{expired_old}';"
        ));
        database
            .tracker
            .revoke(
                "logins",
                &Owner::new("User", "1"),
                RevokeScope::One(revoked_new),
                RevokeReason::Revoked,
                None,
            )
            .await
            .unwrap();

        let report = database
            .tracker
            .prune("logins", PruneOptions::new(30 * DAY))
            .await
            .unwrap();
        assert_eq!(report.deleted, 2);
        assert_eq!(report.ips_blanked, 0);
        assert!(database.exists(active).await);
        assert!(
            database.exists(revoked_new).await,
            "revoked within the retention period"
        );
        assert!(!database.exists(revoked_old).await);
        assert!(!database.exists(expired_old).await);

        let again = database
            .tracker
            .prune("logins", PruneOptions::new(30 * DAY))
            .await
            .unwrap();
        assert_eq!(again, PruneReport::default());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_zero_retention_deletes_every_revoked_row() {
    let database = Database::sqlite().await;
    let kept = database.session("1").await;
    let revoked = database.session("1").await;
    let owner = Owner::new("User", "1");
    database
        .tracker
        .revoke(
            "logins",
            &owner,
            RevokeScope::One(revoked),
            RevokeReason::Logout,
            None,
        )
        .await
        .unwrap();
    // Timestamps have microsecond precision, so wait past the revoke's timestamp.
    tokio::time::sleep(Duration::from_millis(5)).await;

    let report = database
        .tracker
        .prune("logins", PruneOptions::new(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(report.deleted, 1);
    assert!(database.exists(kept).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_idle_sessions_but_not_tokens() {
    let database = Database::sqlite().await;
    let idle = database.session("1").await;
    let remembered = database.session("1").await;
    let token = database.token("1").await;
    database.execute(&format!(
        "UPDATE logins SET last_activity_at = '{LONG_AGO}' WHERE id IN ('{idle}', '{remembered}', '{token}');
         UPDATE logins SET remember_selector = 'selector' WHERE id = '{remembered}';"
    ));

    let report = database
        .tracker
        .prune("logins", PruneOptions::new(DAY))
        .await
        .unwrap();
    assert_eq!(report.deleted, 1);
    assert!(!database.exists(idle).await);
    assert!(
        database.exists(remembered).await,
        "remembered logins do not idle out"
    );
    assert!(database.exists(token).await, "tokens do not idle out");
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_keeps_idle_sessions_without_idle_timeout() {
    let database = Database::sqlite().await;
    let mut config = TrackerConfig::default();
    config.idle_timeout = None;
    let tracker = database.tracker.clone().with_config(config);
    let idle = database.session("1").await;
    database.execute(&format!(
        "UPDATE logins SET last_activity_at = '{LONG_AGO}' WHERE id = '{idle}'"
    ));

    let report = tracker
        .prune("logins", PruneOptions::new(DAY))
        .await
        .unwrap();
    assert_eq!(report.deleted, 0);
    assert!(database.exists(idle).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_in_small_batches() {
    for database in Database::all().await {
        let mut ids = Vec::new();
        for _ in 0..7 {
            ids.push(database.session("1").await);
        }
        let kept = database.session("1").await;
        database.execute(&format!(
            "UPDATE logins SET revoked_at = '{LONG_AGO}', revoke_reason = 'logout', created_at = '{LONG_AGO}' WHERE id <> '{kept}'"
        ));
        database.execute(&format!(
            "UPDATE logins SET created_at = '{LONG_AGO}' WHERE id = '{kept}'"
        ));

        let options = PruneOptions::new(DAY)
            .with_batch_size(3)
            .with_blank_ip_after(DAY);
        let report = database.tracker.prune("logins", options).await.unwrap();
        assert_eq!(report.deleted, 7);
        assert_eq!(report.ips_blanked, 1);
        for id in ids {
            assert!(!database.exists(id).await);
        }
        assert_eq!(database.ip_address(kept).await, None);

        let again = database.tracker.prune("logins", options).await.unwrap();
        assert_eq!(again, PruneReport::default());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_blanks_ip_in_batches_across_many_rows() {
    let database = Database::sqlite().await;
    let mut old = Vec::new();
    for _ in 0..5 {
        old.push(database.session("1").await);
    }
    let recent = database.session("1").await;
    database.execute(&format!(
        "UPDATE logins SET created_at = '{LONG_AGO}' WHERE id <> '{recent}'"
    ));

    let options = PruneOptions::new(DAY)
        .with_batch_size(2)
        .with_blank_ip_after(30 * DAY);
    let report = database.tracker.prune("logins", options).await.unwrap();
    assert_eq!(report.ips_blanked, 5);
    assert_eq!(report.deleted, 0);
    for id in old {
        assert_eq!(database.ip_address(id).await, None);
    }
    assert_eq!(
        database.ip_address(recent).await.as_deref(),
        Some("192.0.2.1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_rejects_invalid_table_name() {
    let database = Database::sqlite().await;
    let error = database
        .tracker
        .prune("logins; DROP TABLE users", PruneOptions::new(DAY))
        .await
        .unwrap_err();
    assert!(
        matches!(error, auth_tracker::Error::InvalidTableName(_)),
        "{error}"
    );
}

#[test]
fn prune_options_defaults() {
    let options = PruneOptions::new(DAY);
    assert_eq!(options.retention, DAY);
    assert_eq!(options.batch_size, 1_000);
    assert_eq!(options.blank_ip_after, None);
}
