//! Geolocation through the ip-api.com JSON API.
//!
//! # Privacy
//!
//! This provider sends each client IP address to ip-api.com, a third party. Without an
//! API key it uses the free endpoint `http://ip-api.com`, which has no HTTPS, so the
//! addresses also cross the network in plain text. That is why lookups are off by
//! default and why this provider is an explicit choice. Prefer an API key, which
//! switches to `https://pro.ip-api.com`, or a local database such as the `maxmind`
//! provider, which sends nothing anywhere.
//!
//! # Limits
//!
//! The free endpoint accepts 45 requests per minute from one server address and returns
//! HTTP 429 past that. Each response carries `X-Rl` (requests left in the window) and
//! `X-Ttl` (seconds until the window resets). When `X-Rl` reaches 0, or a request is
//! rejected with 429, this provider sends nothing more until the window resets and
//! fails those lookups at once, because ip-api bans addresses that keep sending.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use auth_tracker::geo::ip_api::IpApi;
//!
//! # fn example() -> Result<(), auth_tracker::geo::GeoError> {
//! // HTTPS with a key (recommended).
//! let provider = IpApi::builder()
//!     .key(std::env::var("IP_API_KEY").unwrap())
//!     .timeout(Duration::from_millis(800))
//!     .build()?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{GeoError, GeoProvider, LocateFuture, Location};

/// Free endpoint, used when no key is set. It is HTTP only.
pub const FREE_BASE_URL: &str = "http://ip-api.com";

/// Paid endpoint, used when a key is set.
pub const PRO_BASE_URL: &str = "https://pro.ip-api.com";

/// Default limit on one whole request, from connecting to the end of the body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Response fields requested from ip-api, as the comma-separated names that its
/// `fields` parameter accepts. `status` and `message` tell a failed lookup apart from
/// an address with no data.
pub const FIELDS: &str = "status,message,country,countryCode,regionName,city,lat,lon,timezone,isp";

/// Largest response body read. A real response is a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Pause after an HTTP 429 that carries no `X-Ttl` header, because ip-api's rate limit
/// window is one minute.
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(60);

/// Geolocation provider on the ip-api.com JSON API.
///
/// Build it with [`IpApi::builder`]. Each lookup is one `GET {base}/json/{ip}` with a
/// total timeout (see [`IpApiBuilder::timeout`]). IPv4 and IPv6 addresses are both
/// supported. The `Debug` output never shows the API key.
pub struct IpApi {
    client: reqwest::Client,
    base_url: Url,
    key: Option<String>,
    lang: Option<String>,
    timeout: Duration,
    /// End of the current rate limit window once ip-api reported no requests left.
    paused_until: Mutex<Option<Instant>>,
}

impl IpApi {
    /// Starts the configuration of a provider: no key, the free HTTP endpoint, and a
    /// 1 s timeout.
    pub fn builder() -> IpApiBuilder {
        IpApiBuilder {
            base_url: None,
            key: None,
            lang: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Returns the base URL that requests go to.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// Looks up one address, as [`GeoProvider::locate`] does.
    ///
    /// Returns `Ok(None)` when ip-api reports a private or reserved range, or returns
    /// no location fields at all.
    ///
    /// # Errors
    ///
    /// Fails when the rate limit is reached, the request fails or times out, the
    /// status is not 2xx, the body is not ip-api's JSON, or ip-api reports any other
    /// failure (such as `invalid query`).
    pub async fn lookup(&self, ip: IpAddr) -> Result<Option<Location>, GeoError> {
        self.check_rate_limit(ip)?;

        let url = self.request_url(ip);
        let result = self.client.get(url).timeout(self.timeout).send().await;
        let mut response = result.map_err(|error| self.request_error(ip, error))?;

        let status = response.status();
        let headers = response.headers().clone();
        self.record_rate_limit(&headers, status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(rate_limit_error(ip, &headers));
        }
        if !status.is_success() {
            return Err(GeoError::new(format!(
                "ip-api lookup of {ip} failed: the server returned HTTP {status}"
            )));
        }

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.request_error(ip, error))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(GeoError::new(format!(
                    "ip-api lookup of {ip} failed: the response is larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }

        let parsed: ApiResponse = serde_json::from_slice(&body).map_err(|error| {
            GeoError::new(format!(
                "ip-api lookup of {ip} failed: the response is not valid ip-api JSON: {error}"
            ))
        })?;
        parsed.into_location(ip)
    }

    fn request_url(&self, ip: IpAddr) -> Url {
        let mut url = self.base_url.clone();
        // The builder rejects base URLs that cannot have a path, so this always runs.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("json").push(&ip.to_string());
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("fields", FIELDS);
            if let Some(lang) = &self.lang {
                query.append_pair("lang", lang);
            }
            if let Some(key) = &self.key {
                query.append_pair("key", key);
            }
        }
        url
    }

    /// Converts a reqwest error without its URL, because the URL carries the API key.
    fn request_error(&self, ip: IpAddr, error: reqwest::Error) -> GeoError {
        if error.is_timeout() {
            return GeoError::new(format!(
                "ip-api lookup of {ip} timed out after {} ms",
                self.timeout.as_millis()
            ));
        }
        let error = error.without_url();
        GeoError::new(format!("ip-api lookup of {ip} failed: {error}"))
    }

    fn check_rate_limit(&self, ip: IpAddr) -> Result<(), GeoError> {
        let mut paused_until = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        let Some(until) = *paused_until else {
            return Ok(());
        };
        let now = Instant::now();
        if now >= until {
            *paused_until = None;
            return Ok(());
        }
        let seconds_left = (until - now).as_secs().max(1);
        Err(GeoError::new(format!(
            "ip-api lookup of {ip} skipped: the rate limit is reached and resets in {seconds_left} s"
        )))
    }

    /// Pauses requests until the window resets when ip-api reports none left.
    fn record_rate_limit(&self, headers: &HeaderMap, status: StatusCode) {
        let remaining = header_number(headers, "x-rl");
        let reset_seconds = header_number(headers, "x-ttl");
        let pause = match (status, remaining, reset_seconds) {
            (StatusCode::TOO_MANY_REQUESTS, _, Some(seconds)) | (_, Some(0), Some(seconds)) => {
                Duration::from_secs(seconds)
            }
            (StatusCode::TOO_MANY_REQUESTS, _, None) => DEFAULT_RATE_LIMIT_PAUSE,
            _ => return,
        };
        let mut paused_until = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        *paused_until = Some(Instant::now() + pause);
        tracing::warn!(
            pause_seconds = pause.as_secs(),
            "ip-api rate limit reached; geolocation lookups are paused until it resets"
        );
    }
}

impl GeoProvider for IpApi {
    fn locate(&self, ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(self.lookup(ip))
    }
}

impl fmt::Debug for IpApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpApi")
            .field("base_url", &self.base_url.as_str())
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("lang", &self.lang)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Configuration of an [`IpApi`] provider, from [`IpApi::builder`].
pub struct IpApiBuilder {
    base_url: Option<String>,
    key: Option<String>,
    lang: Option<String>,
    timeout: Duration,
}

impl IpApiBuilder {
    /// Sets the API key, sent as the `key` query parameter. With a key, the default
    /// base URL is [`PRO_BASE_URL`] (HTTPS).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the base URL, such as `https://pro.ip-api.com` or a proxy in front of
    /// ip-api. Requests go to `{base_url}/json/{ip}`.
    ///
    /// Without this call the base URL is [`PRO_BASE_URL`] when a key is set and
    /// [`FREE_BASE_URL`] (plain HTTP) otherwise.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Sets the language of the city, region and country names, as ip-api's `lang`
    /// parameter (`en`, `de`, `es`, `pt-BR`, `fr`, `ja`, `zh-CN` or `ru`). ip-api
    /// returns English names by default.
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// Sets the limit on one whole request, from connecting to the end of the response
    /// body. Defaults to [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the provider with its own HTTP client, which follows no redirects so
    /// that the key is never sent to another host.
    ///
    /// # Errors
    ///
    /// Fails when the configuration is invalid (see [`Self::build_with_client`]) or
    /// the HTTP client cannot be created.
    pub fn build(self) -> Result<IpApi, GeoError> {
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| {
                GeoError::new(format!("failed to create the ip-api HTTP client: {error}"))
            })?;
        self.build_with_client(client)
    }

    /// Builds the provider on an existing HTTP client, to share its connection pool.
    /// The timeout set here still applies to each request.
    ///
    /// # Errors
    ///
    /// Fails when the key is empty, or the base URL is not an `http` or `https` URL
    /// without a query.
    pub fn build_with_client(self, client: reqwest::Client) -> Result<IpApi, GeoError> {
        if self.key.as_deref().is_some_and(|key| key.trim().is_empty()) {
            return Err(GeoError::new(
                "the ip-api key is empty: set a key or leave it unset to use the free endpoint",
            ));
        }

        let default_base = if self.key.is_some() {
            PRO_BASE_URL
        } else {
            FREE_BASE_URL
        };
        let base_text = self.base_url.as_deref().unwrap_or(default_base);
        let base_url = parse_base_url(base_text)?;
        warn_if_plain_http(&base_url);

        Ok(IpApi {
            client,
            base_url,
            key: self.key,
            lang: self.lang,
            timeout: self.timeout,
            paused_until: Mutex::new(None),
        })
    }
}

impl fmt::Debug for IpApiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpApiBuilder")
            .field("base_url", &self.base_url)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("lang", &self.lang)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn parse_base_url(text: &str) -> Result<Url, GeoError> {
    let url = Url::parse(text)
        .map_err(|error| GeoError::new(format!("invalid ip-api base URL {text:?}: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(GeoError::new(format!(
            "invalid ip-api base URL {text:?}: expected an http:// or https:// URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GeoError::new(format!(
            "invalid ip-api base URL {text:?}: remove the query or fragment"
        )));
    }
    Ok(url)
}

/// Logs once per provider that client addresses leave the machine unencrypted.
fn warn_if_plain_http(url: &Url) {
    if url.scheme() != "http" {
        return;
    }
    let host = url.host_str().unwrap_or_default();
    let is_loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !is_loopback {
        tracing::warn!(
            base_url = url.as_str(),
            "ip-api geolocation uses plain HTTP: client IP addresses are sent unencrypted \
             to a third party; set an API key for HTTPS or use a local database"
        );
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn rate_limit_error(ip: IpAddr, headers: &HeaderMap) -> GeoError {
    let remaining = header_number(headers, "x-rl")
        .map(|count| format!(", {count} requests left"))
        .unwrap_or_default();
    let reset = match header_number(headers, "x-ttl") {
        Some(seconds) => format!("it resets in {seconds} s"),
        None => format!(
            "no X-Ttl header, so lookups pause for {} s",
            DEFAULT_RATE_LIMIT_PAUSE.as_secs()
        ),
    };
    GeoError::new(format!(
        "ip-api lookup of {ip} failed: rate limit exceeded (HTTP 429{remaining}); {reset}"
    ))
}

/// Body of an ip-api JSON response, with the fields in [`FIELDS`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResponse {
    status: Option<String>,
    message: Option<String>,
    country: Option<String>,
    country_code: Option<String>,
    region_name: Option<String>,
    city: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    timezone: Option<String>,
    isp: Option<String>,
}

impl ApiResponse {
    fn into_location(self, ip: IpAddr) -> Result<Option<Location>, GeoError> {
        match self.status.as_deref() {
            Some("success") => {}
            Some("fail") => {
                let message = self.message.unwrap_or_default();
                // ip-api's messages for addresses that have no public location.
                if matches!(message.as_str(), "private range" | "reserved range") {
                    return Ok(None);
                }
                return Err(GeoError::new(format!(
                    "ip-api lookup of {ip} failed: ip-api returned status \"fail\" with \
                     message {message:?}"
                )));
            }
            Some(other) => {
                return Err(GeoError::new(format!(
                    "ip-api lookup of {ip} failed: unexpected status {other:?} in the response"
                )));
            }
            None => {
                return Err(GeoError::new(format!(
                    "ip-api lookup of {ip} failed: the response has no status field"
                )));
            }
        }

        let mut data = Map::new();
        if let Some(lat) = self.lat {
            data.insert("latitude".into(), Value::from(lat));
        }
        if let Some(lon) = self.lon {
            data.insert("longitude".into(), Value::from(lon));
        }
        if let Some(timezone) = non_empty(self.timezone) {
            data.insert("time_zone".into(), Value::from(timezone));
        }
        if let Some(isp) = non_empty(self.isp) {
            data.insert("isp".into(), Value::from(isp));
        }

        let location = Location {
            city: non_empty(self.city),
            region: non_empty(self.region_name),
            country: non_empty(self.country),
            country_code: non_empty(self.country_code),
            data: (!data.is_empty()).then_some(Value::Object(data)),
        };
        if location == Location::default() {
            return Ok(None);
        }
        Ok(Some(location))
    }
}

/// Maps ip-api's empty strings for unknown fields to `None`.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}
