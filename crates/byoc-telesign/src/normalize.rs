//! Callback bodies → [`Activity`]: inbound SMS (`sub_resource` `mo_sms`) become `message`
//! activities, delivery reports become `event` activities carrying a [`DeliveryReport`],
//! anything else an `event` keeping the raw callback. Pure; lenient where TeleSign is
//! inconsistent (codes as numbers or strings, RFC 3339 or RFC 1123 dates, counts as
//! numbers or strings; `docs/protocols/telesign.md#callbacks`).

use byoc_core::activity::{ByteString, RoleType};
use byoc_core::{Activity, ChannelAccount, ConversationAccount, RawJson, Timestamp};
use bytes::Bytes;
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::codes::DeliveryState;
use crate::error::NormalizeError;

mod report;
use report::{DeliveryReportOut, PartIds, Rfc3339};

/// The `channelId` of every TeleSign activity.
pub const CHANNEL_ID: &str = "telesign";
/// `name` of delivery-report events.
pub const EVENT_DELIVERY_REPORT: &str = "telesign.deliveryReport";
/// `name` of events made from callbacks of another kind.
pub const EVENT_CALLBACK: &str = "telesign.callback";
/// `sub_resource` of inbound SMS.
pub(crate) const SUB_RESOURCE_MO: &str = "mo_sms";
/// `sub_resource` of SMS delivery reports.
pub(crate) const SUB_RESOURCE_SMS: &str = "sms";

/// A delivery report, as carried in the `value` of a [`EVENT_DELIVERY_REPORT`] event
/// (camelCase JSON); read it with `activity.value_as::<DeliveryReport>()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryReport {
    /// The reference id of the message reported on (from the send response).
    pub reference_id: String,
    /// Your `external_id`, if the message had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `status.code`, when a number (int or numeric string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    /// `status.description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the code means.
    pub state: DeliveryState,
    /// Whether no further report will follow.
    pub is_final: bool,
    /// `Some(true)` delivered, `Some(false)` failed, `None` pending or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// `status.updated_on`, as RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    /// `additional_info.message_parts_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_parts_count: Option<u32>,
    /// `additional_info.message_parts_reference_ids`, split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_parts_reference_ids: Vec<String>,
}

/// The conversation id of a customer number and our number: stable for the pair.
#[must_use]
pub fn conversation_id(customer: &str, ours: &str) -> String {
    let mut id = String::with_capacity(customer.len() + 1 + ours.len());
    id.push_str(customer);
    id.push(':');
    id.push_str(ours);
    id
}

// Borrowed from the body: strings without escapes cost no allocation; unknown fields are
// skipped without being built.
#[derive(Deserialize)]
struct Callback<'a> {
    #[serde(default, borrow)]
    reference_id: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    external_id: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    sub_resource: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    submit_timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    status: Option<Status<'a>>,
    #[serde(default, borrow)]
    user_response: Option<UserResponse<'a>>,
    #[serde(default, borrow)]
    additional_info: Option<AdditionalInfo<'a>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(default, borrow)]
    code: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    updated_on: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UserResponse<'a> {
    #[serde(default, borrow)]
    phone_number: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    sender_id: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    mo_message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AdditionalInfo<'a> {
    #[serde(default, borrow)]
    message_parts_count: Option<Lenient<'a>>,
    #[serde(default, borrow)]
    message_parts_reference_ids: Option<Cow<'a, str>>,
}

/// A number or a string (TeleSign writes both for the same field): an integer that fits
/// `i64`, or a string; anything else is an error.
enum Lenient<'a> {
    Int(i64),
    Str(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Lenient<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Lenient::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Lenient::Int)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'a> Lenient<'a> {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Str(s) => s.trim().parse().ok(),
        }
    }

    fn into_cow(self) -> Cow<'a, str> {
        match self {
            Self::Int(i) => Cow::Owned(i.to_string()),
            Self::Str(s) => s,
        }
    }

    fn into_string(self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Str(s) => s.into_owned(),
        }
    }
}

/// Parses an RFC 3339 or RFC 1123 date; `None` for anything else (never an error: a bad
/// date must not lose a message).
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = Timestamp::parse(text) {
        return Some(t);
    }
    fast_rfc1123(text)
        .or_else(|| {
            chrono::DateTime::parse_from_rfc2822(text)
                .ok()
                .map(|d| d.to_utc())
        })
        .map(timestamp_utc)
}

/// `Timestamp::from_utc(at)`, its text written without chrono's formatter when it can.
fn timestamp_utc(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
    let mut buf = [0u8; 35];
    report::write_utc(at, report::Fraction::Millis, "Z", &mut buf)
        .and_then(|text| Timestamp::parse(text).ok())
        .filter(|t| t.to_utc() == at)
        .unwrap_or_else(|| Timestamp::from_utc(at))
}

/// `Www, DD Mon YYYY HH:MM:SS GMT`, the RFC 1123 form TeleSign writes, read without
/// chrono's general RFC 2822 parser; `None` for anything else (including a weekday that
/// does not match the date), which chrono's parser then decides.
fn fast_rfc1123(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    fn num(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    }
    use chrono::Datelike;
    let b = text.as_bytes();
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let weekday = DAYS.iter().position(|d| *d == &b[..3])?;
    let month = MONTHS.iter().position(|m| *m == &b[8..11])?;
    let year = i32::try_from(num(&b[12..16])?).ok()?;
    let date =
        chrono::NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()? + 1, num(&b[5..7])?)?;
    if usize::try_from(date.weekday().num_days_from_monday()).ok()? != weekday {
        return None;
    }
    let time = date.and_hms_opt(num(&b[17..19])?, num(&b[20..22])?, num(&b[23..25])?)?;
    Some(time.and_utc())
}

fn non_empty(v: Option<Lenient<'_>>) -> Option<String> {
    v.map(Lenient::into_string).filter(|s| !s.trim().is_empty())
}

/// Normalizes one callback body into one activity.
///
/// The body is copied once into a shared buffer, which `channelData` then shares (the
/// adapter's `receive` passes its request body without that copy).
///
/// # Errors
/// [`NormalizeError::InvalidJson`] for a body that is not a JSON object or has a field of a
/// type TeleSign never sends; [`NormalizeError::MissingField`] when an inbound SMS lacks
/// `reference_id` or `user_response.phone_number`, or a delivery report lacks
/// `reference_id`.
pub fn normalize_callback(payload: &[u8]) -> Result<Activity, NormalizeError> {
    if !is_object(payload) {
        return Err(not_an_object());
    }
    normalize_callback_bytes(Bytes::copy_from_slice(payload))
}

/// As [`normalize_callback`], over a shared buffer (a request body): `channelData` is a
/// slice of `body` (no copy, no second validation).
///
/// # Errors
/// As [`normalize_callback`].
pub(crate) fn normalize_callback_bytes(body: Bytes) -> Result<Activity, NormalizeError> {
    // serde reads a struct from an array too; TeleSign only sends objects.
    if !is_object(&body) {
        return Err(not_an_object());
    }
    // One UTF-8 check here (the diagnosing path needs the bytes of a body that fails it).
    if std::str::from_utf8(&body).is_err() {
        return Err(diagnose(&body));
    }
    let Ok(text) = ByteString::try_from(body) else {
        return Err(NormalizeError::InvalidJson {
            field: None,
            reason: "not UTF-8 JSON".into(),
        });
    };
    // Fast path: one typed pass, borrowing from the text. Any failure takes the diagnosing
    // path, which names the field at fault.
    let cb = match serde_json::from_str::<Callback<'_>>(&text) {
        Ok(cb) => cb,
        Err(_) => return Err(diagnose(text.as_bytes())),
    };
    // serde_json checked the whole text (skipped fields too, and nothing after the
    // object): it is kept as `channelData` as it is, a slice of the body.
    let raw = RawJson::from_trusted_text(text.clone());
    // Built in place and moved once (an `Activity` is large).
    let mut a = Activity::default();
    match cb.sub_resource.as_deref() {
        Some(SUB_RESOURCE_MO) => mo(cb, raw, &mut a)?,
        Some(SUB_RESOURCE_SMS) => dlr(cb, raw, &mut a)?,
        // Older delivery reports carry no `sub_resource`.
        None if cb.status.is_some() && cb.reference_id.is_some() && cb.user_response.is_none() => {
            dlr(cb, raw, &mut a)?;
        }
        _ => other(cb, raw, &mut a),
    }
    Ok(a)
}

fn is_object(payload: &[u8]) -> bool {
    payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn not_an_object() -> NormalizeError {
    NormalizeError::InvalidJson {
        field: None,
        reason: "not a JSON object".into(),
    }
}

/// The error of a body the fast path refused: the field at fault (through
/// `serde_path_to_error`), or a body that is not UTF-8 JSON.
fn diagnose(payload: &[u8]) -> NormalizeError {
    let de = &mut serde_json::Deserializer::from_slice(payload);
    if let Err(e) = serde_path_to_error::deserialize::<_, Callback<'_>>(de) {
        let path = e.path().to_string();
        return NormalizeError::InvalidJson {
            field: (path != "." && !path.is_empty()).then_some(path),
            reason: redact_reason(&e.into_inner()),
        };
    }
    NormalizeError::InvalidJson {
        field: None,
        reason: "not UTF-8 JSON".into(),
    }
}

/// serde_json's messages name types and positions, but an "invalid value" message quotes
/// the value: keep only the part before it.
fn redact_reason(e: &serde_json::Error) -> String {
    let pos = format!("line {} column {}", e.line(), e.column());
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected type",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!("{kind} at {pos}")
}

fn base(a: &mut Activity, kind_event: Option<&str>, raw: RawJson) {
    match kind_event {
        Some(name) => {
            a.kind = byoc_core::ActivityType::Event;
            a.name = Some(name.to_owned());
        }
        None => a.kind = byoc_core::ActivityType::Message,
    }
    a.channel_id = Some(CHANNEL_ID.to_owned());
    a.channel_data = Some(raw);
}

fn mo(cb: Callback<'_>, raw: RawJson, a: &mut Activity) -> Result<(), NormalizeError> {
    let reference_id = non_empty(cb.reference_id).ok_or(NormalizeError::MissingField {
        field: "reference_id",
    })?;
    let ur = cb.user_response.ok_or(NormalizeError::MissingField {
        field: "user_response",
    })?;
    let customer = non_empty(ur.phone_number).ok_or(NormalizeError::MissingField {
        field: "user_response.phone_number",
    })?;
    let ours = non_empty(ur.sender_id).unwrap_or_default();
    base(a, None, raw);
    a.id = Some(reference_id);
    a.text = Some(ur.mo_message.map(Cow::into_owned).unwrap_or_default());
    a.conversation = Some(ConversationAccount::new(conversation_id(&customer, &ours)));
    // Filled in place (a `ChannelAccount` is not small).
    let from = a.from.insert(ChannelAccount::new(customer));
    from.role = Some(RoleType::User);
    if !ours.is_empty() {
        let recipient = a.recipient.insert(ChannelAccount::new(ours));
        recipient.role = Some(RoleType::Bot);
    }
    let status_time = cb.status.as_ref().and_then(|s| s.updated_on.as_deref());
    a.timestamp = cb
        .submit_timestamp
        .as_deref()
        .and_then(parse_time)
        .or_else(|| status_time.and_then(parse_time));
    Ok(())
}

fn dlr(cb: Callback<'_>, raw: RawJson, a: &mut Activity) -> Result<(), NormalizeError> {
    let reference_id = non_empty(cb.reference_id).ok_or(NormalizeError::MissingField {
        field: "reference_id",
    })?;
    let (code, description, updated_on) = match cb.status {
        Some(s) => (s.code.and_then(|c| c.as_i64()), s.description, s.updated_on),
        None => (None, None, None),
    };
    let state = code.map_or(DeliveryState::Unknown, DeliveryState::of_code);
    let updated = updated_on.as_deref().and_then(parse_time);
    let (parts, part_ids) = match &cb.additional_info {
        Some(i) => (
            i.message_parts_count
                .as_ref()
                .and_then(Lenient::as_i64)
                .and_then(|c| u32::try_from(c).ok()),
            PartIds(i.message_parts_reference_ids.as_deref().unwrap_or("")),
        ),
        None => (None, PartIds::default()),
    };
    let external_id = cb
        .external_id
        .map(Lenient::into_cow)
        .filter(|s| !s.trim().is_empty());
    // The `DeliveryReport`, written from borrowed parts.
    let report = DeliveryReportOut {
        reference_id: &reference_id,
        external_id: external_id.as_deref(),
        status_code: code,
        description: description.as_deref(),
        state,
        is_final: state.is_final(),
        success: match state {
            DeliveryState::Delivered => Some(true),
            DeliveryState::Failed { .. } => Some(false),
            _ => None,
        },
        updated_on: updated.as_ref().map(|t| Rfc3339(t.to_utc())),
        message_parts_count: parts,
        message_parts_reference_ids: part_ids,
    };
    base(a, Some(EVENT_DELIVERY_REPORT), raw);
    a.value = report.to_raw();
    a.id = Some(with_code(&reference_id, code));
    a.reply_to_id = Some(reference_id);
    a.timestamp = updated;
    Ok(())
}

/// `{reference_id}:{code}`, or the reference id alone.
fn with_code(reference_id: &str, code: Option<i64>) -> String {
    let mut id = String::with_capacity(reference_id.len() + 21);
    id.push_str(reference_id);
    if let Some(c) = code {
        id.push(':');
        report::push_int(&mut id, c);
    }
    id
}

fn other(cb: Callback<'_>, raw: RawJson, a: &mut Activity) {
    base(a, Some(EVENT_CALLBACK), raw);
    let code = cb
        .status
        .as_ref()
        .and_then(|s| s.code.as_ref())
        .and_then(Lenient::as_i64);
    a.id = non_empty(cb.reference_id).map(|r| match code {
        Some(_) => with_code(&r, code),
        None => r,
    });
    a.timestamp = cb
        .status
        .as_ref()
        .and_then(|s| s.updated_on.as_deref())
        .and_then(parse_time);
}

#[cfg(test)]
mod tests;
