//! Unit tests of the simulator's own checks: the token endpoint against the configured
//! certificate, the headers, the multipart body, the schema and the error codes answered.
//! The router is driven in process (no socket).

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::*;

const OTHER_CERTIFICATE_PEM: &str = include_str!("keys/other-cert.pem");
const URL: &str = "http://sim.test";

fn shared(cfg: SimConfig) -> Arc<Shared> {
    Shared::new(cfg, URL).unwrap()
}

async fn call(sh: &Arc<Shared>, req: Request<Body>) -> (StatusCode, Value) {
    let resp = rest::router(sh.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

fn assertion(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

fn claims() -> Value {
    json!({"iss": TEST_CONSUMER_KEY, "sub": TEST_USERNAME, "aud": URL,
           "exp": chrono::Utc::now().timestamp() + 180})
}

fn token_request(form: &str) -> Request<Body> {
    Request::post("/services/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

fn grant(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

async fn token(sh: &Arc<Shared>) -> String {
    let (status, v) = call(sh, token_request(&grant(&assertion(&claims())))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

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

struct Call {
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Call {
    fn json(
        sh: &Shared,
        token: &str,
        method: &'static str,
        path: &'static str,
        body: &Value,
    ) -> Self {
        Self {
            method,
            path,
            headers: vec![
                ("authorization", format!("Bearer {token}")),
                ("orgid", sh.cfg.org_id.clone()),
                ("authorizationcontext", sh.cfg.authorization_context.clone()),
                ("requestid", uuid::Uuid::new_v4().to_string()),
                ("content-type", "application/json".into()),
            ],
            body: serde_json::to_vec(body).unwrap(),
        }
    }

    fn set(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    fn without(mut self, name: &'static str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    fn request(self) -> Request<Body> {
        let mut b = Request::builder().method(self.method).uri(self.path);
        for (n, v) in self.headers {
            b = b.header(n, v);
        }
        b.body(Body::from(self.body)).unwrap()
    }
}

async fn expect(sh: &Arc<Shared>, c: Call, status: StatusCode, code: u32) {
    let what = format!("{} {}", c.method, c.path);
    let (s, v) = call(sh, c.request()).await;
    assert_eq!(
        (s, v["code"].as_u64()),
        (status, Some(u64::from(code))),
        "{what}: {v}"
    );
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
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

fn multipart(parts: &[(&str, Option<&str>, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "SIMTEST".to_owned();
    let mut body = Vec::new();
    for (name, file, ct, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(format!("Content-Type: {ct}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn interaction_call(sh: &Shared, t: &str, parts: &[(&str, Option<&str>, &str, &[u8])]) -> Call {
    let (ct, body) = multipart(parts);
    let mut c =
        Call::json(sh, t, "POST", "/api/v1/interactions", &Value::Null).set("content-type", &ct);
    c.body = body;
    c
}

fn text_message(id: &str, message_id: &str) -> Value {
    json!({"to": TEST_CHANNEL_ADDRESS, "from": "15555550123", "interactions": [{
        "timestamp": 1_714_668_069_301_i64, "interactionType": "EntryInteraction",
        "payload": {"id": id, "entryType": "Message", "abstractMessage": {
            "messageType": "StaticContentMessage", "id": message_id,
            "staticContent": {"formatType": "Text", "text": "hi"}}}}]})
}

fn attachment(len: u64) -> Value {
    json!({"to": TEST_CHANNEL_ADDRESS, "from": "15555550123", "interactions": [{
        "timestamp": 1_714_668_069_301_i64, "interactionType": "AttachmentInteraction",
        "id": "c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8", "attachmentIndex": 0, "contentLength": len}]})
}

#[tokio::test]
async fn interactions_accepts_the_documented_shapes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let id = "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e";
    let json = serde_json::to_vec(&text_message(id, id)).unwrap();
    let (s, v) = call(
        &sh,
        interaction_call(&sh, &t, &[("json", None, "application/json", &json)]).request(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["id"], id);
    assert_eq!(v["success"], true);
    assert_eq!(v["workItemIds"][0].as_str().map(str::len), Some(15));
    let json = serde_json::to_vec(&attachment(3)).unwrap();
    let parts: &[(&str, Option<&str>, &str, &[u8])] = &[
        ("json", None, "application/json", &json),
        ("attachments", Some("a.png"), "image/png", &[1, 2, 3]),
    ];
    let (s, v) = call(&sh, interaction_call(&sh, &t, parts).request()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let rec = lock(&sh.recorded).clone();
    assert_eq!(rec.len(), 2);
    assert_eq!(
        rec[1].attachment,
        Some(("a.png".into(), "image/png".into(), 3))
    );
}

#[tokio::test]
async fn interactions_multipart_and_schema_codes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let id = "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e";
    let one = |v: &Value| serde_json::to_vec(v).unwrap();
    let bad = StatusCode::BAD_REQUEST;
    // Multipart.
    let c = Call::json(
        &sh,
        &t,
        "POST",
        "/api/v1/interactions",
        &text_message(id, id),
    );
    expect(&sh, c, bad, 10016).await;
    let c =
        interaction_call(&sh, &t, &[]).set("content-type", "multipart/form-data; boundary=SIMTEST");
    expect(&sh, c, bad, 10029).await;
    let msg = one(&text_message(id, id));
    let c = interaction_call(&sh, &t, &[("entry", None, "application/json", &msg)]);
    expect(&sh, c, bad, 10029).await;
    let c = interaction_call(&sh, &t, &[("json", None, "application/json", b"{not json")]);
    expect(&sh, c, bad, 10045).await;
    let mut truncated = interaction_call(&sh, &t, &[("json", None, "application/json", &msg)]);
    truncated.body.truncate(truncated.body.len() - 12);
    expect(&sh, truncated, bad, 10029).await;
    // Attachments.
    let att = one(&attachment(3));
    let file = |ct: &'static str, data: &'static [u8]| ("attachments", Some("f"), ct, data);
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &att),
            file("text/html", b"<b>"),
        ],
    );
    expect(&sh, c, bad, 10095).await;
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &att),
            file("image/png", b"1234"),
        ],
    );
    expect(&sh, c, bad, 10051).await;
    let c = interaction_call(&sh, &t, &[("json", None, "application/json", &att)]);
    expect(&sh, c, bad, 10011).await;
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &msg),
            file("image/png", b"123"),
        ],
    );
    expect(&sh, c, bad, 10011).await;
    let big = vec![0u8; 25 * 1024 * 1024 + 1];
    let big_json = one(&attachment(big.len() as u64));
    let c = interaction_call(
        &sh,
        &t,
        &[
            ("json", None, "application/json", &big_json),
            ("attachments", Some("f"), "image/png", &big),
        ],
    );
    expect(&sh, c, bad, 10008).await;
    // Schema.
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = text_message(id, id);
        f(&mut v);
        one(&v)
    };
    let cases: Vec<(Vec<u8>, u32)> = vec![
        (edit(&|v| v["to"] = json!("another-channel")), 10017),
        (edit(&|v| v["from"] = json!("x".repeat(256))), 10028),
        (edit(&|v| v["from"] = json!("")), 10028),
        (edit(&|v| v["interactions"] = json!([])), 10029),
        (
            edit(&|v| {
                let i = v["interactions"][0].clone();
                v["interactions"] = json!([i.clone(), i]);
            }),
            10029,
        ),
        (
            edit(&|v| v["interactions"][0]["timestamp"] = json!(1_714_668_069)),
            10046,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["interactionType"] = json!("AcknowledgementInteraction")
            }),
            10029,
        ),
        (
            edit(&|v| v["interactions"][0]["payload"]["id"] = json!("")),
            10059,
        ),
        (one(&text_message(id, "another")), 10060),
        (
            edit(&|v| {
                v["interactions"][0]["payload"]["abstractMessage"]["messageType"] =
                    json!("ChoicesMessage")
            }),
            10047,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["formatType"] =
                    json!("Carousel")
            }),
            10048,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] =
                    json!({"id": id, "entryType": "TypingStartedIndicator"})
            }),
            10045,
        ),
        (
            edit(&|v| v["interactions"][0]["payload"] = json!({"id": id, "entryType": "Unknown"})),
            10045,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] = json!({"id": id, "entryType": "MessageDeliveryFailed",
            "failedConversationEntryIdentifier": "x", "errorCode": "1",
            "recipient": {"appType": "agent", "subject": "u", "role": "Agent"}})
            }),
            10045,
        ),
        (
            edit(&|v| {
                v["interactions"][0]["payload"] = json!({"id": id, "entryType": "MessageDeliveryFailed",
            "recipient": {"appType": "custom", "subject": "u", "role": "EndUser"}})
            }),
            10045,
        ),
    ];
    for (body, code) in cases {
        let c = interaction_call(&sh, &t, &[("json", None, "application/json", &body)]);
        expect(&sh, c, bad, code).await;
    }
    assert!(lock(&sh.recorded).is_empty(), "nothing refused is recorded");
}

#[tokio::test]
async fn json_endpoint_codes() {
    let sh = shared(SimConfig::default());
    let t = token(&sh).await;
    let conv = sh.conversation("15555550123");
    let c = conv.conversation_identifier.clone();
    let bad = StatusCode::BAD_REQUEST;
    let ack = json!({"acknowledgementTimestamp": 1, "acknowledgementType": "Read",
        "acknowledgedConversationEntryIdentifier": "e", "acknowledgmentCreatedConversationEntryIdentifier": "n"});
    let cases: Vec<(&'static str, &'static str, Value, StatusCode, u32)> = vec![
        (
            "POST",
            "/api/v1/acknowledgement",
            json!({"conversationIdentifier": c, "acknowledgements": vec![ack.clone(); 26]}),
            bad,
            10045,
        ),
        (
            "POST",
            "/api/v1/acknowledgement",
            json!({"conversationIdentifier": "nope", "acknowledgements": [ack]}),
            StatusCode::NOT_FOUND,
            10025,
        ),
        (
            "POST",
            "/api/v1/conversation",
            json!({"channelAddressIdentifier": "other", "participants": []}),
            bad,
            10017,
        ),
        (
            "POST",
            "/api/v1/conversation",
            json!({"channelAddressIdentifier": TEST_CHANNEL_ADDRESS, "participants": []}),
            bad,
            10042,
        ),
        (
            "POST",
            "/api/v1/messagingSession",
            json!({"conversationIdentifier": c, "operation": "Inactivate"}),
            bad,
            10106,
        ),
        (
            "POST",
            "/api/v1/participant",
            json!({"conversationIdentifier": c, "operation": "Add", "participants": [{}]}),
            bad,
            10045,
        ),
        (
            "PATCH",
            "/api/v1/consent",
            json!({"consentStatus": "Maybe"}),
            bad,
            10045,
        ),
        ("PATCH", "/api/v1/capabilities", json!({}), bad, 10045),
        (
            "POST",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "routingType": "Transfer", "routingInfo": {"flow": {"flowId": "300"}}}),
            bad,
            10024,
        ),
        (
            "POST",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "routingType": "Transfer", "routingInfo": {"flow": {"flowId": "300", "queueId": "00G"}, "queueId": "00G"}}),
            bad,
            10030,
        ),
        (
            "DELETE",
            "/api/v1/route",
            json!({"conversationIdentifier": c, "cancelReason": "Bored"}),
            bad,
            10076,
        ),
        (
            "POST",
            "/api/v1/agentWork",
            json!({"userId": "005", "workItemId": "short"}),
            bad,
            15102,
        ),
        (
            "POST",
            "/api/v1/agentWork",
            json!({"userId": "005", "workItemId": conv.work_item_id, "capacityWeight": 1, "capacityPercentage": 10}),
            bad,
            10013,
        ),
        (
            "POST",
            "/api/v1/routingResult",
            json!({"conversationIdentifier": c, "workItemId": conv.work_item_id, "externallyRouted": true, "success": false}),
            bad,
            10033,
        ),
        (
            "POST",
            "/api/v1/routingResult",
            json!({"conversationIdentifier": c, "workItemId": conv.work_item_id, "externallyRouted": true, "success": true, "errorMessage": "x"}),
            bad,
            10034,
        ),
    ];
    for (method, path, body, status, code) in cases {
        expect(&sh, Call::json(&sh, &t, method, path, &body), status, code).await;
    }
    let (s, v) = call(
        &sh,
        Call::json(&sh, &t, "POST", "/api/v1/acknowledgement", &Value::Null)
            .set("content-type", "application/json")
            .request(),
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (bad, Some(10045)));
    assert!(lock(&sh.recorded).is_empty());
}
