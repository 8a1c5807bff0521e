//! [`SqliteStore`]: the embedded store through sqlx. One file in WAL mode with
//! `synchronous = FULL` (a commit survives power loss, not only a crash); migrations are
//! embedded in the binary and run at open.
//!
//! SQLite has one writer at a time, so every write goes through one writer task that owns
//! the write connection (`writer`): it takes the jobs that queued while the previous
//! transaction committed and runs them all in one transaction (group commit), each one SQL
//! script inside its own savepoint so that one failing job does not fail the others, webhook
//! acknowledgements ahead of background work, and answers each caller only after the
//! commit. Reads use a separate pool of read-only connections (WAL lets them run beside the
//! writer).
//!
//! The submodules hold the statements by concern: `inbox` (inbound events, timers,
//! pruning), `step` (a processed step), `outbox` (claims, results, dead letters), `reads`
//! (conversations and transcripts), `agents` (presence, sessions, bot sessions), `desk`
//! (the queues agents left or joined, their own capacities), `routing` (the router's
//! waiting set).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::workstream::Presence;
use chrono::{DateTime, Utc};
use sqlx::Connection as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::{
    Accepted, BotSession, ClaimedOutbound, ConversationRow, DeadLetter, Finished, InboxItem,
    NewInbound, OutboundRecord, OutboundResult, Receipt, StepCommit, Store, StoreError, StoredWork,
    WorkChange,
};
use crate::model::{ConversationRecord, TranscriptEntry};

mod agents;
mod desk;
mod inbox;
mod outbox;
mod reads;
mod relay;
mod routing;
mod rows;
mod step;
mod writer;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Prepared scripts the write connection keeps.
const WRITE_STATEMENT_CACHE: usize = 1024;

/// The SQLite store. Cheap to clone (shared).
#[derive(Clone)]
pub struct SqliteStore {
    pub(super) reader: SqlitePool,
    writer: writer::Queues,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs the migrations.
    ///
    /// `group_commit_max` bounds how many queued writes share one transaction.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated.
    pub async fn open(path: &Path, group_commit_max: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // The writer's scripts vary with what a step holds (how many transcript entries,
        // outbound rows, timers): a cache large enough to keep each shape prepared.
        let mut write = SqliteConnection::connect_with(
            &options
                .clone()
                .statement_cache_capacity(WRITE_STATEMENT_CACHE),
        )
        .await?;
        MIGRATOR.run(&mut write).await?;
        // One gateway process owns an SQLite file, so the leases in it are those of this
        // file's previous process, which is gone: its work is taken back at once instead
        // of after the leases expire. (Stores shared by several instances let leases expire.)
        let released = sqlx::query(
            "UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE status = 'pending' AND lease_owner IS NOT NULL",
        )
        .execute(&mut write)
        .await?;
        if released.rows_affected() > 0 {
            tracing::info!(
                rows = released.rows_affected(),
                "outbox leases of the previous process released"
            );
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let writer = writer::spawn(write, group_commit_max);
        Ok(Self { reader, writer })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn accept_inbound(
        &self,
        events: Vec<NewInbound>,
        watermark: Option<BotSession>,
    ) -> Result<Vec<Accepted>, StoreError> {
        inbox::accept(self, events, watermark).await
    }

    async fn pending_inbox(&self, conv_key: &str) -> Result<Vec<InboxItem>, StoreError> {
        inbox::pending(self, conv_key).await
    }

    async fn pending_work(
        &self,
        conv_key: &str,
    ) -> Result<(Option<ConversationRecord>, Vec<InboxItem>), StoreError> {
        inbox::pending_work(self, conv_key).await
    }

    async fn keys_with_pending_inbox(&self) -> Result<Vec<String>, StoreError> {
        inbox::keys_with_pending(self).await
    }

    async fn inbox_backlog(&self) -> Result<u64, StoreError> {
        inbox::backlog(self).await
    }

    async fn record_receipts(&self, receipts: Vec<Receipt>) -> Result<(), StoreError> {
        outbox::record_receipts(self, receipts).await
    }

    async fn outbound_of(&self, conversation_id: &str) -> Result<Vec<OutboundRecord>, StoreError> {
        outbox::outbound_of(self, conversation_id).await
    }

    async fn current_conversation(
        &self,
        conv_key: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        reads::current_conversation(self, conv_key).await
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError> {
        reads::conversation(self, id).await
    }

    async fn open_conversations(
        &self,
        queues: &[String],
        agent: &str,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        reads::open_conversations(self, queues, agent).await
    }

    async fn transcript(&self, conversation_id: &str) -> Result<Vec<TranscriptEntry>, StoreError> {
        reads::transcript(self, conversation_id).await
    }

    async fn commit_step(&self, step: StepCommit) -> Result<Vec<ClaimedOutbound>, StoreError> {
        step::commit_step(self, step).await
    }

    async fn claim_outbound(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedOutbound>, StoreError> {
        outbox::claim(self, owner, now, lease, limit).await
    }

    async fn finish_outbound(
        &self,
        id: i64,
        owner: &str,
        result: OutboundResult,
        now: DateTime<Utc>,
        claim_next: Option<Duration>,
    ) -> Result<Finished, StoreError> {
        outbox::finish(self, id, owner, result, now, claim_next).await
    }

    async fn next_outbound_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        outbox::next_due(self).await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        outbox::depth(self).await
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        outbox::dead_letters(self, limit).await
    }

    async fn replay_dead_letter(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        outbox::replay(self, id, now).await
    }

    async fn fire_due_timers(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        inbox::fire_due_timers(self, now).await
    }

    async fn next_timer_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        inbox::next_timer_due(self).await
    }

    async fn agent_presence(&self) -> Result<Vec<(String, Presence)>, StoreError> {
        agents::presence(self).await
    }

    async fn set_agent_presence(
        &self,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        agents::set_presence(self, agent, presence, now).await
    }

    async fn agent_queue_choices(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        desk::queue_choices(self).await
    }

    async fn set_agent_queue(
        &self,
        agent: &str,
        queue: &str,
        joined: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        desk::set_queue(self, agent, queue, joined, now).await
    }

    async fn agent_capacities(&self) -> Result<Vec<(String, u32)>, StoreError> {
        desk::capacities(self).await
    }

    async fn set_agent_capacity(
        &self,
        agent: &str,
        capacity: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        desk::set_capacity(self, agent, capacity, now).await
    }

    async fn agent_loads(&self) -> Result<Vec<(String, u32)>, StoreError> {
        agents::loads(self).await
    }

    async fn agent_loads_by_channel(&self) -> Result<Vec<(String, String, u32)>, StoreError> {
        routing::loads_by_channel(self).await
    }

    async fn routing_work(&self) -> Result<Vec<StoredWork>, StoreError> {
        routing::work(self).await
    }

    async fn commit_routing(
        &self,
        work: Vec<WorkChange>,
        follow_ups: Vec<NewInbound>,
    ) -> Result<(), StoreError> {
        routing::commit(self, work, follow_ups).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        agent: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        agents::create_session(self, token_hash, agent, expires_at).await
    }

    async fn session_agent(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        agents::session_agent(self, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        agents::delete_session(self, token_hash).await
    }

    async fn save_bot_session(&self, session: BotSession) -> Result<(), StoreError> {
        agents::save_bot_session(self, session).await
    }

    async fn bot_session(
        &self,
        conversation_id: &str,
        bot_id: &str,
    ) -> Result<Option<BotSession>, StoreError> {
        agents::bot_session(self, conversation_id, bot_id).await
    }

    async fn active_bot_sessions(&self) -> Result<Vec<BotSession>, StoreError> {
        agents::active_bot_sessions(self).await
    }

    async fn end_bot_session(&self, conversation_id: &str, bot_id: &str) -> Result<(), StoreError> {
        agents::end_bot_session(self, conversation_id, bot_id).await
    }

    async fn prune(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, StoreError> {
        inbox::prune(self, before, now).await
    }
}
