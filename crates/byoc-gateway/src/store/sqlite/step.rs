//! Committing one processed step as one script: the conversation (unless unchanged), its
//! key, the inbox entries consumed, transcript entries, outbound rows (and the claim of
//! their lanes' heads) and timers, in one savepoint.

use chrono::Utc;

use super::SqliteStore;
use super::outbox::{claimed, push_claim_heads};
use super::rows::{millis, state_name, to_json};
use super::writer::{Priority, Script};
use crate::store::{ClaimedOutbound, StepCommit, StoreError, TimerChange};

pub(super) async fn commit_step(
    store: &SqliteStore,
    step: StepCommit,
) -> Result<Vec<ClaimedOutbound>, StoreError> {
    let now_ms = millis(Utc::now());
    let mut script = Script::new();
    let sql = script.sql();
    if !step.processed.is_empty() {
        sql.push("UPDATE inbox SET processed_at = ")
            .push_bind(now_ms)
            .push(" WHERE seq IN (");
        let mut list = sql.separated(", ");
        for seq in &step.processed {
            list.push_bind(*seq);
        }
        sql.push("); ");
    }
    super::routing::push_routing(sql, step.work, step.follow_ups)?;
    let Some(rec) = step.record else {
        return store
            .write(Priority::Background, script, |_| Ok(Vec::new()))
            .await;
    };
    let conv = &rec.conversation;
    let id = conv.id.clone();
    let key = rec.key.clone();
    if !step.record_unchanged || step.new_conversation {
        let (owner_kind, owner_id) = match &conv.owner {
            byoc_core::conversation::Owner::None => ("none", None),
            byoc_core::conversation::Owner::Bot(b) => ("bot", Some(b.clone())),
            byoc_core::conversation::Owner::Agent(a) => ("agent", Some(a.clone())),
            byoc_core::conversation::Owner::Queue(q) => ("queue", Some(q.clone())),
        };
        sql.push(
            "INSERT INTO conversations (id, conv_key, channel, state, queue, owner_kind, owner_id, \
             record, created_at, updated_at) VALUES (",
        );
        let mut values = sql.separated(", ");
        values
            .push_bind(id.clone())
            .push_bind(key.clone())
            .push_bind(conv.channel_id.clone())
            .push_bind(state_name(conv.state))
            .push_bind(conv.queue.clone())
            .push_bind(owner_kind)
            .push_bind(owner_id)
            .push_bind(to_json(&rec, "conversations.record")?)
            .push_bind(millis(conv.created_at))
            .push_bind(now_ms);
        sql.push(
            ") ON CONFLICT (id) DO UPDATE SET state = excluded.state, queue = excluded.queue, \
             owner_kind = excluded.owner_kind, owner_id = excluded.owner_id, \
             record = excluded.record, updated_at = excluded.updated_at; ",
        );
    }
    if step.new_conversation {
        sql.push("INSERT INTO conversation_keys (conv_key, conversation_id) VALUES (")
            .push_bind(key.clone())
            .push(", ")
            .push_bind(id.clone())
            .push(
                ") ON CONFLICT (conv_key) DO UPDATE SET conversation_id = excluded.conversation_id; ",
            );
    }
    if !step.transcript.is_empty() {
        let mut rows = Vec::with_capacity(step.transcript.len());
        for t in &step.transcript {
            let activity = t
                .activity
                .as_ref()
                .map(|a| {
                    a.to_json()
                        .map_err(|_| StoreError::Serialize("transcript.activity"))
                })
                .transpose()?;
            rows.push((
                i64::from(t.pos),
                to_json(&t.author, "transcript.author")?,
                activity,
                t.note.clone(),
                millis(t.at),
            ));
        }
        sql.push("INSERT INTO transcript (conversation_id, pos, author, activity, note, at) ");
        sql.push_values(rows, |mut row, (pos, author, activity, note, at)| {
            row.push_bind(id.clone())
                .push_bind(pos)
                .push_bind(author)
                .push_bind(activity)
                .push_bind(note)
                .push_bind(at);
        });
        sql.push("; ");
    }
    let mut lanes = Vec::new();
    if !step.outbox.is_empty() {
        let mut rows = Vec::with_capacity(step.outbox.len());
        for o in &step.outbox {
            let target = o.target.to_stored();
            let activity = o
                .activity
                .to_json()
                .map_err(|_| StoreError::Serialize("outbox.activity"))?;
            let lane = format!("{id}|{target}");
            if !lanes.contains(&lane) {
                lanes.push(lane.clone());
            }
            rows.push((lane, target, activity));
        }
        // One statement, rows in order: ids follow the order of the step's effects.
        sql.push(
            "INSERT INTO outbox (lane, conversation_id, target, activity, next_attempt_at, created_at) ",
        );
        sql.push_values(rows, |mut row, (lane, target, activity)| {
            row.push_bind(lane)
                .push_bind(id.clone())
                .push_bind(target)
                .push_bind(activity)
                .push_bind(now_ms)
                .push_bind(now_ms);
        });
        sql.push("; ");
    }
    for change in step.timers {
        match change {
            TimerChange::Set(kind, at) => {
                sql.push("INSERT INTO timers (conversation_id, kind, conv_key, due_at) VALUES (")
                    .push_bind(id.clone())
                    .push(", ")
                    .push_bind(kind.as_str())
                    .push(", ")
                    .push_bind(key.clone())
                    .push(", ")
                    .push_bind(millis(at))
                    .push(
                        ") ON CONFLICT (conversation_id, kind) DO UPDATE SET due_at = excluded.due_at; ",
                    );
            }
            TimerChange::Cancel(kind) => {
                sql.push("DELETE FROM timers WHERE conversation_id = ")
                    .push_bind(id.clone())
                    .push(" AND kind = ")
                    .push_bind(kind.as_str())
                    .push("; ");
            }
        }
    }
    // Last, so the claim sees this step's rows: the only statement returning rows.
    if let (Some(lease), false) = (step.claim, lanes.is_empty()) {
        let until = now_ms.saturating_add(i64::try_from(lease.duration.as_millis()).unwrap_or(0));
        push_claim_heads(sql, lease.owner, until, now_ms, |sql| {
            sql.push("p.lane IN (");
            let mut list = sql.separated(", ");
            for lane in lanes {
                list.push_bind(lane);
            }
            sql.push(")");
        });
    }
    store
        .write(Priority::Background, script, |rows| claimed(&rows))
        .await
}
