//! The REST clients: [`ConnectorClient`] (bot to channel) and [`DirectLineClient`] (client to
//! Direct Line). Requests are built as `http::Request<Bytes>` and answers parsed from
//! `http::Response<Bytes>` in pure code; byoc-http's [`HttpTransport`] (reqwest by default)
//! only moves the bytes.

mod connector;
mod directline;

pub use connector::{AttachmentData, ConnectorClient, ConversationResourceResponse};
pub use directline::{Conversation, DirectLineClient, TokenRefresher, Upload};

use std::time::Duration;

#[cfg(feature = "reqwest")]
use std::sync::Arc;

use byoc_http::HttpTransport;
#[cfg(feature = "reqwest")]
use byoc_http::RootCa;
use bytes::Bytes;

use crate::error::ClientError;
#[cfg(feature = "reqwest")]
use crate::error::ConfigError;

/// Maps a non-2xx answer of the Connector or Direct Line to a [`ClientError`]
/// (`docs/protocols/bot-framework.md#errors-and-retries`): `403 TokenExpired`,
/// `502 BotRejectedActivity`, and every other status with the service's error code and
/// `Retry-After`. Direct Line's `404` (conversation ended) is the Direct Line client's.
pub(crate) fn error_from_response(
    endpoint: &'static str,
    response: &http::Response<Bytes>,
    now: chrono::DateTime<chrono::Utc>,
) -> ClientError {
    let status = response.status().as_u16();
    let code = byoc_http::error_code(response.body());
    match (status, code.as_deref()) {
        (403, Some("TokenExpired")) => ClientError::TokenExpired,
        (502, Some("BotRejectedActivity")) => ClientError::BotRejectedActivity,
        _ => ClientError::Status {
            endpoint,
            status,
            code,
            retry_after: byoc_http::retry_after(response.headers(), now),
        },
    }
}

/// A request with a JSON body (when there is one).
pub(crate) fn json_request(
    method: http::Method,
    url: &str,
    body: Option<Vec<u8>>,
    url_source: &'static str,
) -> Result<http::Request<Bytes>, ClientError> {
    let mut b = http::Request::builder().method(method).uri(url);
    if body.is_some() {
        b = b.header(http::header::CONTENT_TYPE, "application/json");
    }
    b.body(body.map(Bytes::from).unwrap_or_default())
        .map_err(|_| ClientError::InvalidUrl(url_source))
}

/// Parses a JSON answer; `field` names what the caller needs from it.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    response: &http::Response<Bytes>,
    field: &'static str,
) -> Result<T, ClientError> {
    serde_json::from_slice(response.body()).map_err(|_| ClientError::Decode { endpoint, field })
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
    let span = u64::try_from((max - min).as_millis()).unwrap_or(u64::MAX);
    min + Duration::from_millis(rand::thread_rng().gen_range(0..=span))
}

/// The reqwest transport a configuration describes: its timeout, response cap and CAs.
#[cfg(feature = "reqwest")]
pub(crate) fn reqwest_transport(
    timeout: Duration,
    max_response_bytes: usize,
    root_cas: &[RootCa],
) -> Result<Arc<dyn HttpTransport>, ConfigError> {
    let mut builder = byoc_http::ReqwestTransport::builder()
        .timeout(timeout)
        .max_response_bytes(max_response_bytes);
    for ca in root_cas {
        builder = builder.add_root_ca(ca.clone());
    }
    match builder.build() {
        Ok(transport) => Ok(Arc::new(transport)),
        Err(byoc_http::TransportBuildError::RootCa { name }) => Err(ConfigError::RootCa { name }),
        Err(e) => Err(ConfigError::HttpClient {
            reason: e.to_string(),
        }),
    }
}

/// Sends through `transport`, naming `endpoint` in a failure.
pub(crate) async fn execute(
    transport: &dyn HttpTransport,
    endpoint: &'static str,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, ClientError> {
    transport
        .execute(request)
        .await
        .map_err(|source| ClientError::Transport { endpoint, source })
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
    fn error_answers_map_to_typed_errors() {
        let now = chrono::Utc::now();
        let map = |r| error_from_response("conversations/{id}/activities", &r, now);
        let expired = include_str!("../../../tests/fixtures/directline/error-token-expired.json");
        assert!(matches!(
            map(resp(403, expired, None)),
            ClientError::TokenExpired
        ));
        assert!(matches!(
            map(resp(403, "{}", None)),
            ClientError::Status { status: 403, .. }
        ));
        assert!(matches!(
            map(resp(429, "", Some("7"))),
            ClientError::Status { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        let rejected = r#"{"error":{"code":"BotRejectedActivity","message":"Failed"}}"#;
        assert!(matches!(
            map(resp(502, rejected, None)),
            ClientError::BotRejectedActivity
        ));
        assert!(matches!(
            map(resp(503, "", None)),
            ClientError::Status { status: 503, .. }
        ));
        let bad = r#"{"error":{"code":"BadArgument","message":"Invalid conversation for jane@example.com"}}"#;
        let e = map(resp(400, bad, None));
        match &e {
            ClientError::Status {
                status: 400, code, ..
            } => assert_eq!(code.as_deref(), Some("BadArgument")),
            other => panic!("{other:?}"),
        }
        // The service's message may echo personal data: never kept.
        assert!(!format!("{e} {e:?}").contains("jane"), "{e:?}");
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..50 {
            let d = jitter(Duration::from_secs(3), Duration::from_secs(15));
            assert!(d >= Duration::from_secs(3) && d <= Duration::from_secs(15));
        }
    }

    #[test]
    fn unusable_urls_are_typed_errors() {
        assert!(matches!(
            json_request(http::Method::GET, "not a url", None, "serviceUrl"),
            Err(ClientError::InvalidUrl("serviceUrl"))
        ));
        let r = json_request(http::Method::POST, "http://x/", Some(b"{}".to_vec()), "url").unwrap();
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
    }
}
