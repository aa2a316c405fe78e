//! IP geolocation: the provider trait, its result and the built-in providers.
//!
//! Lookups are off by default. The built-in providers are cargo features: `ip-api`
//! (an HTTP service, so it sends client addresses to a third party), `maxmind` (local
//! `.mmdb` files) and `ip2location` (tables in the application's database).

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

#[cfg(feature = "ip2location")]
#[cfg_attr(docsrs, doc(cfg(feature = "ip2location")))]
pub mod ip2location;
#[cfg(feature = "ip-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "ip-api")))]
pub mod ip_api;
#[cfg(feature = "maxmind")]
#[cfg_attr(docsrs, doc(cfg(feature = "maxmind")))]
pub mod maxmind;

/// Geolocation of a client IP address, stored in the login's location columns.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// City name.
    pub city: Option<String>,
    /// Region, state or province name.
    pub region: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// Extra provider data (coordinates, ISP, time zone), stored in `ip_data` as JSON.
    pub data: Option<serde_json::Value>,
}

/// Error of a geolocation lookup.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct GeoError {
    message: String,
}

impl GeoError {
    /// Creates an error with a message that names the provider and the cause.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Geolocation provider of a user model, chosen by its `ip_provider` attribute.
///
/// The built-in providers need settings (a URL and key, a file, a database), so the
/// model only names one and the [`Tracker`](crate::Tracker) keeps the configured
/// instance: see `Tracker::with_ip_api`, `with_maxmind` and `with_ip2location`.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum ProviderChoice {
    /// No geolocation.
    None,
    /// A provider type of the application's, built with `Default`.
    Custom(&'static dyn GeoProvider),
    /// The tracker's ip-api provider.
    IpApi,
    /// The tracker's MaxMind `.mmdb` provider.
    MaxMind,
    /// The tracker's IP2Location LITE provider.
    Ip2Location,
    /// The provider given to the tracker with `Tracker::with_geo_provider`, for
    /// applications that choose one from their settings at run time.
    Configured,
}

impl fmt::Debug for ProviderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Custom(_) => "Custom",
            Self::IpApi => "IpApi",
            Self::MaxMind => "MaxMind",
            Self::Ip2Location => "Ip2Location",
            Self::Configured => "Configured",
        })
    }
}

/// Boxed future returned by [`GeoProvider::locate`].
pub type LocateFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Location>, GeoError>> + Send + 'a>>;

/// Looks up the location of a public IP address.
///
/// The tracker never calls a provider for private, loopback, link-local or reserved
/// addresses, and bounds each call with a timeout, so implementations need not check
/// either. Return `Ok(None)` when the address is simply not in the provider's data.
///
/// # Example
///
/// ```
/// use std::net::IpAddr;
/// use auth_tracker::geo::{GeoProvider, LocateFuture, Location};
///
/// #[derive(Default)]
/// struct OfficeNetwork;
///
/// impl GeoProvider for OfficeNetwork {
///     fn locate(&self, ip: IpAddr) -> LocateFuture<'_> {
///         Box::pin(async move {
///             let is_office = ip.to_string().starts_with("203.0.113.");
///             Ok(is_office.then(|| Location {
///                 city: Some("Lisbon".into()),
///                 country: Some("Portugal".into()),
///                 country_code: Some("PT".into()),
///                 ..Location::default()
///             }))
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a geolocation provider",
    note = "implement `auth_tracker::GeoProvider` for it, or use `ip_provider = none`"
)]
pub trait GeoProvider: Send + Sync + 'static {
    /// Looks up one address.
    fn locate(&self, ip: IpAddr) -> LocateFuture<'_>;
}
