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
        self.0.format_with_items(RFC3339.iter()).fmt(f)
    }
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
            write!(out, r#","statusCode":{c}"#).ok()?;
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
        if let Some(t) = &self.updated_on {
            write!(out, r#","updatedOn":"{t}""#).ok()?;
        }
        if let Some(n) = self.message_parts_count {
            write!(out, r#","messagePartsCount":{n}"#).ok()?;
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
    s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}
