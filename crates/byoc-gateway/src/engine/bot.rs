//! Bot events: replies to the customer, hand-off (the Omnichannel `Escalate` command or
//! Bot Framework's `handoff.initiate`), the end of the conversation.

use byoc_core::activity::ActivityType;
use byoc_core::conversation::{ContextScalar, ContextValue};
use byoc_core::{Activity, ChannelAccount};
use byoc_directline::{BotCommand, HANDOFF_INITIATE};

use super::content::reply_from;
use super::{HopKind, RouteRequest, Run};
use crate::model::{Author, ConversationRecord, TimerKind};
use crate::store::TimerChange;

impl Run<'_, '_> {
    // ---- bot ------------------------------------------------------------------------

    pub(super) fn bot(&mut self, mut rec: ConversationRecord, bot: &str, activity: &Activity) {
        if rec.conversation.owner.bot() != Some(bot) || rec.conversation.state.is_terminal() {
            let note = format!("bot {bot} activity after it left the conversation; not delivered");
            self.note(
                &mut rec,
                Author::Bot(bot.to_owned()),
                Some(activity),
                Some(note),
            );
            return self.finish(rec);
        }
        let command = match BotCommand::parse(activity) {
            Ok(c) => c,
            Err(e) => {
                self.note(
                    &mut rec,
                    Author::Bot(bot.to_owned()),
                    Some(activity),
                    Some(format!("bot command refused: {e}")),
                );
                return self.finish(rec);
            }
        };
        match command {
            Some(BotCommand::Escalate { context }) => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.hand_off(
                    &mut rec,
                    context,
                    activity.text.as_deref(),
                    "Escalate command",
                );
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
                self.hand_off(
                    &mut rec,
                    context,
                    activity.text.as_deref(),
                    "handoff.initiate",
                );
            }
            ActivityType::EndOfConversation => {
                self.note(&mut rec, Author::Bot(bot.to_owned()), Some(activity), None);
                self.close(&mut rec, "the bot ended the conversation");
            }
            ActivityType::Message | ActivityType::Typing => {
                if activity.kind == ActivityType::Message {
                    rec.awaiting_bot_since = None;
                    self.out
                        .timers
                        .push(TimerChange::Cancel(TimerKind::BotTimeout));
                    self.hop(
                        &rec,
                        HopKind::BotToCustomer {
                            bot: bot.to_owned(),
                        },
                        activity.text.as_deref(),
                    );
                    rec.conversation.touch(self.cx.now);
                }
                let reply = reply_from(activity, &ChannelAccount::new(bot));
                self.send_to_customer(&mut rec, reply, Author::Bot(bot.to_owned()));
            }
            _ => {}
        }
        self.finish(rec);
    }

    pub(super) fn hand_off(
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
                    serde_json::Value::Number(n) => {
                        ContextScalar::Number(n.as_f64().unwrap_or_default())
                    }
                    other => ContextScalar::String(other.to_string()),
                };
                (
                    name,
                    ContextValue::new(scalar).with_displayable(displayable),
                )
            })
            .collect();
        let names: Vec<String> = updates.iter().map(|(n, _)| n.clone()).collect();
        rec.awaiting_bot_since = None;
        self.out
            .timers
            .push(TimerChange::Cancel(TimerKind::BotTimeout));
        if let Some(bot) = rec.conversation.hand_off(updates, self.cx.now) {
            self.hop(
                rec,
                HopKind::HandOff {
                    bot: bot.clone(),
                    reason: reason.to_owned(),
                },
                None,
            );
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
}
