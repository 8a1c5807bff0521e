//! Typed errors per concern, each converting into [`AdapterError`].

use std::time::Duration;

use byoc_core::AdapterError;

/// Why an inbound Bot Framework request failed authentication (B.3). Every variant but
/// [`VerifyError::KeysUnavailable`] answers `401`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("missing Authorization header")]
    MissingAuthorization,
    /// `Authorization` is not `Bearer <token>` (the scheme must be exactly `Bearer`).
    #[error("Authorization scheme is not Bearer")]
    NotBearer,
    /// The token is not a well-formed JWS compact serialization; names the part at fault.
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    /// The token's `alg` is not RS256, RS384 or RS512 (this catches `none` and HS256).
    #[error("signing algorithm `{0}` is not allowed")]
    DisallowedAlgorithm(String),
    /// No key in the JWKS has the token's `kid` (after at most one refetch per hour).
    #[error("unknown signing key id")]
    UnknownKey,
    /// The signature does not verify with the key named by `kid`.
    #[error("signature does not verify")]
    BadSignature,
    /// `iss` is not an accepted issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` is not our app id.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` is past (beyond the clock skew), or missing.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the clock skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// The signing key's endorsements do not include the activity's `channelId`.
    #[error("signing key is not endorsed for this channel")]
    MissingEndorsement,
    /// The `serviceurl` claim does not equal the activity's `serviceUrl`.
    #[error("serviceurl claim does not match the activity's serviceUrl")]
    ServiceUrlMismatch,
    /// The body could not be read far enough to check `channelId` / `serviceUrl`.
    #[error("body is not an activity: {0}")]
    MalformedBody(String),
    /// The OpenID metadata or the signing keys could not be fetched (a transient failure on
    /// our side, answered `503`, so the channel retries).
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

impl VerifyError {
    /// A stable code for logs and the error answer.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthorization => "MissingAuthorization",
            Self::NotBearer => "NotBearer",
            Self::MalformedToken(_) => "MalformedToken",
            Self::DisallowedAlgorithm(_) => "DisallowedAlgorithm",
            Self::UnknownKey => "UnknownKey",
            Self::BadSignature => "BadSignature",
            Self::WrongIssuer => "WrongIssuer",
            Self::WrongAudience => "WrongAudience",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::MissingEndorsement => "MissingEndorsement",
            Self::ServiceUrlMismatch => "ServiceUrlMismatch",
            Self::MalformedBody(_) => "MalformedBody",
            Self::KeysUnavailable(_) => "KeysUnavailable",
        }
    }
}

impl From<VerifyError> for AdapterError {
    fn from(e: VerifyError) -> Self {
        let code = e.code();
        match e {
            VerifyError::KeysUnavailable(_) => AdapterError::transient(e.to_string()),
            VerifyError::MalformedBody(_) => AdapterError::malformed(e.to_string()),
            other => AdapterError::unauthorized(other.to_string()),
        }
        .with_code(code)
    }
}

/// A Connector or Direct Line call that failed. Never holds a request or response body, only
/// the service's error `code` and `message`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// `403` with code `TokenExpired`: get a new token (refresh or regenerate) and retry.
    #[error("token expired")]
    TokenExpired,
    /// `401` / `403`: the credentials were refused.
    #[error("unauthorized (HTTP {status}): {message}")]
    Unauthorized {
        /// HTTP status.
        status: u16,
        /// Service error code, if given.
        code: Option<String>,
        /// Service error message, if given.
        message: String,
    },
    /// `404` on a Direct Line conversation: the conversation has ended.
    #[error("conversation ended")]
    ConversationEnded,
    /// `502` `BotRejectedActivity`: the bot answered the relayed activity with an error.
    #[error("bot rejected the activity")]
    BotRejectedActivity,
    /// `429`, with the `Retry-After` delay when the service gave one.
    #[error("rate limited")]
    RateLimited {
        /// How long to wait.
        retry_after: Option<Duration>,
    },
    /// A `5xx` answer: retryable.
    #[error("service error (HTTP {status})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Service error code, if given.
        code: Option<String>,
    },
    /// Any other `4xx`: permanent, with the service's code and message.
    #[error("refused (HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Service error code, if given.
        code: Option<String>,
        /// Service error message, if given.
        message: String,
    },
    /// The answer was not what the API documents; names the field at fault.
    #[error("unexpected response: field `{field}`")]
    InvalidResponse {
        /// Field at fault.
        field: &'static str,
    },
    /// The serialized activity exceeds the 262,144-byte limit.
    #[error("activity is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Serialized size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The activity is missing what the call needs (conversation id, service URL, ...).
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// The service URL is not trusted: it never came in a validated activity and matches no
    /// configured pattern, so no token is sent to it.
    #[error("service URL is not trusted")]
    UntrustedServiceUrl,
    /// The request could not be sent or the answer not read.
    #[error("transport error: {0}")]
    Transport(String),
}

impl From<ApiError> for AdapterError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::TokenExpired => {
                AdapterError::unauthorized(e.to_string()).with_code("TokenExpired")
            }
            ApiError::Unauthorized { ref code, .. } => {
                let code = code.clone();
                let err = AdapterError::unauthorized(e.to_string());
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            ApiError::ConversationEnded => {
                AdapterError::permanent(Some(404), e.to_string()).with_code("ConversationEnded")
            }
            ApiError::BotRejectedActivity => {
                AdapterError::permanent(Some(502), e.to_string()).with_code("BotRejectedActivity")
            }
            ApiError::RateLimited { retry_after } => {
                AdapterError::rate_limited(retry_after, e.to_string())
            }
            ApiError::Server { status, ref code } => {
                let code = code.clone();
                let err = AdapterError::transient(format!("service error (HTTP {status})"));
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            ApiError::Refused {
                status, ref code, ..
            } => {
                let code = code.clone();
                let err = AdapterError::permanent(Some(status), e.to_string());
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            ApiError::InvalidResponse { .. } => AdapterError::transient(e.to_string()),
            ApiError::TooLarge { .. } => AdapterError::bad_request("activity", e.to_string()),
            ApiError::MissingField(field) => AdapterError::bad_request(field, e.to_string()),
            ApiError::UntrustedServiceUrl => AdapterError::bad_request("serviceUrl", e.to_string()),
            ApiError::Transport(_) => AdapterError::transient(e.to_string()),
        }
    }
}

/// Why a bot command in `channelData.tags` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// `channelData.tags` is not a string holding a JSON object.
    #[error("channelData.tags is not a JSON-encoded object string")]
    TagsNotJson,
    /// The tags object has no string `type`.
    #[error("channelData.tags has no `type`")]
    MissingType,
    /// `context` is present but not an object.
    #[error("channelData.tags context is not an object")]
    ContextNotObject,
}

impl From<CommandError> for AdapterError {
    fn from(e: CommandError) -> Self {
        AdapterError::bad_request("channelData.tags", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_errors_answer_401_except_key_outage() {
        for e in [
            VerifyError::MissingAuthorization,
            VerifyError::NotBearer,
            VerifyError::MalformedToken("header"),
            VerifyError::DisallowedAlgorithm("none".into()),
            VerifyError::UnknownKey,
            VerifyError::BadSignature,
            VerifyError::WrongIssuer,
            VerifyError::WrongAudience,
            VerifyError::Expired,
            VerifyError::NotYetValid,
            VerifyError::MissingEndorsement,
            VerifyError::ServiceUrlMismatch,
        ] {
            let code = e.code();
            let a: AdapterError = e.into();
            assert_eq!(a.http_status(), 401, "{code}");
            assert_eq!(a.code(), Some(code));
        }
        let a: AdapterError = VerifyError::KeysUnavailable("down".into()).into();
        assert!(a.is_retryable());
    }

    #[test]
    fn api_errors_map_to_kinds() {
        let a: AdapterError = ApiError::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        }
        .into();
        assert_eq!(a.retry_after(), Some(Duration::from_secs(3)));
        let a: AdapterError = ApiError::Server {
            status: 503,
            code: None,
        }
        .into();
        assert!(a.is_retryable());
        let a: AdapterError = ApiError::Refused {
            status: 400,
            code: Some("BadArgument".into()),
            message: "bad".into(),
        }
        .into();
        assert!(!a.is_retryable());
        assert_eq!(a.code(), Some("BadArgument"));
        let a: AdapterError = ApiError::ConversationEnded.into();
        assert!(!a.is_retryable());
        let a: AdapterError = ApiError::TokenExpired.into();
        assert!(a.is_unauthorized());
    }
}
