//! Errors of loading, validating and routing a workstream.

use std::fmt;
use std::time::Duration;

use super::messages::TemplateError;

/// The format a workstream was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Toml => "TOML",
            Self::Json => "JSON",
        })
    }
}

/// A workstream that could not be loaded, or that is not valid. Every variant names the field
/// at fault as a dotted path (`routing_rules[2].condition.any[0].equals.field`), returned by
/// [`WorkstreamError::path`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkstreamError {
    /// The file does not parse or does not have the workstream's shape.
    #[error("{path}: {message} ({format}{})", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Syntax {
        /// TOML or JSON.
        format: Format,
        /// The field at fault (`.` for the document).
        path: String,
        /// The 1-based line, when the parser knows it.
        line: Option<usize>,
        /// What is wrong (never the file's text).
        message: String,
    },
    /// A required list or text is empty.
    #[error("{path}: must not be empty")]
    Empty {
        /// The field.
        path: String,
    },
    /// Two entries share a name or id.
    #[error("{path}: duplicate `{name}`")]
    Duplicate {
        /// The second entry's field.
        path: String,
        /// The shared name.
        name: String,
    },
    /// A rule or setting names a queue the workstream does not have.
    #[error("{path}: unknown queue `{queue}`")]
    UnknownQueue {
        /// The field.
        path: String,
        /// The name given.
        queue: String,
    },
    /// A condition or message uses a context variable the workstream does not declare.
    #[error("{path}: unknown context variable `{name}`")]
    UnknownContextVariable {
        /// The field.
        path: String,
        /// The variable's name.
        name: String,
    },
    /// A value's type does not fit the field it is compared with.
    #[error("{path}: `{field}` is a {expected}, the value is a {given}")]
    TypeMismatch {
        /// The value's field.
        path: String,
        /// The field compared.
        field: String,
        /// The field's type.
        expected: &'static str,
        /// The value's type.
        given: &'static str,
    },
    /// Auto-close shorter than the channel allows (SMS: 8 hours).
    #[error("{path}: {} is shorter than the {} minimum of an SMS workstream", super::duration::format(*given), super::duration::format(*minimum))]
    AutoCloseTooShort {
        /// The field.
        path: String,
        /// The configured duration.
        given: Duration,
        /// The minimum.
        minimum: Duration,
    },
    /// A message uses a placeholder that does not exist.
    #[error("{path}: unknown placeholder `{{{name}}}`")]
    UnknownPlaceholder {
        /// The field.
        path: String,
        /// The placeholder's name.
        name: String,
    },
    /// A message template is malformed.
    #[error("{path}: {source}")]
    Template {
        /// The field.
        path: String,
        /// What is wrong.
        source: TemplateError,
    },
    /// A member listed in several queues with a different kind, capacity, profile, limits
    /// or skills.
    #[error(
        "{path}: member `{id}` has a different kind, capacity, profile, limits or skills in queue `{other_queue}`"
    )]
    InconsistentMember {
        /// The field.
        path: String,
        /// The member's id.
        id: String,
        /// The queue listing it first.
        other_queue: String,
    },
    /// A queue or condition names operating hours the workstream does not have.
    #[error("{path}: unknown operating hours `{name}`")]
    UnknownOperatingHours {
        /// The field.
        path: String,
        /// The name given.
        name: String,
    },
    /// A member names a capacity profile the workstream does not have.
    #[error("{path}: unknown capacity profile `{name}`")]
    UnknownCapacityProfile {
        /// The field.
        path: String,
        /// The name given.
        name: String,
    },
    /// Conditions nested too deep.
    #[error("{path}: conditions nest deeper than {max} levels")]
    TooDeep {
        /// The field.
        path: String,
        /// The limit.
        max: usize,
    },
    /// A value out of its allowed set (language tag, URL, MIME type, capacity, ...).
    #[error("{path}: {reason}")]
    InvalidValue {
        /// The field.
        path: String,
        /// What is expected.
        reason: &'static str,
    },
}

impl WorkstreamError {
    /// The dotted path of the field at fault.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            Self::Syntax { path, .. }
            | Self::Empty { path }
            | Self::Duplicate { path, .. }
            | Self::UnknownQueue { path, .. }
            | Self::UnknownContextVariable { path, .. }
            | Self::TypeMismatch { path, .. }
            | Self::AutoCloseTooShort { path, .. }
            | Self::UnknownPlaceholder { path, .. }
            | Self::Template { path, .. }
            | Self::InconsistentMember { path, .. }
            | Self::UnknownOperatingHours { path, .. }
            | Self::UnknownCapacityProfile { path, .. }
            | Self::TooDeep { path, .. }
            | Self::InvalidValue { path, .. } => path,
        }
    }
}

impl From<WorkstreamError> for crate::AdapterError {
    fn from(err: WorkstreamError) -> Self {
        crate::AdapterError::configuration(err.to_string())
    }
}

/// A routing request that cannot be carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A transfer names a queue the workstream does not have.
    #[error("unknown queue `{0}`")]
    UnknownQueue(String),
    /// No conversation with this id is waiting or offered in the routing state.
    #[error("conversation `{0}` is not waiting or offered")]
    UnknownConversation(String),
    /// The conversation is not offered to this member (never, or the offer ended).
    #[error("conversation `{conversation}` is not offered to `{member}`")]
    NotOffered {
        /// The conversation's id.
        conversation: String,
        /// The member's id.
        member: String,
    },
}

impl From<RouteError> for crate::AdapterError {
    fn from(err: RouteError) -> Self {
        let field = match err {
            RouteError::UnknownQueue(_) => "queue",
            RouteError::UnknownConversation(_) => "conversation",
            RouteError::NotOffered { .. } => "member",
        };
        crate::AdapterError::bad_request(field, err.to_string())
    }
}
