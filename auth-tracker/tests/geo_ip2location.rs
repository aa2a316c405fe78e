//! IP2Location LITE DB3 provider: CSV import and range lookups on every backend.
//!
//! The PostgreSQL tests need a server URL with the right to create databases in
//! `AUTH_TRACKER_POSTGRES_URL`, for example `postgres://postgres@127.0.0.1:5432/test`.
//! Each test creates its own database there and drops it at the end. The MySQL tests,
//! compiled with the `mysql` feature, need the same in `AUTH_TRACKER_MYSQL_URL`, for
//! example `mysql://root@127.0.0.1:3306/test`.
#![cfg(feature = "ip2location")]

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use auth_tracker::Location;
use auth_tracker::geo::GeoProvider;
use auth_tracker::geo::ip2location::{Ip2Location, Ip2LocationError, IpFamily};

/// Appends one CSV row in IP2Location's layout: every field quoted, numbers in decimal.
fn push_row(csv: &mut String, from: u128, to: u128, fields: [&str; 4]) {
    let [code, country, region, city] = fields;
    writeln!(
        csv,
        "\"{from}\",\"{to}\",\"{code}\",\"{country}\",\"{region}\",\"{city}\""
    )
    .unwrap();
}

fn v4(address: &str) -> u128 {
    u128::from(u32::from(address.parse::<Ipv4Addr>().unwrap()))
}

fn v6(address: &str) -> u128 {
    u128::from(address.parse::<Ipv6Addr>().unwrap())
}

fn ip(address: &str) -> IpAddr {
    address.parse().unwrap()
}

fn location(code: &str, country: &str, region: &str, city: &str) -> Location {
    Location {
        city: Some(city.to_owned()),
        region: Some(region.to_owned()),
        country: Some(country.to_owned()),
        country_code: Some(code.to_owned()),
        data: None,
    }
}

fn london() -> Location {
    location("GB", "United Kingdom", "England", "London")
}

/// IPv4 ranges: an all-unknown range, three adjacent ranges around 81.2.69.0/24, a gap,
/// and a partly known range that ends at 255.255.255.255.
fn v4_csv() -> String {
    let mut csv = String::new();
    push_row(&mut csv, v4("1.0.0.0"), v4("1.0.0.255"), ["-"; 4]);
    push_row(
        &mut csv,
        v4("81.2.68.0"),
        v4("81.2.68.255"),
        ["gb", "United Kingdom", "England", "Manchester"],
    );
    // IP2Location writes bare numbers like these.
    csv.push_str(
        "\"1359103232\",\"1359103487\",\"GB\",\"United Kingdom\",\"England\",\"London\"\n",
    );
    push_row(
        &mut csv,
        v4("81.2.70.0"),
        v4("81.2.70.255"),
        ["GB", "United Kingdom", "Scotland", "Edinburgh"],
    );
    push_row(
        &mut csv,
        v4("255.255.255.0"),
        v4("255.255.255.255"),
        ["US", "United States of America", "-", "-"],
    );
    csv
}

/// IPv6 ranges whose numbers have from 1 to 39 digits, so that a text comparison of
/// unpadded numbers would sort them wrongly.
fn v6_csv() -> String {
    let mut csv = String::new();
    push_row(&mut csv, 0, 255, ["-"; 4]);
    // Never read: IPv4-mapped addresses are looked up in the IPv4 table.
    push_row(
        &mut csv,
        v6("::ffff:0.0.0.0"),
        v6("::ffff:255.255.255.255"),
        ["XX", "Mapped range of the IPv6 table", "-", "-"],
    );
    push_row(
        &mut csv,
        v6("2001:db8::"),
        v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ["DE", "Germany", "Berlin", "Berlin"],
    );
    push_row(
        &mut csv,
        v6("2a00:1450::"),
        v6("2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff"),
        ["IE", "Ireland", "Dublin", "Dublin"],
    );
    push_row(
        &mut csv,
        v6("2a00:1451::"),
        v6("2a00:1451:ffff:ffff:ffff:ffff:ffff:ffff"),
        ["NL", "Netherlands", "North Holland", "Amsterdam"],
    );
    push_row(
        &mut csv,
        v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00"),
        u128::MAX,
        ["ZZ", "Top of the address space", "-", "-"],
    );
    csv
}

async fn locate(geo: &Ip2Location, address: &str) -> Option<Location> {
    geo.locate(ip(address))
        .await
        .unwrap_or_else(|error| panic!("lookup of {address} failed: {error}"))
}

async fn v4_boundaries(geo: Ip2Location) {
    let stats = geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();
    assert_eq!(stats.rows, 5);

    assert_eq!(locate(&geo, "81.2.69.0").await, Some(london()));
    assert_eq!(locate(&geo, "81.2.69.160").await, Some(london()));
    assert_eq!(locate(&geo, "81.2.69.255").await, Some(london()));

    let manchester = location("GB", "United Kingdom", "England", "Manchester");
    assert_eq!(locate(&geo, "81.2.68.0").await, Some(manchester.clone()));
    assert_eq!(locate(&geo, "81.2.68.255").await, Some(manchester));

    let edinburgh = location("GB", "United Kingdom", "Scotland", "Edinburgh");
    assert_eq!(locate(&geo, "81.2.70.0").await, Some(edinburgh.clone()));
    assert_eq!(locate(&geo, "81.2.70.255").await, Some(edinburgh));

    let united_states = Location {
        country: Some("United States of America".to_owned()),
        country_code: Some("US".to_owned()),
        ..Location::default()
    };
    assert_eq!(
        locate(&geo, "255.255.255.0").await,
        Some(united_states.clone())
    );
    assert_eq!(locate(&geo, "255.255.255.255").await, Some(united_states));
}

async fn v4_not_found(geo: Ip2Location) {
    geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();

    for address in [
        "0.0.0.0",
        "0.255.255.255",
        "81.2.67.255",
        "81.2.71.0",
        "255.255.254.255",
    ] {
        assert_eq!(
            locate(&geo, address).await,
            None,
            "{address} is in no range"
        );
    }
    for address in ["1.0.0.0", "1.0.0.128", "1.0.0.255"] {
        assert_eq!(
            locate(&geo, address).await,
            None,
            "{address} is in a range with only `-` fields"
        );
    }
}

async fn v6_boundaries(geo: Ip2Location) {
    let stats = geo.import_csv(v6_csv().as_bytes(), IpFamily::V6).unwrap();
    assert_eq!(stats.rows, 6);

    let germany = location("DE", "Germany", "Berlin", "Berlin");
    assert_eq!(locate(&geo, "2001:db8::").await, Some(germany.clone()));
    assert_eq!(
        locate(&geo, "2001:db8:1234::1").await,
        Some(germany.clone())
    );
    assert_eq!(
        locate(&geo, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff").await,
        Some(germany)
    );

    let ireland = location("IE", "Ireland", "Dublin", "Dublin");
    let netherlands = location("NL", "Netherlands", "North Holland", "Amsterdam");
    assert_eq!(
        locate(&geo, "2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff").await,
        Some(ireland)
    );
    assert_eq!(locate(&geo, "2a00:1451::").await, Some(netherlands));

    let top = Location {
        country: Some("Top of the address space".to_owned()),
        country_code: Some("ZZ".to_owned()),
        ..Location::default()
    };
    assert_eq!(
        locate(&geo, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00").await,
        Some(top.clone())
    );
    assert_eq!(
        locate(&geo, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").await,
        Some(top)
    );
}

async fn v6_not_found(geo: Ip2Location) {
    geo.import_csv(v6_csv().as_bytes(), IpFamily::V6).unwrap();

    for address in [
        "::1:0",
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
        "2a00:1452::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff",
    ] {
        assert_eq!(
            locate(&geo, address).await,
            None,
            "{address} is in no range"
        );
    }
    assert_eq!(locate(&geo, "::ff").await, None, "::ff has only `-` fields");
}

async fn mapped_v6_uses_v4_table(geo: Ip2Location) {
    geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();
    geo.import_csv(v6_csv().as_bytes(), IpFamily::V6).unwrap();

    assert_eq!(locate(&geo, "::ffff:81.2.69.160").await, Some(london()));
    assert_eq!(locate(&geo, "::ffff:81.2.71.0").await, None);
}

/// Bad files whose error is on line 3, after two valid rows.
fn bad_files() -> Vec<(&'static str, String, &'static str)> {
    let valid = "\"16777216\",\"16777471\",\"AU\",\"Australia\",\"Queensland\",\"Brisbane\"\n\
                 \"16777472\",\"16777727\",\"CN\",\"China\",\"Fujian\",\"Fuzhou\"\n";
    vec![
        (
            "5 fields",
            format!("{valid}\"16777728\",\"16778239\",\"CN\",\"China\",\"Guangdong\"\n"),
            "expected 6 fields",
        ),
        (
            "ip_from above ip_to",
            format!("{valid}\"16778239\",\"16777728\",\"CN\",\"China\",\"-\",\"-\"\n"),
            "ip_from 16778239 is greater than ip_to 16777728",
        ),
        (
            "non-numeric ip_to",
            format!("{valid}\"16777728\",\"1.0.7.255\",\"CN\",\"China\",\"-\",\"-\"\n"),
            "ip_to \"1.0.7.255\" is not a decimal number",
        ),
        (
            "IPv4 number above 32 bits",
            format!("{valid}\"16777728\",\"4294967296\",\"CN\",\"China\",\"-\",\"-\"\n"),
            "exceeds 4294967295",
        ),
        (
            "overlapping range",
            format!("{valid}\"16777600\",\"16778239\",\"CN\",\"China\",\"-\",\"-\"\n"),
            "overlaps or precedes the previous range",
        ),
    ]
}

async fn empty_file_keeps_old_rows(geo: Ip2Location) {
    geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();

    let error = geo
        .import_csv(&b""[..], IpFamily::V4)
        .expect_err("an empty file is rejected");

    assert!(
        matches!(error, Ip2LocationError::InvalidRow { line: 1, .. }),
        "expected an invalid row at line 1, got {error:?}"
    );
    assert_eq!(
        locate(&geo, "81.2.69.160").await,
        Some(london()),
        "the previous rows are kept"
    );
}

async fn bad_row_keeps_old_rows(geo: Ip2Location) {
    geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();

    for (case, csv, problem) in bad_files() {
        let error = geo
            .import_csv(csv.as_bytes(), IpFamily::V4)
            .expect_err(case);
        assert!(
            matches!(error, Ip2LocationError::InvalidRow { line: 3, .. }),
            "{case}: expected an invalid row at line 3, got {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("line 3"), "{case}: {message}");
        assert!(message.contains(problem), "{case}: {message}");

        assert_eq!(
            locate(&geo, "81.2.69.160").await,
            Some(london()),
            "{case}: the previous rows are kept"
        );
        assert_eq!(
            locate(&geo, "1.0.1.0").await,
            None,
            "{case}: no row of the bad file is kept"
        );
    }
}

async fn bad_v6_row_names_line(geo: Ip2Location) {
    let too_large = "340282366920938463463374607431768211456";
    let csv = format!(
        "{}\"0\",\"{too_large}\",\"-\",\"-\",\"-\",\"-\"\n",
        v6_csv()
    );

    let error = geo.import_csv(csv.as_bytes(), IpFamily::V6).unwrap_err();

    assert!(
        matches!(error, Ip2LocationError::InvalidRow { line: 7, .. }),
        "expected an invalid row at line 7, got {error:?}"
    );
    assert!(error.to_string().contains("exceeds 2^128-1"), "{error}");
}

async fn reimport_replaces_rows(geo: Ip2Location) {
    geo.import_csv(v4_csv().as_bytes(), IpFamily::V4).unwrap();
    let mut replacement = String::new();
    push_row(
        &mut replacement,
        v4("81.2.69.0"),
        v4("81.2.69.127"),
        ["FR", "France", "Ile-de-France", "Paris"],
    );

    let stats = geo
        .import_csv(replacement.as_bytes(), IpFamily::V4)
        .unwrap();

    assert_eq!(stats.rows, 1);
    let paris = location("FR", "France", "Ile-de-France", "Paris");
    assert_eq!(locate(&geo, "81.2.69.0").await, Some(paris));
    assert_eq!(locate(&geo, "81.2.69.128").await, None);
    assert_eq!(locate(&geo, "81.2.68.0").await, None);
}

async fn large_import_spans_batches(geo: Ip2Location) {
    let first = v4("10.0.0.0");
    let mut csv = String::new();
    for index in 0..2_000 {
        let from = first + index * 256;
        let city = format!("City {index}");
        push_row(
            &mut csv,
            from,
            from + 255,
            ["NZ", "New Zealand", "Auckland", &city],
        );
    }

    let stats = geo.import_csv(csv.as_bytes(), IpFamily::V4).unwrap();

    assert_eq!(stats.rows, 2_000);
    for index in [0_u32, 499, 500, 1_000, 1_999] {
        let from = Ipv4Addr::from(u32::try_from(first).unwrap() + index * 256);
        let to = Ipv4Addr::from(u32::from(from) + 255);
        let expected = location("NZ", "New Zealand", "Auckland", &format!("City {index}"));
        for address in [from, to] {
            assert_eq!(
                locate(&geo, &address.to_string()).await,
                Some(expected.clone()),
                "{address}"
            );
        }
    }
    let after_last = Ipv4Addr::from(u32::try_from(first).unwrap() + 2_000 * 256);
    assert_eq!(locate(&geo, &after_last.to_string()).await, None);
}

async fn empty_tables_find_nothing(geo: Ip2Location) {
    let missing = geo.locate(ip("81.2.69.160")).await;
    assert!(missing.is_err(), "lookup before the tables exist must fail");

    geo.create_tables().unwrap();
    geo.create_tables().unwrap();

    assert_eq!(locate(&geo, "81.2.69.160").await, None);
    assert_eq!(locate(&geo, "2001:db8::1").await, None);
}

async fn table_prefix_names_tables(geo: Ip2Location) {
    assert_eq!(geo.table_name(IpFamily::V4), "ip2location_db3_v4");
    assert_eq!(geo.table_name(IpFamily::V6), "ip2location_db3_v6");
    let custom = geo.clone().with_table_prefix("geo_custom").unwrap();
    assert_eq!(custom.table_name(IpFamily::V4), "geo_custom_v4");
    assert_eq!(custom.table_name(IpFamily::V6), "geo_custom_v6");

    custom
        .import_csv(v4_csv().as_bytes(), IpFamily::V4)
        .unwrap();

    assert_eq!(locate(&custom, "81.2.69.160").await, Some(london()));
    geo.create_tables().unwrap();
    assert_eq!(
        locate(&geo, "81.2.69.160").await,
        None,
        "the default tables are separate"
    );
    let error = geo.with_table_prefix("geo; DROP TABLE logins").unwrap_err();
    assert!(matches!(error, Ip2LocationError::InvalidTablePrefix(_)));
}

#[cfg(not(feature = "mysql"))]
#[test]
fn connect_rejects_mysql_without_feature() {
    let error = Ip2Location::connect("mysql://app@127.0.0.1/app").unwrap_err();
    assert!(matches!(error, Ip2LocationError::UnsupportedDatabase(_)));
}

/// Writes one test per scenario and backend, each on a fresh database.
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let database = super::SqliteFile::create();
                    let geo = auth_tracker::geo::ip2location::Ip2Location::connect(&database.path)
                        .unwrap();
                    super::$scenario(geo).await;
                }
            )*
        }

        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(database) = super::PgDatabase::create() else {
                        return;
                    };
                    let geo = auth_tracker::geo::ip2location::Ip2Location::connect(&database.url)
                        .unwrap();
                    super::$scenario(geo).await;
                }
            )*
        }

        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(database) = super::MysqlDatabase::create() else {
                        return;
                    };
                    let geo = auth_tracker::geo::ip2location::Ip2Location::connect(&database.url)
                        .unwrap();
                    super::$scenario(geo).await;
                }
            )*
        }
    };
}

on_every_backend!(
    v4_boundaries,
    v4_not_found,
    v6_boundaries,
    v6_not_found,
    mapped_v6_uses_v4_table,
    bad_row_keeps_old_rows,
    empty_file_keeps_old_rows,
    bad_v6_row_names_line,
    reimport_replaces_rows,
    large_import_spans_batches,
    empty_tables_find_nothing,
    table_prefix_names_tables,
);

/// A SQLite file in the temporary folder, deleted with its WAL files when dropped.
#[cfg(feature = "sqlite")]
struct SqliteFile {
    path: String,
}

#[cfg(feature = "sqlite")]
impl SqliteFile {
    fn create() -> Self {
        let name = format!("auth-tracker-ip2location-{}.sqlite3", uuid::Uuid::now_v7());
        let path = std::env::temp_dir().join(name);
        Self {
            path: path.to_str().expect("UTF-8 temporary path").to_owned(),
        }
    }
}

#[cfg(feature = "sqlite")]
impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path));
        }
    }
}

/// Environment variable with the URL of a PostgreSQL server on which the tests may
/// create databases.
#[cfg(feature = "postgres")]
const POSTGRES_URL_VAR: &str = "AUTH_TRACKER_POSTGRES_URL";

/// A PostgreSQL database created for one test and dropped with this value.
#[cfg(feature = "postgres")]
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

#[cfg(feature = "postgres")]
impl PgDatabase {
    /// Creates an empty database, or returns `None` after printing why the test is
    /// skipped when [`POSTGRES_URL_VAR`] is unset.
    fn create() -> Option<Self> {
        use diesel::{Connection, RunQueryDsl};

        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!(
                "SKIPPED: PostgreSQL IP2Location test, because {POSTGRES_URL_VAR} is not set. \
                 Set it to a server URL such as postgres://postgres@127.0.0.1:5432/test."
            );
            return None;
        };
        let name = format!("auth_tracker_ip2location_{}", uuid::Uuid::now_v7().simple());
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("failed to connect to {POSTGRES_URL_VAR}: {error}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

#[cfg(feature = "postgres")]
impl Drop for PgDatabase {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};

        if let Ok(mut admin) = diesel::PgConnection::establish(&self.admin_url) {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(drop).execute(&mut admin);
        }
    }
}

/// Environment variable with the URL of a MySQL or MariaDB server on which the tests
/// may create databases.
#[cfg(feature = "mysql")]
const MYSQL_URL_VAR: &str = "AUTH_TRACKER_MYSQL_URL";

/// A MySQL or MariaDB database created for one test and dropped with this value.
#[cfg(feature = "mysql")]
struct MysqlDatabase {
    admin_url: String,
    name: String,
    url: String,
}

#[cfg(feature = "mysql")]
impl MysqlDatabase {
    /// Creates an empty database, or returns `None` after printing why the test is
    /// skipped when [`MYSQL_URL_VAR`] is unset.
    fn create() -> Option<Self> {
        use diesel::{Connection, RunQueryDsl};

        let Ok(admin_url) = std::env::var(MYSQL_URL_VAR) else {
            eprintln!(
                "SKIPPED: MySQL IP2Location test, because {MYSQL_URL_VAR} is not set. \
                 Set it to a server URL such as mysql://root@127.0.0.1:3306/test."
            );
            return None;
        };
        let name = format!("auth_tracker_ip2location_{}", uuid::Uuid::now_v7().simple());
        let mut admin = diesel::MysqlConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("failed to connect to {MYSQL_URL_VAR}: {error}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error}"));
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
        use diesel::{Connection, RunQueryDsl};

        if let Ok(mut admin) = diesel::MysqlConnection::establish(&self.admin_url) {
            let drop = format!("DROP DATABASE IF EXISTS {}", self.name);
            let _ = diesel::sql_query(drop).execute(&mut admin);
        }
    }
}

/// Replaces the database name of a PostgreSQL or MySQL URL, keeping any query string.
#[cfg(any(feature = "postgres", feature = "mysql"))]
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
