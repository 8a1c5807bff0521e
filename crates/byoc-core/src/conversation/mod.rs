//! Conversations: participants, the Omnichannel state machine, context variables, transcript.
//!
//! A [`Conversation`] is what the gateway stores per customer conversation. Its
//! [`ConversationState`] follows Dynamics 365 Omnichannel's work-item states
//! (Open → Active ⇄ Waiting → WrapUp → Closed); [`Conversation::transition`] refuses any move
//! the table below does not list, with an error naming both states.
//!
//! | From | To | Typical trigger |
//! |---|---|---|
//! | Open | Active | routing assigns, or an agent picks it |
//! | Open | Closed | the customer leaves before assignment; auto-close |
//! | Active | Open | the agent releases it, transfers it to a queue, or disconnects |
//! | Active | Waiting | the agent closes the session without ending; the customer left |
//! | Active | WrapUp | the agent (or the customer) ends it |
//! | Active | Closed | the record is resolved and the session closed |
//! | Waiting | Active | the agent revives it |
//! | Waiting | Open | the customer comes back within the timeout |
//! | Waiting | Closed | inactivity timeout; the customer ends it |
//! | WrapUp | Closed | the agent closes the session |
//!
//! Closed is terminal. The same table, as data, is [`ConversationState::next_states`].
//!
//! ```
//! use byoc_core::ChannelAccount;
//! use byoc_core::conversation::{Conversation, ConversationState, ContextValue};
//! use chrono::{TimeZone, Utc};
//!
//! let t0 = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
//! let mut conv = Conversation::new("c-1", "telesign", ChannelAccount::new("+15551230000"), t0);
//! conv.set_context("BotHandoffTopic", ContextValue::displayable("CreditCard"));
//! conv.transition(ConversationState::Active, t0).unwrap();
//! // Active → Open: released to the queue.
//! assert_eq!(conv.transition(ConversationState::Open, t0), Ok(ConversationState::Active));
//! let err = conv.transition(ConversationState::WrapUp, t0).unwrap_err();
//! assert_eq!(err.to_string(), "invalid conversation state transition from Open to WrapUp");
//! ```

mod context;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Activity, ChannelAccount};

pub use context::{ContextScalar, ContextValue};

/// The state of a conversation (Omnichannel's work-item status reason).
///
/// Serialized as `open`, `active`, `waiting`, `wrap_up`, `closed`; Omnichannel's own spellings
/// (`Open`, `Active`, `Waiting`, `WrapUp`, `Wrap-up`, `Closed`) are accepted on input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Waiting in a queue for an assignee.
    #[serde(alias = "Open")]
    Open,
    /// Assigned to a bot or an agent and being worked.
    #[serde(alias = "Active")]
    Active,
    /// Paused: the agent closed the session without ending it, or the customer left.
    #[serde(alias = "Waiting")]
    Waiting,
    /// Ended; the agent is finishing notes.
    #[serde(alias = "WrapUp", alias = "Wrap-up", alias = "wrapup")]
    WrapUp,
    /// Over. Terminal.
    #[serde(alias = "Closed")]
    Closed,
}

impl ConversationState {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Open,
        Self::Active,
        Self::Waiting,
        Self::WrapUp,
        Self::Closed,
    ];

    /// The states this one may move to (the transition table).
    #[must_use]
    pub fn next_states(self) -> &'static [Self] {
        use ConversationState::{Active, Closed, Open, Waiting, WrapUp};
        match self {
            Open => &[Active, Closed],
            Active => &[Open, Waiting, WrapUp, Closed],
            Waiting => &[Active, Open, Closed],
            WrapUp => &[Closed],
            Closed => &[],
        }
    }

    /// Whether `self → to` is in the transition table.
    #[must_use]
    pub fn can_transition_to(self, to: Self) -> bool {
        self.next_states().contains(&to)
    }

    /// Whether the conversation is over (Closed).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        self == Self::Closed
    }

    /// Omnichannel's name for the state (`Open`, `Active`, `Waiting`, `WrapUp`, `Closed`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Active => "Active",
            Self::Waiting => "Waiting",
            Self::WrapUp => "WrapUp",
            Self::Closed => "Closed",
        }
    }
}

impl fmt::Display for ConversationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the transition table does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid conversation state transition from {from} to {to}")]
#[non_exhaustive]
pub struct TransitionError {
    /// The state the conversation is in.
    pub from: ConversationState,
    /// The state that was asked for.
    pub to: ConversationState,
}

impl From<TransitionError> for crate::AdapterError {
    fn from(err: TransitionError) -> Self {
        crate::AdapterError::bad_request("state", err.to_string())
    }
}

/// What a participant is in the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// The customer on the channel.
    Customer,
    /// A bot (first line, before hand-off).
    Bot,
    /// A human agent (customer service representative).
    Agent,
}

/// One participant, with when they joined and left.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The account (id and display name).
    pub account: ChannelAccount,
    /// Customer, bot or agent.
    pub role: ParticipantRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// When they left; `None` while present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<DateTime<Utc>>,
}

impl Participant {
    /// The account id (empty when the account has none).
    #[must_use]
    pub fn id(&self) -> &str {
        self.account.id.as_deref().unwrap_or_default()
    }

    /// Whether they are still in the conversation.
    #[must_use]
    pub fn is_present(&self) -> bool {
        self.left_at.is_none()
    }
}

/// Who holds the conversation now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Owner {
    /// Nobody yet.
    #[default]
    None,
    /// A bot, by member id.
    Bot(String),
    /// A human agent, by member id.
    Agent(String),
    /// Waiting in a queue, by queue name.
    Queue(String),
}

impl Owner {
    /// The bot's or agent's id when one holds it.
    #[must_use]
    pub fn holder(&self) -> Option<&str> {
        match self {
            Self::Bot(id) | Self::Agent(id) => Some(id),
            _ => None,
        }
    }

    /// The bot's id when a bot holds it.
    #[must_use]
    pub fn bot(&self) -> Option<&str> {
        match self {
            Self::Bot(id) => Some(id),
            _ => None,
        }
    }

    /// The agent's id when an agent holds it.
    #[must_use]
    pub fn agent(&self) -> Option<&str> {
        match self {
            Self::Agent(id) => Some(id),
            _ => None,
        }
    }
}

/// One customer conversation, as the gateway stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// Our conversation id.
    pub id: String,
    /// The channel it arrived on (`telesign`, `directline`, ...), matched against a
    /// workstream's channel binding.
    pub channel_id: String,
    /// The customer's account on that channel.
    pub customer: ChannelAccount,
    /// The customer's language (BCP-47), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Facts about the customer (`email`, `phonenumber`, `firstname`, ...) that routing rules
    /// may test as `customer.<name>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub customer_facts: BTreeMap<String, String>,
    /// Everyone who took part, in order of joining.
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// The current state.
    pub state: ConversationState,
    /// Context variables by name.
    #[serde(default)]
    pub context: BTreeMap<String, ContextValue>,
    /// Every activity exchanged, in order.
    #[serde(default)]
    pub transcript: Vec<Activity>,
    /// Who holds it now.
    #[serde(default)]
    pub owner: Owner,
    /// The queue it was last routed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Bots that already had this conversation; routing never offers it to them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bots_visited: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the last activity (either way) happened; inactivity counts from here.
    pub last_activity_at: DateTime<Utc>,
    /// When it entered its current state.
    pub state_entered_at: DateTime<Utc>,
}

impl Conversation {
    /// A new conversation in the Open state, the customer as its first participant.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        channel_id: impl Into<String>,
        customer: ChannelAccount,
        at: DateTime<Utc>,
    ) -> Self {
        let participants = vec![Participant {
            account: customer.clone(),
            role: ParticipantRole::Customer,
            joined_at: at,
            left_at: None,
        }];
        Self {
            id: id.into(),
            channel_id: channel_id.into(),
            customer,
            locale: None,
            customer_facts: BTreeMap::new(),
            participants,
            state: ConversationState::Open,
            context: BTreeMap::new(),
            transcript: Vec::new(),
            owner: Owner::None,
            queue: None,
            bots_visited: Vec::new(),
            created_at: at,
            last_activity_at: at,
            state_entered_at: at,
        }
    }

    /// Sets the customer's language.
    #[must_use]
    pub fn with_locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Adds a customer fact (`customer.<name>` in routing rules).
    #[must_use]
    pub fn with_customer_fact(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.customer_facts.insert(name.into(), value.into());
        self
    }

    /// The customer's id on the channel (empty when unknown).
    #[must_use]
    pub fn customer_id(&self) -> &str {
        self.customer.id.as_deref().unwrap_or_default()
    }

    /// Moves to `to` at `at`, or fails naming both states when the table forbids it.
    /// A successful move resets [`state_entered_at`](Self::state_entered_at).
    pub fn transition(
        &mut self,
        to: ConversationState,
        at: DateTime<Utc>,
    ) -> Result<ConversationState, TransitionError> {
        let from = self.state;
        if !from.can_transition_to(to) {
            return Err(TransitionError { from, to });
        }
        self.state = to;
        self.state_entered_at = at;
        tracing::debug!(conversation = %self.id, %from, %to, "conversation state changed");
        Ok(from)
    }

    /// Sets one context variable (replacing any earlier value).
    pub fn set_context(&mut self, name: impl Into<String>, value: impl Into<ContextValue>) {
        self.context.insert(name.into(), value.into());
    }

    /// One context variable.
    #[must_use]
    pub fn context_value(&self, name: &str) -> Option<&ContextValue> {
        self.context.get(name)
    }

    /// The context variables an agent may see (`isDisplayable`).
    pub fn displayable_context(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.context
            .iter()
            .filter(|(_, v)| v.is_displayable)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Appends an activity to the transcript and counts it as activity at `at`.
    pub fn record(&mut self, activity: Activity, at: DateTime<Utc>) {
        self.transcript.push(activity);
        self.touch(at);
    }

    /// Counts `at` as activity (resets the inactivity clock) without recording anything.
    pub fn touch(&mut self, at: DateTime<Utc>) {
        if at > self.last_activity_at {
            self.last_activity_at = at;
        }
    }

    /// How long the conversation has been idle at `now` (zero if `now` is earlier).
    #[must_use]
    pub fn idle_for(&self, now: DateTime<Utc>) -> Duration {
        (now - self.last_activity_at).to_std().unwrap_or_default()
    }

    /// How long it has been in its current state at `now` (zero if `now` is earlier).
    #[must_use]
    pub fn in_state_for(&self, now: DateTime<Utc>) -> Duration {
        (now - self.state_entered_at).to_std().unwrap_or_default()
    }

    /// Adds a participant, unless one with the same id and role is already present.
    pub fn join(&mut self, account: ChannelAccount, role: ParticipantRole, at: DateTime<Utc>) {
        let id = account.id.as_deref().unwrap_or_default();
        let present = self
            .participants
            .iter()
            .any(|p| p.role == role && p.is_present() && p.id() == id);
        if !present {
            self.participants.push(Participant {
                account,
                role,
                joined_at: at,
                left_at: None,
            });
        }
    }

    /// Marks the present participant with this id as gone; returns whether one was found.
    pub fn leave(&mut self, id: &str, at: DateTime<Utc>) -> bool {
        match self
            .participants
            .iter_mut()
            .find(|p| p.is_present() && p.id() == id)
        {
            Some(p) => {
                p.left_at = Some(at);
                true
            }
            None => false,
        }
    }

    /// Present participants with this role.
    pub fn present(&self, role: ParticipantRole) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(move |p| p.role == role && p.is_present())
    }

    /// Whether this bot already had the conversation.
    #[must_use]
    pub fn has_visited_bot(&self, bot_id: &str) -> bool {
        self.bots_visited.iter().any(|b| b == bot_id)
    }

    /// Hands the conversation to `owner`. Handing it to a bot records the bot in
    /// [`bots_visited`](Self::bots_visited); a bot or agent that held it and is replaced
    /// leaves the participants.
    pub fn set_owner(&mut self, owner: Owner, at: DateTime<Utc>) {
        let previous = match &self.owner {
            Owner::Bot(id) | Owner::Agent(id) if owner.holder() != Some(id.as_str()) => {
                Some(id.clone())
            }
            _ => None,
        };
        if let Some(previous) = previous {
            self.leave(&previous, at);
        }
        if let Owner::Bot(bot) = &owner
            && !self.has_visited_bot(bot)
        {
            self.bots_visited.push(bot.clone());
        }
        self.owner = owner;
    }

    /// A bot hands the conversation off: its context variables are merged in, the bot is
    /// recorded as visited and leaves, and the conversation goes back to Open for re-routing
    /// (from Active; other states are left as they are). Returns the bot's id, if a bot held it.
    pub fn hand_off(
        &mut self,
        context_updates: impl IntoIterator<Item = (String, ContextValue)>,
        at: DateTime<Utc>,
    ) -> Option<String> {
        for (name, value) in context_updates {
            self.context.insert(name, value);
        }
        let bot = self.owner.bot().map(str::to_owned);
        if let Some(bot) = &bot {
            if !self.has_visited_bot(bot) {
                self.bots_visited.push(bot.clone());
            }
            self.leave(bot, at);
        }
        self.owner = Owner::None;
        if self.state == ConversationState::Active {
            // Active → Open is in the table: released back to routing.
            self.state = ConversationState::Open;
            self.state_entered_at = at;
        }
        self.touch(at);
        bot
    }
}

#[cfg(test)]
mod tests;
