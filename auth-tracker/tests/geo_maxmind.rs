//! The MaxMind provider against MaxMind's test databases and a generated IPinfo-layout file.
#![cfg(feature = "maxmind")]

use std::net::IpAddr;
use std::path::PathBuf;

use auth_tracker::geo::GeoProvider;
use auth_tracker::geo::maxmind::MaxMind;
use serde_json::json;

fn data_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/maxmind")
        .join(file)
}

fn city_db() -> MaxMind {
    MaxMind::open(data_path("GeoIP2-City-Test.mmdb")).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn city_db_locates_london() {
    let db = city_db();
    assert_eq!(db.database_type(), "GeoIP2-City");

    let location = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
    assert_eq!(location.city.as_deref(), Some("London"));
    assert_eq!(location.region.as_deref(), Some("England"));
    assert_eq!(location.country.as_deref(), Some("United Kingdom"));
    assert_eq!(location.country_code.as_deref(), Some("GB"));
    assert_eq!(
        location.data,
        Some(json!({
            "latitude": 51.5142,
            "longitude": -0.0931,
            "time_zone": "Europe/London",
            "accuracy_radius": 100,
        }))
    );
}

#[test]
fn city_db_locates_ipv6_city() {
    let location = city_db().lookup(ip("2001:480:10::1")).unwrap().unwrap();

    assert_eq!(location.city.as_deref(), Some("San Diego"));
    assert_eq!(location.region.as_deref(), Some("California"));
    assert_eq!(location.country.as_deref(), Some("United States"));
    assert_eq!(location.country_code.as_deref(), Some("US"));
    let data = location.data.unwrap();
    assert_eq!(data["time_zone"], "America/Los_Angeles");
    assert_eq!(data["accuracy_radius"], 20);
}

#[test]
fn city_db_locates_ipv6_country_only_network() {
    // 2001:218::/32 has a country and coordinates but no city in the test data.
    let location = city_db().lookup(ip("2001:218::1")).unwrap().unwrap();

    assert_eq!(location.city, None);
    assert_eq!(location.region, None);
    assert_eq!(location.country.as_deref(), Some("Japan"));
    assert_eq!(location.country_code.as_deref(), Some("JP"));
    assert_eq!(location.data.unwrap()["time_zone"], "Asia/Tokyo");
}

#[test]
fn address_not_in_db_is_none() {
    let db = city_db();

    assert_eq!(db.lookup(ip("1.1.1.1")).unwrap(), None);
    assert_eq!(db.lookup(ip("2606:4700::1111")).unwrap(), None);
}

#[test]
fn country_db_gives_country_only() {
    let db = MaxMind::open(data_path("GeoLite2-Country-Test.mmdb")).unwrap();
    assert_eq!(db.database_type(), "GeoLite2-Country");

    let location = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
    assert_eq!(location.city, None);
    assert_eq!(location.region, None);
    assert_eq!(location.country.as_deref(), Some("United Kingdom"));
    assert_eq!(location.country_code.as_deref(), Some("GB"));
    assert_eq!(location.data, None);

    let ipv6 = db.lookup(ip("2001:218::1")).unwrap().unwrap();
    assert_eq!(ipv6.country_code.as_deref(), Some("JP"));
}

#[test]
fn ipinfo_layout_gives_country() {
    let db = MaxMind::open(data_path("IPinfo-Lite-Layout-Test.mmdb")).unwrap();

    let location = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
    assert_eq!(location.city, None);
    assert_eq!(location.country.as_deref(), Some("United Kingdom"));
    assert_eq!(location.country_code.as_deref(), Some("GB"));
    assert_eq!(location.data, None);

    let ipv6 = db.lookup(ip("2001:db8::1")).unwrap().unwrap();
    assert_eq!(ipv6.country.as_deref(), Some("Japan"));
    assert_eq!(ipv6.country_code.as_deref(), Some("JP"));

    assert_eq!(db.lookup(ip("1.1.1.1")).unwrap(), None);
}

#[test]
fn from_bytes_matches_open() {
    let bytes = std::fs::read(data_path("GeoIP2-City-Test.mmdb")).unwrap();
    let db = MaxMind::from_bytes(bytes).unwrap();

    let location = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
    assert_eq!(
        location,
        city_db().lookup(ip("81.2.69.160")).unwrap().unwrap()
    );
}

#[tokio::test]
async fn locate_runs_lookup() {
    let db = city_db();

    let location = db.locate(ip("81.2.69.160")).await.unwrap().unwrap();
    assert_eq!(location.city.as_deref(), Some("London"));
    assert_eq!(db.locate(ip("1.1.1.1")).await.unwrap(), None);
}

#[test]
fn open_missing_path_names_path() {
    let path = data_path("no-such-database.mmdb");

    let error = MaxMind::open(&path).unwrap_err().to_string();
    assert!(
        error.contains(&path.display().to_string()),
        "error does not name the path: {error}"
    );
    assert!(
        error.contains("failed to read"),
        "unexpected error: {error}"
    );
}

#[test]
fn open_non_mmdb_file_fails() {
    let path = data_path("README.md");

    let error = MaxMind::open(&path).unwrap_err().to_string();
    assert!(
        error.contains(&path.display().to_string()),
        "error does not name the path: {error}"
    );
    assert!(
        error.contains("not a valid MaxMind DB"),
        "unexpected error: {error}"
    );
}

#[test]
fn from_bytes_rejects_garbage() {
    let error = MaxMind::from_bytes(b"not a database".to_vec())
        .unwrap_err()
        .to_string();

    assert!(
        error.contains("not a valid MaxMind DB"),
        "unexpected error: {error}"
    );
}

#[test]
fn debug_names_database_type() {
    let debug = format!("{:?}", city_db());

    assert!(debug.contains("GeoIP2-City"), "{debug}");
    assert!(debug.contains("GeoIP2-City-Test.mmdb"), "{debug}");
}
