//! Errors of this crate, each converting into [`AdapterError`].
//!
//! No error here ever holds a request or response body, a token or a key: only codes, field
//! names and short descriptions.

use std::time::Duration;

use byoc_core::AdapterError;

/// Error codes of the Interaction Service after which the same request may succeed later
/// ("try again later", "please retry", downstream timeout), per `ERRORCODES.md`.
pub const RETRYABLE_CODES: [i64; 5] = [10019, 10055, 10056, 10094, 20004];

/// Error codes meaning the access token is not (or no longer) acceptable: re-mint it.
pub const TOKEN_CODES: [i64; 2] = [10004, 10003];

/// A failed answer of the Interaction Service REST API (`{"code": 10004, "message": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("interaction service answered HTTP {status}{}: {message}", code.map(|c| format!(" code {c}")).unwrap_or_default())]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The service's error code, when the body carried one.
    pub code: Option<i64>,
    /// The service's error message (a fixed text from its catalogue, never our data), or a
    /// description of the status.
    pub message: String,
    /// `Retry-After`, when the answer carried one.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// Whether the access token must be minted again before retrying.
    #[must_use]
    pub fn is_token_rejected(&self) -> bool {
        self.status == 401 || self.code.is_some_and(|c| TOKEN_CODES.contains(&c))
    }

    /// Whether this answer is a rate limit.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        self.status == 429 || self.message.to_ascii_lowercase().contains("rate limit")
    }
}

impl From<ApiError> for AdapterError {
    fn from(e: ApiError) -> Self {
        let code = e
            .code
            .map_or_else(|| e.status.to_string(), |c| c.to_string());
        let message = e.message.clone();
        let err = if e.is_token_rejected() {
            AdapterError::unauthorized(message)
        } else if e.is_rate_limited() {
            AdapterError::rate_limited(e.retry_after, message)
        } else if e.code.is_some_and(|c| RETRYABLE_CODES.contains(&c))
            || e.status >= 500
            || e.code == Some(500)
        {
            AdapterError::transient(message).with_retry_after(e.retry_after)
        } else if e.code.is_some_and(|c| (10000..11000).contains(&c)) || e.status == 400 {
            // Validation of what we sent: retrying the same request fails the same way.
            AdapterError::malformed(message)
        } else {
            AdapterError::permanent(Some(e.status), message)
        };
        err.with_code(code)
    }
}

/// Failures of the OAuth 2.0 JWT bearer flow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The private key is not an RSA key in PKCS#8 or PKCS#1 PEM.
    #[error("the connected app private key is not an RSA PEM key")]
    InvalidPrivateKey,
    /// Signing the assertion failed.
    #[error("signing the JWT assertion failed")]
    Signing,
    /// The token endpoint refused the assertion (`invalid_grant`, `invalid_client`, ...).
    #[error("token endpoint refused the assertion: {error}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The OAuth `error` value.
        error: String,
    },
    /// The token endpoint answered something that is not a token response.
    #[error("token endpoint answer is not a token response (field `{field}`)")]
    MalformedResponse {
        /// The field at fault.
        field: &'static str,
    },
    /// The token endpoint failed (5xx, 429).
    #[error("token endpoint unavailable (HTTP {status})")]
    Unavailable {
        /// HTTP status.
        status: u16,
    },
}

impl From<AuthError> for AdapterError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::InvalidPrivateKey | AuthError::Signing => {
                AdapterError::configuration(message)
            }
            AuthError::Refused { error, .. } => {
                AdapterError::unauthorized(message).with_code(error)
            }
            AuthError::MalformedResponse { .. } => AdapterError::transient(message),
            AuthError::Unavailable { status } => {
                if status == 429 {
                    AdapterError::rate_limited(None, message)
                } else {
                    AdapterError::transient(message)
                }
            }
        }
    }
}

/// Failures turning a platform event into activities.
#[derive(Debug, thiserror::Error)]
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
    #[error("avro decoding failed: {0}")]
    Avro(String),
}

impl NormalizeError {
    pub(crate) fn json(field: &str, e: &serde_json::Error) -> Self {
        // serde_json's messages name the type expectation and position, never the input.
        let reason = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("syntax error at line {} column {}", e.line(), e.column())
            }
            _ => e.to_string(),
        };
        Self::InvalidJson {
            field: field.to_owned(),
            reason,
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
            NormalizeError::Avro(_) => AdapterError::malformed(message),
        }
    }
}

/// Failures rendering an activity as an Interaction Service request.
#[derive(Debug, thiserror::Error)]
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

impl std::fmt::Display for TransferStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Started => "before the first call",
            Self::AgentWorkRequested => "POST /agentWork unanswered",
            Self::RoutingResultRequested => "AgentWork created, POST /routingResult unanswered",
            Self::RouteRequested => "POST /route unanswered",
        })
    }
}

/// Failures of the RoutingRequested transfer sequence
/// ([`InteractionClient::transfer`](crate::InteractionClient::transfer)).
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
    Call(#[source] AdapterError),
    /// The 60-second deadline passed. Salesforce fails the transfer by itself then; what the
    /// partner side had done is named here so nothing is left unreported: `agent_work_id` is
    /// the AgentWork created (close it with `PATCH /agentWork` if unwanted) and `reported`
    /// whether Salesforce acknowledged a `routingResult` for the attempt (after the deadline,
    /// one is sent within [`TRANSFER_REPORT_GRACE`](crate::client::TRANSFER_REPORT_GRACE)).
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
            TransferError::Call(inner) => inner,
            // Salesforce has failed the transfer; the rep requests it again (a new event).
            TransferError::DeadlineExceeded { .. } => {
                AdapterError::permanent(None, message).with_code("transfer_deadline")
            }
        }
    }
}

/// Failures of the Pub/Sub subscription.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PubSubError {
    /// Could not connect to the Pub/Sub endpoint.
    #[error("pub/sub connection failed: {0}")]
    Connect(String),
    /// The service answered an RPC with a gRPC status.
    #[error("pub/sub rpc `{rpc}` failed: {code:?}: {message}")]
    Status {
        /// The RPC.
        rpc: &'static str,
        /// The gRPC code.
        code: tonic::Code,
        /// The status message.
        message: String,
    },
    /// The topic does not allow subscribing with these credentials.
    #[error("topic `{0}` does not allow subscribing")]
    NotSubscribable(String),
    /// A schema is not valid Avro.
    #[error("schema `{0}` is not a valid Avro schema")]
    BadSchema(String),
    /// A configuration value cannot go into gRPC metadata or an endpoint.
    #[error("invalid pub/sub configuration: {0}")]
    Config(&'static str),
}

impl PubSubError {
    pub(crate) fn status(rpc: &'static str, s: &tonic::Status) -> Self {
        Self::Status {
            rpc,
            code: s.code(),
            message: s.message().chars().take(200).collect(),
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
            PubSubError::Connect(_) => AdapterError::transient(message),
            PubSubError::Status { code, .. } => match code {
                tonic::Code::Unauthenticated => AdapterError::unauthorized(message),
                tonic::Code::PermissionDenied => AdapterError::unauthorized(message),
                tonic::Code::ResourceExhausted => AdapterError::rate_limited(None, message),
                tonic::Code::InvalidArgument | tonic::Code::NotFound => {
                    AdapterError::malformed(message)
                }
                _ => AdapterError::transient(message),
            },
            PubSubError::NotSubscribable(_) => AdapterError::unauthorized(message),
            PubSubError::BadSchema(_) => AdapterError::permanent(None, message),
            PubSubError::Config(_) => AdapterError::configuration(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<i64>, message: &str) -> AdapterError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: Some(Duration::from_secs(2)),
        }
        .into()
    }

    #[test]
    fn api_codes_map_to_kinds() {
        let table: &[(u16, Option<i64>, bool, &str)] = &[
            (401, Some(10004), false, "unauthorized"),
            (403, Some(10003), false, "unauthorized"),
            (429, None, true, "rate"),
            (400, Some(10019), true, "transient"),
            (409, Some(10055), true, "transient"),
            (409, Some(10056), true, "transient"),
            (504, Some(10094), true, "transient"),
            (500, Some(20004), true, "transient"),
            (503, None, true, "transient"),
            (400, Some(10045), false, "bad"),
            (400, Some(10017), false, "bad"),
            (422, Some(15103), false, "permanent"),
        ];
        for (status, code, retry, kind) in table {
            let e = api(*status, *code, "m");
            assert_eq!(e.is_retryable(), *retry, "{status} {code:?}");
            let ok = match *kind {
                "unauthorized" => matches!(e, AdapterError::Unauthorized { .. }),
                "rate" => matches!(e, AdapterError::RateLimited { .. }),
                "transient" => matches!(e, AdapterError::Transient { .. }),
                "bad" => matches!(e, AdapterError::BadRequest { .. }),
                _ => matches!(e, AdapterError::Permanent { .. }),
            };
            assert!(ok, "{status} {code:?} -> {e:?}");
            let expect = code.map_or_else(|| status.to_string(), |c| c.to_string());
            assert_eq!(e.code(), Some(expect.as_str()));
        }
    }

    #[test]
    fn rate_limit_message_without_429_and_retry_after_kept() {
        let e = api(400, None, "Interaction request rate limit exceeded");
        assert!(matches!(e, AdapterError::RateLimited { .. }));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn other_errors_convert() {
        let e: AdapterError = AuthError::InvalidPrivateKey.into();
        assert!(matches!(e, AdapterError::Configuration { .. }));
        let e: AdapterError = AuthError::Refused {
            status: 400,
            error: "invalid_grant".into(),
        }
        .into();
        assert!(e.is_unauthorized());
        assert_eq!(e.code(), Some("invalid_grant"));
        let e: AdapterError = AuthError::Unavailable { status: 503 }.into();
        assert!(e.is_retryable());
        let e: AdapterError = NormalizeError::MissingField("payload.identifier").into();
        assert_eq!(e.field(), Some("payload.identifier"));
        let e: AdapterError = RenderError::Unsupported("invoke".into()).into();
        assert!(matches!(e, AdapterError::Unsupported { .. }));
        let e: AdapterError = TransferError::DeadlineExceeded {
            stage: TransferStage::AgentWorkRequested,
            agent_work_id: None,
            reported: true,
        }
        .into();
        assert!(!e.is_retryable());
        assert_eq!(e.code(), Some("transfer_deadline"));
        assert!(e.to_string().contains("POST /agentWork unanswered"), "{e}");
        let e: AdapterError = TransferError::MissingField {
            field: "channelData.eventId",
            reason: "missing",
        }
        .into();
        assert_eq!(e.field(), Some("channelData.eventId"));
        let e: AdapterError = TransferError::Call(AdapterError::transient("x")).into();
        assert!(e.is_retryable());
        let e: AdapterError =
            PubSubError::status("Subscribe", &tonic::Status::unauthenticated("expired")).into();
        assert!(e.is_unauthorized());
        let e: AdapterError =
            PubSubError::status("Subscribe", &tonic::Status::unavailable("gone")).into();
        assert!(e.is_retryable());
    }
}
