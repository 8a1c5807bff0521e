//! OAuth 2.0 client credentials (RFC 6749 section 4.4) as Entra ID serves them: the request
//! and the answer in pure code, and a [`TokenSource`] that ties them to a transport.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::Secret;
use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use crate::error::{TokenError, error_code};
use crate::retry_after::retry_after;
use crate::token::{AccessToken, TokenSource};
use crate::transport::HttpTransport;

/// The Entra ID v2 token endpoint of `tenant` under `authority`
/// (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`).
///
/// # Errors
/// [`TokenError::Build`] when `tenant` cannot be a path segment.
pub fn entra_token_url(authority: &Url, tenant: &str) -> Result<Url, TokenError> {
    if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
        return Err(TokenError::Build {
            what: "tenant is not a path segment",
        });
    }
    let mut url = authority.clone();
    url.path_segments_mut()
        .map_err(|()| TokenError::Build {
            what: "authority URL cannot have a path",
        })?
        .pop_if_empty()
        .extend([tenant, "oauth2", "v2.0", "token"]);
    Ok(url)
}

/// A client-credentials grant: an application's id and secret exchanged for a token for one
/// scope.
#[derive(Clone)]
pub struct ClientCredentials {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    scope: String,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scope", &self.scope)
            .finish()
    }
}

impl ClientCredentials {
    /// A grant of `scope` for `client_id` at `token_url`.
    #[must_use]
    pub fn new(
        token_url: Url,
        client_id: impl Into<String>,
        client_secret: Secret,
        scope: impl Into<String>,
    ) -> Self {
        Self {
            token_url,
            client_id: client_id.into(),
            client_secret,
            scope: scope.into(),
        }
    }

    /// The token endpoint.
    #[must_use]
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The client (application) id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scope asked for.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The token request: a form-encoded `POST`.
    ///
    /// # Errors
    /// [`TokenError::Build`] when the form cannot be encoded.
    pub fn prepare_request(&self) -> Result<http::Request<Bytes>, TokenError> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.secret()),
            ("scope", self.scope.as_str()),
        ])
        .map_err(|_| TokenError::Build {
            what: "credentials cannot be form-encoded",
        })?;
        http::Request::post(self.token_url.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::from(form))
            .map_err(|_| TokenError::Build {
                what: "token URL is not a request URI",
            })
    }
}

#[async_trait]
impl TokenSource for ClientCredentials {
    async fn fetch(&self, transport: &dyn HttpTransport) -> Result<AccessToken, TokenError> {
        let response = transport.execute(self.prepare_request()?).await?;
        parse_token_response(&response)
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// Reads an OAuth 2 token answer: `access_token`, `expires_in` (a number, or a string as
/// some issuers send it) and `token_type` (must be `Bearer` when present). An error status
/// becomes [`TokenError::Refused`] with the endpoint's `error` code; the description, which
/// may echo identifiers, is never kept.
///
/// # Errors
/// [`TokenError::Refused`] or [`TokenError::Decode`].
pub fn parse_token_response(response: &http::Response<Bytes>) -> Result<AccessToken, TokenError> {
    if !response.status().is_success() {
        return Err(TokenError::Refused {
            status: response.status().as_u16(),
            code: error_code(response.body()),
            retry_after: retry_after(response.headers(), chrono::Utc::now()),
        });
    }
    let body: TokenBody =
        serde_json::from_slice(response.body()).map_err(|_| TokenError::Decode {
            field: "access_token",
        })?;
    let value = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::Decode {
            field: "access_token",
        })?;
    if let Some(kind) = &body.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(TokenError::Decode {
            field: "token_type",
        });
    }
    let seconds = match body.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or(TokenError::Decode {
        field: "expires_in",
    })?;
    Ok(AccessToken::new(
        Secret::new(value),
        Duration::from_secs(seconds),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &'static str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(status)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn the_request_is_form_encoded_with_the_secret_escaped() {
        let url = entra_token_url(
            &Url::parse("https://login.microsoftonline.com").unwrap(),
            "botframework.com",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
        let grant = ClientCredentials::new(
            url,
            "app-1",
            Secret::new("pw&=x"),
            "https://api.botframework.com/.default",
        );
        let r = grant.prepare_request().unwrap();
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "grant_type=client_credentials&client_id=app-1&client_secret=pw%26%3Dx&scope=https%3A%2F%2Fapi.botframework.com%2F.default"
        );
        assert!(!format!("{grant:?}").contains("pw&=x"));
    }

    #[test]
    fn tenants_that_are_not_one_segment_are_refused() {
        let authority = Url::parse("https://login.example/").unwrap();
        assert!(entra_token_url(&authority, "a/b").is_err());
        assert!(entra_token_url(&authority, "").is_err());
        assert_eq!(
            entra_token_url(&authority, "t").unwrap().as_str(),
            "https://login.example/t/oauth2/v2.0/token"
        );
    }

    #[test]
    fn token_answers_in_each_form() {
        let t = parse_token_response(&response(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"abc"}"#,
        ))
        .unwrap();
        assert_eq!(t.value().secret(), "abc");
        assert_eq!(t.expires_in(), Duration::from_secs(3599));
        let t = parse_token_response(&response(200, r#"{"expires_in":"60","access_token":"x"}"#))
            .unwrap();
        assert_eq!(t.expires_in(), Duration::from_secs(60));
        for (bad, field) in [
            (r#"{"expires_in":60}"#, "access_token"),
            (r#"{"access_token":"x"}"#, "expires_in"),
            (
                r#"{"access_token":"x","expires_in":1,"token_type":"mac"}"#,
                "token_type",
            ),
            ("nope", "access_token"),
        ] {
            match parse_token_response(&response(200, bad)) {
                Err(TokenError::Decode { field: f }) => assert_eq!(f, field, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn refusals_keep_the_code_not_the_description() {
        let e = parse_token_response(&response(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: secret xyz"}"#,
        ))
        .unwrap_err();
        assert!(matches!(
            &e,
            TokenError::Refused { status: 401, code: Some(c), .. } if c == "invalid_client"
        ));
        assert!(!e.to_string().contains("xyz"));
    }
}
