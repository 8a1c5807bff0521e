use super::*;

fn secret() -> DirectLineCredential {
    DirectLineCredential::Secret(Secret::new("dl-secret-xyz"))
}

#[test]
fn debug_redacts_the_credential() {
    let d = DirectLineConfig::new(secret()).unwrap();
    assert!(!format!("{d:?}").contains("dl-secret-xyz"));
}

#[test]
fn defaults_are_as_documented() {
    let d = DirectLineConfig::new(secret()).unwrap();
    assert_eq!(
        d.base_url().as_str(),
        "https://directline.botframework.com/v3/directline"
    );
    assert!(d.user_id().starts_with("dl_") && d.user_id().len() > 20);
    assert_eq!(d.user_name(), None);
    assert_eq!(d.poll_interval(), Duration::from_secs(1));
    assert_eq!(
        d.reconnect_backoff(),
        (Duration::from_secs(3), Duration::from_secs(15))
    );
    assert_eq!(d.token_refresh_margin(), Duration::from_secs(900));
    assert_eq!(d.timeout(), Duration::from_secs(20));
    assert_eq!(d.max_response_bytes(), 4 * 1024 * 1024);
}

#[test]
fn urls_join_with_or_without_a_trailing_slash() {
    for base in [
        "http://127.0.0.1:9/v3/directline",
        "http://127.0.0.1:9/v3/directline/",
    ] {
        let d = DirectLineConfig::new(secret())
            .unwrap()
            .with_base_url(Url::parse(base).unwrap())
            .unwrap();
        assert_eq!(
            d.url("conversations"),
            "http://127.0.0.1:9/v3/directline/conversations"
        );
    }
}

#[test]
fn values_that_cannot_work_are_refused_by_name() {
    let field = |e: ConfigError| match e {
        ConfigError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(DirectLineConfig::new(DirectLineCredential::Token(Secret::new(""))).unwrap_err()),
        "credential"
    );
    let d = DirectLineConfig::new(secret()).unwrap();
    assert_eq!(field(d.clone().with_user("", None).unwrap_err()), "user_id");
    assert_eq!(
        field(d.clone().with_poll_interval(Duration::ZERO).unwrap_err()),
        "poll_interval"
    );
    assert_eq!(
        field(
            d.clone()
                .with_base_url(Url::parse("ws://h.example/").unwrap())
                .unwrap_err()
        ),
        "base_url"
    );
    let d = d.with_reconnect_backoff(Duration::from_secs(5), Duration::from_secs(1));
    assert_eq!(
        d.reconnect_backoff(),
        (Duration::from_secs(5), Duration::from_secs(5))
    );
}
