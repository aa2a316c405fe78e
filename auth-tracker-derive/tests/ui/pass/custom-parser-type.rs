use std::sync::Arc;

use auth_tracker::{AuthTracking, ParsedUserAgent, UserAgentParser};

mod ua {
    use super::*;

    /// Takes the product token before the first `/` as the browser.
    #[derive(Default)]
    pub struct ProductParser;

    impl UserAgentParser for ProductParser {
        fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
            Arc::new(ParsedUserAgent {
                browser: user_agent.split('/').next().map(str::to_owned),
                ..ParsedUserAgent::default()
            })
        }
    }
}

#[derive(AuthTracking)]
#[auth_tracking(parser = ua::ProductParser)]
struct User {
    id: i64,
}

fn main() {
    let parsed = User::user_agent_parser().parse("curl/8.5.0");
    assert_eq!(parsed.browser.as_deref(), Some("curl"));
}
