//! The Messaging API's body checks, with the documented limits: the create request
//! (customer fields, context variables, start message) and each activity sent.

// Checks return ready axum responses as their error values.
#![allow(clippy::result_large_err)]

use axum::response::Response;
use http::StatusCode;
use serde_json::Value;

use super::api::{MAX_NAME, err};

const MAX_TEXT: usize = 6000;
const MAX_CUSTOMER_FIELD: usize = 200;
const MAX_CONTEXT_VARS: usize = 100;
const MAX_START_MESSAGE: usize = 27 * 1024;

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

pub(super) fn validate_create(v: &Value) -> Result<(), Response> {
    if let Some(c) = v.get("customercontext") {
        let Some(obj) = c.as_object() else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "InvalidCustomerContext",
                "customercontext must be an object",
            ));
        };
        for (k, val) in obj {
            if chars(val) > MAX_CUSTOMER_FIELD {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "CustomerContextTooLong",
                    &format!("customercontext.{k} exceeds 200 characters"),
                ));
            }
        }
    }
    if let Some(ctx) = v.get("conversationcontext") {
        let Some(obj) = ctx.as_object() else {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "InvalidConversationContext",
                "conversationcontext must be an object",
            ));
        };
        if obj.len() > MAX_CONTEXT_VARS {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "TooManyContextVariables",
                "at most 100 context variables",
            ));
        }
        for (k, var) in obj {
            if k.chars().count() > MAX_NAME || var.get("value").is_none() {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidContextVariable",
                    "context variables need a value and a name of at most 256 characters",
                ));
            }
        }
    }
    if let Some(m) = v.get("startmessage")
        && m.to_string().len() > MAX_START_MESSAGE
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "StartMessageTooLarge",
            "startmessage exceeds 27 KB",
        ));
    }
    Ok(())
}

pub(super) fn validate_activity(v: &Value, channel: &str) -> Result<(), Response> {
    let bad = |code: &str, msg: &str| Err(err(StatusCode::BAD_REQUEST, code, msg));
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    if chars(&v["type"]) > MAX_NAME {
        return bad("TypeTooLong", "type exceeds 256 characters");
    }
    for p in ["/from/id", "/from/name", "/name", "/id"] {
        if v.pointer(p).map_or(0, chars) > MAX_NAME {
            return bad("NameTooLong", "names are limited to 256 characters");
        }
    }
    if let Some(c) = v.get("channelId")
        && !c.as_str().is_some_and(|c| c.eq_ignore_ascii_case(channel))
    {
        return bad(
            "ChannelIdMismatch",
            "channelId must equal the channel-id header",
        );
    }
    match kind {
        "message" => {
            let has_text = v
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty());
            let has_att = v
                .get("attachments")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if !has_text && !has_att {
                return bad("MissingContent", "text or attachments is required");
            }
            if chars(&v["text"]) > MAX_TEXT {
                return bad("TextTooLong", "text exceeds 6000 characters");
            }
            for a in v
                .get("attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if a.get("contentType").and_then(Value::as_str).is_none()
                    || a.get("contentUrl").and_then(Value::as_str).is_none()
                {
                    return bad(
                        "InvalidAttachment",
                        "attachments need contentType and contentUrl",
                    );
                }
            }
        }
        "typing" | "endOfConversation" => {}
        "event" => {
            let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
            let cd = &v["channelData"];
            let custom = cd.get("customEvent").and_then(Value::as_bool) == Some(true)
                && cd.get("customEventName").and_then(Value::as_str) == Some(name)
                && !name.is_empty()
                && cd.get("customEventValue").is_none_or(Value::is_string);
            if !custom {
                return bad("UnsupportedEvent", "unsupported event");
            }
        }
        _ => return bad("UnsupportedActivityType", "unsupported activity type"),
    }
    Ok(())
}
