use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(tabel = "logins")]
struct User {
    id: i64,
}

fn main() {}
