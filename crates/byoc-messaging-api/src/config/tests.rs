use byoc_core::Secret;

use super::*;

const T: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const C: &str = "0e5b1f7d-3a5c-4b7e-9d1f-3a5c7e9b1d3f";
const ORG: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

fn app(secret: &str) -> EntraApp {
    EntraApp::new(T, C, Secret::new(secret)).unwrap()
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn guids_are_parsed_with_or_without_braces() {
    let cases = [
        (T, true),
        ("{72F988BF-86F1-41AF-91AB-2D7CD011DB47}", true),
        ("72f988bf86f141af91ab2d7cd011db47", false),
        ("72f988bf-86f1-41af-91ab-2d7cd011db4", false),
        ("72f988bf-86f1-41af-91ab-2d7cd011db4g", false),
        ("", false),
    ];
    for (text, ok) in cases {
        assert_eq!(Guid::parse("x", text).is_ok(), ok, "{text}");
    }
    let g = Guid::parse("x", "{72F988BF-86F1-41AF-91AB-2D7CD011DB47}").unwrap();
    assert_eq!(g.as_str(), T);
    assert_eq!(g.simple(), "72f988bf86f141af91ab2d7cd011db47");
}

#[test]
fn defaults_follow_the_documentation() {
    let cfg = MessagingApiConfig::new(app("s3cret"), ORG, C, "eu", "crm4").unwrap();
    assert_eq!(
        cfg.base_url().as_str(),
        "https://m-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.eu.omnichannelengagementhub.com/"
    );
    assert_eq!(
        cfg.scope(),
        "https://1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d-c.crm4.dynamics.com/.default"
    );
    assert_eq!(
        cfg.token_url().as_str(),
        format!("https://login.microsoftonline.com/{T}/oauth2/v2.0/token")
    );
    assert!(MessagingApiConfig::new(app("x"), ORG, C, "e u", "crm").is_err());
    assert_eq!(
        cfg.webhook_issuers(),
        [
            format!("https://login.microsoftonline.com/{T}/v2.0"),
            format!("https://sts.windows.net/{T}/")
        ]
    );
    assert_eq!(
        cfg.webhook_audiences(),
        [C.to_owned(), format!("api://{C}")]
    );
    assert!(
        matches!(cfg.key_source(), KeySource::Jwks(u) if u.as_str() == format!("https://login.microsoftonline.com/{T}/discovery/v2.0/keys"))
    );
    assert!(cfg.checks_app_id());
    assert_eq!(cfg.clock_skew(), Duration::from_secs(300));
    assert_eq!(cfg.body_limit(), 256 * 1024);
    assert_eq!(cfg.token_refresh_margin(), Duration::from_secs(300));
    assert_eq!(cfg.timeout(), Duration::from_secs(30));
    assert_eq!(cfg.create_path(), DEFAULT_CREATE_PATH);
}

#[test]
fn the_authority_moves_the_token_url_issuer_and_keys_unless_they_were_set() {
    let cfg = MessagingApiConfig::new(app("s"), ORG, C, "eu", "crm4")
        .unwrap()
        .with_authority(url("http://127.0.0.1:9/"))
        .unwrap();
    assert_eq!(
        cfg.token_url().as_str(),
        format!("http://127.0.0.1:9/{T}/oauth2/v2.0/token")
    );
    assert_eq!(
        cfg.webhook_issuers()[0],
        format!("http://127.0.0.1:9/{T}/v2.0")
    );
    assert!(
        matches!(cfg.key_source(), KeySource::Jwks(u) if u.as_str() == format!("http://127.0.0.1:9/{T}/discovery/v2.0/keys"))
    );
    // Issuers set before the authority stay as set.
    let cfg = MessagingApiConfig::new(app("s"), ORG, C, "eu", "crm4")
        .unwrap()
        .with_webhook_issuers(vec!["https://issuer.example/".into()])
        .unwrap()
        .with_authority(url("http://127.0.0.1:9"))
        .unwrap();
    assert_eq!(cfg.webhook_issuers(), ["https://issuer.example/"]);
}

#[test]
fn setters_refuse_values_that_cannot_work() {
    let cfg = MessagingApiConfig::new(app("s"), ORG, C, "eu", "crm4").unwrap();
    assert_eq!(
        cfg.clone()
            .with_base_url(url("ftp://x.example"))
            .unwrap_err(),
        ConfigError::InvalidUrl { field: "base_url" }
    );
    assert_eq!(
        cfg.clone().with_scope(" ").unwrap_err(),
        ConfigError::Empty { field: "scope" }
    );
    assert!(cfg.clone().with_webhook_audiences(Vec::new()).is_err());
    assert!(cfg.clone().with_create_path("/a?b").is_err());
    assert!(cfg.clone().with_create_path("").is_err());
    assert_eq!(
        cfg.clone()
            .with_create_path("api/v1.0/consumer/conversation/create")
            .unwrap()
            .create_path(),
        ALT_CREATE_PATH
    );
    let positive = |field| ConfigError::Invalid {
        field,
        reason: "must be positive",
    };
    assert_eq!(
        cfg.clone().with_timeout(Duration::ZERO).unwrap_err(),
        positive("timeout")
    );
    assert_eq!(
        cfg.clone().with_max_response_bytes(0).unwrap_err(),
        positive("max_response_bytes")
    );
    assert_eq!(
        cfg.clone().with_body_limit(0).unwrap_err(),
        positive("body_limit")
    );
    let tuned = cfg
        .clone()
        .with_timeout(Duration::from_secs(3))
        .unwrap()
        .with_max_response_bytes(1024)
        .unwrap()
        .with_body_limit(2048)
        .unwrap();
    assert_eq!(tuned.timeout(), Duration::from_secs(3));
    assert_eq!(tuned.max_response_bytes(), 1024);
    assert_eq!(tuned.body_limit(), 2048);
    let dataverse =
        DataverseConfig::new(app("s"), url("https://org.crm4.dynamics.example")).unwrap();
    assert_eq!(
        dataverse.clone().with_timeout(Duration::ZERO).unwrap_err(),
        positive("timeout")
    );
    assert_eq!(
        dataverse.with_max_response_bytes(0).unwrap_err(),
        positive("max_response_bytes")
    );
    assert_eq!(
        cfg.with_webhook_auth(WebhookAuthMode::LegacyToken(Secret::new("")))
            .unwrap_err(),
        ConfigError::Empty {
            field: "legacy_token"
        }
    );
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        EntraApp::new("nope", C, Secret::new("x")).unwrap_err(),
        ConfigError::InvalidGuid { field: "tenant_id" }
    );
    assert_eq!(
        EntraApp::new(T, C, Secret::new("")).unwrap_err(),
        ConfigError::Empty {
            field: "client_secret"
        }
    );
    assert_eq!(
        DataverseConfig::new(app("x"), url("ftp://x")).unwrap_err(),
        ConfigError::InvalidUrl { field: "org_url" }
    );
    assert_eq!(
        MessagingApiConfig::new(app("x"), "org", C, "eu", "crm4").unwrap_err(),
        ConfigError::InvalidGuid { field: "org_id" }
    );
}

#[test]
fn debug_redacts_the_secret() {
    let cfg = DataverseConfig::new(
        app("hunter2-secret"),
        url("https://contoso.crm4.dynamics.com"),
    )
    .unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("hunter2"));
    assert!(dbg.contains("redacted"));
    let cfg = MessagingApiConfig::new(app("hunter2-secret"), ORG, C, "eu", "crm4")
        .unwrap()
        .with_webhook_auth(WebhookAuthMode::Either(Secret::new("legacy-shh")))
        .unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("hunter2"));
    assert!(!dbg.contains("legacy-shh"));
}
