use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(table = "user-logins")]
struct User {
    id: i64,
}

fn main() {}
