//! [`ActivityError`]: why bytes are not an activity.

use serde::de::{DeserializeOwned, IgnoredAny};

/// Why bytes could not be read as an [`Activity`](super::Activity). Messages never contain the payload's
/// values (bodies carry personal data), only positions and field names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivityError {
    /// The bytes are not JSON (or are truncated).
    #[error("not valid JSON at line {line} column {column}: {reason}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        reason: String,
    },
    /// The JSON is valid but not an object.
    #[error("an activity must be a JSON object")]
    NotAnObject,
    /// A required field is absent.
    #[error("missing required field `{field}`")]
    MissingField {
        /// The field's JSON name.
        field: String,
    },
    /// A known field has the wrong JSON type or an invalid value.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// Dotted path of the field (`from.id`, `attachments.0.contentType`).
        field: String,
        /// What was expected, without the value itself.
        reason: String,
    },
}

impl ActivityError {
    /// The dotted path of the field at fault, if the error concerns one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingField { field } | Self::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Works out a precise error for bytes that failed to parse (slow path only).
    /// `T` is the type that was being read (an [`Activity`](super::Activity), an activity list).
    pub(crate) fn diagnose_as<T: DeserializeOwned>(
        bytes: &[u8],
        first: &serde_json::Error,
    ) -> Self {
        if first.is_syntax() || first.is_eof() {
            return Self::Syntax {
                line: first.line(),
                column: first.column(),
                reason: scrub(&first.to_string()),
            };
        }
        // Valid JSON? Then find out whether it is an object.
        match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => {}
            Err(e) => {
                return Self::Syntax {
                    line: e.line(),
                    column: e.column(),
                    reason: scrub(&e.to_string()),
                };
            }
        }
        let trimmed = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if trimmed != Some(&b'{') {
            return Self::NotAnObject;
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(_) => Self::InvalidField {
                field: String::new(),
                reason: scrub(&first.to_string()),
            },
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let msg = inner.to_string();
                if let Some(field) = missing_field_name(&msg) {
                    let field = if path == "." || path.is_empty() {
                        field.to_owned()
                    } else {
                        format!("{path}.{field}")
                    };
                    return Self::MissingField { field };
                }
                Self::InvalidField {
                    field: if path == "." { String::new() } else { path },
                    reason: scrub(&msg),
                }
            }
        }
    }
}

fn missing_field_name(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Removes quoted values (`"..."` and `` `...` ``) and the trailing position from a serde
/// message, so that no payload content leaks into errors or logs.
fn scrub(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let mut out = String::with_capacity(msg.len());
    let mut in_quote: Option<char> = None;
    for c in msg.chars() {
        match in_quote {
            Some(q) if c == q => {
                in_quote = None;
                out.push('…');
            }
            Some(_) => {}
            None if c == '"' || c == '`' => in_quote = Some(c),
            None => out.push(c),
        }
    }
    out
}
