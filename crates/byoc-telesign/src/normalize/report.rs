//! The `value` of a delivery-report event, written from borrowed parts straight into one
//! string: the JSON `serde_json` writes for a [`DeliveryReport`](super::DeliveryReport).

use std::fmt::{self, Write as _};

use byoc_core::RawJson;
use byoc_core::activity::ByteString;
use chrono::format::{Fixed, Item};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::codes::DeliveryState;

const RFC3339: &[Item<'static>] = &[Item::Fixed(Fixed::RFC3339)];

/// An instant written as `DateTime::to_rfc3339` writes it, without a `String` of its own.
#[derive(Clone, Copy)]
pub(super) struct Rfc3339(pub(super) DateTime<Utc>);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 35];
        match write_utc(self.0, Fraction::Auto, "+00:00", &mut buf) {
            Some(text) => f.write_str(text),
            None => self.0.format_with_items(RFC3339.iter()).fmt(f),
        }
    }
}

/// How [`write_utc`] writes fractional seconds.
#[derive(Clone, Copy)]
pub(super) enum Fraction {
    /// As chrono's `SecondsFormat::AutoSi`: none, 3, 6 or 9 digits, the fewest that are
    /// exact.
    Auto,
    /// As chrono's `SecondsFormat::Millis`: always 3 digits, truncated.
    Millis,
}

/// `at` as RFC 3339 text ending in `zone`, written into `buf` as chrono writes it; `None`
/// (chrono then writes it) for a year outside 0..=9999 or a leap second.
pub(super) fn write_utc<'b>(
    at: DateTime<Utc>,
    fraction: Fraction,
    zone: &str,
    buf: &'b mut [u8; 35],
) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    fn put(buf: &mut [u8], at: usize, mut n: u32, digits: usize) {
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    put(buf, 0, year, 4);
    buf[4] = b'-';
    put(buf, 5, at.month(), 2);
    buf[7] = b'-';
    put(buf, 8, at.day(), 2);
    buf[10] = b'T';
    put(buf, 11, at.hour(), 2);
    buf[13] = b':';
    put(buf, 14, at.minute(), 2);
    buf[16] = b':';
    put(buf, 17, at.second(), 2);
    let mut len = 19;
    let (value, digits) = match fraction {
        Fraction::Millis => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos == 0 => (0, 0),
        Fraction::Auto if nanos.is_multiple_of(1_000_000) => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos.is_multiple_of(1_000) => (nanos / 1_000, 6),
        Fraction::Auto => (nanos, 9),
    };
    if digits > 0 {
        buf[len] = b'.';
        put(buf, len + 1, value, digits);
        len += 1 + digits;
    }
    buf.get_mut(len..len + zone.len())?
        .copy_from_slice(zone.as_bytes());
    len += zone.len();
    std::str::from_utf8(&buf[..len]).ok()
}

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `additional_info.message_parts_reference_ids`: split on commas, trimmed, empty parts
/// dropped; read without building a vector.
#[derive(Clone, Copy, Default)]
pub(super) struct PartIds<'a>(pub(super) &'a str);

impl<'a> PartIds<'a> {
    fn iter(self) -> impl Iterator<Item = &'a str> {
        self.0.split(',').map(str::trim).filter(|p| !p.is_empty())
    }

    fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl Serialize for PartIds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// [`DeliveryReport`](super::DeliveryReport) over borrowed parts: the same fields, order and
/// attributes, so the same JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeliveryReportOut<'a> {
    pub(super) reference_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) status_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<&'a str>,
    pub(super) state: DeliveryState,
    pub(super) is_final: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) success: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) updated_on: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) message_parts_count: Option<u32>,
    #[serde(skip_serializing_if = "PartIds::is_empty")]
    pub(super) message_parts_reference_ids: PartIds<'a>,
}

impl DeliveryReportOut<'_> {
    /// The report as raw JSON: written directly, or through `serde_json` when a string
    /// needs escaping.
    pub(super) fn to_raw(&self) -> Option<RawJson> {
        self.write().or_else(|| RawJson::from_serialize(self).ok())
    }

    /// `None` when a string needs escaping.
    pub(super) fn write(&self) -> Option<RawJson> {
        let strings = [
            self.reference_id,
            self.external_id.unwrap_or(""),
            self.description.unwrap_or(""),
            self.message_parts_reference_ids.0,
        ];
        if !strings.iter().all(|s| is_plain(s)) {
            return None;
        }
        let mut out = String::with_capacity(200 + strings.iter().map(|s| s.len()).sum::<usize>());
        out.push_str(r#"{"referenceId":""#);
        out.push_str(self.reference_id);
        out.push('"');
        if let Some(e) = self.external_id {
            out.push_str(r#","externalId":""#);
            out.push_str(e);
            out.push('"');
        }
        if let Some(c) = self.status_code {
            out.push_str(r#","statusCode":"#);
            push_int(&mut out, c);
        }
        if let Some(d) = self.description {
            out.push_str(r#","description":""#);
            out.push_str(d);
            out.push('"');
        }
        out.push_str(r#","state":"#);
        out.push_str(state_json(self.state));
        out.push_str(if self.is_final {
            r#","isFinal":true"#
        } else {
            r#","isFinal":false"#
        });
        match self.success {
            Some(true) => out.push_str(r#","success":true"#),
            Some(false) => out.push_str(r#","success":false"#),
            None => {}
        }
        if let Some(t) = self.updated_on {
            let mut buf = [0u8; 35];
            out.push_str(r#","updatedOn":""#);
            match write_utc(t.0, Fraction::Auto, "+00:00", &mut buf) {
                Some(text) => out.push_str(text),
                None => write!(out, "{t}").ok()?,
            }
            out.push('"');
        }
        if let Some(n) = self.message_parts_count {
            out.push_str(r#","messagePartsCount":"#);
            push_int(&mut out, i64::from(n));
        }
        if !self.message_parts_reference_ids.is_empty() {
            out.push_str(r#","messagePartsReferenceIds":["#);
            for (i, p) in self.message_parts_reference_ids.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(p);
                out.push('"');
            }
            out.push(']');
        }
        out.push('}');
        Some(RawJson::from_trusted_text(ByteString::from(out)))
    }
}

/// Appends `n` in decimal (as `serde_json` and `Display` write it), without the formatting
/// machinery.
pub(super) fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &d in &buf[at..] {
        out.push(char::from(d));
    }
}

/// A [`DeliveryState`] as `serde_json` writes it.
pub(super) fn state_json(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => r#""pending""#,
        DeliveryState::Delivered => r#""delivered""#,
        DeliveryState::Failed { retryable: true } => r#"{"failed":{"retryable":true}}"#,
        DeliveryState::Failed { retryable: false } => r#"{"failed":{"retryable":false}}"#,
        DeliveryState::Unknown => r#""unknown""#,
    }
}

/// Whether `serde_json` writes `s` between quotes as it is (nothing to escape).
fn is_plain(s: &str) -> bool {
    // No early exit: the loop vectorizes.
    s.bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
}
