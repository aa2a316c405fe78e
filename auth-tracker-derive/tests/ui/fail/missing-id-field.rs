use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(id = uid)]
struct User {
    user_id: i64,
    email: String,
}

fn main() {}
