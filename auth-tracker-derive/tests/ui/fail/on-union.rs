use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
union User {
    id: i64,
}

fn main() {}
