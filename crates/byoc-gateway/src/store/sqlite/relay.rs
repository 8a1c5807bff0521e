//! [`RelayStore`] on SQLite: platform links, replay cursors written with their events, and
//! the reads of the relay and the admin API. Writes go through the store's writer (group
//! commit) like every other write.

use async_trait::async_trait;
use byoc_core::Activity;
use chrono::Utc;
use sqlx::Row as _;

use super::SqliteStore;
use super::rows::{from_json, from_millis, millis};
use super::writer::{Priority, Script};
use crate::store::relay::{ConversationKey, PlatformLink, RelayStore};
use crate::store::{Accepted, ConversationRow, NewInbound, StoreError};

fn link_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<PlatformLink, StoreError> {
    Ok(PlatformLink {
        platform: r.try_get("platform")?,
        platform_conversation_id: r.try_get("platform_conversation_id")?,
        conversation_id: r.try_get("conversation_id")?,
        conv_key: r.try_get("conv_key")?,
        end_user: r.try_get("end_user")?,
        work_item_id: r.try_get("work_item_id")?,
    })
}

const LINK_COLUMNS: &str =
    "platform, platform_conversation_id, conversation_id, conv_key, end_user, work_item_id";

#[async_trait]
impl RelayStore for SqliteStore {
    async fn save_platform_link(&self, link: PlatformLink) -> Result<(), StoreError> {
        let mut script = Script::new();
        script
            .sql()
            .push(
                "INSERT INTO platform_links (platform, platform_conversation_id, conversation_id, \
                 conv_key, end_user, work_item_id, created_at) VALUES (",
            )
            .push_bind(link.platform)
            .push(", ")
            .push_bind(link.platform_conversation_id)
            .push(", ")
            .push_bind(link.conversation_id)
            .push(", ")
            .push_bind(link.conv_key)
            .push(", ")
            .push_bind(link.end_user)
            .push(", ")
            .push_bind(link.work_item_id)
            .push(", ")
            .push_bind(millis(Utc::now()))
            .push(
                ") ON CONFLICT (platform, platform_conversation_id, conversation_id) DO UPDATE SET \
                 work_item_id = COALESCE(excluded.work_item_id, platform_links.work_item_id), \
                 end_user = COALESCE(excluded.end_user, platform_links.end_user); ",
            );
        self.write(Priority::Urgent, script, |_| Ok(())).await
    }

    async fn platform_link(
        &self,
        platform: &str,
        conversation_id: &str,
    ) -> Result<Option<PlatformLink>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM platform_links WHERE platform = ? AND conversation_id = ? \
             ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ))
        .bind(platform)
        .bind(conversation_id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    async fn link_of_platform_conversation(
        &self,
        platform: &str,
        platform_conversation_id: &str,
    ) -> Result<Option<PlatformLink>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM platform_links WHERE platform = ? AND platform_conversation_id = ? \
             ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ))
        .bind(platform)
        .bind(platform_conversation_id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    async fn open_relayed_conversation(
        &self,
        platform: &str,
        end_user: &str,
    ) -> Result<Option<ConversationKey>, StoreError> {
        let row = sqlx::query(
            "SELECT id, conv_key FROM conversations WHERE state != 'closed' \
             AND json_extract(record, '$.relay.platform') = ? \
             AND json_extract(record, '$.relay.end_user') = ? \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(platform)
        .bind(end_user)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(ConversationKey {
                conversation_id: r.try_get("id")?,
                conv_key: r.try_get("conv_key")?,
            })
        })
        .transpose()
    }

    async fn accept_platform_events(
        &self,
        events: Vec<NewInbound>,
        platform: &str,
        replay_id: &[u8],
    ) -> Result<Vec<Accepted>, StoreError> {
        let platform = platform.to_owned();
        let replay_id = replay_id.to_vec();
        let now = millis(Utc::now());
        super::inbox::accept_with(self, events, move |sql| {
            sql.push("INSERT INTO platform_cursors (platform, replay_id, updated_at) VALUES (")
                .push_bind(platform)
                .push(", ")
                .push_bind(replay_id)
                .push(", ")
                .push_bind(now)
                .push(
                    ") ON CONFLICT (platform) DO UPDATE SET replay_id = excluded.replay_id, \
                     updated_at = excluded.updated_at; ",
                );
        })
        .await
    }

    async fn replay_cursor(&self, platform: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT replay_id FROM platform_cursors WHERE platform = ?")
            .bind(platform)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn outbound_activity(&self, id: i64) -> Result<Option<(String, Activity)>, StoreError> {
        let row = sqlx::query("SELECT conversation_id, activity FROM outbox WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            let activity: String = r.try_get("activity")?;
            Ok((
                r.try_get("conversation_id")?,
                Activity::from_json(&activity)
                    .map_err(|_| StoreError::Corrupt("outbox.activity"))?,
            ))
        })
        .transpose()
    }

    async fn recent_conversations(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT record, updated_at FROM conversations WHERE (? = 0 OR state != 'closed') \
             ORDER BY created_at DESC LIMIT ?",
        )
        .bind(i64::from(open_only))
        .bind(i64::from(limit))
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

    async fn links_of(&self, conversation_id: &str) -> Result<Vec<PlatformLink>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM platform_links WHERE conversation_id = ? ORDER BY created_at"
        ))
        .bind(conversation_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(link_from_row).collect()
    }
}
