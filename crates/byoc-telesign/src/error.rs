//! Typed errors, one small enum per concern, each converting into [`AdapterError`].
//!
//! No error ever carries a request or response body (they hold phone numbers and message
//! text) or a credential.

use std::time::Duration;

use byoc_core::AdapterError;

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `customer_id` is empty.
    #[error("customer_id is empty")]
    EmptyCustomerId,
    /// The API key is empty or decodes (leniently, see [`crate::ApiKey`]) to no bytes.
    #[error("api_key is empty or is not base64")]
    InvalidApiKey,
    /// The base URL is not an absolute `http(s)` URL without query.
    #[error("invalid base_url: {reason}")]
    InvalidBaseUrl {
        /// What is wrong.
        reason: &'static str,
    },
    /// `sender_id` is empty or longer than 20 characters.
    #[error("sender_id must be 1 to 20 characters")]
    InvalidSenderId,
    /// The HTTP client could not be built.
    #[error("HTTP client: {reason}")]
    HttpClient {
        /// What failed.
        reason: String,
    },
}

impl From<ConfigError> for AdapterError {
    fn from(e: ConfigError) -> Self {
        AdapterError::configuration(e.to_string())
    }
}

/// An inbound callback failed verification. Every variant answers HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Neither `Authorization` nor `X-TS-Authorization` is present.
    #[error("missing Authorization / X-TS-Authorization header")]
    MissingSignature,
    /// The header is not `TSA {customer_id}:{signature}` (or a bare signature in
    /// `X-TS-Authorization`).
    #[error("malformed `{header}` header")]
    MalformedHeader {
        /// The header at fault.
        header: &'static str,
    },
    /// The header names another customer id.
    #[error("`{header}` names another customer id")]
    CustomerIdMismatch {
        /// The header at fault.
        header: &'static str,
    },
    /// The signature does not match the body under any configured key.
    #[error("invalid callback signature")]
    InvalidSignature,
    /// The body is larger than the configured limit.
    #[error("callback body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl From<VerifyError> for AdapterError {
    fn from(e: VerifyError) -> Self {
        let code = match e {
            VerifyError::MissingSignature => "missing_signature",
            VerifyError::MalformedHeader { .. } => "malformed_signature_header",
            VerifyError::CustomerIdMismatch { .. } => "customer_id_mismatch",
            VerifyError::InvalidSignature => "invalid_signature",
            VerifyError::BodyTooLarge { .. } => "body_too_large",
        };
        AdapterError::unauthorized(e.to_string()).with_code(code)
    }
}

/// A callback body is not what TeleSign sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// Not JSON, or a field has a JSON type TeleSign never sends (the message names the
    /// line and column, never the content).
    #[error("callback is not valid JSON{}: {reason}", field.as_ref().map(|f| format!(" at `{f}`")).unwrap_or_default())]
    InvalidJson {
        /// The field at fault, as a dotted path, when known.
        field: Option<String>,
        /// The parser's diagnosis (position and expected type).
        reason: String,
    },
    /// A field the callback kind requires is missing or empty.
    #[error("callback lacks `{field}`")]
    MissingField {
        /// The field, as a dotted path.
        field: &'static str,
    },
}

impl From<NormalizeError> for AdapterError {
    fn from(e: NormalizeError) -> Self {
        match &e {
            NormalizeError::InvalidJson { field: Some(f), .. } => {
                AdapterError::bad_request(f.clone(), e.to_string())
            }
            NormalizeError::InvalidJson { field: None, .. } => {
                AdapterError::malformed(e.to_string())
            }
            NormalizeError::MissingField { field } => {
                AdapterError::bad_request(*field, e.to_string())
            }
        }
    }
}

/// An activity cannot become a TeleSign send request. Raised before any request is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The phone number is not country code + national number (7 to 15 digits after
    /// removing `+`, spaces, dashes, dots and parentheses).
    #[error("`{field}` is not a valid phone number (country code + digits)")]
    InvalidPhoneNumber {
        /// Where the number came from (`recipient.id`, `phone_number`, ...).
        field: &'static str,
    },
    /// No recipient: neither `recipient.id` nor a conversation id to take it from.
    #[error("no recipient phone number (`recipient.id`)")]
    MissingRecipient,
    /// The activity has no text to send.
    #[error("message text is empty")]
    EmptyText,
    /// The text is longer than one request may carry and splitting is off.
    #[error("message has {chars} characters, more than {max} (splitting is disabled)")]
    TextTooLong {
        /// Characters in the text.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// SMS cannot carry this activity type.
    #[error("activity type `{kind}` cannot be sent as SMS")]
    UnsupportedActivity {
        /// The activity type.
        kind: String,
    },
    /// A field (from `channelData` or the configuration) has a value TeleSign refuses.
    #[error("invalid `{field}`: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl From<RenderError> for AdapterError {
    fn from(e: RenderError) -> Self {
        match &e {
            RenderError::InvalidPhoneNumber { field } | RenderError::InvalidField { field, .. } => {
                AdapterError::bad_request(*field, e.to_string())
            }
            RenderError::MissingRecipient => {
                AdapterError::bad_request("recipient.id", e.to_string())
            }
            RenderError::EmptyText | RenderError::TextTooLong { .. } => {
                AdapterError::bad_request("text", e.to_string())
            }
            RenderError::UnsupportedActivity { .. } => AdapterError::unsupported(e.to_string()),
        }
    }
}

/// TeleSign answered with an error (a non-2xx status, or an error code in `status.code` /
/// `errors[].code`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TeleSign error {}{} (HTTP {http_status})", code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()), description.as_ref().map(|d| format!(" {d}")).unwrap_or_default())]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub http_status: u16,
    /// The TeleSign code: `errors[0].code` when present, else `status.code`.
    pub code: Option<i64>,
    /// TeleSign's description of the code (a fixed text such as `Invalid Signature.`).
    pub description: Option<String>,
    /// From the `Retry-After` header.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// The request field a validation code (11xxx / 12xxx) names, if known.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        self.code.and_then(crate::codes::field_of_error_code)
    }

    /// Whether the code or status says the credentials or the signature were refused.
    #[must_use]
    pub fn is_auth_failure(&self) -> bool {
        self.http_status == 401
            || self.http_status == 403
            || self.code.is_some_and(crate::codes::is_auth_error_code)
    }

    /// Whether TeleSign throttled the request (HTTP 429, codes 10019 / 10020).
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.http_status == 429 || matches!(self.code, Some(10019 | 10020))
    }
}

impl From<ApiError> for AdapterError {
    fn from(e: ApiError) -> Self {
        let code = e.code.map(|c| c.to_string());
        let message = e.to_string();
        let err = if e.is_rate_limited() {
            AdapterError::rate_limited(e.retry_after, message)
        } else if e.is_auth_failure() {
            AdapterError::unauthorized(message)
        } else if let Some(field) = e.field() {
            AdapterError::bad_request(field, message)
        } else if e.http_status >= 500 {
            AdapterError::transient(message).with_retry_after(e.retry_after)
        } else if e.http_status == 400 && e.code.is_none() {
            AdapterError::malformed(message)
        } else {
            AdapterError::permanent(Some(e.http_status), message)
        };
        match code {
            Some(c) => err.with_code(c),
            None => err,
        }
    }
}

/// A failed REST call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request could not be built from the input.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// TeleSign answered with an error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request did not get an answer (connection refused or dropped, timeout).
    #[error("transport failure: {0}")]
    Transport(#[from] crate::client::TransportError),
    /// A 2xx answer whose body is not TeleSign's JSON.
    #[error("unreadable TeleSign response (HTTP {http_status}): {reason}")]
    InvalidResponse {
        /// The HTTP status.
        http_status: u16,
        /// The parser's diagnosis (never the body).
        reason: String,
    },
}

impl From<ClientError> for AdapterError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Render(r) => r.into(),
            ClientError::Api(a) => a.into(),
            ClientError::Transport(t) => AdapterError::transport("TeleSign unreachable", t),
            // The message may have been accepted: retrying could send it twice.
            ClientError::InvalidResponse { http_status, .. } => {
                AdapterError::permanent(Some(http_status), e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<i64>) -> AdapterError {
        ApiError {
            http_status: status,
            code,
            description: Some("d".into()),
            retry_after: Some(Duration::from_secs(4)),
        }
        .into()
    }

    #[test]
    fn api_errors_map_to_kinds() {
        let e = api(429, Some(10019));
        assert!(matches!(e, AdapterError::RateLimited { .. }));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
        assert_eq!(e.code(), Some("10019"));
        assert!(matches!(
            api(429, Some(10020)),
            AdapterError::RateLimited { .. }
        ));
        assert!(matches!(api(429, None), AdapterError::RateLimited { .. }));
        assert!(api(401, Some(10008)).is_unauthorized());
        assert!(api(401, Some(10002)).is_unauthorized());
        assert!(api(200, Some(10015)).is_unauthorized());
        assert!(api(400, Some(-30006)).is_unauthorized());
        let e = api(400, Some(11000));
        assert_eq!(e.field(), Some("phone_number"));
        assert_eq!(api(400, Some(12009)).field(), Some("message"));
        assert_eq!(api(400, Some(11013)).field(), Some("sender_id"));
        let e = api(503, None);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
        assert!(api(500, None).is_retryable());
        assert!(matches!(
            api(404, Some(10017)),
            AdapterError::Permanent {
                status: Some(404),
                ..
            }
        ));
        assert!(matches!(
            api(402, Some(10030)),
            AdapterError::Permanent {
                status: Some(402),
                ..
            }
        ));
        assert!(!api(400, Some(10032)).is_retryable());
    }

    #[test]
    fn verify_errors_are_unauthorized() {
        for e in [
            VerifyError::MissingSignature,
            VerifyError::MalformedHeader {
                header: "authorization",
            },
            VerifyError::CustomerIdMismatch {
                header: "authorization",
            },
            VerifyError::InvalidSignature,
            VerifyError::BodyTooLarge { limit: 1 },
        ] {
            let a: AdapterError = e.into();
            assert_eq!(a.http_status(), 401);
        }
    }

    #[test]
    fn render_errors_name_the_field() {
        let a: AdapterError = RenderError::InvalidPhoneNumber {
            field: "recipient.id",
        }
        .into();
        assert_eq!(a.field(), Some("recipient.id"));
        let a: AdapterError = RenderError::TextTooLong {
            chars: 2000,
            max: 1600,
        }
        .into();
        assert_eq!(a.field(), Some("text"));
        let a: AdapterError = RenderError::UnsupportedActivity {
            kind: "typing".into(),
        }
        .into();
        assert!(matches!(a, AdapterError::Unsupported { .. }));
    }
}
