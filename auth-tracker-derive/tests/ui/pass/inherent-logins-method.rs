use auth_tracker::{AuthTracking, Login, Tracking};

#[derive(AuthTracking)]
struct User {
    id: i64,
    login_names: Vec<String>,
}

impl User {
    // Same name as `AuthTracking::logins`, so method syntax finds this one.
    fn logins(&self) -> &[String] {
        &self.login_names
    }
}

async fn tracked_logins(user: &User, tracking: &Tracking) -> auth_tracker::Result<Vec<Login>> {
    AuthTracking::logins(user, tracking).await
}

fn main() {
    let user = User { id: 1, login_names: vec!["ada".to_owned()] };
    assert_eq!(user.logins(), ["ada"]);
    let _ = tracked_logins;
}
