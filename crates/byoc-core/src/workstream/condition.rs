//! Routing conditions: operators over context variables, the channel and customer facts.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::conversation::{ContextScalar, Conversation};

/// What a condition looks at, written as a dotted name in workstream files.
///
/// | written | reads |
/// |---|---|
/// | `context.<name>` | the context variable `<name>` |
/// | `channel` or `channel.id` | the conversation's channel id |
/// | `customer.id` | the customer's account id on the channel |
/// | `customer.name` | the customer's display name |
/// | `customer.locale` or `locale` | the customer's language |
/// | `customer.<fact>` | a customer fact (`email`, `phonenumber`, ...) |
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[non_exhaustive]
pub enum Field {
    /// A context variable.
    Context(String),
    /// The channel id.
    ChannelId,
    /// The customer's id.
    CustomerId,
    /// The customer's display name.
    CustomerName,
    /// The customer's language.
    Locale,
    /// Another customer fact.
    CustomerFact(String),
}

impl Field {
    /// Parses the dotted name; `None` for anything not in the table above.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let nonempty = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        match text {
            "channel" | "channel.id" => Some(Self::ChannelId),
            "customer.id" => Some(Self::CustomerId),
            "customer.name" => Some(Self::CustomerName),
            "customer.locale" | "locale" => Some(Self::Locale),
            _ => {
                if let Some(name) = text.strip_prefix("context.") {
                    nonempty(name).then(|| Self::Context(name.to_owned()))
                } else if let Some(name) = text.strip_prefix("customer.") {
                    nonempty(name).then(|| Self::CustomerFact(name.to_owned()))
                } else {
                    None
                }
            }
        }
    }

    /// The context variable's name, for `context.<name>`.
    #[must_use]
    pub fn context_name(&self) -> Option<&str> {
        match self {
            Self::Context(name) => Some(name),
            _ => None,
        }
    }

    /// Reads the field from a conversation, borrowing. Empty strings read as absent.
    #[inline(always)]
    pub(crate) fn read<'a>(&self, conv: &'a Conversation) -> Option<Value<'a>> {
        let text = match self {
            Self::Context(name) => {
                return conv
                    .context
                    .get(name.as_str())
                    .and_then(|v| match &v.value {
                        ContextScalar::String(s) => (!s.is_empty()).then_some(Value::Str(s)),
                        ContextScalar::Number(n) => Some(Value::Num(*n)),
                        ContextScalar::Bool(b) => Some(Value::Bool(*b)),
                    });
            }
            Self::ChannelId => Some(conv.channel_id.as_str()),
            Self::CustomerId => conv.customer.id.as_deref(),
            Self::CustomerName => conv.customer.name.as_deref(),
            Self::Locale => conv.locale.as_deref(),
            Self::CustomerFact(name) => conv.customer_facts.get(name.as_str()).map(String::as_str),
        };
        text.filter(|s| !s.is_empty()).map(Value::Str)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Context(name) => write!(f, "context.{name}"),
            Self::ChannelId => f.write_str("channel.id"),
            Self::CustomerId => f.write_str("customer.id"),
            Self::CustomerName => f.write_str("customer.name"),
            Self::Locale => f.write_str("customer.locale"),
            Self::CustomerFact(name) => write!(f, "customer.{name}"),
        }
    }
}

impl TryFrom<String> for Field {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| {
            "unknown field; expected context.<name>, channel.id, customer.id, customer.name, \
             customer.locale or customer.<fact>"
                .to_owned()
        })
    }
}

impl From<Field> for String {
    fn from(value: Field) -> Self {
        value.to_string()
    }
}

/// `field <op> value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// What to look at.
    pub field: Field,
    /// What to compare with.
    pub value: ContextScalar,
    /// Compare text ignoring ASCII case. Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

/// `field in [values]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// What to look at.
    pub field: Field,
    /// The accepted values.
    pub values: Vec<ContextScalar>,
    /// Compare text ignoring ASCII case. Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

/// A routing condition. In TOML: `condition = { equals = { field = "context.Topic", value =
/// "CreditCard" } }`, `{ in = { field = "customer.locale", values = ["en-US", "en-GB"] } }`,
/// `{ exists = "context.Topic" }`, `{ open = "BusinessHours" }`, `{ all = [ ... ] }`,
/// `{ any = [ ... ] }`, `{ not = { ... } }`.
///
/// Semantics: an absent field (or an empty string) never equals, contains or starts with
/// anything, so `not_equals` on an absent field is true. A number or boolean compared with a
/// string is compared after parsing the string (`"5"` equals `5`). `contains` and
/// `starts_with` only match text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Condition {
    /// The field equals the value.
    Equals(Comparison),
    /// The field does not equal the value (true when absent).
    NotEquals(Comparison),
    /// The field's text contains the value's text.
    Contains(Comparison),
    /// The field's text starts with the value's text.
    StartsWith(Comparison),
    /// The field equals one of the values.
    In(Membership),
    /// The field is present and not an empty string.
    Exists(Field),
    /// Every condition holds (true when empty).
    All(Vec<Condition>),
    /// At least one condition holds (false when empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The workstream's operating hours of this name are open at the time of routing
    /// ([`Condition::matches_at`]; [`Condition::matches`], which has no time, takes it as
    /// not holding).
    Open(String),
}

impl Condition {
    /// `field == value`.
    #[must_use]
    pub fn equals(field: Field, value: impl Into<ContextScalar>) -> Self {
        Self::Equals(Comparison {
            field,
            value: value.into(),
            ignore_case: false,
        })
    }

    /// Whether the condition holds for the conversation, `open` conditions taken as not
    /// holding (see [`Condition::matches_at`]). Allocates nothing.
    #[must_use]
    pub fn matches(&self, conv: &Conversation) -> bool {
        self.matches_with(conv, &|_| false)
    }

    /// Whether the condition holds for the conversation at `now`, `open` conditions read
    /// from the workstream's operating hours (an unknown name does not hold).
    #[must_use]
    pub fn matches_at(
        &self,
        conv: &Conversation,
        workstream: &super::Workstream,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.matches_with(conv, &|name: &str| {
            workstream.hours(name).is_some_and(|h| h.is_open_at(now))
        })
    }

    /// Whether the condition holds, `open` answered by `open`.
    pub(crate) fn matches_with(&self, conv: &Conversation, open: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Self::Equals(c) => c
                .field
                .read(conv)
                .is_some_and(|v| v.equals(&c.value, c.ignore_case)),
            Self::NotEquals(c) => !c
                .field
                .read(conv)
                .is_some_and(|v| v.equals(&c.value, c.ignore_case)),
            Self::Contains(c) => match (c.field.read(conv), &c.value) {
                (Some(Value::Str(h)), ContextScalar::String(n)) => contains(h, n, c.ignore_case),
                _ => false,
            },
            Self::StartsWith(c) => match (c.field.read(conv), &c.value) {
                (Some(Value::Str(h)), ContextScalar::String(n)) => starts_with(h, n, c.ignore_case),
                _ => false,
            },
            Self::In(m) => m
                .field
                .read(conv)
                .is_some_and(|v| m.values.iter().any(|x| v.equals(x, m.ignore_case))),
            Self::Exists(field) => field.read(conv).is_some(),
            Self::All(list) => list.iter().all(|c| c.matches_with(conv, open)),
            Self::Any(list) => list.iter().any(|c| c.matches_with(conv, open)),
            Self::Not(inner) => !inner.matches_with(conv, open),
            Self::Open(name) => open(name),
        }
    }

    /// The operator's name as written in files.
    #[must_use]
    pub fn operator(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::NotEquals(_) => "not_equals",
            Self::Contains(_) => "contains",
            Self::StartsWith(_) => "starts_with",
            Self::In(_) => "in",
            Self::Exists(_) => "exists",
            Self::All(_) => "all",
            Self::Any(_) => "any",
            Self::Not(_) => "not",
            Self::Open(_) => "open",
        }
    }
}

/// A field's value, borrowed from the conversation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
}

impl Value<'_> {
    fn equals(self, literal: &ContextScalar, ignore_case: bool) -> bool {
        match (self, literal) {
            (Value::Str(a), ContextScalar::String(b)) => {
                if ignore_case {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            }
            (Value::Num(a), ContextScalar::Number(b)) => a == *b,
            (Value::Bool(a), ContextScalar::Bool(b)) => a == *b,
            (Value::Str(a), ContextScalar::Number(b)) => {
                a.trim().parse::<f64>().is_ok_and(|a| a == *b)
            }
            (Value::Num(a), ContextScalar::String(b)) => {
                b.trim().parse::<f64>().is_ok_and(|b| a == b)
            }
            (Value::Str(a), ContextScalar::Bool(b)) => parse_bool(a) == Some(*b),
            (Value::Bool(a), ContextScalar::String(b)) => parse_bool(b) == Some(a),
            (Value::Num(_), ContextScalar::Bool(_))
            | (Value::Bool(_), ContextScalar::Number(_)) => false,
        }
    }
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn contains(haystack: &str, needle: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        return haystack.contains(needle);
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn starts_with(haystack: &str, needle: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        return haystack.starts_with(needle);
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n)
}
