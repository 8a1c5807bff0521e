//! The HTTP transport behind the clients: a small trait over `http` types, reqwest as the
//! default implementation (redirects off, rustls), and closures for tests or other stacks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use byoc_core::BoxError;

/// Sends one request and returns the whole response.
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Executes `request`.
    ///
    /// # Errors
    /// Only when no response arrived (connection, TLS, timeout). HTTP error statuses are
    /// responses, not errors.
    async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, BoxError>;
}

/// A future returned by a transport closure.
pub type TransportFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Vec<u8>>, BoxError>> + Send>>;

/// A closure used as a transport:
/// `FnTransport(|req| Box::pin(async move { ... }))`.
pub struct FnTransport<F>(pub F);

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

#[async_trait]
impl<F> HttpTransport for FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>) -> TransportFuture + Send + Sync,
{
    async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, BoxError> {
        (self.0)(request).await
    }
}

/// The default transport: reqwest with rustls, redirects off (a redirect would carry the
/// bearer token elsewhere), 30-second timeout, responses capped at 4 MiB.
#[cfg(feature = "reqwest")]
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(feature = "reqwest")]
impl ReqwestTransport {
    /// Largest response body read.
    pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

    /// A transport with the defaults above.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, BoxError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self { client })
    }

    /// Wraps a client you configured (keep redirects off).
    #[must_use]
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

#[cfg(feature = "reqwest")]
#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, BoxError> {
        let req = reqwest::Request::try_from(request)?;
        let mut resp = self.client.execute(req).await?;
        let mut builder = http::Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            builder = builder.header(k, v);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > Self::MAX_RESPONSE_BYTES {
                return Err("response body too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(builder.body(body)?)
    }
}
