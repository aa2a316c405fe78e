use std::fmt::Display;

use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(parser = none)]
struct User<'a, K>
where
    K: Display,
{
    id: K,
    name: &'a str,
}

fn main() {
    let user = User { id: 9_u8, name: "ada" };
    assert_eq!(user.tracking_user_id(), "9");
    assert_eq!(User::<'static, String>::USER_TYPE, "User");
    assert_eq!(user.name, "ada");
}
