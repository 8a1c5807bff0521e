//! A desk for engine tests across conversations: it keeps the workstream's live routing
//! state across steps, carries follow-ups to the conversations they concern (as the shell
//! does through their inboxes), counts loads per channel kind as the shell does, and fires
//! the router's timer when asked.

use std::collections::HashMap;

use byoc_core::conversation::Owner;
use byoc_core::workstream::{Action, MemberState, PreparedState, Presence, Router, RoutingState};
use byoc_core::{Activity, ChannelAccount, ChannelInfo};
use chrono::{DateTime, TimeZone, Utc};

use super::super::*;
use crate::config::WorkstreamConfig;
use crate::model::{AgentAction, RoutingAction};

pub(super) struct Desk<'w> {
    pub(super) ws: &'w WorkstreamConfig,
    pub(super) router: Router<'w>,
    pub(super) state: PreparedState,
    /// Members' presence and load as the shell counts them.
    pub(super) members: RoutingState,
    pub(super) channel: ChannelInfo,
    pub(super) now: DateTime<Utc>,
    /// By customer.
    pub(super) records: HashMap<String, ConversationRecord>,
    /// Every hop, in order.
    pub(super) hops: Vec<HopKind>,
    /// Every notice, in order.
    pub(super) notices: Vec<Notice>,
    pub(super) ids: u32,
}

impl<'w> Desk<'w> {
    pub(super) fn new(ws: &'w WorkstreamConfig, online: &[&str]) -> Self {
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

    pub(super) fn customer_of(&self, conversation: &str) -> String {
        self.records
            .iter()
            .find(|(_, r)| r.conversation.id == conversation)
            .map(|(c, _)| c.clone())
            .unwrap()
    }

    /// Runs one event for a customer's conversation, then its follow-ups.
    pub(super) fn run(&mut self, customer: &str, event: InboxEvent) -> Step {
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

    pub(super) fn absorb(&mut self, customer: &str, out: &Step) {
        for (agent, delta) in &out.load {
            let mut s = self
                .members
                .member_state(agent)
                .unwrap_or(MemberState::new(Presence::Offline, 0));
            s.load = s.load.saturating_add_signed(*delta);
            let n = s.by_kind.get_mut(self.ws.workstream.channel.kind);
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

    pub(super) fn customer(&mut self, customer: &str, text: &str) -> Step {
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

    pub(super) fn agent(&mut self, customer: &str, agent: &str, action: AgentAction) -> Step {
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
    pub(super) fn wake(&mut self) {
        let at = self.state.next_wake().expect("a router timer is set");
        self.now = at;
        let actions = self.router.wake(&mut self.state, at);
        self.follow(&actions);
    }

    /// An agent comes online; waiting conversations are re-evaluated.
    pub(super) fn online(&mut self, agent: &str) {
        let s = MemberState::new(Presence::Available, 0);
        self.members.set_member_state(agent, s);
        self.state.update_member(agent, s, self.now);
        let actions = self.router.reevaluate(&mut self.state, self.now);
        self.follow(&actions);
    }

    pub(super) fn follow(&mut self, actions: &[Action<'_>]) {
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
            if let Action::Assign { member, .. } = a {
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

    pub(super) fn owner(&self, customer: &str) -> Owner {
        self.records[customer].conversation.owner.clone()
    }

    pub(super) fn offered_to(&self, customer: &str) -> Option<String> {
        let id = &self.records[customer].conversation.id;
        self.router.place(&self.state, id)?.offered_to
    }

    pub(super) fn offers_to(&self, agent: &str) -> usize {
        self.notices
            .iter()
            .filter(|n| n.agent.as_deref() == Some(agent))
            .filter(|n| matches!(n.event, NoticeKind::Offered { .. }))
            .count()
    }
}
