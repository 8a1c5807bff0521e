//! The transport seam: anything that turns an `http::Request<Bytes>` into an
//! `http::Response<Bytes>`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::ApiError;

/// Sends one request and reads the whole answer. Implementations must not follow
/// redirects (tokens must not leak to another host).
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Executes `request`.
    ///
    /// # Errors
    /// [`ApiError::Transport`] when no answer could be read.
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, ApiError>;
}

type BoxFut = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, ApiError>> + Send>>;

/// A transport made of a closure (for tests that assert the request).
pub struct FnTransport<F>(pub F);

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

#[async_trait]
impl<F> HttpTransport for FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> BoxFut + Send + Sync,
{
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, ApiError> {
        (self.0)(request).await
    }
}

/// The default transport: reqwest with rustls, redirects off, a 20-second timeout per
/// request (as DirectLineJS).
#[cfg(feature = "reqwest")]
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(feature = "reqwest")]
impl ReqwestTransport {
    /// A transport with the defaults above.
    ///
    /// # Errors
    /// If the TLS backend cannot be initialized.
    pub fn new() -> Result<Self, byoc_core::AdapterError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| byoc_core::AdapterError::configuration(format!("HTTP client: {e}")))?;
        Ok(Self { client })
    }

    /// Wraps a client you configured (keep redirects off).
    #[must_use]
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

#[cfg(feature = "reqwest")]
#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, ApiError> {
        let req =
            reqwest::Request::try_from(request).map_err(|e| ApiError::Transport(e.to_string()))?;
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| ApiError::Transport(without_url(&e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Transport(without_url(&e)))?;
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

#[cfg(feature = "reqwest")]
fn without_url(e: &reqwest::Error) -> String {
    // URLs may carry tokens (stream URLs); keep only the kind of failure.
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed".into()
    } else {
        "request failed".into()
    }
}
