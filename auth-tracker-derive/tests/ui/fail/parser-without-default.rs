use std::sync::Arc;

use auth_tracker::{AuthTracking, ParsedUserAgent, UserAgentParser};

struct ProductParser;

impl UserAgentParser for ProductParser {
    fn parse(&self, _user_agent: &str) -> Arc<ParsedUserAgent> {
        Arc::default()
    }
}

#[derive(AuthTracking)]
#[auth_tracking(parser = ProductParser)]
struct User {
    id: i64,
}

fn main() {}
