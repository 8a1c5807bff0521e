//! [`SqliteStore`]: the embedded store through sqlx. One file in WAL mode with
//! `synchronous = FULL` (a commit survives power loss, not only a crash); migrations are
//! embedded in the binary and run at open.
//!
//! SQLite has one writer at a time, so every write goes through one writer task that owns
//! the write connection: it takes the jobs that queued while the previous transaction
//! committed and runs them all in one transaction (group commit), each inside its own
//! savepoint so that one failing job does not fail the others, and answers each caller only
//! after the commit. Reads use a separate pool of read-only connections (WAL lets them run
//! beside the writer).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::Activity;
use byoc_core::workstream::Presence;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};
use tokio::sync::mpsc;

use super::{
    Accepted, BotSession, ClaimedOutbound, ConversationRow, DeadLetter, InboxItem, NewInbound,
    OutboundResult, StepCommit, Store, StoreError,
};
use crate::model::{ConversationRecord, InboxEvent, TimerKind, TranscriptEntry};

mod relay;
mod rows;
mod step;
mod writer;

use rows::{
    bot_session_from_row, claimed_from_row, from_json, from_millis, millis, parse_presence,
    presence_name, to_json,
};
use writer::{Job, WRITE_QUEUE};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The SQLite store. Cheap to clone (shared).
#[derive(Clone)]
pub struct SqliteStore {
    pub(super) reader: SqlitePool,
    writer: mpsc::Sender<Job>,
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
        let mut write = SqliteConnection::connect_with(&options).await?;
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
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        tokio::spawn(writer::writer(write, rx, group_commit_max.max(1)));
        Ok(Self { reader, writer: tx })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn accept_inbound(
        &self,
        events: Vec<NewInbound>,
        watermark: Option<BotSession>,
    ) -> Result<Vec<Accepted>, StoreError> {
        let now = millis(Utc::now());
        let mut rows = Vec::with_capacity(events.len());
        for e in events {
            rows.push((
                e.channel,
                e.dedupe_key,
                e.conv_key,
                to_json(&e.event, "inbox.event")?,
            ));
        }
        self.write(move |conn| {
            Box::pin(async move {
                let mut out = Vec::with_capacity(rows.len());
                for (channel, key, conv_key, event) in rows {
                    let done = sqlx::query(
                        "INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) \
                         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
                    )
                    .bind(&channel)
                    .bind(&key)
                    .bind(&conv_key)
                    .bind(&event)
                    .bind(now)
                    .fetch_optional(&mut *conn)
                    .await?;
                    out.push(match done {
                        Some(row) => Accepted::New(row.try_get(0)?),
                        None => Accepted::Duplicate,
                    });
                }
                if let Some(w) = watermark {
                    sqlx::query(
                        "UPDATE bot_sessions SET watermark = ? WHERE conversation_id = ? AND bot_id = ?",
                    )
                    .bind(&w.watermark)
                    .bind(&w.conversation_id)
                    .bind(&w.bot_id)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(out)
            })
        })
        .await
    }

    async fn pending_inbox(&self, conv_key: &str) -> Result<Vec<InboxItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, event FROM inbox WHERE conv_key = ? AND processed_at IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(conv_key)
        .bind(super::INBOX_BATCH as i64)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let event: String = r.try_get("event")?;
                Ok(InboxItem {
                    seq: r.try_get("seq")?,
                    event: from_json::<InboxEvent>(&event, "inbox.event").ok(),
                })
            })
            .collect()
    }

    async fn keys_with_pending_inbox(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT conv_key, MIN(seq) AS first FROM inbox WHERE processed_at IS NULL GROUP BY conv_key ORDER BY first",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("conv_key")?)).collect()
    }

    async fn current_conversation(
        &self,
        conv_key: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT c.record FROM conversation_keys k JOIN conversations c ON c.id = k.conversation_id WHERE k.conv_key = ?",
        )
        .bind(conv_key)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| from_json(&r.try_get::<String, _>(0)?, "conversations.record"))
            .transpose()
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM conversations WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| from_json(&r.try_get::<String, _>(0)?, "conversations.record"))
            .transpose()
    }

    async fn open_conversations(
        &self,
        queues: &[String],
        agent: &str,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let queues = to_json(&queues, "queues")?;
        let rows = sqlx::query(
            "SELECT record, updated_at FROM conversations WHERE state != 'closed' AND \
             ((owner_kind = 'agent' AND owner_id = ?) OR \
              (owner_kind != 'bot' AND queue IN (SELECT value FROM json_each(?)))) \
             ORDER BY created_at",
        )
        .bind(agent)
        .bind(&queues)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConversationRow {
                    record: from_json(&r.try_get::<String, _>("record")?, "conversations.record")?,
                    updated_at: from_millis(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    async fn transcript(&self, conversation_id: &str) -> Result<Vec<TranscriptEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT pos, author, activity, note, at FROM transcript WHERE conversation_id = ? ORDER BY pos",
        )
        .bind(conversation_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let activity: Option<String> = r.try_get("activity")?;
                Ok(TranscriptEntry {
                    pos: u32::try_from(r.try_get::<i64, _>("pos")?).unwrap_or(0),
                    author: from_json(&r.try_get::<String, _>("author")?, "transcript.author")?,
                    activity: activity
                        .map(|a| Activity::from_json(&a).map(Box::new))
                        .transpose()
                        .map_err(|_| StoreError::Corrupt("transcript.activity"))?,
                    note: r.try_get("note")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    async fn commit_step(&self, step: StepCommit) -> Result<(), StoreError> {
        step::commit_step(self, step).await
    }

    async fn claim_outbound(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedOutbound>, StoreError> {
        let owner = owner.to_owned();
        let now_ms = millis(now);
        let until = now_ms + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let limit = i64::try_from(limit).unwrap_or(64);
        self.write(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "UPDATE outbox SET lease_owner = ?3, lease_expires_at = ?4 WHERE id IN ( \
                       SELECT o.id FROM outbox o \
                       WHERE o.status = 'pending' AND o.next_attempt_at <= ?1 \
                         AND (o.lease_expires_at IS NULL OR o.lease_expires_at <= ?1) \
                         AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.lane = o.lane AND p.status = 'pending') \
                       ORDER BY o.id LIMIT ?2) \
                     RETURNING id, conversation_id, target, activity, attempts, created_at",
                )
                .bind(now_ms)
                .bind(limit)
                .bind(&owner)
                .bind(until)
                .fetch_all(&mut *conn)
                .await?;
                let mut claimed = rows.iter().map(claimed_from_row).collect::<Result<Vec<_>, _>>()?;
                claimed.sort_by_key(|c| c.id);
                Ok(claimed)
            })
        })
        .await
    }

    async fn finish_outbound(
        &self,
        id: i64,
        owner: &str,
        result: OutboundResult,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let owner = owner.to_owned();
        let now_ms = millis(now);
        self.write(move |conn| {
            Box::pin(async move {
                let q = match &result {
                    OutboundResult::Delivered(provider_id) => sqlx::query(
                        "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, provider_id = ?, \
                         finished_at = ?, lease_owner = NULL, lease_expires_at = NULL \
                         WHERE id = ? AND lease_owner = ? AND status = 'pending'",
                    )
                    .bind(provider_id.clone())
                    .bind(now_ms),
                    OutboundResult::Retry { at, error } => sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, \
                         lease_owner = NULL, lease_expires_at = NULL \
                         WHERE id = ? AND lease_owner = ? AND status = 'pending'",
                    )
                    .bind(error.clone())
                    .bind(millis(*at)),
                    OutboundResult::Dead(reason) => sqlx::query(
                        "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, \
                         finished_at = ?, lease_owner = NULL, lease_expires_at = NULL \
                         WHERE id = ? AND lease_owner = ? AND status = 'pending'",
                    )
                    .bind(reason.clone())
                    .bind(now_ms),
                };
                let done = q.bind(id).bind(&owner).execute(&mut *conn).await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn next_outbound_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN o.lease_expires_at IS NOT NULL AND o.lease_expires_at > o.next_attempt_at \
             THEN o.lease_expires_at ELSE o.next_attempt_at END) FROM outbox o WHERE o.status = 'pending' \
             AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.lane = o.lane AND p.status = 'pending')",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(from_millis))
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, target, attempts, last_error, finished_at FROM outbox \
             WHERE status = 'dead' ORDER BY finished_at DESC, id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    target: r.try_get("target")?,
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
                    reason: r
                        .try_get::<Option<String>, _>("last_error")?
                        .unwrap_or_default(),
                    dead_at: from_millis(r.try_get::<Option<i64>, _>("finished_at")?.unwrap_or(0)),
                })
            })
            .collect()
    }

    async fn replay_dead_letter(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let now_ms = millis(now);
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL \
                     WHERE id = ? AND status = 'dead'",
                )
                .bind(now_ms)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    async fn fire_due_timers(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let now_ms = millis(now);
        self.write(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT conversation_id, kind, conv_key FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT 256",
                )
                .bind(now_ms)
                .fetch_all(&mut *conn)
                .await?;
                let mut keys = Vec::with_capacity(rows.len());
                for row in &rows {
                    let conversation: String = row.try_get("conversation_id")?;
                    let kind: String = row.try_get("kind")?;
                    let key: String = row.try_get("conv_key")?;
                    sqlx::query("DELETE FROM timers WHERE conversation_id = ? AND kind = ?")
                        .bind(&conversation)
                        .bind(&kind)
                        .execute(&mut *conn)
                        .await?;
                    let Some(timer) = TimerKind::parse(&kind) else {
                        continue;
                    };
                    let event = to_json(&InboxEvent::Timer { conversation, timer }, "inbox.event")?;
                    sqlx::query(
                        "INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) VALUES ('timer', NULL, ?, ?, ?)",
                    )
                    .bind(&key)
                    .bind(&event)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    keys.push(key);
                }
                Ok(keys)
            })
        })
        .await
    }

    async fn next_timer_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT MIN(due_at) FROM timers")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(from_millis))
    }

    async fn agent_presence(&self) -> Result<Vec<(String, Presence)>, StoreError> {
        let rows = sqlx::query("SELECT id, presence FROM agents")
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    parse_presence(&r.try_get::<String, _>("presence")?),
                ))
            })
            .collect()
    }

    async fn set_agent_presence(
        &self,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let agent = agent.to_owned();
        let now_ms = millis(now);
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO agents (id, presence, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET presence = excluded.presence, updated_at = excluded.updated_at",
                )
                .bind(&agent)
                .bind(presence_name(presence))
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn agent_loads(&self) -> Result<Vec<(String, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT owner_id, COUNT(*) AS n FROM conversations WHERE owner_kind = 'agent' AND state != 'closed' GROUP BY owner_id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("owner_id")?,
                    u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                ))
            })
            .collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        agent: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (hash, agent, exp) = (token_hash.to_owned(), agent.to_owned(), millis(expires_at));
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, agent_id, expires_at) VALUES (?, ?, ?)",
                )
                .bind(&hash)
                .bind(&agent)
                .bind(exp)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn session_agent(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT agent_id FROM sessions WHERE token_hash = ? AND expires_at > ?")
                .bind(token_hash)
                .bind(millis(now))
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
                    .bind(&hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn save_bot_session(&self, s: BotSession) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO bot_sessions (conversation_id, bot_id, conv_key, dl_conversation_id, watermark, active) \
                     VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (conversation_id, bot_id) DO UPDATE SET \
                     dl_conversation_id = excluded.dl_conversation_id, watermark = excluded.watermark, active = 1",
                )
                .bind(&s.conversation_id)
                .bind(&s.bot_id)
                .bind(&s.conv_key)
                .bind(&s.dl_conversation_id)
                .bind(&s.watermark)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn bot_session(
        &self,
        conversation_id: &str,
        bot_id: &str,
    ) -> Result<Option<BotSession>, StoreError> {
        let row = sqlx::query(
            "SELECT conversation_id, bot_id, conv_key, dl_conversation_id, watermark FROM bot_sessions \
             WHERE conversation_id = ? AND bot_id = ?",
        )
        .bind(conversation_id)
        .bind(bot_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| bot_session_from_row(&r)).transpose()
    }

    async fn active_bot_sessions(&self) -> Result<Vec<BotSession>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, bot_id, conv_key, dl_conversation_id, watermark FROM bot_sessions WHERE active = 1",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(bot_session_from_row).collect()
    }

    async fn end_bot_session(&self, conversation_id: &str, bot_id: &str) -> Result<(), StoreError> {
        let (conv, bot) = (conversation_id.to_owned(), bot_id.to_owned());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE bot_sessions SET active = 0 WHERE conversation_id = ? AND bot_id = ?",
                )
                .bind(&conv)
                .bind(&bot)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn prune(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let (before, now) = (millis(before), millis(now));
        self.write(move |conn| {
            Box::pin(async move {
                let inbox = sqlx::query(
                    "DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ?",
                )
                .bind(before)
                .execute(&mut *conn)
                .await?;
                sqlx::query("DELETE FROM outbox WHERE status = 'delivered' AND finished_at < ?")
                    .bind(before)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(inbox.rows_affected())
            })
        })
        .await
    }
}
