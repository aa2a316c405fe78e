use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(user_type = Customer)]
struct User {
    id: i64,
}

fn main() {}
