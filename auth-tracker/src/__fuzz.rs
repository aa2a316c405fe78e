//! Parsers of untrusted input that are private to the crate, exposed for the fuzz targets
//! in the repository's `fuzz/` folder. Not a public API: they may change in any release.

use crate::model::LoginId;

/// Splits a presented API token, `<login id>|<secret>`, as the bearer token check does
/// before any database lookup. Returns `None` for a malformed token.
pub fn parse_token(token: &str) -> Option<(LoginId, &str)> {
    crate::secret::parse_token(token)
}

/// Cuts `text` to at most `max_bytes` bytes on a char boundary, as the tracker cuts the
/// stored `User-Agent` to [`TrackerConfig::max_user_agent_bytes`](crate::TrackerConfig).
pub fn truncate_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    crate::context::truncate_on_char_boundary(text, max_bytes)
}

/// Remember-me cookie value that parsed as `selector:verifier`.
#[cfg(feature = "axum")]
#[derive(Debug)]
pub struct RememberParts {
    /// The selector, which the tracker looks up in the `logins` table.
    pub selector: String,
    /// The value the token writes back into the cookie, `selector:verifier`.
    pub cookie_value: String,
}

/// Parses a remember-me cookie value as the axum layer does before any database lookup.
/// Returns `None` for a malformed value.
#[cfg(feature = "axum")]
pub fn parse_remember_cookie(value: &str) -> Option<RememberParts> {
    let token = crate::secret::RememberToken::parse(value)?;
    Some(RememberParts {
        cookie_value: token.cookie_value(),
        selector: token.selector,
    })
}

/// Returns the credentials of an `Authorization: Bearer` header, as the axum layer reads
/// them.
#[cfg(feature = "axum")]
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    crate::axum::bearer_token(headers)
}

/// Returns the value of the cookie `name` from the `Cookie` headers, as the axum layer
/// reads the remember-me cookie.
#[cfg(feature = "axum")]
pub fn read_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    crate::axum::read_cookie(headers, name)
}

/// Builds the request context (client IP, `User-Agent` and Client Hints) of a request, as
/// the axum layer does before it records or checks a login.
#[cfg(feature = "axum")]
pub fn request_context(
    request: &axum::extract::Request,
    client_ip: &crate::client_ip::ClientIpConfig,
) -> crate::RequestContext {
    crate::axum::request_context(request, client_ip)
}

/// One validated row of an IP2Location CSV file.
#[cfg(feature = "ip2location")]
#[derive(Debug)]
pub struct Ip2LocationRow {
    /// First IP number of the range.
    pub ip_from: u128,
    /// Last IP number of the range.
    pub ip_to: u128,
    /// The four location fields as written: country code, country name, region, city.
    pub fields: [String; 4],
}

/// Reads and validates every row of an IP2Location CSV file as
/// [`Ip2Location::import_csv`](crate::geo::ip2location::Ip2Location::import_csv) does,
/// without a database.
///
/// # Errors
///
/// The importer's error for the first invalid row.
#[cfg(feature = "ip2location")]
pub fn read_ip2location_csv(
    csv: &[u8],
    family: crate::geo::ip2location::IpFamily,
) -> Result<Vec<Ip2LocationRow>, crate::geo::ip2location::Ip2LocationError> {
    let rows = crate::geo::ip2location::read_all_ranges(csv, family)?;
    Ok(rows
        .into_iter()
        .map(|row| Ip2LocationRow {
            ip_from: row.ip_from,
            ip_to: row.ip_to,
            fields: [
                row.country_code,
                row.country_name,
                row.region_name,
                row.city_name,
            ],
        })
        .collect())
}
