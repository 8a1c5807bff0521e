//! The workstream's shape, as written in TOML or JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::assignment::{AssignmentMethod, OfferPolicy, PreferredAgent};
use super::attachments::AttachmentPolicy;
use super::capacity::{CapacityProfile, PerKind};
use super::condition::Condition;
use super::duration;
use super::hours::OperatingHours;
use super::messages::AutomatedMessages;
use super::overflow::OverflowRule;
use super::skills::{SkillMatching, SkillRequirement};
use crate::conversation::ConversationState;

/// A workstream: which channel it serves, how it routes, who works it, and the
/// conversation settings around that. Build one with [`Workstream::from_toml_str`] or
/// [`Workstream::from_json_slice`], which validate it; after changing fields, check it
/// again with [`Workstream::validate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Workstream {
    /// The workstream's name (`ChatWorkStream`).
    pub name: String,
    /// The channel it serves.
    pub channel: ChannelBinding,
    /// Its language (BCP-47, e.g. `en-US`): the locale automated messages are written in.
    pub language: String,
    /// The context variables routing rules and messages may use, with their types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_variables: Vec<ContextVariable>,
    /// Routing rules, in order: the first whose condition holds wins.
    pub routing_rules: Vec<RoutingRule>,
    /// Where a conversation goes when no rule matches; without it, the conversation stays
    /// unrouted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_queue: Option<String>,
    /// The queues.
    pub queues: Vec<Queue>,
    /// Operating hours queues and `open` conditions refer to by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operating_hours: Vec<OperatingHours>,
    /// Capacity profiles agents refer to by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_profiles: Vec<CapacityProfile>,
    /// How required skills match agents' skills, unless a queue says otherwise. Default
    /// `exact`.
    #[serde(default, skip_serializing_if = "is_exact")]
    pub skill_matching: SkillMatching,
    /// Auto-close after inactivity, per state.
    #[serde(default)]
    pub auto_close: AutoClose,
    /// What customers and agents may attach.
    #[serde(default)]
    pub attachments: AttachmentPolicy,
    /// Automated messages sent to the customer.
    #[serde(default)]
    pub messages: AutomatedMessages,
    /// The post-conversation survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<Survey>,
}

fn is_exact(m: &SkillMatching) -> bool {
    *m == SkillMatching::Exact
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl Workstream {
    /// The operating hours with this name.
    #[must_use]
    pub fn hours(&self, name: &str) -> Option<&OperatingHours> {
        self.operating_hours.iter().find(|h| h.name == name)
    }

    /// The capacity profile with this name.
    #[must_use]
    pub fn capacity_profile(&self, name: &str) -> Option<&CapacityProfile> {
        self.capacity_profiles.iter().find(|p| p.name == name)
    }

    /// The queue with this name.
    #[must_use]
    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The declared context variable with this name.
    #[must_use]
    pub fn context_variable(&self, name: &str) -> Option<&ContextVariable> {
        self.context_variables.iter().find(|v| v.name == name)
    }

    /// Whether this workstream serves the channel with this id.
    #[must_use]
    pub fn binds(&self, channel_id: &str) -> bool {
        self.channel.id == channel_id
    }

    /// How long a conversation may stay idle in `state` before it is closed: the configured
    /// value, else the channel kind's default ([`AutoClose::default_for`]); `None` = never.
    #[must_use]
    pub fn auto_close_after(&self, state: ConversationState) -> Option<Duration> {
        self.auto_close
            .get(state)
            .or_else(|| AutoClose::default_for(self.channel.kind, state))
            .filter(|d| *d != AutoClose::NEVER)
    }
}

/// The channel a workstream serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBinding {
    /// The kind of channel; decides auto-close defaults and limits.
    pub kind: ChannelKind,
    /// The channel id conversations carry (`telesign`, `directline`, ...).
    pub id: String,
}

/// Kinds of channel, by how conversations on them behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelKind {
    /// Live chat: synchronous, the session ends when the customer leaves.
    Chat,
    /// SMS: asynchronous; auto-close may not be shorter than 8 hours.
    Sms,
    /// Other asynchronous messaging (custom channels, Teams, social).
    Messaging,
}

impl ChannelKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Chat, Self::Sms, Self::Messaging];

    /// `chat`, `sms` or `messaging`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Sms => "sms",
            Self::Messaging => "messaging",
        }
    }

    /// Whether conversations are asynchronous (persist across customer sessions).
    #[must_use]
    pub fn is_async(self) -> bool {
        !matches!(self, Self::Chat)
    }
}

/// A context variable's declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableType {
    /// Text.
    #[serde(alias = "text")]
    String,
    /// A number.
    Number,
    /// A boolean.
    #[serde(alias = "boolean")]
    Bool,
}

impl VariableType {
    /// `string`, `number` or `bool`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
        }
    }
}

/// A declared context variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextVariable {
    /// Its name (`BotHandoffTopic`).
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: VariableType,
    /// Shown to agents by default. Default `false`.
    #[serde(default)]
    pub is_displayable: bool,
}

/// One routing rule: when `condition` holds, the conversation goes to `queue`, with the
/// rule's priority, required skills and preferred agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Its name, shown in routing traces.
    pub name: String,
    /// The condition; absent = always matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// The target queue's name.
    pub queue: String,
    /// The conversation's priority in the queue: higher is served first, equal priorities
    /// in the order they entered the queue. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// Skills an agent needs to take the conversation, most important first (at most
    /// eight, counting those a context variable lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<SkillRequirement>,
    /// Waits after which the least important remaining skill is dropped, one per entry,
    /// counted from when the conversation entered the queue (`["2m", "5m"]`: the last
    /// skill after 2 minutes, the one before it after 5). Skills beyond the entries are
    /// never dropped.
    #[serde(
        default,
        deserialize_with = "duration::deserialize_list",
        serialize_with = "duration::serialize_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relax_skills_after: Vec<Duration>,
    /// The agent the conversation prefers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_agent: Option<PreferredAgent>,
}

impl RoutingRule {
    /// A rule without condition, priority, skills or preferred agent.
    #[must_use]
    pub fn new(name: impl Into<String>, queue: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            condition: None,
            queue: queue.into(),
            priority: 0,
            skills: Vec::new(),
            relax_skills_after: Vec::new(),
            preferred_agent: None,
        }
    }

    /// With a condition.
    #[must_use]
    pub fn with_condition(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// A queue and the members who work it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Its name.
    pub name: String,
    /// Its members: bots first claim, then humans by the assignment method.
    pub members: Vec<Member>,
    /// How many conversations may wait in it; beyond that routing reports it full.
    /// Default: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_waiting: Option<u32>,
    /// Its priority across queues: an agent in several queues is offered work from the
    /// higher one first. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// How it picks among the agents who can take a conversation. Default
    /// `highest_capacity`.
    #[serde(default, skip_serializing_if = "AssignmentMethod::is_default")]
    pub assignment: AssignmentMethod,
    /// The operating hours (by name) outside which it assigns nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_hours: Option<String>,
    /// Offer conversations to agents, who accept or decline, instead of assigning them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferPolicy>,
    /// What to do when it cannot serve a conversation in time, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overflow: Vec<OverflowRule>,
    /// How required skills match here, instead of the workstream's `skill_matching`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_matching: Option<SkillMatching>,
    /// The expected time an agent spends on one conversation, for estimated waits before
    /// the queue has seen conversations leave it.
    #[serde(
        default,
        deserialize_with = "duration::deserialize_opt",
        serialize_with = "duration::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub average_handle_time: Option<Duration>,
}

impl Queue {
    /// A queue with these members and every setting at its default.
    #[must_use]
    pub fn new(name: impl Into<String>, members: Vec<Member>) -> Self {
        Self {
            name: name.into(),
            members,
            max_waiting: None,
            priority: 0,
            assignment: AssignmentMethod::default(),
            operating_hours: None,
            offer: None,
            overflow: Vec::new(),
            skill_matching: None,
            average_handle_time: None,
        }
    }
}

/// A bot or a human agent in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Its id (the agent's or bot's account id).
    pub id: String,
    /// Display name (`{AgentName}` in messages); defaults to the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bot or human.
    pub kind: MemberKind,
    /// How many conversations it works at once, of any kind. An agent needs this or a
    /// `capacity_profile`; a bot without one is unlimited. Load is counted per member
    /// across queues, so a member listed in several queues must be listed the same way in
    /// each (kind, capacity, profile, limits and skills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// A capacity profile (by name): units, cost and limit per channel kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_profile: Option<String>,
    /// The agent's own units, instead of the profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u32>,
    /// The agent's own limits per channel kind, instead of the profile's.
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub max: PerKind<Option<u32>>,
    /// Skills with proficiency 0–5 (`{ billing = 4, spanish = 2 }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skills: BTreeMap<String, u8>,
}

impl Member {
    /// A human agent taking `capacity` conversations at once.
    #[must_use]
    pub fn agent(id: impl Into<String>, capacity: u32) -> Self {
        Self {
            id: id.into(),
            name: None,
            kind: MemberKind::Agent,
            capacity: Some(capacity),
            capacity_profile: None,
            units: None,
            max: PerKind::default(),
            skills: BTreeMap::new(),
        }
    }

    /// A bot without a capacity limit.
    #[must_use]
    pub fn bot(id: impl Into<String>) -> Self {
        Self {
            kind: MemberKind::Bot,
            capacity: None,
            ..Self::agent(id, 0)
        }
    }

    /// With a skill at a proficiency.
    #[must_use]
    pub fn with_skill(mut self, skill: impl Into<String>, proficiency: u8) -> Self {
        self.skills.insert(skill.into(), proficiency);
        self
    }

    /// The display name, or the id.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Whether this is a bot.
    #[must_use]
    pub fn is_bot(&self) -> bool {
        self.kind == MemberKind::Bot
    }
}

/// Bot or human.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// A bot: offered the conversation before any human.
    Bot,
    /// A human agent.
    #[serde(alias = "human")]
    Agent,
}

/// Auto-close after inactivity, per state (durations such as `"20m"`, `"8h"`, `"30d"`, or
/// `"never"`). A state left out takes the channel kind's default
/// ([`AutoClose::default_for`]); `"never"` switches the default off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoClose {
    /// In Open (waiting in a queue).
    #[serde(
        default,
        deserialize_with = "duration::deserialize_opt",
        serialize_with = "duration::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub open: Option<Duration>,
    /// In Active.
    #[serde(
        default,
        deserialize_with = "duration::deserialize_opt",
        serialize_with = "duration::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<Duration>,
    /// In Waiting (Omnichannel's workstream "auto-close after inactivity").
    #[serde(
        default,
        deserialize_with = "duration::deserialize_opt",
        serialize_with = "duration::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub waiting: Option<Duration>,
    /// In WrapUp.
    #[serde(
        default,
        deserialize_with = "duration::deserialize_opt",
        serialize_with = "duration::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub wrap_up: Option<Duration>,
}

impl AutoClose {
    /// The shortest auto-close an SMS workstream accepts: 8 hours.
    pub const SMS_MINIMUM: Duration = Duration::from_secs(8 * 3600);

    /// `"never"`, as stored in a field.
    pub const NEVER: Duration = duration::NEVER;

    /// The configured value for a state ([`AutoClose::NEVER`] when set to `"never"`).
    #[must_use]
    pub fn get(&self, state: ConversationState) -> Option<Duration> {
        match state {
            ConversationState::Open => self.open,
            ConversationState::Active => self.active,
            ConversationState::Waiting => self.waiting,
            ConversationState::WrapUp => self.wrap_up,
            ConversationState::Closed => None,
        }
    }

    /// Omnichannel's defaults: chat Open 20 min, Active never, WrapUp 15 min; asynchronous
    /// channels Open 30 days, Active 30 days, WrapUp 1 day. Waiting has no default (never).
    #[must_use]
    pub fn default_for(kind: ChannelKind, state: ConversationState) -> Option<Duration> {
        const MIN: u64 = 60;
        const DAY: u64 = 86_400;
        let secs = match (kind.is_async(), state) {
            (false, ConversationState::Open) => 20 * MIN,
            (false, ConversationState::WrapUp) => 15 * MIN,
            (true, ConversationState::Open | ConversationState::Active) => 30 * DAY,
            (true, ConversationState::WrapUp) => DAY,
            _ => return None,
        };
        Some(Duration::from_secs(secs))
    }
}

/// The post-conversation survey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// The link, `https://` (or `http://` for loopback testing); may hold placeholders such
    /// as `{ConversationId}`, which are percent-encoded when filled in.
    pub url: String,
    /// The message that carries it; `{SurveyLink}` stands for the link. Default: the link
    /// alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
