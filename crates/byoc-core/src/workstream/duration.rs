//! Durations in workstream files: `"90s"`, `"20m"`, `"8h"`, `"30d"`, `"1h30m"`, and `"never"`
//! (kept as [`NEVER`]).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// `"never"`: the largest duration, which no idle time reaches.
pub(crate) const NEVER: Duration = Duration::from_secs(u64::MAX);

/// Parses `<number><unit>` groups, units `s`, `m`, `h`, `d`; `None` when malformed, empty or
/// overflowing.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text == "never" {
        return Some(NEVER);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None; // trailing number without a unit
    }
    Some(Duration::from_secs(total))
}

/// Writes a duration in the largest unit that divides it.
pub(crate) fn format(d: Duration) -> String {
    if d == NEVER {
        return "never".to_owned();
    }
    let s = d.as_secs();
    if s != 0 && s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s != 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s != 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

const EXPECTED: &str = "a duration such as \"90s\", \"20m\", \"8h\", \"30d\" or \"never\"";

pub(crate) fn deserialize_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    match text {
        None => Ok(None),
        Some(t) => parse(&t)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {EXPECTED}"))),
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("expected {EXPECTED}")))
}

pub(crate) fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*value))
}

pub(crate) fn deserialize_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Duration>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|t| parse(t).ok_or_else(|| serde::de::Error::custom(format!("expected {EXPECTED}"))))
        .collect()
}

pub(crate) fn serialize_list<S: Serializer>(
    value: &[Duration],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(value.iter().map(|d| format(*d)))
}

pub(crate) fn serialize_opt<S: Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => serializer.serialize_str(&format(*d)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_groups() {
        for (text, secs) in [
            ("90s", 90),
            ("20m", 1200),
            ("8h", 28_800),
            ("30d", 2_592_000),
            ("1h30m", 5400),
            ("never", u64::MAX),
            (" 0s ", 0),
        ] {
            assert_eq!(parse(text), Some(Duration::from_secs(secs)), "{text}");
        }
        for bad in ["", "8", "h", "8x", "-1h", "1.5h", "99999999999999999999d"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_in_largest_unit() {
        assert_eq!(format(Duration::from_secs(28_800)), "8h");
        assert_eq!(format(Duration::from_secs(86_400)), "1d");
        assert_eq!(format(Duration::from_secs(5400)), "90m");
        assert_eq!(format(Duration::from_secs(61)), "61s");
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(NEVER), "never");
        for d in [1u64, 60, 3600, 86_400, 5400, 61, u64::MAX] {
            let d = Duration::from_secs(d);
            assert_eq!(parse(&format(d)), Some(d));
        }
    }
}
