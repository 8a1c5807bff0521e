//! Typed errors, one small enum per concern, each converting into [`AdapterError`].
//!
//! No error ever carries a request or response body (they hold phone numbers and message
//! text) or a credential.

use std::time::Duration;

use byoc_core::AdapterError;
use byoc_http::TransportError;

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
    /// The base URL is not an `http(s)` URL with a host and without query or fragment.
    #[error("invalid base_url: {reason}")]
    InvalidBaseUrl {
        /// What is wrong.
        reason: &'static str,
    },
    /// The callback URL is not an `http(s)` URL with a host and without query or fragment.
    #[error("invalid callback_url: {reason}")]
    InvalidCallbackUrl {
        /// What is wrong.
        reason: &'static str,
    },
    /// `sender_id` is empty or longer than 20 characters.
    #[error("sender_id must be 1 to 20 characters")]
    InvalidSenderId,
    /// A value is out of range (a zero timeout or size limit).
    #[error("`{field}` {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built (TLS backend, a root CA that is not a PEM
    /// certificate).
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

/// A failed REST call to TeleSign.
///
/// `endpoint` names the call (`POST /v1/messaging`, `GET /v1/messaging/{reference_id}`);
/// no variant carries a body, a URL's query or a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request got no answer (connection refused or dropped, timeout, answer too large).
    #[error("TeleSign {endpoint}: {source}")]
    Transport {
        /// The call.
        endpoint: &'static str,
        /// What failed.
        #[source]
        source: TransportError,
    },
    /// TeleSign answered with an error: a status other than 2xx, or an error code
    /// (`errors[0].code`, else `status.code`) in a 2xx answer
    /// (`docs/protocols/telesign.md#errors`).
    #[error("TeleSign {endpoint} answered HTTP {status}{}", describe(code.as_deref(), description.as_deref()))]
    Status {
        /// The call.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// TeleSign's code in decimal (`10008`, `11000`, `-30006`), when the answer had one.
        code: Option<String>,
        /// TeleSign's fixed description of the code (`Invalid Signature.`), when given.
        description: Option<String>,
        /// From the `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// A 2xx answer that is not TeleSign's JSON; `field` names what is wrong (`body` when
    /// the answer is not JSON at all).
    #[error("TeleSign {endpoint} answered an unreadable body (field `{field}`)")]
    Decode {
        /// The call.
        endpoint: &'static str,
        /// The field at fault.
        field: &'static str,
    },
    /// The request could not be built from the input; nothing was sent.
    #[error(transparent)]
    Render(#[from] RenderError),
}

fn describe(code: Option<&str>, description: Option<&str>) -> String {
    match (code, description) {
        (Some(c), Some(d)) => format!(" (code {c}: {d})"),
        (Some(c), None) => format!(" (code {c})"),
        (None, Some(d)) => format!(" ({d})"),
        (None, None) => String::new(),
    }
}

impl ClientError {
    /// TeleSign's numeric code, for [`ClientError::Status`] answers that had one.
    #[must_use]
    pub fn telesign_code(&self) -> Option<i64> {
        match self {
            Self::Status { code, .. } => code.as_deref().and_then(|c| c.parse().ok()),
            _ => None,
        }
    }

    /// The HTTP status of a [`ClientError::Status`].
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request field a validation code (11xxx / 12xxx) names, if known.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        self.telesign_code()
            .and_then(crate::codes::field_of_error_code)
    }

    /// Whether TeleSign refused the credentials or the signature (HTTP 401 / 403, or an
    /// authentication code).
    #[must_use]
    pub fn is_auth_failure(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
            || self
                .telesign_code()
                .is_some_and(crate::codes::is_auth_error_code)
    }

    /// Whether TeleSign throttled the request (HTTP 429, codes 10019 / 10020).
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429) || matches!(self.telesign_code(), Some(10019 | 10020))
    }

    /// `Retry-After` of a [`ClientError::Status`], when TeleSign sent one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl From<ClientError> for AdapterError {
    fn from(e: ClientError) -> Self {
        let message = e.to_string();
        match e {
            ClientError::Render(r) => r.into(),
            ClientError::Transport { source, .. } if source.is_retryable() => {
                AdapterError::transport(message, source)
            }
            ClientError::Transport { .. } => AdapterError::permanent(None, message),
            // The message may have been accepted: retrying could send it twice.
            ClientError::Decode { .. } => AdapterError::permanent(None, message),
            ClientError::Status { status, .. } => {
                let retry_after = e.retry_after();
                let err = if e.is_rate_limited() {
                    AdapterError::rate_limited(retry_after, message)
                } else if e.is_auth_failure() {
                    AdapterError::unauthorized(message)
                } else if let Some(field) = e.field() {
                    AdapterError::bad_request(field, message)
                } else if status >= 500 {
                    AdapterError::transient(message).with_retry_after(retry_after)
                } else if status == 400 && e.telesign_code().is_none() {
                    AdapterError::malformed(message)
                } else {
                    AdapterError::permanent(Some(status), message)
                };
                match e {
                    ClientError::Status { code: Some(c), .. } => err.with_code(c),
                    _ => err,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
