//! Inbound payloads to canonical activities, without I/O.
//!
//! Bot Framework activities already are the canonical model, so normalizing is parsing
//! (losslessly) plus the checks a receiver owes the schema: `type` present, and, for the
//! bot's messaging endpoint, the fields a channel must send (`channelId`,
//! `conversation.id`, `serviceUrl`: `docs/protocols/bot-framework.md#activities`).

use byoc_core::{Activity, ActivityList, AdapterError, RawJson};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::NormalizeError;

/// A Direct Line `ActivitySet`: a page of activities and the watermark after them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ActivitySet {
    /// The activities, in order.
    pub activities: Vec<Activity>,
    /// The watermark after the last one; `None` when the service sent none (which must not
    /// overwrite a watermark already held).
    pub watermark: Option<String>,
}

#[derive(Deserialize)]
struct RawSet<'a> {
    #[serde(borrow)]
    activities: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    watermark: Option<&'a RawValue>,
}

/// Parses a Direct Line `ActivitySet` (`{"activities":[...],"watermark":"..."}`).
///
/// # Errors
/// [`NormalizeError`] naming the field at fault (`activities[3].from`, ...).
pub fn parse_activity_set(payload: &[u8]) -> Result<ActivitySet, NormalizeError> {
    parse_shared_set(&bytes::Bytes::copy_from_slice(payload))
}

/// As [`parse_activity_set`], each activity parsed from a slice of `payload` (opaque parts
/// stay slices of the shared buffer).
fn parse_shared_set(payload: &bytes::Bytes) -> Result<ActivitySet, NormalizeError> {
    // One pass over the whole set; on any error, the two-step reading below names the
    // activity and field at fault.
    if let Ok(list) = ActivityList::from_bytes(payload.clone())
        && let Some(activities) = list.activities
    {
        let watermark = list.extensions.get("watermark").and_then(watermark_text);
        return Ok(ActivitySet {
            activities,
            watermark,
        });
    }
    let raw: RawSet<'_> =
        serde_json::from_slice(payload).map_err(|e| not_json("an ActivitySet", &e))?;
    set_from_raw(payload, raw)
}

/// Whether the first key of the object in `payload` is `activities` (how Direct Line
/// writes an `ActivitySet`).
fn first_key_is_activities(payload: &[u8]) -> bool {
    payload
        .trim_ascii_start()
        .strip_prefix(b"{")
        .is_some_and(|rest| rest.trim_ascii_start().starts_with(b"\"activities\""))
}

/// The activities of a parsed set, each parsed from its slice of `payload`.
fn set_from_raw(payload: &bytes::Bytes, raw: RawSet<'_>) -> Result<ActivitySet, NormalizeError> {
    let list = raw.activities.ok_or(NormalizeError::Missing {
        field: "activities",
    })?;
    let mut activities = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        let activity =
            Activity::from_bytes(payload.slice_ref(a.get().as_bytes())).map_err(|source| {
                NormalizeError::Activity {
                    field: Some(match source.field() {
                        Some(f) => format!("activities[{i}].{f}"),
                        None => format!("activities[{i}]"),
                    }),
                    source,
                }
            })?;
        activities.push(activity);
    }
    let watermark = raw
        .watermark
        .and_then(|w| watermark_text(&RawJson::from_trusted_text(w.get().into())));
    Ok(ActivitySet {
        activities,
        watermark,
    })
}

/// A watermark as the opaque string it is: a non-empty string, or a number (some
/// deployments send numbers); anything else is no watermark.
fn watermark_text(raw: &RawJson) -> Option<String> {
    match raw.to_value() {
        Ok(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        Ok(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn not_json(expected: &'static str, e: &serde_json::Error) -> NormalizeError {
    NormalizeError::NotJson {
        expected,
        line: e.line(),
        column: e.column(),
    }
}

/// The crate's main inbound payload, normalized: a Direct Line `ActivitySet`, or a single
/// activity (what a channel posts to a bot's messaging endpoint). Pure; no I/O.
///
/// # Errors
/// [`AdapterError::BadRequest`] naming the field at fault.
pub fn normalize(payload: &[u8]) -> Result<Vec<Activity>, AdapterError> {
    // Fast path: one pass. An activity has a `type`, so when the payload parses as one it is
    // not an ActivitySet (a set is recognised by `activities` without `type`). The input is
    // copied once into a shared buffer so that opaque parts (channelData, entities, unknown
    // fields) are slices of it, not allocations of their own.
    let shared = bytes::Bytes::copy_from_slice(payload);
    if first_key_is_activities(payload) {
        // Most likely a set (as Direct Line writes it): one pass over the whole set. Anything
        // unexpected (an activity with an `activities` field, an error) takes the general
        // path below, which names the field at fault.
        if let Ok(list) = ActivityList::from_bytes(shared.clone())
            && list.extensions.get("type").is_none()
            && let Some(activities) = list.activities
        {
            return Ok(activities);
        }
    } else if let Ok(a) = Activity::from_bytes(shared.clone()) {
        return Ok(vec![a]);
    }
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        activities: Option<&'a RawValue>,
        #[serde(rename = "type")]
        kind: Option<&'a RawValue>,
    }
    let probe: Probe<'_> =
        serde_json::from_slice(payload).map_err(|e| not_json("a JSON object", &e))?;
    if probe.activities.is_some() && probe.kind.is_none() {
        Ok(parse_shared_set(&shared)?.activities)
    } else {
        Ok(vec![Activity::from_slice(payload)?])
    }
}

/// Parses and checks one activity a channel posted to the bot's messaging endpoint:
/// `channelId`, `conversation.id` and `serviceUrl` are required.
///
/// # Errors
/// [`NormalizeError`] naming the missing or malformed field.
pub fn normalize_channel_activity(payload: &[u8]) -> Result<Activity, NormalizeError> {
    let a = Activity::from_slice(payload)?;
    let missing = |field| Err(NormalizeError::Missing { field });
    if a.channel_id.as_deref().is_none_or(str::is_empty) {
        return missing("channelId");
    }
    if a.conversation_id().is_none_or(str::is_empty) {
        return missing("conversation.id");
    }
    if a.service_url.as_deref().is_none_or(str::is_empty) {
        return missing("serviceUrl");
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        let p = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(p).unwrap()
    }

    #[test]
    fn activity_set_fixture() {
        let set =
            parse_activity_set(&fixture("directline/activityset-with-watermark.json")).unwrap();
        assert_eq!(set.activities.len(), 2);
        assert_eq!(set.watermark.as_deref(), Some("4"));
        assert_eq!(
            set.activities[1].reply_to_id.as_deref(),
            Some("7Hq2mXbLw3eK9pRtV1cZsA-us|0000003")
        );
        let via_root = normalize(&fixture("directline/activityset-with-watermark.json")).unwrap();
        assert_eq!(via_root, set.activities);
    }

    #[test]
    fn every_activity_fixture_normalizes_losslessly() {
        let dir = format!(
            "{}/../../tests/fixtures/activities",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let out = normalize(&bytes).unwrap();
            assert_eq!(out.len(), 1);
            let back: serde_json::Value = serde_json::from_str(&out[0].to_json().unwrap()).unwrap();
            let orig: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, orig, "{}", path.display());
            n += 1;
        }
        assert!(n >= 20);
    }

    #[test]
    fn null_watermark_is_none() {
        let set = parse_activity_set(br#"{"activities":[],"watermark":null}"#).unwrap();
        assert_eq!(set.watermark, None);
        let set = parse_activity_set(br#"{"activities":[]}"#).unwrap();
        assert_eq!(set.watermark, None);
        let set = parse_activity_set(br#"{"activities":[],"watermark":7}"#).unwrap();
        assert_eq!(set.watermark.as_deref(), Some("7"));
    }

    #[test]
    fn a_set_is_recognised_with_a_null_type_and_an_activity_with_activities() {
        // `type: null` counts as no type: the payload is a set.
        let v = normalize(br#"{"type":null,"activities":[{"type":"typing"}]}"#).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, byoc_core::ActivityType::Typing);
        // With a type, `activities` is an unknown field of one activity.
        let v = normalize(br#"{"type":"message","activities":[{"type":"typing"}]}"#).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, byoc_core::ActivityType::Message);
        let v = normalize(br#" { "activities":[{"type":"typing"}],"type":"message"}"#).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, byoc_core::ActivityType::Message);
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_activity_set(
            br#"{"activities":[{"type":"message"},{"type":"message","from":3}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("activities[1].from"));
        let e = parse_activity_set(br#"{"watermark":"1"}"#).unwrap_err();
        assert_eq!(e.field(), Some("activities"));
        assert!(normalize(b"[1,2]").is_err());
        assert!(normalize(b"").is_err());
    }

    #[test]
    fn channel_activity_requires_routing_fields() {
        let ok = br#"{"type":"message","channelId":"webchat","serviceUrl":"https://s.example/","conversation":{"id":"c"}}"#;
        normalize_channel_activity(ok).unwrap();
        for (body, field) in [
            (
                &br#"{"type":"message","serviceUrl":"https://s/","conversation":{"id":"c"}}"#[..],
                "channelId",
            ),
            (
                br#"{"type":"message","channelId":"w","serviceUrl":"https://s/"}"#,
                "conversation.id",
            ),
            (
                br#"{"type":"message","channelId":"w","conversation":{"id":"c"}}"#,
                "serviceUrl",
            ),
        ] {
            assert_eq!(
                normalize_channel_activity(body).unwrap_err().field(),
                Some(field)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = normalize(&bytes);
            let _ = parse_activity_set(&bytes);
            let _ = normalize_channel_activity(&bytes);
        }
    }
}
