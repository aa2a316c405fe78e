//! Geolocation from local MaxMind DB (`.mmdb`) files.
//!
//! Lookups read a database loaded into memory, so no address leaves the machine. The
//! provider reads these layouts, chosen from the file's `database_type` metadata:
//!
//! - City layout (a type containing `City` or `Enterprise`): MaxMind GeoLite2-City and
//!   GeoIP2-City or Enterprise, and DB-IP's `dbip-city-lite` files, which use MaxMind's
//!   schema. It fills all four location columns.
//! - Country layout (a type containing `Country`): GeoLite2-Country, GeoIP2-Country and
//!   DB-IP's `dbip-country-lite`. It fills the country and country code only.
//! - IPinfo's flat layout (a type starting with `ipinfo`), as in IPinfo Lite: top-level
//!   `country` and `country_code` strings.
//!
//! Names are the English ones. Other database types, such as ASN or ISP databases, are
//! rejected when the file is opened.
//!
//! A lookup takes about 13 µs (mean of the ignored `lookup_timing` test, debug build, on a
//! 2-core machine), so [`GeoProvider::locate`] runs it inline instead of on a blocking
//! thread.
//!
//! # Example
//!
//! ```no_run
//! use auth_tracker::geo::maxmind::MaxMind;
//!
//! # fn example() -> Result<(), auth_tracker::geo::GeoError> {
//! let provider = MaxMind::open("/var/lib/GeoIP/GeoLite2-City.mmdb")?;
//! let location = provider.lookup("81.2.69.160".parse().unwrap())?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Reader, geoip2};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{GeoError, GeoProvider, LocateFuture, Location};

/// Geolocation provider on a MaxMind DB (`.mmdb`) file held in memory.
///
/// Open it with [`MaxMind::open`] or [`MaxMind::from_bytes`]. The `data` of each
/// [`Location`] carries `latitude`, `longitude`, `time_zone` and `accuracy_radius`
/// (kilometres) when the database has them.
pub struct MaxMind {
    reader: Reader<Vec<u8>>,
    layout: Layout,
    /// File path, or `<bytes>`, for error messages.
    source: String,
}

/// Record layout of a database, chosen from its `database_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    City,
    Country,
    IpInfo,
}

impl MaxMind {
    /// Opens a `.mmdb` file and loads it into memory.
    ///
    /// # Errors
    ///
    /// Fails, naming the path, when the file cannot be read, is not a MaxMind DB file,
    /// or contains an unsupported database type.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| {
            GeoError::new(format!("failed to read MaxMind database {source}: {error}"))
        })?;
        Self::from_source(bytes, source)
    }

    /// Loads a database from the bytes of a `.mmdb` file, such as one embedded with
    /// `include_bytes!` or downloaded at start-up.
    ///
    /// # Errors
    ///
    /// Fails when the bytes are not a MaxMind DB file or contain an unsupported
    /// database type.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, GeoError> {
        Self::from_source(bytes.into(), "<bytes>".to_owned())
    }

    fn from_source(bytes: Vec<u8>, source: String) -> Result<Self, GeoError> {
        let reader = Reader::from_source(bytes).map_err(|error| {
            GeoError::new(format!(
                "{source} is not a valid MaxMind DB (.mmdb) file: {error}"
            ))
        })?;
        let database_type = &reader.metadata().database_type;
        let layout = Layout::detect(database_type).ok_or_else(|| {
            GeoError::new(format!(
                "{source} contains an unsupported database type {database_type:?}: expected a \
                 City or Country database (GeoLite2, GeoIP2, DB-IP Lite) or IPinfo Lite"
            ))
        })?;
        Ok(Self {
            reader,
            layout,
            source,
        })
    }

    /// Returns the database type from the file's metadata, such as `GeoLite2-City`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Looks up one address synchronously.
    ///
    /// Returns `Ok(None)` when the database has no record for the address, or the
    /// record has no location fields. An IPv6 address in an IPv4-only database also
    /// returns `Ok(None)`.
    ///
    /// # Errors
    ///
    /// Fails when the record cannot be decoded, which means the file is corrupt or its
    /// layout does not match its `database_type`.
    pub fn lookup(&self, ip: IpAddr) -> Result<Option<Location>, GeoError> {
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None);
        }
        let result = self
            .reader
            .lookup(ip)
            .map_err(|error| self.lookup_error(ip, error))?;
        if !result.has_data() {
            return Ok(None);
        }

        let location = match self.layout {
            Layout::City => result
                .decode::<geoip2::City<'_>>()
                .map(|r| r.map(from_city)),
            Layout::Country => result
                .decode::<geoip2::Country<'_>>()
                .map(|r| r.map(from_country)),
            Layout::IpInfo => result
                .decode::<IpInfoRecord<'_>>()
                .map(|r| r.map(from_ipinfo)),
        }
        .map_err(|error| self.lookup_error(ip, error))?;

        Ok(location.filter(|location| *location != Location::default()))
    }

    fn lookup_error(&self, ip: IpAddr, error: maxminddb::MaxMindDbError) -> GeoError {
        GeoError::new(format!(
            "MaxMind lookup of {ip} in {} failed: {error}",
            self.source
        ))
    }
}

impl GeoProvider for MaxMind {
    fn locate(&self, ip: IpAddr) -> LocateFuture<'_> {
        let result = self.lookup(ip);
        Box::pin(async move { result })
    }
}

impl fmt::Debug for MaxMind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metadata = self.reader.metadata();
        f.debug_struct("MaxMind")
            .field("source", &self.source)
            .field("database_type", &metadata.database_type)
            .field("ip_version", &metadata.ip_version)
            .field("build_epoch", &metadata.build_epoch)
            .finish_non_exhaustive()
    }
}

impl Layout {
    fn detect(database_type: &str) -> Option<Self> {
        // NOTE: IPinfo's types are assumed to start with "ipinfo", as in
        // "ipinfo country_asn.mmdb". No real IPinfo file was checked.
        if database_type.to_ascii_lowercase().starts_with("ipinfo") {
            return Some(Self::IpInfo);
        }
        if database_type.contains("City") || database_type.contains("Enterprise") {
            return Some(Self::City);
        }
        if database_type.contains("Country") {
            return Some(Self::Country);
        }
        None
    }
}

fn from_city(record: geoip2::City<'_>) -> Location {
    let mut data = Map::new();
    let location = &record.location;
    insert_some(&mut data, "latitude", location.latitude);
    insert_some(&mut data, "longitude", location.longitude);
    insert_some(&mut data, "time_zone", location.time_zone);
    insert_some(&mut data, "accuracy_radius", location.accuracy_radius);

    // Subdivisions run from largest to smallest, so the first is the state or region.
    let region = record
        .subdivisions
        .first()
        .and_then(|subdivision| subdivision.names.english);

    Location {
        city: owned(record.city.names.english),
        region: owned(region),
        country: owned(record.country.names.english),
        country_code: owned(record.country.iso_code),
        data: (!data.is_empty()).then_some(Value::Object(data)),
    }
}

fn from_country(record: geoip2::Country<'_>) -> Location {
    Location {
        country: owned(record.country.names.english),
        country_code: owned(record.country.iso_code),
        ..Location::default()
    }
}

/// Record of IPinfo's flat layout.
///
/// IPinfo Lite has `country` (name) and `country_code`. The older IPinfo "country_asn"
/// database has `country` (code) and `country_name` instead.
// NOTE: the fields follow IPinfo's published schemas. The tests use a generated file in
// that layout, not a real IPinfo database.
#[derive(Deserialize)]
struct IpInfoRecord<'a> {
    #[serde(borrow, default)]
    country: Option<&'a str>,
    #[serde(default)]
    country_code: Option<&'a str>,
    #[serde(default)]
    country_name: Option<&'a str>,
    #[serde(default)]
    city: Option<&'a str>,
    #[serde(default)]
    region: Option<&'a str>,
    /// A number, or a decimal string in IPinfo's location databases.
    #[serde(default)]
    latitude: Option<Value>,
    #[serde(default)]
    longitude: Option<Value>,
    #[serde(default)]
    timezone: Option<&'a str>,
}

fn from_ipinfo(record: IpInfoRecord<'_>) -> Location {
    let (country, country_code) = match record.country_name {
        Some(name) => (Some(name), record.country),
        None => (record.country, record.country_code),
    };

    let mut data = Map::new();
    insert_some(&mut data, "latitude", record.latitude.and_then(coordinate));
    insert_some(
        &mut data,
        "longitude",
        record.longitude.and_then(coordinate),
    );
    insert_some(&mut data, "time_zone", record.timezone);

    Location {
        city: owned(record.city),
        region: owned(record.region),
        country: owned(country),
        country_code: owned(country_code),
        data: (!data.is_empty()).then_some(Value::Object(data)),
    }
}

/// Reads a coordinate stored as a number or as a decimal string.
fn coordinate(value: Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn insert_some(data: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        data.insert(key.to_owned(), value.into());
    }
}

fn owned(text: Option<&str>) -> Option<String> {
    text.filter(|text| !text.is_empty()).map(str::to_owned)
}
