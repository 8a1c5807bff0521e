//! The Messaging API client (customer → Omnichannel): pure `prepare_*` request builders and
//! `parse_*` response parsers, and [`MessagingApiClient`] tying them to a transport and the
//! token cache.

use std::fmt;
use std::sync::Arc;

use byoc_core::{Activity, Secret};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::config::{HeaderNames, MessagingApiConfig};
use crate::error::ClientError;
use crate::render::{CreateConversation, OutboundActivity, render};
use crate::token::{Authorized, bearer_header, status_error};
use crate::transport::HttpTransport;

/// Largest `PageSize` of the conversations list.
pub const MAX_CONVERSATIONS_PAGE: u32 = 250;
/// Largest `PageSize` of the messages list.
pub const MAX_MESSAGES_PAGE: u32 = 100;

const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The answer to create conversation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreatedConversation {
    /// The conversation id.
    #[serde(rename = "conversationId", alias = "conversationid")]
    pub conversation_id: String,
    /// `false` when an active conversation of the same customer (or request id) was
    /// returned instead of a new one.
    #[serde(rename = "isNew", alias = "isnew", default = "yes")]
    pub is_new: bool,
    /// Id of the start message (13-digit epoch milliseconds).
    #[serde(rename = "messageId", alias = "messageid", default)]
    pub message_id: Option<String>,
}

fn yes() -> bool {
    true
}

/// The answer to send activity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The message id (13-digit epoch milliseconds, usable for ordering).
    #[serde(rename = "messageId", alias = "messageid", default)]
    pub message_id: Option<String>,
}

/// One active conversation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ConversationSummary {
    /// Its id.
    #[serde(rename = "conversationid", alias = "conversationId")]
    pub conversation_id: String,
    /// When it started.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// A page of active conversations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ConversationPage {
    /// The conversations.
    #[serde(default)]
    pub conversations: Vec<ConversationSummary>,
    /// Token of the next page, if any.
    #[serde(rename = "continuationtoken", alias = "continuationToken", default)]
    pub continuation_token: Option<String>,
}

/// A page of messages (Bot Framework activities; the id is in `messageId`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct MessagePage {
    /// The messages.
    #[serde(default)]
    pub messages: Vec<Activity>,
    /// Token of the next page (a date-time), if any.
    #[serde(rename = "continuationToken", alias = "continuationtoken", default)]
    pub continuation_token: Option<String>,
}

/// The `messageId` (or `messageid`) of a listed message.
#[must_use]
pub fn message_id(message: &Activity) -> Option<String> {
    message.id.clone().or_else(|| {
        ["messageId", "messageid"]
            .iter()
            .find_map(|k| message.extensions.get(k).and_then(|v| v.as_string()))
            .map(|c| c.into_owned())
    })
}

/// One conversation context variable as read back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ContextEntry {
    /// Name.
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: serde_json::Value,
}

#[derive(Deserialize)]
struct ContextBody {
    #[serde(default)]
    context: Vec<ContextEntry>,
}

/// Paging of the list endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageQuery {
    /// `StartTimeStamp`: only items from then on.
    pub start_timestamp: Option<String>,
    /// `PageSize` (clamped to the endpoint's maximum).
    pub page_size: Option<u32>,
    /// `ContinuationToken` from the previous page.
    pub continuation_token: Option<String>,
}

impl PageQuery {
    /// The first page with the service's default size.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    #[must_use]
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Sets the start time stamp.
    #[must_use]
    pub fn with_start(mut self, ts: impl Into<String>) -> Self {
        self.start_timestamp = Some(ts.into());
        self
    }

    /// Sets the continuation token.
    #[must_use]
    pub fn with_continuation(mut self, token: Option<String>) -> Self {
        self.continuation_token = token;
        self
    }

    fn to_query(&self, max: u32) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = &self.start_timestamp {
            q.append_pair("StartTimeStamp", s);
        }
        if let Some(n) = self.page_size {
            q.append_pair("PageSize", &n.clamp(1, max).to_string());
        }
        if let Some(t) = &self.continuation_token {
            q.append_pair("ContinuationToken", t);
        }
        q.finish()
    }
}

fn request(
    cfg: &MessagingApiConfig,
    token: &Secret,
    endpoint: &'static str,
    method: http::Method,
    path_and_query: &str,
    body: Option<Vec<u8>>,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let url = format!(
        "{}{}",
        cfg.base_url.as_str().trim_end_matches('/'),
        path_and_query
    );
    let mut b = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, bearer_header(endpoint, token)?)
        .header(http::header::ACCEPT, "application/json");
    let (ch, org) = (cfg.channel_id.as_str(), cfg.org_id.as_str());
    if matches!(cfg.header_names, HeaderNames::Current | HeaderNames::Both) {
        b = b.header("channel-id", ch).header("organization-id", org);
    }
    if matches!(cfg.header_names, HeaderNames::Legacy | HeaderNames::Both) {
        b = b
            .header("x-ms-channel-id", ch)
            .header("x-ms-organization-id", org);
    }
    if body.is_some() {
        b = b.header(http::header::CONTENT_TYPE, "application/json");
    }
    b.body(body.unwrap_or_default())
        .map_err(|_| ClientError::Build {
            endpoint,
            what: "URL or header",
        })
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

fn json<T: serde::Serialize>(endpoint: &'static str, v: &T) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(v).map_err(|_| ClientError::Build {
        endpoint,
        what: "JSON body",
    })
}

/// `POST {create_path}`, after checking the limits.
///
/// # Errors
/// [`ClientError::Limit`], [`ClientError::Build`].
pub fn prepare_create(
    cfg: &MessagingApiConfig,
    token: &Secret,
    body: &CreateConversation,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    body.validate()?;
    let path = format!("/{}", cfg.create_path.trim_start_matches('/'));
    request(
        cfg,
        token,
        "create",
        http::Method::POST,
        &path,
        Some(json("create", body)?),
    )
}

/// `POST /api/v1.0/consumer/conversation/{id}` with a rendered activity.
///
/// # Errors
/// [`ClientError::Build`].
pub fn prepare_send(
    cfg: &MessagingApiConfig,
    token: &Secret,
    activity: &OutboundActivity,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let path = format!(
        "/api/v1.0/consumer/conversation/{}",
        encode(&activity.conversation.id)
    );
    request(
        cfg,
        token,
        "send",
        http::Method::POST,
        &path,
        Some(json("send", activity)?),
    )
}

/// `GET /api/v1.0/consumer/conversations?...`.
///
/// # Errors
/// [`ClientError::Build`].
pub fn prepare_list(
    cfg: &MessagingApiConfig,
    token: &Secret,
    page: &PageQuery,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let q = page.to_query(MAX_CONVERSATIONS_PAGE);
    let path = if q.is_empty() {
        "/api/v1.0/consumer/conversations".to_owned()
    } else {
        format!("/api/v1.0/consumer/conversations?{q}")
    };
    request(cfg, token, "list", http::Method::GET, &path, None)
}

/// `GET /api/v1.0/consumer/conversation/{id}/messages?...`.
///
/// # Errors
/// [`ClientError::Build`].
pub fn prepare_messages(
    cfg: &MessagingApiConfig,
    token: &Secret,
    conversation_id: &str,
    page: &PageQuery,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let q = page.to_query(MAX_MESSAGES_PAGE);
    let mut path = format!(
        "/api/v1.0/consumer/conversation/{}/messages",
        encode(conversation_id)
    );
    if !q.is_empty() {
        path.push('?');
        path.push_str(&q);
    }
    request(cfg, token, "messages", http::Method::GET, &path, None)
}

/// `GET /api/v1.0/consumer/conversation/{id}/context`.
///
/// # Errors
/// [`ClientError::Build`].
pub fn prepare_context(
    cfg: &MessagingApiConfig,
    token: &Secret,
    conversation_id: &str,
) -> Result<http::Request<Vec<u8>>, ClientError> {
    let path = format!(
        "/api/v1.0/consumer/conversation/{}/context",
        encode(conversation_id)
    );
    request(cfg, token, "context", http::Method::GET, &path, None)
}

fn parse<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: &http::Response<Vec<u8>>,
    field: &str,
) -> Result<T, ClientError> {
    if !resp.status().is_success() {
        return Err(status_error(endpoint, resp));
    }
    serde_json::from_slice(resp.body()).map_err(|_| ClientError::Decode {
        endpoint,
        field: field.to_owned(),
    })
}

/// Parses the create answer.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub fn parse_create(resp: &http::Response<Vec<u8>>) -> Result<CreatedConversation, ClientError> {
    parse("create", resp, "conversationId")
}

/// Parses the send answer (an empty 2xx body is accepted).
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub fn parse_send(resp: &http::Response<Vec<u8>>) -> Result<SentMessage, ClientError> {
    if resp.status().is_success() && resp.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(SentMessage { message_id: None });
    }
    parse("send", resp, "messageId")
}

/// Parses a conversations page.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub fn parse_list(resp: &http::Response<Vec<u8>>) -> Result<ConversationPage, ClientError> {
    parse("list", resp, "conversations")
}

/// Parses a messages page.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub fn parse_messages(resp: &http::Response<Vec<u8>>) -> Result<MessagePage, ClientError> {
    parse("messages", resp, "messages")
}

/// Parses the context answer.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub fn parse_context(resp: &http::Response<Vec<u8>>) -> Result<Vec<ContextEntry>, ClientError> {
    parse::<ContextBody>("context", resp, "context").map(|b| b.context)
}

/// The Messaging API client. Cheap to clone (shared token cache).
#[derive(Clone)]
pub struct MessagingApiClient {
    config: Arc<MessagingApiConfig>,
    auth: Authorized,
}

impl fmt::Debug for MessagingApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingApiClient")
            .field("base_url", &self.config.base_url.as_str())
            .field("channel_id", &self.config.channel_id)
            .finish_non_exhaustive()
    }
}

impl MessagingApiClient {
    /// A client over reqwest.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    #[cfg(feature = "reqwest")]
    pub fn new(config: MessagingApiConfig) -> Result<Self, byoc_core::AdapterError> {
        let t = crate::transport::ReqwestTransport::new()
            .map_err(|e| byoc_core::AdapterError::configuration(format!("HTTP client: {e}")))?;
        Ok(Self::with_transport(config, Arc::new(t)))
    }

    /// A client over any transport.
    #[must_use]
    pub fn with_transport(config: MessagingApiConfig, transport: Arc<dyn HttpTransport>) -> Self {
        let auth = Authorized::new(
            transport,
            config.app.clone(),
            config.token_url.clone(),
            config.scope.clone(),
            config.refresh_margin,
        );
        Self {
            config: Arc::new(config),
            auth,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MessagingApiConfig {
        &self.config
    }

    /// The token executor (to prefetch or invalidate the token).
    #[must_use]
    pub fn auth(&self) -> &Authorized {
        &self.auth
    }

    /// Starts (or, for the same customer or request id, finds) a conversation.
    ///
    /// # Errors
    /// [`ClientError`]; limits are checked before anything is sent.
    pub async fn create_conversation(
        &self,
        body: &CreateConversation,
    ) -> Result<CreatedConversation, ClientError> {
        body.validate()?;
        let cfg = &self.config;
        let resp = self
            .auth
            .execute("create", |t| prepare_create(cfg, t, body))
            .await?;
        parse_create(&resp)
    }

    /// Sends a canonical activity (message, typing, endOfConversation or custom event).
    ///
    /// # Errors
    /// [`ClientError::Limit`] before sending, or the call's error.
    pub async fn send(&self, activity: &Activity) -> Result<SentMessage, ClientError> {
        let out = render(activity, self.config.channel_id.as_str())?;
        self.send_rendered(&out).await
    }

    /// Sends an already rendered activity.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn send_rendered(&self, out: &OutboundActivity) -> Result<SentMessage, ClientError> {
        let cfg = &self.config;
        let resp = self
            .auth
            .execute("send", |t| prepare_send(cfg, t, out))
            .await?;
        parse_send(&resp)
    }

    /// One page of this channel's active conversations.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn list_conversations(
        &self,
        page: &PageQuery,
    ) -> Result<ConversationPage, ClientError> {
        let cfg = &self.config;
        let resp = self
            .auth
            .execute("list", |t| prepare_list(cfg, t, page))
            .await?;
        parse_list(&resp)
    }

    /// Every active conversation, following continuation tokens (at most `max_pages`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn all_conversations(
        &self,
        mut page: PageQuery,
        max_pages: usize,
    ) -> Result<Vec<ConversationSummary>, ClientError> {
        let mut out = Vec::new();
        for _ in 0..max_pages {
            let p = self.list_conversations(&page).await?;
            out.extend(p.conversations);
            match p.continuation_token.filter(|t| !t.is_empty()) {
                Some(t) if page.continuation_token.as_deref() != Some(&t) => {
                    page.continuation_token = Some(t);
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// One page of a conversation's messages.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn messages(
        &self,
        conversation_id: &str,
        page: &PageQuery,
    ) -> Result<MessagePage, ClientError> {
        let cfg = &self.config;
        let resp = self
            .auth
            .execute("messages", |t| {
                prepare_messages(cfg, t, conversation_id, page)
            })
            .await?;
        parse_messages(&resp)
    }

    /// Every message of a conversation, following continuation tokens (at most
    /// `max_pages`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn all_messages(
        &self,
        conversation_id: &str,
        mut page: PageQuery,
        max_pages: usize,
    ) -> Result<Vec<Activity>, ClientError> {
        let mut out = Vec::new();
        for _ in 0..max_pages {
            let p = self.messages(conversation_id, &page).await?;
            out.extend(p.messages);
            match p.continuation_token.filter(|t| !t.is_empty()) {
                Some(t) if page.continuation_token.as_deref() != Some(&t) => {
                    page.continuation_token = Some(t);
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// A conversation's context variables.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn context(&self, conversation_id: &str) -> Result<Vec<ContextEntry>, ClientError> {
        let cfg = &self.config;
        let resp = self
            .auth
            .execute("context", |t| prepare_context(cfg, t, conversation_id))
            .await?;
        parse_context(&resp)
    }
}

#[cfg(test)]
mod tests;
