//! The Connector REST v3 client (B.1): send, reply, update, delete, create conversation,
//! upload attachment. Every call goes to a `serviceUrl` and carries a client-credentials
//! token.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use byoc_core::Activity;
use byoc_core::activity::ResourceResponse;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    ConnectorTokenCache, HttpTransport, error_from_response, json_request, parse_json, seg,
    with_bearer,
};
use crate::config::ConnectorConfig;
use crate::error::ApiError;
use crate::render::render_for_connector;

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

/// Builds the request of a send (no `reply_to`) or a reply.
///
/// # Errors
/// [`ApiError::TooLarge`], [`ApiError::MissingField`].
pub fn prepare_send(
    service_url: &str,
    conversation_id: &str,
    reply_to: Option<&str>,
    activity: &Activity,
) -> Result<http::Request<Bytes>, ApiError> {
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
    )
}

/// A Connector client for one bot's credentials.
#[derive(Debug, Clone)]
pub struct ConnectorClient {
    tokens: Arc<ConnectorTokenCache>,
    transport: Arc<dyn HttpTransport>,
}

impl ConnectorClient {
    /// A client with its own token cache.
    #[must_use]
    pub fn new(config: ConnectorConfig, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            tokens: Arc::new(ConnectorTokenCache::new(config, transport.clone())),
            transport,
        }
    }

    /// The token cache (shared by clones).
    #[must_use]
    pub fn tokens(&self) -> &ConnectorTokenCache {
        &self.tokens
    }

    async fn call(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>, ApiError> {
        let token = self.tokens.token().await?;
        let resp = self
            .transport
            .execute(with_bearer(req, token.secret())?)
            .await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let err = error_from_response(&resp, chrono::Utc::now());
        if resp.status() == http::StatusCode::UNAUTHORIZED {
            self.tokens.invalidate().await;
        }
        Err(err)
    }

    async fn resource(&self, req: http::Request<Bytes>) -> Result<ResourceResponse, ApiError> {
        let resp = self.call(req).await?;
        if resp.body().is_empty() {
            return Ok(ResourceResponse::default());
        }
        parse_json(&resp, "id")
    }

    /// `POST /v3/conversations/{id}/activities`: appends to the conversation.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn send_to_conversation(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ApiError> {
        self.resource(prepare_send(service_url, conversation_id, None, activity)?)
            .await
    }

    /// `POST /v3/conversations/{id}/activities/{activityId}`: a (threaded) reply.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn reply_to_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ApiError> {
        self.resource(prepare_send(
            service_url,
            conversation_id,
            Some(activity_id),
            activity,
        )?)
        .await
    }

    /// `PUT /v3/conversations/{id}/activities/{activityId}`.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn update_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &Activity,
    ) -> Result<ResourceResponse, ApiError> {
        let path = format!(
            "v3/conversations/{}/activities/{}",
            seg(conversation_id),
            seg(activity_id)
        );
        let req = json_request(
            http::Method::PUT,
            &url(service_url, &path),
            Some(render_for_connector(activity)?),
        )?;
        self.resource(req).await
    }

    /// `DELETE /v3/conversations/{id}/activities/{activityId}`.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn delete_activity(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
    ) -> Result<(), ApiError> {
        let path = format!(
            "v3/conversations/{}/activities/{}",
            seg(conversation_id),
            seg(activity_id)
        );
        self.call(json_request(
            http::Method::DELETE,
            &url(service_url, &path),
            None,
        )?)
        .await
        .map(|_| ())
    }

    /// `POST /v3/conversations` with `ConversationParameters` (any serializable shape, see
    /// the fact sheet).
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn create_conversation<P: Serialize + ?Sized>(
        &self,
        service_url: &str,
        parameters: &P,
    ) -> Result<ConversationResourceResponse, ApiError> {
        let body =
            serde_json::to_vec(parameters).map_err(|_| ApiError::MissingField("parameters"))?;
        let resp = self
            .call(json_request(
                http::Method::POST,
                &url(service_url, "v3/conversations"),
                Some(body),
            )?)
            .await?;
        parse_json(&resp, "id")
    }

    /// `POST /v3/conversations/{id}/attachments`: returns the attachment id.
    ///
    /// # Errors
    /// [`ApiError`].
    pub async fn upload_attachment(
        &self,
        service_url: &str,
        conversation_id: &str,
        data: &AttachmentData,
    ) -> Result<ResourceResponse, ApiError> {
        let body = serde_json::to_vec(data).map_err(|_| ApiError::MissingField("attachment"))?;
        let path = format!("v3/conversations/{}/attachments", seg(conversation_id));
        self.resource(json_request(
            http::Method::POST,
            &url(service_url, &path),
            Some(body),
        )?)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_and_reply_paths() {
        let a = Activity::message("hi");
        let r = prepare_send("https://smba.example/teams/", "a:1|2", None, &a).unwrap();
        assert_eq!(
            r.uri(),
            "https://smba.example/teams/v3/conversations/a%3A1%7C2/activities"
        );
        let r = prepare_send("https://smba.example/teams", "c", Some("m1"), &a).unwrap();
        assert_eq!(
            r.uri(),
            "https://smba.example/teams/v3/conversations/c/activities/m1"
        );
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn attachment_data_is_base64_and_redacted_in_debug() {
        let d = AttachmentData::new("image/png", "a.png", Bytes::from_static(b"\x89PNG"));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["originalBase64"], "iVBORw==");
        assert_eq!(v["type"], "image/png");
        assert!(!format!("{d:?}").contains("PNG"));
    }
}
