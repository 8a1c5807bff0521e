use std::time::Duration;

use byoc_core::conversation::{Conversation, ConversationState, Owner};
use byoc_core::{Activity, ChannelAccount};
use chrono::{TimeDelta, Utc};

use super::*;
use crate::model::{Author, ConversationRecord, InboxEvent, Target, TimerKind, TranscriptEntry};

async fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("byoc.db"), 64)
        .await
        .unwrap();
    (dir, store)
}

fn customer(id: &str, text: &str) -> NewInbound {
    let mut a = Activity::message(text);
    a.id = Some(id.to_owned());
    a.channel_data = Some(byoc_core::RawJson::from_json_text(r#"{"raw": [1, 2]}"#).unwrap());
    NewInbound::new(
        "sms",
        Some(id.to_owned()),
        "sms:c1",
        InboxEvent::Customer {
            activity: Box::new(a),
        },
    )
}

fn record(id: &str) -> ConversationRecord {
    ConversationRecord {
        conversation: Conversation::new(id, "sms", ChannelAccount::new("+1555"), Utc::now()),
        key: "sms:c1".to_owned(),
        workstream: "Support".to_owned(),
        reference: None,
        accepted: false,
        transcript_len: 0,
        awaiting_bot_since: None,
        relay: None,
    }
}

fn step(record: ConversationRecord, messages: &[&str]) -> StepCommit {
    StepCommit {
        record: Some(record),
        new_conversation: true,
        processed: Vec::new(),
        transcript: Vec::new(),
        outbox: messages
            .iter()
            .map(|t| NewOutbound {
                target: Target::Channel("sms".into()),
                activity: Activity::message(*t),
            })
            .collect(),
        timers: Vec::new(),
        record_unchanged: false,
        claim: None,
        work: Vec::new(),
        follow_ups: Vec::new(),
    }
}

#[tokio::test]
async fn a_redelivered_message_is_dropped_and_the_rest_keep_arrival_order() {
    let (_dir, store) = open().await;
    let first = store
        .accept_inbound(vec![customer("m1", "a"), customer("m2", "b")], None)
        .await
        .unwrap();
    assert!(matches!(first[..], [Accepted::New(_), Accepted::New(_)]));
    let again = store
        .accept_inbound(vec![customer("m1", "a")], None)
        .await
        .unwrap();
    assert_eq!(again, vec![Accepted::Duplicate]);
    let pending = store.pending_inbox("sms:c1").await.unwrap();
    let texts: Vec<_> = pending
        .iter()
        .map(|i| match i.event.as_ref().unwrap() {
            InboxEvent::Customer { activity } => activity.text.clone().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["a", "b"]);
    assert_eq!(store.keys_with_pending_inbox().await.unwrap(), ["sms:c1"]);
}

#[tokio::test]
async fn concurrent_writes_are_committed_together_and_all_answered() {
    let (_dir, store) = open().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .accept_inbound(vec![customer(&format!("m{i}"), "x")], None)
                .await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap()[..], [Accepted::New(_)]));
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(rows, 200);
}

#[tokio::test]
async fn a_step_commits_the_conversation_transcript_outbox_and_timers_together() {
    let (_dir, store) = open().await;
    let accepted = store
        .accept_inbound(vec![customer("m1", "hi")], None)
        .await
        .unwrap();
    let Accepted::New(seq) = accepted[0] else {
        panic!()
    };
    let mut rec = record("conv-1");
    rec.conversation
        .set_owner(Owner::Queue("Q".into()), Utc::now());
    rec.conversation.queue = Some("Q".into());
    let mut s = step(rec.clone(), &["hello"]);
    s.processed = vec![seq];
    s.transcript = vec![TranscriptEntry {
        pos: 0,
        author: Author::Customer,
        activity: Some(Box::new(Activity::message("hi"))),
        note: None,
        at: Utc::now(),
    }];
    s.timers = vec![TimerChange::Set(
        TimerKind::AutoClose,
        Utc::now() + TimeDelta::hours(1),
    )];
    store.commit_step(s).await.unwrap();

    assert!(store.pending_inbox("sms:c1").await.unwrap().is_empty());
    assert_eq!(
        store.current_conversation("sms:c1").await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(store.conversation("conv-1").await.unwrap(), Some(rec));
    assert_eq!(store.transcript("conv-1").await.unwrap().len(), 1);
    assert_eq!(store.outbox_depth().await.unwrap(), 1);
    assert!(store.next_timer_due().await.unwrap().is_some());
    let listed = store
        .open_conversations(&["Q".to_owned()], "nobody")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .open_conversations(&["Other".to_owned()], "nobody")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn only_the_head_of_a_lane_is_claimed_and_a_lease_keeps_others_away() {
    let (_dir, store) = open().await;
    store
        .commit_step(step(record("conv-1"), &["one", "two"]))
        .await
        .unwrap();
    let now = Utc::now();
    let lease = Duration::from_secs(30);
    let claimed = store.claim_outbound("w1", now, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "the second waits for the first");
    assert_eq!(claimed[0].activity.text.as_deref(), Some("one"));
    assert!(
        store
            .claim_outbound("w2", now, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    // A failed attempt keeps the lane blocked until the retry is due.
    let retry_at = now + TimeDelta::seconds(5);
    let ok = store
        .finish_outbound(
            claimed[0].id,
            "w1",
            OutboundResult::Retry {
                at: retry_at,
                error: "503".into(),
            },
            now,
            None,
        )
        .await
        .unwrap()
        .recorded;
    assert!(ok);
    assert!(
        store
            .claim_outbound("w1", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .next_outbound_due()
            .await
            .unwrap()
            .map(|t| t.timestamp_millis()),
        Some(retry_at.timestamp_millis())
    );
    let again = store
        .claim_outbound("w1", retry_at, lease, 10)
        .await
        .unwrap();
    assert_eq!(again[0].id, claimed[0].id);
    assert_eq!(again[0].attempts, 1);
    store
        .finish_outbound(
            again[0].id,
            "w1",
            OutboundResult::Delivered(Some("ref-1".into())),
            retry_at,
            None,
        )
        .await
        .unwrap();
    let next = store
        .claim_outbound("w1", retry_at, lease, 10)
        .await
        .unwrap();
    assert_eq!(next[0].activity.text.as_deref(), Some("two"));
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_owner_cannot_finish() {
    let (_dir, store) = open().await;
    store
        .commit_step(step(record("conv-1"), &["one"]))
        .await
        .unwrap();
    let now = Utc::now();
    let first = store
        .claim_outbound("dead-worker", now, Duration::from_secs(5), 10)
        .await
        .unwrap();
    let later = now + TimeDelta::seconds(6);
    let taken = store
        .claim_outbound("w2", later, Duration::from_secs(5), 10)
        .await
        .unwrap();
    assert_eq!(taken[0].id, first[0].id);
    let stale = store
        .finish_outbound(
            first[0].id,
            "dead-worker",
            OutboundResult::Delivered(None),
            later,
            None,
        )
        .await
        .unwrap()
        .recorded;
    assert!(!stale);
    assert!(
        store
            .finish_outbound(
                taken[0].id,
                "w2",
                OutboundResult::Delivered(None),
                later,
                None
            )
            .await
            .unwrap()
            .recorded
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn a_dead_letter_unblocks_its_lane_and_can_be_replayed() {
    let (_dir, store) = open().await;
    store
        .commit_step(step(record("conv-1"), &["one", "two"]))
        .await
        .unwrap();
    let now = Utc::now();
    let c = store
        .claim_outbound("w", now, Duration::from_secs(30), 10)
        .await
        .unwrap();
    store
        .finish_outbound(
            c[0].id,
            "w",
            OutboundResult::Dead("permanent failure (HTTP 400)".into()),
            now,
            None,
        )
        .await
        .unwrap();
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, "permanent failure (HTTP 400)");
    let next = store
        .claim_outbound("w", now, Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(next[0].activity.text.as_deref(), Some("two"));
    assert!(store.replay_dead_letter(dead[0].id, now).await.unwrap());
    assert!(
        !store.replay_dead_letter(dead[0].id, now).await.unwrap(),
        "already replayed"
    );
    assert!(store.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn due_timers_become_inbox_events_of_their_key() {
    let (_dir, store) = open().await;
    let mut s = step(record("conv-1"), &[]);
    let now = Utc::now();
    s.timers = vec![TimerChange::Set(TimerKind::BotTimeout, now)];
    store.commit_step(s).await.unwrap();
    assert_eq!(store.fire_due_timers(now).await.unwrap(), ["sms:c1"]);
    let pending = store.pending_inbox("sms:c1").await.unwrap();
    assert!(
        matches!(pending[0].event.as_ref().unwrap(), InboxEvent::Timer { conversation, timer: TimerKind::BotTimeout } if conversation == "conv-1")
    );
    assert!(store.fire_due_timers(now).await.unwrap().is_empty());
}

#[tokio::test]
async fn everything_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byoc.db");
    {
        let store = SqliteStore::open(&path, 8).await.unwrap();
        let mut rec = record("conv-1");
        rec.conversation
            .transition(ConversationState::Active, Utc::now())
            .unwrap();
        store.commit_step(step(rec, &["one"])).await.unwrap();
        store
            .accept_inbound(vec![customer("m9", "later")], None)
            .await
            .unwrap();
        store
            .set_agent_presence("alice", byoc_core::workstream::Presence::Busy, Utc::now())
            .await
            .unwrap();
        store
            .create_session("h", "alice", Utc::now() + TimeDelta::hours(1))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path, 8).await.unwrap();
    assert_eq!(store.outbox_depth().await.unwrap(), 1);
    assert_eq!(store.keys_with_pending_inbox().await.unwrap(), ["sms:c1"]);
    assert_eq!(
        store.agent_presence().await.unwrap(),
        [("alice".to_owned(), byoc_core::workstream::Presence::Busy)]
    );
    assert_eq!(
        store
            .session_agent("h", Utc::now())
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    assert_eq!(
        store
            .session_agent("h", Utc::now() + TimeDelta::hours(2))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn reopening_the_file_takes_back_the_leases_of_the_previous_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("byoc.db");
    let now;
    {
        let store = SqliteStore::open(&path, 8).await.unwrap();
        store
            .commit_step(step(record("conv-1"), &["one"]))
            .await
            .unwrap();
        now = Utc::now();
        let held = store
            .claim_outbound("killed", now, Duration::from_secs(600), 10)
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
    }
    let store = SqliteStore::open(&path, 8).await.unwrap();
    let again = store
        .claim_outbound("restarted", now, Duration::from_secs(600), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "not blocked until the old lease expires");
}

#[tokio::test]
async fn receipts_are_recorded_on_their_rows_and_a_final_one_stays() {
    let (_dir, store) = open().await;
    store
        .commit_step(step(record("conv-1"), &["one", "two"]))
        .await
        .unwrap();
    let rows = store.outbound_of("conv-1").await.unwrap();
    let (first, second) = (rows[0].id, rows[1].id);
    assert!(
        rows.iter()
            .all(|r| r.receipt.is_none() && r.status == "pending")
    );
    let pending = serde_json::json!({"state": "pending", "isFinal": false});
    let delivered = serde_json::json!({"state": "delivered", "isFinal": true});
    store
        .record_receipts(vec![
            Receipt::new(first, pending.clone(), false),
            Receipt::new(second, delivered.clone(), true),
            Receipt::new(9999, delivered.clone(), true), // no such row: left alone
        ])
        .await
        .unwrap();
    // A later report replaces a pending one; a repeated earlier one never replaces a final.
    store
        .record_receipts(vec![
            Receipt::new(first, delivered.clone(), true),
            Receipt::new(second, pending.clone(), false),
        ])
        .await
        .unwrap();
    let rows = store.outbound_of("conv-1").await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].receipt.as_ref(), Some(&delivered));
    assert_eq!(rows[1].receipt.as_ref(), Some(&delivered));
    assert!(store.outbound_of("conv-2").await.unwrap().is_empty());
}

mod group;
mod routing;
