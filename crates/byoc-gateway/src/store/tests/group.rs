//! The writer's group commit and the claims that ride along with other writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

fn keyless(conv_key: &str, text: &str) -> NewInbound {
    NewInbound::new(
        "sms",
        None,
        conv_key,
        InboxEvent::Customer {
            activity: Box::new(Activity::message(text)),
        },
    )
}

fn lease(owner: &str) -> Lease {
    Lease::new(owner, Duration::from_secs(30))
}

#[tokio::test]
async fn a_repeated_id_within_one_delivery_is_a_duplicate_and_keyless_events_keep_their_order() {
    let (_dir, store) = open().await;
    let answers = store
        .accept_inbound(
            vec![
                keyless("sms:c1", "first"),
                customer("m1", "a"),
                customer("m1", "a again"),
                keyless("sms:c1", "second"),
            ],
            None,
        )
        .await
        .unwrap();
    let [
        Accepted::New(first),
        Accepted::New(_),
        Accepted::Duplicate,
        Accepted::New(second),
    ] = answers[..]
    else {
        panic!("{answers:?}");
    };
    assert!(first < second);
    let texts: Vec<_> = store
        .pending_inbox("sms:c1")
        .await
        .unwrap()
        .into_iter()
        .map(|i| match i.event.unwrap() {
            InboxEvent::Customer { activity } => activity.text.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["first", "a", "second"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_id_store_it_once() {
    let (_dir, store) = open().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .accept_inbound(
                    vec![
                        customer("same", "again"),
                        keyless("sms:c1", &format!("k{i}")),
                    ],
                    None,
                )
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        let answers = t.await.unwrap();
        assert!(matches!(answers[1], Accepted::New(_)), "{answers:?}");
        if matches!(answers[0], Accepted::New(_)) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(store.pending_inbox("sms:c1").await.unwrap().len(), 21);
}

#[tokio::test]
async fn a_failing_write_fails_alone_and_leaves_nothing_behind() {
    let (_dir, store) = open().await;
    let entry = |pos| TranscriptEntry {
        pos,
        author: Author::Customer,
        activity: None,
        note: Some("note".into()),
        at: Utc::now(),
    };
    // Two entries at one position: the transcript insert fails after the conversation row
    // was written in the same job.
    let mut bad = step(record("conv-bad"), &["never"]);
    bad.transcript = vec![entry(0), entry(0)];
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .accept_inbound(vec![customer(&format!("m{i}"), "x")], None)
                .await
                .map(|_| ())
        }));
    }
    let failing = {
        let store = store.clone();
        tokio::spawn(async move { store.commit_step(bad).await.map(|_| ()) })
    };
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut rec = record(&format!("conv-{i}"));
            rec.key = format!("sms:k{i}");
            store.commit_step(step(rec, &["ok"])).await.map(|_| ())
        }));
    }
    assert!(matches!(
        failing.await.unwrap(),
        Err(StoreError::Database(_))
    ));
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.conversation("conv-bad").await.unwrap(), None);
    assert!(store.conversation("conv-7").await.unwrap().is_some());
    assert_eq!(store.outbox_depth().await.unwrap(), 20);
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(inbox, 20);
}

#[tokio::test]
async fn webhook_writes_go_ahead_of_queued_background_writes() {
    let (_dir, store) = open().await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut background = Vec::new();
    for i in 0..1000 {
        let (store, done) = (store.clone(), Arc::clone(&done));
        background.push(tokio::spawn(async move {
            let mut rec = record(&format!("conv-{i}"));
            rec.key = format!("sms:k{i}");
            store.commit_step(step(rec, &["queued"])).await.unwrap();
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    // Let every background write reach the writer's queue first.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    store
        .accept_inbound(vec![customer("m1", "urgent")], None)
        .await
        .unwrap();
    let finished_first = done.load(Ordering::SeqCst);
    for t in background {
        t.await.unwrap();
    }
    assert!(
        finished_first < 1000,
        "the webhook's write waited for all {finished_first} background writes"
    );
}

#[tokio::test]
async fn a_step_claims_the_heads_of_the_lanes_it_queued_to() {
    let (_dir, store) = open().await;
    let mut s = step(record("conv-1"), &["one", "two"]);
    s.claim = Some(lease("w1"));
    let claimed = store.commit_step(s).await.unwrap();
    assert_eq!(claimed.len(), 1, "only the head of the lane");
    assert_eq!(claimed[0].activity.text.as_deref(), Some("one"));
    assert!(claimed[0].leased_until > Utc::now() + TimeDelta::seconds(25));
    assert!(
        store
            .claim_outbound("w2", Utc::now(), Duration::from_secs(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "the head is leased and the second waits behind it"
    );
    // A later step of the same conversation queues behind the leased head: nothing claimed.
    let mut later = step(record("conv-1"), &["three"]);
    later.new_conversation = false;
    later.claim = Some(lease("w1"));
    assert!(store.commit_step(later).await.unwrap().is_empty());
}

#[tokio::test]
async fn recording_a_delivery_claims_the_next_row_of_its_lane() {
    let (_dir, store) = open().await;
    let mut s = step(record("conv-1"), &["one", "two", "three"]);
    s.claim = Some(lease("w1"));
    let head = store.commit_step(s).await.unwrap().remove(0);
    let now = Utc::now();
    let finished = store
        .finish_outbound(
            head.id,
            "w1",
            OutboundResult::Delivered(None),
            now,
            Some(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(finished.recorded);
    let next = finished.next.expect("the next row, claimed");
    assert_eq!(next.activity.text.as_deref(), Some("two"));
    // A retry keeps its lane: the row itself is not due yet, and nothing behind it is taken.
    let retried = store
        .finish_outbound(
            next.id,
            "w1",
            OutboundResult::Retry {
                at: now + TimeDelta::seconds(60),
                error: "503".into(),
            },
            now,
            Some(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(retried.recorded);
    assert!(retried.next.is_none());
    // Another owner's result is not recorded and claims nothing.
    let stale = store
        .finish_outbound(
            next.id,
            "w2",
            OutboundResult::Delivered(None),
            now,
            Some(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(!stale.recorded && stale.next.is_none());
}

#[tokio::test]
async fn an_unchanged_record_is_not_rewritten() {
    let (_dir, store) = open().await;
    store
        .commit_step(step(record("conv-1"), &[]))
        .await
        .unwrap();
    let before: i64 =
        sqlx::query_scalar("SELECT updated_at FROM conversations WHERE id = 'conv-1'")
            .fetch_one(&store.reader)
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut same = step(record("conv-1"), &[]);
    same.new_conversation = false;
    same.record_unchanged = true;
    store.commit_step(same).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT updated_at FROM conversations WHERE id = 'conv-1'")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn pending_work_reads_the_conversation_and_its_inbox_together() {
    let (_dir, store) = open().await;
    store
        .accept_inbound(vec![customer("m1", "a"), customer("m2", "b")], None)
        .await
        .unwrap();
    let (current, items) = store.pending_work("sms:c1").await.unwrap();
    assert_eq!(current, None);
    assert_eq!(items.len(), 2);
    assert!(items[0].seq < items[1].seq);
    let mut s = step(record("conv-1"), &[]);
    s.processed = vec![items[0].seq];
    store.commit_step(s).await.unwrap();
    let (current, items) = store.pending_work("sms:c1").await.unwrap();
    assert_eq!(current.as_ref().map(|r| r.key.as_str()), Some("sms:c1"));
    assert_eq!(items.len(), 1);
    assert_eq!(current, store.current_conversation("sms:c1").await.unwrap());
}

#[tokio::test]
async fn a_failing_one_statement_write_fails_alone() {
    let (_dir, store) = open().await;
    let expires = Utc::now() + TimeDelta::hours(1);
    store
        .create_session("token", "alice", expires)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .accept_inbound(vec![customer(&format!("m{i}"), "x")], None)
                .await
                .map(|_| ())
        }));
    }
    // The same token again: the primary key refuses the one statement of this write.
    let again = store.create_session("token", "bob", expires).await;
    assert!(matches!(again, Err(StoreError::Database(_))), "{again:?}");
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    store.create_session("other", "bob", expires).await.unwrap();
    assert_eq!(
        store.session_agent("token", Utc::now()).await.unwrap(),
        Some("alice".to_owned())
    );
    assert_eq!(store.pending_inbox("sms:c1").await.unwrap().len(), 20);
}
