//! The OAuth 2.0 JWT bearer flow, in pure code: mint the RS256 assertion, build the token
//! request, parse the token response. The [`crate::client`] caches the token.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use rsa::pkcs1v15::SigningKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde::{Deserialize, Serialize};

use crate::config::Credentials;
use crate::error::AuthError;
use byoc_core::Secret;

/// How far ahead the assertion's `exp` is set, in seconds: Salesforce accepts at most 3
/// minutes.
pub const ASSERTION_LIFETIME_SECS: i64 = 180;

/// The grant type of the JWT bearer flow.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The fixed JOSE header, `{"alg":"RS256","typ":"JWT"}`.
const HEADER: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

/// A parsed RSA signing key (parsing once; signing many times).
#[derive(Clone)]
pub struct AssertionSigner {
    key: SigningKey<Sha256>,
}

impl fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AssertionSigner([redacted])")
    }
}

impl AssertionSigner {
    /// Parses a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    ///
    /// # Errors
    /// [`AuthError::InvalidPrivateKey`].
    pub fn from_pem(pem: &Secret) -> Result<Self, AuthError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        let text = pem.secret().trim();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(text))
            .map_err(|_| AuthError::InvalidPrivateKey)?;
        Ok(Self {
            key: SigningKey::<Sha256>::new(key),
        })
    }

    /// Mints the assertion: `iss` = consumer key, `sub` = username, `aud` = login host,
    /// `exp` = `now_unix_secs` + [`ASSERTION_LIFETIME_SECS`] (seconds, not milliseconds).
    ///
    /// # Errors
    /// [`AuthError::Signing`].
    pub fn assertion(&self, creds: &Credentials, now_unix_secs: i64) -> Result<Secret, AuthError> {
        let claims = Claims {
            iss: &creds.consumer_key,
            sub: &creds.username,
            aud: &creds.audience,
            exp: now_unix_secs + ASSERTION_LIFETIME_SECS,
        };
        let claims = serde_json::to_vec(&claims).map_err(|_| AuthError::Signing)?;
        let mut jwt = URL_SAFE_NO_PAD.encode(HEADER);
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let sig = self
            .key
            .try_sign(jwt.as_bytes())
            .map_err(|_| AuthError::Signing)?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(sig.to_bytes()));
        Ok(Secret::new(jwt))
    }
}

/// An access token and where it is valid.
#[derive(Clone)]
#[non_exhaustive]
pub struct AccessToken {
    /// The bearer token (opaque; `<orgId>!<token>` or a JWT).
    pub token: Secret,
    /// `instance_url` of the token response.
    pub instance_url: String,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.token)
            .field("instance_url", &self.instance_url)
            .finish()
    }
}

/// Builds the token request: `POST {token_url}`, form body
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`.
///
/// # Errors
/// [`AuthError::Signing`] when signing fails.
pub fn prepare_token_request(
    signer: &AssertionSigner,
    creds: &Credentials,
    now_unix_secs: i64,
) -> Result<http::Request<Bytes>, AuthError> {
    let assertion = signer.assertion(creds, now_unix_secs)?;
    let body = serde_urlencoded_pair(assertion.secret());
    let mut req = http::Request::new(Bytes::from(body));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = creds.token_url.parse().map_err(|_| AuthError::Signing)?;
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req.headers_mut().insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(req)
}

fn serde_urlencoded_pair(assertion: &str) -> String {
    // The grant type and a JWT (base64url and dots) need no percent-encoding except ':'.
    let grant = JWT_BEARER_GRANT.replace(':', "%3A");
    format!("grant_type={grant}&assertion={assertion}")
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    instance_url: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: Option<String>,
}

/// Parses the token endpoint's answer.
///
/// # Errors
/// [`AuthError::Refused`] for a 4xx OAuth error, [`AuthError::Unavailable`] for 429/5xx,
/// [`AuthError::MalformedResponse`] when the body is not a token response.
pub fn parse_token_response(resp: &http::Response<Bytes>) -> Result<AccessToken, AuthError> {
    let status = resp.status().as_u16();
    if status == 429 || status >= 500 {
        return Err(AuthError::Unavailable { status });
    }
    if !resp.status().is_success() {
        let error = serde_json::from_slice::<TokenErrorResponse>(resp.body())
            .ok()
            .and_then(|e| e.error)
            .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or_else(|| "unknown_error".to_owned());
        return Err(AuthError::Refused { status, error });
    }
    let parsed: TokenResponse = serde_json::from_slice(resp.body())
        .map_err(|_| AuthError::MalformedResponse { field: "$" })?;
    let token =
        parsed
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::MalformedResponse {
                field: "access_token",
            })?;
    Ok(AccessToken {
        token: Secret::new(token),
        instance_url: parsed.instance_url.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test key pair shipped with the crate (never a real org's key).
    pub(crate) const TEST_KEY: &str = include_str!("../tests/keys/test-key.pem");
    const KAT: &str = include_str!("../tests/keys/kat-jwt.txt");

    fn creds() -> Credentials {
        Credentials::new(
            "3MVG9byoc.test.consumer.key",
            "integration@byoc.example",
            Secret::new(TEST_KEY),
        )
    }

    #[test]
    fn assertion_matches_the_openssl_known_answer() {
        // The vector was produced with `openssl dgst -sha256 -sign` over the same header and
        // claims; RS256 (PKCS#1 v1.5) is deterministic.
        let signer = AssertionSigner::from_pem(&Secret::new(TEST_KEY)).unwrap();
        let jwt = signer.assertion(&creds(), 1_714_668_000).unwrap();
        assert_eq!(jwt.secret(), KAT.trim());
    }

    #[test]
    fn claims_use_seconds_and_three_minutes() {
        let signer = AssertionSigner::from_pem(&Secret::new(TEST_KEY)).unwrap();
        let jwt = signer.assertion(&creds(), 1_000).unwrap();
        let claims = jwt.secret().split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["exp"], 1_180);
        assert_eq!(claims["aud"], "https://login.salesforce.com");
    }

    #[test]
    fn bad_keys_are_rejected() {
        for pem in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "x",
        ] {
            assert!(matches!(
                AssertionSigner::from_pem(&Secret::new(pem)),
                Err(AuthError::InvalidPrivateKey)
            ));
        }
        let signer = AssertionSigner::from_pem(&Secret::new(TEST_KEY)).unwrap();
        assert_eq!(format!("{signer:?}"), "AssertionSigner([redacted])");
    }

    #[test]
    fn token_request_shape() {
        let signer = AssertionSigner::from_pem(&Secret::new(TEST_KEY)).unwrap();
        let req = prepare_token_request(&signer, &creds(), 1_714_668_000).unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(
            req.uri(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        let body = std::str::from_utf8(req.body()).unwrap();
        assert!(body.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJ"
        ));
    }

    fn resp(status: u16, body: &str) -> http::Response<Bytes> {
        let mut r = http::Response::new(Bytes::from(body.to_owned()));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        r
    }

    #[test]
    fn token_responses() {
        let t = parse_token_response(&resp(
            200,
            r#"{"access_token":"00D!abc","instance_url":"https://x.my.salesforce.com","token_type":"Bearer"}"#,
        ))
        .unwrap();
        assert_eq!(t.token.secret(), "00D!abc");
        assert!(!format!("{t:?}").contains("abc"));
        assert!(matches!(
            parse_token_response(&resp(400, r#"{"error":"invalid_grant","error_description":"expired"}"#)),
            Err(AuthError::Refused { status: 400, ref error }) if error == "invalid_grant"
        ));
        assert!(matches!(
            parse_token_response(&resp(503, "")),
            Err(AuthError::Unavailable { status: 503 })
        ));
        assert!(matches!(
            parse_token_response(&resp(200, "<html>")),
            Err(AuthError::MalformedResponse { field: "$" })
        ));
        assert!(matches!(
            parse_token_response(&resp(200, r#"{"access_token":""}"#)),
            Err(AuthError::MalformedResponse {
                field: "access_token"
            })
        ));
    }
}
