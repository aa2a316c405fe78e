//! Geolocation from IP2Location LITE DB3 tables in the application's database.
//!
//! IP2Location LITE DB3 is a free CSV download that maps IP address ranges to a
//! country, region and city. [`Ip2Location::import_csv`] loads one file into a table,
//! and the provider then finds an address's range with one index seek per lookup.
//!
//! # Tables
//!
//! One table stores the IPv4 file (`IP2LOCATION-LITE-DB3.CSV`) and another the IPv6 file
//! (`IP2LOCATION-LITE-DB3.IPV6.CSV`). With the default prefix they are named
//! `ip2location_db3_v4` and `ip2location_db3_v6`, and both have these columns:
//!
//! | column | IPv4 table | IPv6 table |
//! |---|---|---|
//! | `ip_from` (primary key) | `BIGINT` (`INTEGER` on SQLite) | 39-digit text (`VARCHAR(39)` on MySQL) |
//! | `ip_to` | `BIGINT` (`INTEGER` on SQLite) | 39-digit text (`VARCHAR(39)` on MySQL) |
//! | `country_code`, `country_name`, `region_name`, `city_name` | text | text |
//!
//! IPv6 numbers go up to 2^128 - 1, beyond every backend's integer type, so they are
//! stored as decimal text zero-padded to 39 digits. Text of equal length in byte order
//! sorts like the numbers, so the primary key index serves the range search on every
//! backend. The columns compare bytes: on PostgreSQL through the `"C"` collation, and on
//! MySQL and MariaDB through `ascii_bin`. A `CHECK` constraint keeps every value at 39 characters.
//! The text columns contain the CSV fields unchanged, including `-` for unknown values.
//!
//! # Example
//!
//! ```no_run
//! use std::fs::File;
//! use std::io::BufReader;
//!
//! use auth_tracker::geo::GeoProvider;
//! use auth_tracker::geo::ip2location::{Ip2Location, IpFamily};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let geo = Ip2Location::connect("app.sqlite3")?;
//!
//! // Importing blocks while it writes millions of rows, so run it outside the async
//! // executor: at deployment, from a command-line tool, or in `spawn_blocking`.
//! let file = BufReader::new(File::open("IP2LOCATION-LITE-DB3.CSV")?);
//! let stats = geo.import_csv(file, IpFamily::V4)?;
//! println!("imported {} IPv4 ranges", stats.rows);
//! let file = BufReader::new(File::open("IP2LOCATION-LITE-DB3.IPV6.CSV")?);
//! geo.import_csv(file, IpFamily::V6)?;
//!
//! let location = geo.locate("81.2.69.160".parse()?).await?;
//! println!("{:?}", location.and_then(|location| location.city));
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::sync::Arc;

use super::{GeoError, GeoProvider, LocateFuture, Location};

/// Table name prefix used unless [`Ip2Location::with_table_prefix`] sets another.
pub const DEFAULT_TABLE_PREFIX: &str = "ip2location_db3";

/// Rows per `INSERT` statement during an import. Each row binds 6 parameters, so a
/// statement binds 3,000, well under SQLite's limit of 32,766 and the limit of 65,535 of
/// PostgreSQL and MySQL.
const BATCH_ROWS: usize = 500;

/// Width of an IPv6 number stored as text: 2^128 - 1 has 39 decimal digits.
const V6_DIGITS: usize = 39;

/// Maximum length of a table prefix, so that the names with `_v4` and `_v6` appended
/// stay within PostgreSQL's identifier limit of 63 bytes.
const MAX_PREFIX_LEN: usize = 60;

/// Address family of an IP2Location CSV file and of the table that stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpFamily {
    /// IPv4 ranges (`IP2LOCATION-LITE-DB3.CSV`), as 32-bit decimal numbers.
    V4,
    /// IPv6 ranges (`IP2LOCATION-LITE-DB3.IPV6.CSV`), as 128-bit decimal numbers.
    V6,
}

impl IpFamily {
    /// Largest IP number of the family.
    fn max_number(self) -> u128 {
        match self {
            Self::V4 => u128::from(u32::MAX),
            Self::V6 => u128::MAX,
        }
    }
}

/// Result of a successful [`Ip2Location::import_csv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportStats {
    /// Number of ranges now in the table.
    pub rows: u64,
}

/// Error of the IP2Location provider and its importer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Ip2LocationError {
    /// The table prefix is not a plain SQL identifier.
    #[error(
        "invalid IP2Location table prefix {0:?}: use 1 to 60 ASCII letters, digits or underscores, not starting with a digit"
    )]
    InvalidTablePrefix(String),

    /// A database URL names a backend that is not compiled in or not supported.
    #[error("unsupported database: {0}")]
    UnsupportedDatabase(&'static str),

    /// A CSV row is malformed. Nothing was imported and the table is unchanged.
    #[error("invalid IP2Location CSV at line {line}: {problem} (the table was left unchanged)")]
    InvalidRow {
        /// 1-based line number in the CSV file.
        line: u64,
        /// Description of the fault, such as the field count or the invalid value.
        problem: String,
    },

    /// The CSV file could not be read. Nothing was imported and the table is unchanged.
    #[error("failed to read the IP2Location CSV: {0} (the table was left unchanged)")]
    Csv(#[source] csv::Error),

    /// A query failed.
    #[error("IP2Location database query failed: {0}")]
    Database(#[from] diesel::result::Error),

    /// No pooled connection could be opened.
    #[error("IP2Location database connection failed: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),

    /// The database could not be opened: a missing folder, a refused connection, bad
    /// credentials.
    #[error("cannot open the IP2Location database {database}: {source}")]
    Connection {
        /// The SQLite path, or the URL with its password hidden.
        database: String,
        /// The database's own message.
        source: diesel::ConnectionError,
    },

    /// The blocking lookup task panicked or was cancelled.
    #[error("IP2Location lookup task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl From<crate::store::pools::OpenPoolError> for Ip2LocationError {
    fn from(error: crate::store::pools::OpenPoolError) -> Self {
        match error {
            crate::store::pools::OpenPoolError::Connection { database, source } => {
                Self::Connection { database, source }
            }
            crate::store::pools::OpenPoolError::Pool(error) => Self::Pool(error),
        }
    }
}

type Result<T, E = Ip2LocationError> = std::result::Result<T, E>;

/// Geolocation provider that reads IP2Location LITE DB3 tables from the application's
/// database. Cheap to clone: clones share the connection pool.
///
/// Lookups of IPv4 addresses and of IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
/// read the IPv4 table. Other IPv6 addresses read the IPv6 table.
#[derive(Clone)]
pub struct Ip2Location {
    store: Arc<dyn RangeStore>,
    tables: Arc<TableNames>,
}

#[derive(Debug)]
struct TableNames {
    v4: String,
    v6: String,
}

impl TableNames {
    fn with_prefix(prefix: &str) -> Result<Self> {
        let v4 = format!("{prefix}_v4");
        let valid = !prefix.is_empty()
            && prefix.len() <= MAX_PREFIX_LEN
            && crate::table::validate_table_name(&v4).is_ok();
        if !valid {
            return Err(Ip2LocationError::InvalidTablePrefix(prefix.to_owned()));
        }
        Ok(Self {
            v4,
            v6: format!("{prefix}_v6"),
        })
    }

    fn get(&self, family: IpFamily) -> &str {
        match family {
            IpFamily::V4 => &self.v4,
            IpFamily::V6 => &self.v6,
        }
    }
}

impl fmt::Debug for Ip2Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ip2Location")
            .field("store", &self.store)
            .field("v4_table", &self.tables.v4)
            .field("v6_table", &self.tables.v6)
            .finish()
    }
}

impl Ip2Location {
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    fn from_store(store: Arc<dyn RangeStore>) -> Self {
        let tables = TableNames::with_prefix(DEFAULT_TABLE_PREFIX)
            .expect("the default table prefix is a valid identifier");
        Self {
            store,
            tables: Arc::new(tables),
        }
    }

    /// Opens a pool of connections to a SQLite file, creating the file if needed.
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::Connection`] when the file cannot be opened.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite(path: &str) -> Result<Self> {
        let pool = crate::store::pools::sqlite_pool(path)?;
        Ok(Self::from_sqlite_pool(pool))
    }

    /// Uses an existing SQLite pool. Give it a `busy_timeout`, as [`Ip2Location::sqlite`]
    /// does, or lookups during an import fail with "database is locked".
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn from_sqlite_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::SqliteConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(SqliteRanges { pool }))
    }

    /// Opens a pool of connections to a PostgreSQL URL.
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::Connection`] when the server cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres(url: &str) -> Result<Self> {
        let pool = crate::store::pools::postgres_pool(url)?;
        Ok(Self::from_postgres_pool(pool))
    }

    /// Uses an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn from_postgres_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::PgConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(PgRanges { pool }))
    }

    /// Opens a pool of connections to a MySQL or MariaDB `mysql://` URL.
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::Connection`] when the server cannot be reached.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql(url: &str) -> Result<Self> {
        let pool = crate::store::pools::mysql_pool(url)?;
        Ok(Self::from_mysql_pool(pool))
    }

    /// Uses an existing MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn from_mysql_pool(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::MysqlConnection>>,
    ) -> Self {
        Self::from_store(Arc::new(MysqlRanges { pool }))
    }

    /// Opens the database a URL names: `postgres://` or `postgresql://` URLs open
    /// PostgreSQL, `mysql://` or `mariadb://` URLs open MySQL or MariaDB, and anything
    /// else is a SQLite path (`sqlite://` prefix optional).
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::UnsupportedDatabase`] when the backend is not compiled in, and
    /// [`Ip2LocationError::Pool`] when the database cannot be opened.
    pub fn connect(url: &str) -> Result<Self> {
        use crate::store::url::{DatabaseUrl, classify};

        match classify(url) {
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => Self::postgres(url),
            #[cfg(not(feature = "postgres"))]
            DatabaseUrl::Postgres(_) => Err(Ip2LocationError::UnsupportedDatabase(
                "PostgreSQL URLs need the `postgres` feature of auth-tracker",
            )),
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => Self::mysql(&url),
            #[cfg(not(feature = "mysql"))]
            DatabaseUrl::Mysql(_) => Err(Ip2LocationError::UnsupportedDatabase(
                "MySQL and MariaDB URLs need the `mysql` feature of auth-tracker",
            )),
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => Self::sqlite(path),
            #[cfg(not(feature = "sqlite"))]
            DatabaseUrl::Sqlite(_) => Err(Ip2LocationError::UnsupportedDatabase(
                "SQLite paths need the `sqlite` feature of auth-tracker",
            )),
        }
    }

    /// Names the tables `{prefix}_v4` and `{prefix}_v6` instead of the default
    /// `ip2location_db3_v4` and `ip2location_db3_v6`.
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::InvalidTablePrefix`] unless the prefix is 1 to 60 ASCII
    /// letters, digits or underscores, not starting with a digit.
    pub fn with_table_prefix(mut self, prefix: &str) -> Result<Self> {
        self.tables = Arc::new(TableNames::with_prefix(prefix)?);
        Ok(self)
    }

    /// Returns the name of the table that stores ranges of `family`.
    pub fn table_name(&self, family: IpFamily) -> &str {
        self.tables.get(family)
    }

    /// Creates both tables unless they exist. [`Ip2Location::import_csv`] creates its
    /// table itself, so this is only needed to look up addresses before any import.
    ///
    /// This call blocks on the database.
    ///
    /// # Errors
    ///
    /// A database error.
    pub fn create_tables(&self) -> Result<()> {
        self.store.create_table(&self.tables.v4, IpFamily::V4)?;
        self.store.create_table(&self.tables.v6, IpFamily::V6)
    }

    /// Replaces the rows of the `family` table with the ranges of an IP2Location LITE
    /// DB3 CSV file, creating the table if needed. Returns the number of rows imported.
    ///
    /// The file has no header row, and each row has 6 fields: `ip_from`, `ip_to`,
    /// `country_code`, `country_name`, `region_name` and `city_name`. Ranges must be
    /// sorted by `ip_from` and must not overlap, as IP2Location ships them, because each
    /// lookup reads only the range with the largest `ip_from` at or below the address.
    ///
    /// The import runs in one transaction: on any error the table keeps its previous
    /// rows. Lookups running meanwhile see the previous rows until the commit. This call
    /// blocks until the whole file is written, so call it from a blocking thread.
    ///
    /// NOTE: on SQLite the transaction holds the database's write lock for the whole
    /// import, so other writers to the same file, such as the tracker recording logins,
    /// wait and fail with "database is locked" after their `busy_timeout` (5 s with
    /// [`Ip2Location::sqlite`]). Import outside busy hours or into a separate file.
    ///
    /// # Errors
    ///
    /// [`Ip2LocationError::InvalidRow`] with the 1-based line number when a row does not
    /// have 6 fields, a number is not decimal or is out of range for the family,
    /// `ip_from` exceeds `ip_to`, or a range is out of order, and at line 1 when the file
    /// has no rows, so an empty download never empties the table. [`Ip2LocationError::Csv`]
    /// when reading fails, and a database error when writing fails.
    pub fn import_csv(&self, reader: impl Read, family: IpFamily) -> Result<ImportStats> {
        let mut ranges = RangeReader::new(Box::new(reader), family);
        let table = self.tables.get(family);
        let rows = self.store.replace(table, family, &mut ranges)?;
        tracing::info!(table, rows, "imported IP2Location ranges");
        Ok(ImportStats { rows })
    }

    /// Looks up one address on the calling thread, which blocks on the database.
    /// [`GeoProvider::locate`] runs the same lookup on a blocking thread.
    ///
    /// Returns `Ok(None)` when no range contains the address, and also when its range
    /// has `-` in all four location fields, as IP2Location marks reserved ranges.
    ///
    /// # Errors
    ///
    /// A database error, for example when the table does not exist.
    pub fn lookup(&self, ip: IpAddr) -> Result<Option<Location>> {
        let (family, key) = match crate::context::normalize_ip(ip) {
            IpAddr::V4(v4) => (IpFamily::V4, RangeKey::V4(i64::from(u32::from(v4)))),
            IpAddr::V6(v6) => (IpFamily::V6, RangeKey::V6(v6_text(u128::from(v6)))),
        };
        let row = self.store.find(self.tables.get(family), &key)?;
        Ok(row.and_then(RangeRow::into_location))
    }
}

impl GeoProvider for Ip2Location {
    fn locate(&self, ip: IpAddr) -> LocateFuture<'_> {
        let provider = self.clone();
        Box::pin(async move {
            let found = tokio::task::spawn_blocking(move || provider.lookup(ip))
                .await
                .map_err(Ip2LocationError::from)
                .and_then(|found| found);
            found.map_err(|error| GeoError::new(error.to_string()))
        })
    }
}

/// Formats an IPv6 number as the fixed-width text stored in the IPv6 table.
fn v6_text(number: u128) -> String {
    format!("{number:0width$}", width = V6_DIGITS)
}

/// Returns a field's value, or `None` for IP2Location's `-` placeholder or an empty field.
fn known(value: String) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "-" {
        None
    } else if trimmed.len() == value.len() {
        Some(value)
    } else {
        Some(trimmed.to_owned())
    }
}

/// Bound value of a lookup, in the type of the family's `ip_from` column.
#[derive(Debug)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
enum RangeKey {
    V4(i64),
    V6(String),
}

/// The range found by a lookup.
#[derive(Debug, diesel::QueryableByName)]
struct RangeRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    country_code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    country_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    region_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    city_name: String,
}

impl RangeRow {
    /// Converts the row, or returns `None` when every field is unknown.
    fn into_location(self) -> Option<Location> {
        let location = Location {
            city: known(self.city_name),
            region: known(self.region_name),
            country: known(self.country_name),
            country_code: known(self.country_code).map(|code| code.to_ascii_uppercase()),
            data: None,
        };
        (location != Location::default()).then_some(location)
    }
}

/// One validated CSV row.
#[derive(Debug)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) struct NewRange {
    pub(crate) ip_from: u128,
    pub(crate) ip_to: u128,
    pub(crate) country_code: String,
    pub(crate) country_name: String,
    pub(crate) region_name: String,
    pub(crate) city_name: String,
}

/// Reads and validates every row of a CSV file as [`Ip2Location::import_csv`] does,
/// without a database, and returns the rows.
pub(crate) fn read_all_ranges<'r>(
    reader: impl Read + 'r,
    family: IpFamily,
) -> Result<Vec<NewRange>> {
    let mut ranges = RangeReader::new(Box::new(reader), family);
    let mut all = Vec::new();
    let mut batch = Vec::new();
    loop {
        ranges.next_batch(&mut batch)?;
        if batch.is_empty() {
            return Ok(all);
        }
        all.append(&mut batch);
    }
}

/// Streams validated rows out of a CSV file, a batch at a time, so that a whole
/// IP2Location file never has to fit in memory.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
struct RangeReader<'r> {
    csv: csv::Reader<LineTracker<Box<dyn Read + 'r>>>,
    record: csv::StringRecord,
    family: IpFamily,
    previous_to: Option<u128>,
    rows: u64,
}

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
impl<'r> RangeReader<'r> {
    fn new(reader: Box<dyn Read + 'r>, family: IpFamily) -> Self {
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracker::new(reader));
        Self {
            csv,
            record: csv::StringRecord::new(),
            family,
            previous_to: None,
            rows: 0,
        }
    }

    /// Replaces the contents of `batch` with the next rows, up to [`BATCH_ROWS`].
    /// An empty batch means the file is finished.
    fn next_batch(&mut self, batch: &mut Vec<NewRange>) -> Result<()> {
        batch.clear();
        while batch.len() < BATCH_ROWS {
            let more = match self.csv.read_record(&mut self.record) {
                Ok(more) => more,
                Err(error) => return Err(self.csv_error(error)),
            };
            if !more {
                break;
            }
            let line = match self.record.position() {
                Some(position) => self.csv.get_mut().record_line(position),
                None => self.rows + 1,
            };
            let range = self
                .parse_record()
                .map_err(|problem| Ip2LocationError::InvalidRow { line, problem })?;
            self.previous_to = Some(range.ip_to);
            self.rows += 1;
            batch.push(range);
        }
        // An empty file is more likely a failed download than a wish to empty the table.
        if batch.is_empty() && self.rows == 0 {
            return Err(Ip2LocationError::InvalidRow {
                line: 1,
                problem: "the file has no rows".to_owned(),
            });
        }
        Ok(())
    }

    /// Turns a CSV error into an [`Ip2LocationError::InvalidRow`] when it points at a
    /// line, such as invalid UTF-8, and into [`Ip2LocationError::Csv`] otherwise.
    fn csv_error(&mut self, error: csv::Error) -> Ip2LocationError {
        match (error.kind(), error.position()) {
            (csv::ErrorKind::Utf8 { err, .. }, Some(position)) => Ip2LocationError::InvalidRow {
                line: self.csv.get_mut().record_line(position),
                problem: format!("field {} is not valid UTF-8", err.field() + 1),
            },
            _ => Ip2LocationError::Csv(error),
        }
    }

    fn parse_record(&self) -> Result<NewRange, String> {
        let record = &self.record;
        if record.len() != 6 {
            return Err(format!(
                "expected 6 fields (ip_from, ip_to, country_code, country_name, region_name, city_name), found {}",
                record.len()
            ));
        }
        let ip_from = parse_ip_number("ip_from", &record[0], self.family)?;
        let ip_to = parse_ip_number("ip_to", &record[1], self.family)?;
        if ip_from > ip_to {
            return Err(format!("ip_from {ip_from} is greater than ip_to {ip_to}"));
        }
        if let Some(previous_to) = self.previous_to
            && ip_from <= previous_to
        {
            return Err(format!(
                "range starting at {ip_from} overlaps or precedes the previous range, which ends at {previous_to}, but rows must be sorted by ip_from without overlaps"
            ));
        }
        Ok(NewRange {
            ip_from,
            ip_to,
            country_code: record[2].to_owned(),
            country_name: record[3].to_owned(),
            region_name: record[4].to_owned(),
            city_name: record[5].to_owned(),
        })
    }
}

/// Parses a decimal IP number and checks it against the family's range.
fn parse_ip_number(column: &str, text: &str, family: IpFamily) -> Result<u128, String> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("{column} {text:?} is not a decimal number"));
    }
    let too_large = || match family {
        IpFamily::V4 => format!(
            "{column} {text} exceeds {}, the largest IPv4 number, so this may be the IPv6 file, which imports as IpFamily::V6",
            u32::MAX
        ),
        IpFamily::V6 => format!("{column} {text} exceeds 2^128-1, the largest IPv6 number"),
    };
    let number: u128 = text.parse().map_err(|_| too_large())?;
    if number > family.max_number() {
        return Err(too_large());
    }
    Ok(number)
}

/// Input of the CSV reader that finds the line where a record starts.
///
/// The `csv` crate (1.4) gives each record the position where reading it began. With
/// `\r\n` line ends, that position is before the `\n` that ended the previous line,
/// because the reader consumes it with the next record. It is also before any blank
/// lines. So the line of that position can be short of the record's own, and the crate
/// also counts only `\n` as a line break. This reader counts `\r\n`, `\n` and a lone
/// `\r` as one line break each, as the CSV reader treats them, and notes the runs of `\r`
/// and `\n` bytes it passes on. [`record_line`](Self::record_line) then skips the run
/// that a record's position falls in, since only those bytes sit between the position
/// and the record.
struct LineTracker<R> {
    inner: R,
    /// Offset of the next byte to read.
    offset: u64,
    /// Line breaks read so far.
    breaks: u64,
    /// Whether the last byte read was `\r`, so that a `\n` after it ends no other line.
    after_cr: bool,
    /// Start offset of the run of `\r` and `\n` bytes at the end of the input read so far.
    open_run: Option<u64>,
    /// Finished runs of `\r` and `\n` bytes, oldest first, that end after the start of
    /// the last record looked up.
    runs: VecDeque<LineBreakRun>,
    /// Line after the last run that was dropped from `runs`.
    line_before_runs: u64,
}

/// A run of `\r` and `\n` bytes: its start and end offsets and the line after it.
#[derive(Clone, Copy, Debug)]
struct LineBreakRun {
    start: u64,
    end: u64,
    line_after: u64,
}

impl<R> LineTracker<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            breaks: 0,
            after_cr: false,
            open_run: None,
            runs: VecDeque::new(),
            line_before_runs: 1,
        }
    }

    /// Returns the 1-based line of the record whose reading began at `position`, and
    /// drops the runs before it. Positions must come in file order.
    fn record_line(&mut self, position: &csv::Position) -> u64 {
        let start = position.byte();
        while let Some(run) = self.runs.front().filter(|run| run.end <= start) {
            self.line_before_runs = run.line_after;
            self.runs.pop_front();
        }
        match self.runs.front() {
            Some(run) if run.start <= start => run.line_after,
            _ => self.line_before_runs,
        }
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            if byte == b'\r' || byte == b'\n' {
                self.open_run.get_or_insert(self.offset);
                if !(byte == b'\n' && self.after_cr) {
                    self.breaks += 1;
                }
            } else if let Some(start) = self.open_run.take() {
                self.runs.push_back(LineBreakRun {
                    start,
                    end: self.offset,
                    line_after: self.breaks + 1,
                });
            }
            self.after_cr = byte == b'\r';
            self.offset += 1;
        }
        Ok(read)
    }
}

/// Database operations of the provider. Implementations block.
trait RangeStore: Send + Sync + fmt::Debug + 'static {
    /// Creates a family's table unless it exists.
    fn create_table(&self, table: &str, family: IpFamily) -> Result<()>;

    /// Finds the range containing `key`.
    fn find(&self, table: &str, key: &RangeKey) -> Result<Option<RangeRow>>;

    /// Replaces the table's rows with those of `ranges` in one transaction and returns
    /// how many were inserted.
    fn replace(&self, table: &str, family: IpFamily, ranges: &mut RangeReader<'_>) -> Result<u64>;
}

/// Backend differences that reach the SQL text.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[derive(Clone, Copy, Debug)]
struct SqlDialect {
    /// Whether placeholders are numbered (`$1`), as PostgreSQL requires. SQLite and MySQL
    /// take `?`.
    numbered_placeholders: bool,
    /// Column type of IPv4 numbers.
    v4_type: &'static str,
    /// Column type of IPv6 numbers, with the collation that compares bytes.
    v6_type: &'static str,
    /// Column type of the four location columns.
    text_type: &'static str,
    /// Table options after the IPv6 table's column list.
    v6_table_options: &'static str,
    /// Whether `CREATE TABLE` can run inside a transaction. MySQL commits the open
    /// transaction before any `CREATE TABLE`, so the importer creates the table first.
    transactional_ddl: bool,
}

#[cfg(feature = "sqlite")]
const SQLITE: SqlDialect = SqlDialect {
    numbered_placeholders: false,
    // Exactly `INTEGER PRIMARY KEY` makes `ip_from` the rowid, so the table is its own
    // index.
    v4_type: "INTEGER",
    v6_type: "TEXT",
    text_type: "TEXT",
    // The table is stored in primary key order instead of beside a separate index.
    v6_table_options: " WITHOUT ROWID",
    transactional_ddl: true,
};

#[cfg(feature = "postgres")]
const POSTGRES: SqlDialect = SqlDialect {
    numbered_placeholders: true,
    v4_type: "BIGINT",
    v6_type: "TEXT COLLATE \"C\"",
    text_type: "TEXT",
    v6_table_options: "",
    transactional_ddl: true,
};

#[cfg(feature = "mysql")]
const MYSQL: SqlDialect = SqlDialect {
    numbered_placeholders: false,
    v4_type: "BIGINT",
    // A primary key needs a bounded length, so the type is VARCHAR(39) instead of TEXT.
    v6_type: "VARCHAR(39) CHARACTER SET ascii COLLATE ascii_bin",
    // Explicit, because the database's default character set may be latin1 on MariaDB.
    text_type: "TEXT CHARACTER SET utf8mb4",
    // InnoDB stores the table in primary key order.
    v6_table_options: "",
    transactional_ddl: false,
};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl SqlDialect {
    fn placeholder(&self, index: usize) -> String {
        if self.numbered_placeholders {
            format!("${index}")
        } else {
            "?".to_owned()
        }
    }

    fn create_table(&self, table: &str, family: IpFamily) -> String {
        let text_type = self.text_type;
        let (number_type, width_check, options) = match family {
            IpFamily::V4 => (self.v4_type, String::new(), ""),
            IpFamily::V6 => (
                self.v6_type,
                format!(", CHECK (length(ip_from) = {V6_DIGITS} AND length(ip_to) = {V6_DIGITS})"),
                self.v6_table_options,
            ),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             ip_from {number_type} NOT NULL PRIMARY KEY, \
             ip_to {number_type} NOT NULL, \
             country_code {text_type} NOT NULL, \
             country_name {text_type} NOT NULL, \
             region_name {text_type} NOT NULL, \
             city_name {text_type} NOT NULL, \
             CHECK (ip_from <= ip_to){width_check})\
             {options}"
        )
    }

    /// Binds: the address number twice.
    ///
    /// The inner query reads the one range with the largest `ip_from` at or below the
    /// address, which is a single seek on the primary key index. Putting `ip_to >= n`
    /// in the same `WHERE` clause instead would make an address between two ranges walk
    /// the index down through every lower range. The importer rejects overlapping
    /// ranges, so no other range can contain the address.
    fn find(&self, table: &str) -> String {
        format!(
            "SELECT country_code, country_name, region_name, city_name FROM (\
             SELECT ip_to, country_code, country_name, region_name, city_name FROM {table} \
             WHERE ip_from <= {} ORDER BY ip_from DESC LIMIT 1) AS candidate \
             WHERE ip_to >= {}",
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    fn delete_all(&self, table: &str) -> String {
        format!("DELETE FROM {table}")
    }

    /// Binds: 6 values per row, in column order.
    fn insert(&self, table: &str, rows: usize) -> String {
        let mut sql = format!(
            "INSERT INTO {table} \
             (ip_from, ip_to, country_code, country_name, region_name, city_name) VALUES "
        );
        let mut index = 0;
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            let placeholders: Vec<String> = (0..6)
                .map(|_| {
                    index += 1;
                    self.placeholder(index)
                })
                .collect();
            sql.push('(');
            sql.push_str(&placeholders.join(", "));
            sql.push(')');
        }
        sql
    }
}

/// Implements [`RangeStore`] for one Diesel backend over an r2d2 pool. A macro writes
/// it once for every backend, because Diesel's generic bounds over raw SQL queries grow
/// unreadable.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
macro_rules! diesel_range_store {
    (
        $(#[$meta:meta])*
        $store:ident,
        connection = $connection:ty,
        backend = $backend:ty,
        sql = $sql:expr,
        transaction = $transaction:ident $(,)?
    ) => {
        $(#[$meta])*
        struct $store {
            pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<$connection>>,
        }

        impl fmt::Debug for $store {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($store))
                    .field("connections", &self.pool.state().connections)
                    .finish()
            }
        }

        impl RangeStore for $store {
            fn create_table(&self, table: &str, family: IpFamily) -> Result<()> {
                use diesel::connection::SimpleConnection;

                let sql: SqlDialect = $sql;
                self.pool.get()?.batch_execute(&sql.create_table(table, family))?;
                Ok(())
            }

            fn find(&self, table: &str, key: &RangeKey) -> Result<Option<RangeRow>> {
                use diesel::prelude::*;
                use diesel::sql_types::{BigInt, Text};

                let sql: SqlDialect = $sql;
                let query = diesel::sql_query(sql.find(table)).into_boxed::<$backend>();
                let query = match key {
                    RangeKey::V4(number) => query
                        .bind::<BigInt, _>(*number)
                        .bind::<BigInt, _>(*number),
                    RangeKey::V6(text) => query
                        .bind::<Text, _>(text.as_str())
                        .bind::<Text, _>(text.as_str()),
                };
                let row = query
                    .get_result::<RangeRow>(&mut self.pool.get()?)
                    .optional()?;
                Ok(row)
            }

            fn replace(
                &self,
                table: &str,
                family: IpFamily,
                ranges: &mut RangeReader<'_>,
            ) -> Result<u64> {
                use diesel::connection::SimpleConnection;
                use diesel::prelude::*;
                use diesel::sql_types::{BigInt, Text};

                let sql: SqlDialect = $sql;
                let mut connection = self.pool.get()?;
                if !sql.transactional_ddl {
                    connection.batch_execute(&sql.create_table(table, family))?;
                }
                connection.$transaction(|connection| {
                    if sql.transactional_ddl {
                        connection.batch_execute(&sql.create_table(table, family))?;
                    }
                    diesel::sql_query(sql.delete_all(table)).execute(connection)?;

                    let mut batch = Vec::with_capacity(BATCH_ROWS);
                    let mut inserted = 0;
                    loop {
                        ranges.next_batch(&mut batch)?;
                        if batch.is_empty() {
                            break;
                        }
                        let mut query =
                            diesel::sql_query(sql.insert(table, batch.len())).into_boxed::<$backend>();
                        for range in &batch {
                            query = match family {
                                IpFamily::V4 => query
                                    .bind::<BigInt, _>(v4_column(range.ip_from))
                                    .bind::<BigInt, _>(v4_column(range.ip_to)),
                                IpFamily::V6 => query
                                    .bind::<Text, _>(v6_text(range.ip_from))
                                    .bind::<Text, _>(v6_text(range.ip_to)),
                            };
                            query = query
                                .bind::<Text, _>(range.country_code.as_str())
                                .bind::<Text, _>(range.country_name.as_str())
                                .bind::<Text, _>(range.region_name.as_str())
                                .bind::<Text, _>(range.city_name.as_str());
                        }
                        inserted += query.execute(connection)? as u64;
                    }
                    Ok(inserted)
                })
            }
        }
    };
}

/// Converts a validated IPv4 number, at most `u32::MAX`, to the `BIGINT` column type.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn v4_column(number: u128) -> i64 {
    i64::try_from(number).expect("IPv4 numbers are validated to fit in 32 bits")
}

#[cfg(feature = "sqlite")]
diesel_range_store! {
    /// IP2Location tables in SQLite.
    SqliteRanges,
    connection = diesel::SqliteConnection,
    backend = diesel::sqlite::Sqlite,
    sql = SQLITE,
    transaction = immediate_transaction,
}

#[cfg(feature = "postgres")]
diesel_range_store! {
    /// IP2Location tables in PostgreSQL.
    PgRanges,
    connection = diesel::PgConnection,
    backend = diesel::pg::Pg,
    sql = POSTGRES,
    transaction = transaction,
}

#[cfg(feature = "mysql")]
diesel_range_store! {
    /// IP2Location tables in MySQL or MariaDB.
    MysqlRanges,
    connection = diesel::MysqlConnection,
    backend = diesel::mysql::Mysql,
    sql = MYSQL,
    transaction = transaction,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(csv: &str, family: IpFamily) -> Result<Vec<NewRange>> {
        read_all_ranges(csv.as_bytes(), family)
    }

    #[test]
    fn v6_text_is_fixed_width() {
        assert_eq!(v6_text(0), "0".repeat(39));
        assert_eq!(v6_text(u128::MAX), u128::MAX.to_string());
        assert_eq!(v6_text(u128::MAX).len(), 39);
        assert!(v6_text(9) < v6_text(10));
    }

    #[test]
    fn reader_accepts_quoted_rows() {
        let csv = "\"0\",\"16777215\",\"-\",\"-\",\"-\",\"-\"\n\
                   \"16777216\",\"16777471\",\"au\",\"Australia\",\"Queensland\",\"Brisbane\"\n";
        let rows = parse_all(csv, IpFamily::V4).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].ip_from, 16_777_216);
        assert_eq!(rows[1].city_name, "Brisbane");
    }

    #[test]
    fn reader_rejects_v4_number_above_u32() {
        let error = parse_all(
            "\"0\",\"4294967296\",\"-\",\"-\",\"-\",\"-\"\n",
            IpFamily::V4,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("line 1"), "{error}");
        assert!(error.contains("4294967295"), "{error}");
    }

    #[test]
    fn empty_file_is_rejected() {
        for csv in ["", "\n\n", "\r\n"] {
            let error = parse_all(csv, IpFamily::V4).unwrap_err().to_string();
            assert!(
                error.contains("line 1: the file has no rows"),
                "{csv:?}: {error}"
            );
        }
    }

    #[test]
    fn reader_rejects_v6_number_above_u128() {
        let too_large = "340282366920938463463374607431768211456";
        let csv = format!("\"0\",\"{too_large}\",\"-\",\"-\",\"-\",\"-\"\n");
        let error = parse_all(&csv, IpFamily::V6).unwrap_err().to_string();
        assert!(error.contains("2^128-1"), "{error}");
    }

    #[test]
    fn reader_rejects_signs_and_spaces() {
        for number in ["+5", " 5", "-5", "5.0", ""] {
            let csv = format!("\"{number}\",\"10\",\"-\",\"-\",\"-\",\"-\"\n");
            let error = parse_all(&csv, IpFamily::V4).unwrap_err().to_string();
            assert!(
                error.contains("not a decimal number"),
                "{number:?}: {error}"
            );
        }
    }

    #[test]
    fn reader_rejects_unsorted_ranges() {
        let csv = "\"10\",\"20\",\"-\",\"-\",\"-\",\"-\"\n\"20\",\"30\",\"-\",\"-\",\"-\",\"-\"\n";
        let error = parse_all(csv, IpFamily::V4).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("overlaps"), "{error}");
    }

    /// Returns the line of the `InvalidRow` error of `csv`.
    fn error_line(csv: &[u8], family: IpFamily) -> u64 {
        match read_all_ranges(csv, family) {
            Err(Ip2LocationError::InvalidRow { line, .. }) => line,
            other => panic!("expected an invalid row, got {other:?}"),
        }
    }

    #[test]
    fn reader_names_line_of_crlf_rows() {
        let csv = "10,20,-,-,-,-\r\n30,40,-,-,-,-\r\n50,x,-,-,-,-\r\n";
        assert_eq!(error_line(csv.as_bytes(), IpFamily::V4), 3);
        let error = parse_all(csv, IpFamily::V4).unwrap_err().to_string();
        assert!(error.contains("line 3:"), "{error}");
    }

    #[test]
    fn reader_names_line_of_cr_rows() {
        let csv = "10,20,-,-,-,-\r30,40,-,-,-,-\r5,6,-,-,-,-\r";
        assert_eq!(error_line(csv.as_bytes(), IpFamily::V4), 3);
    }

    #[test]
    fn reader_names_line_after_blank_lines() {
        let lf = "\n\n10,20,-,-,-,-\n\n\n5,6,-,-,-,-\n";
        assert_eq!(error_line(lf.as_bytes(), IpFamily::V4), 6);
        let crlf = "\r\n10,20,-,-,-,-\r\n\r\n5,6,-,-,-,-\r\n";
        assert_eq!(error_line(crlf.as_bytes(), IpFamily::V4), 4);
    }

    #[test]
    fn reader_names_line_after_multiline_field() {
        let csv = "10,20,-,-,-,\"two\r\nlines\"\r\n30,40,-,-,\"a\nb\rc\",-\r\n5,6,-,-,-,-\r\n";
        assert_eq!(error_line(csv.as_bytes(), IpFamily::V4), 6);
    }

    #[test]
    fn reader_names_line_of_invalid_utf8_after_crlf() {
        let csv = b"10,20,-,-,-,-\r\n30,40,-,-,-,\"\xff\"\r\n";
        assert_eq!(error_line(csv, IpFamily::V4), 2);
        let error = read_all_ranges(&csv[..], IpFamily::V4)
            .unwrap_err()
            .to_string();
        assert!(error.contains("field 6 is not valid UTF-8"), "{error}");
    }

    #[test]
    fn known_maps_placeholder_to_none() {
        assert_eq!(known("-".to_owned()), None);
        assert_eq!(known(String::new()), None);
        assert_eq!(known("London".to_owned()), Some("London".to_owned()));
    }

    #[test]
    fn table_prefix_is_validated() {
        assert!(TableNames::with_prefix("geo").is_ok());
        assert!(TableNames::with_prefix(&"a".repeat(60)).is_ok());
        for prefix in [
            "",
            "1geo",
            "geo; DROP TABLE logins",
            "ge-o",
            &"a".repeat(61),
        ] {
            assert!(
                TableNames::with_prefix(prefix).is_err(),
                "{prefix:?} should be rejected"
            );
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_insert_numbers_placeholders() {
        let sql = POSTGRES.insert("ranges", 2);
        assert!(sql.ends_with("($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)"));
    }
}
