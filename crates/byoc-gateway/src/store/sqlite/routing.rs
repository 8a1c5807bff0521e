//! The router's waiting set (`routing_work`): rewritten with the steps and routing passes
//! that move it, read back at start; agents' loads per channel.

use chrono::Utc;
use sqlx::sqlite::Sqlite;
use sqlx::{QueryBuilder, Row as _};

use super::SqliteStore;
use super::inbox::inbox_rows;
use super::rows::{from_json, millis, to_json};
use super::writer::{Priority, Script};
use crate::store::{NewInbound, StoreError, StoredWork, WorkChange};

/// Appends the statements saving or forgetting work items and appending follow-up events
/// to their conversations' inboxes.
pub(super) fn push_routing(
    sql: &mut QueryBuilder<'static, Sqlite>,
    work: Vec<WorkChange>,
    follow_ups: Vec<NewInbound>,
) -> Result<(), StoreError> {
    let now = millis(Utc::now());
    for change in work {
        let (conversation, workstream, conv_key, item, version) = match change {
            WorkChange::Save { work, version } => {
                let StoredWork {
                    workstream,
                    conv_key,
                    item,
                } = *work;
                let id = item.conversation_id.clone();
                let json = to_json(&item, "routing_work.item")?;
                (id, workstream, conv_key, Some(json), version)
            }
            WorkChange::Forget {
                conversation,
                version,
            } => (conversation, String::new(), String::new(), None, version),
        };
        sql.push(
            "INSERT INTO routing_work (conversation_id, workstream, conv_key, item, version, \
             updated_at) VALUES (",
        );
        sql.separated(", ")
            .push_bind(conversation)
            .push_bind(workstream)
            .push_bind(conv_key)
            .push_bind(item)
            .push_bind(version)
            .push_bind(now);
        sql.push(
            ") ON CONFLICT (conversation_id) DO UPDATE SET workstream = excluded.workstream, \
             conv_key = excluded.conv_key, item = excluded.item, version = excluded.version, \
             updated_at = excluded.updated_at WHERE excluded.version > routing_work.version; ",
        );
    }
    if !follow_ups.is_empty() {
        let rows = inbox_rows(follow_ups)?;
        sql.push("INSERT INTO inbox (channel, dedupe_key, conv_key, event, received_at) ");
        sql.push_values(rows, |mut b, r| {
            b.push_bind(r.channel)
                .push_bind(r.dedupe_key)
                .push_bind(r.conv_key)
                .push_bind(r.event)
                .push_bind(r.received_at);
        });
        sql.push("; ");
    }
    Ok(())
}

/// Router actions decided outside a step, in one savepoint; a background write.
pub(super) async fn commit(
    store: &SqliteStore,
    work: Vec<WorkChange>,
    follow_ups: Vec<NewInbound>,
) -> Result<(), StoreError> {
    if work.is_empty() && follow_ups.is_empty() {
        return Ok(());
    }
    let mut script = Script::new();
    push_routing(script.sql(), work, follow_ups)?;
    store.write(Priority::Background, script, |_| Ok(())).await
}

/// The stored waiting set; the rows of conversations that left it are deleted (read at
/// start, when no write decided earlier is still on its way).
pub(super) async fn work(store: &SqliteStore) -> Result<Vec<StoredWork>, StoreError> {
    let mut script = Script::new();
    script
        .sql()
        .push("DELETE FROM routing_work WHERE item IS NULL; ");
    store
        .write(Priority::Background, script, |_| Ok(()))
        .await?;
    let rows =
        sqlx::query("SELECT workstream, conv_key, item FROM routing_work WHERE item IS NOT NULL")
            .fetch_all(&store.reader)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredWork {
                workstream: r.try_get("workstream")?,
                conv_key: r.try_get("conv_key")?,
                item: from_json(&r.try_get::<String, _>("item")?, "routing_work.item")?,
            })
        })
        .collect()
}

/// Conversations held per agent and channel, not closed.
pub(super) async fn loads_by_channel(
    store: &SqliteStore,
) -> Result<Vec<(String, String, u32)>, StoreError> {
    let rows = sqlx::query(
        "SELECT owner_id, channel, COUNT(*) AS n FROM conversations WHERE owner_kind = 'agent' \
         AND state != 'closed' GROUP BY owner_id, channel",
    )
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("owner_id")?,
                r.try_get("channel")?,
                u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
            ))
        })
        .collect()
}
