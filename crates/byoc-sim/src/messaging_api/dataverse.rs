//! The Dataverse side: `msdyn_occustommessagingchannels` records (POST, GET, PATCH,
//! DELETE) with Dataverse's validation.

// Handlers return ready axum responses as their error values.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::Inner;
use super::api::{MAX_NAME, MESSAGING_API_CHANNEL_TYPE, err, parse_json};
use super::entra::authorize;
use super::state::ChannelRecord;

type Shared = Arc<Inner>;

pub(super) fn is_guid(s: &str) -> bool {
    let g: Vec<&str> = s.split('-').collect();
    g.len() == 5
        && g.iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn webhook_ok(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.contains(['?', '#', '@']);
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        return matches!(host, "127.0.0.1" | "localhost") && !rest.contains(['?', '#', '@']);
    }
    false
}

fn record_from(
    v: &Value,
    id: String,
    base: Option<&ChannelRecord>,
) -> Result<ChannelRecord, Response> {
    let bad = |field: &str| {
        Err(err(
            StatusCode::BAD_REQUEST,
            "0x80040203",
            &format!("invalid value for {field}"),
        ))
    };
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let rec = ChannelRecord {
        id,
        channel_type: v
            .get("msdyn_occustomchannelid")
            .and_then(Value::as_i64)
            .or(base.map(|b| b.channel_type))
            .unwrap_or_default(),
        name: text("msdyn_name")
            .or(base.map(|b| b.name.clone()))
            .unwrap_or_default(),
        app_id: text("msdyn_appid")
            .or(base.map(|b| b.app_id.clone()))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        tenant_id: text("msdyn_tenantid")
            .or(base.map(|b| b.tenant_id.clone()))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        webhook_url: text("msdyn_webhookurl")
            .or(base.map(|b| b.webhook_url.clone()))
            .unwrap_or_default(),
    };
    if rec.channel_type != MESSAGING_API_CHANNEL_TYPE {
        return bad("msdyn_occustomchannelid");
    }
    if rec.name.trim().is_empty() || rec.name.chars().count() > MAX_NAME {
        return bad("msdyn_name");
    }
    if !is_guid(&rec.app_id) {
        return bad("msdyn_appid");
    }
    if !is_guid(&rec.tenant_id) {
        return bad("msdyn_tenantid");
    }
    if !webhook_ok(&rec.webhook_url) {
        return bad("msdyn_webhookurl");
    }
    Ok(rec)
}

pub(super) async fn dataverse(
    AxState(inner): AxState<Shared>,
    method: Method,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&inner, &headers, &inner.dataverse_scope()) {
        return r;
    }
    const SET: &str = "msdyn_occustommessagingchannels";
    let not_found = || err(StatusCode::NOT_FOUND, "0x80040217", "record not found");
    let Some(rest) = key.strip_prefix(SET) else {
        return err(
            StatusCode::NOT_FOUND,
            "0x80060888",
            "resource not found for the segment",
        );
    };
    let id = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(id) if is_guid(id) => Some(id.to_ascii_lowercase()),
        Some(_) => return err(StatusCode::BAD_REQUEST, "0x80060888", "bad key"),
        None if rest.is_empty() => None,
        None => return not_found(),
    };
    let base = inner.base_url();
    match (method, id) {
        (Method::GET, None) => {
            let st = inner.lock();
            let value: Vec<Value> = st.channels.values().map(ChannelRecord::to_json).collect();
            axum::Json(json!({ "@odata.context": format!("{base}/api/data/v9.2/$metadata#{SET}"), "value": value })).into_response()
        }
        (Method::GET, Some(id)) => match inner.lock().channels.get(&id) {
            Some(r) => axum::Json(r.to_json()).into_response(),
            None => not_found(),
        },
        (Method::POST, None) => {
            let v = match parse_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let rec = match record_from(&v, uuid::Uuid::new_v4().to_string(), None) {
                Ok(r) => r,
                Err(r) => return r,
            };
            let entity = format!("{base}/api/data/v9.2/{SET}({})", rec.id);
            let json = rec.to_json();
            inner.lock().channels.insert(rec.id.clone(), rec);
            let representation = headers
                .get("prefer")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.contains("return=representation"));
            let mut resp = if representation {
                (StatusCode::CREATED, axum::Json(json)).into_response()
            } else {
                StatusCode::NO_CONTENT.into_response()
            };
            if let Ok(h) = http::HeaderValue::from_str(&entity) {
                resp.headers_mut().insert("OData-EntityId", h);
            }
            resp
        }
        (Method::PATCH, Some(id)) => {
            let v = match parse_json(&body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let existing = inner.lock().channels.get(&id).cloned();
            let Some(existing) = existing else {
                return not_found();
            };
            match record_from(&v, id.clone(), Some(&existing)) {
                Ok(rec) => {
                    inner.lock().channels.insert(id, rec);
                    StatusCode::NO_CONTENT.into_response()
                }
                Err(r) => r,
            }
        }
        (Method::DELETE, Some(id)) => match inner.lock().channels.remove(&id) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => not_found(),
        },
        _ => err(
            StatusCode::METHOD_NOT_ALLOWED,
            "0x8006088a",
            "method not allowed",
        ),
    }
}
