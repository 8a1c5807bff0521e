//! A returning customer is offered first to the agent who last worked with them.

use std::time::Duration;

use byoc_core::workstream::{MemberState, Presence, Workstream};

use byoc_core::conversation::{Conversation, ParticipantRole};

use super::super::customer::{LAST_AGENT_FACT, last_agent};
use super::desk::Desk;
use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::model::AgentAction;

const RETURNING: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }

[[routing_rules]]
name = "All"
queue = "Sales"
preferred_agent = { from = "customer.last_agent", wait = "2m" }

[[queues]]
name = "Sales"
offer = { timeout = "30s" }
members = [
    { id = "ann", kind = "agent", capacity = 1 },
    { id = "bob", kind = "agent", capacity = 3 },
]
"#;

fn config() -> WorkstreamConfig {
    WorkstreamConfig {
        workstream: Workstream::from_toml_str(RETURNING).unwrap(),
        contact_center: ContactCenterKind::Byoc,
        bot_timeout: Duration::from_secs(30),
    }
}

/// `c1` talks with ann (the only agent online) until the conversation closes; bob, with
/// more free capacity, comes online afterwards.
fn served_by_ann(ws: &WorkstreamConfig) -> Desk<'_> {
    let mut desk = Desk::new(ws, &["ann"]);
    desk.customer("c1", "hello");
    assert_eq!(desk.offered_to("c1").as_deref(), Some("ann"));
    desk.agent("c1", "ann", AgentAction::Accept);
    desk.agent("c1", "ann", AgentAction::End);
    desk.agent("c1", "ann", AgentAction::WrapUp { notes: None });
    assert!(desk.records["c1"].conversation.state.is_terminal());
    desk.online("bob");
    desk
}

#[test]
fn a_returning_customer_is_offered_to_their_last_agent_first() {
    let ws = config();
    let mut desk = served_by_ann(&ws);
    let first = desk.records["c1"].conversation.id.clone();

    desk.customer("c1", "me again");
    let rec = &desk.records["c1"];
    assert_ne!(rec.conversation.id, first, "a new conversation");
    assert_eq!(
        rec.conversation
            .customer_facts
            .get(LAST_AGENT_FACT)
            .map(String::as_str),
        Some("ann")
    );
    assert_eq!(
        desk.offered_to("c1").as_deref(),
        Some("ann"),
        "not bob, who has more room"
    );
}

#[test]
fn a_returning_customer_waits_for_an_away_last_agent_then_goes_to_the_queue() {
    let ws = config();
    let mut desk = served_by_ann(&ws);
    let away = MemberState::new(Presence::Away, 0);
    desk.members.set_member_state("ann", away);
    desk.state.update_member("ann", away, desk.now);

    desk.customer("c1", "me again");
    assert_eq!(
        desk.offered_to("c1"),
        None,
        "held for ann although bob is free"
    );
    let held_from = desk.now;

    desk.wake();
    assert_eq!(desk.now - held_from, chrono::TimeDelta::minutes(2));
    assert_eq!(desk.offered_to("c1").as_deref(), Some("bob"));
}

#[test]
fn a_conversation_no_human_worked_keeps_pointing_at_the_customers_last_agent() {
    let now = chrono::Utc::now();
    let customer = byoc_core::ChannelAccount::new("c1");
    let bot_only = Conversation::new("conv-2", "sms", customer.clone(), now)
        .with_customer_fact(LAST_AGENT_FACT, "ann");
    assert_eq!(last_agent(&bot_only), Some("ann"));

    let mut worked = Conversation::new("conv-3", "sms", customer, now)
        .with_customer_fact(LAST_AGENT_FACT, "ann");
    worked.join(
        byoc_core::ChannelAccount::new("bob"),
        ParticipantRole::Agent,
        now,
    );
    assert_eq!(last_agent(&worked), Some("bob"), "the newest human wins");
}
