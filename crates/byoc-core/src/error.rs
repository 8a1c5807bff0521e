//! [`AdapterError`]: the one error kind set every adapter reports, so that a host can act on
//! it (retry, answer 401, dead-letter) without knowing the provider.

use std::time::Duration;

use http::StatusCode;

/// A boxed error source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in an adapter, by what the host should do about it.
///
/// `code` fields keep the provider's own error code (`10008`, `TokenExpired`, ...) and
/// `message` fields a description; neither ever contains a request or response body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Credentials are missing, wrong or expired, or an inbound request failed verification.
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// What failed.
        message: String,
        /// Provider error code.
        code: Option<String>,
    },
    /// The request (inbound or outbound) is malformed; retrying will not help.
    #[error("bad request{}: {message}", field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    BadRequest {
        /// The field at fault, as a dotted path, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
        /// Provider error code.
        code: Option<String>,
    },
    /// The channel cannot carry this (an activity type, an attachment, a feature).
    #[error("unsupported: {message}")]
    Unsupported {
        /// What is not supported.
        message: String,
    },
    /// The provider throttled us; try again after `retry_after` if given.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs_f32())).unwrap_or_default())]
    RateLimited {
        /// How long to wait, from `Retry-After` or the provider's body.
        retry_after: Option<Duration>,
        /// What the provider said.
        message: String,
        /// Provider error code.
        code: Option<String>,
    },
    /// A failure that may pass: network error, timeout, 5xx, 503.
    #[error("transient failure: {message}")]
    Transient {
        /// What failed.
        message: String,
        /// A hint for when to retry.
        retry_after: Option<Duration>,
        /// Provider error code.
        code: Option<String>,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// A failure that will not pass by retrying (404 conversation ended, 4xx refusals).
    #[error("permanent failure{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Permanent {
        /// What failed.
        message: String,
        /// HTTP status the provider answered, if any.
        status: Option<u16>,
        /// Provider error code.
        code: Option<String>,
    },
    /// The adapter is configured wrongly (missing credential, bad URL).
    #[error("configuration error: {message}")]
    Configuration {
        /// What is wrong.
        message: String,
    },
}

impl AdapterError {
    /// An [`AdapterError::Unauthorized`].
    #[must_use]
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
            code: None,
        }
    }

    /// An [`AdapterError::BadRequest`] naming the field at fault.
    #[must_use]
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: Some(field.into()),
            message: message.into(),
            code: None,
        }
    }

    /// An [`AdapterError::BadRequest`] not tied to one field.
    #[must_use]
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: None,
            message: message.into(),
            code: None,
        }
    }

    /// An [`AdapterError::Unsupported`].
    #[must_use]
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::Unsupported {
            message: message.into(),
        }
    }

    /// An [`AdapterError::RateLimited`].
    #[must_use]
    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self::RateLimited {
            retry_after,
            message: message.into(),
            code: None,
        }
    }

    /// An [`AdapterError::Transient`].
    #[must_use]
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
            code: None,
            source: None,
        }
    }

    /// An [`AdapterError::Transient`] wrapping a source error (a transport failure).
    #[must_use]
    pub fn transport(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
            code: None,
            source: Some(source.into()),
        }
    }

    /// An [`AdapterError::Permanent`].
    #[must_use]
    pub fn permanent(status: Option<u16>, message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
            status,
            code: None,
        }
    }

    /// An [`AdapterError::Configuration`].
    #[must_use]
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::Configuration {
            message: message.into(),
        }
    }

    /// Sets the provider error code.
    #[must_use]
    pub fn with_code(mut self, new: impl Into<String>) -> Self {
        match &mut self {
            Self::Unauthorized { code, .. }
            | Self::BadRequest { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Transient { code, .. }
            | Self::Permanent { code, .. } => *code = Some(new.into()),
            Self::Unsupported { .. } | Self::Configuration { .. } => {}
        }
        self
    }

    /// Sets the retry hint (on rate-limited and transient errors).
    #[must_use]
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        match &mut self {
            Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } => {
                *retry_after = after;
            }
            _ => {}
        }
        self
    }

    /// Whether sending again later may succeed (rate limits and transient failures). The
    /// outbox retries these and dead-letters the rest.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// How long the provider asked us to wait, if it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The provider's error code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { code, .. }
            | Self::BadRequest { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Transient { code, .. }
            | Self::Permanent { code, .. } => code.as_deref(),
            Self::Unsupported { .. } | Self::Configuration { .. } => None,
        }
    }

    /// The field at fault, for bad requests that name one.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadRequest { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Whether this is [`AdapterError::Unauthorized`].
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// The HTTP status to answer an inbound request that failed with this error.
    #[must_use]
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unsupported { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Transient { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Permanent { .. } | Self::Configuration { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The HTTP answer for an inbound request that failed with this error: the status and a
    /// small JSON body `{"error":{"code","message"}}` that never echoes the request.
    #[must_use]
    pub fn to_response(&self) -> http::Response<bytes::Bytes> {
        let code = match self {
            Self::Unauthorized { .. } => "Unauthorized",
            Self::BadRequest { .. } => "BadRequest",
            Self::Unsupported { .. } => "Unsupported",
            Self::RateLimited { .. } => "RateLimited",
            Self::Transient { .. } => "ServiceUnavailable",
            Self::Permanent { .. } | Self::Configuration { .. } => "InternalError",
        };
        let message = match self {
            // Internal details stay in our logs, not in the answer to the caller.
            Self::Permanent { .. } | Self::Configuration { .. } => "internal error".to_owned(),
            other => other.to_string(),
        };
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        let mut resp = http::Response::new(bytes::Bytes::from(body.to_string()));
        *resp.status_mut() = self.http_status();
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if let Some(after) = self.retry_after()
            && let Ok(v) = http::HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            resp.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// With feature `axum`, an `AdapterError` is a handler's answer: the status and small JSON
/// body of [`AdapterError::to_response`].
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for AdapterError {
    fn into_response(self) -> axum_core::response::Response {
        self.to_response().map(axum_core::body::Body::from)
    }
}

impl From<crate::activity::ActivityError> for AdapterError {
    fn from(e: crate::activity::ActivityError) -> Self {
        Self::BadRequest {
            field: e.field().map(str::to_owned),
            message: e.to_string(),
            code: None,
        }
    }
}

/// Parses an HTTP `Retry-After` value: delay-seconds, or an HTTP date (relative to `now`).
#[must_use]
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds() {
        assert!(AdapterError::rate_limited(None, "x").is_retryable());
        assert!(AdapterError::transient("x").is_retryable());
        assert!(!AdapterError::unauthorized("x").is_retryable());
        assert!(!AdapterError::bad_request("to", "x").is_retryable());
        assert!(!AdapterError::permanent(Some(404), "x").is_retryable());
        assert!(!AdapterError::configuration("x").is_retryable());
        assert!(!AdapterError::unsupported("x").is_retryable());
    }

    #[test]
    fn retry_after_and_code_are_kept() {
        let e = AdapterError::rate_limited(Some(Duration::from_secs(7)), "slow down")
            .with_code("10019");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(e.code(), Some("10019"));
        let resp = e.to_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[http::header::RETRY_AFTER], "7");
        assert_eq!(AdapterError::bad_request("to", "x").field(), Some("to"));
    }

    #[test]
    fn statuses() {
        assert_eq!(AdapterError::unauthorized("x").http_status(), 401);
        assert_eq!(AdapterError::malformed("x").http_status(), 400);
        assert_eq!(AdapterError::transient("x").http_status(), 503);
        let body = AdapterError::configuration("secret path /etc/x").to_response();
        assert!(!String::from_utf8_lossy(body.body()).contains("/etc/x"));
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-05-03T08:12:40Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Fri, 03 May 2024 08:13:40 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Fri, 03 May 2024 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
