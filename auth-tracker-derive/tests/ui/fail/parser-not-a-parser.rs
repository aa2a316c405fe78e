use auth_tracker::AuthTracking;

#[derive(Default)]
struct Parser;

#[derive(AuthTracking)]
#[auth_tracking(parser = Parser)]
struct User {
    id: i64,
}

fn main() {}
