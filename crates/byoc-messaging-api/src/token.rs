//! OAuth 2.0 client credentials against Entra: the pure request/response pair, a token cache
//! refreshed before expiry (on tokio's clock, so tests can pause it), and the executor that
//! puts the token on each call and retries once with a fresh token after a `401`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::Secret;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::config::EntraApp;
use crate::error::ClientError;
use crate::transport::HttpTransport;

/// An access token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer value.
    pub value: Secret,
    /// Lifetime the issuer announced (`expires_in`).
    pub expires_in: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Builds the client-credentials token request (form-encoded POST).
///
/// # Errors
/// [`ClientError::Build`] when the form cannot be encoded.
pub fn token_request(
    token_url: &Url,
    app: &EntraApp,
    scope: &str,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let form = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.secret()),
        ("scope", scope),
    ])
    .map_err(|_| ClientError::Build {
        endpoint: "token",
        what: "form",
    })?;
    let mut value = http::HeaderValue::from_static("application/x-www-form-urlencoded");
    value.set_sensitive(false);
    http::Request::post(token_url.as_str())
        .header(http::header::CONTENT_TYPE, value)
        .header(http::header::ACCEPT, "application/json")
        .body(form.into_bytes())
        .map_err(|_| ClientError::Build {
            endpoint: "token",
            what: "token URL",
        })
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// Parses the token endpoint's answer. `expires_in` is accepted as a number or a string.
///
/// # Errors
/// [`ClientError::Status`] for error statuses (with Entra's `error` code, e.g.
/// `invalid_client`), [`ClientError::Decode`] for an unexpected body.
pub fn parse_token_response(resp: &http::Response<Vec<u8>>) -> Result<AccessToken, ClientError> {
    if !resp.status().is_success() {
        return Err(status_error("token", resp));
    }
    let body: TokenBody = serde_json::from_slice(resp.body()).map_err(|_| ClientError::Decode {
        endpoint: "token",
        field: "access_token".into(),
    })?;
    let value = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(ClientError::Decode {
            endpoint: "token",
            field: "access_token".into(),
        })?;
    if let Some(t) = &body.token_type
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(ClientError::Decode {
            endpoint: "token",
            field: "token_type".into(),
        });
    }
    let secs = match body.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or(ClientError::Decode {
        endpoint: "token",
        field: "expires_in".into(),
    })?;
    Ok(AccessToken {
        value: Secret::new(value),
        expires_in: Duration::from_secs(secs),
    })
}

/// A [`ClientError::Status`] for an error answer: the status, the provider's error code
/// when the body has one (`error`, `error.code` or `code`), and `Retry-After`. The body's
/// text is never kept.
#[must_use]
pub fn status_error(endpoint: &'static str, resp: &http::Response<Vec<u8>>) -> ClientError {
    let code = serde_json::from_slice::<serde_json::Value>(resp.body())
        .ok()
        .and_then(|v| {
            let c = v
                .get("error")
                .and_then(|e| {
                    e.as_str()
                        .map(str::to_owned)
                        .or_else(|| e.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                })
                .or_else(|| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))?;
            // A code is an identifier, not free text.
            (c.len() <= 64
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)))
            .then_some(c)
        });
    let retry_after = resp
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| byoc_core::error::parse_retry_after(v, chrono::Utc::now()));
    ClientError::Status {
        endpoint,
        status: resp.status().as_u16(),
        code,
        retry_after,
    }
}

struct Cached {
    value: Secret,
    refresh_at: Instant,
}

/// Calls an API with a cached client-credentials token.
#[derive(Clone)]
pub struct Authorized {
    transport: Arc<dyn HttpTransport>,
    app: EntraApp,
    token_url: Url,
    scope: String,
    margin: Duration,
    cache: Arc<Mutex<Option<Cached>>>,
}

impl fmt::Debug for Authorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("app", &self.app)
            .field("token_url", &self.token_url.as_str())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Authorized {
    /// An executor for `scope`, tokens from `token_url`, refreshed `margin` before expiry.
    pub fn new(
        transport: Arc<dyn HttpTransport>,
        app: EntraApp,
        token_url: Url,
        scope: String,
        margin: Duration,
    ) -> Self {
        Self {
            transport,
            app,
            token_url,
            scope,
            margin,
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The current token, fetched when none is cached or it is within the margin of expiry.
    /// Concurrent callers wait for one fetch.
    ///
    /// # Errors
    /// [`ClientError`] from the token endpoint.
    pub async fn token(&self) -> Result<Secret, ClientError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.value.clone());
        }
        let req = token_request(&self.token_url, &self.app, &self.scope)?;
        let resp = self
            .transport
            .execute(req)
            .await
            .map_err(|source| ClientError::Transport {
                endpoint: "token",
                source,
            })?;
        let token = parse_token_response(&resp)?;
        // A token shorter-lived than the margin is used for half its life.
        let keep = token
            .expires_in
            .checked_sub(self.margin)
            .unwrap_or(token.expires_in / 2);
        tracing::debug!(
            expires_in = token.expires_in.as_secs(),
            "fetched access token"
        );
        *cache = Some(Cached {
            value: token.value.clone(),
            refresh_at: Instant::now() + keep,
        });
        Ok(token.value)
    }

    /// Forgets the cached token (after the API refused it).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// Sends the request `build` makes with the token; after a `401` the token is fetched
    /// again and the request sent once more.
    ///
    /// # Errors
    /// [`ClientError::Transport`] or the build error; statuses are returned as responses.
    pub async fn execute<F>(
        &self,
        endpoint: &'static str,
        build: F,
    ) -> Result<http::Response<Vec<u8>>, ClientError>
    where
        F: Fn(&Secret) -> Result<http::Request<Vec<u8>>, ClientError>,
    {
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let req = build(&token)?;
            let resp = self
                .transport
                .execute(req)
                .await
                .map_err(|source| ClientError::Transport { endpoint, source })?;
            if resp.status() == http::StatusCode::UNAUTHORIZED && !retried {
                tracing::info!(endpoint, "token refused; fetching a new one");
                self.invalidate().await;
                retried = true;
                continue;
            }
            return Ok(resp);
        }
    }
}

/// An `Authorization: Bearer` value, marked sensitive.
///
/// # Errors
/// [`ClientError::Build`] when the token is not a valid header value.
pub fn bearer_header(
    endpoint: &'static str,
    token: &Secret,
) -> Result<http::HeaderValue, ClientError> {
    let mut v =
        http::HeaderValue::from_str(&format!("Bearer {}", token.secret())).map_err(|_| {
            ClientError::Build {
                endpoint,
                what: "token is not a header value",
            }
        })?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> EntraApp {
        EntraApp::new(
            "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20",
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "s3cr3t&=",
        )
        .unwrap()
    }

    fn resp(status: u16, body: &str) -> http::Response<Vec<u8>> {
        http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn token_request_is_form_encoded() {
        let url = Url::parse("https://login.example/t/oauth2/v2.0/token").unwrap();
        let req = token_request(&url, &app(), "https://x-c.crm4.dynamics.com/.default").unwrap();
        assert_eq!(req.method(), http::Method::POST);
        let body = String::from_utf8(req.body().clone()).unwrap();
        let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
        assert!(form.contains(&("client_secret".into(), "s3cr3t&=".into())));
        assert!(form.contains(&(
            "scope".into(),
            "https://x-c.crm4.dynamics.com/.default".into()
        )));
    }

    #[test]
    fn token_response_forms() {
        let t = parse_token_response(&resp(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"abc"}"#,
        ))
        .unwrap();
        assert_eq!(t.value.secret(), "abc");
        assert_eq!(t.expires_in, Duration::from_secs(3599));
        let t =
            parse_token_response(&resp(200, r#"{"expires_in":"60","access_token":"x"}"#)).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(60));
        assert!(!format!("{t:?}").contains("\"x\""));
        for bad in [
            r#"{"expires_in":60}"#,
            r#"{"access_token":"x"}"#,
            r#"{"access_token":"x","expires_in":1,"token_type":"mac"}"#,
            "nope",
        ] {
            assert!(matches!(
                parse_token_response(&resp(200, bad)),
                Err(ClientError::Decode { .. })
            ));
        }
        let e = parse_token_response(&resp(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: secret xyz"}"#,
        ))
        .unwrap_err();
        match &e {
            ClientError::Status { status, code, .. } => {
                assert_eq!(*status, 401);
                assert_eq!(code.as_deref(), Some("invalid_client"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!e.to_string().contains("xyz"));
    }

    #[test]
    fn status_error_keeps_codes_not_text() {
        let e = status_error(
            "send",
            &resp(
                400,
                r#"{"error":{"code":"BadRequest","message":"pii here"}}"#,
            ),
        );
        assert!(matches!(&e, ClientError::Status { code: Some(c), .. } if c == "BadRequest"));
        let e = status_error("send", &resp(400, r#"{"code":"has spaces and pii"}"#));
        assert!(matches!(&e, ClientError::Status { code: None, .. }));
        let r = http::Response::builder()
            .status(429)
            .header("retry-after", "7")
            .body(Vec::new())
            .unwrap();
        assert!(matches!(
            status_error("send", &r),
            ClientError::Status { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn bearer_header_is_sensitive() {
        let v = bearer_header("x", &Secret::new("tok")).unwrap();
        assert!(v.is_sensitive());
        assert!(bearer_header("x", &Secret::new("a\nb")).is_err());
    }
}
