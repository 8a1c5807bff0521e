//! [`TelesignClient`], TeleSign's messaging REST API: requests are built
//! ([`TelesignClient::prepare_send`], [`TelesignClient::prepare_status`]) and answers parsed
//! ([`parse_send_response`], [`parse_status_response`]) in pure code; a
//! [`byoc_http::HttpTransport`] carries them (reqwest by default, or any closure).

use std::sync::Arc;

use byoc_http::HttpTransport;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderValue, Method, Request, header};

use crate::config::{AuthScheme, TelesignConfig};
use crate::error::{ClientError, ConfigError, RenderError};
use crate::render::SendRequest;

mod response;
mod signing;

use response::{ENDPOINT_SEND, ENDPOINT_STATUS};
pub use response::{MessageStatus, MessagingResponse, parse_send_response, parse_status_response};
use signing::{DatePlacement, SigningInput};

/// Path of the send endpoint.
const MESSAGING_RESOURCE: &str = "/v1/messaging";
/// `User-Agent` sent.
const USER_AGENT: &str = concat!("byoc-telesign/", env!("CARGO_PKG_VERSION"));

/// Result of [`TelesignClient::check_credentials`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialCheck {
    /// TeleSign authenticated the request (it answered 404 for the random reference id).
    Valid,
    /// TeleSign refused the credentials, with its code.
    Invalid {
        /// The TeleSign code (10008, 10013, 10015, ...).
        code: Option<i64>,
    },
}

/// TeleSign's messaging REST API: send an SMS, look up its status, check the credentials.
#[derive(Clone)]
pub struct TelesignClient {
    config: TelesignConfig,
    transport: Arc<dyn HttpTransport>,
}

impl std::fmt::Debug for TelesignClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelesignClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TelesignClient {
    /// A client over reqwest, with the configuration's timeout, response cap and root CAs
    /// (redirects never followed, rustls).
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built (a root CA that is
    /// not a PEM certificate).
    #[cfg(feature = "reqwest")]
    pub fn new(config: TelesignConfig) -> Result<Self, ConfigError> {
        let mut builder = byoc_http::ReqwestTransport::builder()
            .timeout(config.timeout())
            .max_response_bytes(config.max_response_bytes())
            .user_agent(USER_AGENT);
        for ca in config.root_cas() {
            builder = builder.add_root_ca(ca.clone());
        }
        let transport = builder.build().map_err(|e| ConfigError::HttpClient {
            reason: e.to_string(),
        })?;
        Self::with_transport(config, Arc::new(transport))
    }

    /// A client over `transport` (any [`HttpTransport`]; a closure works). The
    /// configuration's timeout, response cap and root CAs are the transport's business.
    ///
    /// # Errors
    /// None today; the `Result` keeps the constructors of every byoc client alike.
    pub fn with_transport(
        config: TelesignConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        Ok(Self { config, transport })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TelesignConfig {
        &self.config
    }

    /// Builds an authenticated request: `form` as the body of a POST (`None` for a GET),
    /// `resource` the path; `now` and `nonce` (a fresh UUIDv4 per request: TeleSign refuses
    /// a nonce it saw recently) go into the signature.
    ///
    /// # Errors
    /// [`ClientError::Render`] when the resource is not a valid path.
    pub fn prepare(
        &self,
        method: Method,
        resource: &str,
        form: Option<String>,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<Request<Bytes>, ClientError> {
        let invalid = || RenderError::InvalidField {
            field: "resource",
            reason: "not a valid path",
        };
        let body = form.map(Bytes::from).unwrap_or_default();
        let content_type = if body.is_empty() && method == Method::GET {
            ""
        } else {
            signing::FORM_CONTENT_TYPE
        };
        let date = signing::http_date(now);
        let placement = match self.config.auth() {
            AuthScheme::TsaXTsDate => DatePlacement::XTsDate,
            _ => DatePlacement::Date,
        };
        let input = SigningInput {
            method: method.as_str(),
            content_type,
            date: &date,
            placement,
            nonce,
            body: &body,
            resource,
        };
        let customer_id = self.config.customer_id();
        let key = self.config.api_key();
        let (authorization, method_header) = match self.config.auth() {
            AuthScheme::Basic => (
                signing::basic_authorization(customer_id, key),
                signing::AUTH_METHOD_BASIC,
            ),
            _ => (
                signing::tsa_authorization(customer_id, key, &input),
                signing::AUTH_METHOD_HMAC_SHA256,
            ),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(self.config.url_of(resource))
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, "application/json")
            .header(signing::X_TS_AUTH_METHOD, method_header)
            .header(signing::X_TS_NONCE, nonce);
        builder = match placement {
            DatePlacement::XTsDate => builder.header(signing::X_TS_DATE, &date),
            DatePlacement::Date => builder.header(header::DATE, &date),
        };
        if !content_type.is_empty() {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        let mut auth_value = HeaderValue::from_str(&authorization).map_err(|_| invalid())?;
        auth_value.set_sensitive(true);
        builder = builder.header(header::AUTHORIZATION, auth_value);
        builder.body(body).map_err(|_| invalid().into())
    }

    /// Builds `POST /v1/messaging` for `send`.
    ///
    /// # Errors
    /// As [`TelesignClient::prepare`].
    pub fn prepare_send(
        &self,
        send: &SendRequest,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<Request<Bytes>, ClientError> {
        self.prepare(
            Method::POST,
            MESSAGING_RESOURCE,
            Some(send.to_form()),
            now,
            nonce,
        )
    }

    /// Builds `GET /v1/messaging/{reference_id}`.
    ///
    /// # Errors
    /// [`ClientError::Render`] when `reference_id` is not 1 to 64 ASCII letters and digits.
    pub fn prepare_status(
        &self,
        reference_id: &str,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<Request<Bytes>, ClientError> {
        if reference_id.is_empty()
            || reference_id.len() > 64
            || !reference_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(RenderError::InvalidField {
                field: "reference_id",
                reason: "must be 1 to 64 ASCII letters and digits",
            }
            .into());
        }
        self.prepare(
            Method::GET,
            &format!("{MESSAGING_RESOURCE}/{reference_id}"),
            None,
            now,
            nonce,
        )
    }

    /// Sends an already built request and parses the answer: a `GET` as a status lookup,
    /// anything else as a send.
    ///
    /// # Errors
    /// See [`parse_send_response`]; [`ClientError::Transport`] when no answer arrived.
    pub async fn execute(&self, request: Request<Bytes>) -> Result<MessagingResponse, ClientError> {
        let endpoint = if request.method() == Method::GET {
            ENDPOINT_STATUS
        } else {
            ENDPOINT_SEND
        };
        let answer = self
            .transport
            .execute(request)
            .await
            .map_err(|source| ClientError::Transport { endpoint, source })?;
        let parsed = response::parse(endpoint, &answer, Utc::now());
        if let Err(e) = &parsed {
            tracing::debug!(error = %e, "TeleSign request failed");
        }
        parsed
    }

    /// Sends one SMS (`POST /v1/messaging`), signed now with a fresh nonce.
    ///
    /// # Errors
    /// As [`TelesignClient::execute`].
    pub async fn send(&self, send: &SendRequest) -> Result<MessagingResponse, ClientError> {
        let req = self.prepare_send(send, Utc::now(), &fresh_nonce())?;
        self.execute(req).await
    }

    /// Looks up a message's status (`GET /v1/messaging/{reference_id}`). TeleSign keeps it
    /// for about 12 hours; the lookup may be billed, so prefer delivery reports.
    ///
    /// # Errors
    /// As [`TelesignClient::execute`]; an unknown id is [`ClientError::Status`] with 404 /
    /// code 10017.
    pub async fn status(&self, reference_id: &str) -> Result<MessagingResponse, ClientError> {
        let req = self.prepare_status(reference_id, Utc::now(), &fresh_nonce())?;
        self.execute(req).await
    }

    /// Checks the credentials by looking up a random reference id
    /// (`docs/protocols/telesign.md#credential-check`): 404 means TeleSign authenticated
    /// the request; 401 (or an authentication code) means the credentials are wrong.
    ///
    /// # Errors
    /// Any other failure (transport, 5xx, rate limit).
    pub async fn check_credentials(&self) -> Result<CredentialCheck, ClientError> {
        let random = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .to_ascii_uppercase();
        match self.status(&random).await {
            Ok(_) => Ok(CredentialCheck::Valid),
            Err(e) if e.status() == Some(404) => Ok(CredentialCheck::Valid),
            Err(e) if e.is_auth_failure() => Ok(CredentialCheck::Invalid {
                code: e.telesign_code(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// A fresh nonce: a random UUIDv4, as TeleSign's SDKs send.
fn fresh_nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests;
