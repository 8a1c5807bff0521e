use super::*;

#[test]
fn debug_redacts_the_password() {
    let c = ConnectorConfig::new("app", Secret::new("hunter2-password")).unwrap();
    let s = format!("{c:?}");
    assert!(!s.contains("hunter2"), "{s}");
    assert!(s.contains("app"), "{s}");
}

#[test]
fn token_url_per_tenant() {
    let c = ConnectorConfig::new("app", Secret::new("p")).unwrap();
    assert_eq!(
        c.token_url().as_str(),
        "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    );
    let c = c.with_tenant("tid").unwrap();
    assert!(c.token_url().as_str().ends_with("/tid/oauth2/v2.0/token"));
    let c = c
        .with_authority(
            Url::parse("http://127.0.0.1:9/").unwrap(),
            Url::parse("http://127.0.0.1:9/v1/.well-known/openidconfiguration").unwrap(),
            "https://api.botframework.com",
        )
        .unwrap();
    assert_eq!(
        c.token_url().as_str(),
        "http://127.0.0.1:9/tid/oauth2/v2.0/token"
    );
}

#[test]
fn defaults_are_as_documented() {
    let c = ConnectorConfig::new("app", Secret::new("p")).unwrap();
    assert_eq!(c.tenant(), "botframework.com");
    assert_eq!(c.scope(), "https://api.botframework.com/.default");
    assert_eq!(
        c.openid_metadata_url().as_str(),
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    );
    assert_eq!(c.issuers(), ["https://api.botframework.com"]);
    assert_eq!(c.clock_skew(), Duration::from_secs(300));
    assert_eq!(c.token_refresh_margin(), Duration::from_secs(300));
    assert_eq!(c.body_limit(), 1024 * 1024);
    assert_eq!(c.timeout(), Duration::from_secs(20));
    assert_eq!(c.max_response_bytes(), 4 * 1024 * 1024);
    assert!(c.trusted_service_urls().is_empty());
    assert!(c.root_cas().is_empty());
}

#[test]
fn values_that_cannot_work_are_refused_by_name() {
    let field = |e: ConfigError| match e {
        ConfigError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(ConnectorConfig::new(" ", Secret::new("p")).unwrap_err()),
        "app_id"
    );
    assert_eq!(
        field(ConnectorConfig::new("a", Secret::new("")).unwrap_err()),
        "app_password"
    );
    let c = ConnectorConfig::new("a", Secret::new("p")).unwrap();
    assert_eq!(field(c.clone().with_tenant("a/b").unwrap_err()), "tenant");
    assert_eq!(field(c.clone().with_scope("").unwrap_err()), "scope");
    assert_eq!(
        field(c.clone().with_body_limit(0).unwrap_err()),
        "body_limit"
    );
    assert_eq!(
        field(c.clone().with_timeout(Duration::ZERO).unwrap_err()),
        "timeout"
    );
    assert_eq!(
        field(c.clone().with_max_response_bytes(0).unwrap_err()),
        "max_response_bytes"
    );
    let ok = Url::parse("https://login.example/").unwrap();
    let bad = Url::parse("mailto:keys@login.example").unwrap();
    assert_eq!(
        field(
            c.clone()
                .with_authority(bad.clone(), ok.clone(), "iss")
                .unwrap_err()
        ),
        "login_url"
    );
    assert_eq!(
        field(
            c.clone()
                .with_authority(ok.clone(), bad, "iss")
                .unwrap_err()
        ),
        "openid_metadata_url"
    );
    assert_eq!(
        field(c.with_authority(ok.clone(), ok, "").unwrap_err()),
        "issuer"
    );
}
