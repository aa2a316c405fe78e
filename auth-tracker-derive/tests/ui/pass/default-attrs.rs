use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
struct User {
    id: i64,
    email: String,
}

fn main() {
    let user = User { id: 7, email: "ada@example.com".to_owned() };
    assert_eq!(user.tracking_user_id(), "7");
    assert_eq!(User::USER_TYPE, "User");
    assert_eq!(User::LOGINS_TABLE, "logins");
    assert!(!user.email.is_empty());
}
