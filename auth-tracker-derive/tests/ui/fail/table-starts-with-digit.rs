use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(table = "2fa_logins")]
struct User {
    id: i64,
}

fn main() {}
