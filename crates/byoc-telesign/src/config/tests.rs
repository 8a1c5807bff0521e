use super::*;

const K1: &str =
    "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn key(text: &str) -> Result<ApiKey, ConfigError> {
    ApiKey::new(Secret::new(text))
}

#[test]
fn lenient_decoding_matches_the_sdks() {
    assert_eq!(
        hex(key(K1).unwrap().decoded()),
        "11700c3cb11313cb13820e39caeb2e9a837a058b0156487ec9127973382c9c27a165a39895d3c9766161e8d797f24ba7676cd4d5859a530ff4c15eb17f"
    );
    assert_eq!(hex(key("yourApiKey").unwrap().decoded()), "ca8bab02988a7b");
    assert_eq!(key("VGVzdCBLZXk=").unwrap().decoded(), b"Test Key");
    assert_eq!(key("").unwrap_err(), ConfigError::InvalidApiKey);
    assert_eq!(key("-=-").unwrap_err(), ConfigError::InvalidApiKey);
    assert_eq!(key("A").unwrap_err(), ConfigError::InvalidApiKey);
}

#[test]
fn debug_never_shows_a_key() {
    let c = TelesignConfig::new("FFFFFFFF-EEEE-DDDD-1234-AB1234567890", Secret::new(K1))
        .unwrap()
        .with_previous_key(Secret::new("VGVzdCBLZXk="))
        .unwrap();
    let d = format!("{c:?}");
    assert!(d.contains("ApiKey([redacted])"));
    assert!(!d.contains("TE8sTgg45") && !d.contains("VGVzdCBLZXk"));
}

#[test]
fn settings_are_validated_when_set() {
    assert_eq!(
        TelesignConfig::new(" ", Secret::new(K1)).unwrap_err(),
        ConfigError::EmptyCustomerId
    );
    let c = TelesignConfig::new("c", Secret::new(K1)).unwrap();
    assert_eq!(c.base_url().as_str(), "https://rest-api.telesign.com/");
    assert_eq!(
        c.url_of("/v1/messaging"),
        "https://rest-api.telesign.com/v1/messaging"
    );
    let c = c
        .with_base_url("http://127.0.0.1:9/".parse().unwrap())
        .unwrap();
    assert_eq!(c.url_of("/v1/messaging"), "http://127.0.0.1:9/v1/messaging");
    let prefixed = c
        .clone()
        .with_base_url("https://proxy.example/telesign/".parse().unwrap())
        .unwrap();
    assert_eq!(
        prefixed.url_of("/v1/messaging"),
        "https://proxy.example/telesign/v1/messaging"
    );
    for bad in [
        "ftp://x",
        "https://x/?a=1",
        "https://x/#f",
        "data:text/plain,x",
    ] {
        assert!(
            matches!(
                c.clone().with_base_url(bad.parse().unwrap()),
                Err(ConfigError::InvalidBaseUrl { .. })
            ),
            "{bad}"
        );
        assert!(
            matches!(
                c.clone().with_callback_url(bad.parse().unwrap()),
                Err(ConfigError::InvalidCallbackUrl { .. })
            ),
            "{bad}"
        );
    }
    assert!(c.clone().with_sender_id("x".repeat(21)).is_err());
    assert!(c.clone().with_sender_id("").is_err());
    let c = c.with_sender_id("15555550999").unwrap();
    assert_eq!(c.sender_id(), Some("15555550999"));
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = TelesignConfig::new("c", Secret::new(K1)).unwrap();
    assert_eq!(c.auth(), AuthScheme::TsaDate);
    assert_eq!(c.message_type(), &MessageType::Arn);
    assert_eq!(c.long_text(), LongText::Split);
    assert_eq!(c.body_limit(), DEFAULT_BODY_LIMIT);
    assert_eq!(c.timeout(), Duration::from_secs(10));
    assert_eq!(c.max_response_bytes(), DEFAULT_MAX_RESPONSE_BYTES);
    assert!(c.root_cas().is_empty() && c.previous_keys().is_empty());
    assert_eq!((c.sender_id(), c.callback_url()), (None, None));
}

#[test]
fn zero_limits_and_timeouts_are_refused_naming_the_field() {
    let config = || TelesignConfig::new("c", Secret::new(K1)).unwrap();
    for (result, field) in [
        (config().with_body_limit(0).err(), "body_limit"),
        (
            config().with_max_response_bytes(0).err(),
            "max_response_bytes",
        ),
        (config().with_timeout(Duration::ZERO).err(), "timeout"),
    ] {
        assert!(
            matches!(result, Some(ConfigError::Invalid { field: f, .. }) if f == field),
            "{field}: {result:?}"
        );
    }
    let ok = config()
        .with_body_limit(1024)
        .unwrap()
        .with_max_response_bytes(2048)
        .unwrap()
        .with_timeout(Duration::from_secs(3))
        .unwrap();
    assert_eq!(ok.body_limit(), 1024);
}
