//! Access tokens: [`TokenCache`] (refreshed before expiry, one refresh in flight),
//! [`TokenSource`] (where tokens come from) and [`Authorized`] (sends with the token and
//! re-authenticates once when the provider says the token is rejected).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::Secret;
use bytes::Bytes;
use http::{Request, Response};
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::TokenError;
use crate::transport::{HttpTransport, TransportError};

/// Default time before a token's expiry at which it is replaced: 5 minutes, as botbuilder
/// and MSAL do.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A bearer token and the lifetime its issuer announced.
#[derive(Clone)]
pub struct AccessToken {
    value: Secret,
    expires_in: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl AccessToken {
    /// A token valid for `expires_in` from now.
    #[must_use]
    pub fn new(value: Secret, expires_in: Duration) -> Self {
        Self { value, expires_in }
    }

    /// The bearer value.
    #[must_use]
    pub fn value(&self) -> &Secret {
        &self.value
    }

    /// The announced lifetime.
    #[must_use]
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }
}

struct Cached {
    value: Secret,
    refresh_at: Instant,
}

/// One cached token, replaced `refresh_margin` before it expires. A token that lives no
/// longer than the margin is used for half its life instead, so a short-lived token is never
/// fetched on every call nor used after it expired.
///
/// The lock is held while a token is fetched: a burst of callers makes one token request.
/// Time is tokio's clock, so tests can pause it.
pub struct TokenCache {
    refresh_margin: Duration,
    slot: Mutex<Option<Cached>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An empty cache that refreshes `refresh_margin` before expiry.
    #[must_use]
    pub fn new(refresh_margin: Duration) -> Self {
        Self {
            refresh_margin,
            slot: Mutex::new(None),
        }
    }

    /// How long a token of `lifetime` is used before it is replaced.
    #[must_use]
    pub fn usable_for(&self, lifetime: Duration) -> Duration {
        if lifetime > self.refresh_margin {
            lifetime - self.refresh_margin
        } else {
            lifetime / 2
        }
    }

    /// The cached token, or a new one from `fetch` when there is none or it is due for
    /// refresh. Concurrent callers wait for the one fetch in flight.
    ///
    /// # Errors
    /// `fetch`'s error; the cache stays empty.
    pub async fn get_or_fetch<F, Fut, E>(&self, fetch: F) -> Result<Secret, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.value.clone());
        }
        let token = fetch().await?;
        let keep = self.usable_for(token.expires_in);
        tracing::debug!(
            expires_in_secs = token.expires_in.as_secs(),
            "access token fetched"
        );
        *slot = Some(Cached {
            value: token.value.clone(),
            refresh_at: Instant::now() + keep,
        });
        Ok(token.value)
    }

    /// Forgets `rejected` if it is still the cached token (a provider refused it). A newer
    /// token fetched meanwhile by another caller is kept, so a burst of refusals makes one
    /// new token request.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| {
            bool::from(
                c.value
                    .secret()
                    .as_bytes()
                    .ct_eq(rejected.secret().as_bytes()),
            )
        }) {
            *slot = None;
        }
    }

    /// Forgets the cached token, whatever it is.
    pub async fn clear(&self) {
        *self.slot.lock().await = None;
    }
}

/// Where tokens come from: a token endpoint (client credentials, JWT bearer, ...).
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Fetches a new token through `transport`.
    ///
    /// # Errors
    /// [`TokenError`] when the endpoint refuses, cannot be reached or answers garbage.
    async fn fetch(&self, transport: &dyn HttpTransport) -> Result<AccessToken, TokenError>;
}

/// Tells whether a provider's answer means "this token is rejected; get another".
pub type RejectionCheck = fn(&Response<Bytes>) -> bool;

/// The usual rejection: `401 Unauthorized`.
#[must_use]
pub fn is_unauthorized(response: &Response<Bytes>) -> bool {
    response.status() == http::StatusCode::UNAUTHORIZED
}

/// Sends requests with a cached token from a [`TokenSource`]; when the provider rejects the
/// token (by default a `401`), fetches a new one and sends once more. A second rejection is
/// returned as the response, for the caller to map.
pub struct Authorized<S> {
    transport: Arc<dyn HttpTransport>,
    source: S,
    cache: TokenCache,
    rejected: RejectionCheck,
}

impl<S: fmt::Debug> fmt::Debug for Authorized<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("source", &self.source)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> Authorized<S> {
    /// Tokens from `source` through `transport`, refreshed `refresh_margin` before expiry.
    #[must_use]
    pub fn new(transport: Arc<dyn HttpTransport>, source: S, refresh_margin: Duration) -> Self {
        Self {
            transport,
            source,
            cache: TokenCache::new(refresh_margin),
            rejected: is_unauthorized,
        }
    }

    /// Replaces what counts as a rejected token (default [`is_unauthorized`]).
    #[must_use]
    pub fn with_rejection(mut self, rejected: RejectionCheck) -> Self {
        self.rejected = rejected;
        self
    }

    /// The transport requests go through.
    #[must_use]
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        &self.transport
    }

    /// The token source.
    #[must_use]
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The current token, fetched when needed.
    ///
    /// # Errors
    /// [`TokenError`] from the source.
    pub async fn token(&self) -> Result<Secret, TokenError> {
        self.cache
            .get_or_fetch(|| self.source.fetch(self.transport.as_ref()))
            .await
    }

    /// Forgets `rejected` (see [`TokenCache::invalidate`]).
    pub async fn invalidate(&self, rejected: &Secret) {
        self.cache.invalidate(rejected).await;
    }

    /// Sends the request `build` makes with the current token; after a rejection, once more
    /// with a new token.
    ///
    /// # Errors
    /// The token error or transport error, converted into the caller's error type, or
    /// `build`'s error. Error statuses are responses.
    pub async fn send<E, B>(&self, build: B) -> Result<Response<Bytes>, E>
    where
        B: Fn(&Secret) -> Result<Request<Bytes>, E>,
        E: From<TokenError> + From<TransportError>,
    {
        let token = self.token().await?;
        let response = self.transport.execute(build(&token)?).await?;
        if !(self.rejected)(&response) {
            return Ok(response);
        }
        tracing::info!(
            status = response.status().as_u16(),
            "token rejected; fetching a new one"
        );
        self.invalidate(&token).await;
        let token = self.token().await?;
        Ok(self.transport.execute(build(&token)?).await?)
    }
}

/// An `Authorization: Bearer` header value, marked sensitive so that it is redacted wherever
/// headers are printed.
///
/// # Errors
/// [`TokenError::Build`] when the token holds bytes a header cannot.
pub fn bearer(token: &Secret) -> Result<http::HeaderValue, TokenError> {
    let mut value =
        http::HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
            TokenError::Build {
                what: "token is not a valid header value",
            }
        })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::TransportFuture;

    struct Counting {
        fetched: AtomicUsize,
        lifetime: Duration,
    }

    #[async_trait]
    impl TokenSource for Counting {
        async fn fetch(&self, _: &dyn HttpTransport) -> Result<AccessToken, TokenError> {
            let n = self.fetched.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(AccessToken::new(
                Secret::new(format!("t{n}")),
                self.lifetime,
            ))
        }
    }

    fn source(lifetime: Duration) -> Counting {
        Counting {
            fetched: AtomicUsize::new(0),
            lifetime,
        }
    }

    fn answer_401_to(bad: &'static str) -> Arc<dyn HttpTransport> {
        Arc::new(move |r: Request<Bytes>| -> TransportFuture {
            let auth = r.headers()[http::header::AUTHORIZATION]
                .to_str()
                .unwrap()
                .to_owned();
            Box::pin(async move {
                let mut resp = Response::new(Bytes::from(auth.clone()));
                if auth == format!("Bearer {bad}") {
                    *resp.status_mut() = http::StatusCode::UNAUTHORIZED;
                }
                Ok(resp)
            })
        })
    }

    fn build(token: &Secret) -> Result<Request<Bytes>, CallError> {
        Ok(Request::get("http://api.example/x")
            .header(http::header::AUTHORIZATION, bearer(token)?)
            .body(Bytes::new())
            .unwrap())
    }

    #[derive(Debug)]
    enum CallError {
        Token,
        Transport,
    }
    impl From<TokenError> for CallError {
        fn from(_: TokenError) -> Self {
            Self::Token
        }
    }
    impl From<TransportError> for CallError {
        fn from(_: TransportError) -> Self {
            Self::Transport
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_is_reused_until_the_margin_then_refreshed() {
        let auth = Authorized::new(
            answer_401_to("none"),
            source(Duration::from_secs(3600)),
            DEFAULT_REFRESH_MARGIN,
        );
        assert_eq!(auth.token().await.unwrap().secret(), "t1");
        tokio::time::advance(Duration::from_secs(3600 - 301)).await;
        assert_eq!(auth.token().await.unwrap().secret(), "t1");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(auth.token().await.unwrap().secret(), "t2");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_lived_token_is_used_for_half_its_life() {
        let auth = Authorized::new(
            answer_401_to("none"),
            source(Duration::from_secs(60)),
            DEFAULT_REFRESH_MARGIN,
        );
        assert_eq!(auth.token().await.unwrap().secret(), "t1");
        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(auth.token().await.unwrap().secret(), "t1");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(auth.token().await.unwrap().secret(), "t2");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch() {
        let auth = Arc::new(Authorized::new(
            answer_401_to("none"),
            source(Duration::from_secs(3600)),
            DEFAULT_REFRESH_MARGIN,
        ));
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let a = auth.clone();
                tokio::spawn(async move { a.token().await.unwrap().secret().to_owned() })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), "t1");
        }
        assert_eq!(auth.source().fetched.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejected_token_is_replaced_and_the_call_sent_once_more() {
        let auth = Authorized::new(
            answer_401_to("t1"),
            source(Duration::from_secs(3600)),
            DEFAULT_REFRESH_MARGIN,
        );
        let resp = auth.send::<CallError, _>(build).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.body().as_ref(), b"Bearer t2");
        assert_eq!(auth.source().fetched.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_rejection_is_returned_not_retried_forever() {
        let always = Arc::new(|_: Request<Bytes>| -> TransportFuture {
            Box::pin(async {
                let mut r = Response::new(Bytes::new());
                *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                Ok(r)
            })
        });
        let auth = Authorized::new(
            always,
            source(Duration::from_secs(3600)),
            DEFAULT_REFRESH_MARGIN,
        );
        let resp = auth.send::<CallError, _>(build).await.unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(auth.source().fetched.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn invalidating_an_old_token_keeps_the_new_one() {
        let cache = TokenCache::new(DEFAULT_REFRESH_MARGIN);
        let t1 = cache
            .get_or_fetch(|| async {
                Ok::<_, TokenError>(AccessToken::new(
                    Secret::new("a"),
                    Duration::from_secs(3600),
                ))
            })
            .await
            .unwrap();
        cache.invalidate(&Secret::new("other")).await;
        let again = cache
            .get_or_fetch(|| async { Err::<AccessToken, _>(TokenError::Build { what: "x" }) })
            .await
            .unwrap();
        assert_eq!(again.secret(), t1.secret());
        cache.invalidate(&t1).await;
        assert!(
            cache
                .get_or_fetch(|| async { Err::<AccessToken, _>(TokenError::Build { what: "x" }) })
                .await
                .is_err()
        );
    }

    #[test]
    fn bearer_values_are_sensitive_and_tokens_redacted() {
        let v = bearer(&Secret::new("tok")).unwrap();
        assert!(v.is_sensitive());
        assert!(bearer(&Secret::new("a\nb")).is_err());
        let t = AccessToken::new(Secret::new("tok-value"), Duration::from_secs(1));
        assert!(!format!("{t:?}").contains("tok-value"));
    }

    #[tokio::test]
    async fn transport_failures_reach_the_caller_as_its_error() {
        let down = Arc::new(|_: Request<Bytes>| -> TransportFuture {
            Box::pin(async {
                Err(TransportError::from_kind(
                    crate::TransportErrorKind::Connect,
                ))
            })
        });
        let auth = Authorized::new(down, source(Duration::from_secs(60)), Duration::ZERO);
        assert!(matches!(
            auth.send::<CallError, _>(build).await,
            Err(CallError::Transport)
        ));
        let _ = CallError::Token;
    }
}
