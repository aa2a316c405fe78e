use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = ip_api)]
struct User {
    id: i64,
}

fn main() {}
