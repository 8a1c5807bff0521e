use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use http::HeaderValue;
use url::Url;

use super::*;
use crate::config::{ChannelDefinition, Credentials};
use crate::render::render_interaction;

const TEST_KEY: &str = include_str!("../../tests/keys/test-key.pem");

/// A configuration against `https://scrt.example`, tokens from `https://login.example`.
pub(crate) fn config() -> SalesforceConfig {
    SalesforceConfig::new(
        Credentials::new("key", "user@example.com", Secret::new(TEST_KEY))
            .unwrap()
            .with_login_url(&Url::parse("https://login.example").unwrap())
            .unwrap(),
        "00D000000000001",
        Url::parse("https://scrt.example").unwrap(),
        "chan",
        ChannelDefinition::new("Def", "ns__Ev__e", "ns__EventType__c", "ns__Payload__c").unwrap(),
    )
    .unwrap()
}

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

fn scrt() -> Url {
    Url::parse("https://x.example/").unwrap()
}

#[test]
fn call_context_sets_every_header_and_agent_work_updates_the_context_type() {
    let t = ctx_token();
    let c = config();
    let ctx = CallContext::for_config(&c, &t, "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
    let req = prepare_json(
        Endpoint::UpdateAgentWork,
        c.scrt_url(),
        &serde_json::json!({}),
        &ctx,
    )
    .unwrap();
    assert_eq!(req.method(), http::Method::PATCH);
    assert_eq!(req.uri(), "https://scrt.example/api/v1/agentWork");
    let h = req.headers();
    assert_eq!(h["orgid"], "00D000000000001");
    assert_eq!(h["authorizationcontext"], "Def");
    assert_eq!(
        h["authorizationcontexttype"],
        "ConversationChannelDefinition"
    );
    assert_eq!(h["requestid"], "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
    assert!(!format!("{ctx:?}").contains("00D!tok"));
}

#[test]
fn json_request_has_every_header_and_a_body_on_delete() {
    let t = ctx_token();
    let body = CancelRouteRequest {
        conversation_identifier: "c1".into(),
        cancel_reason: "Cancel".into(),
    };
    let req = prepare_json(Endpoint::CancelRoute, &scrt(), &body, &ctx(&t)).unwrap();
    assert_eq!(req.method(), http::Method::DELETE);
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
    let bad = CallContext::new(&t, "00D\n1", "Def", "r");
    assert!(matches!(
        prepare_json(Endpoint::Route, &scrt(), &body, &bad),
        Err(ClientError::Request {
            field: "org_id",
            ..
        })
    ));
}

#[test]
fn multipart_has_the_json_part_and_one_file() {
    let t = ctx_token();
    let mut a = byoc_core::Activity::message("caption");
    a.from = Some(byoc_core::ChannelAccount::new("u1"));
    let mut r = render_interaction(&a, "to", 1).unwrap();
    r.attachment = Some(AttachmentFile::new("a\"b.png", "image/png", vec![1, 2, 3]).unwrap());
    let req = prepare_interaction(&scrt(), &r, &ctx(&t), "BOUNDARY").unwrap();
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
fn answers_parse_into_bodies_or_typed_errors() {
    let ok: InteractionResponse = parse_response(
        Endpoint::Interactions,
        &resp(
            202,
            include_str!("../../../../tests/fixtures/salesforce/interaction-response-202.json"),
            None,
        ),
    )
    .unwrap();
    assert_eq!(ok.work_item_ids, vec!["0Mw5g000000Ab3C".to_owned()]);
    assert_eq!(
        ok.conversation_identifier.as_deref(),
        Some("e3a5c7e9-0b2d-4f6a-8c1e-3a5c7e9b0d2f")
    );
    let e = parse_response::<InteractionResponse>(
        Endpoint::Interactions,
        &resp(
            401,
            include_str!("../../../../tests/fixtures/salesforce/error-10004-invalid-token.json"),
            None,
        ),
    )
    .unwrap_err();
    assert_eq!(e.code(), Some("10004"));
    assert!(e.is_token_rejected());
    assert!(!e.to_string().contains("supplied"), "{e}");
    let e =
        parse_response::<InteractionResponse>(Endpoint::Interactions, &resp(429, "", Some("3")))
            .unwrap_err();
    assert!(matches!(
        e,
        ClientError::RateLimited {
            retry_after: Some(d),
            ..
        } if d == Duration::from_secs(3)
    ));
    let e = parse_response::<InteractionResponse>(
        Endpoint::Interactions,
        &resp(
            400,
            r#"{"message":"Interaction request rate limit exceeded"}"#,
            None,
        ),
    )
    .unwrap_err();
    assert!(matches!(e, ClientError::RateLimited { status: 400, .. }));
    let e =
        parse_response::<InteractionResponse>(Endpoint::Interactions, &resp(200, "<html>", None))
            .unwrap_err();
    assert!(matches!(e, ClientError::Decode { field: "$", .. }));
    let empty: SuccessResponse = parse_response(Endpoint::Consent, &resp(202, "", None)).unwrap();
    assert_eq!(empty.success, None);
}

/// A transport answering from a script and recording what it was sent.
#[derive(Default)]
struct Scripted {
    answers: Mutex<Vec<http::Response<Bytes>>>,
    seen: Mutex<Vec<http::Request<Bytes>>>,
}

#[async_trait]
impl HttpTransport for Scripted {
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        self.seen.lock().unwrap().push(request);
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            return Err(TransportError::from_kind(
                byoc_http::TransportErrorKind::Connect,
            ));
        }
        Ok(a.remove(0))
    }
}

#[tokio::test(start_paused = true)]
async fn token_is_cached_reminted_on_10004_and_after_its_lifetime() {
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
    let c = SalesforceClient::with_transport(config(), t.clone()).unwrap();
    c.end_session("u", "c").await.unwrap();
    c.end_session("u", "c").await.unwrap();
    // 30 minutes' lifetime, replaced 5 minutes before its end.
    tokio::time::advance(Duration::from_secs(26 * 60)).await;
    c.end_session("u", "c").await.unwrap();
    assert_eq!(c.instance_url().as_deref(), Some("https://i.example"));
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
async fn a_second_rejection_is_an_unauthorized_error_not_a_loop() {
    let t = Arc::new(Scripted::default());
    let token = || resp(200, r#"{"access_token":"00D!t"}"#, None);
    let refused = || resp(403, r#"{"code":10003,"message":"missing scope"}"#, None);
    *t.answers.lock().unwrap() = vec![token(), refused(), token(), refused()];
    let c = SalesforceClient::with_transport(config(), t.clone()).unwrap();
    let e = c.update_consent("u", "OptedOut").await.unwrap_err();
    assert!(e.is_token_rejected(), "{e:?}");
    assert!(byoc_core::AdapterError::from(e).is_unauthorized());
    assert_eq!(t.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn validation_before_sending() {
    let t = Arc::new(Scripted::default());
    let c = SalesforceClient::with_transport(config(), t.clone()).unwrap();
    assert!(matches!(
        c.acknowledge("u", "c", vec![]).await,
        Err(ClientError::Invalid {
            field: "acknowledgements",
            ..
        })
    ));
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

#[tokio::test]
async fn an_unreachable_service_names_the_endpoint() {
    let t = Arc::new(Scripted::default());
    *t.answers.lock().unwrap() = vec![resp(200, r#"{"access_token":"00D!t"}"#, None)];
    let c = SalesforceClient::with_transport(config(), t).unwrap();
    let e = c.cancel_route("c", "Cancel").await.unwrap_err();
    assert!(matches!(
        e,
        ClientError::Transport {
            endpoint: "DELETE /route",
            ..
        }
    ));
    assert!(e.is_retryable());
}

#[cfg(feature = "reqwest")]
#[test]
fn a_root_ca_that_is_not_a_certificate_is_an_http_client_error_naming_it() {
    let bad = byoc_http::RootCa::from_pem("corporate-proxy-ca", b"not a certificate".to_vec());
    let e = SalesforceClient::new(config().with_root_ca(bad.clone())).unwrap_err();
    assert!(matches!(e, ConfigError::HttpClient { .. }), "{e:?}");
    assert!(e.to_string().contains("corporate-proxy-ca"), "{e}");
    let e = crate::SalesforceAdapter::new(config().with_root_ca(bad)).unwrap_err();
    assert!(matches!(e, ConfigError::HttpClient { .. }), "{e:?}");
}
