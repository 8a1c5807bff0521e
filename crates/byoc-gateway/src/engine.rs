//! The engine: a pure function from (conversation record, event, now) to the next record and
//! its effects — transcript entries, outbound activities, timers, load changes, hops and
//! agent notices. No I/O, no clock, no runtime: the shell loads the
//! record, calls [`step`], and commits the result in one transaction.
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
//! - **Agent action**: accept, message (attachments where allowed), transfer, end, wrap up;
//!   only the agent holding the conversation (or, to accept, a member of its queue).
//! - **Timer**: the bot timeout hands the conversation to a human queue; auto-close closes
//!   it after the workstream's inactivity limit.
//!
//! State changes follow the Omnichannel state machine of
//! [`byoc_core::conversation::Conversation::transition`].

mod routing;
#[cfg(test)]
mod tests;

use std::fmt;

use byoc_core::activity::{ActivityType, ConversationReference};
use byoc_core::capability::{AdaptPolicy, Loss, adapt};
use byoc_core::conversation::{
    ContextScalar, ContextValue, Conversation, ConversationState, Owner, ParticipantRole,
};
use byoc_core::workstream::{MessageKind, MessageValues, RoutingState, Workstream};
use byoc_core::{Activity, ChannelAccount, ChannelInfo};
use byoc_directline::command::{BotCommand, HANDOFF_INITIATE};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::WorkstreamConfig;
use crate::model::{
    AgentAction, Author, ConversationRecord, InboxEvent, Target, TimerKind, TranscriptEntry,
};
use crate::store::{NewOutbound, TimerChange};

pub(crate) use routing::{RouteRequest, Routed, RoutedTo, route_step};

/// What the engine needs besides the record and the event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    /// The workstream serving the conversation's channel.
    pub(crate) workstream: &'a WorkstreamConfig,
    /// What the customer's channel can carry.
    pub(crate) channel: &'a ChannelInfo,
    /// Members' presence and load, queues' waiting counts.
    pub(crate) routing: &'a RoutingState,
    /// The time of the step.
    pub(crate) now: DateTime<Utc>,
    /// The id to give a conversation this step creates.
    pub(crate) new_id: &'a str,
}

/// One hop of a conversation, for the demo's terminal and the logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Hop {
    /// The conversation.
    pub conversation: String,
    /// What happened.
    pub kind: HopKind,
    /// The message text, when the hop carries one (shown by the demo, never logged).
    #[serde(skip)]
    pub text: Option<String>,
}

/// What a hop was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "hop", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HopKind {
    /// A new conversation on a channel.
    Started {
        /// The channel.
        channel: String,
    },
    /// The customer's message went to the bot.
    CustomerToBot {
        /// The bot.
        bot: String,
    },
    /// The bot answered the customer.
    BotToCustomer {
        /// The bot.
        bot: String,
    },
    /// The bot handed off (or timed out).
    HandOff {
        /// The bot.
        bot: String,
        /// Why.
        reason: String,
    },
    /// Routing put the conversation in a queue, waiting.
    Queued {
        /// The queue.
        queue: String,
        /// Its position.
        position: u32,
    },
    /// An agent was assigned (or accepted).
    Assigned {
        /// The agent.
        agent: String,
        /// The queue.
        queue: Option<String>,
    },
    /// The customer's message went to the agent.
    CustomerToAgent {
        /// The agent.
        agent: String,
    },
    /// The agent answered the customer.
    AgentToCustomer {
        /// The agent.
        agent: String,
    },
    /// An automated message went to the customer.
    Automated {
        /// Which (`greeting`, `agent_joined`, ...).
        message: String,
    },
    /// Routing found no place (full queue or no rule).
    NotRouted {
        /// Why.
        reason: String,
    },
    /// The agent ended the conversation (wrap-up).
    Ended {
        /// The agent.
        agent: String,
    },
    /// The conversation closed.
    Closed {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.conversation.get(..8).unwrap_or(&self.conversation);
        write!(f, "[{short}] ")?;
        match &self.kind {
            HopKind::Started { channel } => write!(f, "new conversation on {channel}")?,
            HopKind::CustomerToBot { bot } => write!(f, "customer -> bot {bot}")?,
            HopKind::BotToCustomer { bot } => write!(f, "bot {bot} -> customer")?,
            HopKind::HandOff { bot, reason } => write!(f, "bot {bot} hands off ({reason})")?,
            HopKind::Queued { queue, position } => {
                write!(f, "queue {queue}: waiting at position {position}")?;
            }
            HopKind::Assigned { agent, queue } => match queue {
                Some(q) => write!(f, "queue {q} -> agent {agent}")?,
                None => write!(f, "-> agent {agent}")?,
            },
            HopKind::CustomerToAgent { agent } => write!(f, "customer -> agent {agent}")?,
            HopKind::AgentToCustomer { agent } => write!(f, "agent {agent} -> customer")?,
            HopKind::Automated { message } => write!(f, "gateway -> customer ({message})")?,
            HopKind::NotRouted { reason } => write!(f, "not routed: {reason}")?,
            HopKind::Ended { agent } => write!(f, "agent {agent} ended the conversation")?,
            HopKind::Closed { reason } => write!(f, "closed ({reason})")?,
        }
        if let Some(text) = &self.text {
            write!(f, ": {text:?}")?;
        }
        Ok(())
    }
}

/// Something agents watching a queue or a conversation should hear about (agent API
/// server-sent events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Notice {
    /// The conversation.
    pub conversation: String,
    /// Its queue, if any.
    pub queue: Option<String>,
    /// The agent it concerns, if one.
    pub agent: Option<String>,
    /// What happened.
    pub event: NoticeKind,
}

/// What a notice is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// Assigned to the agent.
    Assigned,
    /// Waiting in the queue.
    Waiting,
    /// The customer wrote.
    CustomerMessage,
    /// Transferred to another queue.
    Transferred,
    /// Ended (wrap-up).
    Ended,
    /// Closed.
    Closed,
    /// The agent's action was refused.
    Refused {
        /// Why.
        reason: String,
    },
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
}

/// Runs one event against the conversation's current record.
#[must_use]
pub(crate) fn step(current: Option<ConversationRecord>, event: &InboxEvent, cx: &Context<'_>) -> Step {
    let mut run = Run {
        cx,
        out: Step::default(),
    };
    match event {
        InboxEvent::Customer { activity } => run.customer(current, activity),
        InboxEvent::Bot { bot, activity } => {
            if let Some(rec) = current {
                run.bot(rec, bot, activity);
            }
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
        InboxEvent::Timer {
            conversation,
            timer,
        } => {
            if let Some(rec) = current.filter(|r| &r.conversation.id == conversation) {
                run.timer(rec, *timer);
            }
        }
    }
    let mut out = run.out;
    if let Some(rec) = &out.record {
        let ws = &cx.workstream.workstream;
        let conv = &rec.conversation;
        if conv.state.is_terminal() {
            out.timers.push(TimerChange::Cancel(TimerKind::AutoClose));
            out.timers.push(TimerChange::Cancel(TimerKind::BotTimeout));
        } else if let Some(limit) = ws.auto_close_after(conv.state) {
            let from = conv.last_activity_at.max(conv.state_entered_at);
            let limit = chrono::Duration::from_std(limit).unwrap_or(chrono::Duration::MAX);
            out.timers.push(TimerChange::Set(
                TimerKind::AutoClose,
                from.checked_add_signed(limit).unwrap_or(DateTime::<Utc>::MAX_UTC),
            ));
        } else {
            out.timers.push(TimerChange::Cancel(TimerKind::AutoClose));
        }
    }
    out
}

struct Run<'c, 'a> {
    cx: &'c Context<'a>,
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

    fn note(&mut self, rec: &mut ConversationRecord, author: Author, activity: Option<&Activity>, note: Option<String>) {
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

    // ---- customer -------------------------------------------------------------------

    fn customer(&mut self, current: Option<ConversationRecord>, activity: &Activity) {
        let now = self.cx.now;
        let is_message = activity.kind == ActivityType::Message;
        let ends = activity.kind == ActivityType::EndOfConversation;
        let live = current.filter(|r| !r.conversation.state.is_terminal());
        let mut rec = match live {
            Some(rec) => rec,
            // Only a message starts a conversation; receipts, typing and the like do not.
            None if is_message => self.start(activity),
            None => return,
        };
        rec.reference = Some(activity.conversation_reference());
        if ends {
            self.note(&mut rec, Author::Customer, Some(activity), None);
            rec.conversation.touch(now);
            self.close(&mut rec, "the customer left");
            return self.finish(rec);
        }
        if !is_message {
            // Typing, receipts, reactions: passed to a bot that holds the conversation.
            if activity.kind == ActivityType::Typing
                && let Owner::Bot(bot) = rec.conversation.owner.clone()
            {
                self.to_bot(&rec, &bot, bot_copy(activity, &rec));
            }
            return self.finish(rec);
        }
        let forwarded = self.check_customer_attachments(&mut rec, activity);
        self.note(&mut rec, Author::Customer, Some(activity), None);
        rec.conversation.touch(now);
        match rec.conversation.owner.clone() {
            Owner::Bot(bot) => self.customer_to_bot(&mut rec, &bot, &forwarded),
            Owner::Agent(agent) => {
                self.hop(&rec, HopKind::CustomerToAgent { agent: agent.clone() }, activity.text.as_deref());
                self.notice(&rec, Some(&agent), NoticeKind::CustomerMessage);
            }
            Owner::Queue(_) => self.notice(&rec, None, NoticeKind::CustomerMessage),
            Owner::None => {
                let routed = self.route(&mut rec, RouteRequest::Rules);
                if let Some(RoutedTo::Bot(bot)) = routed {
                    self.customer_to_bot(&mut rec, &bot, &forwarded);
                }
            }
        }
        self.finish(rec);
    }

    fn start(&mut self, activity: &Activity) -> ConversationRecord {
        let cx = self.cx;
        let customer = activity.from.clone().unwrap_or_else(|| ChannelAccount::new("customer"));
        let channel = cx.workstream.workstream.channel.id.clone();
        let mut conversation = Conversation::new(cx.new_id, channel.clone(), customer, cx.now);
        if let Some(locale) = &activity.locale {
            conversation.locale = Some(locale.clone());
        }
        let mut rec = ConversationRecord {
            conversation,
            key: conv_key(&channel, activity),
            workstream: cx.workstream.workstream.name.clone(),
            reference: Some(activity.conversation_reference()),
            accepted: false,
            transcript_len: 0,
            awaiting_bot_since: None,
        };
        self.hop(&rec, HopKind::Started { channel }, None);
        self.automated(&mut rec, MessageKind::Greeting, &MessageValues::default());
        rec
    }

    fn check_customer_attachments(&mut self, rec: &mut ConversationRecord, activity: &Activity) -> Activity {
        let mut forwarded = activity.clone();
        let Some(attachments) = forwarded.attachments.take() else {
            return forwarded;
        };
        let policy = &self.ws().attachments.customer;
        let mut kept = Vec::new();
        let mut refused = Vec::new();
        for att in attachments {
            match policy.check(att.content_type.as_deref(), att.name.as_deref(), None) {
                Ok(()) => kept.push(att),
                Err(e) => refused.push(format!(
                    "customer attachment {} refused: {e}",
                    att.name.as_deref().unwrap_or("(unnamed)")
                )),
            }
        }
        for r in refused {
            self.note(rec, Author::System, None, Some(r));
        }
        if !kept.is_empty() {
            forwarded.attachments = Some(kept);
        }
        forwarded
    }

    fn customer_to_bot(&mut self, rec: &mut ConversationRecord, bot: &str, activity: &Activity) {
        self.hop(rec, HopKind::CustomerToBot { bot: bot.to_owned() }, activity.text.as_deref());
        self.to_bot(rec, bot, bot_copy(activity, rec));
        if rec.awaiting_bot_since.is_none() {
            rec.awaiting_bot_since = Some(self.cx.now);
            let timeout = chrono::Duration::from_std(self.cx.workstream.bot_timeout).unwrap_or(chrono::Duration::MAX);
            let due = self.cx.now.checked_add_signed(timeout).unwrap_or(DateTime::<Utc>::MAX_UTC);
            self.out.timers.push(TimerChange::Set(TimerKind::BotTimeout, due));
        }
    }

    fn to_bot(&mut self, _rec: &ConversationRecord, bot: &str, activity: Activity) {
        self.out.outbox.push(NewOutbound {
            target: Target::Bot(bot.to_owned()),
            activity,
        });
    }

    // ---- routing --------------------------------------------------------------------

    fn route(&mut self, rec: &mut ConversationRecord, request: RouteRequest<'_>) -> Option<RoutedTo> {
        let cx = self.cx;
        let routed = match route_step(&mut rec.conversation, &cx.workstream.workstream, cx.routing, request, cx.now) {
            Ok(r) => r,
            Err(reason) => {
                self.note(rec, Author::System, None, Some(format!("routing refused: {reason}")));
                return None;
            }
        };
        self.note(rec, Author::System, None, Some(format!("routing: {}", routed.trace.join("; "))));
        let queue = routed.queue.clone();
        match &routed.to {
            RoutedTo::Bot(_) => {}
            RoutedTo::Agent { id, name } => {
                rec.accepted = false;
                self.out.load.push((id.clone(), 1));
                self.hop(rec, HopKind::Assigned { agent: id.clone(), queue }, None);
                self.notice(rec, Some(id), NoticeKind::Assigned);
                let values = MessageValues {
                    agent_name: Some(name),
                    ..MessageValues::default()
                };
                self.automated(rec, MessageKind::AgentJoined, &values);
            }
            RoutedTo::Queued(position) => {
                let q = queue.unwrap_or_default();
                self.hop(rec, HopKind::Queued { queue: q.clone(), position: *position }, None);
                self.notice(rec, None, NoticeKind::Waiting);
                let values = MessageValues {
                    queue_position: Some(*position),
                    queue_name: Some(&q),
                    ..MessageValues::default()
                };
                self.automated(rec, MessageKind::QueuePosition, &values);
            }
            RoutedTo::Full => {
                let reason = format!("queue {} is full", queue.unwrap_or_default());
                self.hop(rec, HopKind::NotRouted { reason }, None);
            }
            RoutedTo::Unrouted => {
                self.hop(rec, HopKind::NotRouted { reason: "no rule matched".to_owned() }, None);
            }
        }
        let to = routed.to.clone();
        self.out.routed.push(routed);
        Some(to)
    }

    // ---- bot ------------------------------------------------------------------------

    fn bot(&mut self, mut rec: ConversationRecord, bot: &str, activity: &Activity) {
        if rec.conversation.owner.bot() != Some(bot) || rec.conversation.state.is_terminal() {
            let note = format!("bot {bot} activity after it left the conversation; not delivered");
            self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), Some(note));
            return self.finish(rec);
        }
        let command = match BotCommand::parse(activity) {
            Ok(c) => c,
            Err(e) => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), Some(format!("bot command refused: {e}")));
                return self.finish(rec);
            }
        };
        match command {
            Some(BotCommand::Escalate { context }) => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.hand_off(&mut rec, context, activity.text.as_deref(), "Escalate command");
                return self.finish(rec);
            }
            Some(BotCommand::EndConversation { .. }) => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.close(&mut rec, "the bot ended the conversation");
                return self.finish(rec);
            }
            _ => {}
        }
        match &activity.kind {
            ActivityType::Event if activity.name.as_deref() == Some(HANDOFF_INITIATE) => {
                let context = activity
                    .value
                    .as_ref()
                    .and_then(|v| v.parse::<serde_json::Map<String, serde_json::Value>>().ok())
                    .unwrap_or_default();
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.hand_off(&mut rec, context, activity.text.as_deref(), "handoff.initiate");
            }
            ActivityType::EndOfConversation => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.close(&mut rec, "the bot ended the conversation");
            }
            ActivityType::Message | ActivityType::Typing => {
                if activity.kind == ActivityType::Message {
                    rec.awaiting_bot_since = None;
                    self.out.timers.push(TimerChange::Cancel(TimerKind::BotTimeout));
                    self.hop(&rec, HopKind::BotToCustomer { bot: bot.to_owned() }, activity.text.as_deref());
                    rec.conversation.touch(self.cx.now);
                }
                let reply = reply_from(activity, &ChannelAccount::new(bot));
                self.to_customer(&mut rec, reply, Author::Bot(bot.to_owned()));
            }
            _ => {}
        }
        self.finish(rec);
    }

    fn hand_off(
        &mut self,
        rec: &mut ConversationRecord,
        context: serde_json::Map<String, serde_json::Value>,
        summary: Option<&str>,
        reason: &str,
    ) {
        let ws = &self.cx.workstream.workstream;
        let updates: Vec<(String, ContextValue)> = context
            .into_iter()
            .map(|(name, value)| {
                let displayable = ws.context_variable(&name).is_none_or(|v| v.is_displayable);
                let scalar = match value {
                    serde_json::Value::String(s) => ContextScalar::String(s),
                    serde_json::Value::Bool(b) => ContextScalar::Bool(b),
                    serde_json::Value::Number(n) => ContextScalar::Number(n.as_f64().unwrap_or_default()),
                    other => ContextScalar::String(other.to_string()),
                };
                (name, ContextValue::new(scalar).with_displayable(displayable))
            })
            .collect();
        let names: Vec<String> = updates.iter().map(|(n, _)| n.clone()).collect();
        rec.awaiting_bot_since = None;
        self.out.timers.push(TimerChange::Cancel(TimerKind::BotTimeout));
        if let Some(bot) = rec.conversation.hand_off(updates, self.cx.now) {
            self.hop(rec, HopKind::HandOff { bot: bot.clone(), reason: reason.to_owned() }, None);
            self.out.bots_released.push(bot);
        }
        let mut note = format!("hand-off ({reason})");
        if !names.is_empty() {
            note.push_str(&format!("; context set: {}", names.join(", ")));
        }
        if let Some(s) = summary.filter(|s| !s.is_empty()) {
            note.push_str(&format!("; summary: {s}"));
        }
        self.note(rec, Author::System, None, Some(note));
        self.route(rec, RouteRequest::Rules);
    }

    // ---- agents ---------------------------------------------------------------------

    fn refuse(&mut self, rec: ConversationRecord, agent: &str, action: &AgentAction, reason: &str) {
        self.notice(&rec, Some(agent), NoticeKind::Refused { reason: format!("{}: {reason}", action.name()) });
        self.finish(rec);
    }

    fn agent(&mut self, mut rec: ConversationRecord, agent: &str, action: &AgentAction) {
        let now = self.cx.now;
        let holds = rec.conversation.owner.agent() == Some(agent);
        match action {
            AgentAction::Accept => {
                if holds {
                    rec.accepted = true;
                    return self.finish(rec);
                }
                let in_queue = match &rec.conversation.owner {
                    Owner::Queue(q) => self
                        .ws()
                        .queue(q)
                        .is_some_and(|q| q.members.iter().any(|m| m.id == agent && !m.is_bot())),
                    _ => false,
                };
                if !in_queue || rec.conversation.state != ConversationState::Open {
                    return self.refuse(rec, agent, action, "not waiting in one of your queues");
                }
                let name = self.member_name(agent);
                rec.conversation.set_owner(Owner::Agent(agent.to_owned()), now);
                rec.conversation.join(ChannelAccount::new(agent).with_name(&name), ParticipantRole::Agent, now);
                let _ = rec.conversation.transition(ConversationState::Active, now);
                rec.accepted = true;
                self.out.load.push((agent.to_owned(), 1));
                let queue = rec.conversation.queue.clone();
                self.hop(&rec, HopKind::Assigned { agent: agent.to_owned(), queue }, None);
                self.notice(&rec, Some(agent), NoticeKind::Assigned);
                let values = MessageValues { agent_name: Some(&name), ..MessageValues::default() };
                self.automated(&mut rec, MessageKind::AgentJoined, &values);
            }
            AgentAction::Message { text, attachments } => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if !matches!(rec.conversation.state, ConversationState::Active | ConversationState::Waiting) {
                    return self.refuse(rec, agent, action, "the conversation is not active");
                }
                let policy = &self.ws().attachments.agent;
                for att in attachments {
                    if let Err(e) = policy.check(att.content_type.as_deref(), att.name.as_deref(), None) {
                        return self.refuse(rec, agent, action, &e.to_string());
                    }
                }
                if rec.conversation.state == ConversationState::Waiting {
                    let _ = rec.conversation.transition(ConversationState::Active, now);
                }
                rec.accepted = true;
                let mut message = Activity::message(text.clone().unwrap_or_default());
                if text.is_none() {
                    message.text = None;
                }
                if !attachments.is_empty() {
                    message.attachments = Some(attachments.clone());
                }
                message.from = Some(ChannelAccount::new(agent).with_name(self.member_name(agent)));
                self.hop(&rec, HopKind::AgentToCustomer { agent: agent.to_owned() }, text.as_deref());
                rec.conversation.touch(now);
                self.to_customer(&mut rec, message, Author::Agent(agent.to_owned()));
            }
            AgentAction::Transfer { queue } => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if self.ws().queue(queue).is_none() {
                    return self.refuse(rec, agent, action, &format!("no queue `{queue}`"));
                }
                self.out.load.push((agent.to_owned(), -1));
                rec.conversation.leave(agent, now);
                rec.conversation.owner = Owner::None;
                rec.conversation.queue = Some(queue.clone());
                self.notice(&rec, Some(agent), NoticeKind::Transferred);
                self.automated(&mut rec, MessageKind::Transferred, &MessageValues { queue_name: Some(queue), ..MessageValues::default() });
                self.route(&mut rec, RouteRequest::Transfer(queue));
            }
            AgentAction::End => {
                if !holds {
                    return self.refuse(rec, agent, action, "you do not hold this conversation");
                }
                if rec.conversation.transition(ConversationState::WrapUp, now).is_err() {
                    return self.refuse(rec, agent, action, "the conversation is not active");
                }
                self.hop(&rec, HopKind::Ended { agent: agent.to_owned() }, None);
                self.notice(&rec, Some(agent), NoticeKind::Ended);
                self.automated(&mut rec, MessageKind::ConversationEnded, &MessageValues::default());
                if let Some(survey) = self.ws().survey_message(&rec.conversation) {
                    let mut a = Activity::message(survey);
                    a.from = Some(ChannelAccount::new("byoc"));
                    self.to_customer(&mut rec, a, Author::System);
                }
            }
            AgentAction::WrapUp { notes } => {
                if !holds || rec.conversation.state != ConversationState::WrapUp {
                    return self.refuse(rec, agent, action, "the conversation is not in wrap-up with you");
                }
                if let Some(n) = notes {
                    self.note(&mut rec, Author::Agent(agent.to_owned()), None, Some(format!("wrap-up notes: {n}")));
                }
                self.close(&mut rec, "wrapped up");
            }
        }
        self.finish(rec);
    }

    fn member_name(&self, id: &str) -> String {
        self.ws()
            .queues
            .iter()
            .flat_map(|q| &q.members)
            .find(|m| m.id == id)
            .map_or_else(|| id.to_owned(), |m| m.display_name().to_owned())
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
                    self.automated(&mut rec, MessageKind::ConversationEnded, &MessageValues::default());
                }
                self.finish(rec);
            }
        }
    }

    fn close(&mut self, rec: &mut ConversationRecord, reason: &str) {
        let now = self.cx.now;
        match rec.conversation.owner.clone() {
            Owner::Agent(a) => self.out.load.push((a, -1)),
            Owner::Bot(b) => self.out.bots_released.push(b),
            _ => {}
        }
        if rec.conversation.transition(ConversationState::Closed, now).is_ok() {
            rec.awaiting_bot_since = None;
            self.hop(rec, HopKind::Closed { reason: reason.to_owned() }, None);
            let agent = rec.conversation.owner.agent().map(str::to_owned);
            self.notice(rec, agent.as_deref(), NoticeKind::Closed);
            self.note(rec, Author::System, None, Some(format!("closed: {reason}")));
        }
    }

    // ---- to the customer ------------------------------------------------------------

    fn automated(&mut self, rec: &mut ConversationRecord, kind: MessageKind, values: &MessageValues<'_>) {
        let Some(text) = self.ws().render_message(kind, &rec.conversation, values) else {
            return;
        };
        self.hop(rec, HopKind::Automated { message: kind.field().to_owned() }, Some(&text));
        let mut a = Activity::message(text);
        a.from = Some(ChannelAccount::new("byoc"));
        self.to_customer(rec, a, Author::System);
    }

    /// Records `activity` as sent by `author`, adapts it to the customer's channel and
    /// queues what the channel can carry; every loss is noted in the transcript.
    fn to_customer(&mut self, rec: &mut ConversationRecord, mut activity: Activity, author: Author) {
        if activity.kind == ActivityType::Typing && !self.cx.channel.typing {
            return; // A typing indicator the channel cannot show is not content.
        }
        self.note(rec, author, Some(&activity), None);
        let Some(reference) = rec.reference.clone() else {
            self.note(rec, Author::System, None, Some("not delivered: no address for the customer yet".to_owned()));
            return;
        };
        address(&mut activity, &reference);
        match adapt(&activity, self.cx.channel, &AdaptPolicy::default()) {
            Ok(adapted) => {
                let losses: Vec<String> = adapted.losses.iter().map(describe_loss).collect();
                if !losses.is_empty() {
                    self.note(rec, Author::System, None, Some(format!("delivered with losses: {}", losses.join("; "))));
                }
                for a in adapted.activities {
                    self.out.outbox.push(NewOutbound {
                        target: Target::Channel(rec.conversation.channel_id.clone()),
                        activity: a,
                    });
                }
            }
            Err(e) => self.note(rec, Author::System, None, Some(format!("not delivered: {e}"))),
        }
    }
}

/// The ordering key of a channel activity: the channel and the provider's conversation id
/// (the sender's id when the provider gives no conversation).
#[must_use]
pub(crate) fn conv_key(channel: &str, activity: &Activity) -> String {
    let id = activity
        .conversation_id()
        .or_else(|| activity.from_id())
        .unwrap_or("unknown");
    format!("{channel}:{id}")
}

/// Addresses an outgoing activity to the customer: from our side, to the customer, in
/// their conversation, replying to their latest activity.
fn address(activity: &mut Activity, reference: &ConversationReference) {
    let from = activity.from.take();
    activity.apply_conversation_reference(reference);
    if let (Some(from), Some(bot)) = (from, activity.from.as_mut()) {
        // Keep the author's name (an agent's) on our account for channels that show it.
        if bot.name.is_none() {
            bot.name.clone_from(&from.name);
        }
    }
}

/// What the bot receives for a customer activity: the content, without the provider's
/// addressing (Direct Line addresses it to the bot).
fn bot_copy(activity: &Activity, rec: &ConversationRecord) -> Activity {
    Activity {
        kind: activity.kind.clone(),
        text: activity.text.clone(),
        text_format: activity.text_format.clone(),
        attachments: activity.attachments.clone(),
        locale: activity.locale.clone().or_else(|| rec.conversation.locale.clone()),
        value: activity.value.clone(),
        from: Some(
            ChannelAccount::new(rec.conversation.id.clone())
                .with_name(rec.conversation.customer.name.clone().unwrap_or_else(|| "customer".to_owned())),
        ),
        ..Activity::default()
    }
}

/// A bot's message as the gateway sends it on: content kept, addressing replaced.
fn reply_from(activity: &Activity, bot: &ChannelAccount) -> Activity {
    Activity {
        kind: activity.kind.clone(),
        text: activity.text.clone(),
        text_format: activity.text_format.clone(),
        attachments: activity.attachments.clone(),
        attachment_layout: activity.attachment_layout.clone(),
        suggested_actions: activity.suggested_actions.clone(),
        speak: activity.speak.clone(),
        input_hint: activity.input_hint.clone(),
        locale: activity.locale.clone(),
        from: Some(bot.clone()),
        ..Activity::default()
    }
}

fn describe_loss(loss: &Loss) -> String {
    match loss {
        Loss::TextSplit { parts, limit } => format!("text split into {parts} messages of at most {limit} characters"),
        Loss::MarkdownFlattened => "markdown flattened to plain text".to_owned(),
        Loss::SuggestedActionsAsText { count } => format!("{count} suggested actions rendered as a numbered list"),
        Loss::CardAsText { content_type } => format!("card {content_type} rendered as text"),
        Loss::AttachmentAsLink { name } => format!("attachment {} sent as a link", name.as_deref().unwrap_or("(unnamed)")),
        Loss::AttachmentDropped { name, reason, .. } => {
            format!("attachment {} dropped: {reason}", name.as_deref().unwrap_or("(unnamed)"))
        }
        Loss::TypingDropped => "typing indicator dropped".to_owned(),
        Loss::ActivityDropped { kind } => format!("{kind} activity dropped"),
        Loss::SpeechDropped => "speech (SSML) dropped".to_owned(),
        other => format!("{other:?}"),
    }
}
