use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(user_type = "")]
struct User {
    id: i64,
}

fn main() {}
