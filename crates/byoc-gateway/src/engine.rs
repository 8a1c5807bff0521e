//! The engine: a pure function from (conversation record, event, now, the workstream's live
//! routing state) to the next record and its effects — transcript entries, outbound
//! activities, timers, load changes, hops, agent notices, the routing state updated in
//! place and router actions for other conversations. No I/O, no clock, no runtime: the
//! shell loads the record, calls [`step`], and commits the result in one transaction.
//!
//! What it does, per event:
//!
//! - **Customer activity**: find or create the conversation (a new one after the last was
//!   closed), record it, check attachment permissions, then hand it to whoever holds the
//!   conversation: the bot (through the outbox, with the workstream's bot timeout armed), the
//!   agent (a notice), the queue; a conversation nobody holds is routed (bot first).
//! - **Bot activity**: messages go to the customer, adapted to the channel's capabilities
//!   with every loss recorded; a hand-off (the Omnichannel `Escalate` command in
//!   `channelData.tags` or Bot Framework's `handoff.initiate` event) merges the context
//!   variables the bot set and routes again, never back to that bot.
//! - **Agent action**: accept or decline an offer, message (attachments where allowed),
//!   transfer, end, wrap up; only the agent holding the conversation (or, to accept, the
//!   agent offered it, or a member of a queue without offers).
//! - **Routing**: byoc-core's router is asked through its event API (`routing`): offers,
//!   assignments, waits with the queue position, overflow; its actions for this
//!   conversation are carried out here, those for others become follow-ups
//!   ([`InboxEvent::Routing`]), carried out when their conversation processes them.
//! - **Timer**: the bot timeout hands the conversation to a human queue; auto-close closes
//!   it after the workstream's inactivity limit.
//!
//! State changes follow the Omnichannel state machine of
//! [`byoc_core::conversation::Conversation::transition`].

mod agent;
mod bot;
mod content;
mod customer;
mod hops;
mod relay;
mod routing;
#[cfg(test)]
mod tests;

use byoc_core::activity::ActivityType;
use byoc_core::capability::{AdaptPolicy, adapt};
use byoc_core::conversation::{Conversation, ConversationState, Owner};
use byoc_core::workstream::{MessageKind, MessageValues, PreparedState, Router, Workstream};
use byoc_core::{Activity, ChannelAccount, ChannelInfo};
use chrono::{DateTime, Utc};

use crate::config::WorkstreamConfig;
use crate::model::{Author, ConversationRecord, InboxEvent, Target, TimerKind, TranscriptEntry};
use crate::store::{NewOutbound, TimerChange};

pub(crate) use content::conv_key;
use content::{address, describe_loss};
pub use hops::{Hop, HopKind, Notice, NoticeKind};
pub(crate) use routing::{FollowUp, RouteRequest, Routed, RoutedTo, route_step};

/// What the engine needs besides the record and the event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    /// The workstream serving the conversation's channel.
    pub(crate) workstream: &'a WorkstreamConfig,
    /// What the customer's channel can carry.
    pub(crate) channel: &'a ChannelInfo,
    /// The workstream's router, prepared once.
    pub(crate) router: &'a Router<'a>,
    /// The time of the step.
    pub(crate) now: DateTime<Utc>,
    /// The id to give a conversation this step creates.
    pub(crate) new_id: &'a str,
}

/// The result of one step.
#[derive(Clone, Debug, Default)]
pub(crate) struct Step {
    /// The record after the step; `None` when the event touched no conversation.
    pub(crate) record: Option<ConversationRecord>,
    /// New transcript entries.
    pub(crate) transcript: Vec<TranscriptEntry>,
    /// Outbound activities, in order.
    pub(crate) outbox: Vec<NewOutbound>,
    /// Timer changes.
    pub(crate) timers: Vec<TimerChange>,
    /// Agent load changes.
    pub(crate) load: Vec<(String, i32)>,
    /// Bots that no longer hold the conversation (their session ends).
    pub(crate) bots_released: Vec<String>,
    /// Hops, for the demo and logs.
    pub(crate) hops: Vec<Hop>,
    /// Agent notices.
    pub(crate) notices: Vec<Notice>,
    /// Routing decisions made (their traces).
    pub(crate) routed: Vec<Routed>,
    /// Conversations whose place in the router's waiting set may have changed (their
    /// stored work items are rewritten with the step).
    pub(crate) touched: Vec<String>,
    /// Router actions for other conversations, for their inboxes.
    pub(crate) follow_ups: Vec<FollowUp>,
}

impl Step {
    /// Whether the step has no effect besides its record: nothing to write, send, time,
    /// count, announce or release.
    pub(crate) fn changes_nothing(&self) -> bool {
        self.transcript.is_empty()
            && self.outbox.is_empty()
            && self.timers.is_empty()
            && self.load.is_empty()
            && self.bots_released.is_empty()
            && self.hops.is_empty()
            && self.notices.is_empty()
            && self.routed.is_empty()
            && self.touched.is_empty()
            && self.follow_ups.is_empty()
    }
}

/// Runs one event against the conversation's current record, with the workstream's live
/// routing state (members' presence and load, the conversations waiting and offered),
/// which routing updates in place.
#[must_use]
pub(crate) fn step(
    current: Option<ConversationRecord>,
    event: &InboxEvent,
    cx: &Context<'_>,
    state: &mut PreparedState,
) -> Step {
    let ws = &cx.workstream.workstream;
    // The auto-close timer is rewritten only when its time moves (or it just fired).
    let fired = matches!(
        event,
        InboxEvent::Timer {
            timer: TimerKind::AutoClose,
            ..
        }
    );
    let before = current
        .as_ref()
        .filter(|r| !fired && !r.conversation.state.is_terminal())
        .map(|r| {
            (
                r.conversation.id.clone(),
                auto_close_at(ws, &r.conversation),
            )
        });
    let mut run = Run {
        cx,
        state,
        out: Step::default(),
    };
    let relayed = run.relayed();
    match event {
        InboxEvent::Customer { activity } => match &relayed {
            Some(r) => run.relay_customer(r, current, activity),
            None => run.customer(current, activity),
        },
        InboxEvent::Bot { bot, activity } => match (current, &relayed) {
            (Some(rec), Some(relay::Relayed::Bot(_))) => run.relay_bot(rec, bot, activity),
            (Some(rec), _) => run.bot(rec, bot, activity),
            (None, _) => {}
        },
        InboxEvent::Platform { .. } | InboxEvent::PlatformRouting { .. } => {
            run.platform_event_of(relayed.as_ref(), current, event);
        }
        InboxEvent::Agent {
            conversation,
            agent,
            action,
        } => match current {
            Some(rec) if &rec.conversation.id == conversation => run.agent(rec, agent, action),
            _ => run.out.notices.push(Notice {
                conversation: conversation.clone(),
                queue: None,
                agent: Some(agent.clone()),
                event: NoticeKind::Refused {
                    reason: "the conversation is over".to_owned(),
                },
            }),
        },
        InboxEvent::Routing {
            conversation,
            action,
            trace,
        } => {
            if let Some(mut rec) = current.filter(|r| &r.conversation.id == conversation) {
                run.apply_routing(&mut rec, action, trace);
                run.finish(rec);
            } else if let crate::model::RoutingAction::Assigned {
                member, bot: false, ..
            } = action
            {
                // Counted when decided; the conversation is gone.
                run.out.load.push((member.clone(), -1));
            }
        }
        InboxEvent::Timer {
            conversation,
            timer,
        } => {
            if let Some(rec) = current.filter(|r| &r.conversation.id == conversation) {
                match &relayed {
                    Some(r) => run.relay_timer(r, rec, *timer),
                    None => run.timer(rec, *timer),
                }
            }
        }
    }
    let mut out = run.out;
    if let Some(rec) = &out.record {
        let conv = &rec.conversation;
        if conv.state.is_terminal() {
            out.timers.push(TimerChange::Cancel(TimerKind::AutoClose));
            out.timers.push(TimerChange::Cancel(TimerKind::BotTimeout));
        } else {
            let at = auto_close_at(ws, conv);
            let unchanged = before
                .as_ref()
                .is_some_and(|(id, was)| id == &conv.id && *was == at);
            if !unchanged {
                out.timers.push(match at {
                    Some(at) => TimerChange::Set(TimerKind::AutoClose, at),
                    None => TimerChange::Cancel(TimerKind::AutoClose),
                });
            }
        }
    }
    out
}

/// When the workstream's inactivity limit for the conversation's state runs out.
fn auto_close_at(ws: &Workstream, conv: &Conversation) -> Option<DateTime<Utc>> {
    let limit = ws.auto_close_after(conv.state)?;
    let from = conv.last_activity_at.max(conv.state_entered_at);
    let limit = chrono::Duration::from_std(limit).unwrap_or(chrono::Duration::MAX);
    Some(
        from.checked_add_signed(limit)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

struct Run<'c, 'a> {
    cx: &'c Context<'a>,
    /// The workstream's live routing state.
    state: &'c mut PreparedState,
    out: Step,
}

impl Run<'_, '_> {
    fn ws(&self) -> &Workstream {
        &self.cx.workstream.workstream
    }

    fn hop(&mut self, rec: &ConversationRecord, kind: HopKind, text: Option<&str>) {
        self.out.hops.push(Hop {
            conversation: rec.conversation.id.clone(),
            kind,
            text: text.map(str::to_owned),
        });
    }

    fn notice(&mut self, rec: &ConversationRecord, agent: Option<&str>, event: NoticeKind) {
        self.out.notices.push(Notice {
            conversation: rec.conversation.id.clone(),
            queue: rec.conversation.queue.clone(),
            agent: agent.map(str::to_owned),
            event,
        });
    }

    fn note(
        &mut self,
        rec: &mut ConversationRecord,
        author: Author,
        activity: Option<&Activity>,
        note: Option<String>,
    ) {
        self.out.transcript.push(TranscriptEntry {
            pos: rec.transcript_len,
            author,
            activity: activity.map(|a| Box::new(a.clone())),
            note,
            at: self.cx.now,
        });
        rec.transcript_len += 1;
    }

    fn finish(&mut self, rec: ConversationRecord) {
        self.out.record = Some(rec);
    }

    // ---- timers and closing ---------------------------------------------------------

    fn timer(&mut self, mut rec: ConversationRecord, timer: TimerKind) {
        let now = self.cx.now;
        match timer {
            TimerKind::BotTimeout => {
                let due = rec.awaiting_bot_since.is_some_and(|since| {
                    (now - since).to_std().unwrap_or_default() >= self.cx.workstream.bot_timeout
                });
                if rec.conversation.owner.bot().is_some() && due {
                    let reason = format!(
                        "no answer within {}s",
                        self.cx.workstream.bot_timeout.as_secs()
                    );
                    self.hand_off(&mut rec, serde_json::Map::new(), None, &reason);
                    self.finish(rec);
                }
            }
            TimerKind::AutoClose => {
                if self.ws().is_auto_close_due(&rec.conversation, now) {
                    self.close(&mut rec, "inactivity");
                    self.automated(
                        &mut rec,
                        MessageKind::ConversationEnded,
                        &MessageValues::default(),
                    );
                }
                self.finish(rec);
            }
        }
    }

    fn close(&mut self, rec: &mut ConversationRecord, reason: &str) {
        let now = self.cx.now;
        self.leave_queue(rec);
        match rec.conversation.owner.clone() {
            Owner::Agent(a) => self.out.load.push((a, -1)),
            Owner::Bot(b) => self.out.bots_released.push(b),
            _ => {}
        }
        if rec
            .conversation
            .transition(ConversationState::Closed, now)
            .is_ok()
        {
            rec.awaiting_bot_since = None;
            self.hop(
                rec,
                HopKind::Closed {
                    reason: reason.to_owned(),
                },
                None,
            );
            let agent = rec.conversation.owner.agent().map(str::to_owned);
            self.notice(rec, agent.as_deref(), NoticeKind::Closed);
            self.note(rec, Author::System, None, Some(format!("closed: {reason}")));
        }
    }

    // ---- to the customer ------------------------------------------------------------

    fn automated(
        &mut self,
        rec: &mut ConversationRecord,
        kind: MessageKind,
        values: &MessageValues<'_>,
    ) {
        let Some(text) = self.ws().render_message(kind, &rec.conversation, values) else {
            return;
        };
        self.hop(
            rec,
            HopKind::Automated {
                message: kind.field().to_owned(),
            },
            Some(&text),
        );
        let mut a = Activity::message(text);
        a.from = Some(ChannelAccount::new("byoc"));
        self.send_to_customer(rec, a, Author::System);
    }

    /// Records `activity` as sent by `author`, adapts it to the customer's channel and
    /// queues what the channel can carry; every loss is noted in the transcript.
    fn send_to_customer(
        &mut self,
        rec: &mut ConversationRecord,
        mut activity: Activity,
        author: Author,
    ) {
        if activity.kind == ActivityType::Typing && !self.cx.channel.typing {
            return; // A typing indicator the channel cannot show is not content.
        }
        self.note(rec, author, Some(&activity), None);
        let Some(reference) = rec.reference.clone() else {
            self.note(
                rec,
                Author::System,
                None,
                Some("not delivered: no address for the customer yet".to_owned()),
            );
            return;
        };
        address(&mut activity, &reference);
        match adapt(&activity, self.cx.channel, &AdaptPolicy::default()) {
            Ok(adapted) => {
                let losses: Vec<String> = adapted.losses.iter().map(describe_loss).collect();
                if !losses.is_empty() {
                    self.note(
                        rec,
                        Author::System,
                        None,
                        Some(format!("delivered with losses: {}", losses.join("; "))),
                    );
                }
                for a in adapted.activities {
                    self.out.outbox.push(NewOutbound {
                        target: Target::Channel(rec.conversation.channel_id.clone()),
                        activity: a,
                    });
                }
            }
            Err(e) => self.note(
                rec,
                Author::System,
                None,
                Some(format!("not delivered: {e}")),
            ),
        }
    }
}
