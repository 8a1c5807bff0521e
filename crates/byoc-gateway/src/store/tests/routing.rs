//! The router's stored waiting set: changes land in the order they were decided, whatever
//! order they commit in; follow-ups join their conversations' inboxes.

use byoc_core::workstream::WorkItem;

use super::*;
use crate::model::RoutingAction;
use crate::store::{StoredWork, WorkChange};

fn item(conversation: &str, queue: &str) -> WorkItem {
    serde_json::from_value(serde_json::json!({
        "conversation_id": conversation,
        "queue": queue,
        "entered_queue_at": "2026-01-05T09:00:00Z",
    }))
    .unwrap()
}

fn save(conversation: &str, queue: &str, version: i64) -> WorkChange {
    WorkChange::Save {
        work: Box::new(StoredWork {
            workstream: "Support".into(),
            conv_key: format!("sms:{conversation}"),
            item: item(conversation, queue),
        }),
        version,
    }
}

fn forget(conversation: &str, version: i64) -> WorkChange {
    WorkChange::Forget {
        conversation: conversation.into(),
        version,
    }
}

#[tokio::test]
async fn a_change_decided_earlier_never_overwrites_one_decided_later() {
    let (_dir, store) = open().await;
    store
        .commit_routing(vec![save("c1", "Backup", 20)], Vec::new())
        .await
        .unwrap();
    // Decided before, committed after: ignored.
    store
        .commit_routing(vec![save("c1", "Sales", 10)], Vec::new())
        .await
        .unwrap();
    let stored = store.routing_work().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].item.queue, "Backup");

    store
        .commit_routing(vec![forget("c1", 30)], Vec::new())
        .await
        .unwrap();
    store
        .commit_routing(vec![save("c1", "Sales", 25)], Vec::new())
        .await
        .unwrap();
    assert!(store.routing_work().await.unwrap().is_empty());

    // Waiting again later: stored again.
    store
        .commit_routing(vec![save("c1", "Sales", 40)], Vec::new())
        .await
        .unwrap();
    assert_eq!(store.routing_work().await.unwrap().len(), 1);
}

#[tokio::test]
async fn follow_ups_join_their_conversations_inbox_with_the_waiting_set() {
    let (_dir, store) = open().await;
    let event = InboxEvent::Routing {
        conversation: "c2".into(),
        action: RoutingAction::Withdrawn {
            agent: "ann".into(),
            timed_out: true,
        },
        trace: "conversation c2: offer to agent ann withdrawn (not answered in time)".into(),
    };
    store
        .commit_routing(
            vec![save("c2", "Sales", 1)],
            vec![NewInbound::new("routing", None, "sms:c2", event)],
        )
        .await
        .unwrap();
    let pending = store.pending_inbox("sms:c2").await.unwrap();
    assert!(matches!(
        &pending[..],
        [InboxItem { event: Some(InboxEvent::Routing { action: RoutingAction::Withdrawn { agent, .. }, .. }), .. }] if agent == "ann"
    ));
    assert_eq!(store.routing_work().await.unwrap().len(), 1);
}
