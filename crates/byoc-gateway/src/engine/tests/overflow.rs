//! Queue position and estimated wait, operating hours and overflow through the engine
//! ([`Desk`]): a closed queue transfers before queueing, a wait past the limit ends the
//! conversation with the queue's message.

use std::time::Duration;

use byoc_core::conversation::{ConversationState, Owner};
use byoc_core::workstream::{MemberState, Presence, Workstream};
use chrono::{TimeDelta, TimeZone, Utc};

use super::super::*;
use super::desk::Desk;
use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::model::AgentAction;

const HOURS: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }

[[operating_hours]]
name = "Office"
time_zone = "America/New_York"
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]

[[routing_rules]]
name = "All"
queue = "Sales"

[[queues]]
name = "Sales"
operating_hours = "Office"
average_handle_time = "4m"
overflow = [
    { when = "closed", then = { transfer = "Night" } },
    { when = { waited_over = "10m" }, then = { end = "Sorry, nobody could answer; write again later." } },
]
members = [{ id = "ann", kind = "agent", capacity = 1 }]

[[queues]]
name = "Night"
members = [{ id = "nora", kind = "agent", capacity = 1 }]

[messages]
agent_joined = "{AgentName} joined."
queue_position = "You are number {QueuePosition} in line, about {EstimatedWaitMinutes} min."
transferred = "Moved to {QueueName}."
"#;

fn config() -> WorkstreamConfig {
    WorkstreamConfig {
        workstream: Workstream::from_toml_str(HOURS).unwrap(),
        contact_center: ContactCenterKind::Byoc,
        bot_timeout: Duration::from_secs(30),
    }
}

fn texts(out: &Step) -> Vec<String> {
    out.outbox
        .iter()
        .filter_map(|o| o.activity.text.clone())
        .collect()
}

#[test]
fn a_waiting_customer_hears_the_position_and_estimated_wait_then_the_overflow_ends_it() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann"]);
    // Monday 10:00 in New York: open.
    desk.now = Utc.with_ymd_and_hms(2026, 1, 5, 15, 0, 0).unwrap();
    // ann is busy with a conversation of another workstream.
    let busy = MemberState::new(Presence::Available, 1);
    desk.members.set_member_state("ann", busy);
    desk.state.update_member("ann", busy, desk.now);
    let out = desk.customer("c1", "second");
    assert_eq!(desk.owner("c1"), Owner::Queue("Sales".into()));
    assert_eq!(
        texts(&out),
        vec!["You are number 1 in line, about 4 min.".to_owned()]
    );
    let routing_note = out
        .transcript
        .iter()
        .filter_map(|t| t.note.as_deref())
        .find(|n| n.contains("waiting in queue Sales at position 1"));
    assert!(routing_note.is_some(), "{:?}", out.transcript);

    // Nobody frees up within 10 minutes: the queue's overflow ends it with its message.
    let at = desk.state.next_wake().unwrap();
    assert_eq!(at, desk.now + TimeDelta::minutes(10));
    desk.wake();
    let rec = &desk.records["c1"];
    assert_eq!(rec.conversation.state, ConversationState::Closed);
    assert!(desk.hops.contains(&HopKind::Overflow {
        queue: "Sales".into(),
        to: None,
    }));
    assert!(desk.hops.contains(&HopKind::Closed {
        reason: "queue Sales overflowed".into(),
    }));
    assert_eq!(desk.state.next_wake(), None);
}

#[test]
fn a_closed_queue_transfers_before_queueing() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "nora"]);
    // Sunday 22:00 in New York: closed.
    desk.now = Utc.with_ymd_and_hms(2026, 1, 5, 3, 0, 0).unwrap();
    let out = desk.customer("c1", "late");
    assert!(desk.hops.contains(&HopKind::Overflow {
        queue: "Sales".into(),
        to: Some("Night".into()),
    }));
    assert_eq!(desk.owner("c1"), Owner::Agent("nora".into()));
    assert_eq!(
        texts(&out),
        vec!["Moved to Night.".to_owned(), "nora joined.".to_owned()]
    );
    let notes: Vec<&str> = out
        .transcript
        .iter()
        .filter_map(|t| t.note.as_deref())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("overflow from queue Sales to queue Night")),
        "{notes:?}"
    );
}

#[test]
fn a_follow_up_assignment_for_a_conversation_gone_meanwhile_gives_the_capacity_back() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann"]);
    desk.now = Utc.with_ymd_and_hms(2026, 1, 5, 15, 0, 0).unwrap();
    desk.customer("c1", "hello");
    let id = desk.records["c1"].conversation.id.clone();
    desk.agent("c1", "ann", AgentAction::End);
    desk.agent("c1", "ann", AgentAction::WrapUp { notes: None });
    let out = desk.run(
        "c1",
        InboxEvent::Routing {
            conversation: id,
            action: crate::model::RoutingAction::Assigned {
                queue: "Sales".into(),
                member: "ann".into(),
                bot: false,
                name: "ann".into(),
            },
            trace: "late".into(),
        },
    );
    assert_eq!(out.load, vec![("ann".to_owned(), -1)]);
}

#[test]
fn a_wait_overflow_tells_the_customer_and_keeps_the_place() {
    let text = HOURS.replace(
        r#"{ when = { waited_over = "10m" }, then = { end = "Sorry, nobody could answer; write again later." } },"#,
        r#"{ when = { waited_over = "5m" }, then = { wait = "Still busy; thanks for waiting." } },"#,
    );
    let ws = WorkstreamConfig {
        workstream: Workstream::from_toml_str(&text).unwrap(),
        contact_center: ContactCenterKind::Byoc,
        bot_timeout: Duration::from_secs(30),
    };
    let mut desk = Desk::new(&ws, &[]);
    desk.now = Utc.with_ymd_and_hms(2026, 1, 5, 15, 0, 0).unwrap();
    desk.customer("c1", "hello");
    desk.wake();
    assert!(desk.hops.contains(&HopKind::Automated {
        message: "overflow".into(),
    }));
    assert_eq!(desk.owner("c1"), Owner::Queue("Sales".into()));
    assert_eq!(
        desk.records["c1"].conversation.state,
        ConversationState::Open
    );
    // Still in line: when ann comes online, Sales (no offers) assigns it to her.
    desk.online("ann");
    assert_eq!(desk.owner("c1"), Owner::Agent("ann".into()));
}
