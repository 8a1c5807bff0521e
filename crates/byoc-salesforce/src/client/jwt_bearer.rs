//! [`JwtBearer`]: the OAuth 2.0 JWT bearer flow as a byoc-http [`TokenSource`]. The RS256
//! assertion is signed with `jsonwebtoken`, the one JWT stack of the workspace; building the
//! request and reading the answer are pure code. See
//! `docs/protocols/salesforce.md#authentication`.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::Secret;
use byoc_http::jsonwebtoken::{self, Algorithm, EncodingKey, Header};
use byoc_http::{AccessToken, HttpTransport, TokenError, TokenSource};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Credentials;
use crate::error::ConfigError;

/// How far ahead the assertion's `exp` is set, in seconds: Salesforce accepts at most 3
/// minutes.
pub(crate) const ASSERTION_LIFETIME_SECS: i64 = 180;

/// The grant type of the JWT bearer flow, form-encoded.
const GRANT_FORM: &str = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    instance_url: Option<String>,
    token_type: Option<String>,
}

/// Mints access tokens with the JWT bearer flow: an RS256 assertion (`iss` = consumer key,
/// `sub` = username, `aud` = login host, `exp` = now + 3 minutes, in seconds) exchanged at
/// the token endpoint. The answer carries no expiry, so each token is given the configured
/// lifetime; the answer's `instance_url` is kept for the Pub/Sub metadata.
pub struct JwtBearer {
    consumer_key: String,
    username: String,
    audience: String,
    token_url: Url,
    key: EncodingKey,
    lifetime: Duration,
    instance_url: Mutex<Option<String>>,
}

impl fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearer")
            .field("consumer_key", &self.consumer_key)
            .field("username", &self.username)
            .field("audience", &self.audience)
            .field("token_url", &self.token_url.as_str())
            .field("key", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl JwtBearer {
    /// The flow for `credentials`, each token taken to live `lifetime`.
    #[must_use]
    pub fn new(credentials: &Credentials, lifetime: Duration) -> Self {
        Self {
            consumer_key: credentials.consumer_key().to_owned(),
            username: credentials.username().to_owned(),
            audience: credentials.audience().to_owned(),
            token_url: credentials.token_url().clone(),
            key: credentials.signing_key().clone(),
            lifetime,
            instance_url: Mutex::new(None),
        }
    }

    /// Parses a PEM RSA key and signs once with it, so that a key that cannot sign is found
    /// when the configuration is built, not at the first call.
    pub(crate) fn signing_key(pem: &Secret) -> Result<EncodingKey, ConfigError> {
        let key = EncodingKey::from_rsa_pem(pem.secret().trim().as_bytes())
            .map_err(|_| ConfigError::PrivateKey)?;
        let probe = Claims {
            iss: "probe",
            sub: "probe",
            aud: "probe",
            exp: 0,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &probe, &key)
            .map_err(|_| ConfigError::PrivateKey)?;
        Ok(key)
    }

    /// The signed assertion for `now_unix_secs`.
    ///
    /// # Errors
    /// [`TokenError::Build`] when signing fails.
    pub fn assertion(&self, now_unix_secs: i64) -> Result<Secret, TokenError> {
        let claims = Claims {
            iss: &self.consumer_key,
            sub: &self.username,
            aud: &self.audience,
            exp: now_unix_secs + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(Secret::new)
            .map_err(|_| TokenError::Build {
                what: "the JWT assertion cannot be signed",
            })
    }

    /// The token request: `POST {token_url}`, form body
    /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`.
    ///
    /// # Errors
    /// [`TokenError::Build`] when signing fails.
    pub fn prepare_request(&self, now_unix_secs: i64) -> Result<http::Request<Bytes>, TokenError> {
        let assertion = self.assertion(now_unix_secs)?;
        // A JWT is base64url and dots: nothing in it needs percent-encoding.
        let body = format!("{GRANT_FORM}&assertion={}", assertion.secret());
        http::Request::post(self.token_url.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::from(body))
            .map_err(|_| TokenError::Build {
                what: "the token URL is not a request URI",
            })
    }

    /// Reads the token endpoint's answer: the token with this flow's lifetime, and the
    /// answer's `instance_url`. An error status keeps the OAuth `error` code only.
    ///
    /// # Errors
    /// [`TokenError::Refused`] for an error status, [`TokenError::Decode`] for a body that is
    /// not a token answer.
    pub fn parse_response(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<(AccessToken, Option<String>), TokenError> {
        if !response.status().is_success() {
            return Err(TokenError::Refused {
                status: response.status().as_u16(),
                code: byoc_http::error_code(response.body()),
                retry_after: byoc_http::retry_after(response.headers(), chrono::Utc::now()),
            });
        }
        let body: TokenBody = serde_json::from_slice(response.body())
            .map_err(|_| TokenError::Decode { field: "$" })?;
        let token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::Decode {
                field: "access_token",
            })?;
        if body
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(TokenError::Decode {
                field: "token_type",
            });
        }
        Ok((
            AccessToken::new(Secret::new(token), self.lifetime),
            body.instance_url.filter(|u| !u.is_empty()),
        ))
    }

    /// The `instance_url` of the last token answer, if it had one.
    #[must_use]
    pub fn instance_url(&self) -> Option<String> {
        self.instance_url
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl TokenSource for JwtBearer {
    async fn fetch(&self, transport: &dyn HttpTransport) -> Result<AccessToken, TokenError> {
        let request = self.prepare_request(chrono::Utc::now().timestamp())?;
        let response = transport.execute(request).await?;
        let (token, instance_url) = self.parse_response(&response)?;
        if instance_url.is_some() {
            *self
                .instance_url
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = instance_url;
        }
        tracing::debug!("minted a Salesforce access token");
        Ok(token)
    }
}

#[cfg(test)]
mod tests;
