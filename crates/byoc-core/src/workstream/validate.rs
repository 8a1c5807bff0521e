//! Validation: every reference resolves, every value fits, errors name the field. The
//! routing features around queues (hours, capacity, skills, offers, overflow, preferred
//! agents) are checked in `validate/routing.rs`.

mod routing;

use std::collections::HashMap;
use std::collections::HashSet;

use super::attachments::{AttachmentPermission, is_valid_mime_pattern};
use super::condition::{Comparison, Condition, Field};
use super::error::WorkstreamError;
use super::messages::{MessageKind, PLACEHOLDERS, placeholders};
use super::model::{AutoClose, ChannelKind, Member, MemberKind, VariableType, Workstream};
use crate::conversation::{ContextScalar, ConversationState};

/// How deep `all` / `any` / `not` may nest.
pub const MAX_CONDITION_DEPTH: usize = 32;

type Result<T = ()> = std::result::Result<T, WorkstreamError>;

pub(super) fn empty(path: impl Into<String>) -> WorkstreamError {
    WorkstreamError::Empty { path: path.into() }
}

pub(super) fn invalid(path: impl Into<String>, reason: &'static str) -> WorkstreamError {
    WorkstreamError::InvalidValue {
        path: path.into(),
        reason,
    }
}

pub(super) fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// `ll`, `ll-CC`, `lll-Script-CC`, ...: a first subtag of 2–8 letters, then subtags of 1–8
/// letters or digits.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl Workstream {
    /// Checks the workstream; the first problem found is returned, naming its field.
    pub fn validate(&self) -> Result {
        if self.name.trim().is_empty() {
            return Err(empty("name"));
        }
        if self.channel.id.trim().is_empty() {
            return Err(empty("channel.id"));
        }
        if !is_language_tag(&self.language) {
            return Err(invalid(
                "language",
                "expected a BCP-47 language tag such as `en-US`",
            ));
        }
        self.validate_context_variables()?;
        self.validate_hours()?;
        self.validate_capacity_profiles()?;
        self.validate_queues()?;
        self.validate_queue_routing()?;
        self.validate_rules()?;
        self.validate_rule_routing()?;
        self.validate_auto_close()?;
        validate_permission(&self.attachments.customer, "attachments.customer")?;
        validate_permission(&self.attachments.agent, "attachments.agent")?;
        self.validate_messages()?;
        Ok(())
    }

    fn validate_context_variables(&self) -> Result {
        let mut seen = HashSet::new();
        for (i, var) in self.context_variables.iter().enumerate() {
            let path = format!("context_variables[{i}].name");
            if !is_name(&var.name) {
                return Err(invalid(path, "a name of letters, digits, `_`, `-` or `.`"));
            }
            if !seen.insert(var.name.as_str()) {
                return Err(WorkstreamError::Duplicate {
                    path,
                    name: var.name.clone(),
                });
            }
        }
        Ok(())
    }

    fn validate_queues(&self) -> Result {
        if self.queues.is_empty() {
            return Err(empty("queues"));
        }
        let mut names = HashSet::new();
        // member id → (the member as first listed, its queue)
        let mut members: HashMap<&str, (&Member, &str)> = HashMap::new();
        for (q, queue) in self.queues.iter().enumerate() {
            if queue.name.trim().is_empty() {
                return Err(empty(format!("queues[{q}].name")));
            }
            if !names.insert(queue.name.as_str()) {
                return Err(WorkstreamError::Duplicate {
                    path: format!("queues[{q}].name"),
                    name: queue.name.clone(),
                });
            }
            if queue.members.is_empty() {
                return Err(empty(format!("queues[{q}].members")));
            }
            let mut ids = HashSet::new();
            for (m, member) in queue.members.iter().enumerate() {
                let path = format!("queues[{q}].members[{m}]");
                if member.id.trim().is_empty() {
                    return Err(empty(format!("{path}.id")));
                }
                if !ids.insert(member.id.as_str()) {
                    return Err(WorkstreamError::Duplicate {
                        path: format!("{path}.id"),
                        name: member.id.clone(),
                    });
                }
                match (member.kind, member.capacity) {
                    (MemberKind::Agent, None) if member.capacity_profile.is_none() => {
                        return Err(invalid(
                            format!("{path}.capacity"),
                            "a human agent needs a capacity of at least 1 or a capacity_profile",
                        ));
                    }
                    (MemberKind::Agent, Some(0)) => {
                        return Err(invalid(
                            format!("{path}.capacity"),
                            "a human agent needs a capacity of at least 1",
                        ));
                    }
                    (MemberKind::Bot, Some(0)) => {
                        return Err(invalid(
                            format!("{path}.capacity"),
                            "a bot's capacity is at least 1 (leave it out for unlimited)",
                        ));
                    }
                    _ => {}
                }
                self.validate_member(member, &path)?;
                match members.get(member.id.as_str()) {
                    Some(&(first_member, first)) => {
                        if !same_member(first_member, member) {
                            return Err(WorkstreamError::InconsistentMember {
                                path,
                                id: member.id.clone(),
                                other_queue: first.to_owned(),
                            });
                        }
                    }
                    None => {
                        members.insert(&member.id, (member, &queue.name));
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_queue(&self, path: String, name: &str) -> Result {
        if self.queue(name).is_some() {
            Ok(())
        } else {
            Err(WorkstreamError::UnknownQueue {
                path,
                queue: name.to_owned(),
            })
        }
    }

    fn validate_rules(&self) -> Result {
        if self.routing_rules.is_empty() && self.default_queue.is_none() {
            return Err(empty("routing_rules"));
        }
        let mut names = HashSet::new();
        for (i, rule) in self.routing_rules.iter().enumerate() {
            let path = format!("routing_rules[{i}]");
            if rule.name.trim().is_empty() {
                return Err(empty(format!("{path}.name")));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(WorkstreamError::Duplicate {
                    path: format!("{path}.name"),
                    name: rule.name.clone(),
                });
            }
            self.check_queue(format!("{path}.queue"), &rule.queue)?;
            if let Some(condition) = &rule.condition {
                let mut path = format!("{path}.condition");
                self.validate_condition(condition, &mut path, 0)?;
            }
        }
        if let Some(queue) = &self.default_queue {
            self.check_queue("default_queue".to_owned(), queue)?;
        }
        Ok(())
    }

    /// The type of a field: declared for context variables, text otherwise.
    fn field_type(&self, field: &Field, path: &str) -> Result<VariableType> {
        match field {
            Field::Context(name) => self.context_variable(name).map(|v| v.kind).ok_or_else(|| {
                WorkstreamError::UnknownContextVariable {
                    path: format!("{path}.field"),
                    name: name.clone(),
                }
            }),
            _ => Ok(VariableType::String),
        }
    }

    fn check_value(
        &self,
        field: &Field,
        kind: VariableType,
        value: &ContextScalar,
        path: String,
    ) -> Result {
        let fits = matches!(
            (kind, value),
            (VariableType::String, ContextScalar::String(_))
                | (VariableType::Number, ContextScalar::Number(_))
                | (VariableType::Bool, ContextScalar::Bool(_))
        );
        if fits {
            Ok(())
        } else {
            Err(WorkstreamError::TypeMismatch {
                path,
                field: field.to_string(),
                expected: kind.as_str(),
                given: value.type_name(),
            })
        }
    }

    fn validate_comparison(&self, c: &Comparison, path: &str, text_only: bool) -> Result {
        let kind = self.field_type(&c.field, path)?;
        if text_only && kind != VariableType::String {
            return Err(WorkstreamError::TypeMismatch {
                path: format!("{path}.field"),
                field: c.field.to_string(),
                expected: kind.as_str(),
                given: "string",
            });
        }
        self.check_value(&c.field, kind, &c.value, format!("{path}.value"))
    }

    fn validate_condition(&self, condition: &Condition, path: &mut String, depth: usize) -> Result {
        if depth >= MAX_CONDITION_DEPTH {
            return Err(WorkstreamError::TooDeep {
                path: path.clone(),
                max: MAX_CONDITION_DEPTH,
            });
        }
        let len = path.len();
        path.push('.');
        path.push_str(condition.operator());
        let result = match condition {
            Condition::Equals(c) | Condition::NotEquals(c) => {
                self.validate_comparison(c, path, false)
            }
            Condition::Contains(c) | Condition::StartsWith(c) => {
                self.validate_comparison(c, path, true)
            }
            Condition::In(m) => {
                let kind = self.field_type(&m.field, path)?;
                if m.values.is_empty() {
                    return Err(empty(format!("{path}.values")));
                }
                m.values.iter().enumerate().try_for_each(|(k, v)| {
                    self.check_value(&m.field, kind, v, format!("{path}.values[{k}]"))
                })
            }
            Condition::Exists(field) => {
                if let Field::Context(name) = field
                    && self.context_variable(name).is_none()
                {
                    return Err(WorkstreamError::UnknownContextVariable {
                        path: path.clone(),
                        name: name.clone(),
                    });
                }
                Ok(())
            }
            Condition::All(list) | Condition::Any(list) => {
                if list.is_empty() {
                    return Err(empty(path.clone()));
                }
                for (k, inner) in list.iter().enumerate() {
                    let here = path.len();
                    path.push_str(&format!("[{k}]"));
                    self.validate_condition(inner, path, depth + 1)?;
                    path.truncate(here);
                }
                Ok(())
            }
            Condition::Not(inner) => self.validate_condition(inner, path, depth + 1),
            Condition::Open(name) => {
                if self.hours(name).is_none() {
                    return Err(WorkstreamError::UnknownOperatingHours {
                        path: path.clone(),
                        name: name.clone(),
                    });
                }
                Ok(())
            }
        };
        path.truncate(len);
        result
    }

    fn validate_auto_close(&self) -> Result {
        for state in ConversationState::ALL {
            let Some(given) = self.auto_close.get(state) else {
                continue;
            };
            let path = match state {
                ConversationState::Open => "auto_close.open",
                ConversationState::Active => "auto_close.active",
                ConversationState::Waiting => "auto_close.waiting",
                ConversationState::WrapUp => "auto_close.wrap_up",
                ConversationState::Closed => continue,
            };
            if given.is_zero() {
                return Err(invalid(
                    path,
                    "an auto-close duration must be longer than zero",
                ));
            }
            if self.channel.kind == ChannelKind::Sms && given < AutoClose::SMS_MINIMUM {
                return Err(WorkstreamError::AutoCloseTooShort {
                    path: path.to_owned(),
                    given,
                    minimum: AutoClose::SMS_MINIMUM,
                });
            }
        }
        Ok(())
    }

    pub(super) fn validate_template(&self, template: &str, path: &str, in_url: bool) -> Result {
        let names = placeholders(template).map_err(|source| WorkstreamError::Template {
            path: path.to_owned(),
            source,
        })?;
        for name in names {
            let known = (PLACEHOLDERS.contains(&name) && !(in_url && name == "SurveyLink"))
                || self.context_variable(name).is_some();
            if !known {
                return Err(WorkstreamError::UnknownPlaceholder {
                    path: path.to_owned(),
                    name: name.to_owned(),
                });
            }
        }
        Ok(())
    }

    fn validate_messages(&self) -> Result {
        for kind in MessageKind::ALL {
            if let Some(template) = self.messages.get(kind) {
                self.validate_template(template, &format!("messages.{}", kind.field()), false)?;
            }
        }
        if let Some(survey) = &self.survey {
            let url = survey.url.as_str();
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| {
                    url.strip_prefix(p)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
                });
            let https = url
                .strip_prefix("https://")
                .is_some_and(|rest| !rest.is_empty());
            if !(https || loopback) || url.contains(char::is_whitespace) {
                return Err(invalid(
                    "survey.url",
                    "an https:// URL (http:// only for loopback)",
                ));
            }
            self.validate_template(url, "survey.url", true)?;
            if let Some(message) = &survey.message {
                self.validate_template(message, "survey.message", false)?;
            }
        }
        Ok(())
    }
}

/// Whether two listings of a member agree on everything routing uses (all but the name).
fn same_member(a: &Member, b: &Member) -> bool {
    a.kind == b.kind
        && a.capacity == b.capacity
        && a.capacity_profile == b.capacity_profile
        && a.units == b.units
        && a.max == b.max
        && a.skills == b.skills
}

fn validate_permission(p: &AttachmentPermission, path: &str) -> Result {
    for (i, m) in p.mime_types.iter().enumerate() {
        if !is_valid_mime_pattern(m) {
            return Err(invalid(
                format!("{path}.mime_types[{i}]"),
                "a MIME type such as `image/png` or `image/*`",
            ));
        }
    }
    for (i, e) in p.extensions.iter().enumerate() {
        let ext = e.strip_prefix('.').unwrap_or(e);
        if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(
                format!("{path}.extensions[{i}]"),
                "a file extension such as `.pdf`",
            ));
        }
    }
    Ok(())
}
