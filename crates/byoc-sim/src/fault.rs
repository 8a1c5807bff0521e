//! Fault injection shared by every simulator: the next N requests answer with an HTTP error
//! (429 with `Retry-After`, 503, ...), are delayed, or have their connection dropped.
//!
//! A [`Faults`] handle is cloned into the simulator's router as an axum middleware
//! ([`Faults::layer`]); tests and users push faults onto it.
//!
//! ```no_run
//! # use byoc_sim::fault::{Fault, Faults};
//! # use std::time::Duration;
//! let faults = Faults::new();
//! faults.push(Fault::rate_limited(3), 2); // the next two requests get 429, Retry-After: 3
//! faults.push(Fault::Delay(Duration::from_millis(200)), 1);
//! faults.push(Fault::Drop, 1);
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, StatusCode};

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status (and body), without reaching the simulator's handler.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds, if any.
        retry_after: Option<u64>,
        /// Response body (JSON), if any.
        body: Option<String>,
    },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Drop the connection: the response head is never completed, so the client sees a
    /// connection error.
    Drop,
}

impl Fault {
    /// `429 Too Many Requests` with `Retry-After: secs`.
    #[must_use]
    pub fn rate_limited(secs: u64) -> Self {
        Self::Status {
            status: 429,
            retry_after: Some(secs),
            body: None,
        }
    }

    /// `503 Service Unavailable`.
    #[must_use]
    pub fn unavailable() -> Self {
        Self::Status {
            status: 503,
            retry_after: None,
            body: None,
        }
    }

    /// Any status with a body.
    #[must_use]
    pub fn status(status: u16, body: Option<String>) -> Self {
        Self::Status {
            status,
            retry_after: None,
            body,
        }
    }
}

/// A queue of faults applied to the next requests, in order. Cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    queue: Arc<Mutex<VecDeque<Fault>>>,
}

impl Faults {
    /// No faults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `fault` to the next `times` requests (after those already queued).
    pub fn push(&self, fault: Fault, times: usize) {
        let mut q = self.lock();
        for _ in 0..times {
            q.push_back(fault.clone());
        }
    }

    /// Removes every queued fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many faults are queued.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Takes the fault for the next request, if any.
    #[must_use]
    pub fn take(&self) -> Option<Fault> {
        self.lock().pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        // A poisoned queue only means a test panicked while holding it; the data is fine.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The axum middleware applying these faults:
    /// `router.layer(axum::middleware::from_fn(move |req, next| faults.clone().apply(req, next)))`.
    pub async fn apply(self, req: Request, next: Next) -> Response {
        match self.take() {
            None => next.run(req).await,
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                next.run(req).await
            }
            Some(Fault::Status {
                status,
                retry_after,
                body,
            }) => {
                let mut resp = Response::new(Body::from(body.clone().unwrap_or_default()));
                *resp.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                if body.is_some() {
                    resp.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
                if let Some(secs) = retry_after
                    && let Ok(v) = HeaderValue::from_str(&secs.to_string())
                {
                    resp.headers_mut().insert(http::header::RETRY_AFTER, v);
                }
                resp
            }
            Some(Fault::Drop) => {
                // A body that fails before its first byte makes hyper abort the connection
                // mid-response; the client sees a connection error, not an answer.
                let stream = futures_util::stream::once(async {
                    Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("fault: dropped"))
                });
                let mut resp = Response::new(Body::from_stream(stream));
                resp.headers_mut().insert(
                    http::header::CONTENT_LENGTH,
                    HeaderValue::from_static("1024"),
                );
                resp
            }
        }
    }

    /// Wraps a router so every request passes through these faults first.
    pub fn layer<S: Clone + Send + Sync + 'static>(
        &self,
        router: axum::Router<S>,
    ) -> axum::Router<S> {
        let faults = self.clone();
        router.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| faults.clone().apply(req, next),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn serve(faults: &Faults) -> String {
        let app =
            faults.layer(axum::Router::new().route("/", axum::routing::get(|| async { "ok" })));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn faults_apply_in_order_then_stop() {
        let faults = Faults::new();
        let url = serve(&faults).await;
        faults.push(Fault::rate_limited(3), 1);
        faults.push(Fault::unavailable(), 1);
        faults.push(Fault::Drop, 1);
        faults.push(Fault::Delay(Duration::from_millis(50)), 1);
        let client = reqwest::Client::new();

        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "3");
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 503);
        let dropped = match client.get(&url).send().await {
            Err(_) => true,
            Ok(r) => r.bytes().await.is_err(),
        };
        assert!(dropped, "a dropped connection must surface as an error");
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "ok");
        assert_eq!(faults.pending(), 0);
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}
