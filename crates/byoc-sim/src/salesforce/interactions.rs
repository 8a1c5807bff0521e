//! `POST /api/v1/interactions`: the multipart body (a `json` part and at most one file),
//! its schema and the Interaction Service's error codes.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::Shared;
use super::rest::{bad, check_headers, record, s};

type S = State<Arc<Shared>>;

pub(crate) const MAX_FILE: usize = 25 * 1024 * 1024;
const MIME_TYPES: [&str; 13] = [
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "application/pdf",
    "video/3gpp2",
    "audio/3gpp2",
    "video/3gpp",
    "audio/3gpp",
    "video/mpeg",
    "audio/mpeg",
    "video/mp4",
    "audio/mp4",
];

pub(crate) async fn interactions(State(sh): S, h: HeaderMap, body: Bytes) -> Response {
    let rid = match check_headers(&sh, &h, false) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(ct) else {
        return bad(10016, "Content-Type must be multipart/form-data");
    };
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut json_part: Option<Value> = None;
    let mut files: Vec<(String, String, usize)> = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return bad(10029, "Invalid multipart body"),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_owned());
        let Ok(data) = field.bytes().await else {
            return bad(10029, "Invalid multipart body");
        };
        match name.as_str() {
            "json" => match serde_json::from_slice::<Value>(&data) {
                Ok(v) => json_part = Some(v),
                Err(_) => return bad(10045, "Invalid interaction JSON"),
            },
            "attachments" => {
                if data.len() > MAX_FILE {
                    return bad(10008, "Attachment exceeds 25 MB");
                }
                let mime = mime.unwrap_or_default();
                if !MIME_TYPES.contains(&mime.as_str()) {
                    return bad(
                        10095,
                        "Attachment MIME type cannot be determined or is not allowed",
                    );
                }
                files.push((file_name.unwrap_or_default(), mime, data.len()));
            }
            _ => return bad(10029, "Unknown multipart part"),
        }
    }
    let Some(req) = json_part else {
        return bad(10029, "Missing json part");
    };
    if s(&req, "to") != Some(sh.cfg.channel_address.as_str()) {
        return bad(10017, "channelAddressIdentifier does not exist");
    }
    let Some(from) = s(&req, "from").filter(|f| f.chars().count() <= 255) else {
        return bad(10028, "Invalid from");
    };
    let list = req.get("interactions").and_then(Value::as_array);
    let Some([it]) = list.map(Vec::as_slice) else {
        return bad(10029, "Exactly one interaction is required");
    };
    if it
        .get("timestamp")
        .and_then(Value::as_i64)
        .is_none_or(|t| t < 1_000_000_000_000)
    {
        return bad(10046, "Invalid timestamp (epoch milliseconds)");
    }
    let entry_id;
    match s(it, "interactionType") {
        Some("EntryInteraction") => {
            if !files.is_empty() {
                return bad(10011, "Attachments do not match AttachmentInteractions");
            }
            let p = it.get("payload").cloned().unwrap_or(Value::Null);
            let Some(id) = s(&p, "id") else {
                return bad(10059, "Interaction ID or Message ID is empty");
            };
            entry_id = id.to_owned();
            match s(&p, "entryType") {
                Some("Message") => {
                    let m = p.get("abstractMessage").cloned().unwrap_or(Value::Null);
                    if s(&m, "id") != Some(id) {
                        return bad(10060, "Interaction ID and Message ID are mismatched");
                    }
                    if s(&m, "messageType") != Some("StaticContentMessage") {
                        return bad(10047, "Invalid messageType");
                    }
                    let sc = m.get("staticContent").cloned().unwrap_or(Value::Null);
                    if s(&sc, "formatType") != Some("Text") || s(&sc, "text").is_none() {
                        return bad(10048, "Invalid formatType or text");
                    }
                }
                Some("TypingStartedIndicator" | "TypingStoppedIndicator") => {
                    if p.get("timestamp").and_then(Value::as_i64).is_none() {
                        return bad(10045, "Invalid entry format: timestamp required");
                    }
                }
                Some("MessageDeliveryFailed") => {
                    let r = p.get("recipient").cloned().unwrap_or(Value::Null);
                    if s(&r, "appType") != Some("custom") || s(&r, "role") != Some("EndUser") {
                        return bad(10045, "recipient must be appType custom, role EndUser");
                    }
                    if s(&p, "errorCode").is_none()
                        || s(&p, "failedConversationEntryIdentifier").is_none()
                    {
                        return bad(
                            10045,
                            "errorCode and failedConversationEntryIdentifier required",
                        );
                    }
                }
                _ => return bad(10045, "Invalid entryType"),
            }
        }
        Some("AttachmentInteraction") => {
            let Some(id) = s(it, "id") else {
                return bad(10059, "Interaction ID is empty");
            };
            entry_id = id.to_owned();
            if files.len() != 1 || it.get("attachmentIndex").and_then(Value::as_u64) != Some(0) {
                return bad(10011, "Attachments do not match AttachmentInteractions");
            }
            if it.get("contentLength").and_then(Value::as_u64) != Some(files[0].2 as u64) {
                return bad(10051, "contentLength does not match the file size");
            }
        }
        _ => return bad(10029, "Invalid interactionType"),
    }
    let conv = sh.conversation(from);
    let attachment = files.into_iter().next();
    record(&sh, "POST", "/api/v1/interactions", req, attachment, rid);
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "conversationIdentifier": conv.conversation_identifier,
            "id": entry_id,
            "workItemIds": [conv.work_item_id],
            "success": true
        })),
    )
        .into_response()
}
