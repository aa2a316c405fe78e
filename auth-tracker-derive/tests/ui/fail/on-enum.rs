use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
enum User {
    Admin { id: i64 },
}

fn main() {}
