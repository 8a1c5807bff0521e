use byoc_core::Secret;
use byoc_http::TransportFuture;

use super::*;

fn config() -> ConnectorConfig {
    ConnectorConfig::new("app-1", Secret::new("pw"))
        .unwrap()
        .with_body_limit(1024)
        .unwrap()
}

/// A key endpoint that answers `status` with `body` to everything.
fn keys_answering(status: u16, body: &'static str) -> Arc<dyn HttpTransport> {
    Arc::new(move |_: http::Request<Bytes>| -> TransportFuture {
        Box::pin(async move {
            Ok(http::Response::builder()
                .status(status)
                .body(Bytes::from_static(body.as_bytes()))
                .unwrap())
        })
    })
}

fn post(body: &'static str) -> http::Request<Bytes> {
    http::Request::post("/api/messages")
        .header("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.AA")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

const ACTIVITY: &str = r#"{"type":"message","channelId":"webchat","serviceUrl":"https://s.example/","conversation":{"id":"c"}}"#;

#[tokio::test]
async fn unusable_keys_answer_503_so_the_channel_retries() {
    for (status, body) in [(200, "<html>"), (500, ""), (200, r#"{"issuer":"x"}"#)] {
        let adapter =
            ConnectorAdapter::with_transport(config(), keys_answering(status, body)).unwrap();
        let err = adapter.receive(post(ACTIVITY)).await.unwrap_err();
        assert_eq!(err.code(), Some("KeysUnavailable"), "{status} {body}");
        assert!(err.is_retryable());
        assert_eq!(err.http_status(), 503);
    }
}

#[tokio::test]
async fn requests_are_refused_before_any_key_is_fetched() {
    let adapter = ConnectorAdapter::with_transport(
        config(),
        Arc::new(|_: http::Request<Bytes>| -> TransportFuture {
            panic!("no key fetch for a request refused up front")
        }),
    )
    .unwrap();
    let get = http::Request::get("/api/messages")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(
        adapter.receive(get).await.unwrap_err().field(),
        Some("method")
    );
    let big = http::Request::post("/api/messages")
        .body(Bytes::from(vec![b' '; 1025]))
        .unwrap();
    assert_eq!(
        adapter.receive(big).await.unwrap_err().field(),
        Some("body")
    );
    let anonymous = http::Request::post("/api/messages")
        .body(Bytes::from_static(ACTIVITY.as_bytes()))
        .unwrap();
    assert_eq!(
        adapter.receive(anonymous).await.unwrap_err().code(),
        Some("MissingAuthorization")
    );
}

#[tokio::test]
async fn replies_need_a_trusted_service_url_and_a_conversation() {
    let adapter = ConnectorAdapter::with_transport(
        config().with_trusted_service_url("https://*.botframework.com/*"),
        keys_answering(500, ""),
    )
    .unwrap();
    let mut reply = Activity::message("hi");
    assert_eq!(
        adapter.send(&reply).await.unwrap_err().field(),
        Some("serviceUrl")
    );
    reply.service_url = Some("https://attacker.example/".into());
    assert_eq!(
        adapter.send(&reply).await.unwrap_err().field(),
        Some("serviceUrl")
    );
    assert!(adapter.is_trusted("https://smba.botframework.com/teams/"));
    reply.service_url = Some("https://smba.botframework.com/teams/".into());
    assert_eq!(
        adapter.send(&reply).await.unwrap_err().field(),
        Some("conversation.id")
    );
}
