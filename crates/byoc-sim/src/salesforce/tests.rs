//! Unit tests of the simulator's own checks: the token endpoint against the configured
//! certificate, the headers, the multipart body, the schema and the error codes answered.
//! The router is driven in process (no socket). Shared helpers here; the tests by concern
//! in `tests/`.

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::*;

mod endpoints;
mod interactions;
mod query;
mod token;

pub(super) const OTHER_CERTIFICATE_PEM: &str = include_str!("keys/other-cert.pem");
pub(super) const URL: &str = "http://sim.test";

pub(super) fn shared(cfg: SimConfig) -> Arc<Shared> {
    Shared::new(cfg, URL).unwrap()
}

pub(super) async fn call(sh: &Arc<Shared>, req: Request<Body>) -> (StatusCode, Value) {
    let resp = rest::router(sh.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

pub(super) fn assertion(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

pub(super) fn claims() -> Value {
    json!({"iss": TEST_CONSUMER_KEY, "sub": TEST_USERNAME, "aud": URL,
           "exp": chrono::Utc::now().timestamp() + 180})
}

pub(super) fn token_request(form: &str) -> Request<Body> {
    Request::post("/services/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

pub(super) fn grant(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

pub(super) async fn token(sh: &Arc<Shared>) -> String {
    let (status, v) = call(sh, token_request(&grant(&assertion(&claims())))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

pub(super) struct Call {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

impl Call {
    pub(super) fn json(
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

    pub(super) fn set(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    pub(super) fn without(mut self, name: &'static str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    pub(super) fn request(self) -> Request<Body> {
        let mut b = Request::builder().method(self.method).uri(self.path);
        for (n, v) in self.headers {
            b = b.header(n, v);
        }
        b.body(Body::from(self.body)).unwrap()
    }
}

pub(super) async fn expect(sh: &Arc<Shared>, c: Call, status: StatusCode, code: u32) {
    let what = format!("{} {}", c.method, c.path);
    let (s, v) = call(sh, c.request()).await;
    assert_eq!(
        (s, v["code"].as_u64()),
        (status, Some(u64::from(code))),
        "{what}: {v}"
    );
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
}

pub(super) fn multipart(parts: &[(&str, Option<&str>, &str, &[u8])]) -> (String, Vec<u8>) {
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

pub(super) fn interaction_call(
    sh: &Shared,
    t: &str,
    parts: &[(&str, Option<&str>, &str, &[u8])],
) -> Call {
    let (ct, body) = multipart(parts);
    let mut c =
        Call::json(sh, t, "POST", "/api/v1/interactions", &Value::Null).set("content-type", &ct);
    c.body = body;
    c
}

pub(super) fn text_message(id: &str, message_id: &str) -> Value {
    json!({"to": TEST_CHANNEL_ADDRESS, "from": "15555550123", "interactions": [{
        "timestamp": 1_714_668_069_301_i64, "interactionType": "EntryInteraction",
        "payload": {"id": id, "entryType": "Message", "abstractMessage": {
            "messageType": "StaticContentMessage", "id": message_id,
            "staticContent": {"formatType": "Text", "text": "hi"}}}}]})
}

pub(super) fn attachment(len: u64) -> Value {
    json!({"to": TEST_CHANNEL_ADDRESS, "from": "15555550123", "interactions": [{
        "timestamp": 1_714_668_069_301_i64, "interactionType": "AttachmentInteraction",
        "id": "c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8", "attachmentIndex": 0, "contentLength": len}]})
}
