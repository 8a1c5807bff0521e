//! Client-credentials tokens for Connector calls (B.2), cached and refreshed 5 minutes
//! before expiry, one refresh at a time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::Secret;
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::HttpTransport;
use crate::config::ConnectorConfig;
use crate::error::ApiError;

/// Refresh this long before `expires_in` runs out (botbuilder-js).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// An access token and its lifetime.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub token: Secret,
    /// `expires_in`.
    pub expires_in: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.token)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The token request: form-encoded client credentials to `{login}/{tenant}/oauth2/v2.0/token`.
///
/// # Errors
/// [`ApiError::MissingField`] for an unusable URL.
pub fn prepare_token_request(config: &ConnectorConfig) -> Result<http::Request<Bytes>, ApiError> {
    let body = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", config.app_id.as_str()),
        ("client_secret", config.app_password.secret()),
        ("scope", config.scope.as_str()),
    ])
    .map_err(|_| ApiError::MissingField("client_id"))?;
    http::Request::builder()
        .method(http::Method::POST)
        .uri(config.token_url())
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(Bytes::from(body))
        .map_err(|_| ApiError::MissingField("login_base_url"))
}

#[derive(Deserialize)]
struct TokenJson {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
}

/// Parses the token answer (`{"token_type":"Bearer","expires_in":3600,"access_token":...}`);
/// an OAuth error (`invalid_client`, ...) becomes [`ApiError::Unauthorized`] or
/// [`ApiError::Refused`].
///
/// # Errors
/// As described.
pub fn parse_token_response(resp: &http::Response<Bytes>) -> Result<AccessToken, ApiError> {
    let status = resp.status().as_u16();
    let parsed: Option<TokenJson> = serde_json::from_slice(resp.body()).ok();
    if !resp.status().is_success() {
        let code = parsed.and_then(|p| p.error);
        return Err(match status {
            401 | 403 => ApiError::Unauthorized {
                status,
                message: "token request refused".into(),
                code,
            },
            400 if code.as_deref() == Some("invalid_client") => ApiError::Unauthorized {
                status,
                message: "token request refused".into(),
                code,
            },
            _ => super::error_from_response(resp, chrono::Utc::now()),
        });
    }
    let parsed = parsed.ok_or(ApiError::InvalidResponse {
        field: "access_token",
    })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::InvalidResponse {
            field: "access_token",
        })?;
    let secs = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or(ApiError::InvalidResponse {
        field: "expires_in",
    })?;
    Ok(AccessToken {
        token: Secret::new(token),
        expires_in: Duration::from_secs(secs),
    })
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// A cached client-credentials token. Concurrent callers share one refresh: the lock is held
/// while fetching, so a burst of sends makes one token request.
pub struct ConnectorTokenCache {
    config: ConnectorConfig,
    transport: Arc<dyn HttpTransport>,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for ConnectorTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorTokenCache")
            .field("app_id", &self.config.app_id)
            .finish_non_exhaustive()
    }
}

impl ConnectorTokenCache {
    /// A cache for `config`'s credentials.
    #[must_use]
    pub fn new(config: ConnectorConfig, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            config,
            transport,
            cached: Mutex::new(None),
        }
    }

    /// A valid token: the cached one until 5 minutes before it expires, then a new one.
    ///
    /// # Errors
    /// The token endpoint's refusal or a transport failure.
    pub async fn token(&self) -> Result<Secret, ApiError> {
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let resp = self
            .transport
            .execute(prepare_token_request(&self.config)?)
            .await?;
        let t = parse_token_response(&resp)?;
        let lifetime = t.expires_in.saturating_sub(REFRESH_MARGIN);
        tracing::debug!(expires_in = ?t.expires_in, "connector token fetched");
        *guard = Some(Cached {
            token: t.token.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        Ok(t.token)
    }

    /// Forgets the cached token (after a `401`).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_request_shape() {
        let c = ConnectorConfig::new("app-1", Secret::new("pw&=x"));
        let r = prepare_token_request(&c).unwrap();
        assert_eq!(
            r.uri(),
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        let body = std::str::from_utf8(r.body()).unwrap();
        assert_eq!(
            body,
            "grant_type=client_credentials&client_id=app-1&client_secret=pw%26%3Dx&scope=https%3A%2F%2Fapi.botframework.com%2F.default"
        );
    }

    #[test]
    fn token_response_parse_and_errors() {
        let ok = http::Response::new(Bytes::from_static(
            br#"{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"eyJ.x.y"}"#,
        ));
        let t = parse_token_response(&ok).unwrap();
        assert_eq!(t.token.secret(), "eyJ.x.y");
        assert_eq!(t.expires_in, Duration::from_secs(3600));
        assert!(!format!("{t:?}").contains("eyJ"));
        let mut bad = http::Response::new(Bytes::from_static(br#"{"error":"invalid_client"}"#));
        *bad.status_mut() = http::StatusCode::UNAUTHORIZED;
        assert!(matches!(
            parse_token_response(&bad),
            Err(ApiError::Unauthorized { .. })
        ));
        let missing = http::Response::new(Bytes::from_static(br#"{"expires_in":1}"#));
        assert!(matches!(
            parse_token_response(&missing),
            Err(ApiError::InvalidResponse {
                field: "access_token"
            })
        ));
    }
}
