//! [`RelayStore`]: what relaying to a contact-center platform adds to the store — the
//! link between a byoc conversation and the platform's, the replay id of each platform's
//! event stream (written with the events it delivered), and the reads the admin API and
//! the relay need. A trait of its own beside [`Store`](super::Store), implemented by
//! [`SqliteStore`](super::SqliteStore) over the same file and writer.

use async_trait::async_trait;
use byoc_core::Activity;

use super::{Accepted, ConversationRow, NewInbound, StoreError};

/// A byoc conversation's conversation on a platform.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlatformLink {
    /// The platform entry (`[channels]` name).
    pub platform: String,
    /// The platform's conversation id (Messaging API conversation id, Salesforce
    /// conversation identifier).
    pub platform_conversation_id: String,
    /// byoc's conversation.
    pub conversation_id: String,
    /// Its ordering key.
    pub conv_key: String,
    /// The customer's id on the platform.
    pub end_user: Option<String>,
    /// The platform's work item (Salesforce MessagingSession), when known.
    pub work_item_id: Option<String>,
}

impl PlatformLink {
    /// A link.
    #[must_use]
    pub fn new(
        platform: impl Into<String>,
        platform_conversation_id: impl Into<String>,
        conversation_id: impl Into<String>,
        conv_key: impl Into<String>,
    ) -> Self {
        Self {
            platform: platform.into(),
            platform_conversation_id: platform_conversation_id.into(),
            conversation_id: conversation_id.into(),
            conv_key: conv_key.into(),
            end_user: None,
            work_item_id: None,
        }
    }

    /// With the customer's id on the platform.
    #[must_use]
    pub fn with_end_user(mut self, end_user: impl Into<String>) -> Self {
        self.end_user = Some(end_user.into());
        self
    }

    /// With the platform's work item.
    #[must_use]
    pub fn with_work_item(mut self, work_item_id: Option<String>) -> Self {
        self.work_item_id = work_item_id;
        self
    }
}

/// Where a platform's events go: a byoc conversation and its ordering key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConversationKey {
    /// The conversation.
    pub conversation_id: String,
    /// Its ordering key.
    pub conv_key: String,
}

/// The relay's part of the store.
#[async_trait]
pub trait RelayStore: Send + Sync + std::fmt::Debug {
    /// Records (or updates: work item) a conversation's link to its platform conversation.
    async fn save_platform_link(&self, link: PlatformLink) -> Result<(), StoreError>;

    /// The link of a byoc conversation on a platform (the newest when there are several).
    async fn platform_link(
        &self,
        platform: &str,
        conversation_id: &str,
    ) -> Result<Option<PlatformLink>, StoreError>;

    /// The link of a platform conversation (to its newest byoc conversation).
    async fn link_of_platform_conversation(
        &self,
        platform: &str,
        platform_conversation_id: &str,
    ) -> Result<Option<PlatformLink>, StoreError>;

    /// The newest conversation not closed that relays `end_user` to `platform` (for a
    /// platform event that arrives before its link was recorded).
    async fn open_relayed_conversation(
        &self,
        platform: &str,
        end_user: &str,
    ) -> Result<Option<ConversationKey>, StoreError>;

    /// Persists events from a platform's stream (dropping duplicates by their dedupe key)
    /// and, in the same transaction, the replay id after them: the stream resumes after
    /// what was persisted, never before nor after it.
    async fn accept_platform_events(
        &self,
        events: Vec<NewInbound>,
        platform: &str,
        replay_id: &[u8],
    ) -> Result<Vec<Accepted>, StoreError>;

    /// The stored replay id of a platform's stream.
    async fn replay_cursor(&self, platform: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// An outbound row's conversation and activity (to acknowledge what it carried).
    async fn outbound_activity(&self, id: i64) -> Result<Option<(String, Activity)>, StoreError>;

    /// Conversations, newest first (all, or only those not closed), at most `limit`.
    async fn recent_conversations(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<ConversationRow>, StoreError>;

    /// Every platform link of a conversation.
    async fn links_of(&self, conversation_id: &str) -> Result<Vec<PlatformLink>, StoreError>;
}
