//! The [`HttpTransport`] trait every adapter's client sends through, and its one error type.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};

use byoc_core::BoxError;

/// Carries one request to a provider and returns the answer, whatever its status: an HTTP
/// error status is a response, not an error. Only a request that got no answer is a
/// [`TransportError`].
///
/// Implemented by [`ReqwestTransport`](crate::ReqwestTransport) (feature `reqwest`, the
/// default), by `Arc<T>` of any transport, and by closures returning a [`TransportFuture`],
/// so a test can assert a request inline:
///
/// ```
/// use byoc_http::{HttpTransport, TransportFuture};
/// use bytes::Bytes;
///
/// let transport = |request: http::Request<Bytes>| -> TransportFuture {
///     assert_eq!(request.method(), http::Method::POST);
///     Box::pin(async { Ok(http::Response::new(Bytes::from_static(b"{}"))) })
/// };
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let request = http::Request::post("https://api.example/v1").body(Bytes::new()).unwrap();
/// let response = transport.execute(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # });
/// ```
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and reads the whole answer.
    ///
    /// # Errors
    /// [`TransportError`] when no complete answer arrived.
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError>;
}

/// The boxed future a transport closure returns.
pub type TransportFuture =
    Pin<Box<dyn Future<Output = Result<Response<Bytes>, TransportError>> + Send>>;

#[async_trait]
impl<F> HttpTransport for F
where
    F: Fn(Request<Bytes>) -> TransportFuture + Send + Sync,
{
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        self(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        (**self).execute(request).await
    }
}

/// Why a request got no answer. Its message never contains the URL's query, a header value
/// or a body: only the [`TransportErrorKind`].
#[derive(thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Option<BoxError>,
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("source", &self.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

/// What kind of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No complete answer within the timeout.
    #[error("request timed out")]
    Timeout,
    /// The connection could not be made (refused, DNS, TLS handshake).
    #[error("connection failed")]
    Connect,
    /// The connection broke while the request or the answer was in flight.
    #[error("connection lost")]
    Interrupted,
    /// The answer's body is larger than the transport's limit.
    #[error("response body too large")]
    BodyTooLarge,
    /// The request cannot be sent as built (an unsupported URL, for example).
    #[error("request cannot be sent")]
    InvalidRequest,
    /// Anything else.
    #[error("request failed")]
    Other,
}

impl TransportError {
    /// A transport error of `kind`, caused by `source` when there is one. The source must not
    /// carry a URL, a header value or a body in its message.
    #[must_use]
    pub fn new(kind: TransportErrorKind, source: Option<BoxError>) -> Self {
        Self { kind, source }
    }

    /// A transport error of `kind` with no source.
    #[must_use]
    pub fn from_kind(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether trying again may succeed. Every kind may pass except a request that cannot be
    /// sent as built and an answer over the size limit.
    ///
    /// A request that timed out or lost its connection may have reached the provider: an
    /// outbox that retries it relies on the provider's idempotency, or on its own key.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::InvalidRequest | TransportErrorKind::BodyTooLarge
        )
    }
}

impl From<TransportError> for byoc_core::AdapterError {
    fn from(e: TransportError) -> Self {
        if e.is_retryable() {
            byoc_core::AdapterError::transport(e.kind.to_string(), e)
        } else {
            byoc_core::AdapterError::permanent(None, e.kind.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closures_and_arcs_are_transports() {
        let t = |r: Request<Bytes>| -> TransportFuture {
            let path = r.uri().path().to_owned();
            Box::pin(async move {
                let mut resp = Response::new(Bytes::from(path));
                *resp.status_mut() = http::StatusCode::ACCEPTED;
                Ok(resp)
            })
        };
        let shared: Arc<dyn HttpTransport> = Arc::new(t);
        let resp = shared
            .execute(
                Request::get("http://h.example/p")
                    .body(Bytes::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        assert_eq!(resp.body().as_ref(), b"/p");
    }

    #[test]
    fn errors_say_only_their_kind() {
        let e = TransportError::new(
            TransportErrorKind::Timeout,
            Some("source error".to_owned().into()),
        );
        assert_eq!(e.to_string(), "request timed out");
        assert!(e.is_retryable());
        assert!(!TransportError::from_kind(TransportErrorKind::BodyTooLarge).is_retryable());
        let a: byoc_core::AdapterError = e.into();
        assert!(a.is_retryable());
        let a: byoc_core::AdapterError =
            TransportError::from_kind(TransportErrorKind::InvalidRequest).into();
        assert!(!a.is_retryable());
    }
}
