use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = geoip)]
struct User {
    id: i64,
}

fn main() {}
