//! [`ReqwestTransport`]: the default [`HttpTransport`] over reqwest with rustls.

use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::{Request, Response};

use crate::tls::RootCa;
use crate::transport::{HttpTransport, TransportError, TransportErrorKind};

/// Default time for a whole request, connection to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time to establish a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default largest response body read: 4 MiB. A larger answer is a
/// [`TransportErrorKind::BodyTooLarge`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The default transport: reqwest over rustls (the platform's web PKI roots plus any
/// [`RootCa`] added), redirects never followed (a redirect is returned as the response, so a
/// credential is never forwarded to another host), a timeout, and a bounded response body.
///
/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
}

/// Builds a [`ReqwestTransport`]; every setting has a documented default.
#[derive(Debug, Clone)]
#[must_use]
pub struct ReqwestTransportBuilder {
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    root_cas: Vec<RootCa>,
    user_agent: Option<String>,
}

/// Why a [`ReqwestTransport`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportBuildError {
    /// reqwest refused the settings (TLS backend, certificate store).
    #[error("cannot build the HTTP client: {reason}")]
    Client {
        /// reqwest's reason.
        reason: String,
    },
    /// A root CA is not a PEM certificate rustls accepts.
    #[error("root CA `{name}` is not a usable PEM certificate")]
    RootCa {
        /// The CA's name (its file path, or what the caller named it).
        name: String,
    },
}

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_cas: Vec::new(),
            user_agent: None,
        }
    }
}

impl ReqwestTransportBuilder {
    /// Time for a whole request (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time to establish a connection (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest response body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Trusts `ca` besides the web PKI roots: a private CA, or the CA a `byoc-sim` simulator
    /// generates for its TLS endpoints.
    pub fn add_root_ca(mut self, ca: RootCa) -> Self {
        self.root_cas.push(ca);
        self
    }

    /// The `User-Agent` sent (default: reqwest's none).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    /// [`TransportBuildError`] when a root CA is not a certificate or reqwest cannot start
    /// its TLS backend.
    pub fn build(self) -> Result<ReqwestTransport, TransportBuildError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        for ca in &self.root_cas {
            let refused = || TransportBuildError::RootCa {
                name: ca.name().to_owned(),
            };
            let certs = reqwest::Certificate::from_pem_bundle(ca.pem()).map_err(|_| refused())?;
            if certs.is_empty() {
                return Err(refused());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(agent) = self.user_agent {
            builder = builder.user_agent(agent);
        }
        let client = builder.build().map_err(|e| TransportBuildError::Client {
            reason: e.without_url().to_string(),
        })?;
        Ok(ReqwestTransport {
            client,
            max_response_bytes: self.max_response_bytes,
        })
    }
}

impl ReqwestTransport {
    /// A transport with every default.
    ///
    /// # Errors
    /// [`TransportBuildError::Client`] when reqwest cannot start its TLS backend.
    pub fn new() -> Result<Self, TransportBuildError> {
        Self::builder().build()
    }

    /// A builder to change the defaults.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// The largest response body this transport reads.
    #[must_use]
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_builder() {
        TransportErrorKind::InvalidRequest
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportErrorKind::Interrupted
    } else {
        TransportErrorKind::Other
    };
    // `without_url` drops the URL (and its query, which may carry a key) from the message.
    TransportError::new(kind, Some(Box::new(e.without_url())))
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn execute(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(classify)?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        if response
            .content_length()
            .is_some_and(|n| n > self.max_response_bytes as u64)
        {
            return Err(TransportError::from_kind(TransportErrorKind::BodyTooLarge));
        }
        let mut builder = Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            std::mem::swap(headers, response.headers_mut());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(TransportError::from_kind(TransportErrorKind::BodyTooLarge));
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body.freeze())
            .map_err(|e| TransportError::new(TransportErrorKind::Other, Some(Box::new(e))))
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::routing::get;

    use super::*;

    async fn serve(app: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    fn get_req(addr: SocketAddr, path: &str) -> Request<Bytes> {
        Request::get(format!("http://{addr}{path}"))
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn answers_of_any_status_are_responses_and_redirects_are_not_followed() {
        let app = Router::new()
            .route(
                "/teapot",
                get(|| async { (http::StatusCode::IM_A_TEAPOT, "tea") }),
            )
            .route(
                "/moved",
                get(|| async {
                    (
                        http::StatusCode::FOUND,
                        [(http::header::LOCATION, "/teapot")],
                    )
                }),
            );
        let addr = serve(app).await;
        let t = ReqwestTransport::new().unwrap();
        let r = t.execute(get_req(addr, "/teapot")).await.unwrap();
        assert_eq!(r.status(), 418);
        assert_eq!(r.body().as_ref(), b"tea");
        let r = t.execute(get_req(addr, "/moved")).await.unwrap();
        assert_eq!(r.status(), 302);
    }

    #[tokio::test]
    async fn large_bodies_are_refused_at_the_cap() {
        let app = Router::new()
            .route("/big", get(|| async { "x".repeat(2048) }))
            .route(
                "/stream",
                get(|| async {
                    let chunks =
                        (0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'y'; 600])));
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                }),
            );
        let addr = serve(app).await;
        let t = ReqwestTransport::builder()
            .max_response_bytes(1024)
            .build()
            .unwrap();
        for path in ["/big", "/stream"] {
            let e = t.execute(get_req(addr, path)).await.unwrap_err();
            assert_eq!(e.kind(), TransportErrorKind::BodyTooLarge, "{path}");
        }
    }

    #[tokio::test]
    async fn timeouts_and_refused_connections_are_typed_without_the_url() {
        let app = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let addr = serve(app).await;
        let t = ReqwestTransport::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let e = t
            .execute(get_req(addr, "/slow?api_key=SECRET"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), TransportErrorKind::Timeout);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = listener.local_addr().unwrap();
        drop(listener);
        let e = t
            .execute(get_req(closed, "/x?api_key=SECRET"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), TransportErrorKind::Connect);
        let text = format!("{e} {e:?}");
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn a_root_ca_that_is_not_pem_is_refused_by_name() {
        let e = ReqwestTransport::builder()
            .add_root_ca(RootCa::from_pem("sim-ca", b"not a certificate".to_vec()))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("sim-ca"), "{e}");
    }
}
