//! TeleSign's answers to `POST /v1/messaging` and `GET /v1/messaging/{reference_id}`, parsed
//! in pure code (`docs/protocols/telesign.md#responses`).

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::Response;
use serde::Deserialize;

use crate::codes::{self, DeliveryState};
use crate::error::ClientError;

/// The name of the send call in errors.
pub(crate) const ENDPOINT_SEND: &str = "POST /v1/messaging";
/// The name of the status call in errors.
pub(crate) const ENDPOINT_STATUS: &str = "GET /v1/messaging/{reference_id}";

/// `status` of a TeleSign answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageStatus {
    /// `status.code` (a number or a numeric string on the wire).
    pub code: Option<i64>,
    /// `status.description`.
    pub description: Option<String>,
    /// `status.updated_on`, as sent.
    pub updated_on: Option<String>,
}

/// A successful answer of `POST /v1/messaging` or `GET /v1/messaging/{reference_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessagingResponse {
    /// The HTTP status (any 2xx).
    pub http_status: u16,
    /// `reference_id`.
    pub reference_id: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `status`.
    pub status: MessageStatus,
    /// `additional_info.message_parts_count`: the segments TeleSign sends the message as.
    pub message_parts_count: Option<u32>,
}

impl MessagingResponse {
    /// What `status.code` means for delivery.
    #[must_use]
    pub fn state(&self) -> DeliveryState {
        self.status
            .code
            .map_or(DeliveryState::Unknown, DeliveryState::of_code)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient {
    Int(i64),
    Str(String),
}

impl Lenient {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Str(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize, Default)]
struct WireStatus {
    #[serde(default)]
    code: Option<Lenient>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    updated_on: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<Lenient>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct WireAdditional {
    #[serde(default)]
    message_parts_count: Option<Lenient>,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    reference_id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    status: Option<WireStatus>,
    #[serde(default)]
    errors: Option<Vec<WireError>>,
    #[serde(default)]
    additional_info: Option<WireAdditional>,
}

/// Parses TeleSign's answer to `POST /v1/messaging` ([`TelesignClient::prepare_send`]).
/// `now` resolves an HTTP-date `Retry-After`.
///
/// Any 2xx whose code is not an error code is a success; the code of `errors[0]`, else
/// `status.code`, is authoritative (an error code in a 2xx answer is an error).
///
/// # Errors
/// [`ClientError::Status`] for TeleSign's errors, [`ClientError::Decode`] for a 2xx answer
/// that is not TeleSign's JSON.
///
/// [`TelesignClient::prepare_send`]: crate::TelesignClient::prepare_send
pub fn parse_send_response(
    response: &Response<Bytes>,
    now: DateTime<Utc>,
) -> Result<MessagingResponse, ClientError> {
    parse(ENDPOINT_SEND, response, now)
}

/// Parses TeleSign's answer to `GET /v1/messaging/{reference_id}`
/// ([`TelesignClient::prepare_status`]), as [`parse_send_response`]; an unknown or
/// expired id is [`ClientError::Status`] with HTTP 404 (code 10017 or 10036).
///
/// # Errors
/// As [`parse_send_response`].
///
/// [`TelesignClient::prepare_status`]: crate::TelesignClient::prepare_status
pub fn parse_status_response(
    response: &Response<Bytes>,
    now: DateTime<Utc>,
) -> Result<MessagingResponse, ClientError> {
    parse(ENDPOINT_STATUS, response, now)
}

pub(crate) fn parse(
    endpoint: &'static str,
    response: &Response<Bytes>,
    now: DateTime<Utc>,
) -> Result<MessagingResponse, ClientError> {
    let http_status = response.status().as_u16();
    let retry_after = byoc_http::retry_after(response.headers(), now);
    let de = &mut serde_json::Deserializer::from_slice(response.body());
    let wire: WireResponse = match serde_path_to_error::deserialize(de) {
        Ok(w) => w,
        Err(e) if response.status().is_success() => {
            return Err(ClientError::Decode {
                endpoint,
                field: wire_field(&e.path().to_string()),
            });
        }
        Err(_) => {
            return Err(ClientError::Status {
                endpoint,
                status: http_status,
                code: None,
                description: None,
                retry_after,
            });
        }
    };
    let status = wire.status.unwrap_or_default();
    let status_code = status.code.as_ref().and_then(Lenient::as_i64);
    let first_error = wire.errors.as_ref().and_then(|e| e.first());
    let error_code = first_error
        .and_then(|e| e.code.as_ref())
        .and_then(Lenient::as_i64);
    let code = error_code.or(status_code);
    if !response.status().is_success() || code.is_some_and(codes::is_error_code) {
        let description = if error_code.is_some() {
            first_error.and_then(|e| e.description.clone())
        } else {
            status.description.clone()
        };
        return Err(ClientError::Status {
            endpoint,
            status: http_status,
            code: code.map(|c| c.to_string()),
            description,
            retry_after,
        });
    }
    Ok(MessagingResponse {
        http_status,
        reference_id: wire.reference_id,
        external_id: wire.external_id,
        status: MessageStatus {
            code: status_code,
            description: status.description,
            updated_on: status.updated_on,
        },
        message_parts_count: wire
            .additional_info
            .and_then(|a| a.message_parts_count)
            .and_then(|c| c.as_i64())
            .and_then(|c| u32::try_from(c).ok()),
    })
}

/// The field a decoding failure names, from `serde_path_to_error`'s path; `body` when the
/// answer is not JSON at all or the path is not one of ours.
fn wire_field(path: &str) -> &'static str {
    const FIELDS: [&str; 10] = [
        "reference_id",
        "external_id",
        "status.code",
        "status.description",
        "status.updated_on",
        "status",
        "errors",
        "additional_info.message_parts_count",
        "additional_info",
        "body",
    ];
    FIELDS
        .iter()
        .find(|f| {
            path == **f || path.starts_with(&format!("{f}.")) || path.starts_with(&format!("{f}["))
        })
        .copied()
        .unwrap_or("body")
}
