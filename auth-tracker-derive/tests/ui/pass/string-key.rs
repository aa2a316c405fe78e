use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User {
    id: String,
}

fn main() {
    let user = User { id: "ada".to_owned() };
    assert_eq!(user.tracking_user_id(), "ada");
}
