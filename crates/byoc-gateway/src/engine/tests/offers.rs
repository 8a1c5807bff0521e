//! Offers through the engine: one desk keeps the workstream's live routing state across
//! steps and conversations, carries follow-ups to the conversations they concern (as the
//! shell does through their inboxes) and fires the router's timer when asked.

use std::collections::HashMap;
use std::time::Duration;

use byoc_core::conversation::{ConversationState, Owner};
use byoc_core::workstream::{
    ChannelKind, MemberState, PreparedState, Presence, Router, RoutingState, Workstream,
};
use byoc_core::{Activity, ChannelAccount, ChannelInfo};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::super::*;
use crate::config::{ContactCenterKind, WorkstreamConfig};
use crate::model::{AgentAction, RoutingAction};

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

struct Desk<'w> {
    ws: &'w WorkstreamConfig,
    router: Router<'w>,
    state: PreparedState,
    /// Members' presence and load as the shell counts them.
    members: RoutingState,
    channel: ChannelInfo,
    now: DateTime<Utc>,
    /// By customer.
    records: HashMap<String, ConversationRecord>,
    /// Every hop, in order.
    hops: Vec<HopKind>,
    /// Every notice, in order.
    notices: Vec<Notice>,
    ids: u32,
}

impl<'w> Desk<'w> {
    fn new(ws: &'w WorkstreamConfig, online: &[&str]) -> Self {
        let router = Router::new(&ws.workstream);
        let mut members = RoutingState::new();
        for a in online {
            members.set_member(*a, Presence::Available, 0);
        }
        let state = router.prepare(&members);
        Self {
            ws,
            router,
            state,
            members,
            channel: byoc_telesign::channel_info(),
            now: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
            records: HashMap::new(),
            hops: Vec::new(),
            notices: Vec::new(),
            ids: 0,
        }
    }

    fn customer_of(&self, conversation: &str) -> String {
        self.records
            .iter()
            .find(|(_, r)| r.conversation.id == conversation)
            .map(|(c, _)| c.clone())
            .unwrap()
    }

    /// Runs one event for a customer's conversation, then its follow-ups.
    fn run(&mut self, customer: &str, event: InboxEvent) -> Step {
        self.ids += 1;
        let id = format!("conv-{}", self.ids);
        let cx = Context {
            workstream: self.ws,
            channel: &self.channel,
            router: &self.router,
            now: self.now,
            new_id: &id,
        };
        let current = self.records.get(customer).cloned();
        let out = step(current, &event, &cx, &mut self.state);
        self.absorb(customer, &out);
        for f in out.follow_ups.clone() {
            let customer = self.customer_of(&f.conversation);
            let event = InboxEvent::Routing {
                conversation: f.conversation,
                action: f.action,
                trace: f.trace,
            };
            self.run(&customer, event);
        }
        out
    }

    fn absorb(&mut self, customer: &str, out: &Step) {
        for (agent, delta) in &out.load {
            let mut s = self
                .members
                .member_state(agent)
                .unwrap_or(MemberState::new(Presence::Offline, 0));
            s.load = s.load.saturating_add_signed(*delta);
            let n = s.by_kind.get_mut(ChannelKind::Sms);
            *n = n.saturating_add_signed(*delta);
            s.idle_since = None;
            self.members.set_member_state(agent.clone(), s);
            self.state.update_member(agent, s, self.now);
        }
        if let Some(r) = &out.record {
            self.records.insert(customer.to_owned(), r.clone());
        }
        self.hops.extend(out.hops.iter().map(|h| h.kind.clone()));
        self.notices.extend(out.notices.iter().cloned());
    }

    fn customer(&mut self, customer: &str, text: &str) -> Step {
        let mut a = Activity::message(text);
        a.from = Some(ChannelAccount::new(customer));
        a.recipient = Some(ChannelAccount::new("15555550999"));
        a.conversation = Some(byoc_core::ConversationAccount::new(format!(
            "{customer}:15555550999"
        )));
        self.run(
            customer,
            InboxEvent::Customer {
                activity: Box::new(a),
            },
        )
    }

    fn agent(&mut self, customer: &str, agent: &str, action: AgentAction) -> Step {
        let conversation = self.records[customer].conversation.id.clone();
        self.run(
            customer,
            InboxEvent::Agent {
                conversation,
                agent: agent.to_owned(),
                action,
            },
        )
    }

    /// Fires the router's timer at its time (as the shell's routing task does).
    fn wake(&mut self) {
        let at = self.state.next_wake().expect("a router timer is set");
        self.now = at;
        let actions = self.router.wake(&mut self.state, at);
        self.follow(&actions);
    }

    /// An agent comes online; waiting conversations are re-evaluated.
    fn online(&mut self, agent: &str) {
        let s = MemberState::new(Presence::Available, 0);
        self.members.set_member_state(agent, s);
        self.state.update_member(agent, s, self.now);
        let actions = self.router.reevaluate(&mut self.state, self.now);
        self.follow(&actions);
    }

    fn follow(&mut self, actions: &[byoc_core::workstream::Action<'_>]) {
        let owned: Vec<(String, RoutingAction, String)> = actions
            .iter()
            .filter_map(|a| {
                Some((
                    a.conversation().to_owned(),
                    RoutingAction::of(a)?,
                    a.to_string(),
                ))
            })
            .collect();
        for a in actions {
            if let byoc_core::workstream::Action::Assign { member, .. } = a {
                let load = vec![(member.id.clone(), 1)];
                let out = Step {
                    load,
                    ..Step::default()
                };
                self.absorb("", &out);
            }
        }
        for (conversation, action, trace) in owned {
            let customer = self.customer_of(&conversation);
            let event = InboxEvent::Routing {
                conversation,
                action,
                trace,
            };
            self.run(&customer, event);
        }
    }

    fn owner(&self, customer: &str) -> Owner {
        self.records[customer].conversation.owner.clone()
    }

    fn offered_to(&self, customer: &str) -> Option<String> {
        let id = &self.records[customer].conversation.id;
        self.router.place(&self.state, id)?.offered_to
    }

    fn offers_to(&self, agent: &str) -> usize {
        self.notices
            .iter()
            .filter(|n| n.agent.as_deref() == Some(agent))
            .filter(|n| matches!(n.event, NoticeKind::Offered { .. }))
            .count()
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
