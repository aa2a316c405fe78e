use auth_tracker::AuthTracking;

#[derive(AuthTracking)]
#[auth_tracking(parser = none)]
struct User {
    id: i64,
}

fn main() {
    let parsed = User::user_agent_parser().parse("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");
    assert_eq!(*parsed, auth_tracker::ParsedUserAgent::default());
}
