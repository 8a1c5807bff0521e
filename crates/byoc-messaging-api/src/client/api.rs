//! The Messaging API's requests and answers in pure code: `prepare_*` builds a request
//! with a given token, `parse_*` reads an answer (see
//! `docs/protocols/messaging-api.md#endpoints`).

use byoc_core::{Activity, Secret};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::config::{HeaderNames, MessagingApiConfig};
use crate::error::ClientError;
use crate::render::{CreateConversation, OutboundActivity};

/// Largest `PageSize` of the conversations list.
pub(crate) const MAX_CONVERSATIONS_PAGE: u32 = 250;
/// Largest `PageSize` of the messages list.
pub(crate) const MAX_MESSAGES_PAGE: u32 = 100;

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
) -> Result<http::Request<Bytes>, ClientError> {
    let url = format!(
        "{}{}",
        cfg.base_url().as_str().trim_end_matches('/'),
        path_and_query
    );
    let authorization = byoc_http::bearer(token).map_err(|_| ClientError::Build {
        endpoint,
        what: "token is not a header value",
    })?;
    let mut b = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, authorization)
        .header(http::header::ACCEPT, "application/json");
    let (ch, org) = (cfg.channel_id().as_str(), cfg.org_id().as_str());
    let names = cfg.header_names();
    if matches!(names, HeaderNames::Current | HeaderNames::Both) {
        b = b.header("channel-id", ch).header("organization-id", org);
    }
    if matches!(names, HeaderNames::Legacy | HeaderNames::Both) {
        b = b
            .header("x-ms-channel-id", ch)
            .header("x-ms-organization-id", org);
    }
    if body.is_some() {
        b = b.header(http::header::CONTENT_TYPE, "application/json");
    }
    b.body(Bytes::from(body.unwrap_or_default()))
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
/// [`ClientError::Render`], [`ClientError::Build`].
pub(crate) fn prepare_create(
    cfg: &MessagingApiConfig,
    token: &Secret,
    body: &CreateConversation,
) -> Result<http::Request<Bytes>, ClientError> {
    body.validate()?;
    let path = cfg.create_path();
    request(
        cfg,
        token,
        "create",
        http::Method::POST,
        path,
        Some(json("create", body)?),
    )
}

/// The request [`MessagingApiClient::send`](crate::MessagingApiClient::send) makes for a
/// rendered activity, with `token` as the bearer: `POST
/// {base}/api/v1.0/consumer/conversation/{id}` with the `channel-id` and `organization-id`
/// headers. Pure; for hosts that send through their own stack or queue prepared requests.
///
/// # Errors
/// [`ClientError::Build`] when a value cannot go in the URL or a header.
pub fn prepare_send(
    cfg: &MessagingApiConfig,
    token: &Secret,
    activity: &OutboundActivity,
) -> Result<http::Request<Bytes>, ClientError> {
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
pub(crate) fn prepare_list(
    cfg: &MessagingApiConfig,
    token: &Secret,
    page: &PageQuery,
) -> Result<http::Request<Bytes>, ClientError> {
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
pub(crate) fn prepare_messages(
    cfg: &MessagingApiConfig,
    token: &Secret,
    conversation_id: &str,
    page: &PageQuery,
) -> Result<http::Request<Bytes>, ClientError> {
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
pub(crate) fn prepare_context(
    cfg: &MessagingApiConfig,
    token: &Secret,
    conversation_id: &str,
) -> Result<http::Request<Bytes>, ClientError> {
    let path = format!(
        "/api/v1.0/consumer/conversation/{}/context",
        encode(conversation_id)
    );
    request(cfg, token, "context", http::Method::GET, &path, None)
}

fn parse<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: &http::Response<Bytes>,
    field: &'static str,
) -> Result<T, ClientError> {
    if !resp.status().is_success() {
        return Err(ClientError::status_of(endpoint, resp));
    }
    serde_json::from_slice(resp.body()).map_err(|_| ClientError::Decode { endpoint, field })
}

/// Parses the create answer.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub(crate) fn parse_create(
    resp: &http::Response<Bytes>,
) -> Result<CreatedConversation, ClientError> {
    parse("create", resp, "conversationId")
}

/// Parses the send answer (an empty 2xx body is accepted).
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub(crate) fn parse_send(resp: &http::Response<Bytes>) -> Result<SentMessage, ClientError> {
    if resp.status().is_success() && resp.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(SentMessage { message_id: None });
    }
    parse("send", resp, "messageId")
}

/// Parses a conversations page.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub(crate) fn parse_list(resp: &http::Response<Bytes>) -> Result<ConversationPage, ClientError> {
    parse("list", resp, "conversations")
}

/// Parses a messages page.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub(crate) fn parse_messages(resp: &http::Response<Bytes>) -> Result<MessagePage, ClientError> {
    parse("messages", resp, "messages")
}

/// Parses the context answer.
///
/// # Errors
/// [`ClientError::Status`], [`ClientError::Decode`].
pub(crate) fn parse_context(
    resp: &http::Response<Bytes>,
) -> Result<Vec<ContextEntry>, ClientError> {
    parse::<ContextBody>("context", resp, "context").map(|b| b.context)
}
