use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking]
struct User {
    id: i64,
}

fn main() {}
