use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use byoc_core::Secret;
use byoc_http::TransportFuture;

use super::*;

#[test]
fn send_and_reply_paths() {
    let a = Activity::message("hi");
    let r =
        ConnectorClient::prepare_send("https://smba.example/teams/", "a:1|2", None, &a).unwrap();
    assert_eq!(
        r.uri(),
        "https://smba.example/teams/v3/conversations/a%3A1%7C2/activities"
    );
    let r =
        ConnectorClient::prepare_send("https://smba.example/teams", "c", Some("m1"), &a).unwrap();
    assert_eq!(
        r.uri(),
        "https://smba.example/teams/v3/conversations/c/activities/m1"
    );
    assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
    assert!(
        r.headers().get(http::header::AUTHORIZATION).is_none(),
        "the token is added when sending"
    );
}

#[test]
fn attachment_data_is_base64_and_redacted_in_debug() {
    let d = AttachmentData::new("image/png", "a.png", Bytes::from_static(b"\x89PNG"));
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["originalBase64"], "iVBORw==");
    assert_eq!(v["type"], "image/png");
    assert!(!format!("{d:?}").contains("PNG"));
}

fn config() -> ConnectorConfig {
    ConnectorConfig::new("app-1", Secret::new("pw&=x")).unwrap()
}

/// A token endpoint that counts grants and a Connector that refuses the first token.
#[derive(Default)]
struct Fake {
    grants: AtomicUsize,
    sent: Mutex<Vec<(String, String, bool)>>,
}

fn transport(fake: Arc<Fake>) -> Arc<dyn HttpTransport> {
    Arc::new(move |r: http::Request<Bytes>| -> TransportFuture {
        let fake = fake.clone();
        Box::pin(async move {
            let uri = r.uri().to_string();
            if uri.ends_with("/oauth2/v2.0/token") {
                assert_eq!(
                    std::str::from_utf8(r.body()).unwrap(),
                    "grant_type=client_credentials&client_id=app-1&client_secret=pw%26%3Dx&scope=https%3A%2F%2Fapi.botframework.com%2F.default"
                );
                let n = fake.grants.fetch_add(1, Ordering::SeqCst) + 1;
                let body =
                    format!(r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"t{n}"}}"#);
                return Ok(http::Response::new(Bytes::from(body)));
            }
            let auth = &r.headers()[http::header::AUTHORIZATION];
            fake.sent.lock().unwrap().push((
                uri,
                auth.to_str().unwrap().to_owned(),
                auth.is_sensitive(),
            ));
            let mut resp = http::Response::new(Bytes::from_static(br#"{"id":"a-1"}"#));
            if auth == "Bearer t1" {
                *resp.status_mut() = http::StatusCode::UNAUTHORIZED;
            }
            Ok(resp)
        })
    })
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_and_the_call_sent_again() {
    let fake = Arc::new(Fake::default());
    let client = ConnectorClient::with_transport(config(), transport(fake.clone())).unwrap();
    let sent = client
        .send_to_conversation(
            "https://smba.example/teams/",
            "c1",
            &Activity::message("hi"),
        )
        .await
        .unwrap();
    assert_eq!(sent.id.as_deref(), Some("a-1"));
    client
        .send_to_conversation(
            "https://smba.example/teams/",
            "c1",
            &Activity::message("again"),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.grants.load(Ordering::SeqCst),
        2,
        "one renewal, then cached"
    );
    let sent = fake.sent.lock().unwrap();
    let tokens: Vec<_> = sent.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(tokens, ["Bearer t1", "Bearer t2", "Bearer t2"]);
    assert!(sent.iter().all(|(_, _, sensitive)| *sensitive));
    assert_eq!(
        sent[0].0,
        "https://smba.example/teams/v3/conversations/c1/activities"
    );
}

#[tokio::test]
async fn transport_failures_name_the_endpoint() {
    let down = Arc::new(|_: http::Request<Bytes>| -> TransportFuture {
        Box::pin(async {
            Err(TransportError::from_kind(
                byoc_http::TransportErrorKind::Connect,
            ))
        })
    });
    let client = ConnectorClient::with_transport(config(), down).unwrap();
    let err = client
        .delete_activity("https://smba.example/", "c", "a")
        .await
        .unwrap_err();
    // The token request fails first.
    assert!(
        matches!(err, ClientError::Token(TokenError::Transport(_))),
        "{err:?}"
    );
    assert!(err.is_retryable());
}
