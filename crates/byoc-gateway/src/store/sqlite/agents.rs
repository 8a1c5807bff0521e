//! Agents' presence and sessions; Direct Line sessions with bots.

use byoc_core::workstream::Presence;
use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::SqliteStore;
use super::rows::{bot_session_from_row, millis, parse_presence, presence_name};
use super::writer::{Priority, Script};
use crate::store::{BotSession, StoreError};

pub(super) async fn presence(store: &SqliteStore) -> Result<Vec<(String, Presence)>, StoreError> {
    let rows = sqlx::query("SELECT id, presence FROM agents")
        .fetch_all(&store.reader)
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

/// An agent's presence; an urgent write (the agent waits).
pub(super) async fn set_presence(
    store: &SqliteStore,
    agent: &str,
    presence: Presence,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("INSERT INTO agents (id, presence, updated_at) VALUES (")
        .push_bind(agent.to_owned())
        .push(", ")
        .push_bind(presence_name(presence))
        .push(", ")
        .push_bind(millis(now))
        .push(
            ") ON CONFLICT (id) DO UPDATE SET presence = excluded.presence, \
             updated_at = excluded.updated_at; ",
        );
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

pub(super) async fn loads(store: &SqliteStore) -> Result<Vec<(String, u32)>, StoreError> {
    let rows = sqlx::query(
        "SELECT owner_id, COUNT(*) AS n FROM conversations WHERE owner_kind = 'agent' AND state != 'closed' GROUP BY owner_id",
    )
    .fetch_all(&store.reader)
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

/// A new session; an urgent write (the agent waits).
pub(super) async fn create_session(
    store: &SqliteStore,
    token_hash: &str,
    agent: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("INSERT INTO sessions (token_hash, agent_id, expires_at) VALUES (")
        .push_bind(token_hash.to_owned())
        .push(", ")
        .push_bind(agent.to_owned())
        .push(", ")
        .push_bind(millis(expires_at))
        .push("); ");
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

pub(super) async fn session_agent(
    store: &SqliteStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT agent_id FROM sessions WHERE token_hash = ? AND expires_at > ?")
        .bind(token_hash)
        .bind(millis(now))
        .fetch_optional(&store.reader)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Ends a session; an urgent write (the agent waits).
pub(super) async fn delete_session(
    store: &SqliteStore,
    token_hash: &str,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("DELETE FROM sessions WHERE token_hash = ")
        .push_bind(token_hash.to_owned())
        .push("; ");
    store.write(Priority::Urgent, script, |_| Ok(())).await
}

pub(super) async fn save_bot_session(store: &SqliteStore, s: BotSession) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push(
            "INSERT INTO bot_sessions (conversation_id, bot_id, conv_key, dl_conversation_id, watermark, active) \
             VALUES (",
        )
        .push_bind(s.conversation_id)
        .push(", ")
        .push_bind(s.bot_id)
        .push(", ")
        .push_bind(s.conv_key)
        .push(", ")
        .push_bind(s.dl_conversation_id)
        .push(", ")
        .push_bind(s.watermark)
        .push(
            ", 1) ON CONFLICT (conversation_id, bot_id) DO UPDATE SET \
             dl_conversation_id = excluded.dl_conversation_id, watermark = excluded.watermark, active = 1; ",
        );
    store.write(Priority::Background, script, |_| Ok(())).await
}

pub(super) async fn bot_session(
    store: &SqliteStore,
    conversation_id: &str,
    bot_id: &str,
) -> Result<Option<BotSession>, StoreError> {
    let row = sqlx::query(
        "SELECT conversation_id, bot_id, conv_key, dl_conversation_id, watermark FROM bot_sessions \
         WHERE conversation_id = ? AND bot_id = ?",
    )
    .bind(conversation_id)
    .bind(bot_id)
    .fetch_optional(&store.reader)
    .await?;
    row.map(|r| bot_session_from_row(&r)).transpose()
}

pub(super) async fn active_bot_sessions(
    store: &SqliteStore,
) -> Result<Vec<BotSession>, StoreError> {
    let rows = sqlx::query(
        "SELECT conversation_id, bot_id, conv_key, dl_conversation_id, watermark FROM bot_sessions WHERE active = 1",
    )
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(bot_session_from_row).collect()
}

pub(super) async fn end_bot_session(
    store: &SqliteStore,
    conversation_id: &str,
    bot_id: &str,
) -> Result<(), StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("UPDATE bot_sessions SET active = 0 WHERE conversation_id = ")
        .push_bind(conversation_id.to_owned())
        .push(" AND bot_id = ")
        .push_bind(bot_id.to_owned())
        .push("; ");
    store.write(Priority::Background, script, |_| Ok(())).await
}
