use super::*;

const TEST_KEY: &str = include_str!("../../tests/keys/test-key.pem");

fn credentials() -> Credentials {
    Credentials::new("key", "user@example.com", Secret::new(TEST_KEY)).unwrap()
}

fn channel() -> ChannelDefinition {
    ChannelDefinition::new("Def", "ns__Ev__e", "ns__EventType__c", "ns__Payload__c").unwrap()
}

fn config() -> SalesforceConfig {
    SalesforceConfig::new(
        credentials(),
        "00D000000000001",
        Url::parse("https://x.my.salesforce-scrt.com/").unwrap(),
        "chan",
        channel(),
    )
    .unwrap()
}

#[test]
fn defaults_and_topic() {
    let c = config();
    assert_eq!(c.scrt_url().as_str(), "https://x.my.salesforce-scrt.com/");
    assert_eq!(c.channel().topic(), "/event/ns__Ev__e");
    assert_eq!(c.credentials().audience(), LOGIN_PRODUCTION);
    assert_eq!(
        c.credentials().token_url().as_str(),
        "https://login.salesforce.com/services/oauth2/token"
    );
    assert_eq!(c.fetch_batch(), 100);
    assert_eq!(
        c.pubsub_url().as_str(),
        "https://api.pubsub.salesforce.com:7443/"
    );
    assert_eq!(c.token_lifetime(), Duration::from_secs(1800));
    assert_eq!(c.token_refresh_margin(), Duration::from_secs(300));
    assert_eq!(c.timeout(), Duration::from_secs(30));
    assert_eq!(c.body_limit(), 1024 * 1024);
    assert!(c.relay_secret().is_none() && c.root_cas().is_empty());
    let sandbox = credentials()
        .with_login_url(&Url::parse(LOGIN_SANDBOX).unwrap())
        .unwrap();
    assert_eq!(sandbox.audience(), "https://test.salesforce.com");
    assert_eq!(
        sandbox.token_url().as_str(),
        "https://test.salesforce.com/services/oauth2/token"
    );
    let local = credentials()
        .with_login_url(&Url::parse("http://127.0.0.1:4321/anything").unwrap())
        .unwrap();
    assert_eq!(local.audience(), "http://127.0.0.1:4321");
}

#[test]
fn debug_redacts_the_private_key_and_the_relay_secret() {
    let c = config()
        .with_relay_secret(Secret::new("relay-pass-123"))
        .unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("BEGIN"), "{text}");
    assert!(!text.contains("relay-pass-123"), "{text}");
    assert!(text.contains("redacted"));
}

#[test]
fn every_invalid_value_is_named() {
    let empty = |r: Result<Credentials, ConfigError>| r.unwrap_err();
    assert_eq!(
        empty(Credentials::new("", "u", Secret::new(TEST_KEY))),
        ConfigError::Empty {
            field: "consumer_key"
        }
    );
    assert_eq!(
        empty(Credentials::new("k", " ", Secret::new(TEST_KEY))),
        ConfigError::Empty { field: "username" }
    );
    assert_eq!(
        empty(Credentials::new("k", "u", Secret::new(""))),
        ConfigError::Empty {
            field: "private_key_pem"
        }
    );
    for pem in [
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        "x",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ] {
        assert_eq!(
            empty(Credentials::new("k", "u", Secret::new(pem))),
            ConfigError::PrivateKey,
            "{pem}"
        );
    }
    let e = SalesforceConfig::new(
        credentials(),
        "",
        Url::parse("https://x.example").unwrap(),
        "chan",
        channel(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("org_id"), "{e}");
    let e = SalesforceConfig::new(
        credentials(),
        "00D",
        Url::parse("https://x.example").unwrap(),
        "c".repeat(241),
        channel(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("channel_address"), "{e}");
    let e = SalesforceConfig::new(
        credentials(),
        "00D",
        Url::parse("ftp://x.example").unwrap(),
        "chan",
        channel(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("scrt_url"), "{e}");
    assert!(ChannelDefinition::new("", "e", "t", "p").is_err());
    assert!(ChannelDefinition::new("d", "e", "t", "").is_err());
    assert!(ChannelDefinition::new("d", "e", "", "p").is_ok());
    assert!(config().with_fetch_batch(0).is_err());
    assert!(config().with_fetch_batch(101).is_err());
    assert_eq!(config().with_fetch_batch(4).unwrap().fetch_batch(), 4);
    assert!(config().with_token_lifetime(Duration::ZERO).is_err());
    assert!(config().with_timeout(Duration::ZERO).is_err());
    assert!(config().with_reconnect_delay(Duration::ZERO).is_err());
    assert!(config().with_body_limit(0).is_err());
    assert!(config().with_max_response_bytes(0).is_err());
    assert!(config().with_relay_secret(Secret::new("")).is_err());
    assert!(
        config()
            .with_pubsub_url(Url::parse("https://p.example/?q=1").unwrap())
            .is_err()
    );
}
