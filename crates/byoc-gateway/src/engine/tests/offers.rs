//! Offers through the engine, across conversations ([`Desk`]).

use std::time::Duration;

use byoc_core::conversation::{ConversationState, Owner};
use byoc_core::workstream::{Presence, Workstream};
use byoc_core::{Activity, ChannelAccount};
use chrono::TimeDelta;

use super::super::*;
use super::desk::Desk;
use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::model::AgentAction;

const OFFERS: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }

[[routing_rules]]
name = "All"
queue = "Sales"

[[queues]]
name = "Sales"
offer = { timeout = "30s" }
overflow = [{ when = { offers_failed = 2 }, then = { transfer = "Backup" } }]
members = [
    { id = "ann", kind = "agent", capacity = 1 },
    { id = "bob", kind = "agent", capacity = 1 },
]

[[queues]]
name = "Backup"
members = [{ id = "cat", kind = "agent", capacity = 1 }]

[messages]
agent_joined = "{AgentName} joined."
queue_position = "You are number {QueuePosition} in line."
transferred = "Moved to {QueueName}."
"#;

fn config() -> WorkstreamConfig {
    WorkstreamConfig {
        workstream: Workstream::from_toml_str(OFFERS).unwrap(),
        contact_center: ContactCenterKind::Byoc,
        bot_timeout: Duration::from_secs(30),
    }
}

#[test]
fn a_conversation_is_offered_to_one_agent_who_accepts_it() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob"]);
    let out = desk.customer("c1", "hello");
    let offered = desk.offered_to("c1").unwrap();
    assert_eq!(desk.offers_to(&offered), 1);
    assert_eq!(desk.owner("c1"), Owner::Queue("Sales".into()));
    assert!(out.transcript.iter().any(|t| {
        t.note
            .as_deref()
            .is_some_and(|n| n.contains(&format!("offered to agent {offered}")))
    }));
    assert!(out.touched.contains(&desk.records["c1"].conversation.id));

    let out = desk.agent("c1", &offered, AgentAction::Accept);
    assert_eq!(desk.owner("c1"), Owner::Agent(offered.clone()));
    let rec = &desk.records["c1"];
    assert!(rec.accepted);
    assert_eq!(rec.conversation.state, ConversationState::Active);
    assert_eq!(out.load, vec![(offered.clone(), 1)]);
    assert!(out.outbox.iter().any(|o| {
        o.activity
            .text
            .as_deref()
            .is_some_and(|t| t.ends_with("joined."))
    }));
    assert_eq!(desk.state.next_wake(), None, "no offer outstanding");
}

#[test]
fn a_declined_offer_goes_to_the_next_agent_and_never_back() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob"]);
    desk.customer("c1", "hello");
    let first = desk.offered_to("c1").unwrap();
    let out = desk.agent("c1", &first, AgentAction::Decline);
    let second = desk.offered_to("c1").unwrap();
    assert_ne!(first, second);
    assert!(
        out.notices
            .iter()
            .any(|n| n.agent.as_deref() == Some(&first) && n.event == NoticeKind::OfferWithdrawn)
    );
    assert_eq!(desk.offers_to(&second), 1);

    // The decliner cannot take it back by accepting: it is not offered to them.
    let out = desk.agent("c1", &first, AgentAction::Accept);
    assert!(
        matches!(&out.notices[..], [n] if matches!(n.event, NoticeKind::Refused { .. })),
        "{:?}",
        out.notices
    );
    assert_eq!(desk.offered_to("c1").as_deref(), Some(second.as_str()));
}

#[test]
fn an_offer_given_back_goes_to_the_next_agent_and_is_no_decline() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob"]);
    desk.customer("c1", "hello");
    let first = desk.offered_to("c1").unwrap();
    // The shell took the agent out of the queue's reach first (it went offline).
    let load = desk.state.member_state(&first).map_or(0, |s| s.load);
    desk.state.set_member(&first, Presence::Offline, load);
    let out = desk.agent("c1", &first, AgentAction::Release);
    let second = desk.offered_to("c1").unwrap();
    assert_ne!(first, second);
    assert!(
        out.notices
            .iter()
            .any(|n| n.agent.as_deref() == Some(&first) && n.event == NoticeKind::OfferWithdrawn)
    );
    let id = desk.records["c1"].conversation.id.clone();
    let work = desk.router.work_item(&desk.state, &id).unwrap();
    assert!(work.declined_by.is_empty(), "{work:?}");
    assert_eq!(work.failed_offers, 0);
    // Giving back an offer that is no longer yours changes nothing and refuses nothing.
    let out = desk.agent("c1", &first, AgentAction::Release);
    assert!(out.notices.is_empty(), "{:?}", out.notices);
    assert_eq!(desk.offered_to("c1"), Some(second));
}

#[test]
fn declining_what_was_not_offered_is_refused() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob"]);
    desk.customer("c1", "hello");
    let offered = desk.offered_to("c1").unwrap();
    let other = if offered == "ann" { "bob" } else { "ann" };
    let out = desk.agent("c1", other, AgentAction::Decline);
    assert!(matches!(
        &out.notices[..],
        [n] if matches!(&n.event, NoticeKind::Refused { reason } if reason.contains("not offered to you"))
    ));
    assert_eq!(desk.offered_to("c1"), Some(offered));
}

#[test]
fn an_unanswered_offer_times_out_to_the_next_agent() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob"]);
    desk.customer("c1", "hello");
    let first = desk.offered_to("c1").unwrap();
    let expires = desk.state.next_wake().unwrap();
    assert_eq!(expires, desk.now + TimeDelta::seconds(30));
    desk.wake();
    let second = desk.offered_to("c1").unwrap();
    assert_ne!(first, second);
    assert!(desk.hops.contains(&HopKind::OfferEnded {
        agent: first.clone(),
        how: "timed out".into(),
    }));
    desk.agent("c1", &second, AgentAction::Accept);
    assert_eq!(desk.owner("c1"), Owner::Agent(second));
}

#[test]
fn after_the_queues_failed_offers_its_overflow_transfers() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann", "bob", "cat"]);
    desk.customer("c1", "hello");
    let first = desk.offered_to("c1").unwrap();
    desk.agent("c1", &first, AgentAction::Decline);
    desk.wake(); // the second offer times out: 2 failed
    assert!(desk.hops.contains(&HopKind::Overflow {
        queue: "Sales".into(),
        to: Some("Backup".into()),
    }));
    // Backup assigns without offers: cat takes it at once.
    assert_eq!(desk.owner("c1"), Owner::Agent("cat".into()));
    let transcript_has = |desk: &Desk<'_>, what: &str| {
        desk.hops
            .iter()
            .any(|h| matches!(h, HopKind::Automated { message } if message == what))
    };
    assert!(transcript_has(&desk, "transferred"));
}

#[test]
fn a_conversation_waits_then_is_offered_when_an_agent_comes_online() {
    let ws = config();
    let mut desk = Desk::new(&ws, &[]);
    let out = desk.customer("c1", "hello");
    assert_eq!(desk.owner("c1"), Owner::Queue("Sales".into()));
    assert!(
        out.outbox
            .iter()
            .any(|o| { o.activity.text.as_deref() == Some("You are number 1 in line.") })
    );
    desk.customer("c2", "me too");
    assert!(desk.hops.contains(&HopKind::Queued {
        queue: "Sales".into(),
        position: 2,
    }));
    assert_eq!(desk.offered_to("c1"), None);

    desk.online("bob");
    // First in, first offered; bob has room for one.
    assert_eq!(desk.offered_to("c1").as_deref(), Some("bob"));
    assert_eq!(desk.offered_to("c2"), None);
    desk.agent("c1", "bob", AgentAction::Accept);

    desk.online("ann");
    assert_eq!(desk.offered_to("c2").as_deref(), Some("ann"));
}

#[test]
fn closing_a_conversation_frees_its_agent_for_the_next_waiting_one() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann"]);
    desk.customer("c1", "hello");
    desk.agent("c1", "ann", AgentAction::Accept);
    desk.customer("c2", "hello");
    assert_eq!(desk.offered_to("c2"), None, "ann is at capacity");
    desk.agent("c1", "ann", AgentAction::End);
    let out = desk.agent("c1", "ann", AgentAction::WrapUp { notes: None });
    assert_eq!(out.load, vec![("ann".to_owned(), -1)]);
    let actions = desk.router.reevaluate(&mut desk.state, desk.now);
    desk.follow(&actions);
    assert_eq!(desk.offered_to("c2").as_deref(), Some("ann"));
}

#[test]
fn a_customer_leaving_withdraws_the_offer() {
    let ws = config();
    let mut desk = Desk::new(&ws, &["ann"]);
    desk.customer("c1", "hello");
    let mut bye = Activity::new(byoc_core::activity::ActivityType::EndOfConversation);
    bye.from = Some(ChannelAccount::new("c1"));
    bye.conversation = Some(byoc_core::ConversationAccount::new("c1:15555550999"));
    let out = desk.run(
        "c1",
        InboxEvent::Customer {
            activity: Box::new(bye),
        },
    );
    assert!(
        out.notices
            .iter()
            .any(|n| n.agent.as_deref() == Some("ann") && n.event == NoticeKind::OfferWithdrawn)
    );
    assert_eq!(desk.state.next_wake(), None);
    assert!(!desk.state.is_tracked(&desk.records["c1"].conversation.id));
}
