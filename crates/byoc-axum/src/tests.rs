use std::sync::Mutex;

use async_trait::async_trait;
use byoc_core::{ChannelInfo, Delivery, Inbound};
use tower::ServiceExt;

use super::*;

/// A channel whose webhook carries one activity and must present `x-key: k`.
struct KeyedChannel(ChannelInfo);

#[async_trait]
impl ChannelAdapter for KeyedChannel {
    fn info(&self) -> &ChannelInfo {
        &self.0
    }
    async fn receive(&self, request: http::Request<Bytes>) -> Result<Inbound, AdapterError> {
        if request.headers().get("x-key").map(|v| v.as_bytes()) != Some(b"k") {
            return Err(AdapterError::unauthorized("bad key"));
        }
        let activity = Activity::from_slice(request.body())?;
        let mut answer = http::Response::new(Bytes::from_static(b"{\"ok\":true}"));
        *answer.status_mut() = http::StatusCode::ACCEPTED;
        Ok(Inbound::with_response(vec![activity], answer))
    }
    async fn send(&self, _: &Activity) -> Result<Delivery, AdapterError> {
        Ok(Delivery::accepted(None))
    }
}

fn adapter() -> Arc<KeyedChannel> {
    Arc::new(KeyedChannel(ChannelInfo::new("keyed")))
}

fn request(key: &str, body: &'static str) -> Request {
    http::Request::post("/hook")
        .header("x-key", key)
        .body(Body::from(body))
        .unwrap()
}

async fn call(app: axum::Router, req: Request) -> (http::StatusCode, String) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn accepted_activities_reach_the_sink_before_the_adapters_answer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        webhook(adapter(), move |r: Received| {
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push((r.channel_id, r.activities[0].id.clone()));
                Ok::<(), SinkError>(())
            }
        }),
    );
    let (status, body) = call(app, request("k", r#"{"type":"message","id":"m1"}"#)).await;
    assert_eq!(status, 202);
    assert_eq!(body, r#"{"ok":true}"#);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("keyed".to_owned(), Some("m1".to_owned()))]
    );
}

fn never_called() -> impl ActivitySink {
    |_: Received| async {
        panic!("the sink must not see refused requests") as Result<(), SinkError>
    }
}

#[tokio::test]
async fn refused_requests_get_the_adapters_status_and_never_reach_the_sink() {
    let app = axum::Router::new().route("/hook", webhook(adapter(), never_called()));
    let (status, body) = call(app.clone(), request("wrong", r#"{"type":"message"}"#)).await;
    assert_eq!(status, 401);
    assert!(body.contains("Unauthorized"), "{body}");
    let (status, body) = call(app, request("k", "[1,2]")).await;
    assert_eq!(status, 400);
    assert!(!body.contains("[1,2]"), "the answer never echoes the body");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_unread() {
    let app = axum::Router::new().route(
        "/hook",
        Webhook::new(adapter(), never_called())
            .body_limit(16)
            .into_route(),
    );
    let (status, _) = call(
        app,
        request(
            "k",
            r#"{"type":"message","text":"far too long for sixteen bytes"}"#,
        ),
    )
    .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_sink_that_cannot_persist_makes_the_provider_retry() {
    let app = axum::Router::new().route(
        "/hook",
        webhook(adapter(), |_: Received| async {
            Err::<(), _>(SinkError::unavailable("store is down"))
        }),
    );
    let (status, body) = call(app, request("k", r#"{"type":"message"}"#)).await;
    assert_eq!(status, 503);
    assert!(!body.contains("store is down"), "reasons stay in our logs");
}

#[tokio::test]
async fn a_sink_may_refuse_or_replace_the_answer() {
    let app = axum::Router::new()
        .route(
            "/refuse",
            webhook(adapter(), |_: Received| async {
                Err::<(), _>(SinkError::from(AdapterError::bad_request(
                    "conversation.id",
                    "unknown",
                )))
            }),
        )
        .route(
            "/replace",
            webhook(adapter(), |_: Received| async {
                Ok::<_, SinkError>(http::Response::new(Bytes::from_static(b"invoke answer")))
            }),
        );
    let mut req = request("k", r#"{"type":"message"}"#);
    *req.uri_mut() = "/refuse".parse().unwrap();
    let (status, body) = call(app.clone(), req).await;
    assert_eq!(status, 400);
    assert!(body.contains("conversation.id"));
    let mut req = request("k", r#"{"type":"invoke"}"#);
    *req.uri_mut() = "/replace".parse().unwrap();
    let (status, body) = call(app, req).await;
    assert_eq!(status, 200);
    assert_eq!(body, "invoke answer");
}

#[tokio::test]
async fn adapter_errors_are_axum_responses() {
    let e = AdapterError::rate_limited(Some(std::time::Duration::from_secs(3)), "slow");
    let resp = e.into_response();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()[http::header::RETRY_AFTER], "3");
}
