//! The simulator's HTTP side: routes, request checks, TeleSign's answers, callbacks.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::json;

use super::auth::{self, Account, Refusal};
use super::{RecordedRequest, SimMessage, State};

const MAX_BODY: usize = 64 * 1024;
const MAX_MESSAGE_CHARS: usize = 1600;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/messaging", post(send))
        .route("/v1/messaging/{reference_id}", get(status))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// A 32-hex uppercase reference id.
pub(crate) fn new_reference_id() -> String {
    uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase()
}

/// TeleSign's `updated_on` form.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn answer(status: u16, body: serde_json::Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refusal_body(r: &Refusal) -> serde_json::Value {
    json!({"status": {"code": r.code, "description": r.description, "updated_on": timestamp(Utc::now())}})
}

fn validation(code: i64, description: &str) -> (u16, i64, serde_json::Value) {
    let body = json!({
        "reference_id": new_reference_id(),
        "status": {"code": code, "description": description, "updated_on": timestamp(Utc::now())},
        "errors": [{"code": code, "description": description}],
    });
    (400, code, body)
}

struct Checked {
    scheme: &'static str,
}

/// Authenticates, records the nonce; on refusal, records the request and answers.
fn authenticate(
    state: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Checked, Refusal> {
    let now = Utc::now();
    let o = &state.options;
    let account = Account {
        customer_id: &o.customer_id,
        api_key: &o.api_key,
        tolerance: o
            .date_tolerance
            .and_then(|d| chrono::Duration::from_std(d).ok()),
    };
    let result = auth::check_request(&account, method.as_str(), uri.path(), headers, body, now);
    let mut inner = state.lock();
    let result = result.and_then(|ok| {
        if let Some(nonce) = &ok.nonce {
            // Remember nonces for twice the tolerance (an hour without one).
            let keep = account.tolerance.unwrap_or(chrono::Duration::minutes(30)) * 2;
            inner.nonces.retain(|_, seen| now - *seen <= keep);
            if inner.nonces.contains_key(nonce) {
                return Err(auth::NONCE_REUSED);
            }
            inner.nonces.insert(nonce.clone(), now);
        }
        Ok(ok)
    });
    match result {
        Ok(ok) => Ok(Checked { scheme: ok.scheme }),
        Err(r) => {
            inner.requests.push(record(
                method,
                uri,
                headers,
                None,
                Vec::new(),
                r.http,
                r.code,
            ));
            Err(r)
        }
    }
}

fn record(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    scheme: Option<&str>,
    form: Vec<(String, String)>,
    status: u16,
    code: i64,
) -> RecordedRequest {
    RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        scheme: scheme.map(str::to_owned),
        x_ts_date: headers.contains_key("x-ts-date"),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        form,
        status,
        code,
    }
}

fn validate(form: &[(String, String)]) -> Result<(), (u16, i64, serde_json::Value)> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let phone = field("phone_number").filter(|p| !p.is_empty());
    let Some(phone) = phone else {
        return Err(validation(
            12000,
            "Missing required parameter phone_number.",
        ));
    };
    if !(7..=15).contains(&phone.len()) || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(validation(
            11000,
            "Invalid value for parameter phone_number.",
        ));
    }
    let Some(message) = field("message") else {
        return Err(validation(12009, "Missing required parameter message."));
    };
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(validation(11009, "Invalid value for parameter message."));
    }
    let Some(message_type) = field("message_type") else {
        return Err(validation(
            12017,
            "Missing required parameter message_type.",
        ));
    };
    if !matches!(message_type, "OTP" | "ARN" | "MKT") {
        return Err(validation(
            11017,
            "Invalid value for parameter message_type.",
        ));
    }
    if field("sender_id").is_some_and(|s| s.is_empty() || s.chars().count() > 20) {
        return Err(validation(11013, "Invalid value for parameter sender_id."));
    }
    if field("external_id").is_some_and(|s| s.chars().count() > 100) {
        return Err(validation(
            11016,
            "Invalid value for parameter external_id.",
        ));
    }
    if field("callback_url").is_some_and(|u| {
        reqwest::Url::parse(u).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
    }) {
        return Err(validation(
            11004,
            "Invalid value for parameter callback_url.",
        ));
    }
    if field("account_lifecycle_event")
        .is_some_and(|e| !matches!(e, "create" | "sign-in" | "transact" | "update" | "delete"))
    {
        return Err(validation(
            11003,
            "Invalid value for parameter account_lifecycle_event.",
        ));
    }
    Ok(())
}

async fn send(
    AxState(state): AxState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = match authenticate(&state, &method, &uri, &headers, &body) {
        Ok(c) => c,
        Err(r) => return answer(r.http, refusal_body(&r)),
    };
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if let Err((http, code, body)) = validate(&form) {
        state.lock().requests.push(record(
            &method,
            &uri,
            &headers,
            Some(checked.scheme),
            form,
            http,
            code,
        ));
        return answer(http, body);
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let reference_id = new_reference_id();
    let now = Utc::now();
    let message = SimMessage {
        reference_id: reference_id.clone(),
        phone_number: field("phone_number").unwrap_or_default(),
        message: field("message").unwrap_or_default(),
        message_type: field("message_type").unwrap_or_default(),
        sender_id: field("sender_id"),
        external_id: field("external_id"),
        status_code: 290,
        status_description: "Message in progress".to_owned(),
        received_at: std::time::Instant::now(),
    };
    let callback_url = {
        let mut inner = state.lock();
        inner.requests.push(record(
            &method,
            &uri,
            &headers,
            Some(checked.scheme),
            form.clone(),
            200,
            290,
        ));
        inner.messages.insert(reference_id.clone(), message.clone());
        inner.order.push(reference_id.clone());
        field("callback_url").or_else(|| inner.callback_url.clone())
    };
    if let Some(url) = callback_url {
        let state = state.clone();
        let submitted = timestamp(now);
        tokio::spawn(async move { deliver_report(state, url, message, submitted).await });
    }
    let mut out = json!({
        "reference_id": reference_id,
        "status": {"code": 290, "description": "Message in progress", "updated_on": timestamp(now)},
    });
    if let Some(ext) = field("external_id") {
        out["external_id"] = json!(ext);
    }
    answer(200, out)
}

async fn status(
    AxState(state): AxState<Arc<State>>,
    Path(reference_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = match authenticate(&state, &method, &uri, &headers, &body) {
        Ok(c) => c,
        Err(r) => return answer(r.http, refusal_body(&r)),
    };
    let mut inner = state.lock();
    let found = inner.messages.get(&reference_id).cloned();
    let (http, code, out) = match found {
        Some(m) => {
            let mut out = json!({
                "reference_id": m.reference_id,
                "status": {"code": m.status_code, "description": m.status_description, "updated_on": timestamp(Utc::now())},
            });
            if let Some(ext) = m.external_id {
                out["external_id"] = json!(ext);
            }
            (200, m.status_code, out)
        }
        None => {
            let d = "Customer ID / Reference ID not found.";
            let out = json!({
                "reference_id": reference_id,
                "status": {"code": 10017, "description": d, "updated_on": timestamp(Utc::now())},
                "errors": [{"code": 10017, "description": d}],
            });
            (404, 10017, out)
        }
    };
    inner.requests.push(record(
        &method,
        &uri,
        &headers,
        Some(checked.scheme),
        Vec::new(),
        http,
        code,
    ));
    drop(inner);
    answer(http, out)
}

async fn deliver_report(state: Arc<State>, url: String, message: SimMessage, submitted: String) {
    let (code, description) = state.lock().delivery.clone();
    {
        let mut inner = state.lock();
        if let Some(m) = inner.messages.get_mut(&message.reference_id) {
            m.status_code = code;
            m.status_description.clone_from(&description);
        }
    }
    let mut body = json!({
        "reference_id": message.reference_id,
        "sub_resource": "sms",
        "errors": [],
        "submit_timestamp": submitted,
        "status": {"code": code, "description": description, "updated_on": timestamp(Utc::now())},
        "additional_info": {"message_parts_count": 1},
    });
    if let Some(ext) = message.external_id {
        body["external_id"] = json!(ext);
    }
    let body = body.to_string();
    let delays = state.options.callback_retry_delays.clone();
    let mut attempt = 0;
    loop {
        let answered = post_callback(&state, &url, body.clone()).await;
        if answered.is_some_and(|s| (200..300).contains(&s)) || attempt >= delays.len() {
            return;
        }
        tokio::time::sleep(delays[attempt]).await;
        attempt += 1;
    }
}

/// Posts a signed callback; records and announces it. `None` when no answer arrived.
pub(crate) async fn post_callback(state: &State, url: &str, body: String) -> Option<u16> {
    let authorization = auth::callback_authorization(
        &state.options.customer_id,
        &state.options.api_key,
        body.as_bytes(),
    );
    let sent = state
        .http
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, &authorization)
        .header("x-ts-authorization", &authorization)
        .body(body.clone())
        .send()
        .await;
    let status = match sent {
        Ok(r) => Some(r.status().as_u16()),
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "telesign simulator: callback got no answer");
            None
        }
    };
    state.lock().callbacks.push(super::DeliveredCallback {
        url: url.to_owned(),
        body,
        status,
    });
    state.callback_posted.notify_waiters();
    status
}
