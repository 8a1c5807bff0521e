//! Typed errors, one per concern, each converting into [`AdapterError`].
//!
//! None of them ever carries a request or response body, a token or a secret: bodies hold
//! personal data, tokens are credentials.

use std::time::Duration;

use byoc_core::AdapterError;
use byoc_http::{TokenError, TransportError};
use bytes::Bytes;

/// A configuration value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field that must be a GUID is not one.
    #[error("`{field}` is not a GUID")]
    InvalidGuid {
        /// The field at fault.
        field: &'static str,
    },
    /// A field that must be an absolute URL is not one.
    #[error("`{field}` is not an absolute http(s) URL")]
    InvalidUrl {
        /// The field at fault.
        field: &'static str,
    },
    /// A URL that must use HTTPS does not (plain HTTP is allowed for loopback hosts only
    /// when explicitly enabled).
    #[error("`{field}` must use https")]
    NotHttps {
        /// The field at fault.
        field: &'static str,
    },
    /// A value is longer than allowed.
    #[error("`{field}` is too long")]
    TooLong {
        /// The field at fault.
        field: &'static str,
    },
    /// A required value is empty.
    #[error("`{field}` is empty")]
    Empty {
        /// The field at fault.
        field: &'static str,
    },
    /// A value is out of range (a zero timeout or size limit).
    #[error("`{field}` {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built from the settings (a root CA that is not a PEM
    /// certificate, a TLS backend that cannot start).
    #[error("cannot build the HTTP client (`root_ca`, `timeout`): {reason}")]
    HttpClient {
        /// What the HTTP stack said (never a secret: the settings hold none).
        reason: String,
    },
}

impl From<ConfigError> for AdapterError {
    fn from(e: ConfigError) -> Self {
        AdapterError::configuration(e.to_string())
    }
}

/// An inbound webhook request failed authentication. Every variant answers `401`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Neither `Authorization: Bearer` nor (when enabled) `x-ms-token` is present.
    #[error("missing bearer token")]
    MissingToken,
    /// The `Authorization` header is not `Bearer <token>` or not visible ASCII.
    #[error("malformed authorization header")]
    MalformedHeader,
    /// The token is not a well-formed JWT (three base64url segments of JSON).
    #[error("malformed token")]
    MalformedToken,
    /// The token's `alg` is not `RS256`.
    #[error("unsupported token algorithm")]
    UnsupportedAlgorithm,
    /// No key of the tenant's key set has the token's `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify with the tenant's key.
    #[error("bad token signature")]
    BadSignature,
    /// `iss` is not one of the accepted Entra issuers for the tenant.
    #[error("wrong token issuer")]
    WrongIssuer,
    /// `aud` is not one of the accepted audiences.
    #[error("wrong token audience")]
    WrongAudience,
    /// `tid` is not the configured tenant.
    #[error("wrong token tenant")]
    WrongTenant,
    /// `appid`/`azp` is not the configured Entra app.
    #[error("wrong token application")]
    WrongApp,
    /// `exp` is past (beyond the clock skew).
    #[error("token expired")]
    Expired,
    /// `nbf` (or `iat`) is in the future (beyond the clock skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// A claim the check needs is absent or of the wrong JSON type.
    #[error("token claim `{0}` missing or malformed")]
    MissingClaim(&'static str),
    /// The legacy `x-ms-token` does not match the configured shared token.
    #[error("bad x-ms-token")]
    BadLegacyToken,
    /// The key set could not be fetched (a transient failure, not the caller's fault).
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

impl From<VerifyError> for AdapterError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::KeysUnavailable => AdapterError::transient(e.to_string()),
            _ => AdapterError::unauthorized(e.to_string()),
        }
    }
}

/// A webhook body or request is not what Omnichannel sends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The body is not a Bot Framework activity; `field` names the part at fault.
    #[error("not an activity{}: {message}", field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    NotAnActivity {
        /// The field at fault, as a dotted path.
        field: Option<String>,
        /// What is wrong (never the body).
        message: String,
    },
    /// The activity has no `conversation.id`.
    #[error("missing conversation.id")]
    MissingConversation,
    /// The conversation id of the URL path and of the body differ.
    #[error("conversation id of the path and the body differ")]
    ConversationMismatch,
    /// The body is larger than the configured limit.
    #[error("body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request is not `POST {base}/v3/conversations/{id}/activities`.
    #[error("not a webhook path")]
    WrongPath,
    /// The request method is not `POST`.
    #[error("method not allowed")]
    WrongMethod,
}

impl From<NormalizeError> for AdapterError {
    fn from(e: NormalizeError) -> Self {
        match &e {
            NormalizeError::NotAnActivity { field, .. } => match field {
                Some(f) => AdapterError::bad_request(f.clone(), e.to_string()),
                None => AdapterError::malformed(e.to_string()),
            },
            NormalizeError::MissingConversation | NormalizeError::ConversationMismatch => {
                AdapterError::bad_request("conversation.id", e.to_string())
            }
            NormalizeError::TooLarge { .. } => AdapterError::malformed(e.to_string()),
            NormalizeError::WrongPath | NormalizeError::WrongMethod => {
                AdapterError::bad_request("path", e.to_string())
            }
        }
    }
}

/// Which documented limit a value exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// `text` is at most 6,000 characters.
    Text,
    /// `type`, names, ids and display names are at most 256 characters.
    Name,
    /// Each `customercontext` field is at most 200 characters.
    CustomerContextField,
    /// At most 100 conversation context variables.
    ContextVariables,
    /// `startmessage` is at most 27 KB (27,648 bytes of JSON).
    StartMessage,
    /// A message needs `text` or `attachments`.
    EmptyMessage,
    /// The activity type cannot be sent through the Messaging API.
    ActivityType,
    /// A required value is absent.
    Required,
}

impl Limit {
    /// The documented maximum (characters, variables or bytes; 0 where it is a rule).
    #[must_use]
    pub fn max(self) -> usize {
        match self {
            Limit::Text => crate::render::MAX_TEXT_CHARS,
            Limit::Name => crate::render::MAX_NAME_CHARS,
            Limit::CustomerContextField => crate::render::MAX_CUSTOMER_FIELD_CHARS,
            Limit::ContextVariables => crate::render::MAX_CONTEXT_VARIABLES,
            Limit::StartMessage => crate::render::MAX_START_MESSAGE_BYTES,
            Limit::EmptyMessage | Limit::ActivityType | Limit::Required => 0,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Limit::Text => "text is limited to 6000 characters",
            Limit::Name => "names are limited to 256 characters",
            Limit::CustomerContextField => "customer context fields are limited to 200 characters",
            Limit::ContextVariables => "at most 100 context variables",
            Limit::StartMessage => "the start message is limited to 27 KB",
            Limit::EmptyMessage => "a message needs text or attachments",
            Limit::ActivityType => "only message, typing, endOfConversation and event are sent",
            Limit::Required => "a value is required",
        }
    }
}

/// An activity or a create-conversation request breaks a documented limit; nothing was
/// sent. `limit` says which rule, `field` where (a dotted path), `actual` the size found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {} (got {actual})", limit.describe())]
#[non_exhaustive]
pub struct RenderError {
    /// The limit broken.
    pub limit: Limit,
    /// The field at fault, as a dotted path.
    pub field: String,
    /// The actual size (characters, variables or bytes).
    pub actual: usize,
}

impl RenderError {
    pub(crate) fn new(limit: Limit, field: impl Into<String>, actual: usize) -> Self {
        Self {
            limit,
            field: field.into(),
            actual,
        }
    }
}

impl From<RenderError> for AdapterError {
    fn from(e: RenderError) -> Self {
        AdapterError::bad_request(e.field.clone(), e.to_string()).with_code("LimitExceeded")
    }
}

/// A call to the Messaging API or to Dataverse failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request never got an answer (connection, TLS, timeout).
    #[error("transport failure calling {endpoint}: {source}")]
    Transport {
        /// Which endpoint (`create`, `send`, `list`, `dataverse create`, ...).
        endpoint: &'static str,
        /// The transport's error (its kind; never the URL or a header).
        #[source]
        source: TransportError,
    },
    /// The service answered with an error status.
    #[error("{endpoint} answered HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        /// Which endpoint.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The provider's error code, when the body has one that is an identifier.
        code: Option<String>,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The answer is not the documented JSON; `field` names what is missing or wrong.
    #[error("{endpoint} answered an unexpected body (field `{field}`)")]
    Decode {
        /// Which endpoint.
        endpoint: &'static str,
        /// The field at fault.
        field: &'static str,
    },
    /// No access token could be had from Entra (wrong secret, unknown tenant, unreachable).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The request breaks a documented limit; it was not sent.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The request could not be built (a value is not valid in a URL or header).
    #[error("cannot build the {endpoint} request: {what}")]
    Build {
        /// Which endpoint.
        endpoint: &'static str,
        /// What is wrong.
        what: &'static str,
    },
}

impl ClientError {
    /// A [`ClientError::Status`] for an error answer of `endpoint`: the status, the
    /// provider's error code when the body has one, and `Retry-After`. The body's text is
    /// never kept.
    pub(crate) fn status_of(endpoint: &'static str, response: &http::Response<Bytes>) -> Self {
        ClientError::Status {
            endpoint,
            status: response.status().as_u16(),
            code: byoc_http::error_code(response.body()),
            retry_after: byoc_http::retry_after(response.headers(), chrono::Utc::now()),
        }
    }

    /// Whether the call may succeed if made again later (the same rule as the
    /// [`AdapterError`] it converts into).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport { source, .. } => source.is_retryable(),
            ClientError::Status { status, .. } => is_retryable_status(*status),
            ClientError::Token(TokenError::Transport(t)) => t.is_retryable(),
            ClientError::Token(TokenError::Refused { status, .. }) => is_retryable_status(*status),
            ClientError::Token(TokenError::Decode { .. }) => true,
            _ => false,
        }
    }

    /// How long the service asked to wait before the next call (`Retry-After`), if it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Status { retry_after, .. }
            | ClientError::Token(TokenError::Refused { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status the service (or the token endpoint) answered, if it answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. }
            | ClientError::Token(TokenError::Refused { status, .. }) => Some(*status),
            _ => None,
        }
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

impl From<ClientError> for AdapterError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Transport { endpoint, source } => {
                let message = format!("transport failure calling {endpoint}: {source}");
                if source.is_retryable() {
                    AdapterError::transport(message, source)
                } else {
                    AdapterError::permanent(None, message)
                }
            }
            ClientError::Status {
                endpoint,
                status,
                code,
                retry_after,
            } => {
                let msg = format!("{endpoint} answered HTTP {status}");
                let err = match status {
                    401 | 403 => AdapterError::unauthorized(msg),
                    429 => AdapterError::rate_limited(retry_after, msg),
                    408 | 500..=599 => AdapterError::transient(msg).with_retry_after(retry_after),
                    400 | 413 | 422 => AdapterError::malformed(msg),
                    _ => AdapterError::permanent(Some(status), msg),
                };
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            ClientError::Decode { endpoint, field } => AdapterError::permanent(
                None,
                format!("{endpoint} answered an unexpected body (field `{field}`)"),
            ),
            ClientError::Token(t) => t.into(),
            ClientError::Render(r) => r.into(),
            ClientError::Build { .. } => AdapterError::configuration(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
