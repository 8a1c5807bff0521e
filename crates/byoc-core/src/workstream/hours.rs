//! Operating hours: a weekly schedule and holidays on the wall clock of a time zone.
//!
//! Whether hours are open at an instant is decided on the zone's wall clock at that instant
//! (`chrono-tz`, the IANA database), so a queue open 09:00–17:00 in `Europe/Paris` opens at
//! 08:00 UTC in winter and 07:00 UTC in summer. A range may run past midnight
//! (`"22:00-06:00"`: to 06:00 the next day). On the day clocks spring forward, wall-clock
//! times in the skipped hour never occur, so a range starting inside it opens when the clock
//! jumps past its start; on the day they fall back, the repeated hour is open or closed each
//! time it passes, as its wall-clock time says. A holiday governs its whole local date: its
//! own ranges (none: closed all day) replace the weekday's, and the previous day's overnight
//! range does not run into it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Offset, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A named set of operating hours; queues refer to it by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OperatingHours {
    /// Its name (`queues[].operating_hours` and `open` conditions use it).
    pub name: String,
    /// The IANA time zone its times are in (`Europe/Paris`).
    pub time_zone: TimeZone,
    /// Open ranges on Mondays (`["09:00-12:00", "13:00-17:00"]`); a day left out is closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monday: Vec<TimeRange>,
    /// Tuesdays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tuesday: Vec<TimeRange>,
    /// Wednesdays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wednesday: Vec<TimeRange>,
    /// Thursdays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thursday: Vec<TimeRange>,
    /// Fridays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub friday: Vec<TimeRange>,
    /// Saturdays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saturday: Vec<TimeRange>,
    /// Sundays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sunday: Vec<TimeRange>,
    /// Dates with their own hours (closed all day when a holiday lists none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<Holiday>,
}

impl OperatingHours {
    /// Hours in `time_zone`, closed every day until ranges are added.
    #[must_use]
    pub fn new(name: impl Into<String>, time_zone: TimeZone) -> Self {
        Self {
            name: name.into(),
            time_zone,
            monday: Vec::new(),
            tuesday: Vec::new(),
            wednesday: Vec::new(),
            thursday: Vec::new(),
            friday: Vec::new(),
            saturday: Vec::new(),
            sunday: Vec::new(),
            holidays: Vec::new(),
        }
    }

    /// The ranges of each weekday, Monday first, with their field names.
    #[must_use]
    pub fn days(&self) -> [(&'static str, &[TimeRange]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }

    /// Whether the hours are open at `at`.
    #[must_use]
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        Schedule::new(self).window(at.timestamp()).open
    }

    /// The first instant after `at` at which the hours open or close; `None` when they do
    /// not change within about two years.
    #[must_use]
    pub fn next_change_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Schedule::new(self)
            .next_change(at.timestamp())
            .and_then(|s| DateTime::from_timestamp(s, 0))
    }
}

/// An IANA time zone, written by name (`"Europe/Paris"`, `"UTC"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

impl TimeZone {
    /// UTC.
    pub const UTC: Self = Self(Tz::UTC);

    /// Its IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The `chrono-tz` zone.
    #[must_use]
    pub fn tz(self) -> Tz {
        self.0
    }
}

impl From<Tz> for TimeZone {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl FromStr for TimeZone {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<Tz>()
            .map(Self)
            .map_err(|_| "unknown time zone; expected an IANA name such as \"Europe/Paris\"".into())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

const DAY: i64 = 86_400;

/// A range of wall-clock time, written `"09:00-17:00"`. An end at or before the start runs
/// past midnight (`"22:00-06:00"`); `"00:00-24:00"` is the whole day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// Minutes after midnight, `0..1440`.
    start: u16,
    /// Minutes after the start day's midnight, `start + 1 ..= start + 1440`; past 1440 when
    /// the range runs into the next day.
    end: u16,
}

impl TimeRange {
    /// From minutes after midnight; `end` at or before `start` runs into the next day.
    /// `None` when a value is out of range or the two are equal.
    #[must_use]
    pub fn new(start_minute: u16, end_minute: u16) -> Option<Self> {
        if start_minute >= 1440 || end_minute > 1440 || start_minute == end_minute {
            return None;
        }
        let end = if end_minute <= start_minute {
            end_minute + 1440
        } else {
            end_minute
        };
        Some(Self {
            start: start_minute,
            end,
        })
    }

    /// Whether it runs past midnight.
    #[must_use]
    pub fn is_overnight(self) -> bool {
        self.end > 1440
    }

    /// Seconds after the day's midnight: `[start, end)`.
    fn seconds(self) -> (i64, i64) {
        (i64::from(self.start) * 60, i64::from(self.end) * 60)
    }
}

fn parse_clock(text: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
        return None;
    }
    Some(h * 60 + m)
}

impl FromStr for TimeRange {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "expected a range such as \"09:00-17:00\" or \"22:00-06:00\"";
        let (a, b) = s.split_once('-').ok_or(EXPECTED)?;
        let start = parse_clock(a, false).ok_or(EXPECTED)?;
        let end = parse_clock(b, true).ok_or(EXPECTED)?;
        Self::new(start, end).ok_or("a range must not start and end at the same time")
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end > 1440 {
            self.end - 1440
        } else {
            self.end
        };
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            end / 60,
            end % 60
        )
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A date with its own hours: `{ date = "2025-12-25", name = "Christmas" }` is closed all
/// day; `{ date = "2025-12-24", hours = ["09:00-12:00"] }` opens for the morning. Its ranges
/// stay within the date (none runs past midnight).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Holiday {
    /// The local date.
    pub date: NaiveDate,
    /// What it is, for people reading the file and the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Open ranges on that date; none = closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<TimeRange>,
}

impl Holiday {
    /// A date closed all day.
    #[must_use]
    pub fn closed(date: NaiveDate) -> Self {
        Self {
            date,
            name: None,
            hours: Vec::new(),
        }
    }
}

/// Operating hours prepared for evaluation: ranges in seconds per weekday, holidays by day
/// number.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    tz: Tz,
    /// Monday first; `[start, end)` in seconds after the day's midnight (end past a day for
    /// overnight ranges).
    days: [Vec<(i64, i64)>; 7],
    /// (days since 1970-01-01, ranges), sorted by day.
    holidays: Vec<(i64, Vec<(i64, i64)>)>,
}

/// Whether hours are open, and until when (seconds since the epoch, UTC) that stays so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) open: bool,
    pub(crate) from: i64,
    pub(crate) until: i64,
}

impl Window {
    /// Whether `t` falls in the window.
    #[inline]
    pub(crate) fn covers(self, t: i64) -> bool {
        self.from <= t && t < self.until
    }
}

fn day_number(date: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days()
}

impl Schedule {
    pub(crate) fn new(hours: &OperatingHours) -> Self {
        let seconds = |ranges: &[TimeRange]| ranges.iter().map(|r| r.seconds()).collect();
        let days = hours.days().map(|(_, ranges)| seconds(ranges));
        let mut holidays: Vec<(i64, Vec<(i64, i64)>)> = hours
            .holidays
            .iter()
            .map(|h| (day_number(h.date), seconds(&h.hours)))
            .collect();
        holidays.sort_by_key(|(d, _)| *d);
        Self {
            tz: hours.time_zone.tz(),
            days,
            holidays,
        }
    }

    /// The zone's offset from UTC at `t`, in seconds.
    fn offset(&self, t: i64) -> i64 {
        let naive = DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .naive_utc();
        i64::from(
            self.tz
                .offset_from_utc_datetime(&naive)
                .fix()
                .local_minus_utc(),
        )
    }

    fn holiday(&self, day: i64) -> Option<&[(i64, i64)]> {
        self.holidays
            .binary_search_by_key(&day, |(d, _)| *d)
            .ok()
            .map(|i| self.holidays[i].1.as_slice())
    }

    fn weekday(day: i64) -> usize {
        // 1970-01-01 was a Thursday (index 3, Monday first).
        (day + 3).rem_euclid(7) as usize
    }

    /// Open at local time `local` (seconds since the local epoch)?
    fn open_local(&self, local: i64) -> bool {
        let (day, s) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        if let Some(ranges) = self.holiday(day) {
            return ranges.iter().any(|&(a, b)| a <= s && s < b);
        }
        if self.days[Self::weekday(day)]
            .iter()
            .any(|&(a, b)| a <= s && s < b.min(DAY))
        {
            return true;
        }
        self.holiday(day - 1).is_none()
            && self.days[Self::weekday(day - 1)]
                .iter()
                .any(|&(_, b)| b > DAY && s < b - DAY)
    }

    /// The first local time after `local` at which openness may change: a range's start or
    /// end, or the next midnight.
    fn next_boundary(&self, local: i64) -> i64 {
        let day = local.div_euclid(DAY);
        let midnight = day * DAY;
        let mut next = midnight + DAY;
        let mut consider = |t: i64| {
            if t > local && t < next {
                next = t;
            }
        };
        let today = self.holiday(day).unwrap_or(&self.days[Self::weekday(day)]);
        for &(a, b) in today {
            consider(midnight + a);
            consider(midnight + b);
        }
        for &(_, b) in &self.days[Self::weekday(day - 1)] {
            if b > DAY {
                consider(midnight + b - DAY);
            }
        }
        next
    }

    /// Openness at `t` and the window of instants around it with the same openness and the
    /// same UTC offset (at most a day long).
    pub(crate) fn window(&self, t: i64) -> Window {
        let off = self.offset(t);
        let local = t + off;
        let open = self.open_local(local);
        let mut until = self.next_boundary(local) - off;
        if self.offset(until - 1) != off {
            // The offset changes before the boundary: end the window at the change.
            let (mut lo, mut hi) = (t, until - 1);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if self.offset(mid) == off {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            until = hi;
        }
        Window {
            open,
            from: t,
            until: until.max(t + 1),
        }
    }

    /// The first instant after `t` where openness differs from openness at `t`.
    pub(crate) fn next_change(&self, t: i64) -> Option<i64> {
        let first = self.window(t);
        let mut at = first.until;
        for _ in 0..4096 {
            let w = self.window(at);
            if w.open != first.open {
                return Some(at);
            }
            at = w.until;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> OperatingHours {
        let mut h = OperatingHours::new("Paris", "Europe/Paris".parse().unwrap());
        h.monday = vec!["09:00-17:00".parse().unwrap()];
        h.friday = vec!["22:00-06:00".parse().unwrap()];
        h
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_print() {
        for (text, printed, overnight) in [
            ("09:00-17:00", "09:00-17:00", false),
            ("22:00-06:00", "22:00-06:00", true),
            ("00:00-24:00", "00:00-24:00", false),
            ("23:30-00:00", "23:30-24:00", false),
        ] {
            let r: TimeRange = text.parse().unwrap();
            assert_eq!(r.to_string(), printed);
            assert_eq!(r.is_overnight(), overnight, "{text}");
        }
        for bad in [
            "9:00-17:00",
            "09:00",
            "24:00-01:00",
            "09:60-10:00",
            "10:00-10:00",
            "10:00-24:30",
        ] {
            assert!(bad.parse::<TimeRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_end_at_boundaries_and_offset_changes() {
        let s = Schedule::new(&paris());
        // Monday 2025-03-03, 10:00 Paris (09:00 UTC): open until 17:00 Paris.
        let w = s.window(utc("2025-03-03T09:00:00Z").timestamp());
        assert!(w.open);
        assert_eq!(w.until, utc("2025-03-03T16:00:00Z").timestamp());
        // Sunday 2025-03-30, 01:30 UTC: the clocks went forward at 01:00 UTC.
        let w = s.window(utc("2025-03-30T00:30:00Z").timestamp());
        assert!(!w.open);
        assert_eq!(w.until, utc("2025-03-30T01:00:00Z").timestamp());
    }

    #[test]
    fn next_change_walks_over_closed_days() {
        let h = paris();
        // Tuesday noon → next opening is Friday 22:00 Paris.
        assert_eq!(
            h.next_change_after(utc("2025-03-04T11:00:00Z")),
            Some(utc("2025-03-07T21:00:00Z"))
        );
        let closed = OperatingHours::new("Never", TimeZone::UTC);
        assert_eq!(closed.next_change_after(utc("2025-03-04T11:00:00Z")), None);
    }
}
