// The attribute error must be the only error: the stub impl emitted with it keeps
// every use of the trait below compiling.

use auth_tracker::{AuthTracking, Tracking};

#[derive(AuthTracking)]
#[auth_tracking(table = "user-logins")]
struct User {
    id: i64,
}

async fn use_tracking(user: &User, tracking: &Tracking) -> auth_tracker::Result<()> {
    let _logins = user.logins(tracking).await?;
    let _current = user.current_login(tracking).await?;
    let _revoked = user.logout_others(tracking).await?;
    let _revoked = user.logout_all(tracking).await?;
    let _owner = user.tracking_owner();
    let _names = (User::USER_TYPE, User::LOGINS_TABLE);
    let _parser = User::user_agent_parser();
    let _provider = User::ip_provider();
    Ok(())
}

fn main() {
    let _ = use_tracking;
}
