//! How requests reach TeleSign: the [`HttpTransport`] trait, implemented by
//! [`ReqwestTransport`] (the default) and by any closure returning a [`TransportFuture`].

use std::future::Future;
use std::pin::Pin;
#[cfg(feature = "reqwest")]
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};

#[cfg(feature = "reqwest")]
use crate::error::ConfigError;

/// Largest response body read (1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A request that got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Option<byoc_core::BoxError>,
}

/// What kind of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// The connection failed or was dropped.
    #[error("connection failed")]
    Connection,
    /// The answer was larger than [`MAX_RESPONSE_BYTES`].
    #[error("response too large")]
    TooLarge,
    /// Anything else.
    #[error("request failed")]
    Other,
}

impl TransportError {
    /// A transport error of `kind` caused by `source`.
    #[must_use]
    pub fn new(kind: TransportErrorKind, source: Option<byoc_core::BoxError>) -> Self {
        Self { kind, source }
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

/// Carries one request to TeleSign and returns the answer, whatever its status.
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends `request`.
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError>;
}

/// A boxed future of a transport closure.
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

/// The default transport: reqwest with rustls, redirects off, a timeout, and a bounded
/// response size.
#[cfg(feature = "reqwest")]
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(feature = "reqwest")]
impl ReqwestTransport {
    /// A transport with `timeout` per request.
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when reqwest cannot build its client.
    pub fn new(timeout: Duration) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient {
                reason: e.to_string(),
            })?;
        Ok(Self { client })
    }
}

#[cfg(feature = "reqwest")]
#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let classify = |e: reqwest::Error| {
            let kind = if e.is_timeout() {
                TransportErrorKind::Timeout
            } else if e.is_connect() || e.is_request() || e.is_body() || e.is_decode() {
                TransportErrorKind::Connection
            } else {
                TransportErrorKind::Other
            };
            TransportError::new(kind, Some(Box::new(e.without_url())))
        };
        let req = reqwest::Request::try_from(request).map_err(classify)?;
        let mut resp = self.client.execute(req).await.map_err(classify)?;
        let mut builder = Response::builder().status(resp.status());
        if let Some(h) = builder.headers_mut() {
            h.extend(resp.headers().iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(TransportError::new(TransportErrorKind::TooLarge, None));
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(Bytes::from(body))
            .map_err(|e| TransportError::new(TransportErrorKind::Other, Some(Box::new(e))))
    }
}
