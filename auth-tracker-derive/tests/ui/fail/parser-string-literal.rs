use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(parser = "uaparser")]
struct User {
    id: i64,
}

fn main() {}
