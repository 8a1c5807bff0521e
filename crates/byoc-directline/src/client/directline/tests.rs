use std::sync::Mutex as StdMutex;

use byoc_http::TransportFuture;
use url::Url;

use super::*;

#[test]
fn conversation_fixtures_parse() {
    let c: Conversation = serde_json::from_str(include_str!(
        "../../../../../tests/fixtures/directline/conversation-start-response.json"
    ))
    .unwrap();
    assert_eq!(c.conversation_id, "7Hq2mXbLw3eK9pRtV1cZsA-us");
    assert_eq!(c.expires_in, Some(1800));
    assert!(c.stream_url.is_some());
    assert!(!format!("{c:?}").contains("ew0K"));
    let g: Conversation = serde_json::from_str(include_str!(
        "../../../../../tests/fixtures/directline/token-generate-response.json"
    ))
    .unwrap();
    assert!(g.stream_url.is_none());
}

type Seen = Arc<StdMutex<Vec<(http::Method, String, String, bool)>>>;

/// A Direct Line service in a closure: `answer` decides the status and body by path.
fn service(seen: Seen, answer: fn(&str, &str) -> (u16, &'static str)) -> Arc<dyn HttpTransport> {
    Arc::new(move |r: http::Request<Bytes>| -> TransportFuture {
        let auth = r.headers().get(http::header::AUTHORIZATION).cloned();
        let path = r.uri().path().to_owned();
        let bearer = auth
            .as_ref()
            .map(|a| a.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let (status, body) = answer(&path, &bearer);
        seen.lock().unwrap().push((
            r.method().clone(),
            path,
            bearer,
            auth.is_some_and(|a| a.is_sensitive()),
        ));
        Box::pin(async move {
            Ok(http::Response::builder()
                .status(status)
                .body(Bytes::from_static(body.as_bytes()))
                .unwrap())
        })
    })
}

fn client(transport: Arc<dyn HttpTransport>) -> DirectLineClient {
    let config = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new("the-secret")))
        .unwrap()
        .with_base_url(Url::parse("https://dl.example/v3/directline").unwrap())
        .unwrap()
        .with_user("dl_u", None)
        .unwrap();
    DirectLineClient::with_transport(config, transport).unwrap()
}

const GENERATED: &str = r#"{"conversationId":"c1","token":"tok-1","expires_in":1800}"#;
const STARTED: &str =
    r#"{"conversationId":"c1","token":"tok-2","expires_in":1800,"streamUrl":"wss://dl.example/s"}"#;

#[tokio::test]
async fn the_secret_only_mints_the_token_the_conversation_then_uses() {
    let seen: Seen = Arc::default();
    let c = client(service(seen.clone(), |path, _| match path {
        "/v3/directline/tokens/generate" => (200, GENERATED),
        "/v3/directline/conversations" => (201, STARTED),
        _ => (200, r#"{"id":"c1|0001"}"#),
    }));
    c.start().await.unwrap();
    assert_eq!(c.conversation_id().await.as_deref(), Some("c1"));
    assert_eq!(
        c.post_activity(&Activity::message("hi")).await.unwrap(),
        "c1|0001"
    );
    let seen = seen.lock().unwrap();
    let calls: Vec<_> = seen
        .iter()
        .map(|(m, p, a, _)| format!("{m} {p} {a}"))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /v3/directline/tokens/generate Bearer the-secret",
            "POST /v3/directline/conversations Bearer tok-1",
            "POST /v3/directline/conversations/c1/activities Bearer tok-2",
        ]
    );
    assert!(seen.iter().all(|(_, _, _, sensitive)| *sensitive));
}

#[tokio::test]
async fn calls_before_start_are_refused_without_a_request() {
    let seen: Seen = Arc::default();
    let c = client(service(seen.clone(), |_, _| (500, "")));
    assert!(matches!(
        c.post_activity(&Activity::message("hi")).await,
        Err(ClientError::NotStarted)
    ));
    assert!(matches!(c.reconnect().await, Err(ClientError::NotStarted)));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_ended_conversation_and_undecodable_answers_are_typed() {
    let seen: Seen = Arc::default();
    let c = client(service(seen, |path, _| match path {
        "/v3/directline/conversations/gone" => (404, ""),
        "/v3/directline/conversations/odd" => (200, "<html>"),
        _ => (500, ""),
    }));
    assert!(matches!(
        c.resume("gone", None).await,
        Err(ClientError::ConversationEnded)
    ));
    match c.resume("odd", None).await {
        Err(ClientError::Decode { endpoint, field }) => {
            assert_eq!((endpoint, field), (RECONNECT, "conversationId"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_expired_token_falls_back_to_the_secret_once() {
    const EXPIRED: &str = r#"{"error":{"code":"TokenExpired","message":"Token expired"}}"#;
    let seen: Seen = Arc::default();
    let c = client(service(seen.clone(), |path, bearer| match path {
        "/v3/directline/tokens/generate" => (200, GENERATED),
        "/v3/directline/conversations" => (201, STARTED),
        "/v3/directline/tokens/refresh" => (403, EXPIRED),
        _ if bearer == "Bearer the-secret" => (200, r#"{"activities":[],"watermark":"3"}"#),
        _ => (403, EXPIRED),
    }));
    c.start().await.unwrap();
    assert!(c.get_activities().await.unwrap().is_empty());
    assert_eq!(c.watermark().await.as_deref(), Some("3"));
    let seen = seen.lock().unwrap();
    let calls: Vec<_> = seen[2..]
        .iter()
        .map(|(m, p, a, _)| format!("{m} {p} {a}"))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /v3/directline/conversations/c1/activities Bearer tok-2",
            "POST /v3/directline/tokens/refresh Bearer tok-2",
            "GET /v3/directline/conversations/c1/activities Bearer the-secret",
        ]
    );
}
