//! Context variables: the typed values routing rules look at.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The value of one context variable: text, a number or a boolean.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ContextScalar {
    /// Text.
    String(String),
    /// A number (JSON numbers are `f64`).
    Number(f64),
    /// A boolean.
    Bool(bool),
}

impl ContextScalar {
    /// The text, when this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when this is a number.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, when this is a boolean.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The type's name: `string`, `number` or `bool`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Number(_) => "number",
            Self::Bool(_) => "bool",
        }
    }
}

impl fmt::Display for ContextScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => f.write_str(s),
            Self::Number(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl<'de> Deserialize<'de> for ContextScalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Bool(bool),
            Number(f64),
            String(String),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Bool(b) => Self::Bool(b),
            Wire::Number(n) => Self::Number(n),
            Wire::String(s) => Self::String(s),
        })
    }
}

impl From<&str> for ContextScalar {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for ContextScalar {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<f64> for ContextScalar {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<i64> for ContextScalar {
    fn from(value: i64) -> Self {
        // Context numbers are JSON numbers; beyond 2^53 precision is lost, as in JSON.
        #[allow(clippy::cast_precision_loss)]
        Self::Number(value as f64)
    }
}

impl From<bool> for ContextScalar {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// One context variable as Omnichannel carries it: a value and whether a human agent sees it.
///
/// Serializes as `{"value": ..., "isDisplayable": ...}`. Deserializes from that shape or from
/// a bare value (`"CreditCard"`, `42`, `true`), which is how a bot's escalation context and
/// most custom events carry it; a bare value is not displayable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContextValue {
    /// The value.
    pub value: ContextScalar,
    /// `isDisplayable`: shown to the human agent.
    #[serde(rename = "isDisplayable")]
    pub is_displayable: bool,
}

impl ContextValue {
    /// A value hidden from the agent.
    #[must_use]
    pub fn new(value: impl Into<ContextScalar>) -> Self {
        Self {
            value: value.into(),
            is_displayable: false,
        }
    }

    /// A value shown to the agent.
    #[must_use]
    pub fn displayable(value: impl Into<ContextScalar>) -> Self {
        Self {
            value: value.into(),
            is_displayable: true,
        }
    }

    /// Sets whether the agent sees it.
    #[must_use]
    pub fn with_displayable(mut self, is_displayable: bool) -> Self {
        self.is_displayable = is_displayable;
        self
    }
}

impl<'de> Deserialize<'de> for ContextValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            value: ContextScalar,
            #[serde(rename = "isDisplayable", alias = "is_displayable", default)]
            is_displayable: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Bare(ContextScalar),
            Full(Full),
        }
        match Wire::deserialize(deserializer) {
            Ok(Wire::Bare(value)) => Ok(Self::new(value)),
            Ok(Wire::Full(full)) => Ok(Self {
                value: full.value,
                is_displayable: full.is_displayable,
            }),
            Err(_) => Err(serde::de::Error::custom(
                "a context variable is a string, number, bool or {\"value\": ..., \"isDisplayable\": bool}",
            )),
        }
    }
}

impl<T: Into<ContextScalar>> From<T> for ContextValue {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}
