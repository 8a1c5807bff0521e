//! [`Timestamp`]: an RFC 3339 date-time that keeps its original text (offset and precision).

use std::fmt;

use bytestring::ByteString;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 8601 / RFC 3339 timestamp as the Activity schema carries it.
///
/// The original text is kept, so `2016-10-19T13:17:52.2891902-07:00` goes back out with its
/// seven fractional digits and its `-07:00` offset; [`Timestamp::to_datetime`] gives the
/// parsed instant.
#[derive(Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: ByteString,
    parsed: DateTime<FixedOffset>,
}

impl Timestamp {
    /// Parses RFC 3339 text.
    ///
    /// # Errors
    /// When `text` is not an RFC 3339 date-time.
    pub fn parse(text: &str) -> Result<Self, chrono::ParseError> {
        let parsed = parse_rfc3339(text)?;
        Ok(Self {
            text: ByteString::from(text),
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
        let text = match millis_z(&at) {
            Some(text) => text,
            None => at.to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        Self {
            text: ByteString::from(text),
            parsed: at.fixed_offset(),
        }
    }

    /// An instant with its offset, written with that offset (for `localTimestamp`).
    #[must_use]
    pub fn from_fixed(at: DateTime<FixedOffset>) -> Self {
        Self {
            text: ByteString::from(at.to_rfc3339_opts(SecondsFormat::AutoSi, false)),
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
        fn invalid<E: serde::de::Error>(e: &chrono::ParseError) -> E {
            E::custom(format_args!("not an RFC 3339 date-time ({e})"))
        }
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Timestamp, E> {
                // Inside `Activity::from_bytes` the text stays a slice of the input buffer.
                let parsed = parse_rfc3339(v).map_err(|e| invalid(&e))?;
                Ok(Timestamp {
                    text: super::raw::source::share(v),
                    parsed,
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(|e| invalid(&e))
            }
        }
        d.deserialize_str(V)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` written directly (what chrono's `to_rfc3339_opts(Millis,
/// true)` writes, at a fraction of its cost: adapters stamp every message); `None` for years
/// outside 0..=9999 and leap seconds, which chrono writes.
fn millis_z(at: &DateTime<Utc>) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            // `n % 10` is a digit.
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, at.month());
    put(8, 2, at.day());
    put(11, 2, at.hour());
    put(14, 2, at.minute());
    put(17, 2, at.second());
    put(20, 3, nanos / 1_000_000);
    String::from_utf8(b.to_vec()).ok()
}

/// A timestamp from its text and that text kept (for `activity::fast`); `None` when the text
/// is not RFC 3339.
pub(super) fn from_parts(text: &str, kept: ByteString) -> Option<Timestamp> {
    let parsed = parse_rfc3339(text).ok()?;
    Some(Timestamp { text: kept, parsed })
}

/// RFC 3339 parsing with a fast path for the common `YYYY-MM-DDTHH:MM:SS[.f]{Z|±HH:MM}` form;
/// anything else goes to chrono's parser, so both accept exactly the same inputs.
fn parse_rfc3339(text: &str) -> Result<DateTime<FixedOffset>, chrono::ParseError> {
    match fast_rfc3339(text.as_bytes()) {
        Some(at) => Ok(at),
        None => DateTime::parse_from_rfc3339(text),
    }
}

fn fast_rfc3339(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    fn num(b: &[u8]) -> Option<u32> {
        let mut n = 0u32;
        for &c in b {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    }
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = i32::try_from(num(&b[0..4])?).ok()?;
    let (month, day) = (num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if second > 59 {
        return None; // leap seconds: chrono's parser handles them
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let secs = i32::try_from(num(&[*h1, *h2])? * 3600 + num(&[*m1, *m2])? * 60).ok()?;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let naive =
        NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    FixedOffset::east_opt(offset_secs)?
        .from_local_datetime(&naive)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for t in [
            "2016-10-19T20:17:52.2891902Z",
            "2016-10-19T13:17:52.2891902-07:00",
            "2024-03-11T09:15:40.88Z",
            "2024-03-11T09:15:40Z",
            "2024-03-11T09:15:40.123456789123+05:30",
            "2024-02-29T23:59:59.5+01:00",
            "2024-12-31T00:00:00-00:00",
        ] {
            assert_eq!(
                fast_rfc3339(t.as_bytes()),
                DateTime::parse_from_rfc3339(t).ok(),
                "{t}"
            );
            assert!(
                fast_rfc3339(t.as_bytes()).is_some(),
                "{t} takes the fast path"
            );
        }
        for t in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+5:30",
            "yesterday",
            "2024-01-01 00:00:00Z",
            "2016-12-31T23:59:60Z",
            "",
        ] {
            assert_eq!(
                parse_rfc3339(t).ok(),
                DateTime::parse_from_rfc3339(t).ok(),
                "{t}"
            );
        }
    }

    #[test]
    fn utc_text_is_what_chrono_writes() {
        for ms in [
            0i64,
            1,
            999,
            1_714_668_302_918,
            -1,
            -62_135_596_800_000,
            253_402_300_799_999,
            253_402_300_800_000,
            -62_135_596_800_001,
        ] {
            let at = DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                Timestamp::from_utc(at).as_str(),
                at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{ms}"
            );
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1500)
            .unwrap()
            .and_utc();
        assert_eq!(
            Timestamp::from_utc(leap).as_str(),
            leap.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
    }

    #[test]
    fn keeps_text_and_instant() {
        let t = Timestamp::parse("2016-10-19T13:17:52.2891902-07:00").unwrap();
        assert_eq!(t.as_str(), "2016-10-19T13:17:52.2891902-07:00");
        assert_eq!(
            t.to_utc().to_rfc3339(),
            "2016-10-19T20:17:52.289190200+00:00"
        );
        let now = Timestamp::now();
        assert!(now.as_str().ends_with('Z'));
    }
}
