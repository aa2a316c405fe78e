use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User {
    user_id: i64,
}

fn main() {}
