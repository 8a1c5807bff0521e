//! Reads of conversations and transcripts (the read-only pool).

use byoc_core::Activity;
use sqlx::Row as _;

use super::SqliteStore;
use super::rows::{from_json, from_millis, to_json};
use crate::model::{ConversationRecord, TranscriptEntry};
use crate::store::{ConversationRow, StoreError};

pub(super) async fn current_conversation(
    store: &SqliteStore,
    conv_key: &str,
) -> Result<Option<ConversationRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT c.record FROM conversation_keys k JOIN conversations c ON c.id = k.conversation_id WHERE k.conv_key = ?",
    )
    .bind(conv_key)
    .fetch_optional(&store.reader)
    .await?;
    row.map(|r| from_json(&r.try_get::<String, _>(0)?, "conversations.record"))
        .transpose()
}

pub(super) async fn conversation(
    store: &SqliteStore,
    id: &str,
) -> Result<Option<ConversationRecord>, StoreError> {
    let row = sqlx::query("SELECT record FROM conversations WHERE id = ?")
        .bind(id)
        .fetch_optional(&store.reader)
        .await?;
    row.map(|r| from_json(&r.try_get::<String, _>(0)?, "conversations.record"))
        .transpose()
}

pub(super) async fn open_conversations(
    store: &SqliteStore,
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
    .fetch_all(&store.reader)
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

pub(super) async fn transcript(
    store: &SqliteStore,
    conversation_id: &str,
) -> Result<Vec<TranscriptEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT pos, author, activity, note, at FROM transcript WHERE conversation_id = ? ORDER BY pos",
    )
    .bind(conversation_id)
    .fetch_all(&store.reader)
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
