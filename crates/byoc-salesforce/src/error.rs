//! The errors of this crate, one enum per concern, each converting into [`AdapterError`].
//!
//! No error ever holds a request or response body, a token or a key: only endpoints, codes,
//! field names and our own descriptions of the service's error codes.

use std::fmt;
use std::time::Duration;

use byoc_core::AdapterError;
use byoc_http::{TokenError, TransportError};

use crate::codes;

/// A configuration value that cannot work, found when the configuration is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required value is empty.
    #[error("`{field}` is empty")]
    Empty {
        /// The setting at fault.
        field: &'static str,
    },
    /// A value is out of its range or has the wrong form.
    #[error("`{field}` {reason}")]
    Invalid {
        /// The setting at fault.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The connected app's private key is not an RSA key in PKCS#8 or PKCS#1 PEM, or it
    /// cannot sign.
    #[error("`private_key_pem` is not a usable RSA private key (PKCS#8 or PKCS#1 PEM)")]
    PrivateKey,
    /// The HTTP client could not be built (a root CA that is not a certificate, the TLS
    /// backend). As in byoc-telesign and byoc-messaging-api, a root CA that byoc-http refuses
    /// (its `TransportBuildError::RootCa`) lands here, named in `reason`; the Pub/Sub stream
    /// names one its TLS stack refuses with [`PubSubError::RootCa`].
    #[error("cannot build the HTTP client: {reason}")]
    HttpClient {
        /// Why (names the CA, never holds a secret).
        reason: String,
    },
}

impl From<ConfigError> for AdapterError {
    fn from(e: ConfigError) -> Self {
        AdapterError::configuration(e.to_string())
    }
}

/// Why a relayed event was refused ([`RelayVerifier`](crate::RelayVerifier)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request carries no relay secret.
    #[error("the relay request has no `Authorization: Bearer` secret")]
    MissingSecret,
    /// The relay secret is not the configured one.
    #[error("the relay secret does not match")]
    WrongSecret,
}

impl From<VerifyError> for AdapterError {
    fn from(e: VerifyError) -> Self {
        AdapterError::unauthorized(e.to_string())
    }
}

/// Failures turning a platform event into activities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The payload is not JSON, or a field has the wrong JSON type.
    #[error("invalid payload JSON at `{field}`: {reason}")]
    InvalidJson {
        /// The field at fault (dotted path), or `$` for the document.
        field: String,
        /// What is wrong (serde's description, without the input).
        reason: String,
    },
    /// A required field is missing.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// The event record has no payload field.
    #[error("the event record has no payload field `{0}`")]
    MissingPayloadField(String),
    /// An Avro payload could not be decoded with its writer schema.
    #[error("avro decoding failed: {reason}")]
    Avro {
        /// What is wrong.
        reason: &'static str,
    },
}

impl NormalizeError {
    pub(crate) fn json(field: &str, e: &serde_json::Error) -> Self {
        // serde_json's messages name the type expectation and position; an "invalid value"
        // message may quote the input, so only the category and position are kept.
        let kind = match e.classify() {
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Eof => "unexpected end of input",
            serde_json::error::Category::Data => "unexpected type",
            serde_json::error::Category::Io => "I/O error",
        };
        Self::InvalidJson {
            field: field.to_owned(),
            reason: format!("{kind} at line {} column {}", e.line(), e.column()),
        }
    }

    pub(crate) fn too_large() -> Self {
        Self::InvalidJson {
            field: "$".into(),
            reason: "payload larger than 1 MiB".into(),
        }
    }
}

impl From<NormalizeError> for AdapterError {
    fn from(e: NormalizeError) -> Self {
        let message = e.to_string();
        match e {
            NormalizeError::InvalidJson { field, .. } => AdapterError::bad_request(field, message),
            NormalizeError::MissingField(f) => AdapterError::bad_request(f, message),
            NormalizeError::MissingPayloadField(f) => AdapterError::bad_request(f, message),
            NormalizeError::Avro { .. } => AdapterError::malformed(message),
        }
    }
}

/// Failures rendering an activity as an Interaction Service request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The activity lacks what the request needs.
    #[error("activity has no `{0}`")]
    MissingField(&'static str),
    /// The channel cannot carry this activity.
    #[error("unsupported activity: {0}")]
    Unsupported(String),
    /// A value breaks a documented limit.
    #[error("`{field}` exceeds its limit: {limit}")]
    Limit {
        /// The field at fault.
        field: &'static str,
        /// The limit.
        limit: &'static str,
    },
    /// An attachment `data:` URI is malformed.
    #[error("attachment `contentUrl` is not a base64 data: URI")]
    BadDataUri,
}

impl From<RenderError> for AdapterError {
    fn from(e: RenderError) -> Self {
        let message = e.to_string();
        match e {
            RenderError::MissingField(f) => AdapterError::bad_request(f, message),
            RenderError::Limit { field, .. } => AdapterError::bad_request(field, message),
            RenderError::BadDataUri => AdapterError::bad_request("attachments.contentUrl", message),
            RenderError::Unsupported(_) => AdapterError::unsupported(message),
        }
    }
}

/// A failed Interaction Service REST call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No answer arrived (connection, timeout, an answer over the size limit).
    #[error("{endpoint}: {source}")]
    Transport {
        /// The call, as `METHOD /path`.
        endpoint: &'static str,
        /// What the transport saw.
        #[source]
        source: TransportError,
    },
    /// The service answered with an error status.
    #[error("{endpoint} answered HTTP {status}{}", describe_code(code.as_deref()))]
    Status {
        /// The call, as `METHOD /path`.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The service's error code (`10004`, ...), when the body carried one.
        code: Option<String>,
        /// `Retry-After`, when the answer carried one.
        retry_after: Option<Duration>,
    },
    /// The service throttled the call: HTTP 429, or an answer saying the rate limit is
    /// exceeded.
    #[error("{endpoint} was rate limited (HTTP {status}){}", retry_after.map(|d| format!(", retry after {}s", d.as_secs_f32())).unwrap_or_default())]
    RateLimited {
        /// The call, as `METHOD /path`.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The service's error code, when the body carried one.
        code: Option<String>,
        /// `Retry-After`, when the answer carried one.
        retry_after: Option<Duration>,
    },
    /// A success answer that is not the documented JSON.
    #[error("{endpoint} answered a body that is not the documented JSON (field `{field}`)")]
    Decode {
        /// The call, as `METHOD /path`.
        endpoint: &'static str,
        /// The field at fault, or `$` for the document.
        field: &'static str,
    },
    /// No access token could be had.
    #[error("access token: {0}")]
    Token(#[from] TokenError),
    /// The request breaks a documented rule and was not sent.
    #[error("`{field}`: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// The rule.
        reason: &'static str,
    },
    /// The request could not be built (a header value or URL from the configuration).
    #[error("cannot build the {endpoint} request: `{field}` is not valid in a request")]
    Request {
        /// The call, as `METHOD /path`.
        endpoint: &'static str,
        /// The value at fault.
        field: &'static str,
    },
}

fn describe_code(code: Option<&str>) -> String {
    match code {
        Some(c) => match c.parse().ok().and_then(codes::describe) {
            Some(text) => format!(" with code {c} ({text})"),
            None => format!(" with code {c}"),
        },
        None => String::new(),
    }
}

impl ClientError {
    /// The service's error code, when the answer carried one.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } | Self::RateLimited { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } | Self::RateLimited { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the answer says the access token is rejected (HTTP 401, codes 10004 and
    /// 10003).
    #[must_use]
    pub fn is_token_rejected(&self) -> bool {
        match self {
            Self::Status { status, code, .. } => {
                *status == 401 || numeric(code.as_deref()).is_some_and(is_token_code)
            }
            _ => false,
        }
    }

    /// Whether the same call may succeed later (what [`AdapterError::is_retryable`] says of
    /// it).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { source, .. } => source.is_retryable(),
            Self::Status { status, code, .. } => {
                let number = numeric(code.as_deref());
                !self.is_token_rejected()
                    && (number.is_some_and(|c| codes::RETRYABLE.contains(&c))
                        || *status >= 500
                        || number == Some(500))
            }
            Self::RateLimited { .. } => true,
            Self::Token(t) => match t {
                TokenError::Transport(t) => t.is_retryable(),
                TokenError::Refused { status, .. } => matches!(status, 408 | 429 | 500..=599),
                TokenError::Decode { .. } => true,
                _ => false,
            },
            Self::Decode { .. } | Self::Invalid { .. } | Self::Request { .. } => false,
        }
    }
}

fn numeric(code: Option<&str>) -> Option<i64> {
    code.and_then(|c| c.parse().ok())
}

pub(crate) fn is_token_code(code: i64) -> bool {
    codes::TOKEN_REJECTED.contains(&code)
}

impl From<ClientError> for AdapterError {
    fn from(e: ClientError) -> Self {
        let message = e.to_string();
        let token_rejected = e.is_token_rejected();
        match e {
            ClientError::Transport { source, .. } => {
                if source.is_retryable() {
                    AdapterError::transport(message, source)
                } else {
                    AdapterError::permanent(None, message)
                }
            }
            ClientError::Status {
                status,
                code,
                retry_after,
                ..
            } => {
                let number = numeric(code.as_deref());
                let err = if token_rejected {
                    AdapterError::unauthorized(message)
                } else if number.is_some_and(|c| codes::RETRYABLE.contains(&c))
                    || status >= 500
                    || number == Some(500)
                {
                    AdapterError::transient(message).with_retry_after(retry_after)
                } else if number.is_some_and(|c| (10000..11000).contains(&c)) || status == 400 {
                    // Validation of what we sent: the same request fails the same way.
                    AdapterError::malformed(message)
                } else {
                    AdapterError::permanent(Some(status), message)
                };
                err.with_code(code.unwrap_or_else(|| status.to_string()))
            }
            ClientError::RateLimited {
                status,
                code,
                retry_after,
                ..
            } => AdapterError::rate_limited(retry_after, message)
                .with_code(code.unwrap_or_else(|| status.to_string())),
            ClientError::Decode { .. } => AdapterError::permanent(None, message),
            ClientError::Token(t) => t.into(),
            ClientError::Invalid { field, .. } => AdapterError::bad_request(field, message),
            ClientError::Request { .. } => AdapterError::configuration(message),
        }
    }
}

/// How far a transfer got (see [`TransferError::DeadlineExceeded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferStage {
    /// Nothing was sent yet (the access token was being minted).
    Started,
    /// `POST /agentWork` was sent and had not been answered.
    AgentWorkRequested,
    /// The AgentWork was created; `POST /routingResult` had not been answered.
    RoutingResultRequested,
    /// `POST /route` was sent and had not been answered (a PendingServiceRouting may exist).
    RouteRequested,
}

impl fmt::Display for TransferStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Started => "before the first call",
            Self::AgentWorkRequested => "POST /agentWork unanswered",
            Self::RoutingResultRequested => "AgentWork created, POST /routingResult unanswered",
            Self::RouteRequested => "POST /route unanswered",
        })
    }
}

/// Failures of the RoutingRequested transfer sequence
/// ([`SalesforceClient::transfer`](crate::SalesforceClient::transfer)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The event lacks what the transfer needs.
    #[error("routing request has no `{field}`: {reason}")]
    MissingField {
        /// The field at fault.
        field: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// A call of the sequence failed within the deadline. A failed `/agentWork` has been
    /// reported with `routingResult` `success: false` first.
    #[error("transfer failed: {0}")]
    Call(#[source] ClientError),
    /// The 60-second deadline passed. Salesforce fails the transfer by itself then; what the
    /// partner side had done is named here so nothing is left unreported: `agent_work_id` is
    /// the AgentWork created (close it with `PATCH /agentWork` if unwanted) and `reported`
    /// whether Salesforce acknowledged a `routingResult` for the attempt (after the deadline,
    /// one is sent within [`TRANSFER_REPORT_GRACE`](crate::TRANSFER_REPORT_GRACE)).
    #[error("transfer did not complete within 60 seconds ({stage})")]
    DeadlineExceeded {
        /// How far the sequence got.
        stage: TransferStage,
        /// The AgentWork created, if any.
        agent_work_id: Option<String>,
        /// Whether a `routingResult` for this attempt was acknowledged.
        reported: bool,
    },
}

impl From<TransferError> for AdapterError {
    fn from(e: TransferError) -> Self {
        let message = e.to_string();
        match e {
            TransferError::MissingField { field, .. } => AdapterError::bad_request(field, message),
            TransferError::Call(inner) => inner.into(),
            // Salesforce has failed the transfer; the rep requests it again (a new event).
            TransferError::DeadlineExceeded { .. } => {
                AdapterError::permanent(None, message).with_code("transfer_deadline")
            }
        }
    }
}

/// Failures of the Pub/Sub subscription.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PubSubError {
    /// Could not connect to the Pub/Sub endpoint (refused, DNS, TLS handshake).
    #[error("pub/sub connection failed: {reason}")]
    Connect {
        /// The transport's description (no URL query, no metadata).
        reason: String,
    },
    /// The service answered an RPC with a gRPC status.
    #[error("pub/sub rpc `{rpc}` failed: {code:?}")]
    Status {
        /// The RPC.
        rpc: &'static str,
        /// The gRPC code.
        code: tonic::Code,
    },
    /// The topic does not allow subscribing with these credentials.
    #[error("topic `{0}` does not allow subscribing")]
    NotSubscribable(String),
    /// A schema is not valid Avro.
    #[error("schema `{0}` is not a valid Avro schema")]
    BadSchema(String),
    /// A configuration value cannot go into gRPC metadata or an endpoint.
    #[error("invalid pub/sub configuration: `{0}`")]
    Config(&'static str),
    /// A root CA ([`SalesforceConfig::with_root_ca`](crate::SalesforceConfig::with_root_ca))
    /// that the gRPC TLS stack cannot read. Named and worded as byoc-http's
    /// `TransportBuildError::RootCa` for the REST client (which this crate reports as
    /// [`ConfigError::HttpClient`], as the other adapters do); a configuration error, which
    /// ends the subscription.
    #[error("root CA `{name}` is not a usable PEM certificate")]
    RootCa {
        /// The CA's name (its file path, or what the caller named it).
        name: String,
    },
}

impl PubSubError {
    pub(crate) fn status(rpc: &'static str, s: &tonic::Status) -> Self {
        Self::Status {
            rpc,
            code: s.code(),
        }
    }

    /// Whether the error means the access token must be minted again.
    #[must_use]
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            Self::Status {
                code: tonic::Code::Unauthenticated,
                ..
            }
        )
    }
}

impl From<PubSubError> for AdapterError {
    fn from(e: PubSubError) -> Self {
        let message = e.to_string();
        match e {
            PubSubError::Connect { .. } => AdapterError::transient(message),
            PubSubError::Status { code, .. } => match code {
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
                    AdapterError::unauthorized(message)
                }
                tonic::Code::ResourceExhausted => AdapterError::rate_limited(None, message),
                tonic::Code::InvalidArgument | tonic::Code::NotFound => {
                    AdapterError::malformed(message)
                }
                _ => AdapterError::transient(message),
            },
            PubSubError::NotSubscribable(_) => AdapterError::unauthorized(message),
            PubSubError::BadSchema(_) => AdapterError::permanent(None, message),
            PubSubError::Config(_) | PubSubError::RootCa { .. } => {
                AdapterError::configuration(message)
            }
        }
    }
}

#[cfg(test)]
mod tests;
