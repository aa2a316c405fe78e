use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User {
    #[auth_tracking(id)]
    id: i64,
}

fn main() {}
