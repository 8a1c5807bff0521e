//! The REST client: requests are built ([`TelesignClient::prepare_send`],
//! [`TelesignClient::prepare_status`]) and answers parsed ([`parse_response`]) in pure code;
//! an [`HttpTransport`] carries them ([`ReqwestTransport`] by default, or any closure).

#[cfg(test)]
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderValue, Method, Request, Response, header};
use serde::Deserialize;

use crate::auth::{self, DatePlacement, SigningInput};
use crate::codes;
use crate::config::{AuthScheme, TelesignConfig};
use crate::error::{ApiError, ClientError};
use crate::render::SendRequest;
#[cfg(feature = "reqwest")]
pub use crate::transport::ReqwestTransport;
pub use crate::transport::{
    HttpTransport, MAX_RESPONSE_BYTES, TransportError, TransportErrorKind, TransportFuture,
};

/// Path of the send endpoint.
pub const MESSAGING_RESOURCE: &str = "/v1/messaging";
/// `User-Agent` sent.
pub const USER_AGENT: &str = concat!("byoc-telesign/", env!("CARGO_PKG_VERSION"));

/// `status` of a TeleSign answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusInfo {
    /// `status.code` (int or numeric string on the wire).
    pub code: Option<i64>,
    /// `status.description`.
    pub description: Option<String>,
    /// `status.updated_on`, as sent.
    pub updated_on: Option<String>,
}

/// A successful answer of `POST /v1/messaging` or `GET /v1/messaging/{reference_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessagingResponse {
    /// The HTTP status (any 2xx).
    pub http_status: u16,
    /// `reference_id`.
    pub reference_id: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `status`.
    pub status: StatusInfo,
    /// `additional_info.message_parts_count`.
    pub message_parts_count: Option<u32>,
}

impl MessagingResponse {
    /// What `status.code` means for delivery.
    #[must_use]
    pub fn state(&self) -> codes::DeliveryState {
        self.status
            .code
            .map_or(codes::DeliveryState::Unknown, codes::DeliveryState::of_code)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient {
    Int(i64),
    Str(String),
}

impl Lenient {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Str(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize, Default)]
struct WireStatus {
    #[serde(default)]
    code: Option<Lenient>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    updated_on: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<Lenient>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct WireAdditional {
    #[serde(default)]
    message_parts_count: Option<Lenient>,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    reference_id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    status: Option<WireStatus>,
    #[serde(default)]
    errors: Option<Vec<WireError>>,
    #[serde(default)]
    additional_info: Option<WireAdditional>,
}

/// Parses an answer of the messaging endpoints. `now` resolves an HTTP-date `Retry-After`.
///
/// Any 2xx whose code is not an error code is a success; the code of `errors[0]`, else
/// `status.code`, is authoritative (an error code in a 2xx answer is an error).
///
/// # Errors
/// [`ClientError::Api`] for TeleSign errors, [`ClientError::InvalidResponse`] for a 2xx
/// answer that is not TeleSign's JSON.
pub fn parse_response(
    response: &Response<Bytes>,
    now: DateTime<Utc>,
) -> Result<MessagingResponse, ClientError> {
    let http_status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| byoc_core::error::parse_retry_after(v, now));
    let parsed: Result<WireResponse, _> = serde_json::from_slice(response.body());
    let wire = match parsed {
        Ok(w) => w,
        Err(e) if response.status().is_success() => {
            return Err(ClientError::InvalidResponse {
                http_status,
                reason: format!(
                    "{:?} at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            });
        }
        Err(_) => {
            return Err(ApiError {
                http_status,
                code: None,
                description: None,
                retry_after,
            }
            .into());
        }
    };
    let status = wire.status.unwrap_or_default();
    let status_code = status.code.as_ref().and_then(Lenient::as_i64);
    let first_error = wire.errors.as_ref().and_then(|e| e.first());
    let error_code = first_error
        .and_then(|e| e.code.as_ref())
        .and_then(Lenient::as_i64);
    let code = error_code.or(status_code);
    if !response.status().is_success() || code.is_some_and(codes::is_error_code) {
        let description = if error_code.is_some() {
            first_error.and_then(|e| e.description.clone())
        } else {
            status.description.clone()
        };
        return Err(ApiError {
            http_status,
            code,
            description,
            retry_after,
        }
        .into());
    }
    Ok(MessagingResponse {
        http_status,
        reference_id: wire.reference_id,
        external_id: wire.external_id,
        status: StatusInfo {
            code: status_code,
            description: status.description,
            updated_on: status.updated_on,
        },
        message_parts_count: wire
            .additional_info
            .and_then(|a| a.message_parts_count)
            .and_then(|c| c.as_i64())
            .and_then(|c| u32::try_from(c).ok()),
    })
}

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

/// TeleSign's messaging REST API.
#[derive(Clone)]
pub struct TelesignClient<T = DefaultTransport> {
    config: TelesignConfig,
    transport: T,
}

/// The transport [`TelesignClient::new`] uses.
#[cfg(feature = "reqwest")]
pub type DefaultTransport = ReqwestTransport;
/// The transport [`TelesignClient::new`] uses.
#[cfg(not(feature = "reqwest"))]
pub type DefaultTransport = fn(Request<Bytes>) -> TransportFuture;

impl<T> std::fmt::Debug for TelesignClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelesignClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "reqwest")]
impl TelesignClient<ReqwestTransport> {
    /// A client over reqwest with the configuration's timeout.
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`](crate::ConfigError::HttpClient).
    pub fn new(config: TelesignConfig) -> Result<Self, crate::error::ConfigError> {
        let transport = ReqwestTransport::new(config.timeout)?;
        Ok(Self { config, transport })
    }
}

impl<T: HttpTransport> TelesignClient<T> {
    /// A client over `transport`.
    #[must_use]
    pub fn with_transport(config: TelesignConfig, transport: T) -> Self {
        Self { config, transport }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TelesignConfig {
        &self.config
    }

    /// Builds an authenticated request (`form` as the body of a POST; `None` for a GET).
    /// `resource` is the path; `now` and `nonce` go into the signature.
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
        let invalid = || crate::error::RenderError::InvalidField {
            field: "resource",
            reason: "not a valid path",
        };
        let body = form.map(Bytes::from).unwrap_or_default();
        let content_type = if body.is_empty() && method == Method::GET {
            ""
        } else {
            auth::FORM_CONTENT_TYPE
        };
        let date = auth::http_date(now);
        let placement = match self.config.auth {
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
        let (authorization, method_header) = match self.config.auth {
            AuthScheme::Basic => (
                auth::basic_authorization(&self.config.customer_id, &self.config.api_key),
                auth::AUTH_METHOD_BASIC,
            ),
            _ => (
                auth::tsa_authorization(&self.config.customer_id, &self.config.api_key, &input),
                auth::AUTH_METHOD_HMAC_SHA256,
            ),
        };
        let uri = format!("{}{resource}", self.config.base_url);
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, "application/json")
            .header(auth::X_TS_AUTH_METHOD, method_header)
            .header(auth::X_TS_NONCE, nonce);
        builder = match placement {
            DatePlacement::XTsDate => builder.header(auth::X_TS_DATE, &date),
            _ => builder.header(header::DATE, &date),
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
            return Err(crate::error::RenderError::InvalidField {
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

    /// Sends an already built request and parses the answer.
    ///
    /// # Errors
    /// See [`parse_response`]; [`ClientError::Transport`] when no answer arrived.
    pub async fn execute(&self, request: Request<Bytes>) -> Result<MessagingResponse, ClientError> {
        let resp = self.transport.execute(request).await?;
        let parsed = parse_response(&resp, Utc::now());
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
    /// for about 12 hours; the lookup may be billed, so prefer callbacks.
    ///
    /// # Errors
    /// As [`TelesignClient::execute`]; an unknown id is [`ClientError::Api`] with 404 / 10017.
    pub async fn status(&self, reference_id: &str) -> Result<MessagingResponse, ClientError> {
        let req = self.prepare_status(reference_id, Utc::now(), &fresh_nonce())?;
        self.execute(req).await
    }

    /// Checks the credentials with TeleSign's documented probe: a status lookup of a random
    /// reference id. 404 means TeleSign authenticated us; 401 (or an auth error code) means
    /// the credentials are wrong.
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
            Err(ClientError::Api(e)) if e.http_status == 404 => Ok(CredentialCheck::Valid),
            Err(ClientError::Api(e)) if e.is_auth_failure() => {
                Ok(CredentialCheck::Invalid { code: e.code })
            }
            Err(e) => Err(e),
        }
    }
}

/// A fresh nonce: a random UUIDv4, as TeleSign's SDKs send.
#[must_use]
pub fn fresh_nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::PhoneNumber;

    const K1: &str =
        "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw==";
    const CID: &str = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2016-12-14T18:20:12Z")
            .unwrap()
            .to_utc()
    }

    fn unreachable_transport() -> impl HttpTransport {
        |_req: Request<Bytes>| -> TransportFuture {
            Box::pin(async { Err(TransportError::new(TransportErrorKind::Connection, None)) })
        }
    }

    fn client(auth: AuthScheme) -> TelesignClient<impl HttpTransport> {
        let config = TelesignConfig::new(CID, K1).unwrap().with_auth(auth);
        TelesignClient::with_transport(config, unreachable_transport())
    }

    fn send() -> SendRequest {
        SendRequest::new(
            PhoneNumber::parse("15555555555", "p").unwrap(),
            "Hello world",
        )
    }

    #[test]
    fn prepared_send_matches_the_messaging_vectors() {
        let nonce = "A1592C6F-E384-4CDB-BC42-C3AB970369E9";
        let req = client(AuthScheme::TsaDate)
            .prepare_send(&send(), now(), nonce)
            .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "https://rest-api.telesign.com/v1/messaging");
        let h = req.headers();
        assert_eq!(
            h["authorization"],
            format!("TSA {CID}:9IpITGrUZRLogL8GEe311Ovxv3gIipQvv7AJkD4PF8c=").as_str()
        );
        assert!(h["authorization"].is_sensitive());
        assert_eq!(h["date"], "Wed, 14 Dec 2016 18:20:12 GMT");
        assert_eq!(h["x-ts-nonce"], nonce);
        assert_eq!(h["x-ts-auth-method"], "HMAC-SHA256");
        assert_eq!(h["content-type"], "application/x-www-form-urlencoded");
        assert_eq!(
            &req.body()[..],
            b"phone_number=15555555555&message=Hello+world&message_type=ARN"
        );

        let req = client(AuthScheme::TsaXTsDate)
            .prepare_send(&send(), now(), nonce)
            .unwrap();
        assert_eq!(
            req.headers()["authorization"],
            format!("TSA {CID}:pFCuLD2MHfmIpT7xhKTmcu+hDASF4y2ahEwRAwGbCVk=").as_str()
        );
        assert_eq!(req.headers()["x-ts-date"], "Wed, 14 Dec 2016 18:20:12 GMT");
        assert!(req.headers().get("date").is_none());

        let req = client(AuthScheme::TsaDate)
            .prepare_status("0123456789ABCDEF0123456789ABCDEF", now(), nonce)
            .unwrap();
        assert_eq!(req.method(), Method::GET);
        assert!(req.headers().get("content-type").is_none());
        assert_eq!(
            req.headers()["authorization"],
            format!("TSA {CID}:ikIWVlV72ievEZcZbfwa9fDem81hquaV7VlxItRjGrc=").as_str()
        );

        let req = client(AuthScheme::Basic)
            .prepare_send(&send(), now(), nonce)
            .unwrap();
        assert!(
            req.headers()["authorization"]
                .to_str()
                .unwrap()
                .starts_with("Basic RkZG")
        );
        assert_eq!(req.headers()["x-ts-auth-method"], "Basic");
    }

    #[test]
    fn reference_ids_are_checked() {
        let c = client(AuthScheme::TsaDate);
        for bad in ["", "../x", "a b", &"A".repeat(65)] {
            assert!(
                matches!(
                    c.prepare_status(bad, now(), "n"),
                    Err(ClientError::Render(_))
                ),
                "{bad}"
            );
        }
    }

    fn resp(status: u16, body: &str, retry_after: Option<&str>) -> Response<Bytes> {
        let mut b = Response::builder().status(status);
        if let Some(r) = retry_after {
            b = b.header("retry-after", r);
        }
        b.body(Bytes::from(body.to_owned())).unwrap()
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../tests/fixtures/telesign/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_success_shapes() {
        let r =
            parse_response(&resp(200, &fixture("send-response-290.json"), None), now()).unwrap();
        assert_eq!(
            r.reference_id.as_deref(),
            Some("B60E4C92A18D0F3357E2A4C1D9F08E12")
        );
        assert_eq!(r.status.code, Some(290));
        assert_eq!(r.state(), codes::DeliveryState::Pending);
        let r = parse_response(
            &resp(201, &fixture("send-response-290-with-extras.json"), None),
            now(),
        )
        .unwrap();
        assert_eq!(
            (r.http_status, r.message_parts_count, r.external_id),
            (201, Some(1), None)
        );
        let r = parse_response(
            &resp(200, r#"{"reference_id":"A","status":{"code":"200"}}"#, None),
            now(),
        )
        .unwrap();
        assert_eq!(r.state(), codes::DeliveryState::Delivered);
    }

    #[test]
    fn parses_error_shapes() {
        let e = parse_response(
            &resp(401, &fixture("error-10008-invalid-signature.json"), None),
            now(),
        )
        .unwrap_err();
        let ClientError::Api(a) = e else { panic!() };
        assert_eq!(
            (a.http_status, a.code, a.description.as_deref()),
            (401, Some(10008), Some("Invalid Signature."))
        );
        let e = parse_response(
            &resp(400, &fixture("error-11000-invalid-phone-number.json"), None),
            now(),
        )
        .unwrap_err();
        let ClientError::Api(a) = e else { panic!() };
        assert_eq!((a.code, a.field()), (Some(11000), Some("phone_number")));
        // errors[0] wins over status, and an error code in a 2xx is an error.
        let body = r#"{"status":{"code":290},"errors":[{"code":"11009","description":"Invalid message"}]}"#;
        let ClientError::Api(a) = parse_response(&resp(200, body, None), now()).unwrap_err() else {
            panic!()
        };
        assert_eq!((a.http_status, a.code), (200, Some(11009)));
        // 429 with Retry-After, non-JSON 503.
        let body = r#"{"status":{"code":10019,"description":"Rate Limit Exceeded"}}"#;
        let ClientError::Api(a) = parse_response(&resp(429, body, Some("7")), now()).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(a.retry_after, Some(Duration::from_secs(7)));
        let ClientError::Api(a) =
            parse_response(&resp(503, "<html>down</html>", None), now()).unwrap_err()
        else {
            panic!()
        };
        assert_eq!((a.http_status, a.code), (503, None));
        let e = parse_response(&resp(200, "<html>", None), now()).unwrap_err();
        assert!(matches!(
            e,
            ClientError::InvalidResponse {
                http_status: 200,
                ..
            }
        ));
        assert!(!e.to_string().contains("html"));
    }

    #[tokio::test]
    async fn closure_transport_sees_the_request() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let s2 = seen.clone();
        let transport = move |req: Request<Bytes>| -> TransportFuture {
            *s2.lock().unwrap() = Some(req.uri().to_string());
            Box::pin(async {
                Ok(Response::builder()
                    .status(200)
                    .body(Bytes::from_static(br#"{"reference_id":"R1","status":{"code":290,"description":"Message in progress"}}"#))
                    .unwrap())
            })
        };
        let c = TelesignClient::with_transport(TelesignConfig::new(CID, K1).unwrap(), transport);
        let r = c.send(&send()).await.unwrap();
        assert_eq!(r.reference_id.as_deref(), Some("R1"));
        assert_eq!(
            seen.lock().unwrap().as_deref(),
            Some("https://rest-api.telesign.com/v1/messaging")
        );
        let e = client(AuthScheme::TsaDate).send(&send()).await.unwrap_err();
        assert!(matches!(e, ClientError::Transport(_)));
    }
}
