//! The inbox: inbound events appended (deduplicated by the provider's id), read back per
//! ordering key; timers turned into inbox events; old entries pruned.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row as _};

use super::SqliteStore;
use super::rows::{from_json, from_millis, millis, to_json};
use super::writer::{Priority, Script};
use crate::model::{ConversationRecord, InboxEvent};
use crate::store::{Accepted, BotSession, InboxItem, NewInbound, StoreError};

/// Timers moved into the inbox per call, at most.
const TIMERS_PER_CALL: i64 = 256;

/// One inbound event as stored.
pub(super) struct InboxRow {
    pub(super) channel: String,
    pub(super) dedupe_key: Option<String>,
    pub(super) conv_key: String,
    pub(super) event: String,
    pub(super) received_at: i64,
}

/// Persists inbound events, dropping those already seen, and records a bot session's
/// watermark with them; an urgent write (a provider waits for its answer). Without a
/// watermark the rows join every other webhook's of the same transaction in one statement.
pub(super) async fn accept(
    store: &SqliteStore,
    events: Vec<NewInbound>,
    watermark: Option<BotSession>,
) -> Result<Vec<Accepted>, StoreError> {
    let Some(w) = watermark else {
        return store.append(inbox_rows(events)?).await;
    };
    accept_with(store, events, move |sql| {
        sql.push("UPDATE bot_sessions SET watermark = ")
            .push_bind(w.watermark)
            .push(" WHERE conversation_id = ")
            .push_bind(w.conversation_id)
            .push(" AND bot_id = ")
            .push_bind(w.bot_id)
            .push("; ");
    })
    .await
}

pub(super) fn inbox_rows(events: Vec<NewInbound>) -> Result<Vec<InboxRow>, StoreError> {
    let now = millis(Utc::now());
    events
        .into_iter()
        .map(|e| {
            Ok(InboxRow {
                event: to_json(&e.event, "inbox.event")?,
                channel: e.channel,
                dedupe_key: e.dedupe_key,
                conv_key: e.conv_key,
                received_at: now,
            })
        })
        .collect()
}

/// Persists inbound events, dropping those already seen, together with the statements
/// `also` appends (a cursor or a watermark that must move with them), in one savepoint;
/// an urgent write.
pub(super) async fn accept_with(
    store: &SqliteStore,
    events: Vec<NewInbound>,
    also: impl FnOnce(&mut QueryBuilder<'static, Sqlite>),
) -> Result<Vec<Accepted>, StoreError> {
    let rows = inbox_rows(events)?;
    let mut script = Script::new();
    let sql = script.sql();
    for chunk in rows.chunks(APPEND_CHUNK) {
        sql.push("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) ");
        sql.push_values(chunk, |mut b, r| {
            b.push_bind(r.channel.clone())
                .push_bind(r.dedupe_key.clone())
                .push_bind(r.conv_key.clone())
                .push_bind(r.event.clone())
                .push_bind(r.received_at);
        });
        sql.push(" ON CONFLICT DO NOTHING RETURNING seq, channel, dedupe_key; ");
    }
    also(sql);
    store
        .write(Priority::Urgent, script, move |returned| {
            let refs: Vec<&InboxRow> = rows.iter().collect();
            match_returned(&refs, &returned)
        })
        .await
}

/// Rows per insert statement, at most (SQLite allows 32 766 bound values).
pub(super) const APPEND_CHUNK: usize = 1000;

/// Appends the statement inserting inbox rows (of one or several webhooks), returning
/// `seq, channel, dedupe_key` for the rows stored; at most [`APPEND_CHUNK`] rows.
pub(super) fn push_append<'a>(sql: &mut QueryBuilder<'a, Sqlite>, rows: &[&'a InboxRow]) {
    sql.push("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) ");
    sql.push_values(rows, |mut b, r| {
        b.push_bind(r.channel.as_str())
            .push_bind(r.dedupe_key.as_deref())
            .push_bind(r.conv_key.as_str())
            .push_bind(r.event.as_str())
            .push_bind(r.received_at);
    });
    sql.push(" ON CONFLICT DO NOTHING RETURNING seq, channel, dedupe_key; ");
}

/// Inserts inbox rows, [`APPEND_CHUNK`] per statement, and answers per row, in order.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    rows: &[&InboxRow],
) -> Result<Vec<Accepted>, StoreError> {
    let mut answers = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(APPEND_CHUNK) {
        let mut sql = QueryBuilder::new("");
        push_append(&mut sql, chunk);
        let returned = sql.build().fetch_all(&mut *conn).await?;
        answers.extend(match_returned(chunk, &returned)?);
    }
    Ok(answers)
}

/// Which row each returned `seq` belongs to: keyed rows by (channel, provider id), the
/// first occurrence winning; rows without an id in order (their sequence numbers ascend in
/// the order of the values).
pub(super) fn match_returned(
    rows: &[&InboxRow],
    returned: &[SqliteRow],
) -> Result<Vec<Accepted>, StoreError> {
    let mut answers = vec![Accepted::Duplicate; rows.len()];
    let mut keyed: HashMap<(&str, &str), usize> = HashMap::new();
    let mut keyless = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match &r.dedupe_key {
            Some(k) => {
                keyed.entry((r.channel.as_str(), k.as_str())).or_insert(i);
            }
            None => keyless.push(i),
        }
    }
    let mut plain = Vec::new();
    for row in returned {
        let seq: i64 = row.try_get("seq")?;
        match row.try_get::<Option<String>, _>("dedupe_key")? {
            Some(k) => {
                let channel: String = row.try_get("channel")?;
                if let Some(&i) = keyed.get(&(channel.as_str(), k.as_str())) {
                    answers[i] = Accepted::New(seq);
                }
            }
            None => plain.push(seq),
        }
    }
    plain.sort_unstable();
    for (i, seq) in keyless.into_iter().zip(plain) {
        answers[i] = Accepted::New(seq);
    }
    Ok(answers)
}

/// Unprocessed inbox entries of one key, in arrival order.
pub(super) async fn pending(
    store: &SqliteStore,
    conv_key: &str,
) -> Result<Vec<InboxItem>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, event FROM inbox WHERE conv_key = ? AND processed_at IS NULL ORDER BY seq LIMIT ?",
    )
    .bind(conv_key)
    .bind(crate::store::INBOX_BATCH as i64)
    .fetch_all(&store.reader)
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

/// The key's conversation and unprocessed entries, in one read.
pub(super) async fn pending_work(
    store: &SqliteStore,
    conv_key: &str,
) -> Result<(Option<ConversationRecord>, Vec<InboxItem>), StoreError> {
    let rows = sqlx::query(
        "SELECT NULL AS seq, c.record AS body FROM conversation_keys k \
         JOIN conversations c ON c.id = k.conversation_id WHERE k.conv_key = ? \
         UNION ALL SELECT seq, event FROM (SELECT seq, event FROM inbox \
         WHERE conv_key = ? AND processed_at IS NULL ORDER BY seq LIMIT ?)",
    )
    .bind(conv_key)
    .bind(conv_key)
    .bind(crate::store::INBOX_BATCH as i64)
    .fetch_all(&store.reader)
    .await?;
    let mut current = None;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let body: String = r.try_get("body")?;
        match r.try_get::<Option<i64>, _>("seq")? {
            None => current = Some(from_json(&body, "conversations.record")?),
            Some(seq) => items.push(InboxItem {
                seq,
                event: from_json::<InboxEvent>(&body, "inbox.event").ok(),
            }),
        }
    }
    items.sort_by_key(|i| i.seq);
    Ok((current, items))
}

/// Keys with unprocessed entries, oldest first.
pub(super) async fn keys_with_pending(store: &SqliteStore) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT conv_key, MIN(seq) AS first FROM inbox WHERE processed_at IS NULL GROUP BY conv_key ORDER BY first",
    )
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("conv_key")?)).collect()
}

/// Unprocessed entries (counted on the partial index of pending entries).
pub(super) async fn backlog(store: &SqliteStore) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
        .fetch_one(&store.reader)
        .await?;
    Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
}

/// Moves due timers into the inbox (the event JSON is [`InboxEvent::Timer`]'s stored form)
/// and returns their keys.
pub(super) async fn fire_due_timers(
    store: &SqliteStore,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let now_ms = millis(now);
    let due = "SELECT rowid FROM timers WHERE due_at <= ";
    let order = " ORDER BY due_at, conversation_id, kind LIMIT ";
    let mut script = Script::new();
    script
        .sql()
        .push(
            "INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) \
             SELECT 'timer', NULL, conv_key, \
             json_object('timer', json_object('conversation', conversation_id, 'timer', kind)), ",
        )
        .push_bind(now_ms)
        .push(" FROM timers WHERE rowid IN (")
        .push(due)
        .push_bind(now_ms)
        .push(order)
        .push_bind(TIMERS_PER_CALL)
        .push(") ORDER BY due_at, conversation_id, kind; DELETE FROM timers WHERE rowid IN (")
        .push(due)
        .push_bind(now_ms)
        .push(order)
        .push_bind(TIMERS_PER_CALL)
        .push(") RETURNING conv_key; ");
    store
        .write(Priority::Background, script, |rows| {
            rows.iter().map(|r| Ok(r.try_get("conv_key")?)).collect()
        })
        .await
}

/// The earliest timer.
pub(super) async fn next_timer_due(
    store: &SqliteStore,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row = sqlx::query("SELECT MIN(due_at) FROM timers")
        .fetch_one(&store.reader)
        .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.map(from_millis))
}

/// Forgets processed inbox entries and delivered outbound rows older than `before`, and
/// expired sessions; returns how many inbox entries went.
pub(super) async fn prune(
    store: &SqliteStore,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let (before, now) = (millis(before), millis(now));
    let mut script = Script::new();
    script
        .sql()
        .push("DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ")
        .push_bind(before)
        .push("; SELECT changes() AS pruned; ")
        .push("DELETE FROM outbox WHERE status = 'delivered' AND finished_at < ")
        .push_bind(before)
        .push("; DELETE FROM sessions WHERE expires_at <= ")
        .push_bind(now)
        .push("; DELETE FROM routing_work WHERE item IS NULL AND updated_at < ")
        .push_bind(before)
        .push("; ");
    store
        .write(Priority::Background, script, |rows| {
            let pruned: i64 = match rows.first() {
                Some(r) => r.try_get("pruned")?,
                None => 0,
            };
            Ok(u64::try_from(pruned).unwrap_or(0))
        })
        .await
}
