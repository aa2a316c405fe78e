use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(id = "user_id")]
struct User {
    user_id: i64,
}

fn main() {}
