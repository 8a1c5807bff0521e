use std::sync::atomic::{AtomicUsize, Ordering};

use byoc_core::{ConversationAccount, Secret};
use byoc_http::TransportFuture;
use byoc_http::jsonwebtoken::{self, Algorithm, EncodingKey, Header};

use super::*;
use crate::config::EntraApp;

const TENANT: &str = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
const APP: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const ORG: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const CH: &str = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";

fn config() -> MessagingApiConfig {
    let app = EntraApp::new(TENANT, APP, Secret::new("pw")).unwrap();
    MessagingApiConfig::new(app, ORG, CH, "eu", "crm4").unwrap()
}

fn response(status: u16, body: &'static [u8]) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from_static(body))
        .unwrap()
}

/// A transport answering every request with the tenant's key set (`k1`), or 503.
fn jwks_transport(fetches: &'static AtomicUsize, ok: bool) -> Arc<dyn HttpTransport> {
    Arc::new(move |req: http::Request<Bytes>| -> TransportFuture {
        assert!(req.uri().path().ends_with("/discovery/v2.0/keys"));
        fetches.fetch_add(1, Ordering::SeqCst);
        let out = if ok {
            response(
                200,
                br#"{"keys":[{"kty":"RSA","kid":"k1","n":"sXch","e":"AQAB"}]}"#,
            )
        } else {
            response(503, b"")
        };
        Box::pin(async move { Ok(out) })
    })
}

/// Headers with a bearer token naming `kid` (its signature does not matter here).
fn bearer_with_kid(kid: &str) -> http::HeaderMap {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let token = jsonwebtoken::encode(
        &header,
        &serde_json::json!({"sub": "x"}),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    h
}

#[test]
fn webhook_paths_name_the_conversation() {
    let cases = [
        ("/v3/conversations/abc/activities", Some("abc")),
        (
            "/hooks/x/v3/conversations/2f6b-8d0e/activities",
            Some("2f6b-8d0e"),
        ),
        ("/v3/conversations/a%20b/activities", Some("a b")),
        ("/v3/conversations/a%2Fb/activities", None),
        ("/v3/conversations//activities", None),
        ("/v3/conversations/abc", None),
        ("/v2/conversations/abc/activities", None),
        ("/", None),
    ];
    for (path, want) in cases {
        assert_eq!(webhook_conversation_id(path).as_deref(), want, "{path}");
    }
}

#[test]
fn info_describes_the_channel() {
    let i = MessagingApiAdapter::channel_info();
    assert_eq!(i.channel_id, "messaging-api");
    assert_eq!(i.max_text_len, Some(6000));
    for c in [
        Capability::Attachments,
        Capability::Typing,
        Capability::Markdown,
        Capability::Events,
    ] {
        assert!(i.supports(c), "{c:?}");
    }
    assert!(!i.supports(Capability::RichCards));
    assert!(!i.supports(Capability::SuggestedActions));
}

#[tokio::test(start_paused = true)]
async fn unknown_key_ids_fetch_the_keys_again_at_most_every_five_minutes() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let adapter =
        MessagingApiAdapter::with_transport(config(), jwks_transport(&FETCHES, true)).unwrap();
    // The first token fetches the keys; a known kid fetches nothing more.
    let e = adapter
        .authenticate(&bearer_with_kid("k1"))
        .await
        .unwrap_err();
    assert_eq!(e, VerifyError::UnsupportedAlgorithm);
    let _ = adapter.authenticate(&bearer_with_kid("k1")).await;
    assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
    // An unknown kid fetches once; a burst of them does not hammer the key endpoint.
    for _ in 0..5 {
        let e = adapter
            .authenticate(&bearer_with_kid("k2"))
            .await
            .unwrap_err();
        assert_eq!(e, VerifyError::UnsupportedAlgorithm);
    }
    assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
    tokio::time::advance(Duration::from_secs(301)).await;
    let _ = adapter.authenticate(&bearer_with_kid("k2")).await;
    assert_eq!(FETCHES.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn unavailable_keys_are_transient_and_fetched_again_next_time() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let adapter =
        MessagingApiAdapter::with_transport(config(), jwks_transport(&FETCHES, false)).unwrap();
    let e = adapter
        .authenticate(&bearer_with_kid("k1"))
        .await
        .unwrap_err();
    assert_eq!(e, VerifyError::KeysUnavailable);
    let e: AdapterError = e.into();
    assert!(e.is_retryable(), "Omnichannel gets a 503 and retries");
    let _ = adapter.authenticate(&bearer_with_kid("k1")).await;
    assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn legacy_token_mode_fetches_no_keys() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let config = config()
        .with_webhook_auth(WebhookAuthMode::LegacyToken(Secret::new("shared")))
        .unwrap();
    let adapter =
        MessagingApiAdapter::with_transport(config, jwks_transport(&FETCHES, true)).unwrap();
    let mut h = http::HeaderMap::new();
    h.insert("x-ms-token", "shared".parse().unwrap());
    assert_eq!(adapter.authenticate(&h).await.unwrap(), Caller::LegacyToken);
    assert_eq!(FETCHES.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_delivery_names_the_message_and_the_conversation() {
    let api = |req: http::Request<Bytes>| -> TransportFuture {
        let out = if req.uri().path().ends_with("/token") {
            response(
                200,
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"t"}"#,
            )
        } else {
            assert_eq!(req.uri().path(), "/api/v1.0/consumer/conversation/conv-1");
            response(200, br#"{"messageId":"1714668533871"}"#)
        };
        Box::pin(async move { Ok(out) })
    };
    let adapter = MessagingApiAdapter::with_transport(config(), Arc::new(api)).unwrap();
    let mut a = Activity::message("hello");
    a.conversation = Some(ConversationAccount::new("conv-1"));
    let d = adapter.send(&a).await.unwrap();
    assert_eq!(d.provider_id(), Some("1714668533871"));
    assert_eq!(d.part_count(), 1);
    assert_eq!(d.conversation_id.as_deref(), Some("conv-1"));
    assert_eq!(d.detail, None);
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_authentication() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let adapter = MessagingApiAdapter::with_transport(
        config().with_body_limit(16).unwrap(),
        jwks_transport(&FETCHES, true),
    )
    .unwrap();
    let req = http::Request::post("/v3/conversations/c/activities")
        .body(Bytes::from_static(&[b' '; 17]))
        .unwrap();
    let e = adapter.receive(req).await.unwrap_err();
    assert_eq!(e.http_status(), http::StatusCode::BAD_REQUEST);
    assert_eq!(FETCHES.load(Ordering::SeqCst), 0);
}
