//! Pure request/response tests, and the token cache driven through a closure transport.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use byoc_core::{ChannelAccount, ConversationAccount, Secret};
use byoc_http::TransportFuture;
use bytes::Bytes;

use super::*;
use crate::config::{EntraApp, HeaderNames};

const TENANT: &str = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
const APP: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const ORG: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const CH: &str = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";

fn cfg() -> MessagingApiConfig {
    MessagingApiConfig::new(
        EntraApp::new(TENANT, APP, Secret::new("pw")).unwrap(),
        ORG,
        CH,
        "eu",
        "crm4",
    )
    .unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/messaging-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn resp(status: u16, body: &[u8]) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::copy_from_slice(body))
        .unwrap()
}

#[test]
fn create_request_has_headers_and_path() {
    let token = Secret::new("tok");
    let req = prepare_create(&cfg(), &token, &CreateConversation::new()).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(
        req.uri().to_string(),
        format!(
            "https://m-{ORG}.eu.omnichannelengagementhub.com/api/v1.0/consumer/conversations/create"
        )
    );
    assert_eq!(req.headers()["authorization"], "Bearer tok");
    assert!(req.headers()["authorization"].is_sensitive());
    assert_eq!(req.headers()["channel-id"], CH);
    assert_eq!(req.headers()["organization-id"], ORG);
    assert!(req.headers().get("x-ms-channel-id").is_none());

    let legacy = cfg().with_header_names(HeaderNames::Legacy);
    let req = prepare_create(&legacy, &token, &CreateConversation::new()).unwrap();
    assert_eq!(req.headers()["x-ms-channel-id"], CH);
    assert!(req.headers().get("channel-id").is_none());
    let both = cfg()
        .with_header_names(HeaderNames::Both)
        .with_create_path(crate::config::ALT_CREATE_PATH)
        .unwrap();
    let req = prepare_create(&both, &token, &CreateConversation::new()).unwrap();
    assert!(req.headers().contains_key("x-ms-organization-id"));
    assert!(req.headers().contains_key("organization-id"));
    assert!(req.uri().path().ends_with("/consumer/conversation/create"));
}

#[test]
fn create_refuses_limits_before_building() {
    let body = CreateConversation::new()
        .with_customer(crate::render::CustomerContext::new("x".repeat(201)));
    let e = prepare_create(&cfg(), &Secret::new("t"), &body).unwrap_err();
    assert!(matches!(e, ClientError::Render(l) if l.field == "customercontext.customerid"));
}

#[test]
fn send_path_is_encoded() {
    let mut a = Activity::message("hi");
    a.conversation = Some(ConversationAccount::new("a/b c"));
    let out = render(&a, CH).unwrap();
    let req = prepare_send(&cfg(), &Secret::new("t"), &out).unwrap();
    assert_eq!(
        req.uri().path(),
        "/api/v1.0/consumer/conversation/a%2Fb%20c"
    );
    let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    assert_eq!(body["channelId"], CH);
}

#[test]
fn list_queries() {
    let t = Secret::new("t");
    let req = prepare_list(&cfg(), &t, &PageQuery::new()).unwrap();
    assert_eq!(req.uri().query(), None);
    let page = PageQuery::new()
        .with_page_size(1000)
        .with_start("2025-04-15T12:37:00+00:00")
        .with_continuation(Some("2025-04-15T12:38:00+00:00".into()));
    let req = prepare_list(&cfg(), &t, &page).unwrap();
    let q = req.uri().query().unwrap();
    assert!(q.contains("PageSize=250"), "{q}");
    assert!(
        q.contains("ContinuationToken=2025-04-15T12%3A38%3A00%2B00%3A00"),
        "{q}"
    );
    let req = prepare_messages(&cfg(), &t, "c1", &page).unwrap();
    assert!(req.uri().query().unwrap().contains("PageSize=100"));
    assert_eq!(
        req.uri().path(),
        "/api/v1.0/consumer/conversation/c1/messages"
    );
    let req = prepare_context(&cfg(), &t, "c1").unwrap();
    assert_eq!(
        req.uri().path(),
        "/api/v1.0/consumer/conversation/c1/context"
    );
    assert_eq!(req.method(), http::Method::GET);
}

#[test]
fn parse_fixtures_and_casing_quirks() {
    let c = parse_create(&resp(200, &fixture("response-create-conversation.json"))).unwrap();
    assert_eq!(c.conversation_id, "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f");
    assert!(c.is_new);
    assert_eq!(c.message_id.as_deref(), Some("1714668412093"));
    let c = parse_create(&resp(200, br#"{"conversationid":"x","isnew":false}"#)).unwrap();
    assert!(!c.is_new);
    let s = parse_send(&resp(200, &fixture("response-send-message.json"))).unwrap();
    assert_eq!(s.message_id.as_deref(), Some("1714668533871"));
    assert_eq!(parse_send(&resp(202, b"")).unwrap().message_id, None);

    let p = parse_list(&resp(
        200,
        br#"{"conversations":[{"conversationid":"g1","timestamp":"2025-04-15T12:36:40.9049594Z"}],"continuationtoken":"n"}"#,
    ))
    .unwrap();
    assert_eq!(p.conversations[0].conversation_id, "g1");
    assert_eq!(p.continuation_token.as_deref(), Some("n"));
    let p = parse_list(&resp(
        200,
        br#"{"conversations":[],"continuationToken":null}"#,
    ))
    .unwrap();
    assert_eq!(p.continuation_token, None);

    let m = parse_messages(&resp(
        200,
        br#"{"messages":[{"type":"message","attachments":[],"text":"Message 1","messageId":"12313","timestamp":"2025-04-15T12:37:00+00:00","from":{},"channelData":{}}],"continuationToken":"2025-04-15T12:38:00+00:00"}"#,
    ))
    .unwrap();
    assert_eq!(m.messages[0].text.as_deref(), Some("Message 1"));
    assert_eq!(message_id(&m.messages[0]).as_deref(), Some("12313"));
    assert_eq!(
        m.continuation_token.as_deref(),
        Some("2025-04-15T12:38:00+00:00")
    );

    let ctx = parse_context(&resp(
        200,
        br#"{"context":[{"name":"contextname1","value":"value 1"}]}"#,
    ))
    .unwrap();
    assert_eq!(ctx[0].name, "contextname1");
    assert_eq!(ctx[0].value, "value 1");

    assert!(matches!(
        parse_create(&resp(200, b"{}")),
        Err(ClientError::Decode {
            field: "conversationId",
            ..
        })
    ));
    assert!(matches!(
        parse_send(&resp(404, b"{}")),
        Err(ClientError::Status { status: 404, .. })
    ));
}

/// A token endpoint and an API behind one closure: counts token fetches, answers 401 to the
/// first API call made with `stale`.
fn fake(
    fetches: &'static AtomicUsize,
    refuse_first: bool,
    expires_in: u64,
) -> Arc<dyn HttpTransport> {
    let refused: &'static Mutex<bool> = Box::leak(Box::new(Mutex::new(!refuse_first)));
    Arc::new(move |req: http::Request<Bytes>| -> TransportFuture {
        let n = if req.uri().path().ends_with("/token") {
            Some(fetches.fetch_add(1, Ordering::SeqCst) + 1)
        } else {
            None
        };
        let mut first = refused.lock().unwrap();
        let out = match n {
            Some(n) => resp(
                200,
                format!(
                    r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"t{n}"}}"#
                )
                .as_bytes(),
            ),
            None if !*first => {
                *first = true;
                resp(401, b"")
            }
            None => {
                let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
                resp(200, format!(r#"{{"messageId":"{auth}"}}"#).as_bytes())
            }
        };
        Box::pin(async move { Ok(out) })
    })
}

fn msg() -> Activity {
    let mut a = Activity::message("hello");
    a.conversation = Some(ConversationAccount::new("c1"));
    a.from = Some(ChannelAccount::new("u1"));
    a
}

#[tokio::test(start_paused = true)]
async fn token_is_cached_and_refreshed_before_expiry() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let client = MessagingApiClient::with_transport(cfg(), fake(&FETCHES, false, 3600)).unwrap();
    let s = client.send(&msg()).await.unwrap();
    assert_eq!(s.message_id.as_deref(), Some("Bearer t1"));
    client.send(&msg()).await.unwrap();
    assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
    // 3600 s lifetime, 300 s margin: still cached at 3200 s, refreshed after 3300 s.
    tokio::time::advance(Duration::from_secs(3200)).await;
    client.send(&msg()).await.unwrap();
    assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(101)).await;
    let s = client.send(&msg()).await.unwrap();
    assert_eq!(s.message_id.as_deref(), Some("Bearer t2"));
    assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn refused_token_is_replaced_once() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let client = MessagingApiClient::with_transport(cfg(), fake(&FETCHES, true, 3600)).unwrap();
    let s = client.send(&msg()).await.unwrap();
    assert_eq!(s.message_id.as_deref(), Some("Bearer t2"));
    assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn limits_are_checked_before_any_request() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let client = MessagingApiClient::with_transport(cfg(), fake(&FETCHES, false, 3600)).unwrap();
    let mut a = msg();
    a.text = Some("x".repeat(6001));
    let e = client.send(&a).await.unwrap_err();
    assert!(matches!(e, ClientError::Render(_)));
    assert_eq!(FETCHES.load(Ordering::SeqCst), 0);
    let e: byoc_core::AdapterError = e.into();
    assert_eq!(e.field(), Some("text"));
}

#[test]
fn client_debug_has_no_secret() {
    let unused = |_req: http::Request<Bytes>| -> TransportFuture {
        Box::pin(async {
            Err(byoc_http::TransportError::from_kind(
                byoc_http::TransportErrorKind::Connect,
            ))
        })
    };
    let client = MessagingApiClient::with_transport(cfg(), Arc::new(unused)).unwrap();
    let dbg = format!("{client:?}");
    assert!(dbg.contains("redacted"), "{dbg}");
    assert!(!dbg.contains("\"pw\""), "{dbg}");
}

#[tokio::test]
async fn transport_failures_name_the_endpoint_and_are_retryable() {
    let refused = |_req: http::Request<Bytes>| -> TransportFuture {
        Box::pin(async {
            Err(byoc_http::TransportError::from_kind(
                byoc_http::TransportErrorKind::Connect,
            ))
        })
    };
    let client = MessagingApiClient::with_transport(cfg(), Arc::new(refused)).unwrap();
    // The token endpoint is the first call: its failure is a token error.
    let e = client.send(&msg()).await.unwrap_err();
    assert!(
        matches!(e, ClientError::Token(byoc_http::TokenError::Transport(_))),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert!(byoc_core::AdapterError::from(e).is_retryable());
}

#[tokio::test]
async fn error_statuses_keep_the_code_and_retry_after_never_the_text() {
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    let api = move |req: http::Request<Bytes>| -> TransportFuture {
        let out = if req.uri().path().ends_with("/token") {
            FETCHES.fetch_add(1, Ordering::SeqCst);
            resp(
                200,
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"t"}"#,
            )
        } else {
            http::Response::builder()
                .status(429)
                .header("retry-after", "7")
                .body(Bytes::from_static(
                    br#"{"error":{"code":"TooManyRequests","message":"pii here"}}"#,
                ))
                .unwrap()
        };
        Box::pin(async move { Ok(out) })
    };
    let client = MessagingApiClient::with_transport(cfg(), Arc::new(api)).unwrap();
    let e = client.send(&msg()).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Status { endpoint: "send", status: 429, code: Some(c), .. } if c == "TooManyRequests"),
        "{e:?}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(!e.to_string().contains("pii"));
}
