//! The relayed modes without I/O: customer events and platform events in (the platforms'
//! activities as their adapters normalize them), records and effects out.

use std::time::Duration;

use byoc_core::conversation::{ConversationState, Owner};
use byoc_core::workstream::{Router, RoutingState, Workstream};
use byoc_core::{Activity, Attachment, ChannelAccount, ChannelInfo};
use byoc_directline::BotCommand;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;

use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::engine::{Context, Step, step};
use crate::model::{
    Author, ConversationRecord, EVENT_ACKNOWLEDGE, EVENT_ROUTE, InboxEvent, RoutingPlan,
    RoutingReport, Target, TimerKind,
};

const CUSTOMER: &str = "15555550123";

const RELAYED: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
default_queue = "Support"
routing_rules = []

[[queues]]
name = "Support"
members = [{ id = "0055g00000Jk7Qp", name = "Grace Liu", kind = "agent", capacity = 1 }]

[[queues]]
name = "Overflow"
members = [{ id = "0055g00000Zz9Yx", name = "Omar", kind = "agent", capacity = 1 }]

[messages]
greeting = "Hi! You are talking to {WorkstreamName}."
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
    fn new(contact_center: ContactCenterKind) -> Self {
        Self {
            ws: WorkstreamConfig {
                workstream: Workstream::from_toml_str(RELAYED).unwrap(),
                contact_center,
                bot_timeout: Duration::from_secs(30),
            },
            channel: byoc_telesign::channel_info(),
            routing: RoutingState::new()
                .with_member(
                    "0055g00000Jk7Qp",
                    byoc_core::workstream::Presence::Available,
                    0,
                )
                .with_member(
                    "0055g00000Zz9Yx",
                    byoc_core::workstream::Presence::Available,
                    0,
                ),
            now: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
            record: None,
            ids: 0,
        }
    }

    fn omnichannel() -> Self {
        Self::new(ContactCenterKind::Omnichannel {
            channel: "d365".into(),
        })
    }

    fn salesforce(routes: bool) -> Self {
        let channel = "sf".to_owned();
        Self::new(if routes {
            ContactCenterKind::SalesforceCcaas { channel }
        } else {
            ContactCenterKind::Salesforce { channel }
        })
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

    fn customer_activity(&mut self, mut a: Activity) -> Step {
        a.from = Some(ChannelAccount::new(CUSTOMER));
        a.recipient = Some(ChannelAccount::new("15555550999"));
        a.conversation = Some(byoc_core::ConversationAccount::new(format!(
            "{CUSTOMER}:15555550999"
        )));
        a.channel_id = Some("telesign".into());
        self.run(InboxEvent::Customer {
            activity: Box::new(a),
        })
    }

    fn customer(&mut self, text: &str) -> Step {
        let mut a = Activity::message(text);
        a.id = Some(format!("ref-{}", self.ids));
        self.customer_activity(a)
    }

    fn platform(&mut self, platform: &str, activity: Activity) -> Step {
        let conversation = self.rec().conversation.id.clone();
        self.run(InboxEvent::Platform {
            platform: platform.into(),
            conversation,
            activity: Box::new(activity),
        })
    }

    fn rec(&self) -> &ConversationRecord {
        self.record.as_ref().unwrap()
    }

    fn state(&self) -> ConversationState {
        self.rec().conversation.state
    }
}

fn to(step: &Step, target: &Target) -> Vec<Activity> {
    step.outbox
        .iter()
        .filter(|o| &o.target == target)
        .map(|o| o.activity.clone())
        .collect()
}

fn texts(step: &Step, target: &Target) -> Vec<String> {
    to(step, target)
        .iter()
        .map(|a| a.text.clone().unwrap_or_default())
        .collect()
}

fn sms() -> Target {
    Target::Channel("sms".into())
}

fn d365() -> Target {
    Target::Platform("d365".into())
}

fn sf() -> Target {
    Target::Platform("sf".into())
}

fn notes(step: &Step) -> Vec<String> {
    step.transcript
        .iter()
        .filter_map(|t| t.note.clone())
        .collect()
}

/// A Messaging API webhook body, as the adapter normalizes it.
fn omnichannel(body: serde_json::Value) -> Activity {
    byoc_messaging_api::normalize(body.to_string().as_bytes())
        .unwrap()
        .remove(0)
}

fn omni_event(name: &str) -> Activity {
    omnichannel(json!({
        "type": "message", "channelId": "MessagingApi", "conversation": {"id": "omni-1"},
        "text": format!("EventName: **_{name}_**"), "name": name,
    }))
}

fn omni_says(text: &str) -> Activity {
    omnichannel(json!({
        "type": "message", "channelId": "MessagingApi", "conversation": {"id": "omni-1"},
        "from": {"id": "8d1f3a5c", "name": "Rosa Delgado"}, "textFormat": "markdown", "text": text,
    }))
}

/// A Salesforce Interaction event payload, as the adapter normalizes it.
fn salesforce(entry_type: &str, sender: serde_json::Value, payload: serde_json::Value) -> Activity {
    let body = json!({
        "conversationIdentifier": "sf-conv-1",
        "channelAddressIdentifier": "b7e1c2d3",
        "recipient": {"appType": "custom", "subject": CUSTOMER, "role": "EndUser"},
        "payload": {
            "identifier": "e1", "entryType": entry_type,
            "entryPayload": payload, "sender": sender,
            "senderDisplayName": "Grace Liu", "transcriptedTimestamp": 1_714_668_302_918_i64,
        }
    });
    byoc_salesforce::normalize(body.to_string().as_bytes())
        .unwrap()
        .remove(0)
}

fn rep() -> serde_json::Value {
    json!({"appType": "agent", "subject": "0055g00000Jk7Qp", "role": "Agent"})
}

fn sf_says(text: &str) -> Activity {
    salesforce(
        "Message",
        rep(),
        json!({"entryType": "Message", "id": "e1", "abstractMessage": {
            "messageType": "StaticContentMessage", "id": "e1",
            "staticContent": {"formatType": "Text", "text": text}}}),
    )
}

#[test]
fn omnichannel_a_first_message_opens_a_relayed_conversation_without_greeting() {
    let mut b = Bench::omnichannel();
    let s = b.customer("hello");
    let rec = b.rec();
    let link = rec.relay.as_ref().unwrap();
    assert_eq!(link.platform, "d365");
    assert_eq!(link.request_id, "byoc-conv-1", "stored before any call");
    assert_eq!(link.end_user, CUSTOMER);
    assert_eq!(rec.conversation.state, ConversationState::Open);
    assert_eq!(rec.conversation.owner, Owner::None);
    assert!(
        texts(&s, &sms()).is_empty(),
        "no byoc greeting: the platform greets"
    );
    let out = to(&s, &d365());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text.as_deref(), Some("hello"));
    assert_eq!(out[0].from_id(), Some(CUSTOMER));
    assert!(
        notes(&s)
            .iter()
            .any(|n| n.contains("relayed to Dynamics 365 Omnichannel"))
    );
}

#[test]
fn omnichannel_typing_and_the_customer_leaving_are_relayed() {
    let mut b = Bench::omnichannel();
    b.customer("hello");
    let s = b.at(1).customer_activity(Activity::typing());
    assert_eq!(to(&s, &d365())[0].kind, byoc_core::ActivityType::Typing);
    let s = b
        .at(1)
        .customer_activity(Activity::new(byoc_core::ActivityType::EndOfConversation));
    assert_eq!(
        to(&s, &d365())[0].kind,
        byoc_core::ActivityType::EndOfConversation
    );
    assert_eq!(b.state(), ConversationState::Closed);
}

#[test]
fn omnichannel_agent_accepted_activates_and_agent_messages_reach_the_customer_adapted() {
    let mut b = Bench::omnichannel();
    b.customer("hello");
    let s = b.at(2).platform("d365", omni_event("AgentAccepted"));
    assert_eq!(b.state(), ConversationState::Active);
    assert!(notes(&s).iter().any(|n| n == "d365: AgentAccepted"));
    let long = "x".repeat(2000);
    let s = b.at(2).platform("d365", omni_says(&long));
    let parts = texts(&s, &sms());
    assert!(parts.len() >= 2, "split for SMS: {}", parts.len());
    assert!(notes(&s).iter().any(|n| n.contains("text split")));
    assert!(
        s.transcript
            .iter()
            .any(|t| t.author == Author::Agent("8d1f3a5c".into()))
    );
    let mut file = omni_says("see attached");
    let mut pdf = Attachment::from_url("application/pdf", "https://files.example/a.pdf");
    pdf.name = Some("a.pdf".into());
    file.attachments = Some(vec![pdf]);
    let s = b.at(1).platform("d365", file);
    assert!(texts(&s, &sms())[0].contains("https://files.example/a.pdf"));
    assert!(notes(&s).iter().any(|n| n.contains("sent as a link")));
}

#[test]
fn omnichannel_transfer_reopens_agent_end_wraps_up_and_closed_closes() {
    let mut b = Bench::omnichannel();
    b.customer("hello");
    b.platform("d365", omni_event("AgentAccepted"));
    b.at(1)
        .platform("d365", omni_event("TransferToQueueInitiated"));
    assert_eq!(b.state(), ConversationState::Open);
    b.at(1).platform("d365", omni_event("AgentAccepted"));
    b.at(1).platform("d365", omni_event("AgentEndSession"));
    assert_eq!(b.state(), ConversationState::WrapUp);
    let s = b.at(1).platform("d365", omni_event("ConversationClosed"));
    assert_eq!(b.state(), ConversationState::Closed);
    assert!(
        s.timers
            .contains(&crate::store::TimerChange::Cancel(TimerKind::AutoClose))
    );
    // After the end nothing more reaches the customer.
    let s = b.at(1).platform("d365", omni_says("too late"));
    assert!(texts(&s, &sms()).is_empty());
    assert!(notes(&s).iter().any(|n| n.contains("not delivered")));
}

#[test]
fn omnichannel_bot_each_message_goes_to_the_bot_which_speaks_for_omnichannel() {
    let mut b = Bench::new(ContactCenterKind::OmnichannelBot {
        bot: "ocbot".into(),
    });
    let s = b.customer("hello");
    assert_eq!(b.rec().conversation.owner, Owner::Bot("ocbot".into()));
    assert_eq!(texts(&s, &Target::Bot("ocbot".into())), ["hello"]);
    assert!(
        s.timers
            .iter()
            .all(|t| !matches!(t, crate::store::TimerChange::Set(TimerKind::BotTimeout, _)))
    );
    // Omnichannel's escalation is its own: noted, never a byoc hand-off.
    let mut escalate = Activity::message("to an agent");
    BotCommand::escalate(serde_json::Map::new())
        .apply(&mut escalate)
        .unwrap();
    let s = b.at(1).run(InboxEvent::Bot {
        bot: "ocbot".into(),
        activity: Box::new(escalate),
    });
    assert_eq!(b.rec().conversation.owner, Owner::Bot("ocbot".into()));
    assert!(s.routed.is_empty());
    let mut agent = Activity::message("Rosa here, how can I help?");
    agent.from = Some(ChannelAccount::new("ocbot").with_name("Rosa"));
    let s = b.at(1).run(InboxEvent::Bot {
        bot: "ocbot".into(),
        activity: Box::new(agent),
    });
    assert_eq!(texts(&s, &sms()), ["Rosa here, how can I help?"]);
}

#[test]
fn salesforce_messages_go_in_and_the_reps_messages_and_session_end_come_back() {
    let mut b = Bench::salesforce(false);
    let s = b.customer("hello");
    assert_eq!(texts(&s, &sf()), ["hello"]);
    assert!(s.routed.is_empty(), "Salesforce routes");
    let joined = salesforce(
        "ParticipantChanged",
        json!({"appType": "conversation", "subject": "sf-conv-1", "role": "System"}),
        json!({"entryType": "ParticipantChanged", "id": "e1", "entries": [{
            "operation": "add", "displayName": "Grace Liu", "participant": rep()}]}),
    );
    let s = b.at(1).platform("sf", joined);
    assert_eq!(b.state(), ConversationState::Active);
    assert!(notes(&s).iter().any(|n| n.contains("Grace Liu joined")));
    let s = b.at(1).platform("sf", sf_says("Hi, Grace here"));
    let out = to(&s, &sms());
    assert_eq!(out[0].text.as_deref(), Some("Hi, Grace here"));
    assert_eq!(out[0].id.as_deref(), Some("e1"), "the entry id rides along");
    let ended = salesforce(
        "SessionStatusChanged",
        json!({"appType": "conversation", "subject": "sf-conv-1", "role": "System"}),
        json!({"entryType": "SessionStatusChanged", "id": "e1", "sessionStatus": "Ended",
               "sessionStatusPrev": "Active"}),
    );
    b.at(1).platform("sf", ended);
    assert_eq!(b.state(), ConversationState::Closed);
}

#[test]
fn salesforce_a_delivery_receipt_becomes_an_acknowledgement_of_the_message_it_carried() {
    let mut b = Bench::salesforce(false);
    b.customer("hello");
    let mut receipt = Activity::event(byoc_telesign::EVENT_DELIVERY_REPORT);
    receipt.value = byoc_core::RawJson::from_serialize(&json!({
        "referenceId": "ABC", "externalId": "byoc-42", "statusCode": 200,
        "state": "delivered", "isFinal": true, "success": true,
    }))
    .ok();
    let s = b.at(1).customer_activity(receipt);
    let acks = to(&s, &sf());
    assert_eq!(acks[0].name.as_deref(), Some(EVENT_ACKNOWLEDGE));
    let ack: crate::model::Acknowledge = acks[0].value_as().unwrap();
    assert_eq!((ack.outbox_id, ack.kind.as_str()), (42, "Delivered"));
}

#[test]
fn ccaas_a_new_conversation_is_routed_by_byoc_and_answered_with_a_routing_plan() {
    let mut b = Bench::salesforce(true);
    let s = b.customer("hello");
    let out = to(&s, &sf());
    assert_eq!(
        out[0].text.as_deref(),
        Some("hello"),
        "the interaction first"
    );
    assert_eq!(out[1].name.as_deref(), Some(EVENT_ROUTE));
    let plan: RoutingPlan = out[1].value_as().unwrap();
    assert_eq!(plan.routing_type, "Initial");
    assert_eq!(plan.queue.as_deref(), Some("Support"));
    assert_eq!(plan.user_id.as_deref(), Some("0055g00000Jk7Qp"));
    assert_eq!(plan.requested_at, b.now);
    assert!(!plan.trace.is_empty());
    assert_eq!(
        b.rec().conversation.owner,
        Owner::Agent("0055g00000Jk7Qp".into())
    );
    assert_eq!(s.load, [("0055g00000Jk7Qp".to_owned(), 1)]);
    assert!(notes(&s).iter().any(|n| n.starts_with("routing (Initial)")));
}

#[test]
fn ccaas_a_routing_request_reroutes_with_its_correlation_id() {
    let mut b = Bench::salesforce(true);
    b.customer("hello");
    let request = byoc_salesforce::normalize(
        json!({
            "channelAddressIdentifier": "b7e1c2d3",
            "recipient": {"appType": "custom", "subject": CUSTOMER, "role": "EndUser"},
            "payload": {
                "conversationIdentifier": "sf-conv-1",
                "routingParameters": {"queueId": null, "isTransfer": true, "userId": null,
                    "flowId": null, "channelData": "{\"eventId\":\"corr-9\"}"},
                "routingType": "Transfer", "workRecordId": "0Mw000000000001"
            }
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
    .remove(0);
    let s = b.at(5).platform("sf", request);
    let plan: RoutingPlan = to(&s, &sf())[0].value_as().unwrap();
    assert_eq!(plan.routing_type, "Transfer");
    assert_eq!(plan.correlation_id.as_deref(), Some("corr-9"));
    assert_eq!(plan.work_item_id.as_deref(), Some("0Mw000000000001"));
    // The rep who held it gives it up; within this step they still count at capacity, so
    // the transfer waits in the queue (Omni-Channel takes it from there).
    assert!(s.load.contains(&("0055g00000Jk7Qp".to_owned(), -1)));
    assert_eq!(plan.user_id, None);
    assert_eq!(plan.queue.as_deref(), Some("Support"));
    assert_eq!(b.rec().conversation.owner, Owner::Queue("Support".into()));
}

#[test]
fn ccaas_a_missed_deadline_is_noted_and_releases_the_rep() {
    let mut b = Bench::salesforce(true);
    b.customer("hello");
    let id = b.rec().conversation.id.clone();
    let report = RoutingReport {
        met: false,
        elapsed_ms: 61_000,
        deadline_ms: 60_000,
        calls: vec!["/route".into(), "/routingResult (late)".into()],
        user_id: None,
        problem: Some("routing did not complete within the 60-second deadline".into()),
    };
    let s = b.at(61).run(InboxEvent::PlatformRouting {
        conversation: id,
        platform: "sf".into(),
        report,
    });
    assert!(
        notes(&s)
            .iter()
            .any(|n| n.contains("routing deadline missed"))
    );
    assert_eq!(b.rec().conversation.owner, Owner::None);
    assert_eq!(b.state(), ConversationState::Open);
    assert!(s.load.contains(&("0055g00000Jk7Qp".to_owned(), -1)));
}

#[test]
fn inactivity_closes_a_relayed_conversation_and_tells_the_platform() {
    let mut b = Bench::omnichannel();
    b.customer("hello");
    let id = b.rec().conversation.id.clone();
    // SMS conversations close after a day of inactivity by default.
    let s = b.at(60 * 60 * 24 * 30).run(InboxEvent::Timer {
        conversation: id,
        timer: TimerKind::AutoClose,
    });
    assert_eq!(b.state(), ConversationState::Closed);
    assert_eq!(
        to(&s, &d365())[0].kind,
        byoc_core::ActivityType::EndOfConversation
    );
}

#[test]
fn a_platform_event_for_an_earlier_conversation_is_not_applied_to_a_later_one() {
    let mut b = Bench::omnichannel();
    b.customer("hello");
    b.at(1)
        .customer_activity(Activity::new(byoc_core::ActivityType::EndOfConversation));
    b.at(1).customer("hello again");
    let newer = b.rec().conversation.id.clone();
    let s = b.at(1).run(InboxEvent::Platform {
        platform: "d365".into(),
        conversation: "conv-1".into(),
        activity: Box::new(omni_event("AgentEndSession")),
    });
    assert!(s.record.is_none(), "nothing applied");
    assert_eq!(b.rec().conversation.id, newer);
    assert_eq!(b.state(), ConversationState::Open);
}
