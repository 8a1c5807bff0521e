//! The token endpoint against the configured certificate, and the header checks.

use http::StatusCode;
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn token_accepted_with_the_certificate_and_the_public_key() {
    let sh = shared(SimConfig::default());
    assert!(sh.cfg.certificate_pem.is_some());
    let t = token(&sh).await;
    assert!(t.starts_with(&format!("{TEST_ORG_ID}!")));
    let sh = shared(SimConfig::default().with_public_key(TEST_PUBLIC_KEY_PEM));
    token(&sh).await;
}

#[tokio::test]
async fn token_refused_with_another_certificate() {
    let sh = shared(SimConfig::default().with_certificate(OTHER_CERTIFICATE_PEM));
    let (status, v) = call(&sh, token_request(&grant(&assertion(&claims())))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"error": "invalid_grant", "error_description": "invalid assertion"})
    );
    assert_eq!(
        sh.tokens_issued.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn a_bad_certificate_is_refused_at_start() {
    let cfg = SimConfig::default()
        .with_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----");
    assert!(Shared::new(cfg, URL).is_err());
    let cfg = SimConfig::default().with_keepalive(std::time::Duration::ZERO);
    assert!(Shared::new(cfg, URL).is_err());
}

#[tokio::test]
async fn token_endpoint_error_per_fault() {
    let sh = shared(SimConfig::default());
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        grant(&assertion(&c))
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "a=b".into(),
            "unsupported_grant_type",
            "grant type not supported",
        ),
        (
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer".into(),
            "invalid_request",
            "missing assertion",
        ),
        (grant("not.a.jwt"), "invalid_grant", "invalid assertion"),
        (
            with("exp", json!(now - 60)),
            "invalid_grant",
            "expired authorization code",
        ),
        // Milliseconds (as some docs say) are far in the future.
        (
            with("exp", json!(now * 1000)),
            "invalid_grant",
            "expiration too far in the future",
        ),
        (
            with("iss", json!("other")),
            "invalid_grant",
            "client identifier invalid",
        ),
        (
            with("aud", json!("https://login.salesforce.com")),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            with("sub", json!("else@example.com")),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
    ];
    for (form, error, description) in cases {
        let (status, v) = call(&sh, token_request(&form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}");
        assert_eq!(v["error"], error, "{form}");
        assert_eq!(v["error_description"], description, "{form}");
    }
}

#[tokio::test]
async fn header_checks_and_their_codes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let ack = |sh: &Shared| {
        Call::json(
            sh,
            &t,
            "PATCH",
            "/api/v1/consent",
            &json!({"consentStatus": "OptedOut"}),
        )
    };
    let (s, _) = call(&sh, ack(&sh).request()).await;
    assert_eq!(s, StatusCode::OK);
    expect(
        &sh,
        ack(&sh).without("authorization"),
        StatusCode::UNAUTHORIZED,
        10004,
    )
    .await;
    expect(
        &sh,
        ack(&sh).set("authorization", "Bearer 00D!nope"),
        StatusCode::UNAUTHORIZED,
        10004,
    )
    .await;
    expect(
        &sh,
        ack(&sh).set("orgid", "00D000000000000"),
        StatusCode::BAD_REQUEST,
        10016,
    )
    .await;
    expect(
        &sh,
        ack(&sh).without("orgid"),
        StatusCode::BAD_REQUEST,
        10016,
    )
    .await;
    expect(
        &sh,
        ack(&sh).set("authorizationcontext", "Other"),
        StatusCode::FORBIDDEN,
        10005,
    )
    .await;
    expect(
        &sh,
        ack(&sh).set("requestid", "42"),
        StatusCode::BAD_REQUEST,
        10016,
    )
    .await;
    expect(
        &sh,
        ack(&sh).without("requestid"),
        StatusCode::BAD_REQUEST,
        10016,
    )
    .await;
    expect(
        &sh,
        ack(&sh).set("content-type", "text/plain"),
        StatusCode::BAD_REQUEST,
        10016,
    )
    .await;
    // PATCH /agentWork needs AuthorizationContextType.
    let work = json!({"workId": "0Bz5g000000AgW1", "status": "Close", "contextType": "Agent"});
    let c = || Call::json(&sh, &t, "PATCH", "/api/v1/agentWork", &work);
    expect(&sh, c(), StatusCode::BAD_REQUEST, 10093).await;
    expect(
        &sh,
        c().set("authorizationcontexttype", "Nope"),
        StatusCode::BAD_REQUEST,
        10093,
    )
    .await;
    let (s, _) = call(
        &sh,
        c().set("authorizationcontexttype", "ConversationChannelDefinition")
            .request(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    // An expired token answers 10004.
    lock(&sh.tokens).clear();
    expect(&sh, ack(&sh), StatusCode::UNAUTHORIZED, 10004).await;
}

#[tokio::test]
async fn a_configured_audience_is_accepted_beside_the_simulators_own_url() {
    let sh = shared(SimConfig::default().with_audience("https://login.salesforce.com"));
    for aud in ["https://login.salesforce.com", URL] {
        let mut c = claims();
        c["aud"] = json!(aud);
        let (status, v) = call(&sh, token_request(&grant(&assertion(&c)))).await;
        assert_eq!(status, StatusCode::OK, "{aud}: {v}");
    }
    let mut c = claims();
    c["aud"] = json!("https://test.salesforce.com");
    let (status, v) = call(&sh, token_request(&grant(&assertion(&c)))).await;
    assert_eq!(
        (status, v["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("audience is invalid"))
    );
}
