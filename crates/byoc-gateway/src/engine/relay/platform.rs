//! What the platform sends back: its agents' and bots' activities to the customer, its
//! state events applied to the conversation, its routing requests answered by byoc's
//! router (CCaaS), and the relay's report of how a routing answer went.

use byoc_core::activity::{ActivityType, RoleType};
use byoc_core::conversation::{ConversationState, Owner, ParticipantRole};
use byoc_core::{Activity, ChannelAccount};
use byoc_salesforce::{
    EVENT_QUEUE_POSITION, EVENT_ROUTING_REQUESTED, EVENT_SESSION_STATUS_CHANGED, RoutingRequested,
};

use super::Relayed;
use crate::engine::content::reply_from;
use crate::engine::{HopKind, RouteRequest, RoutedTo, Run, route_step};
use crate::model::event_with;
use crate::model::{Author, ConversationRecord, EVENT_ROUTE, RoutingPlan, RoutingReport};

/// Who wrote a platform activity: its bot, its agent, or the platform itself.
fn author_of(activity: &Activity) -> Author {
    let Some(from) = activity.from.as_ref() else {
        return Author::System;
    };
    let id = from.id.clone().unwrap_or_default();
    match &from.role {
        Some(RoleType::Bot) => Author::Bot(id),
        Some(RoleType::Other(r)) if r == "system" || r == "conversation" => Author::System,
        _ if id.is_empty() => Author::System,
        _ => Author::Agent(id),
    }
}

fn display(activity: &Activity) -> String {
    activity
        .from
        .as_ref()
        .and_then(|f| f.name.clone().or_else(|| f.id.clone()))
        .unwrap_or_else(|| "agent".to_owned())
}

fn value_field(activity: &Activity, field: &str) -> Option<String> {
    let v: serde_json::Value = activity.value.as_ref()?.parse().ok()?;
    v.get(field)?.as_str().map(str::to_owned)
}

impl Run<'_, '_> {
    /// An activity from the platform of a relayed conversation.
    pub(in crate::engine) fn platform(
        &mut self,
        relayed: &Relayed,
        mut rec: ConversationRecord,
        platform: &str,
        activity: &Activity,
    ) {
        let ours = rec.relay.as_ref().is_some_and(|l| l.platform == platform);
        if !ours || rec.conversation.state.is_terminal() {
            let note = format!("{platform} activity after the conversation closed; not delivered");
            self.note(&mut rec, author_of(activity), Some(activity), Some(note));
            return self.finish(rec);
        }
        let author = author_of(activity);
        match &activity.kind {
            ActivityType::Message | ActivityType::Typing => {
                if activity.kind == ActivityType::Message {
                    self.serving(&mut rec, activity, &author);
                    self.hop(
                        &rec,
                        HopKind::PlatformToCustomer {
                            platform: platform.to_owned(),
                            author: display(activity),
                        },
                        activity.text.as_deref(),
                    );
                    rec.conversation.touch(self.cx.now);
                }
                let from = ChannelAccount::new(platform).with_name(display(activity));
                let mut reply = reply_from(activity, &from);
                // The platform's entry id rides along, so a receipt can name it.
                reply.id.clone_from(&activity.id);
                self.send_to_customer(&mut rec, reply, author);
            }
            ActivityType::EndOfConversation => {
                self.note(&mut rec, author, Some(activity), None);
                self.close(&mut rec, &format!("{platform} ended the conversation"));
            }
            ActivityType::ConversationUpdate => self.platform_members(&mut rec, platform, activity),
            ActivityType::Event => self.platform_event(relayed, &mut rec, platform, activity),
            _ => {
                let note = format!("{} from {platform}; not for the customer", activity.kind);
                self.note(&mut rec, author, Some(activity), Some(note));
            }
        }
        self.finish(rec);
    }

    /// A bot or agent writing means someone serves the conversation.
    fn serving(&mut self, rec: &mut ConversationRecord, activity: &Activity, author: &Author) {
        let role = match author {
            Author::Bot(_) => ParticipantRole::Bot,
            Author::Agent(_) => ParticipantRole::Agent,
            _ => return,
        };
        if let Some(from) = activity.from.clone()
            && let Some(id) = from.id.as_deref()
            && !rec
                .conversation
                .participants
                .iter()
                .any(|p| p.id() == id && p.is_present())
        {
            rec.conversation.join(from, role, self.cx.now);
        }
        self.move_to(rec, ConversationState::Active);
    }

    /// Moves the conversation to `to`, through Active when the table asks for it.
    fn move_to(&mut self, rec: &mut ConversationRecord, to: ConversationState) {
        let now = self.cx.now;
        let conv = &mut rec.conversation;
        if conv.state == to || conv.transition(to, now).is_ok() {
            return;
        }
        if conv.state.can_transition_to(ConversationState::Active)
            && ConversationState::Active.can_transition_to(to)
        {
            let _ = conv.transition(ConversationState::Active, now);
            let _ = conv.transition(to, now);
            return;
        }
        let note = format!(
            "the platform moved to {to}; not possible from {}",
            conv.state
        );
        self.note(rec, Author::System, None, Some(note));
    }

    fn platform_members(&mut self, rec: &mut ConversationRecord, platform: &str, a: &Activity) {
        let now = self.cx.now;
        for m in a.members_added.iter().flatten() {
            let role = match &m.role {
                Some(RoleType::User) => continue, // the end user
                Some(RoleType::Bot) => ParticipantRole::Bot,
                _ => ParticipantRole::Agent,
            };
            let name = m.name.clone().or_else(|| m.id.clone()).unwrap_or_default();
            rec.conversation.join(m.clone(), role, now);
            self.move_to(rec, ConversationState::Active);
            let event = format!("{name} joined");
            self.hop(
                rec,
                HopKind::PlatformEvent {
                    platform: platform.to_owned(),
                    event: event.clone(),
                },
                None,
            );
            self.note(
                rec,
                Author::System,
                Some(a),
                Some(format!("{platform}: {event}")),
            );
        }
        for m in a.members_removed.iter().flatten() {
            let id = m.id.clone().unwrap_or_default();
            rec.conversation.leave(&id, now);
            let name = m.name.clone().unwrap_or(id);
            let note = format!("{platform}: {name} left");
            self.note(rec, Author::System, Some(a), Some(note));
        }
    }

    fn platform_event(
        &mut self,
        relayed: &Relayed,
        rec: &mut ConversationRecord,
        platform: &str,
        a: &Activity,
    ) {
        let name = a.name.clone().unwrap_or_default();
        self.note(
            rec,
            Author::System,
            Some(a),
            Some(format!("{platform}: {name}")),
        );
        let target = match relayed {
            // The Messaging API's events carry the state they lead to.
            Relayed::Omnichannel(_) => value_field(a, "state").and_then(|s| {
                serde_json::from_value::<ConversationState>(serde_json::Value::String(s)).ok()
            }),
            Relayed::Salesforce { routes, .. } => match name.as_str() {
                EVENT_ROUTING_REQUESTED if *routes => {
                    let request = a.value_as::<RoutingRequested>().unwrap_or_default();
                    self.ccaas_route(relayed, rec, "Transfer", Some(&request));
                    None
                }
                EVENT_SESSION_STATUS_CHANGED => match value_field(a, "sessionStatus").as_deref() {
                    Some("Active") => Some(ConversationState::Active),
                    Some("Waiting" | "Paused" | "Inactive") => Some(ConversationState::Waiting),
                    _ => None,
                },
                _ => None,
            },
            Relayed::Bot(_) => None,
        };
        let shown = matches!(
            name.as_str(),
            EVENT_ROUTING_REQUESTED | EVENT_QUEUE_POSITION
        ) || target.is_some();
        if shown {
            self.hop(
                rec,
                HopKind::PlatformEvent {
                    platform: platform.to_owned(),
                    event: name.clone(),
                },
                None,
            );
        }
        match target {
            Some(ConversationState::Closed) => self.close(rec, &format!("{platform}: {name}")),
            Some(to) => self.move_to(rec, to),
            None => {}
        }
    }

    /// byoc's router answers a routing request (CCaaS): the decision is recorded and queued
    /// to the platform as a [`RoutingPlan`], which the relay carries out within the deadline.
    pub(in crate::engine) fn ccaas_route(
        &mut self,
        relayed: &Relayed,
        rec: &mut ConversationRecord,
        routing_type: &str,
        request: Option<&RoutingRequested>,
    ) {
        let cx = self.cx;
        // A rep who held the conversation gives it up (their capacity comes back).
        if let Owner::Agent(a) = rec.conversation.owner.clone() {
            self.out.load.push((a.clone(), -1));
            rec.conversation.leave(&a, cx.now);
            rec.conversation.owner = Owner::None;
        }
        let routed = match route_step(
            &mut rec.conversation,
            cx.router,
            self.state,
            RouteRequest::Rules,
            cx.now,
        ) {
            Ok(r) => r,
            Err(reason) => {
                let note = format!("routing refused: {reason}");
                self.note(rec, Author::System, None, Some(note));
                return;
            }
        };
        let note = format!("routing ({routing_type}): {}", routed.trace.join("; "));
        self.note(rec, Author::System, None, Some(note));
        let queue = routed.queue.clone();
        let user_id = match &routed.to {
            RoutedTo::Agent { id, .. } => {
                self.out.load.push((id.clone(), 1));
                self.hop(
                    rec,
                    HopKind::Assigned {
                        agent: id.clone(),
                        queue: queue.clone(),
                    },
                    None,
                );
                Some(id.clone())
            }
            RoutedTo::Queued(position) => {
                self.hop(
                    rec,
                    HopKind::Queued {
                        queue: queue.clone().unwrap_or_default(),
                        position: *position,
                    },
                    None,
                );
                None
            }
            other => {
                let reason = match other {
                    RoutedTo::Full => "the queue is full",
                    RoutedTo::Bot(_) => "a bot is no Salesforce user",
                    _ => "no rule matched",
                };
                self.hop(
                    rec,
                    HopKind::NotRouted {
                        reason: reason.to_owned(),
                    },
                    None,
                );
                None
            }
        };
        let plan = RoutingPlan {
            routing_type: routing_type.to_owned(),
            correlation_id: request.and_then(|r| r.routing_correlation_id.clone()),
            work_item_id: request.and_then(|r| r.work_record_id.clone()),
            queue,
            user_id,
            requested_at: cx.now,
            trace: routed.trace.clone(),
        };
        self.queue_platform(relayed, event_with(EVENT_ROUTE, &plan));
        self.out.routed.push(routed);
    }

    /// The relay's report of a routing answer: noted; a missed deadline releases the rep
    /// (the platform fails the routing and asks again).
    pub(in crate::engine) fn platform_routing(
        &mut self,
        mut rec: ConversationRecord,
        platform: &str,
        report: &RoutingReport,
    ) {
        let calls = report.calls.join(", ");
        let note = if report.met {
            format!(
                "{platform} routing answered in {} ms (deadline {} ms): {calls}",
                report.elapsed_ms, report.deadline_ms
            )
        } else {
            format!(
                "{platform} routing deadline missed ({} ms, deadline {} ms): {}; calls: {calls}",
                report.elapsed_ms,
                report.deadline_ms,
                report.problem.as_deref().unwrap_or("no answer in time")
            )
        };
        self.note(&mut rec, Author::System, None, Some(note));
        let event = if report.met {
            "routing answered in time"
        } else {
            "routing deadline missed"
        };
        self.hop(
            &rec,
            HopKind::PlatformEvent {
                platform: platform.to_owned(),
                event: event.to_owned(),
            },
            None,
        );
        if !report.met
            && report.user_id.is_none()
            && let Owner::Agent(a) = rec.conversation.owner.clone()
            && !rec.conversation.state.is_terminal()
        {
            self.out.load.push((a.clone(), -1));
            rec.conversation.leave(&a, self.cx.now);
            rec.conversation.owner = Owner::None;
            self.move_to(&mut rec, ConversationState::Open);
        }
        self.finish(rec);
    }

    /// An activity from the bot of an `omnichannel-bot` workstream: Omnichannel speaks
    /// through it (its bot, then its agents), so everything it says goes to the customer;
    /// its commands (`Escalate`, `handoff.initiate`) are Omnichannel's and only noted.
    pub(in crate::engine) fn relay_bot(
        &mut self,
        mut rec: ConversationRecord,
        bot: &str,
        activity: &Activity,
    ) {
        if rec.conversation.owner.bot() != Some(bot) || rec.conversation.state.is_terminal() {
            let note = format!("bot {bot} activity after the conversation closed; not delivered");
            self.note(
                &mut rec,
                Author::Bot(bot.to_owned()),
                Some(activity),
                Some(note),
            );
            return self.finish(rec);
        }
        match &activity.kind {
            ActivityType::Message | ActivityType::Typing => {
                if activity.kind == ActivityType::Message {
                    self.hop(
                        &rec,
                        HopKind::PlatformToCustomer {
                            platform: bot.to_owned(),
                            author: display(activity),
                        },
                        activity.text.as_deref(),
                    );
                    rec.conversation.touch(self.cx.now);
                }
                let from = ChannelAccount::new(bot).with_name(display(activity));
                let reply = reply_from(activity, &from);
                self.send_to_customer(&mut rec, reply, Author::Bot(bot.to_owned()));
            }
            ActivityType::EndOfConversation => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.close(&mut rec, "Omnichannel ended the conversation");
            }
            _ => {
                let note = format!("{} from {bot}; Omnichannel's, not relayed", activity.kind);
                self.note(
                    &mut rec,
                    Author::Bot(bot.to_owned()),
                    Some(activity),
                    Some(note),
                );
            }
        }
        self.finish(rec);
    }
}
