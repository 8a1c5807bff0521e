//! [`Timestamp`]: an RFC 3339 date-time that keeps its original text (offset and precision).

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 8601 / RFC 3339 timestamp as the Activity schema carries it.
///
/// The original text is kept, so `2016-10-19T13:17:52.2891902-07:00` goes back out with its
/// seven fractional digits and its `-07:00` offset; [`Timestamp::to_datetime`] gives the
/// parsed instant.
#[derive(Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    parsed: DateTime<FixedOffset>,
}

impl Timestamp {
    /// Parses RFC 3339 text.
    ///
    /// # Errors
    /// When `text` is not an RFC 3339 date-time.
    pub fn parse(text: &str) -> Result<Self, chrono::ParseError> {
        let parsed = DateTime::parse_from_rfc3339(text)?;
        Ok(Self {
            text: text.to_owned(),
            parsed,
        })
    }

    /// The current time in UTC, written with `Z` and millisecond precision (A2043).
    #[must_use]
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// A UTC instant, written with `Z`.
    #[must_use]
    pub fn from_utc(at: DateTime<Utc>) -> Self {
        Self {
            text: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            parsed: at.fixed_offset(),
        }
    }

    /// An instant with its offset, written with that offset (for `localTimestamp`).
    #[must_use]
    pub fn from_fixed(at: DateTime<FixedOffset>) -> Self {
        Self {
            text: at.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            parsed: at,
        }
    }

    /// The instant with the offset it was written with.
    #[must_use]
    pub fn to_datetime(&self) -> DateTime<FixedOffset> {
        self.parsed
    }

    /// The instant in UTC.
    #[must_use]
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.parsed.with_timezone(&Utc)
    }

    /// The original text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_utc(at)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v)
                    .map_err(|e| E::custom(format_args!("not an RFC 3339 date-time ({e})")))
            }
        }
        d.deserialize_str(V)
    }
}
