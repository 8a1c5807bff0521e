//! A whole platform event record (`CreatedDate`, `CreatedById`, the event-type field, the
//! payload field) in each form a subscriber may hold it: the fields as decoded from Avro, or
//! Avro's JSON encoding, where a nullable field is a union written `{"string": "..."}`; the
//! payload field a JSON string, or already parsed. See
//! `docs/protocols/salesforce.md#event-records`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::ChannelDefinition;
use crate::error::NormalizeError;

/// The event types the Interaction Service publishes.
const EVENT_TYPES: [&str; 2] = ["Interaction", "RoutingRequested"];

/// The top-level object, read in one borrowed pass: whether it is an event payload (it has
/// `channelAddressIdentifier`, `payload`, `entryType` or `recipient`), and otherwise its
/// custom fields (`*__c`), one of which holds the payload.
pub(crate) struct TopLevel<'a> {
    pub(crate) is_payload: bool,
    pub(crate) custom_fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut top = TopLevel {
                    is_payload: false,
                    custom_fields: Vec::new(),
                };
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value = map.next_value::<&'de RawValue>()?;
                    match key.as_ref() {
                        "channelAddressIdentifier" | "payload" | "entryType" | "recipient" => {
                            top.is_payload = true;
                        }
                        k if k.ends_with("__c") => top.custom_fields.push((key, value)),
                        _ => {}
                    }
                }
                Ok(top)
            }
        }
        d.deserialize_map(V)
    }
}

/// A nullable string field in Avro's JSON encoding: `{"string": "..."}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AvroString<'a> {
    #[serde(borrow)]
    string: Cow<'a, str>,
}

/// The string in `v`: a JSON string (unescaped) or an Avro union holding one.
fn field_string<'a>(v: &'a RawValue) -> Option<Cow<'a, str>> {
    let text = v.get();
    if text.starts_with('"') {
        serde_json::from_str::<Cow<'a, str>>(text).ok()
    } else if text.starts_with('{') {
        serde_json::from_str::<AvroString<'a>>(text)
            .ok()
            .map(|u| u.string)
    } else {
        None
    }
}

/// The payload in `v`: a string as [`field_string`] reads it, or an object that is the
/// payload already parsed.
fn field_payload<'a>(v: &'a RawValue) -> Option<Cow<'a, str>> {
    field_string(v).or_else(|| v.get().starts_with('{').then(|| Cow::Borrowed(v.get())))
}

fn is_payload_name(name: &str) -> bool {
    name.to_ascii_lowercase().contains("payload")
}

fn is_event_type_name(name: &str) -> bool {
    name.to_ascii_lowercase().contains("eventtype")
}

/// The payload text and the event type of a record's custom fields. The channel
/// definition's field names win; without them (or when they are absent) a field named like
/// a payload (`ns__Payload__c`, `my__payloadField__c`), else any custom field holding a JSON
/// object, is the payload, and a field named like an event type, else one holding
/// `Interaction` or `RoutingRequested`, the event type. As a JSON map would read the record,
/// the last of duplicate keys wins and fields are tried in sorted order.
///
/// # Errors
/// [`NormalizeError::MissingPayloadField`] when no field holds a payload.
pub(crate) fn record_payload<'a>(
    custom_fields: &[(Cow<'a, str>, &'a RawValue)],
    channel: Option<&ChannelDefinition>,
) -> Result<(Cow<'a, str>, Option<Cow<'a, str>>), NormalizeError> {
    let fields: BTreeMap<&str, &'a RawValue> = custom_fields
        .iter()
        .map(|(k, v)| (k.as_ref(), *v))
        .collect();
    let named = |name: &str| fields.get(name).copied();
    let payload = channel
        .and_then(|c| named(c.payload_field()))
        .and_then(field_payload)
        .or_else(|| {
            fields
                .iter()
                .filter(|(k, _)| is_payload_name(k))
                .find_map(|(_, v)| field_payload(v))
        })
        .or_else(|| {
            fields
                .values()
                .find_map(|v| field_string(v).filter(|s| s.trim_start().starts_with('{')))
        })
        .ok_or_else(|| {
            NormalizeError::MissingPayloadField(channel.map_or_else(
                || "*Payload__c".to_owned(),
                |c| c.payload_field().to_owned(),
            ))
        })?;
    let event_type = channel
        .filter(|c| !c.event_type_field().is_empty())
        .and_then(|c| named(c.event_type_field()))
        .and_then(field_string)
        .or_else(|| {
            fields
                .iter()
                .filter(|(k, _)| is_event_type_name(k))
                .find_map(|(_, v)| field_string(v))
        })
        .or_else(|| {
            fields
                .values()
                .find_map(|v| field_string(v).filter(|s| EVENT_TYPES.contains(&s.as_ref())))
        });
    Ok((payload, event_type))
}

/// A field of an already decoded record as a string: a JSON string, an Avro union holding
/// one, or (for the payload) an object that is the payload already parsed.
pub(crate) fn value_string(value: &serde_json::Value, payload: bool) -> Option<Cow<'_, str>> {
    match value {
        serde_json::Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        serde_json::Value::Object(o) => match o.get("string") {
            Some(serde_json::Value::String(s)) if o.len() == 1 => Some(Cow::Borrowed(s.as_str())),
            _ if payload => Some(Cow::Owned(value.to_string())),
            _ => None,
        },
        _ => None,
    }
}
