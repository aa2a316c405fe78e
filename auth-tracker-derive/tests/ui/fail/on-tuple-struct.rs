use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User(i64);

fn main() {}
