//! Committing one processed step: the conversation, its key, the inbox entries consumed,
//! transcript entries, outbound rows and timers, in one transaction.

use chrono::Utc;
use sqlx::sqlite::SqliteConnection;

use super::SqliteStore;
use super::rows::{millis, state_name, to_json};
use crate::store::{StepCommit, StoreError, TimerChange};

pub(super) async fn commit_step(store: &SqliteStore, step: StepCommit) -> Result<(), StoreError> {
    let now_ms = millis(Utc::now());
    let processed = step.processed;
    let Some(rec) = step.record else {
        return store
            .write(move |conn| {
                Box::pin(async move {
                    mark_processed(conn, &processed, now_ms).await?;
                    Ok(())
                })
            })
            .await;
    };
    let conv = &rec.conversation;
    let (owner_kind, owner_id) = match &conv.owner {
        byoc_core::conversation::Owner::None => ("none", None),
        byoc_core::conversation::Owner::Bot(b) => ("bot", Some(b.clone())),
        byoc_core::conversation::Owner::Agent(a) => ("agent", Some(a.clone())),
        byoc_core::conversation::Owner::Queue(q) => ("queue", Some(q.clone())),
    };
    let record = to_json(&rec, "conversations.record")?;
    let id = conv.id.clone();
    let key = rec.key.clone();
    let channel = conv.channel_id.clone();
    let state = state_name(conv.state);
    let queue = conv.queue.clone();
    let created = millis(conv.created_at);
    let mut transcript = Vec::with_capacity(step.transcript.len());
    for t in &step.transcript {
        let activity = t
            .activity
            .as_ref()
            .map(|a| {
                a.to_json()
                    .map_err(|_| StoreError::Serialize("transcript.activity"))
            })
            .transpose()?;
        transcript.push((
            t.pos,
            to_json(&t.author, "transcript.author")?,
            activity,
            t.note.clone(),
            millis(t.at),
        ));
    }
    let mut outbox = Vec::with_capacity(step.outbox.len());
    for o in &step.outbox {
        let target = o.target.to_stored();
        let activity = o
            .activity
            .to_json()
            .map_err(|_| StoreError::Serialize("outbox.activity"))?;
        outbox.push((format!("{id}|{target}"), target, activity));
    }
    let timers = step.timers;
    let new_conversation = step.new_conversation;
    store.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO conversations (id, conv_key, channel, state, queue, owner_kind, owner_id, record, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET \
                     state = excluded.state, queue = excluded.queue, owner_kind = excluded.owner_kind, \
                     owner_id = excluded.owner_id, record = excluded.record, updated_at = excluded.updated_at",
                )
                .bind(&id)
                .bind(&key)
                .bind(&channel)
                .bind(state)
                .bind(&queue)
                .bind(owner_kind)
                .bind(&owner_id)
                .bind(&record)
                .bind(created)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                if new_conversation {
                    sqlx::query(
                        "INSERT INTO conversation_keys (conv_key, conversation_id) VALUES (?, ?) \
                         ON CONFLICT (conv_key) DO UPDATE SET conversation_id = excluded.conversation_id",
                    )
                    .bind(&key)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                }
                mark_processed(conn, &processed, now_ms).await?;
                if !transcript.is_empty() {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO transcript (conversation_id, pos, author, activity, note, at) ",
                    );
                    q.push_values(&transcript, |mut row, (pos, author, activity, note, at)| {
                        row.push_bind(&id)
                            .push_bind(i64::from(*pos))
                            .push_bind(author)
                            .push_bind(activity)
                            .push_bind(note)
                            .push_bind(*at);
                    });
                    q.build().execute(&mut *conn).await?;
                }
                if !outbox.is_empty() {
                    // One statement, rows in order: ids follow the order of the step's effects.
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO outbox (lane, conversation_id, target, activity, next_attempt_at, created_at) ",
                    );
                    q.push_values(&outbox, |mut row, (lane, target, activity)| {
                        row.push_bind(lane)
                            .push_bind(&id)
                            .push_bind(target)
                            .push_bind(activity)
                            .push_bind(now_ms)
                            .push_bind(now_ms);
                    });
                    q.build().execute(&mut *conn).await?;
                }
                for change in timers {
                    match change {
                        TimerChange::Set(kind, at) => {
                            sqlx::query(
                                "INSERT INTO timers (conversation_id, kind, conv_key, due_at) VALUES (?, ?, ?, ?) \
                                 ON CONFLICT (conversation_id, kind) DO UPDATE SET due_at = excluded.due_at",
                            )
                            .bind(&id)
                            .bind(kind.as_str())
                            .bind(&key)
                            .bind(millis(at))
                            .execute(&mut *conn)
                            .await?;
                        }
                        TimerChange::Cancel(kind) => {
                            sqlx::query("DELETE FROM timers WHERE conversation_id = ? AND kind = ?")
                                .bind(&id)
                                .bind(kind.as_str())
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await
}

async fn mark_processed(
    conn: &mut SqliteConnection,
    seqs: &[i64],
    now_ms: i64,
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::new("UPDATE inbox SET processed_at = ");
    q.push_bind(now_ms).push(" WHERE seq IN (");
    let mut list = q.separated(", ");
    for seq in seqs {
        list.push_bind(*seq);
    }
    q.push(")");
    q.build().execute(&mut *conn).await?;
    Ok(())
}
