use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(id = user_id)]
struct User {
    id: &'static str,
    user_id: u32,
}

fn main() {
    let user = User { id: "not the key", user_id: 42 };
    assert_eq!(user.tracking_user_id(), "42");
    assert!(!user.id.is_empty());
}
