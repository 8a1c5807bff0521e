//! The Interaction Service REST client.
//!
//! Requests are built and answers parsed in pure code ([`prepare_json`],
//! [`prepare_interaction`], [`parse_json`]); the transport is the [`HttpTransport`] trait,
//! with reqwest as the default ([`ReqwestTransport`], redirects off). [`InteractionClient`]
//! adds the access-token cache: minted on first use, minted again after
//! [`Config::token_refresh_after`](crate::Config::token_refresh_after) and at once (then the
//! call retried once) when Salesforce answers 401 or error 10004.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::{AdapterError, Secret};
use bytes::Bytes;
use http::{HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::api::{
    Acknowledgement, AcknowledgementRequest, AgentWorkRequest, AgentWorkResponse, AgentWorkUpdate,
    CancelRouteRequest, ConsentRequest, ConversationRequest, ErrorBody, InteractionResponse,
    MessagingSessionRequest, Participant, ParticipantRequest, RouteRequest, RouteResponse,
    RoutingResultRequest, SuccessResponse,
};
use crate::auth::{AccessToken, AssertionSigner, parse_token_response, prepare_token_request};
use crate::config::Config;
use crate::error::ApiError;
use crate::render::RenderedInteraction;

/// Largest response body read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// At most this many acknowledgements per `/acknowledgement` call.
pub const MAX_ACKNOWLEDGEMENTS: usize = 25;
pub use transfer::{TRANSFER_DEADLINE, TRANSFER_REPORT_GRACE, TransferOutcome};

/// Sends one HTTP request. Implement it to use another HTTP stack.
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the whole answer.
    ///
    /// # Errors
    /// [`AdapterError::Transient`] for connection failures and timeouts.
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, AdapterError>;
}

/// The reqwest transport: rustls, no redirects, 30 s timeout, bodies capped at
/// [`MAX_RESPONSE_BYTES`].
#[cfg(feature = "reqwest")]
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(feature = "reqwest")]
impl ReqwestTransport {
    /// A transport with the defaults above.
    ///
    /// # Errors
    /// [`AdapterError::Configuration`] if the TLS backend cannot start.
    pub fn new() -> Result<Self, AdapterError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|_| AdapterError::configuration("cannot build the HTTP client"))?;
        Ok(Self { client })
    }
}

#[cfg(feature = "reqwest")]
#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, AdapterError> {
        let req = reqwest::Request::try_from(request.map(reqwest::Body::from))
            .map_err(|e| AdapterError::transport("cannot build the request", e))?;
        let mut resp = self.client.execute(req).await.map_err(|e| {
            AdapterError::transport("request to Salesforce failed", e.without_url())
        })?;
        let mut out = http::Response::builder().status(resp.status());
        if let Some(h) = out.headers_mut() {
            *h = std::mem::take(resp.headers_mut());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| AdapterError::transport("reading the answer failed", e.without_url()))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(AdapterError::transient("answer larger than 1 MiB"));
            }
            body.extend_from_slice(&chunk);
        }
        out.body(Bytes::from(body))
            .map_err(|e| AdapterError::transport("invalid answer", e))
    }
}

/// Headers of one Interaction Service call. Build it with [`CallContext::new`] (or
/// [`CallContext::for_config`]) to prepare a request without I/O:
///
/// ```
/// use byoc_core::Secret;
/// use byoc_core::{Activity, ChannelAccount};
/// use byoc_salesforce::client::{CallContext, prepare_interaction};
/// use byoc_salesforce::render::render_interaction;
///
/// let mut hello = Activity::message("Where is my order?");
/// hello.from = Some(ChannelAccount::new("15555550123"));
/// let rendered = render_interaction(&hello, "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e", 1_714_668_069_301)?;
/// let token = Secret::new("00D5g000004Zx1A!token");
/// let ctx = CallContext::new(&token, "00D5g000004Zx1A", "Partner_ChannelDefinition",
///                            "6f1c0d4e-2c7e-4d0a-9a55-0f2b6e3d9c11");
/// let request = prepare_interaction("https://mydomain.my.salesforce-scrt.com", &rendered, &ctx, "byoc-boundary")?;
/// assert_eq!(request.uri().path(), "/api/v1/interactions");
/// # Ok::<(), byoc_core::AdapterError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallContext<'a> {
    /// The `Authorization` bearer token.
    pub token: &'a Secret,
    /// `OrgId`.
    pub org_id: &'a str,
    /// `AuthorizationContext`: the CCD developer name.
    pub authorization_context: &'a str,
    /// `AuthorizationContextType`, on the paths that need it.
    pub authorization_context_type: Option<&'a str>,
    /// `RequestId`: a fresh UUID per request.
    pub request_id: &'a str,
}

impl<'a> CallContext<'a> {
    /// The headers of a call: bearer `token`, `OrgId`, `AuthorizationContext` (the CCD
    /// developer name) and `RequestId` (a fresh UUID per request); no
    /// `AuthorizationContextType` (see [`CallContext::with_authorization_context_type`]).
    #[must_use]
    pub fn new(
        token: &'a Secret,
        org_id: &'a str,
        authorization_context: &'a str,
        request_id: &'a str,
    ) -> Self {
        Self {
            token,
            org_id,
            authorization_context,
            authorization_context_type: None,
            request_id,
        }
    }

    /// The headers of a call for `config`'s org and channel definition.
    #[must_use]
    pub fn for_config(config: &'a Config, token: &'a Secret, request_id: &'a str) -> Self {
        Self::new(
            token,
            &config.org_id,
            &config.channel.developer_name,
            request_id,
        )
    }

    /// Sets `AuthorizationContextType` (`ConversationChannelDefinition`, ...), which
    /// `PATCH /agentWork` and the conversation history and entry APIs require.
    #[must_use]
    pub fn with_authorization_context_type(mut self, context_type: &'a str) -> Self {
        self.authorization_context_type = Some(context_type);
        self
    }
}

fn header(v: &str) -> Result<HeaderValue, AdapterError> {
    HeaderValue::from_str(v).map_err(|_| AdapterError::configuration("a header value is not valid"))
}

fn base_request(
    method: Method,
    url: &str,
    ctx: &CallContext<'_>,
    content_type: &str,
    body: Bytes,
) -> Result<http::Request<Bytes>, AdapterError> {
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = url
        .parse()
        .map_err(|_| AdapterError::configuration("scrt_url is not a valid URL"))?;
    let h = req.headers_mut();
    let mut auth = header(&format!("Bearer {}", ctx.token.secret()))?;
    auth.set_sensitive(true);
    h.insert(http::header::AUTHORIZATION, auth);
    h.insert("OrgId", header(ctx.org_id)?);
    h.insert("AuthorizationContext", header(ctx.authorization_context)?);
    h.insert("RequestId", header(ctx.request_id)?);
    if let Some(t) = ctx.authorization_context_type {
        h.insert("AuthorizationContextType", header(t)?);
    }
    h.insert(http::header::CONTENT_TYPE, header(content_type)?);
    h.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    Ok(req)
}

/// Builds a JSON call to `{scrt_url}/api/v1{path}` (a body on `DELETE` too).
///
/// # Errors
/// [`AdapterError::Configuration`] for a bad URL or header value.
pub fn prepare_json<T: Serialize + ?Sized>(
    method: Method,
    scrt_url: &str,
    path: &str,
    body: &T,
    ctx: &CallContext<'_>,
) -> Result<http::Request<Bytes>, AdapterError> {
    let body = serde_json::to_vec(body)
        .map_err(|_| AdapterError::malformed("the request body cannot be serialized"))?;
    base_request(
        method,
        &format!("{scrt_url}/api/v1{path}"),
        ctx,
        "application/json",
        Bytes::from(body),
    )
}

/// Builds `POST /api/v1/interactions`: `multipart/form-data` with the `json` part
/// (`application/json`) and at most one `attachments` file part. `boundary` must not occur
/// in the content (a fresh UUID does not).
///
/// # Errors
/// [`AdapterError::Configuration`] for a bad URL or header value.
pub fn prepare_interaction(
    scrt_url: &str,
    rendered: &RenderedInteraction,
    ctx: &CallContext<'_>,
    boundary: &str,
) -> Result<http::Request<Bytes>, AdapterError> {
    let json = serde_json::to_vec(&rendered.request)
        .map_err(|_| AdapterError::malformed("the interaction cannot be serialized"))?;
    let mut body = Vec::with_capacity(json.len() + 256);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(b"Content-Disposition: form-data; name=\"json\"\r\n");
    body.extend_from_slice(b"Content-Type: application/json\r\n\r\n");
    body.extend_from_slice(&json);
    body.extend_from_slice(b"\r\n");
    if let Some(file) = &rendered.attachment {
        let name: String = file
            .name
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(format!("Content-Type: {}\r\n\r\n", file.mime_type).as_bytes());
        body.extend_from_slice(&file.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    base_request(
        Method::POST,
        &format!("{scrt_url}/api/v1/interactions"),
        ctx,
        &format!("multipart/form-data; boundary={boundary}"),
        Bytes::from(body),
    )
}

/// Parses an Interaction Service answer: a 2xx body as `T`, anything else as [`ApiError`]
/// (`{code, message}`, `Retry-After` kept).
///
/// # Errors
/// [`ApiError`] for a failed call or a 2xx body that is not `T`.
pub fn parse_json<T: DeserializeOwned>(resp: &http::Response<Bytes>) -> Result<T, ApiError> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| byoc_core::error::parse_retry_after(v, chrono::Utc::now()));
    if resp.status().is_success() {
        let body: &[u8] = if resp.body().is_empty() {
            b"{}"
        } else {
            resp.body()
        };
        return serde_json::from_slice(body).map_err(|_| ApiError {
            status,
            code: None,
            message: "the answer is not the documented JSON".into(),
            retry_after: None,
        });
    }
    let parsed = serde_json::from_slice::<ErrorBody>(resp.body()).ok();
    let code = parsed.as_ref().and_then(|b| b.code);
    let message = parsed
        .and_then(|b| b.message)
        .map(|m| m.chars().take(300).collect())
        .unwrap_or_else(|| {
            resp.status()
                .canonical_reason()
                .unwrap_or("error")
                .to_owned()
        });
    Err(ApiError {
        status,
        code,
        message,
        retry_after,
    })
}

struct CachedToken {
    token: AccessToken,
    minted: Instant,
}

/// The Interaction Service client with its token cache. Cheap to share (`Arc`).
pub struct InteractionClient {
    config: Arc<Config>,
    signer: AssertionSigner,
    transport: Arc<dyn HttpTransport>,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl fmt::Debug for InteractionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractionClient")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl InteractionClient {
    /// A client over `transport`.
    ///
    /// # Errors
    /// [`AdapterError::Configuration`] for an invalid configuration or private key.
    pub fn new(config: Config, transport: Arc<dyn HttpTransport>) -> Result<Self, AdapterError> {
        config.validate()?;
        let signer = AssertionSigner::from_pem(&config.credentials.private_key_pem)?;
        Ok(Self {
            config: Arc::new(config),
            signer,
            transport,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A client over reqwest.
    ///
    /// # Errors
    /// As [`InteractionClient::new`].
    #[cfg(feature = "reqwest")]
    pub fn with_reqwest(config: Config) -> Result<Self, AdapterError> {
        Self::new(config, Arc::new(ReqwestTransport::new()?))
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The access token, minted when there is none or it is older than the refresh interval.
    ///
    /// # Errors
    /// [`AdapterError`] from the token endpoint.
    pub async fn access_token(&self) -> Result<AccessToken, AdapterError> {
        let mut guard = self.token.lock().await;
        if let Some(c) = guard
            .as_ref()
            .filter(|c| c.minted.elapsed() < self.config.token_refresh_after)
        {
            return Ok(c.token.clone());
        }
        let req = prepare_token_request(
            &self.signer,
            &self.config.credentials,
            chrono::Utc::now().timestamp(),
        )?;
        let resp = self.transport.execute(req).await?;
        let token = parse_token_response(&resp)?;
        tracing::debug!("minted a Salesforce access token");
        *guard = Some(CachedToken {
            token: token.clone(),
            minted: Instant::now(),
        });
        Ok(token)
    }

    /// Forgets the cached token, so the next call mints a new one.
    pub async fn invalidate_token(&self) {
        *self.token.lock().await = None;
    }

    async fn call<T: DeserializeOwned>(
        &self,
        build: impl Fn(&CallContext<'_>) -> Result<http::Request<Bytes>, AdapterError>,
        context_type: Option<&str>,
    ) -> Result<T, AdapterError> {
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let request_id = uuid::Uuid::new_v4().to_string();
            let mut ctx = CallContext::for_config(&self.config, &token.token, &request_id);
            ctx.authorization_context_type = context_type;
            let req = build(&ctx)?;
            let path = req.uri().path().to_owned();
            let resp = self.transport.execute(req).await?;
            match parse_json::<T>(&resp) {
                Ok(v) => return Ok(v),
                Err(e) if e.is_token_rejected() && !retried => {
                    tracing::info!(%path, code = ?e.code, "access token rejected; minting a new one");
                    self.invalidate_token().await;
                    retried = true;
                }
                Err(e) => {
                    tracing::warn!(%path, status = e.status, code = ?e.code, "interaction service call failed");
                    return Err(e.into());
                }
            }
        }
    }

    async fn json<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
        context_type: Option<&str>,
    ) -> Result<T, AdapterError> {
        let url = self.config.scrt_url.clone();
        self.call(
            |ctx| prepare_json(method.clone(), &url, path, body, ctx),
            context_type,
        )
        .await
    }

    /// `POST /interactions`.
    ///
    /// # Errors
    /// [`AdapterError`] by the service's error code.
    pub async fn send_interaction(
        &self,
        rendered: &RenderedInteraction,
    ) -> Result<InteractionResponse, AdapterError> {
        let url = self.config.scrt_url.clone();
        let boundary = format!("byoc-{}", uuid::Uuid::new_v4().simple());
        self.call(
            |ctx| prepare_interaction(&url, rendered, ctx, &boundary),
            None,
        )
        .await
    }

    /// `POST /interactions` with a file the host downloaded (an `AttachmentInteraction`
    /// from `end_user`, with an optional caption).
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn send_file(
        &self,
        end_user: &str,
        file: crate::render::AttachmentFile,
        caption: Option<String>,
    ) -> Result<InteractionResponse, AdapterError> {
        let rendered = RenderedInteraction {
            request: crate::api::InteractionRequest {
                to: self.config.channel_address.clone(),
                from: end_user.to_owned(),
                interactions: vec![crate::api::Interaction::Attachment {
                    timestamp: chrono::Utc::now().timestamp_millis(),
                    id: uuid::Uuid::new_v4().to_string(),
                    attachment_index: 0,
                    content_length: file.data.len() as u64,
                    text: caption,
                }],
                routing_attributes: None,
            },
            attachment: Some(file),
        };
        self.send_interaction(&rendered).await
    }

    /// `POST /acknowledgement`: delivery or read receipts of outbound entries (at most 25).
    ///
    /// # Errors
    /// [`AdapterError::BadRequest`] for more than 25; otherwise by the service's code.
    pub async fn acknowledge(
        &self,
        end_user: &str,
        conversation_identifier: &str,
        acknowledgements: Vec<Acknowledgement>,
    ) -> Result<SuccessResponse, AdapterError> {
        if acknowledgements.is_empty() || acknowledgements.len() > MAX_ACKNOWLEDGEMENTS {
            return Err(AdapterError::bad_request(
                "acknowledgements",
                "between 1 and 25 acknowledgements per call",
            ));
        }
        let body = AcknowledgementRequest {
            sender: Participant::end_user(end_user),
            conversation_identifier: conversation_identifier.to_owned(),
            acknowledgements,
        };
        self.json(Method::POST, "/acknowledgement", &body, None)
            .await
    }

    /// `POST /conversation`: establish a conversation without a message.
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn create_conversation(
        &self,
        end_user: &str,
        routing_attributes: Option<std::collections::BTreeMap<String, String>>,
    ) -> Result<InteractionResponse, AdapterError> {
        let body = ConversationRequest {
            channel_address_identifier: self.config.channel_address.clone(),
            participants: vec![Participant::end_user(end_user)],
            routing_attributes,
        };
        self.json(Method::POST, "/conversation", &body, None).await
    }

    /// `POST /messagingSession` with `operation: End`, `operationBy: EndUser`.
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn end_session(
        &self,
        end_user: &str,
        conversation_identifier: &str,
    ) -> Result<SuccessResponse, AdapterError> {
        let body = MessagingSessionRequest {
            channel_address_identifier: self.config.channel_address.clone(),
            end_user_client_id: end_user.to_owned(),
            conversation_identifier: conversation_identifier.to_owned(),
            operation: "End".into(),
            operation_by: "EndUser".into(),
            session_id: None,
        };
        self.json(Method::POST, "/messagingSession", &body, None)
            .await
    }

    /// `POST /participant` removing one participant.
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn remove_participant(
        &self,
        conversation_identifier: &str,
        participant: Participant,
    ) -> Result<SuccessResponse, AdapterError> {
        let body = ParticipantRequest {
            conversation_identifier: conversation_identifier.to_owned(),
            operation: "Remove".into(),
            participants: vec![participant],
        };
        self.json(Method::POST, "/participant", &body, None).await
    }

    /// `PATCH /consent`.
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn update_consent(
        &self,
        end_user: &str,
        consent_status: &str,
    ) -> Result<SuccessResponse, AdapterError> {
        let body = ConsentRequest {
            end_user_client_id: end_user.to_owned(),
            channel_address_identifier: self.config.channel_address.clone(),
            consent_status: consent_status.to_owned(),
        };
        self.json(Method::PATCH, "/consent", &body, None).await
    }

    /// `PATCH /capabilities`: registers the message types this integration supports (the
    /// body as the API documents it).
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn register_capabilities(
        &self,
        capabilities: &serde_json::Value,
    ) -> Result<SuccessResponse, AdapterError> {
        self.json(Method::PATCH, "/capabilities", capabilities, None)
            .await
    }

    /// `POST /route`: ask Omni-Channel to route.
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn route(&self, body: &RouteRequest) -> Result<RouteResponse, AdapterError> {
        self.json(Method::POST, "/route", body, None).await
    }

    /// `DELETE /route` (a JSON body on DELETE).
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn cancel_route(
        &self,
        conversation_identifier: &str,
        cancel_reason: &str,
    ) -> Result<SuccessResponse, AdapterError> {
        let body = CancelRouteRequest {
            conversation_identifier: conversation_identifier.to_owned(),
            cancel_reason: cancel_reason.to_owned(),
        };
        self.json(Method::DELETE, "/route", &body, None).await
    }

    /// `POST /agentWork`: assign the work to a user the partner chose.
    ///
    /// # Errors
    /// [`AdapterError::BadRequest`] when both capacity forms are set; otherwise by code.
    pub async fn create_agent_work(
        &self,
        body: &AgentWorkRequest,
    ) -> Result<AgentWorkResponse, AdapterError> {
        if body.capacity_weight.is_some() && body.capacity_percentage.is_some() {
            return Err(AdapterError::bad_request(
                "capacityPercentage",
                "use capacityWeight or capacityPercentage, not both",
            ));
        }
        self.json(Method::POST, "/agentWork", body, None).await
    }

    /// `PATCH /agentWork` (close, accept, decline, cancel).
    ///
    /// # Errors
    /// By the service's error code.
    pub async fn update_agent_work(
        &self,
        body: &AgentWorkUpdate,
    ) -> Result<SuccessResponse, AdapterError> {
        self.json(
            Method::PATCH,
            "/agentWork",
            body,
            Some("ConversationChannelDefinition"),
        )
        .await
    }

    /// `POST /routingResult`.
    ///
    /// # Errors
    /// [`AdapterError::BadRequest`] when `error_message` is set on success or missing on
    /// failure; otherwise by the service's code.
    pub async fn routing_result(
        &self,
        body: &RoutingResultRequest,
    ) -> Result<SuccessResponse, AdapterError> {
        if body.success == body.error_message.is_some() {
            return Err(AdapterError::bad_request(
                "errorMessage",
                "errorMessage is required exactly when success is false",
            ));
        }
        self.json(Method::POST, "/routingResult", body, None).await
    }
}

mod transfer;

#[cfg(test)]
mod tests;
