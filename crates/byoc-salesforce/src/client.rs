//! [`SalesforceClient`]: every Interaction Service REST call, through the byoc-http
//! transport, with the JWT bearer token cache and one re-authentication when the service
//! rejects the token (HTTP 401, codes 10004 and 10003).
//!
//! Requests are built and answers read in pure code (`request`); the token comes from
//! [`JwtBearer`] through [`byoc_http::Authorized`]; the transfer sequence lives in
//! `transfer`.

mod api;
mod jwt_bearer;
mod request;
mod transfer;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use byoc_core::Secret;
use byoc_http::{Authorized, HttpTransport, TokenError, TransportError};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use api::{
    Acknowledgement, AcknowledgementType, AgentWorkRequest, AgentWorkResponse, AgentWorkUpdate,
    FlowRouting, InteractionResponse, Participant, RouteRequest, RouteResponse, RoutingContext,
    RoutingInfo, RoutingResultRequest, RoutingType, SuccessResponse,
};
pub(crate) use api::{
    AcknowledgementRequest, CancelRouteRequest, ConsentRequest, ConversationRequest,
    MessagingSessionRequest, ParticipantRequest,
};
pub use jwt_bearer::JwtBearer;
pub use request::{CallContext, Endpoint, parse_response, prepare_interaction, prepare_json};
pub use transfer::{TRANSFER_DEADLINE, TRANSFER_REPORT_GRACE, TransferOutcome};

use crate::config::SalesforceConfig;
use crate::error::{ClientError, ConfigError, is_token_code};
use crate::render::{AttachmentFile, Interaction, InteractionRequest, RenderedInteraction};

/// At most this many acknowledgements per `/acknowledgement` call.
pub const MAX_ACKNOWLEDGEMENTS: usize = 25;

/// Whether an answer says the access token is rejected: HTTP 401, or error code 10004 (not
/// valid) or 10003 (missing scope) whatever the status.
fn token_rejected(response: &http::Response<Bytes>) -> bool {
    response.status() == http::StatusCode::UNAUTHORIZED
        || (!response.status().is_success()
            && byoc_http::error_code(response.body())
                .and_then(|c| c.parse().ok())
                .is_some_and(is_token_code))
}

/// Why one call failed, before the endpoint is attached.
enum CallFailure {
    Token(TokenError),
    Transport(TransportError),
    Client(ClientError),
}

impl From<TokenError> for CallFailure {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<TransportError> for CallFailure {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl From<ClientError> for CallFailure {
    fn from(e: ClientError) -> Self {
        Self::Client(e)
    }
}

/// The Interaction Service client with its token cache. Cheap to share behind an `Arc`.
pub struct SalesforceClient {
    config: Arc<SalesforceConfig>,
    auth: Authorized<JwtBearer>,
}

impl fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("config", &self.config)
            .field("auth", &self.auth)
            .finish()
    }
}

impl SalesforceClient {
    /// A client over reqwest, built from `config` (timeout, response cap, root CAs).
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built (a root CA that is
    /// not a certificate).
    #[cfg(feature = "reqwest")]
    pub fn new(config: SalesforceConfig) -> Result<Self, ConfigError> {
        let transport = reqwest_transport(&config)?;
        Self::with_transport(config, transport)
    }

    /// A client over `transport`.
    ///
    /// # Errors
    /// None today; the `Result` keeps the constructors alike.
    pub fn with_transport(
        config: SalesforceConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let source = JwtBearer::new(config.credentials(), config.token_lifetime());
        let auth = Authorized::new(transport, source, config.token_refresh_margin())
            .with_rejection(token_rejected);
        Ok(Self {
            config: Arc::new(config),
            auth,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SalesforceConfig {
        &self.config
    }

    /// The current access token, minted when there is none or it is due for refresh.
    ///
    /// # Errors
    /// [`ClientError::Token`] from the token endpoint.
    pub async fn access_token(&self) -> Result<Secret, ClientError> {
        Ok(self.auth.token().await?)
    }

    /// Forgets `rejected` if it is still the cached token, so the next call mints another
    /// (a token refused elsewhere, such as by the Pub/Sub API).
    pub async fn invalidate_token(&self, rejected: &Secret) {
        self.auth.invalidate(rejected).await;
    }

    /// The instance URL for the Pub/Sub metadata: the configured one, else the last token
    /// answer's.
    #[must_use]
    pub fn instance_url(&self) -> Option<String> {
        self.config
            .instance_url()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .or_else(|| self.auth.source().instance_url())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        build: impl Fn(&CallContext<'_>) -> Result<http::Request<Bytes>, ClientError>,
    ) -> Result<T, ClientError> {
        let sent = self
            .auth
            .send::<CallFailure, _>(|token| {
                let request_id = uuid::Uuid::new_v4().to_string();
                let ctx = CallContext::for_config(&self.config, token, &request_id);
                Ok(build(&ctx)?)
            })
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(CallFailure::Token(e)) => return Err(e.into()),
            Err(CallFailure::Transport(source)) => {
                tracing::warn!(%endpoint, error = %source, "interaction service unreachable");
                return Err(ClientError::Transport {
                    endpoint: endpoint.as_str(),
                    source,
                });
            }
            Err(CallFailure::Client(e)) => return Err(e),
        };
        parse_response(endpoint, &response).inspect_err(|e| {
            tracing::warn!(%endpoint, status = e.status(), code = e.code(), "interaction service call failed");
        })
    }

    async fn json<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.config.scrt_url().clone();
        self.call(endpoint, |ctx| prepare_json(endpoint, &url, body, ctx))
            .await
    }

    /// `POST /interactions`.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn send_interaction(
        &self,
        rendered: &RenderedInteraction,
    ) -> Result<InteractionResponse, ClientError> {
        let url = self.config.scrt_url().clone();
        let boundary = format!("byoc-{}", uuid::Uuid::new_v4().simple());
        self.call(Endpoint::Interactions, |ctx| {
            prepare_interaction(&url, rendered, ctx, &boundary)
        })
        .await
    }

    /// `POST /interactions` with a file the host downloaded (an `AttachmentInteraction`
    /// from `end_user`, with an optional caption).
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn send_file(
        &self,
        end_user: &str,
        file: AttachmentFile,
        caption: Option<String>,
    ) -> Result<InteractionResponse, ClientError> {
        let rendered = RenderedInteraction {
            request: InteractionRequest {
                to: self.config.channel_address().to_owned(),
                from: end_user.to_owned(),
                interactions: vec![Interaction::Attachment {
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

    /// `POST /acknowledgement`: delivery or read receipts of outbound entries (1 to 25).
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for none or more than 25; otherwise by the service's answer.
    pub async fn acknowledge(
        &self,
        end_user: &str,
        conversation_identifier: &str,
        acknowledgements: Vec<Acknowledgement>,
    ) -> Result<SuccessResponse, ClientError> {
        if acknowledgements.is_empty() || acknowledgements.len() > MAX_ACKNOWLEDGEMENTS {
            return Err(ClientError::Invalid {
                field: "acknowledgements",
                reason: "between 1 and 25 acknowledgements per call",
            });
        }
        let body = AcknowledgementRequest {
            sender: Participant::end_user(end_user),
            conversation_identifier: conversation_identifier.to_owned(),
            acknowledgements,
        };
        self.json(Endpoint::Acknowledgement, &body).await
    }

    /// `POST /conversation`: establish a conversation without a message.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn create_conversation(
        &self,
        end_user: &str,
        routing_attributes: Option<BTreeMap<String, String>>,
    ) -> Result<InteractionResponse, ClientError> {
        let body = ConversationRequest {
            channel_address_identifier: self.config.channel_address().to_owned(),
            participants: vec![Participant::end_user(end_user)],
            routing_attributes,
        };
        self.json(Endpoint::Conversation, &body).await
    }

    /// `POST /messagingSession` with `operation: End`, `operationBy: EndUser`.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn end_session(
        &self,
        end_user: &str,
        conversation_identifier: &str,
    ) -> Result<SuccessResponse, ClientError> {
        let body = MessagingSessionRequest {
            channel_address_identifier: self.config.channel_address().to_owned(),
            end_user_client_id: end_user.to_owned(),
            conversation_identifier: conversation_identifier.to_owned(),
            operation: "End".into(),
            operation_by: "EndUser".into(),
            session_id: None,
        };
        self.json(Endpoint::MessagingSession, &body).await
    }

    /// `POST /participant` removing one participant.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn remove_participant(
        &self,
        conversation_identifier: &str,
        participant: Participant,
    ) -> Result<SuccessResponse, ClientError> {
        let body = ParticipantRequest {
            conversation_identifier: conversation_identifier.to_owned(),
            operation: "Remove".into(),
            participants: vec![participant],
        };
        self.json(Endpoint::Participant, &body).await
    }

    /// `PATCH /consent` (`OptedOut`, `ImplicitlyOptedIn`, `ExplicitlyOptedIn`,
    /// `DoublyOptedIn`).
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn update_consent(
        &self,
        end_user: &str,
        consent_status: &str,
    ) -> Result<SuccessResponse, ClientError> {
        let body = ConsentRequest {
            end_user_client_id: end_user.to_owned(),
            channel_address_identifier: self.config.channel_address().to_owned(),
            consent_status: consent_status.to_owned(),
        };
        self.json(Endpoint::Consent, &body).await
    }

    /// `PATCH /capabilities`: registers the message types this integration supports (the
    /// body as the service documents it).
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn register_capabilities(
        &self,
        capabilities: &serde_json::Value,
    ) -> Result<SuccessResponse, ClientError> {
        self.json(Endpoint::Capabilities, capabilities).await
    }

    /// `POST /route`: ask Omni-Channel to route.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn route(&self, body: &RouteRequest) -> Result<RouteResponse, ClientError> {
        self.json(Endpoint::Route, body).await
    }

    /// `DELETE /route` (a JSON body on DELETE): `Unknown`, `Unavailable`, `Decline` or
    /// `Cancel`.
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn cancel_route(
        &self,
        conversation_identifier: &str,
        cancel_reason: &str,
    ) -> Result<SuccessResponse, ClientError> {
        let body = CancelRouteRequest {
            conversation_identifier: conversation_identifier.to_owned(),
            cancel_reason: cancel_reason.to_owned(),
        };
        self.json(Endpoint::CancelRoute, &body).await
    }

    /// `POST /agentWork`: assign the work to a user the partner chose.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] when both capacity forms are set; otherwise by the service's
    /// answer.
    pub async fn create_agent_work(
        &self,
        body: &AgentWorkRequest,
    ) -> Result<AgentWorkResponse, ClientError> {
        if body.capacity_weight.is_some() && body.capacity_percentage.is_some() {
            return Err(ClientError::Invalid {
                field: "capacityPercentage",
                reason: "use capacityWeight or capacityPercentage, not both",
            });
        }
        self.json(Endpoint::AgentWork, body).await
    }

    /// `PATCH /agentWork` (close, accept, decline, cancel).
    ///
    /// # Errors
    /// [`ClientError`] by the service's answer.
    pub async fn update_agent_work(
        &self,
        body: &AgentWorkUpdate,
    ) -> Result<SuccessResponse, ClientError> {
        self.json(Endpoint::UpdateAgentWork, body).await
    }

    /// `POST /routingResult`.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] when `error_message` is set on success or missing on failure;
    /// otherwise by the service's answer.
    pub async fn routing_result(
        &self,
        body: &RoutingResultRequest,
    ) -> Result<SuccessResponse, ClientError> {
        if body.success == body.error_message.is_some() {
            return Err(ClientError::Invalid {
                field: "errorMessage",
                reason: "required exactly when success is false",
            });
        }
        self.json(Endpoint::RoutingResult, body).await
    }
}

/// The reqwest transport `config` asks for.
#[cfg(feature = "reqwest")]
pub(crate) fn reqwest_transport(
    config: &SalesforceConfig,
) -> Result<Arc<dyn HttpTransport>, ConfigError> {
    let mut builder = byoc_http::ReqwestTransport::builder()
        .timeout(config.timeout())
        .max_response_bytes(config.max_response_bytes())
        .user_agent(concat!("byoc-salesforce/", env!("CARGO_PKG_VERSION")));
    for ca in config.root_cas() {
        builder = builder.add_root_ca(ca.clone());
    }
    let transport = builder.build().map_err(|e| ConfigError::HttpClient {
        reason: e.to_string(),
    })?;
    Ok(Arc::new(transport))
}

#[cfg(test)]
mod tests;
