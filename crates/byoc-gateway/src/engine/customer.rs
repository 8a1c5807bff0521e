//! Customer activity: a conversation found or started, attachments checked, the message
//! handed to whoever holds the conversation (bot, agent, queue), or routed.

use byoc_core::activity::ActivityType;
use byoc_core::conversation::{Conversation, Owner, ParticipantRole};
use byoc_core::workstream::{MessageKind, MessageValues};
use byoc_core::{Activity, ChannelAccount};
use chrono::{DateTime, Utc};

use super::content::{bot_copy, conv_key};
use super::{HopKind, NoticeKind, RouteRequest, RoutedTo, Run};
use crate::model::{Author, ConversationRecord, Target, TimerKind};
use crate::store::{NewOutbound, TimerChange};

/// The customer fact naming the human agent who last worked with the customer on this
/// channel: `preferred_agent = { from = "customer.last_agent", wait = "2m" }` in a routing
/// rule offers a returning customer to that agent first.
pub(crate) const LAST_AGENT_FACT: &str = "last_agent";

/// The human agent who last worked the conversation, else the one its own customer fact
/// names (a conversation only a bot handled keeps pointing at the customer's last human).
pub(super) fn last_agent(conv: &Conversation) -> Option<&str> {
    conv.participants
        .iter()
        .rev()
        .find(|p| p.role == ParticipantRole::Agent)
        .map(|p| p.id())
        .or_else(|| conv.customer_facts.get(LAST_AGENT_FACT).map(String::as_str))
        .filter(|id| !id.is_empty())
}

impl Run<'_, '_> {
    // ---- customer -------------------------------------------------------------------

    pub(super) fn customer(&mut self, current: Option<ConversationRecord>, activity: &Activity) {
        let now = self.cx.now;
        let is_message = activity.kind == ActivityType::Message;
        let ends = activity.kind == ActivityType::EndOfConversation;
        let (live, previous) = match current {
            Some(r) if !r.conversation.state.is_terminal() => (Some(r), None),
            closed => (None, closed),
        };
        let mut rec = match live {
            Some(rec) => rec,
            // Only a message starts a conversation; receipts, typing and the like do not.
            None if is_message => self.start(activity, previous.as_ref()),
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
                self.queue_for_bot(&rec, &bot, bot_copy(activity, &rec));
            }
            return self.finish(rec);
        }
        let forwarded = self.check_customer_attachments(&mut rec, activity);
        self.note(&mut rec, Author::Customer, Some(activity), None);
        rec.conversation.touch(now);
        match rec.conversation.owner.clone() {
            Owner::Bot(bot) => self.customer_to_bot(&mut rec, &bot, &forwarded),
            Owner::Agent(agent) => {
                self.hop(
                    &rec,
                    HopKind::CustomerToAgent {
                        agent: agent.clone(),
                    },
                    activity.text.as_deref(),
                );
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

    /// A new conversation for the customer of `activity`; `previous` is the customer's last
    /// conversation on this channel (closed), whose last human agent becomes the new one's
    /// [`LAST_AGENT_FACT`] customer fact.
    pub(super) fn start(
        &mut self,
        activity: &Activity,
        previous: Option<&ConversationRecord>,
    ) -> ConversationRecord {
        let cx = self.cx;
        let customer = activity
            .from
            .clone()
            .unwrap_or_else(|| ChannelAccount::new("customer"));
        let channel = cx.workstream.workstream.channel.id.clone();
        let mut conversation = Conversation::new(cx.new_id, channel.clone(), customer, cx.now);
        if let Some(locale) = &activity.locale {
            conversation.locale = Some(locale.clone());
        }
        if let Some(agent) = previous.and_then(|p| last_agent(&p.conversation)) {
            conversation
                .customer_facts
                .insert(LAST_AGENT_FACT.to_owned(), agent.to_owned());
        }
        let mut rec = ConversationRecord {
            conversation,
            key: conv_key(&channel, activity),
            workstream: cx.workstream.workstream.name.clone(),
            reference: Some(activity.conversation_reference()),
            accepted: false,
            transcript_len: 0,
            awaiting_bot_since: None,
            relay: None,
        };
        self.hop(&rec, HopKind::Started { channel }, None);
        self.automated(&mut rec, MessageKind::Greeting, &MessageValues::default());
        rec
    }

    pub(super) fn check_customer_attachments(
        &mut self,
        rec: &mut ConversationRecord,
        activity: &Activity,
    ) -> Activity {
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

    pub(super) fn customer_to_bot(
        &mut self,
        rec: &mut ConversationRecord,
        bot: &str,
        activity: &Activity,
    ) {
        self.hop(
            rec,
            HopKind::CustomerToBot {
                bot: bot.to_owned(),
            },
            activity.text.as_deref(),
        );
        self.queue_for_bot(rec, bot, bot_copy(activity, rec));
        if rec.awaiting_bot_since.is_none() {
            rec.awaiting_bot_since = Some(self.cx.now);
            let timeout = chrono::Duration::from_std(self.cx.workstream.bot_timeout)
                .unwrap_or(chrono::Duration::MAX);
            let due = self
                .cx
                .now
                .checked_add_signed(timeout)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            self.out
                .timers
                .push(TimerChange::Set(TimerKind::BotTimeout, due));
        }
    }

    pub(super) fn queue_for_bot(
        &mut self,
        _rec: &ConversationRecord,
        bot: &str,
        activity: Activity,
    ) {
        self.out.outbox.push(NewOutbound {
            target: Target::Bot(bot.to_owned()),
            activity,
        });
    }
}
