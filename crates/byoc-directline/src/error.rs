//! Typed errors per concern, each converting into [`AdapterError`]: [`ConfigError`],
//! [`VerifyError`], [`NormalizeError`], [`RenderError`], [`ClientError`], [`CommandError`].
//! None of them ever holds a request or response body, a token or a secret.

use std::time::Duration;

use byoc_core::AdapterError;
use byoc_core::activity::ActivityError;
use byoc_http::{TokenError, TransportError};

/// A setting that cannot work, refused when the configuration is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value is not acceptable; `field` names the setting, `reason` says why.
    #[error("`{field}` {reason}")]
    Invalid {
        /// The setting at fault (`app_id`, `base_url`, `tenant`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A root CA is not a PEM certificate.
    #[error("root CA `{name}` is not a usable PEM certificate")]
    RootCa {
        /// The CA's name (its file path, or what the caller named it).
        name: String,
    },
    /// The HTTP client could not be built (TLS backend).
    #[error("cannot build the HTTP client: {reason}")]
    HttpClient {
        /// The client library's reason.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(field: &'static str, reason: &'static str) -> Self {
        Self::Invalid { field, reason }
    }
}

impl From<ConfigError> for AdapterError {
    fn from(e: ConfigError) -> Self {
        AdapterError::configuration(e.to_string())
    }
}

/// Why an inbound Bot Framework request failed authentication
/// (`docs/protocols/bot-framework.md#channel-jwt`). Every variant but
/// [`VerifyError::KeysUnavailable`] (`503`) and [`VerifyError::MalformedBody`] (`400`)
/// answers `401`.
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

/// Why an inbound payload is not what this crate reads
/// (`docs/protocols/bot-framework.md#activities`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The payload is not JSON of the expected shape (position only, never the text).
    #[error("not {expected}: invalid JSON at line {line} column {column}")]
    NotJson {
        /// What was expected (`an ActivitySet`, `a JSON object`).
        expected: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A field the payload must carry is absent or empty.
    #[error("missing required field `{field}`")]
    Missing {
        /// The field's JSON name (`activities`, `channelId`, `conversation.id`, `serviceUrl`).
        field: &'static str,
    },
    /// An activity could not be read; `field` is the path from the payload's root
    /// (`activities[3].from`) when one field is at fault.
    #[error("invalid activity{}: {source}", field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    Activity {
        /// Path of the field at fault from the payload's root.
        field: Option<String>,
        /// Why the activity could not be read.
        #[source]
        source: ActivityError,
    },
}

impl NormalizeError {
    /// The path of the field at fault, when one is.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::NotJson { .. } => None,
            Self::Missing { field } => Some(field),
            Self::Activity { field, .. } => field.as_deref(),
        }
    }
}

impl From<ActivityError> for NormalizeError {
    fn from(source: ActivityError) -> Self {
        Self::Activity {
            field: source.field().map(str::to_owned),
            source,
        }
    }
}

impl From<NormalizeError> for AdapterError {
    fn from(e: NormalizeError) -> Self {
        match e.field() {
            Some(field) => AdapterError::bad_request(field, e.to_string()),
            None => AdapterError::malformed(e.to_string()),
        }
    }
}

/// Why an activity cannot be sent as it is
/// (`docs/protocols/bot-framework.md#activities`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The serialized activity exceeds the 262,144-byte limit.
    #[error("activity is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Serialized size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// A value could not be serialized; names the part at fault.
    #[error("`{field}` cannot be serialized")]
    Serialize {
        /// The part at fault (`activity`, `parameters`, `attachment`).
        field: &'static str,
    },
}

impl From<RenderError> for AdapterError {
    fn from(e: RenderError) -> Self {
        let field = match &e {
            RenderError::TooLarge { .. } => "activity",
            RenderError::Serialize { field } => field,
        };
        AdapterError::bad_request(field, e.to_string())
    }
}

/// A Connector or Direct Line call that failed
/// (`docs/protocols/bot-framework.md#errors-and-retries`). Never holds a request or
/// response body: only the service's error code when it is an identifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request got no answer (connection, timeout, answer over the size limit).
    #[error("{endpoint}: {source}")]
    Transport {
        /// The endpoint called (`v3/conversations/{id}/activities`, `tokens/refresh`, ...).
        endpoint: &'static str,
        /// What went wrong, by kind only.
        #[source]
        source: TransportError,
    },
    /// The service answered an error status (other than those with a variant of their own).
    #[error("{endpoint} answered HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        /// The endpoint called.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The service's error code (`BadArgument`, `GatewayTimeout`, ...), when it gave one
        /// that is an identifier.
        code: Option<String>,
        /// `Retry-After` (seconds or an HTTP date), when given.
        retry_after: Option<Duration>,
    },
    /// The answer is not what the API documents; `field` names what is missing or wrong.
    #[error("{endpoint} answered an unexpected body (field `{field}`)")]
    Decode {
        /// The endpoint called.
        endpoint: &'static str,
        /// The field at fault.
        field: &'static str,
    },
    /// No access token could be had (the Connector's client credentials), or one cannot be
    /// put in a header.
    #[error("access token: {0}")]
    Token(#[from] TokenError),
    /// Direct Line: `403` with code `TokenExpired`. Get a new token (refresh, or the
    /// secret) and retry.
    #[error("direct line token expired")]
    TokenExpired,
    /// Direct Line: `404`, the conversation has ended (or never existed).
    #[error("conversation ended")]
    ConversationEnded,
    /// Direct Line: `502` `BotRejectedActivity`, the bot answered the relayed activity with
    /// an error.
    #[error("bot rejected the activity")]
    BotRejectedActivity,
    /// The activity cannot be sent as it is (too large).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The activity lacks what the call needs; names the field (`serviceUrl`,
    /// `conversation.id`).
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A URL built for the call is not a valid request URI; names where it came from.
    #[error("`{0}` does not make a valid request URL")]
    InvalidUrl(&'static str),
    /// Direct Line: no conversation yet; call `start` or `resume` first.
    #[error("no conversation: call start or resume first")]
    NotStarted,
    /// The service URL is not trusted: it never came in a validated activity and matches no
    /// configured pattern, so no token is sent to it.
    #[error("service URL is not trusted")]
    UntrustedServiceUrl,
}

impl ClientError {
    /// Whether sending again later may succeed: transport failures that may pass, `408`,
    /// `429` and `5xx` answers (also from the token endpoint), and undecodable answers.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { source, .. } | Self::Token(TokenError::Transport(source)) => {
                source.is_retryable()
            }
            Self::Status { status, .. } | Self::Token(TokenError::Refused { status, .. }) => {
                is_retryable_status(*status)
            }
            Self::Decode { .. } | Self::Token(TokenError::Decode { .. }) => true,
            _ => false,
        }
    }

    /// How long the service asked us to wait, if it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. }
            | Self::Token(TokenError::Refused { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }

    /// Whether the credentials were refused: `401`/`403`, an expired Direct Line token, a
    /// Connector token request refused for good.
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 401 | 403),
            Self::TokenExpired => true,
            Self::Token(TokenError::Refused { status, .. }) => !is_retryable_status(*status),
            _ => false,
        }
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

fn status_error(
    message: String,
    status: u16,
    code: Option<String>,
    retry_after: Option<Duration>,
) -> AdapterError {
    let err = match status {
        401 | 403 => AdapterError::unauthorized(message),
        429 => AdapterError::rate_limited(retry_after, message),
        s if is_retryable_status(s) => {
            AdapterError::transient(message).with_retry_after(retry_after)
        }
        _ => AdapterError::permanent(Some(status), message),
    };
    match code {
        Some(c) => err.with_code(c),
        None => err,
    }
}

impl From<ClientError> for AdapterError {
    fn from(e: ClientError) -> Self {
        let message = e.to_string();
        match e {
            ClientError::Transport { source, .. } => AdapterError::from(source),
            ClientError::Status {
                status,
                code,
                retry_after,
                ..
            } => status_error(message, status, code, retry_after),
            ClientError::Decode { .. } => AdapterError::transient(message),
            ClientError::Token(t) => AdapterError::from(t),
            ClientError::TokenExpired => {
                AdapterError::unauthorized(message).with_code("TokenExpired")
            }
            ClientError::ConversationEnded => {
                AdapterError::permanent(Some(404), message).with_code("ConversationEnded")
            }
            ClientError::BotRejectedActivity => {
                AdapterError::permanent(Some(502), message).with_code("BotRejectedActivity")
            }
            ClientError::Render(r) => AdapterError::from(r),
            ClientError::MissingField(field) | ClientError::InvalidUrl(field) => {
                AdapterError::bad_request(field, message)
            }
            ClientError::NotStarted => AdapterError::bad_request("conversationId", message),
            ClientError::UntrustedServiceUrl => AdapterError::bad_request("serviceUrl", message),
        }
    }
}

/// Why a bot command in `channelData.tags` could not be read
/// (`docs/protocols/bot-framework.md#omnichannel-bot-commands`).
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
mod tests;
