use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(table)]
struct User {
    id: i64,
}

fn main() {}
