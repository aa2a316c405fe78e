use std::net::IpAddr;

use auth_tracker::geo::{GeoProvider, LocateFuture, Location};
use auth_tracker::AuthTracking;

#[derive(Default)]
struct FixedCountry;

impl GeoProvider for FixedCountry {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async {
            Ok(Some(Location {
                country_code: Some("PT".to_owned()),
                ..Location::default()
            }))
        })
    }
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = FixedCountry)]
struct User {
    id: i64,
}

fn main() {
    assert!(matches!(User::ip_provider(), auth_tracker::geo::ProviderChoice::Custom(_)));
}
