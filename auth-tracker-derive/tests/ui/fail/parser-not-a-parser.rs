use auth_tracker::AuthTracking;

#[derive(Default)]
struct Shouter;

#[derive(AuthTracking)]
#[auth_tracking(parser = Shouter)]
struct User {
    id: i64,
}

fn main() {}
