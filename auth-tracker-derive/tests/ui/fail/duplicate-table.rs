use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(table = "logins")]
#[auth_tracking(table = "user_logins")]
struct User {
    id: i64,
}

fn main() {}
