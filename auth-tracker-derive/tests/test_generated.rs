//! Values of the items the derive generates.

use std::net::{IpAddr, Ipv4Addr};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use auth_tracker::__private::uuid::Uuid;
use auth_tracker::geo::ProviderChoice;
use auth_tracker::geo::{GeoProvider, LocateFuture, Location};
use auth_tracker::{AuthTracking, ParsedUserAgent, UserAgentParser};

#[derive(AuthTracking)]
struct IntUser {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(parser = none)]
struct UuidUser {
    id: Uuid,
}

#[derive(AuthTracking)]
#[auth_tracking(id = username, user_type = "Member", table = "member_logins")]
struct StringUser {
    id: u8,
    username: String,
}

#[derive(AuthTracking)]
#[auth_tracking(id = r#type)]
struct r#RawUser {
    r#type: u16,
}

/// Counts its instances, so tests can tell how often the derive creates it.
struct CountingParser;

static PARSERS_CREATED: AtomicUsize = AtomicUsize::new(0);

impl Default for CountingParser {
    fn default() -> Self {
        PARSERS_CREATED.fetch_add(1, Ordering::SeqCst);
        CountingParser
    }
}

impl UserAgentParser for CountingParser {
    fn parse(&self, user_agent: &str) -> Arc<ParsedUserAgent> {
        Arc::new(ParsedUserAgent {
            device: Some(user_agent.to_uppercase()),
            ..ParsedUserAgent::default()
        })
    }
}

#[derive(Default)]
struct CountryProvider;

impl GeoProvider for CountryProvider {
    fn locate(&self, _ip: IpAddr) -> LocateFuture<'_> {
        Box::pin(async {
            Ok(Some(Location {
                country_code: Some("NZ".to_owned()),
                ..Location::default()
            }))
        })
    }
}

#[derive(AuthTracking)]
#[auth_tracking(parser = CountingParser, ip_provider = CountryProvider)]
struct CustomUser {
    id: i64,
}

#[test]
fn user_type_defaults_to_struct_name() {
    assert_eq!(IntUser::USER_TYPE, "IntUser");
    assert_eq!(UuidUser::USER_TYPE, "UuidUser");
    assert_eq!(RawUser::USER_TYPE, "RawUser");
}

#[test]
fn logins_table_defaults_to_logins() {
    assert_eq!(IntUser::LOGINS_TABLE, "logins");
    assert_eq!(CustomUser::LOGINS_TABLE, "logins");
}

#[test]
fn custom_table_and_user_type() {
    assert_eq!(StringUser::USER_TYPE, "Member");
    assert_eq!(StringUser::LOGINS_TABLE, "member_logins");
}

#[test]
fn user_id_from_integer_key() {
    assert_eq!(IntUser { id: -42 }.tracking_user_id(), "-42");
    assert_eq!(
        IntUser { id: i64::MAX }.tracking_user_id(),
        "9223372036854775807"
    );
}

#[test]
fn user_id_from_uuid_key() {
    let id = Uuid::from_u128(0x0190_9f4a_7c2e_7b3d_8a1e_5f6c_7d8e_9fa0);
    assert_eq!(
        UuidUser { id }.tracking_user_id(),
        "01909f4a-7c2e-7b3d-8a1e-5f6c7d8e9fa0"
    );
}

#[test]
fn user_id_from_string_key() {
    let user = StringUser {
        id: 3,
        username: "ada@example.com".to_owned(),
    };
    assert_eq!(user.tracking_user_id(), "ada@example.com");
    assert_eq!(user.id, 3);
}

#[test]
fn user_id_from_raw_identifier_field() {
    assert_eq!(RawUser { r#type: 8 }.tracking_user_id(), "8");
}

#[test]
fn tracking_owner_uses_generated_items() {
    let owner = StringUser {
        id: 0,
        username: "grace".to_owned(),
    }
    .tracking_owner();
    assert_eq!(owner.user_type, "Member");
    assert_eq!(owner.user_id, "grace");
}

#[test]
fn default_parser_is_uaparser() {
    assert!(ptr::addr_eq(
        IntUser::user_agent_parser(),
        auth_tracker::__private::uaparser_parser(),
    ));
}

#[test]
fn parser_none_is_no_parser() {
    assert!(ptr::addr_eq(
        UuidUser::user_agent_parser(),
        auth_tracker::__private::no_parser(),
    ));
}

#[test]
fn custom_parser_is_created_once() {
    let first = CustomUser::user_agent_parser();
    let second = CustomUser::user_agent_parser();
    assert!(ptr::addr_eq(first, second));
    assert_eq!(PARSERS_CREATED.load(Ordering::SeqCst), 1);
    assert_eq!(first.parse("ua").device.as_deref(), Some("UA"));
}

#[test]
fn ip_provider_defaults_to_none() {
    assert!(matches!(IntUser::ip_provider(), ProviderChoice::None));
    assert!(matches!(StringUser::ip_provider(), ProviderChoice::None));
}

#[test]
fn builtin_ip_providers_are_named() {
    assert!(matches!(IpApiUser::ip_provider(), ProviderChoice::IpApi));
    assert!(matches!(
        MaxMindUser::ip_provider(),
        ProviderChoice::MaxMind
    ));
    assert!(matches!(
        Ip2LocationUser::ip_provider(),
        ProviderChoice::Ip2Location
    ));
    assert!(matches!(
        ConfiguredUser::ip_provider(),
        ProviderChoice::Configured
    ));
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = configured)]
struct ConfiguredUser {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = ip_api)]
struct IpApiUser {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = maxmind)]
struct MaxMindUser {
    id: i64,
}

#[derive(AuthTracking)]
#[auth_tracking(ip_provider = ip2location)]
struct Ip2LocationUser {
    id: i64,
}

fn custom_provider(choice: ProviderChoice) -> &'static dyn auth_tracker::GeoProvider {
    match choice {
        ProviderChoice::Custom(provider) => provider,
        other => panic!("expected a custom provider, got {other:?}"),
    }
}

#[test]
fn custom_ip_provider_is_created_once() {
    let first = custom_provider(CustomUser::ip_provider());
    let second = custom_provider(CustomUser::ip_provider());
    assert!(ptr::addr_eq(first, second));

    // The test provider's future is ready on its first poll, so no runtime is needed.
    let mut lookup = first.locate(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    let mut context = Context::from_waker(Waker::noop());
    let Poll::Ready(result) = lookup.as_mut().poll(&mut context) else {
        panic!("the test provider's lookup is pending");
    };
    let location = result
        .expect("the lookup succeeds")
        .expect("the provider locates every address");
    assert_eq!(location.country_code.as_deref(), Some("NZ"));
}
