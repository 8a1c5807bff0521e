use std::sync::Mutex;

use super::*;
use crate::api::RoutingType;
use crate::config::{ChannelDefinition, Credentials};
use crate::render::{AttachmentFile, render_interaction};

const TEST_KEY: &str = include_str!("../../tests/keys/test-key.pem");

fn ctx_token() -> Secret {
    Secret::new("00D!tok")
}

fn ctx(token: &Secret) -> CallContext<'_> {
    CallContext::new(
        token,
        "00D000000000001",
        "Partner_Def",
        "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11",
    )
}

#[test]
fn call_context_constructors_set_every_header() {
    let t = ctx_token();
    let c = config();
    let ctx = CallContext::for_config(&c, &t, "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11")
        .with_authorization_context_type("ConversationChannelDefinition");
    let req = prepare_json(
        Method::PATCH,
        &c.scrt_url,
        "/agentWork",
        &serde_json::json!({}),
        &ctx,
    )
    .unwrap();
    let h = req.headers();
    assert_eq!(h["orgid"], "00D000000000001");
    assert_eq!(h["authorizationcontext"], "Def");
    assert_eq!(
        h["authorizationcontexttype"],
        "ConversationChannelDefinition"
    );
    assert_eq!(h["requestid"], "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
    assert!(format!("{ctx:?}").contains("redacted"));
    assert!(!format!("{ctx:?}").contains("00D!tok"));
}

#[test]
fn json_request_has_every_header_and_a_body_on_delete() {
    let t = ctx_token();
    let body = CancelRouteRequest {
        conversation_identifier: "c1".into(),
        cancel_reason: "Cancel".into(),
    };
    let req = prepare_json(
        Method::DELETE,
        "https://x.example",
        "/route",
        &body,
        &ctx(&t),
    )
    .unwrap();
    assert_eq!(req.uri(), "https://x.example/api/v1/route");
    let h = req.headers();
    assert_eq!(h["authorization"], "Bearer 00D!tok");
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h["orgid"], "00D000000000001");
    assert_eq!(h["authorizationcontext"], "Partner_Def");
    assert_eq!(h["requestid"], "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
    assert!(h.get("authorizationcontexttype").is_none());
    assert_eq!(h["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"conversationIdentifier": "c1", "cancelReason": "Cancel"})
    );
}

#[test]
fn multipart_has_the_json_part_and_one_file() {
    let t = ctx_token();
    let mut a = byoc_core::Activity::message("caption");
    a.from = Some(byoc_core::ChannelAccount::new("u1"));
    let mut r = render_interaction(&a, "to", 1).unwrap();
    r.attachment = Some(AttachmentFile::new("a\"b.png", "image/png", vec![1, 2, 3]).unwrap());
    let req = prepare_interaction("https://x.example", &r, &ctx(&t), "BOUNDARY").unwrap();
    assert_eq!(
        req.headers()["content-type"],
        "multipart/form-data; boundary=BOUNDARY"
    );
    let body = req.body();
    let text = String::from_utf8_lossy(body);
    assert!(text.starts_with("--BOUNDARY\r\nContent-Disposition: form-data; name=\"json\"\r\nContent-Type: application/json\r\n\r\n{\"to\":\"to\""));
    assert!(text.contains("name=\"attachments\"; filename=\"a_b.png\"\r\nContent-Type: image/png\r\n\r\n\u{1}\u{2}\u{3}\r\n"));
    assert!(text.ends_with("--BOUNDARY--\r\n"));
}

fn resp(status: u16, body: &str, retry_after: Option<&str>) -> http::Response<Bytes> {
    let mut r = http::Response::new(Bytes::from(body.to_owned()));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    if let Some(v) = retry_after {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_str(v).unwrap());
    }
    r
}

#[test]
fn parse_answers() {
    let ok: InteractionResponse = parse_json(&resp(
        202,
        include_str!("../../../../tests/fixtures/salesforce/interaction-response-202.json"),
        None,
    ))
    .unwrap();
    assert_eq!(ok.work_item_ids, vec!["0Mw5g000000Ab3C".to_owned()]);
    assert_eq!(
        ok.conversation_identifier.as_deref(),
        Some("e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f")
    );
    let e = parse_json::<InteractionResponse>(&resp(
        401,
        include_str!("../../../../tests/fixtures/salesforce/error-10004-invalid-token.json"),
        None,
    ))
    .unwrap_err();
    assert_eq!(e.code, Some(10004));
    assert!(e.is_token_rejected());
    let e = parse_json::<InteractionResponse>(&resp(429, "", Some("3"))).unwrap_err();
    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    assert!(e.is_rate_limited());
    let e = parse_json::<InteractionResponse>(&resp(200, "<html>", None)).unwrap_err();
    assert_eq!(e.status, 200);
    let empty: SuccessResponse = parse_json(&resp(202, "", None)).unwrap();
    assert_eq!(empty.success, None);
}

/// A transport answering from a script and recording what it was sent.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<Vec<http::Response<Bytes>>>,
    seen: Mutex<Vec<http::Request<Bytes>>>,
}

#[async_trait]
impl HttpTransport for Scripted {
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, AdapterError> {
        self.seen.lock().unwrap().push(request);
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            return Err(AdapterError::transient("script exhausted"));
        }
        Ok(a.remove(0))
    }
}

fn config() -> Config {
    Config::new(
        Credentials::new("key", "user@example.com", Secret::new(TEST_KEY))
            .with_login_host("https://login.example"),
        "00D000000000001",
        "https://scrt.example",
        "chan",
        ChannelDefinition::new("Def", "ns__Ev__e", "ns__EventType__c", "ns__Payload__c"),
    )
}

#[tokio::test(start_paused = true)]
async fn token_is_cached_reminted_on_10004_and_after_the_interval() {
    let t = Arc::new(Scripted::default());
    let token = |n: u32| {
        resp(
            200,
            &format!(r#"{{"access_token":"00D!t{n}","instance_url":"https://i.example"}}"#),
            None,
        )
    };
    *t.answers.lock().unwrap() = vec![
        token(1),
        resp(202, r#"{"success":true}"#, None),
        resp(
            401,
            r#"{"code":10004,"message":"The supplied Authorization access token is not valid."}"#,
            None,
        ),
        token(2),
        resp(202, r#"{"success":true}"#, None),
        token(3),
        resp(202, r#"{"success":true}"#, None),
    ];
    let c = InteractionClient::new(config(), t.clone()).unwrap();
    c.end_session("u", "c").await.unwrap();
    c.end_session("u", "c").await.unwrap();
    tokio::time::advance(Duration::from_secs(31 * 60)).await;
    c.end_session("u", "c").await.unwrap();
    let seen = t.seen.lock().unwrap();
    let paths: Vec<String> = seen.iter().map(|r| r.uri().path().to_owned()).collect();
    assert_eq!(
        paths,
        [
            "/services/oauth2/token",
            "/api/v1/messagingSession",
            "/api/v1/messagingSession",
            "/services/oauth2/token",
            "/api/v1/messagingSession",
            "/services/oauth2/token",
            "/api/v1/messagingSession",
        ]
    );
    assert_eq!(seen[4].headers()["authorization"], "Bearer 00D!t2");
    assert_ne!(
        seen[1].headers()["requestid"],
        seen[2].headers()["requestid"]
    );
}

#[tokio::test]
async fn validation_before_sending() {
    let t = Arc::new(Scripted::default());
    let c = InteractionClient::new(config(), t.clone()).unwrap();
    assert!(c.acknowledge("u", "c", vec![]).await.unwrap_err().field() == Some("acknowledgements"));
    let bad = RoutingResultRequest {
        routing_type: RoutingType::Transfer,
        work_item_id: "0Mw5g000000Ab3C".into(),
        conversation_identifier: "c".into(),
        success: true,
        externally_routed: true,
        error_message: Some("x".into()),
    };
    assert!(c.routing_result(&bad).await.is_err());
    assert!(t.seen.lock().unwrap().is_empty());
    assert!(!format!("{c:?}").contains("BEGIN"));
}
