//! The [`Store`]: everything the gateway must not lose. One trait, so the PostgreSQL
//! backend of a later version is the same code path; [`SqliteStore`] is the embedded default
//! (one file, WAL, migrations embedded and run at start).
//!
//! Writes are few kinds of small transactions, shaped for a database that claims rows with
//! `FOR UPDATE SKIP LOCKED`: inbound events are appended to an inbox (deduplicated by the
//! provider's message id), a processed step commits the conversation, its transcript
//! entries, its outbound activities and its timers together, and outbound rows are claimed
//! with a lease that expires, lowest id first per lane. So that a message costs few writes,
//! the step that queues outbound rows may claim them at once ([`StepCommit::claim`]), and
//! recording a delivery may claim the next row of its lane ([`Store::finish_outbound`]).

mod relay;
mod sqlite;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use byoc_core::Activity;
use byoc_core::workstream::{Presence, WorkItem};
use chrono::{DateTime, Utc};

use crate::model::{ConversationRecord, InboxEvent, Target, TimerKind, TranscriptEntry};

pub use relay::{ConversationKey, PlatformLink, RelayStore};
pub use sqlite::SqliteStore;

/// Most inbox entries [`Store::pending_inbox`] returns at once.
pub(crate) const INBOX_BATCH: usize = 64;

/// A store failure. Never contains a message body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not run.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (`table.column`).
    #[error("stored value `{0}` is unreadable")]
    Corrupt(&'static str),
    /// A value could not be written as JSON.
    #[error("cannot serialize `{0}`")]
    Serialize(&'static str),
    /// The transaction holding this write failed to commit.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

/// One inbound event to persist.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewInbound {
    /// The channel (or `bot:<id>`) it came from; scopes the dedupe key.
    pub channel: String,
    /// The provider's message id; `None` when the provider gives none (never deduplicated).
    pub dedupe_key: Option<String>,
    /// The ordering key.
    pub conv_key: String,
    /// The event.
    pub event: InboxEvent,
}

impl NewInbound {
    /// An inbound event.
    #[must_use]
    pub fn new(
        channel: impl Into<String>,
        dedupe_key: Option<String>,
        conv_key: impl Into<String>,
        event: InboxEvent,
    ) -> Self {
        Self {
            channel: channel.into(),
            dedupe_key,
            conv_key: conv_key.into(),
            event,
        }
    }
}

/// What became of one inbound event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// Persisted with this inbox sequence number.
    New(i64),
    /// Already seen (same channel and provider message id): dropped.
    Duplicate,
}

/// A Direct Line conversation with a bot, and how far its replies were read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BotSession {
    /// Our conversation.
    pub conversation_id: String,
    /// The bot.
    pub bot_id: String,
    /// The conversation's ordering key.
    pub conv_key: String,
    /// Direct Line's conversation id.
    pub dl_conversation_id: String,
    /// The last watermark read.
    pub watermark: Option<String>,
}

/// An inbox entry waiting to be processed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InboxItem {
    /// Sequence number (arrival order).
    pub seq: i64,
    /// The event; `None` when the stored event cannot be read back (it is then skipped,
    /// so one bad row never blocks its conversation).
    pub event: Option<InboxEvent>,
}

/// A timer to set or cancel with a step.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerChange {
    /// Sets (or moves) the timer.
    Set(TimerKind, DateTime<Utc>),
    /// Cancels it.
    Cancel(TimerKind),
}

/// An outbound activity to queue with a step.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewOutbound {
    /// Where it goes.
    pub target: Target,
    /// What.
    pub activity: Activity,
}

/// Everything one processed event changes, committed in one transaction.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StepCommit {
    /// The conversation after the step; `None` when the events touched no conversation
    /// (they are only marked processed).
    pub record: Option<ConversationRecord>,
    /// Whether the record is a conversation this step created (its key now points to it).
    pub new_conversation: bool,
    /// Inbox entries this step consumed.
    pub processed: Vec<i64>,
    /// New transcript entries.
    pub transcript: Vec<TranscriptEntry>,
    /// New outbound activities, in order.
    pub outbox: Vec<NewOutbound>,
    /// Timer changes.
    pub timers: Vec<TimerChange>,
    /// Whether `record` is the conversation exactly as stored (its row is not rewritten).
    pub record_unchanged: bool,
    /// Claims, for this lease, the head of every lane this step queued to (when due and not
    /// leased): the step's own first row of a new lane is then delivered without a claim of
    /// its own.
    pub claim: Option<Lease>,
    /// The router's waiting set, rewritten for the conversations the step moved.
    pub work: Vec<WorkChange>,
    /// Router actions for other conversations, appended to their inboxes.
    pub follow_ups: Vec<NewInbound>,
}

/// A change to the router's stored waiting set.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkChange {
    /// The conversation waits or is offered: (re)writes its record, unless a change
    /// decided later (a higher version) is stored already.
    Save {
        /// The record.
        work: Box<StoredWork>,
        /// When it was decided: increasing across the gateway's life and its restarts.
        version: i64,
    },
    /// The conversation left the waiting set: forgets it, unless a change decided later is
    /// stored already.
    Forget {
        /// The conversation.
        conversation: String,
        /// When it was decided.
        version: i64,
    },
}

/// A conversation of the router's waiting set, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredWork {
    /// The workstream whose router tracks it.
    pub workstream: String,
    /// Its ordering key (where its follow-up events go).
    pub conv_key: String,
    /// The router's record of it (the conversation id is inside).
    pub item: WorkItem,
}

/// A lease on outbound rows: who holds them and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The worker's id.
    pub owner: String,
    /// How long, from the claim.
    pub duration: std::time::Duration,
}

impl Lease {
    /// A lease for `owner`, `duration` long.
    #[must_use]
    pub fn new(owner: impl Into<String>, duration: std::time::Duration) -> Self {
        Self {
            owner: owner.into(),
            duration,
        }
    }
}

/// What recording a delivery attempt did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Finished {
    /// `false` when the lease was lost (another worker took the row over): nothing was
    /// recorded.
    pub recorded: bool,
    /// The lane's next row, claimed for the same owner, when asked for and deliverable.
    pub next: Option<ClaimedOutbound>,
}

/// An outbound activity claimed by a worker.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClaimedOutbound {
    /// Row id (also the idempotency key given to providers that accept one).
    pub id: i64,
    /// The conversation.
    pub conversation_id: String,
    /// Where it goes.
    pub target: Target,
    /// What.
    pub activity: Activity,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the claim's lease ends.
    pub leased_until: DateTime<Utc>,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboundResult {
    /// Delivered; the provider's id for it.
    Delivered(Option<String>),
    /// Try again at this time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed (no body).
        error: String,
    },
    /// Given up: dead-lettered with this reason.
    Dead(String),
}

/// A dead-lettered outbound activity.
#[derive(Clone, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct DeadLetter {
    /// Row id (replay with it).
    pub id: i64,
    /// The conversation.
    pub conversation_id: String,
    /// `channel:<name>` or `bot:<id>`.
    pub target: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why it was given up.
    pub reason: String,
    /// When.
    pub dead_at: DateTime<Utc>,
}

/// A provider's delivery receipt for one outbound row (a TeleSign delivery report).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Receipt {
    /// The outbound row reported on.
    pub outbox_id: i64,
    /// The report (the activity's typed `value`).
    pub report: serde_json::Value,
    /// No further report follows: a final receipt is never replaced.
    pub is_final: bool,
}

impl Receipt {
    /// A receipt for row `outbox_id`.
    #[must_use]
    pub fn new(outbox_id: i64, report: serde_json::Value, is_final: bool) -> Self {
        Self {
            outbox_id,
            report,
            is_final,
        }
    }
}

/// One outbound activity of a conversation and what became of it (the admin view).
#[derive(Clone, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct OutboundRecord {
    /// Row id.
    pub id: i64,
    /// `channel:<name>`, `bot:<id>` or `platform:<name>`.
    pub target: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The provider's id for it, once delivered.
    pub provider_id: Option<String>,
    /// The last failure (no body).
    pub last_error: Option<String>,
    /// The provider's latest delivery receipt, if any came.
    pub receipt: Option<serde_json::Value>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered or given up.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A conversation as listed to agents.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConversationRow {
    /// The record.
    pub record: ConversationRecord,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Where the gateway's durable state lives.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Persists inbound events (committed together with concurrent calls), dropping
    /// duplicates, and optionally records a bot session's new watermark in the same
    /// transaction. Answers once the events are durable.
    async fn accept_inbound(
        &self,
        events: Vec<NewInbound>,
        watermark: Option<BotSession>,
    ) -> Result<Vec<Accepted>, StoreError>;

    /// Unprocessed inbox entries of one ordering key, in arrival order (at most 64).
    async fn pending_inbox(&self, conv_key: &str) -> Result<Vec<InboxItem>, StoreError>;

    /// The current conversation of an ordering key and its unprocessed inbox entries (as
    /// [`Store::current_conversation`] and [`Store::pending_inbox`]), which a backend may
    /// read in one query.
    async fn pending_work(
        &self,
        conv_key: &str,
    ) -> Result<(Option<ConversationRecord>, Vec<InboxItem>), StoreError> {
        let current = self.current_conversation(conv_key).await?;
        Ok((current, self.pending_inbox(conv_key).await?))
    }

    /// Ordering keys with unprocessed inbox entries (to resume after a restart).
    async fn keys_with_pending_inbox(&self) -> Result<Vec<String>, StoreError>;

    /// How many inbox entries wait for processing (the backlog webhooks are refused past).
    async fn inbox_backlog(&self) -> Result<u64, StoreError>;

    /// Records providers' delivery receipts on the outbound rows they report on (rows
    /// unknown or already holding a final receipt are left alone); an urgent write: the
    /// provider waits for its answer.
    async fn record_receipts(&self, receipts: Vec<Receipt>) -> Result<(), StoreError>;

    /// A conversation's outbound activities, oldest first, with their delivery state.
    async fn outbound_of(&self, conversation_id: &str) -> Result<Vec<OutboundRecord>, StoreError>;

    /// The current conversation of an ordering key.
    async fn current_conversation(
        &self,
        conv_key: &str,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// A conversation by id.
    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError>;

    /// Conversations routed to any of these queues or held by this agent, not closed.
    async fn open_conversations(
        &self,
        queues: &[String],
        agent: &str,
    ) -> Result<Vec<ConversationRow>, StoreError>;

    /// A conversation's transcript, in order.
    async fn transcript(&self, conversation_id: &str) -> Result<Vec<TranscriptEntry>, StoreError>;

    /// Commits one processed step; returns the rows it claimed ([`StepCommit::claim`]).
    async fn commit_step(&self, step: StepCommit) -> Result<Vec<ClaimedOutbound>, StoreError>;

    /// Claims up to `limit` deliverable outbound rows for `owner` until `now + lease`: per
    /// lane only the lowest pending row, when due and not leased to another live worker.
    async fn claim_outbound(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedOutbound>, StoreError>;

    /// Records the end of an attempt on a row this owner holds (nothing when the lease was
    /// lost) and, with `claim_next`, claims the next row of the same lane for that long, in
    /// the same transaction, when it is due and not leased.
    async fn finish_outbound(
        &self,
        id: i64,
        owner: &str,
        result: OutboundResult,
        now: DateTime<Utc>,
        claim_next: Option<std::time::Duration>,
    ) -> Result<Finished, StoreError>;

    /// The earliest time a pending outbound row becomes due (for the worker's sleep).
    async fn next_outbound_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Pending outbound rows.
    async fn outbox_depth(&self) -> Result<i64, StoreError>;

    /// Dead letters, newest first.
    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError>;

    /// Puts a dead letter back in its lane for immediate delivery; `false` if there is no
    /// such dead letter.
    async fn replay_dead_letter(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Moves due timers into the inbox (one event each, in the timer's conversation key)
    /// and returns the keys to wake.
    async fn fire_due_timers(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError>;

    /// The earliest timer.
    async fn next_timer_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Agents' stored presence.
    async fn agent_presence(&self) -> Result<Vec<(String, Presence)>, StoreError>;

    /// Stores an agent's presence.
    async fn set_agent_presence(
        &self,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The queues agents signed in to or out of: (agent, queue, joined).
    async fn agent_queue_choices(&self) -> Result<Vec<(String, String, bool)>, StoreError>;

    /// Stores an agent signing in to (`joined`) or out of a queue.
    async fn set_agent_queue(
        &self,
        agent: &str,
        queue: &str,
        joined: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Agents' own capacities (overriding the configuration).
    async fn agent_capacities(&self) -> Result<Vec<(String, u32)>, StoreError>;

    /// Stores an agent's own capacity; `None` forgets it (the configuration applies).
    async fn set_agent_capacity(
        &self,
        agent: &str,
        capacity: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Conversations each agent holds (its load), for conversations not closed.
    async fn agent_loads(&self) -> Result<Vec<(String, u32)>, StoreError>;

    /// Conversations each agent holds per channel (agent, channel, count), for
    /// conversations not closed (loads per channel kind, for capacity profiles).
    async fn agent_loads_by_channel(&self) -> Result<Vec<(String, String, u32)>, StoreError>;

    /// The router's stored waiting set (to restore it after a restart).
    async fn routing_work(&self) -> Result<Vec<StoredWork>, StoreError>;

    /// Commits router actions decided outside any conversation's step (a timer, an agent
    /// freeing up): the waiting set's changes and the follow-up events for the
    /// conversations concerned, in one transaction.
    async fn commit_routing(
        &self,
        work: Vec<WorkChange>,
        follow_ups: Vec<NewInbound>,
    ) -> Result<(), StoreError>;

    /// Stores a session (by the hash of its token).
    async fn create_session(
        &self,
        token_hash: &str,
        agent: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The agent of a live session.
    async fn session_agent(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError>;

    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Records a new Direct Line conversation with a bot.
    async fn save_bot_session(&self, session: BotSession) -> Result<(), StoreError>;

    /// The Direct Line conversation of a conversation with a bot.
    async fn bot_session(
        &self,
        conversation_id: &str,
        bot_id: &str,
    ) -> Result<Option<BotSession>, StoreError>;

    /// Bot sessions still in use (to resume reading replies after a restart).
    async fn active_bot_sessions(&self) -> Result<Vec<BotSession>, StoreError>;

    /// Marks a bot session finished (the bot handed off or the conversation closed).
    async fn end_bot_session(&self, conversation_id: &str, bot_id: &str) -> Result<(), StoreError>;

    /// Forgets processed inbox entries (and so their dedupe keys) older than `before`, the
    /// waiting set's records of conversations that left it before `before`, and expired
    /// sessions. Returns how many inbox entries went.
    async fn prune(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
