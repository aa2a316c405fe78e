use auth_tracker::__private::uuid::Uuid;
use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User {
    id: Uuid,
}

fn main() {
    let user = User { id: Uuid::nil() };
    assert_eq!(user.tracking_user_id(), "00000000-0000-0000-0000-000000000000");
}
