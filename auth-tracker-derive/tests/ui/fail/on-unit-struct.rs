use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User;

fn main() {}
