//! Known-answer vectors and one failing test per error variant.

use std::time::Duration;

use byoc_core::Secret;
use byoc_http::Jwk;
use byoc_http::jsonwebtoken::{DecodingKey, EncodingKey, Header};
use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, HeaderValue};
use serde_json::json;

use super::*;
use crate::config::{EntraApp, WebhookAuthMode};

mod kav {
    // Known-answer vectors shared with byoc-sim's messaging_api keys module: the simulator's
    // fixed test key and two tokens it signed (made with openssl, independent of both crates).
    pub(super) const KID: &str = "byoc-sim-key-1";
    pub(super) const N: &str = "uQWKVrgHq3h_OPHS_V6aGJrIe-QrAGfqNQhFYwTxfcgL42ZHSOWuDODW_Qrc1inWikUbrvgN8VWJki1w5d97Y4W-YhDmUEIYiIDYkVZGXaWmGUB0nJYE8NKl69BDPxDc34yB0k_uFOjx9L_RtXa2hEZilRFtW1GReYfqsoJz9eDFWRkfoTDJzWaZhkvP4CM2DyYnqupCAJ1ktxHPiv-eiWUpOp_i4yw1qqyox6LKRBHvWi_17IVX8ahzPyF9pdCl3qqnriZNAkuUs3nJFhh-izrt3z3ybuLoZke6wEH54MFRRjw-cVIKgdBIuQwNw3ss7vUdrrn4nHsrxTIBjwUT-w";
    pub(super) const E: &str = "AQAB";
    pub(super) const TENANT: &str = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
    pub(super) const APP: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    /// v2 token: iss login.microsoftonline.com/{TENANT}/v2.0, aud APP, azp APP, iat=nbf 1767222000, exp 1767225600.
    pub(super) const TOKEN_V2: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJ5b2Mtc2ltLWtleS0xIn0.eyJhdWQiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJpc3MiOiJodHRwczovL2xvZ2luLm1pY3Jvc29mdG9ubGluZS5jb20vN2QxZjNhNWMtOWUyYi00YzZkLThmMGEtMWIzYzVkN2U5ZjIwL3YyLjAiLCJpYXQiOjE3NjcyMjIwMDAsIm5iZiI6MTc2NzIyMjAwMCwiZXhwIjoxNzY3MjI1NjAwLCJhenAiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJzdWIiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJ0aWQiOiI3ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAiLCJ2ZXIiOiIyLjAifQ.FZ-5r6CRrIub-mU_5GdlU9Ff6RVYxu-jLMtcKN4XyGIMq4RgX2D25nKlSJjc8H7vkCu3sMmrlHZsoQHjtAI3nTkMwW-YCiiZoZLGIH5q3rC0r04FWAGocwOV1I8PIh-SKQkoyuOf2cQvenITk73Y69hR4dcg2XTY2urZFmj5qc_0pkinUD5L59Phir6CLKEJWiTqOtAdKWTpD9KNXZM9M3mBb7lUr8wc6D8LrkcRkO3sVU2KFBZGoZtz7jNc8T3oWyBDJ_2wA-LVGDrUyT6QgwqP-5rRi6pAQ0B6vt93qeBD19qNpg7QUu9yYK1uA2cetMCQ_ZggIAfUEWxC2CPa7Q";
    /// v1 token: iss sts.windows.net/{TENANT}/, aud api://APP, appid APP, same times.
    pub(super) const TOKEN_V1: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJ5b2Mtc2ltLWtleS0xIn0.eyJhdWQiOiJhcGk6Ly8zZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJpc3MiOiJodHRwczovL3N0cy53aW5kb3dzLm5ldC83ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAvIiwiaWF0IjoxNzY3MjIyMDAwLCJuYmYiOjE3NjcyMjIwMDAsImV4cCI6MTc2NzIyNTYwMCwiYXBwaWQiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJzdWIiOiIzZjI1MDRlMC00Zjg5LTQxZDMtOWEwYy0wMzA1ZTgyYzMzMDEiLCJ0aWQiOiI3ZDFmM2E1Yy05ZTJiLTRjNmQtOGYwYS0xYjNjNWQ3ZTlmMjAiLCJ2ZXIiOiIxLjAifQ.Qkdnruw05Yb9TWPAUL_eR70nepssehFzXZALxJcX9vxdK6enillrsdwVh8-MDwRwj_HTKgK4mqcnGfKJCxdZjkfiVKp5ky_vaRyoTdZQiMp4va6gHDhKJzfkm4qhXh8V3rFiRTX1oiqA77FIv9BvivPA5-7j-4QT5gYSnJOED4ZQUMqO6YNKc4e_ZBUXlj6Cg4O7qK5g-VJhGPmq_YIXokM3lxJW87SazvrexmzsTHR04KRblyIi2BQUDRA_0paRWGrpBRanyn4HLeVL2bQUSxEpFvbnB6mt6IKtupQMmZdRvOzGRGxJ9eATTNVmGAcOYckJQOzWKIEPBGMLnr9QAQ";
    pub(super) const PRIVATE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
    MIIEowIBAAKCAQEAuQWKVrgHq3h/OPHS/V6aGJrIe+QrAGfqNQhFYwTxfcgL42ZH
    SOWuDODW/Qrc1inWikUbrvgN8VWJki1w5d97Y4W+YhDmUEIYiIDYkVZGXaWmGUB0
    nJYE8NKl69BDPxDc34yB0k/uFOjx9L/RtXa2hEZilRFtW1GReYfqsoJz9eDFWRkf
    oTDJzWaZhkvP4CM2DyYnqupCAJ1ktxHPiv+eiWUpOp/i4yw1qqyox6LKRBHvWi/1
    7IVX8ahzPyF9pdCl3qqnriZNAkuUs3nJFhh+izrt3z3ybuLoZke6wEH54MFRRjw+
    cVIKgdBIuQwNw3ss7vUdrrn4nHsrxTIBjwUT+wIDAQABAoIBAFjBiiPggzlkA+++
    vd6yl4xvD/aytVgsAUOwdIy0Ld6PbPiIs3CKUay23RslL1wDVPoefdG5CAM569U2
    PD7hrrDG01X60mk0080DtiA+OWIqGRxq+aW2J6eY/WQ6k0+5GKOapRpNIqJgPtWQ
    gRqiWJrqotbstb+FSRp6M4Gvp84OU9EDM4fbUfFc93SVWZQlnhuvWliklOLvMjzF
    b+XI50RmO576U63qO1uPGfKWQi/NFIJK3rR+05Mbih02VpSWnsnwK9kyS188IQY/
    BCfZujpTWWA5MSKLHwS0x5wrnL2RkMrMhvtTzDD5lI0ELi8Ewlzm++elXyg1m7zS
    8WgJZ5kCgYEA8gfsdqOLaWlbavIv+heehvACidSBaafXcp+jOI5yshjsCqxHhJ1I
    qe3+66A9pMfY7Gn2BXle3IdAUrlIFRgZv19owkx0rz5zLV2x/MWlOIMVaz/zrj+W
    Ma9Yvnojw4+wvHCpDec2ib0LDs08O9nw3rk6Bk2eolUTaHjrKuVO3bkCgYEAw7NJ
    s4wuI0sTA0dDCaUzdffmHf+WtKC9Rah6z5X9CddAqRfe6Wy8NZ2Tx4GLE+up/MRh
    yEtV34M3mQToN8pfi2b2pCiAST/zc8MbQVtoURGuY/SeaoHf4jP7OccJ08MK0kkf
    ua7eyh4UT0mK6cw8B2kIQDLTD/oIl+ez12I9OVMCgYEAkLCR+X7d2h+lCjNM4Tr7
    h3m2WsWStCIl1519y1LFWJkzi1Hg03Pfu87OxfgewgLDONpDvJQJVNb6ajnf0NR+
    l/ymuPlSDG3OF0HbJNzXYAhlZp9twy66UGueJwkHlmKxaoYDWo9t+Dvuf2PMbY9l
    wxCCksAWZL9tgdg/5n39fukCgYBGfW/Qom+D+uiwR5zX/o9YsKBMseFg0n0aeCM0
    Xnw0bTo3Lgf24Fmynj26oOitljc2eq4V7TzTM3p1PZU/cz+TANVaL9R1jfls+xv4
    IKqkeM/t5RCioIE6Ays8lnrtsdVWBUzOHzTUbJ04Ke9FY3FD4gs8xJHNsWwi+yyG
    KjaPTQKBgDRSMBGKfUrWvJYjt2Kl8AHnQ2XwgYOshjh12ryeRYtavhv48aiFmZJr
    q9DxUelfLhWRnq30rNAR+1sH2AusLQMxIH5avEUSmPsbDgYmgWKxXkZbZ44CcJc1
    0tfMFILKyCiQnfnSCoZbhvyUM8lp3DGOm/C/xZCTemiMCSFi9BOn
    -----END RSA PRIVATE KEY-----";
}
use kav::*;

fn rsa_key(kid: &str) -> Jwk {
    Jwk::new(
        Some(kid.to_owned()),
        DecodingKey::from_rsa_components(N, E).unwrap(),
    )
}

fn keys() -> KeySet {
    KeySet::new().with_key(rsa_key(KID))
}

fn config() -> MessagingApiConfig {
    let app = EntraApp::new(TENANT, APP, Secret::new("pw")).unwrap();
    let org = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    MessagingApiConfig::new(
        app,
        org,
        "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a",
        "eu",
        "crm4",
    )
    .unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

const VALID_AT: i64 = 1_767_223_000;

fn bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    h
}

fn claims() -> serde_json::Value {
    json!({
        "aud": APP,
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "iat": 1_767_222_000, "nbf": 1_767_222_000, "exp": 1_767_225_600,
        "azp": APP, "tid": TENANT, "sub": APP, "ver": "2.0"
    })
}

fn sign(claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    let key = EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn with(field: &str, value: serde_json::Value) -> String {
    let mut c = claims();
    c[field] = value;
    sign(&c)
}

fn without(field: &str) -> String {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(field);
    sign(&c)
}

#[test]
fn known_answer_v2_token_verifies() {
    let c = verify_bearer(TOKEN_V2, &config(), &keys(), at(VALID_AT)).unwrap();
    assert_eq!(c.tenant_id, TENANT);
    assert_eq!(c.audience, APP);
    assert_eq!(c.app_id.as_deref(), Some(APP));
    assert_eq!(c.expires_at, 1_767_225_600);
    let caller = verify(&bearer(TOKEN_V2), &config(), &keys(), at(VALID_AT)).unwrap();
    assert!(matches!(caller, Caller::Bearer(_)));
}

#[test]
fn known_answer_v1_token_verifies() {
    let c = verify_bearer(TOKEN_V1, &config(), &keys(), at(VALID_AT)).unwrap();
    assert_eq!(c.issuer, format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(c.audience, format!("api://{APP}"));
}

#[test]
fn tokens_verify_against_the_tenants_jwks_document() {
    let doc = json!({"keys": [
        {"kty": "RSA", "use": "sig", "kid": KID, "n": N, "e": E},
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}
    ]});
    let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert!(set.contains(KID));
    verify_bearer(TOKEN_V2, &config(), &set, at(VALID_AT)).unwrap();
}

#[test]
fn a_key_of_another_type_under_the_tokens_kid_is_no_key() {
    let doc = json!({"keys": [
        {"kty": "EC", "kid": KID, "crv": "P-256", "x": "AA", "y": "AA"}
    ]});
    let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    let err = verify_bearer(TOKEN_V2, &config(), &set, at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::UnknownKey);
}

#[test]
fn token_kid_reads_the_header() {
    assert_eq!(token_kid(TOKEN_V2).unwrap().as_deref(), Some(KID));
    assert_eq!(token_kid("x.y").unwrap_err(), VerifyError::MalformedToken);
}

#[test]
fn a_request_without_a_token_is_refused() {
    let err = verify(&HeaderMap::new(), &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::MissingToken);
}

#[test]
fn malformed_header() {
    for value in ["Basic abc", "Bearer", "Bearer   ", "token"] {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, HeaderValue::from_static(value));
        let err = verify(&h, &config(), &keys(), at(VALID_AT)).unwrap_err();
        assert_eq!(err, VerifyError::MalformedHeader, "{value}");
    }
}

#[test]
fn malformed_token() {
    for t in ["abc", "a.b.c", "e30.e30"] {
        let err = verify_bearer(t, &config(), &keys(), at(VALID_AT)).unwrap_err();
        assert_eq!(err, VerifyError::MalformedToken, "{t}");
    }
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        verify_bearer(&huge, &config(), &keys(), at(VALID_AT)).unwrap_err(),
        VerifyError::MalformedToken
    );
}

#[test]
fn unsupported_algorithm() {
    let key = EncodingKey::from_secret(b"k");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    let t = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::UnsupportedAlgorithm);
}

#[test]
fn unknown_key() {
    let err = verify_bearer(TOKEN_V2, &config(), &KeySet::new(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::UnknownKey);
    let other = KeySet::new().with_key(rsa_key("other"));
    let err = verify_bearer(TOKEN_V2, &config(), &other, at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::UnknownKey);
}

#[test]
fn bad_signature() {
    // Claims changed, signature kept: it no longer covers them.
    let other = with("sub", json!("someone-else"));
    let p: Vec<&str> = other.split('.').collect();
    let sig = TOKEN_V2.rsplit('.').next().unwrap();
    let forged = format!("{}.{}.{}", p[0], p[1], sig);
    let err = verify_bearer(&forged, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::BadSignature);
}

#[test]
fn wrong_issuer() {
    let t = with("iss", json!("https://evil.example/v2.0"));
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::WrongIssuer);
}

#[test]
fn wrong_tenant() {
    let t = with("tid", json!("00000000-0000-0000-0000-000000000000"));
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::WrongTenant);
}

#[test]
fn wrong_audience() {
    let t = with("aud", json!("https://graph.microsoft.com"));
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::WrongAudience);
    let t = with("aud", json!(["x", APP]));
    assert!(verify_bearer(&t, &config(), &keys(), at(VALID_AT)).is_ok());
    let cfg = config()
        .with_webhook_audiences(vec!["https://contoso.example".into()])
        .unwrap();
    let err = verify_bearer(TOKEN_V2, &cfg, &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::WrongAudience);
}

#[test]
fn wrong_app() {
    let t = with("azp", json!("11111111-1111-1111-1111-111111111111"));
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::WrongApp);
    let cfg = config().without_app_id_check();
    assert!(verify_bearer(&t, &cfg, &keys(), at(VALID_AT)).is_ok());
}

#[test]
fn expired_beyond_the_clock_skew() {
    let exp = 1_767_225_600;
    assert!(verify_bearer(TOKEN_V2, &config(), &keys(), at(exp + 299)).is_ok());
    let err = verify_bearer(TOKEN_V2, &config(), &keys(), at(exp + 301)).unwrap_err();
    assert_eq!(err, VerifyError::Expired);
    let strict = config().with_clock_skew(Duration::ZERO);
    let err = verify_bearer(TOKEN_V2, &strict, &keys(), at(exp + 1)).unwrap_err();
    assert_eq!(err, VerifyError::Expired);
}

#[test]
fn not_yet_valid() {
    let nbf = 1_767_222_000;
    let err = verify_bearer(TOKEN_V2, &config(), &keys(), at(nbf - 301)).unwrap_err();
    assert_eq!(err, VerifyError::NotYetValid);
    assert!(verify_bearer(TOKEN_V2, &config(), &keys(), at(nbf - 299)).is_ok());
}

#[test]
fn missing_claims() {
    for claim in ["iss", "tid", "aud", "exp"] {
        let t = without(claim);
        let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
        assert_eq!(err, VerifyError::MissingClaim(claim), "{claim}");
    }
    let mut c = claims();
    c.as_object_mut().unwrap().remove("azp");
    let err = verify_bearer(&sign(&c), &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::MissingClaim("appid"));
    let t = with("exp", json!("tomorrow"));
    let err = verify_bearer(&t, &config(), &keys(), at(VALID_AT)).unwrap_err();
    assert_eq!(err, VerifyError::MissingClaim("payload"));
}

#[test]
fn legacy_token_mode() {
    let cfg = config()
        .with_webhook_auth(WebhookAuthMode::LegacyToken(Secret::new("shared-123")))
        .unwrap();
    let mut h = HeaderMap::new();
    h.insert(LEGACY_TOKEN_HEADER, HeaderValue::from_static("shared-123"));
    assert_eq!(
        verify(&h, &cfg, &keys(), at(VALID_AT)).unwrap(),
        Caller::LegacyToken
    );
    h.insert(LEGACY_TOKEN_HEADER, HeaderValue::from_static("shared-124"));
    assert_eq!(
        verify(&h, &cfg, &keys(), at(VALID_AT)).unwrap_err(),
        VerifyError::BadLegacyToken
    );
    // A bearer token is not accepted in legacy-only mode.
    assert_eq!(
        verify(&bearer(TOKEN_V2), &cfg, &keys(), at(VALID_AT)).unwrap_err(),
        VerifyError::MissingToken
    );
    // An empty shared token never authenticates: the configuration refuses it, and the
    // comparison refuses it too.
    assert!(
        config()
            .with_webhook_auth(WebhookAuthMode::LegacyToken(Secret::new("")))
            .is_err()
    );
    let mut h = HeaderMap::new();
    h.insert(LEGACY_TOKEN_HEADER, HeaderValue::from_static(""));
    assert_eq!(verify_legacy(&h, ""), Err(VerifyError::BadLegacyToken));
}

#[test]
fn either_mode_accepts_both() {
    let cfg = config()
        .with_webhook_auth(WebhookAuthMode::Either(Secret::new("shared-123")))
        .unwrap();
    assert!(matches!(
        verify(&bearer(TOKEN_V2), &cfg, &keys(), at(VALID_AT)).unwrap(),
        Caller::Bearer(_)
    ));
    let mut h = HeaderMap::new();
    h.insert(LEGACY_TOKEN_HEADER, HeaderValue::from_static("shared-123"));
    assert_eq!(
        verify(&h, &cfg, &keys(), at(VALID_AT)).unwrap(),
        Caller::LegacyToken
    );
    assert_eq!(
        verify(&HeaderMap::new(), &cfg, &keys(), at(VALID_AT)).unwrap_err(),
        VerifyError::MissingToken
    );
}

#[test]
fn key_set_debug_shows_no_key_material() {
    let dbg = format!("{:?}", keys());
    assert!(dbg.contains(KID));
    assert!(!dbg.contains(&N[..20]));
}

proptest::proptest! {
    #[test]
    fn arbitrary_tokens_never_panic(token in "\\PC{0,400}", dots in 0usize..4) {
        let mut t = token.clone();
        for _ in 0..dots { t.push('.'); t.push_str(&token); }
        let _ = verify_bearer(&t, &config(), &keys(), at(VALID_AT));
        let _ = token_kid(&t);
    }
}
