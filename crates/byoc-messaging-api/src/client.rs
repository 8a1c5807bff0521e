//! [`MessagingApiClient`] (customer → Omnichannel): the pure requests and answers of
//! [`api`](self::api) sent through a transport with a cached Entra token.

mod api;
mod call;

use std::fmt;
use std::sync::Arc;

use byoc_core::Activity;
use byoc_http::{Authorized, ClientCredentials, HttpTransport};

use crate::config::MessagingApiConfig;
use crate::error::{ClientError, ConfigError};
use crate::render::{CreateConversation, OutboundActivity, render};

pub use api::{
    ContextEntry, ConversationPage, ConversationSummary, CreatedConversation, MessagePage,
    PageQuery, SentMessage, message_id, prepare_send,
};
use api::{
    parse_context, parse_create, parse_list, parse_messages, parse_send, prepare_context,
    prepare_create, prepare_list, prepare_messages,
};
pub(crate) use call::call;

/// The Messaging API client. Cheap to clone (shared token cache).
#[derive(Clone)]
pub struct MessagingApiClient {
    config: Arc<MessagingApiConfig>,
    auth: Arc<Authorized<ClientCredentials>>,
}

impl fmt::Debug for MessagingApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingApiClient")
            .field("base_url", &self.config.base_url().as_str())
            .field("channel_id", self.config.channel_id())
            .field("auth", &self.auth)
            .finish()
    }
}

impl MessagingApiClient {
    /// A client over reqwest, built from the config's HTTP settings (timeout, root CAs,
    /// response cap).
    ///
    /// # Errors
    /// [`ConfigError::HttpClient`] when the HTTP client cannot be built (a root CA that is
    /// not a PEM certificate).
    #[cfg(feature = "reqwest")]
    pub fn new(config: MessagingApiConfig) -> Result<Self, ConfigError> {
        let transport = config.http().transport()?;
        Self::with_transport(config, transport)
    }

    /// A client over any transport (the config's HTTP settings are the transport's business).
    ///
    /// # Errors
    /// None today; the signature matches the other constructors of the family.
    pub fn with_transport(
        config: MessagingApiConfig,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, ConfigError> {
        let grant = config.app().grant(config.token_url(), config.scope());
        let auth = Authorized::new(transport, grant, config.token_refresh_margin());
        Ok(Self {
            config: Arc::new(config),
            auth: Arc::new(auth),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MessagingApiConfig {
        &self.config
    }

    /// The transport requests go through.
    #[must_use]
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        self.auth.transport()
    }

    /// Fetches a token now if none is cached (to fail fast on wrong credentials at start-up).
    ///
    /// # Errors
    /// [`ClientError::Token`].
    pub async fn authenticate(&self) -> Result<(), ClientError> {
        self.auth.token().await?;
        Ok(())
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
        let resp = call(&self.auth, "create", |t| prepare_create(cfg, t, body)).await?;
        parse_create(&resp)
    }

    /// Sends a canonical activity (message, typing, endOfConversation or custom event).
    ///
    /// # Errors
    /// [`ClientError::Render`] before sending, or the call's error.
    pub async fn send(&self, activity: &Activity) -> Result<SentMessage, ClientError> {
        let out = render(activity, self.config.channel_id().as_str())?;
        self.send_rendered(&out).await
    }

    /// Sends an already rendered activity.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn send_rendered(&self, out: &OutboundActivity) -> Result<SentMessage, ClientError> {
        let cfg = &self.config;
        let resp = call(&self.auth, "send", |t| prepare_send(cfg, t, out)).await?;
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
        let resp = call(&self.auth, "list", |t| prepare_list(cfg, t, page)).await?;
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
        let resp = call(&self.auth, "messages", |t| {
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
        let resp = call(&self.auth, "context", |t| {
            prepare_context(cfg, t, conversation_id)
        })
        .await?;
        parse_context(&resp)
    }
}

#[cfg(test)]
mod tests;
