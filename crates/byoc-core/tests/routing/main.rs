//! Workstream loading, validation and routing: table tests over every operator, the classic
//! bot-integration setup, full queues, capacity, escalation loops and transfers.

mod bot_setup;
mod loading;
mod operators;
mod prepared;
mod robustness;
mod settings;

use byoc_core::conversation::{ContextValue, Conversation, ConversationState, Owner};
use byoc_core::workstream::{
    AttachmentRejection, AutoClose, Condition, Field, MessageKind, MessageValues, Outcome,
    Presence, RouteError, Router, RoutingState, TraceStep, Unrouted, Verdict, Workstream,
    WorkstreamError, escalate, route, transfer,
};
use byoc_core::{AdapterError, ChannelAccount};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::time::Duration;

const TOML: &str = include_str!("../fixtures/chat-workstream.toml");
const JSON: &str = include_str!("../fixtures/chat-workstream.json");

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

fn chat() -> Workstream {
    Workstream::from_toml_str(TOML).unwrap()
}

fn conv() -> Conversation {
    Conversation::new(
        "conv-1",
        "directline",
        ChannelAccount::new("cust-1").with_name("Ann"),
        t(0),
    )
}

/// Everyone available and idle.
fn all_free() -> RoutingState {
    ["alice", "bob", "carol", "dave", "erin"]
        .into_iter()
        .fold(RoutingState::new(), |s, id| {
            s.with_member(id, Presence::Available, 0)
        })
}

fn assignee<'a>(outcome: &Outcome<'a>) -> Option<&'a str> {
    match outcome {
        Outcome::Assigned(m) => Some(m.id.as_str()),
        _ => None,
    }
}
