//! The Connector REST v3 client (`docs/protocols/bot-framework.md#connector-rest-api`):
//! send, reply, update, delete, create conversation, upload attachment. Every call goes to
//! a `serviceUrl` and carries a client-credentials token from byoc-http's
//! [`ClientCredentials`], cached and renewed once when the Connector rejects it.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use byoc_core::Activity;
use byoc_core::activity::ResourceResponse;
use byoc_http::{Authorized, ClientCredentials, HttpTransport, TokenError, TransportError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{error_from_response, json_request, parse_json, seg};
use crate::config::ConnectorConfig;
use crate::error::{ClientError, ConfigError, RenderError};
use crate::render::render_for_connector;

const SEND: &str = "v3/conversations/{id}/activities";
const ACTIVITY: &str = "v3/conversations/{id}/activities/{activityId}";
const CONVERSATIONS: &str = "v3/conversations";
const ATTACHMENTS: &str = "v3/conversations/{id}/attachments";

/// `AttachmentData` for an upload.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttachmentData {
    /// MIME type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// File name.
    pub name: String,
    /// The content, base64 on the wire.
    #[serde(serialize_with = "as_base64")]
    pub original_base64: Bytes,
}

impl AttachmentData {
    /// An attachment to upload.
    #[must_use]
    pub fn new(
        content_type: impl Into<String>,
        name: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self {
            content_type: content_type.into(),
            name: name.into(),
            original_base64: bytes.into(),
        }
    }
}

impl fmt::Debug for AttachmentData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentData")
            .field("content_type", &self.content_type)
            .field("name", &self.name)
            .field("len", &self.original_base64.len())
            .finish()
    }
}

fn as_base64<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
}

/// The answer to create conversation.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConversationResourceResponse {
    /// The new conversation's id.
    pub id: String,
    /// Where to send to it.
    pub service_url: Option<String>,
    /// The id of the first activity, when the channel returns one.
    pub activity_id: Option<String>,
}

fn url(service_url: &str, path: &str) -> String {
    format!("{}/{path}", service_url.trim_end_matches('/'))
}

/// Why an authorized call failed before an answer, named later with its endpoint.
enum SendError {
    Token(TokenError),
    Transport(TransportError),
}

impl From<TokenError> for SendError {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<TransportError> for SendError {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl SendError {
    fn at(self, endpoint: &'static str) -> ClientError {
        match self {
            Self::Token(e) => ClientError::Token(e),
            Self::Transport(source) => ClientError::Transport { endpoint, source },
        }
    }
}

/// A Connector client for one bot's credentials. Clones share the token cache.
#[derive(Clone)]
pub struct ConnectorClient {
    auth: Arc<Authorized<ClientCredentials>>,
}

impl fmt::Debug for ConnectorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorClient")
            .field("credentials", self.auth.source())
            .finish_non_exhaustive()
    }
}

impl ConnectorClient {
    /// A client over reqwest with `config`'s timeout, response cap and root CAs.
    ///
    /// # Errors
    /// [`ConfigError`] when the HTTP client cannot be built (a root CA that is not PEM).
    #[cfg(feature = "reqwest")]
    pub fn new(config: ConnectorConfig) -> Result<Self, ConfigError> {
        let transport = super::reqwest_transport(
            config.timeout(),
            config.max_response_bytes(),
            config.root_cas(),
        )?;
        Self::with_transport(config, transport)
    }

    /// A client sending through `transport`.
    ///
    /// # Errors
    /// None today; the signature matches [`ConnectorClient::new`].
    pub fn with_transport(
        config: ConnectorConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let grant = ClientCredentials::new(
            config.token_url().clone(),
            config.app_id(),
            config.app_password().clone(),
            config.scope(),
        );
        Ok(Self {
            auth: Arc::new(Authorized::new(
                transport,
                grant,
                config.token_refresh_margin(),
            )),
        })
    }

    /// Builds the request of a send (no `reply_to`) or a reply, without the token.
    ///
    /// # Errors
    /// [`ClientError::Render`] (too large), [`ClientError::InvalidUrl`].
    pub fn prepare_send(
        service_url: &str,
        conversation_id: &str,
        reply_to: Option<&str>,
        activity: &Activity,
    ) -> Result<http::Request<Bytes>, ClientError> {
        let path = match reply_to {
            Some(id) => format!(
                "v3/conversations/{}/activities/{}",
                seg(conversation_id),
                seg(id)
            ),
            None => format!("v3/conversations/{}/activities", seg(conversation_id)),
        };
        json_request(
            http::Method::POST,
            &url(service_url, &path),
            Some(render_for_connector(activity)?),
            "serviceUrl",
        )
    }

    /// Sends `request` with the current token; renews the token once when the Connector
    /// answers `401`.
    async fn call(
        &self,
        endpoint: &'static str,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, ClientError> {
        let (parts, body) = request.into_parts();
        let response = self
            .auth
            .send::<SendError, _>(|token| {
                let mut r = http::Request::new(body.clone());
                *r.method_mut() = parts.method.clone();
                *r.uri_mut() = parts.uri.clone();
                *r.version_mut() = parts.version;
                *r.headers_mut() = parts.headers.clone();
                r.headers_mut()
                    .insert(http::header::AUTHORIZATION, byoc_http::bearer(token)?);
                Ok(r)
            })
            .await
            .map_err(|e| e.at(endpoint))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_from_response(endpoint, &response, chrono::Utc::now()))
        }
    }

    async fn resource(
        &self,
        endpoint: &'static str,
        request: http::Request<Bytes>,
    ) -> Result<ResourceResponse, ClientError> {
        let response = self.call(endpoint, request).await?;
        if response.body().is_empty() {
            return Ok(ResourceResponse::default());
        }
        parse_json(endpoint, &response, "id")
    }

    /// `POST /v3/conversations/{id}/activities`: appends to the conversation. The caller
    /// makes sure `service_url` is trusted (the adapter's `send` does).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn send_to_conversation(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ClientError> {
        let request = Self::prepare_send(service_url, conversation_id, None, activity)?;
        self.resource(SEND, request).await
    }

    /// `POST /v3/conversations/{id}/activities/{activityId}`: a (threaded) reply.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn reply_to_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ClientError> {
        let request =
            Self::prepare_send(service_url, conversation_id, Some(activity_id), activity)?;
        self.resource(ACTIVITY, request).await
    }

    /// `PUT /v3/conversations/{id}/activities/{activityId}`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn update_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ClientError> {
        let path = format!(
            "v3/conversations/{}/activities/{}",
            seg(conversation_id),
            seg(activity_id)
        );
        let request = json_request(
            http::Method::PUT,
            &url(service_url, &path),
            Some(render_for_connector(activity)?),
            "serviceUrl",
        )?;
        self.resource(ACTIVITY, request).await
    }

    /// `DELETE /v3/conversations/{id}/activities/{activityId}`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn delete_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
    ) -> Result<(), ClientError> {
        let path = format!(
            "v3/conversations/{}/activities/{}",
            seg(conversation_id),
            seg(activity_id)
        );
        let request = json_request(
            http::Method::DELETE,
            &url(service_url, &path),
            None,
            "serviceUrl",
        )?;
        self.call(ACTIVITY, request).await.map(|_| ())
    }

    /// `POST /v3/conversations` with `ConversationParameters` (any serializable shape:
    /// `docs/protocols/bot-framework.md#connector-rest-api`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn create_conversation<P: Serialize + ?Sized>(
        &self,
        service_url: &str,
        parameters: &P,
    ) -> Result<ConversationResourceResponse, ClientError> {
        let body = serde_json::to_vec(parameters).map_err(|_| RenderError::Serialize {
            field: "parameters",
        })?;
        let request = json_request(
            http::Method::POST,
            &url(service_url, CONVERSATIONS),
            Some(body),
            "serviceUrl",
        )?;
        let response = self.call(CONVERSATIONS, request).await?;
        parse_json(CONVERSATIONS, &response, "id")
    }

    /// `POST /v3/conversations/{id}/attachments`: returns the attachment id.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn upload_attachment(
        &self,
        service_url: &str,
        conversation_id: &str,
        data: &AttachmentData,
    ) -> Result<ResourceResponse, ClientError> {
        let body = serde_json::to_vec(data).map_err(|_| RenderError::Serialize {
            field: "attachment",
        })?;
        let path = format!("v3/conversations/{}/attachments", seg(conversation_id));
        let request = json_request(
            http::Method::POST,
            &url(service_url, &path),
            Some(body),
            "serviceUrl",
        )?;
        self.resource(ATTACHMENTS, request).await
    }
}

#[cfg(test)]
mod tests;
