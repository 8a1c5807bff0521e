//! Automated messages with `{placeholder}` substitution, and the survey link.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::model::Workstream;
use crate::conversation::Conversation;

/// The automated messages a workstream sends to the customer. Each is optional (absent =
/// not sent) and may hold placeholders: `{CustomerName}`, `{AgentName}`, `{QueuePosition}`,
/// `{QueueName}`, `{EstimatedWaitMinutes}`, `{WorkstreamName}`, `{ConversationId}`,
/// `{SurveyLink}` and the name of any
/// declared context variable (`{BotHandoffTopic}`). `{{` and `}}` write literal braces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomatedMessages {
    /// When the conversation starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// When a human agent joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_joined: Option<String>,
    /// While waiting in a queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<String>,
    /// When the agent leaves or disconnects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_left: Option<String>,
    /// When the conversation is transferred to another queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred: Option<String>,
    /// When the conversation ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_ended: Option<String>,
}

/// Which automated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// `greeting`.
    Greeting,
    /// `agent_joined`.
    AgentJoined,
    /// `queue_position`.
    QueuePosition,
    /// `agent_left`.
    AgentLeft,
    /// `transferred`.
    Transferred,
    /// `conversation_ended`.
    ConversationEnded,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Greeting,
        Self::AgentJoined,
        Self::QueuePosition,
        Self::AgentLeft,
        Self::Transferred,
        Self::ConversationEnded,
    ];

    /// The field name in workstream files.
    #[must_use]
    pub fn field(self) -> &'static str {
        match self {
            Self::Greeting => "greeting",
            Self::AgentJoined => "agent_joined",
            Self::QueuePosition => "queue_position",
            Self::AgentLeft => "agent_left",
            Self::Transferred => "transferred",
            Self::ConversationEnded => "conversation_ended",
        }
    }
}

impl AutomatedMessages {
    /// The template of one kind.
    #[must_use]
    pub fn get(&self, kind: MessageKind) -> Option<&str> {
        match kind {
            MessageKind::Greeting => self.greeting.as_deref(),
            MessageKind::AgentJoined => self.agent_joined.as_deref(),
            MessageKind::QueuePosition => self.queue_position.as_deref(),
            MessageKind::AgentLeft => self.agent_left.as_deref(),
            MessageKind::Transferred => self.transferred.as_deref(),
            MessageKind::ConversationEnded => self.conversation_ended.as_deref(),
        }
    }
}

/// The placeholders every message may use besides context variables.
pub const PLACEHOLDERS: [&str; 8] = [
    "CustomerName",
    "AgentName",
    "QueuePosition",
    "QueueName",
    "EstimatedWaitMinutes",
    "WorkstreamName",
    "ConversationId",
    "SurveyLink",
];

/// Values for the placeholders that do not come from the conversation itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct MessageValues<'a> {
    /// `{AgentName}`.
    pub agent_name: Option<&'a str>,
    /// `{QueuePosition}`.
    pub queue_position: Option<u32>,
    /// `{QueueName}` (defaults to the conversation's queue).
    pub queue_name: Option<&'a str>,
    /// `{EstimatedWaitMinutes}`: written in whole minutes, rounded up (at least 1).
    pub estimated_wait: Option<std::time::Duration>,
}

/// A malformed template.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("unclosed `{{` at byte {at}")]
    Unclosed {
        /// Byte offset of the `{`.
        at: usize,
    },
    /// A lone `}` (write `}}` for a literal brace).
    #[error("unmatched `}}` at byte {at}")]
    Unmatched {
        /// Byte offset of the `}`.
        at: usize,
    },
    /// `{}` or a name with characters other than letters, digits, `_`, `-`, `.`.
    #[error("bad placeholder name at byte {at}")]
    BadName {
        /// Byte offset of the `{`.
        at: usize,
    },
}

enum Piece<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

/// Splits a template into text and placeholders, calling `each` in order.
fn walk<'t>(template: &'t str, mut each: impl FnMut(Piece<'t>)) -> Result<(), TemplateError> {
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                each(Piece::Text(&template[start..=i]));
                i += 2;
                start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                each(Piece::Text(&template[start..=i]));
                i += 2;
                start = i;
            }
            b'{' => {
                each(Piece::Text(&template[start..i]));
                let close = template[i + 1..]
                    .find('}')
                    .ok_or(TemplateError::Unclosed { at: i })?;
                let name = &template[i + 1..i + 1 + close];
                let ok = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
                if !ok {
                    return Err(TemplateError::BadName { at: i });
                }
                each(Piece::Placeholder(name));
                i += close + 2;
                start = i;
            }
            b'}' => return Err(TemplateError::Unmatched { at: i }),
            _ => i += 1,
        }
    }
    each(Piece::Text(&template[start..]));
    Ok(())
}

/// The placeholder names a template uses, or why it is malformed.
pub fn placeholders(template: &str) -> Result<Vec<&str>, TemplateError> {
    let mut names = Vec::new();
    walk(template, |p| {
        if let Piece::Placeholder(name) = p {
            names.push(name);
        }
    })?;
    Ok(names)
}

/// Fills a template; placeholders `lookup` does not know become empty. A malformed template
/// (which validation rejects) is returned as written.
fn fill(template: &str, mut lookup: impl FnMut(&str, &mut String)) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let ok = walk(template, |p| match p {
        Piece::Text(t) => out.push_str(t),
        Piece::Placeholder(name) => lookup(name, &mut out),
    });
    match ok {
        Ok(()) => out,
        Err(_) => template.to_owned(),
    }
}

fn percent_encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

impl Workstream {
    /// One automated message filled in for a conversation; `None` when not configured.
    #[must_use]
    pub fn render_message(
        &self,
        kind: MessageKind,
        conv: &Conversation,
        values: &MessageValues<'_>,
    ) -> Option<String> {
        let template = self.messages.get(kind)?;
        Some(self.fill_template(template, conv, values, false))
    }

    /// The survey link for a conversation, placeholders percent-encoded; `None` when the
    /// workstream has no survey.
    #[must_use]
    pub fn survey_link(&self, conv: &Conversation) -> Option<String> {
        let survey = self.survey.as_ref()?;
        Some(self.fill_template(&survey.url, conv, &MessageValues::default(), true))
    }

    /// The survey message (`survey.message`, or the link alone).
    #[must_use]
    pub fn survey_message(&self, conv: &Conversation) -> Option<String> {
        let survey = self.survey.as_ref()?;
        match &survey.message {
            Some(m) => Some(self.fill_template(m, conv, &MessageValues::default(), false)),
            None => self.survey_link(conv),
        }
    }

    /// Any template written with the automated messages' placeholders (an overflow
    /// message, say) filled in for a conversation.
    #[must_use]
    pub fn render_text(
        &self,
        template: &str,
        conv: &Conversation,
        values: &MessageValues<'_>,
    ) -> String {
        self.fill_template(template, conv, values, false)
    }

    fn fill_template(
        &self,
        template: &str,
        conv: &Conversation,
        values: &MessageValues<'_>,
        url: bool,
    ) -> String {
        fill(template, |name, out| {
            let mut put = |text: &str| {
                if url {
                    percent_encode(text, out);
                } else {
                    out.push_str(text);
                }
            };
            match name {
                "CustomerName" => put(conv.customer.name.as_deref().unwrap_or_default()),
                "AgentName" => put(values.agent_name.unwrap_or_default()),
                "QueuePosition" => {
                    if let Some(p) = values.queue_position {
                        put(&p.to_string());
                    }
                }
                "QueueName" => put(values
                    .queue_name
                    .or(conv.queue.as_deref())
                    .unwrap_or_default()),
                "EstimatedWaitMinutes" => {
                    if let Some(wait) = values.estimated_wait {
                        put(&wait.as_secs().div_ceil(60).max(1).to_string());
                    }
                }
                "WorkstreamName" => put(&self.name),
                "ConversationId" => put(&conv.id),
                "SurveyLink" if !url => {
                    if let Some(link) = self.survey_link(conv) {
                        put(&link);
                    }
                }
                other => {
                    if let Some(v) = conv.context.get(other) {
                        put(&v.value.to_string());
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_escapes() {
        assert_eq!(
            placeholders("Hi {CustomerName}, {{literal}} {QueuePosition}").unwrap(),
            vec!["CustomerName", "QueuePosition"]
        );
        assert_eq!(placeholders("a {b"), Err(TemplateError::Unclosed { at: 2 }));
        assert_eq!(
            placeholders("a } b"),
            Err(TemplateError::Unmatched { at: 2 })
        );
        assert_eq!(placeholders("{}"), Err(TemplateError::BadName { at: 0 }));
        assert_eq!(placeholders("{a b}"), Err(TemplateError::BadName { at: 0 }));
        assert_eq!(placeholders("é {x} ü").unwrap(), vec!["x"]);
    }

    #[test]
    fn fill_writes_literal_braces() {
        let s = fill("{{x}} {a}!", |name, out| out.push_str(&name.to_uppercase()));
        assert_eq!(s, "{x} A!");
    }

    #[test]
    fn percent_encoding() {
        let mut out = String::new();
        percent_encode("a b/ü&", &mut out);
        assert_eq!(out, "a%20b%2F%C3%BC%26");
    }
}
