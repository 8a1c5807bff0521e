//! REST clients in pure code plus a pluggable transport (oauth2-rs style): requests are
//! built as `http::Request<Bytes>` and answers parsed from `http::Response<Bytes>`; the
//! transport ([`HttpTransport`], reqwest by default) only moves bytes.

mod connector;
mod directline;
mod refresh;
mod stream;
mod token;
mod transport;

pub use connector::{AttachmentData, ConnectorClient, ConversationResourceResponse, prepare_send};
pub use directline::{Conversation, DirectLineClient, Upload};
pub use refresh::{REFRESH_RETRY, TokenRefresher};
pub use stream::ActivityStream;
pub use token::{
    AccessToken, ConnectorTokenCache, REFRESH_MARGIN, parse_token_response, prepare_token_request,
};
#[cfg(feature = "reqwest")]
pub use transport::ReqwestTransport;
pub use transport::{FnTransport, HttpTransport};

use std::time::Duration;

use byoc_core::activity::ErrorResponse;
use bytes::Bytes;

use crate::error::ApiError;

/// Maps a non-2xx answer of the Connector or Direct Line to an [`ApiError`] (fact sheet
/// B.1, C.2, C.7): `403 TokenExpired`, `401/403`, `404` (conversation ended on Direct
/// Line), `429` with `Retry-After`, `502 BotRejectedActivity`, other `5xx` retryable, other
/// `4xx` permanent with the service's code and message.
#[must_use]
pub fn error_from_response(
    resp: &http::Response<Bytes>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiError {
    let status = resp.status().as_u16();
    let (code, message) = match serde_json::from_slice::<ErrorResponse>(resp.body()) {
        Ok(ErrorResponse { error: Some(e), .. }) => (e.code, e.message),
        _ => (None, None),
    };
    // Messages come from the service, not from our request; keep them short anyway.
    let message: String = message
        .unwrap_or_else(|| {
            resp.status()
                .canonical_reason()
                .unwrap_or("error")
                .to_owned()
        })
        .chars()
        .take(200)
        .collect();
    match status {
        403 if code.as_deref() == Some("TokenExpired") => ApiError::TokenExpired,
        401 | 403 => ApiError::Unauthorized {
            status,
            code,
            message,
        },
        429 => ApiError::RateLimited {
            retry_after: resp
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| byoc_core::error::parse_retry_after(v, now)),
        },
        502 if code.as_deref() == Some("BotRejectedActivity") => ApiError::BotRejectedActivity,
        500..=599 => ApiError::Server { status, code },
        _ => ApiError::Refused {
            status,
            code,
            message,
        },
    }
}

pub(crate) fn json_request(
    method: http::Method,
    url: &str,
    body: Option<Vec<u8>>,
) -> Result<http::Request<Bytes>, ApiError> {
    let mut b = http::Request::builder().method(method).uri(url);
    if body.is_some() {
        b = b.header(http::header::CONTENT_TYPE, "application/json");
    }
    b.body(body.map(Bytes::from).unwrap_or_default())
        .map_err(|_| ApiError::MissingField("url"))
}

pub(crate) fn with_bearer(
    mut req: http::Request<Bytes>,
    token: &str,
) -> Result<http::Request<Bytes>, ApiError> {
    let mut v = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ApiError::InvalidResponse {
            field: "access_token",
        }
    })?;
    v.set_sensitive(true);
    req.headers_mut().insert(http::header::AUTHORIZATION, v);
    Ok(req)
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    resp: &http::Response<Bytes>,
    field: &'static str,
) -> Result<T, ApiError> {
    serde_json::from_slice(resp.body()).map_err(|_| ApiError::InvalidResponse { field })
}

/// Percent-encodes one path segment (conversation ids contain `|` and other characters).
pub(crate) fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A random duration in `[min, max]`.
pub(crate) fn jitter(min: Duration, max: Duration) -> Duration {
    use rand::Rng as _;
    if max <= min {
        return min;
    }
    let span = (max - min).as_millis() as u64;
    min + Duration::from_millis(rand::thread_rng().gen_range(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, retry_after: Option<&str>) -> http::Response<Bytes> {
        let mut b = http::Response::builder().status(status);
        if let Some(r) = retry_after {
            b = b.header("retry-after", r);
        }
        b.body(Bytes::from(body.to_owned())).unwrap()
    }

    #[test]
    fn error_table() {
        let now = chrono::Utc::now();
        let expired =
            include_str!("../../../../tests/fixtures/directline/error-token-expired.json");
        assert!(matches!(
            error_from_response(&resp(403, expired, None), now),
            ApiError::TokenExpired
        ));
        assert!(matches!(
            error_from_response(&resp(403, "{}", None), now),
            ApiError::Unauthorized { status: 403, .. }
        ));
        assert!(matches!(
            error_from_response(&resp(429, "", Some("7")), now),
            ApiError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)
        ));
        let rejected = r#"{"error":{"code":"BotRejectedActivity","message":"Failed"}}"#;
        assert!(matches!(
            error_from_response(&resp(502, rejected, None), now),
            ApiError::BotRejectedActivity
        ));
        assert!(matches!(
            error_from_response(&resp(503, "", None), now),
            ApiError::Server { status: 503, .. }
        ));
        let bad = r#"{"error":{"code":"BadArgument","message":"Invalid conversation"}}"#;
        match error_from_response(&resp(400, bad, None), now) {
            ApiError::Refused {
                status: 400,
                code,
                message,
            } => {
                assert_eq!(code.as_deref(), Some("BadArgument"));
                assert_eq!(message, "Invalid conversation");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bearer_header_is_sensitive() {
        let r = with_bearer(
            json_request(http::Method::GET, "http://x/", None).unwrap(),
            "tok",
        )
        .unwrap();
        assert!(r.headers()[http::header::AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..50 {
            let d = jitter(Duration::from_secs(3), Duration::from_secs(15));
            assert!(d >= Duration::from_secs(3) && d <= Duration::from_secs(15));
        }
    }
}
