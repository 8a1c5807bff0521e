//! The engine without I/O: events in, records and effects out, at chosen times.

use std::time::Duration;

use byoc_core::activity::{CardAction, SuggestedActions};
use byoc_core::conversation::{ConversationState, Owner};
use byoc_core::workstream::{Presence, Router, RoutingState, Workstream};
use byoc_core::{Activity, Attachment, ChannelAccount, ChannelInfo};
use byoc_directline::BotCommand;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::model::AgentAction;

const WORKSTREAM: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
default_queue = "General"
context_variables = [{ name = "Topic", type = "string", is_displayable = true }]

[[routing_rules]]
name = "Billing"
queue = "Billing"
condition = { equals = { field = "context.Topic", value = "billing" } }

[[routing_rules]]
name = "Bot first"
queue = "Bots"

[[queues]]
name = "Bots"
members = [{ id = "helper", kind = "bot" }]

[[queues]]
name = "Billing"
members = [{ id = "alice", name = "Alice", kind = "agent", capacity = 2 }]

[[queues]]
name = "General"
members = [{ id = "bob", kind = "agent", capacity = 1 }]

[attachments.customer]
allowed = true
mime_types = ["image/*"]

[messages]
greeting = "Hi! You are talking to {WorkstreamName}."
agent_joined = "{AgentName} joined."
queue_position = "You are number {QueuePosition} in line."
conversation_ended = "Thanks, goodbye."

[auto_close]
open = "8h"
"#;

struct Bench {
    ws: WorkstreamConfig,
    channel: ChannelInfo,
    routing: RoutingState,
    now: DateTime<Utc>,
    record: Option<ConversationRecord>,
    ids: u32,
}

impl Bench {
    fn new() -> Self {
        Self {
            ws: WorkstreamConfig {
                workstream: Workstream::from_toml_str(WORKSTREAM).unwrap(),
                contact_center: ContactCenterKind::Byoc,
                bot_timeout: Duration::from_secs(30),
            },
            channel: byoc_telesign::channel_info(),
            routing: RoutingState::new()
                .with_member("alice", Presence::Available, 0)
                .with_member("bob", Presence::Available, 0),
            now: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
            record: None,
            ids: 0,
        }
    }

    fn at(&mut self, secs: i64) -> &mut Self {
        self.now += TimeDelta::seconds(secs);
        self
    }

    fn run(&mut self, event: InboxEvent) -> Step {
        self.ids += 1;
        let id = format!("conv-{}", self.ids);
        let router = Router::new(&self.ws.workstream);
        let mut routing = router.prepare(&self.routing);
        let cx = Context {
            workstream: &self.ws,
            channel: &self.channel,
            router: &router,
            now: self.now,
            new_id: &id,
        };
        let out = step(self.record.clone(), &event, &cx, &mut routing);
        for (agent, delta) in &out.load {
            let s = self.routing.member_state(agent).unwrap_or_default();
            let load = s.load.saturating_add_signed(*delta);
            self.routing.set_member(agent.clone(), s.presence, load);
        }
        if out.record.is_some() {
            self.record.clone_from(&out.record);
        }
        out
    }

    fn customer(&mut self, text: &str) -> Step {
        let mut a = Activity::message(text);
        a.from = Some(ChannelAccount::new("15555550123"));
        a.recipient = Some(ChannelAccount::new("15555550999"));
        a.conversation = Some(byoc_core::ConversationAccount::new(
            "15555550123:15555550999",
        ));
        a.channel_id = Some("telesign".into());
        self.run(InboxEvent::Customer {
            activity: Box::new(a),
        })
    }

    fn bot(&mut self, activity: Activity) -> Step {
        self.run(InboxEvent::Bot {
            bot: "helper".into(),
            activity: Box::new(activity),
        })
    }

    fn agent(&mut self, agent: &str, action: AgentAction) -> Step {
        let conversation = self.conv().id.clone();
        self.run(InboxEvent::Agent {
            conversation,
            agent: agent.into(),
            action,
        })
    }

    fn timer(&mut self, timer: TimerKind) -> Step {
        let conversation = self.conv().id.clone();
        self.run(InboxEvent::Timer {
            conversation,
            timer,
        })
    }

    fn conv(&self) -> &Conversation {
        &self.record.as_ref().unwrap().conversation
    }
}

fn texts(step: &Step, target: &Target) -> Vec<String> {
    step.outbox
        .iter()
        .filter(|o| &o.target == target)
        .map(|o| o.activity.text.clone().unwrap_or_default())
        .collect()
}

fn sms() -> Target {
    Target::Channel("sms".into())
}

fn helper() -> Target {
    Target::Bot("helper".into())
}

fn notes(step: &Step) -> Vec<String> {
    step.transcript
        .iter()
        .filter_map(|t| t.note.clone())
        .collect()
}

fn escalate(topic: &str) -> Activity {
    let mut a = Activity::message("Customer asks about billing");
    BotCommand::escalate(
        serde_json::json!({ "Topic": topic })
            .as_object()
            .unwrap()
            .clone(),
    )
    .apply(&mut a)
    .unwrap();
    a
}

#[test]
fn a_first_message_opens_a_conversation_greets_and_goes_to_the_bot_first() {
    let mut b = Bench::new();
    let s = b.customer("hello");
    assert_eq!(b.conv().id, "conv-1");
    assert_eq!(b.conv().owner, Owner::Bot("helper".into()));
    assert_eq!(b.conv().state, ConversationState::Active);
    assert_eq!(texts(&s, &sms()), ["Hi! You are talking to Support."]);
    assert_eq!(texts(&s, &helper()), ["hello"]);
    let sent = &s.outbox[0].activity;
    assert_eq!(
        sent.recipient.as_ref().and_then(|r| r.id.as_deref()),
        Some("15555550123"),
        "addressed to the customer"
    );
    assert!(s.timers.contains(&TimerChange::Set(
        TimerKind::BotTimeout,
        b.now + TimeDelta::seconds(30)
    )));
    assert!(
        s.timers
            .iter()
            .any(|t| matches!(t, TimerChange::Set(TimerKind::AutoClose, _)))
    );
    let kinds: Vec<_> = s.hops.iter().map(|h| h.kind.clone()).collect();
    assert!(matches!(kinds[0], HopKind::Started { .. }));
    assert!(kinds.contains(&HopKind::CustomerToBot {
        bot: "helper".into()
    }));
    assert!(s.transcript.iter().any(|t| t.author == Author::Customer));
}

#[test]
fn a_bot_reply_reaches_the_customer_adapted_to_sms_with_the_loss_recorded() {
    let mut b = Bench::new();
    b.customer("hello");
    let mut reply = Activity::message("What is it about?");
    reply.suggested_actions = Some(SuggestedActions {
        actions: Some(vec![
            CardAction::im_back("Billing", "billing"),
            CardAction::im_back("Other", "other"),
        ]),
        ..Default::default()
    });
    let s = b.at(2).bot(reply);
    assert_eq!(
        texts(&s, &sms()),
        ["What is it about?\n1. Billing\n2. Other"]
    );
    assert!(
        notes(&s)
            .iter()
            .any(|n| n.contains("2 suggested actions rendered as a numbered list"))
    );
    assert!(
        s.timers
            .contains(&TimerChange::Cancel(TimerKind::BotTimeout))
    );
    assert_eq!(b.record.as_ref().unwrap().awaiting_bot_since, None);
}

#[test]
fn an_escalate_command_hands_off_with_context_to_the_matching_human_queue() {
    let mut b = Bench::new();
    b.customer("hello");
    let s = b.at(3).bot(escalate("billing"));
    let conv = b.conv();
    assert_eq!(conv.owner, Owner::Agent("alice".into()));
    assert_eq!(conv.queue.as_deref(), Some("Billing"));
    assert_eq!(conv.state, ConversationState::Active);
    assert!(conv.has_visited_bot("helper"));
    let topic = conv.context_value("Topic").unwrap();
    assert_eq!(topic.value.as_str(), Some("billing"));
    assert!(topic.is_displayable);
    assert_eq!(s.load, [("alice".to_owned(), 1)]);
    assert_eq!(s.bots_released, ["helper"]);
    assert_eq!(texts(&s, &sms()), ["Alice joined."]);
    assert!(texts(&s, &helper()).is_empty());
    assert!(
        notes(&s)
            .iter()
            .any(|n| n.contains("summary: Customer asks about billing"))
    );
    assert!(
        s.notices
            .iter()
            .any(|n| n.agent.as_deref() == Some("alice") && n.event == NoticeKind::Assigned)
    );
}

#[test]
fn a_handoff_initiate_event_hands_off_like_the_escalate_command() {
    let mut b = Bench::new();
    b.customer("hello");
    let mut event = Activity::event(byoc_directline::HANDOFF_INITIATE);
    event.value = Some(byoc_core::RawJson::from_json_text(r#"{"Topic":"billing"}"#).unwrap());
    b.at(1).bot(event);
    assert_eq!(b.conv().owner, Owner::Agent("alice".into()));
}

#[test]
fn a_silent_bot_times_out_to_the_default_human_queue_and_never_gets_it_back() {
    let mut b = Bench::new();
    b.customer("hello");
    let early = b.at(10).timer(TimerKind::BotTimeout);
    assert!(early.record.is_none(), "not due yet: nothing changes");
    assert_eq!(b.conv().owner, Owner::Bot("helper".into()));
    let s = b.at(25).timer(TimerKind::BotTimeout);
    assert_eq!(b.conv().owner, Owner::Agent("bob".into()));
    assert_eq!(b.conv().queue.as_deref(), Some("General"));
    assert!(
        s.hops
            .iter()
            .any(|h| matches!(&h.kind, HopKind::HandOff { reason, .. } if reason.contains("30s")))
    );
    // A late bot answer is recorded but not delivered.
    let late = b.at(1).bot(Activity::message("sorry, I was slow"));
    assert!(late.outbox.is_empty());
    assert!(notes(&late)[0].contains("after it left"));
}

#[test]
fn with_nobody_available_the_conversation_waits_and_is_told_its_position() {
    let mut b = Bench::new();
    b.routing.set_member("alice", Presence::Offline, 0);
    b.customer("hello");
    let s = b.at(1).bot(escalate("billing"));
    assert_eq!(b.conv().owner, Owner::Queue("Billing".into()));
    assert_eq!(b.conv().state, ConversationState::Open);
    assert_eq!(texts(&s, &sms()), ["You are number 1 in line."]);
    // Alice comes online and accepts it from her queue.
    b.routing.set_member("alice", Presence::Available, 0);
    let s = b.at(5).agent("alice", AgentAction::Accept);
    assert_eq!(b.conv().owner, Owner::Agent("alice".into()));
    assert_eq!(b.conv().state, ConversationState::Active);
    assert_eq!(s.load, [("alice".to_owned(), 1)]);
}

#[test]
fn an_agent_outside_the_queue_cannot_accept_and_only_the_holder_may_write() {
    let mut b = Bench::new();
    b.routing.set_member("alice", Presence::Offline, 0);
    b.customer("hello");
    b.at(1).bot(escalate("billing"));
    let s = b.agent("bob", AgentAction::Accept);
    assert!(
        matches!(&s.notices[0].event, NoticeKind::Refused { reason } if reason.contains("not waiting in one of your queues"))
    );
    assert_eq!(b.conv().owner, Owner::Queue("Billing".into()));
    let s = b.agent(
        "bob",
        AgentAction::Message {
            text: Some("hi".into()),
            attachments: vec![],
        },
    );
    assert!(s.outbox.is_empty());
    assert!(matches!(&s.notices[0].event, NoticeKind::Refused { .. }));
}

#[test]
fn an_agent_reply_is_split_for_sms_and_each_part_queued_in_order() {
    let mut b = Bench::new();
    b.customer("hello");
    b.at(1).bot(escalate("billing"));
    let long = "word ".repeat(400);
    let s = b.at(1).agent(
        "alice",
        AgentAction::Message {
            text: Some(long.trim().to_owned()),
            attachments: vec![],
        },
    );
    let parts = texts(&s, &sms());
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p.chars().count() <= 1600));
    assert!(
        notes(&s)
            .iter()
            .any(|n| n.contains("text split into 2 messages"))
    );
    assert!(s.hops.iter().any(|h| h.kind
        == HopKind::AgentToCustomer {
            agent: "alice".into()
        }));
}

#[test]
fn attachments_follow_the_workstream_permissions() {
    let mut b = Bench::new();
    let mut a = Activity::message("look");
    a.from = Some(ChannelAccount::new("15555550123"));
    a.conversation = Some(byoc_core::ConversationAccount::new("c"));
    a.attachments = Some(vec![
        Attachment::from_url("image/png", "https://example.com/a.png"),
        Attachment::from_url("application/pdf", "https://example.com/a.pdf"),
    ]);
    let s = b.run(InboxEvent::Customer {
        activity: Box::new(a),
    });
    let to_bot = s.outbox.iter().find(|o| o.target == helper()).unwrap();
    assert_eq!(
        to_bot.activity.attachments.as_ref().unwrap().len(),
        1,
        "the PDF is refused"
    );
    assert!(notes(&s).iter().any(|n| n.contains("refused")));
    b.at(1).bot(escalate("billing"));
    let s = b.agent(
        "alice",
        AgentAction::Message {
            text: None,
            attachments: vec![Attachment::from_url(
                "image/png",
                "https://example.com/b.png",
            )],
        },
    );
    assert!(
        s.outbox.is_empty(),
        "agents may not attach in this workstream"
    );
    assert!(
        matches!(&s.notices[0].event, NoticeKind::Refused { reason } if reason.contains("not allowed"))
    );
}

#[test]
fn transfer_end_and_wrap_up_move_through_the_state_machine() {
    let mut b = Bench::new();
    b.customer("hello");
    b.at(1).bot(escalate("billing"));
    let s = b.agent(
        "alice",
        AgentAction::Transfer {
            queue: "General".into(),
        },
    );
    assert_eq!(b.conv().owner, Owner::Agent("bob".into()));
    assert!(s.load.contains(&("alice".to_owned(), -1)) && s.load.contains(&("bob".to_owned(), 1)));
    let refused = b.agent("bob", AgentAction::WrapUp { notes: None });
    assert!(
        matches!(&refused.notices[0].event, NoticeKind::Refused { .. }),
        "Active -> Closed by wrap-up is refused"
    );
    let s = b.agent("bob", AgentAction::End);
    assert_eq!(b.conv().state, ConversationState::WrapUp);
    assert_eq!(texts(&s, &sms()), ["Thanks, goodbye."]);
    let s = b.agent(
        "bob",
        AgentAction::WrapUp {
            notes: Some("paid".into()),
        },
    );
    assert_eq!(b.conv().state, ConversationState::Closed);
    assert_eq!(s.load, [("bob".to_owned(), -1)]);
    assert!(
        s.timers
            .contains(&TimerChange::Cancel(TimerKind::AutoClose))
    );
    // The customer writes again: a new conversation.
    b.at(60).customer("one more thing");
    assert_eq!(b.conv().id, "conv-7");
    assert_eq!(b.conv().owner, Owner::Bot("helper".into()));
}

#[test]
fn auto_close_closes_an_idle_conversation_only_when_due() {
    let mut b = Bench::new();
    b.routing.set_member("alice", Presence::Offline, 0);
    b.routing.set_member("bob", Presence::Offline, 0);
    b.customer("hello");
    b.at(1).bot(escalate("billing"));
    assert_eq!(b.conv().state, ConversationState::Open);
    let s = b.at(60).timer(TimerKind::AutoClose);
    assert_eq!(
        b.conv().state,
        ConversationState::Open,
        "not idle long enough"
    );
    assert!(
        s.timers
            .iter()
            .any(|t| matches!(t, TimerChange::Set(TimerKind::AutoClose, _)))
    );
    let s = b.at(9 * 3600).timer(TimerKind::AutoClose);
    assert_eq!(b.conv().state, ConversationState::Closed);
    assert!(s.hops.iter().any(|h| h.kind
        == HopKind::Closed {
            reason: "inactivity".into()
        }));
}

#[test]
fn receipts_and_typing_never_open_a_conversation() {
    let mut b = Bench::new();
    let mut report = Activity::event("telesign.deliveryReport");
    report.conversation = Some(byoc_core::ConversationAccount::new("x"));
    let s = b.run(InboxEvent::Customer {
        activity: Box::new(report),
    });
    assert!(s.record.is_none() && s.outbox.is_empty());
}

#[test]
fn the_customer_leaving_closes_the_conversation_and_releases_the_bot() {
    let mut b = Bench::new();
    b.customer("hello");
    let mut bye = Activity::new(byoc_core::ActivityType::EndOfConversation);
    bye.conversation = Some(byoc_core::ConversationAccount::new(
        "15555550123:15555550999",
    ));
    let s = b.run(InboxEvent::Customer {
        activity: Box::new(bye),
    });
    assert_eq!(b.conv().state, ConversationState::Closed);
    assert_eq!(s.bots_released, ["helper"]);
}

#[test]
fn hops_read_as_one_line_each() {
    let hop = Hop {
        conversation: "0123456789abcdef".into(),
        kind: HopKind::Assigned {
            agent: "alice".into(),
            queue: Some("Billing".into()),
        },
        text: None,
    };
    assert_eq!(hop.to_string(), "[01234567] queue Billing -> agent alice");
    let hop = Hop {
        conversation: "c".into(),
        kind: HopKind::CustomerToBot { bot: "b".into() },
        text: Some("a\nb".into()),
    };
    assert_eq!(hop.to_string(), "[c] customer -> bot b: \"a\\nb\"");
}

#[test]
fn the_auto_close_timer_is_rewritten_only_when_it_moves() {
    let mut b = Bench::new();
    b.customer("hello");
    let refused = b.at(5).agent("bob", AgentAction::Accept);
    assert!(
        refused.timers.is_empty(),
        "nothing changed: {:?}",
        refused.timers
    );
    let moved = b.at(5).customer("still there?");
    assert!(
        moved
            .timers
            .iter()
            .any(|t| matches!(t, TimerChange::Set(TimerKind::AutoClose, _)))
    );
    let fired = b.at(1).timer(TimerKind::AutoClose);
    assert!(
        fired
            .timers
            .iter()
            .any(|t| matches!(t, TimerChange::Set(TimerKind::AutoClose, _))),
        "a timer that fired early is armed again"
    );
}

#[test]
fn a_delivery_report_without_a_conversation_changes_nothing() {
    let mut b = Bench::new();
    let mut report = Activity::new(byoc_core::activity::ActivityType::Event);
    report.id = Some("B60E4C92A18D0F3357E2A4C1D9F08E12:200".into());
    let step = b.run(InboxEvent::Customer {
        activity: Box::new(report),
    });
    assert!(step.record.is_none());
    assert!(step.changes_nothing());
    assert!(!b.customer("hello").changes_nothing());
}

mod desk;
mod offers;
mod overflow;
mod preferred;
