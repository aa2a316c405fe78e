use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(table = "admin_logins")]
#[auth_tracking(user_type = "Administrator")]
struct Admin {
    id: i64,
}

fn main() {
    assert_eq!(Admin::USER_TYPE, "Administrator");
    assert_eq!(Admin::LOGINS_TABLE, "admin_logins");
    assert_eq!(Admin { id: 1 }.tracking_user_id(), "1");
}
