//! The inbox: inbound events appended (deduplicated by the provider's id), read back per
//! ordering key; timers turned into inbox events; old entries pruned.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::SqliteStore;
use super::rows::{from_json, from_millis, millis, to_json};
use super::writer::{Priority, Script};
use crate::model::InboxEvent;
use crate::store::{Accepted, BotSession, InboxItem, NewInbound, StoreError};

/// Timers moved into the inbox per call, at most.
const TIMERS_PER_CALL: i64 = 256;

/// Appends inbound events in one statement (dropping those already seen) and records a bot
/// session's watermark with them; an urgent write (a provider waits for its answer).
pub(super) async fn accept(
    store: &SqliteStore,
    events: Vec<NewInbound>,
    watermark: Option<BotSession>,
) -> Result<Vec<Accepted>, StoreError> {
    let now = millis(Utc::now());
    let mut answers = vec![Accepted::Duplicate; events.len()];
    // Which event each stored row is: by (channel, provider id), or in order for events
    // without an id. A provider id repeated within one delivery is a duplicate of its first.
    let mut keyed: HashMap<(String, String), usize> = HashMap::new();
    let mut unkeyed: Vec<usize> = Vec::new();
    let mut values = Vec::with_capacity(events.len());
    for (i, e) in events.into_iter().enumerate() {
        match &e.dedupe_key {
            Some(k) => match keyed.entry((e.channel.clone(), k.clone())) {
                Entry::Occupied(_) => continue,
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            },
            None => unkeyed.push(i),
        }
        let event = to_json(&e.event, "inbox.event")?;
        values.push((e.channel, e.dedupe_key, e.conv_key, event));
    }
    let mut script = Script::new();
    if !values.is_empty() {
        let sql = script.sql();
        sql.push("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) ");
        sql.push_values(values, |mut row, (channel, key, conv_key, event)| {
            row.push_bind(channel)
                .push_bind(key)
                .push_bind(conv_key)
                .push_bind(event)
                .push_bind(now);
        });
        sql.push(" ON CONFLICT DO NOTHING RETURNING seq, channel, dedupe_key; ");
    }
    if let Some(w) = watermark {
        script
            .sql()
            .push("UPDATE bot_sessions SET watermark = ")
            .push_bind(w.watermark)
            .push(" WHERE conversation_id = ")
            .push_bind(w.conversation_id)
            .push(" AND bot_id = ")
            .push_bind(w.bot_id)
            .push("; ");
    }
    store
        .write(Priority::Urgent, script, move |rows| {
            let mut plain = Vec::new();
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                let key: Option<String> = row.try_get("dedupe_key")?;
                match key {
                    Some(k) => {
                        let channel: String = row.try_get("channel")?;
                        if let Some(&i) = keyed.get(&(channel, k)) {
                            answers[i] = Accepted::New(seq);
                        }
                    }
                    None => plain.push(seq),
                }
            }
            // Rows without a provider id were inserted in order: their sequence numbers
            // ascend with the events.
            plain.sort_unstable();
            for (i, seq) in unkeyed.into_iter().zip(plain) {
                answers[i] = Accepted::New(seq);
            }
            Ok(answers)
        })
        .await
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

/// Keys with unprocessed entries, oldest first.
pub(super) async fn keys_with_pending(store: &SqliteStore) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT conv_key, MIN(seq) AS first FROM inbox WHERE processed_at IS NULL GROUP BY conv_key ORDER BY first",
    )
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("conv_key")?)).collect()
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
