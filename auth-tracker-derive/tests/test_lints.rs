//! The generated code compiles without warnings under strict lints, written directly
//! and from inside a `macro_rules!`.

#![deny(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    unused,
    unused_qualifications,
    clippy::all,
    clippy::pedantic
)]

use std::fmt::Display;
use std::sync::Arc;

use auth_tracker::{AuthTracking, ParsedUserAgent, UserAgentParser};

/// User with every key set.
#[derive(AuthTracking, Debug)]
#[auth_tracking(id = user_id, user_type = "Strict", table = "strict_logins")]
#[auth_tracking(parser = StrictParser)]
pub struct StrictUser {
    /// Key.
    pub user_id: u64,
}

/// User with a generic key type.
#[derive(AuthTracking, Debug)]
pub struct GenericUser<K: Display> {
    /// Key.
    pub id: K,
}

/// Parser for `StrictUser`.
#[derive(Debug, Default)]
pub struct StrictParser;

impl UserAgentParser for StrictParser {
    fn parse(&self, _user_agent: &str) -> Arc<ParsedUserAgent> {
        Arc::default()
    }
}

macro_rules! tracked_user {
    ($name:ident, $key:ident: $key_ty:ty, $table:literal, $parser:path) => {
        /// User declared by a macro.
        #[derive(AuthTracking, Debug)]
        #[auth_tracking(id = $key, table = $table, parser = $parser)]
        pub struct $name {
            /// Key.
            pub $key: $key_ty,
        }
    };
}

tracked_user!(MacroUser, account: String, "macro_logins", StrictParser);
tracked_user!(MacroBuiltinUser, account: i32, "macro_builtin_logins", none);

#[test]
fn strict_user_items() {
    assert_eq!(StrictUser::USER_TYPE, "Strict");
    assert_eq!(StrictUser::LOGINS_TABLE, "strict_logins");
    assert_eq!(StrictUser { user_id: 5 }.tracking_user_id(), "5");
}

#[test]
fn generic_user_items() {
    assert_eq!(GenericUser { id: 'k' }.tracking_user_id(), "k");
    assert_eq!(GenericUser::<u8>::LOGINS_TABLE, "logins");
}

#[test]
fn macro_user_items() {
    let user = MacroUser {
        account: "ada".to_owned(),
    };
    assert_eq!(user.tracking_user_id(), "ada");
    assert_eq!(MacroUser::USER_TYPE, "MacroUser");
    assert_eq!(MacroUser::LOGINS_TABLE, "macro_logins");
    assert_eq!(MacroBuiltinUser { account: -3 }.tracking_user_id(), "-3");
    assert!(std::ptr::addr_eq(
        MacroBuiltinUser::user_agent_parser(),
        auth_tracker::__private::no_parser(),
    ));
}
