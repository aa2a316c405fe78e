use auth_tracker::AuthTracking;

struct UserKey(u64);

#[derive(AuthTracking)]
struct User {
    id: UserKey,
}

fn main() {}
