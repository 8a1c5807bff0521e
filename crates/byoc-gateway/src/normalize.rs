//! `byoc normalize`: one provider payload in, canonical activities out, one compact JSON
//! object per line.

use byoc_core::{Activity, AdapterError};

/// The providers `byoc normalize --channel` knows, with the adapter crate whose root
/// `normalize` reads each one's main inbound payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum Provider {
    /// A Bot Framework channel's activity posted to a bot (byoc-directline, connector side).
    Connector,
    /// A Direct Line `ActivitySet` or one activity (byoc-directline).
    Directline,
    /// A TeleSign callback body (byoc-telesign).
    Telesign,
    /// A Dynamics 365 Omnichannel Messaging API webhook body (byoc-messaging-api).
    MessagingApi,
    /// A Salesforce Interaction Service platform event (byoc-salesforce).
    Salesforce,
}

/// Normalizes one payload with the provider's pure normalizer.
///
/// # Errors
/// The adapter's [`AdapterError`] (bad request naming the field at fault).
pub fn normalize_payload(
    provider: Provider,
    payload: &[u8],
) -> Result<Vec<Activity>, AdapterError> {
    match provider {
        Provider::Connector => Ok(vec![byoc_directline::normalize_channel_activity(payload)?]),
        Provider::Directline => byoc_directline::normalize(payload),
        Provider::Telesign => byoc_telesign::normalize(payload),
        Provider::MessagingApi => byoc_messaging_api::normalize(payload),
        Provider::Salesforce => byoc_salesforce::normalize(payload),
    }
}

/// The activities as lines: each activity's JSON with every whitespace byte outside strings
/// removed, so a raw part that kept the provider's line breaks (a pretty-printed
/// `channelData`) stays on its line.
///
/// # Errors
/// If an activity cannot be serialized.
pub fn to_lines(activities: &[Activity]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for a in activities {
        out.push_str(&compact_json(&a.to_json()?));
        out.push('\n');
    }
    Ok(out)
}

/// Removes insignificant whitespace from JSON text (whitespace inside strings is escaped or
/// kept as written; JSON strings never hold a raw line break).
#[must_use]
pub(crate) fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
        std::fs::read(format!("{root}{path}")).unwrap()
    }

    #[test]
    fn compact_json_keeps_string_whitespace_and_drops_the_rest() {
        let text = "{\n  \"a\": \"x y\\n\\\" z\",\n  \"b\" : [1, 2]\r\n}";
        assert_eq!(compact_json(text), r#"{"a":"x y\n\" z","b":[1,2]}"#);
    }

    #[test]
    fn pretty_channel_data_stays_on_one_line() {
        let payload = b"{\"type\":\"message\",\"channelId\":\"test\",\"conversation\":{\"id\":\"c\"},\"serviceUrl\":\"https://x/\",\"channelData\":{\n  \"k\": [1,\n 2]\n}}";
        let acts = normalize_payload(Provider::Connector, payload).unwrap();
        let lines = to_lines(&acts).unwrap();
        assert_eq!(lines.lines().count(), 1);
        assert!(lines.contains(r#""channelData":{"k":[1,2]}"#), "{lines}");
    }

    #[test]
    fn every_provider_normalizes_its_fixture() {
        let cases = [
            (Provider::Telesign, "telesign/mo-basic.json"),
            (
                Provider::Directline,
                "directline/activityset-with-watermark.json",
            ),
            (Provider::Connector, "activities/message-webchat-plain.json"),
            (
                Provider::MessagingApi,
                "messaging-api/webhook-agent-message-plain.json",
            ),
            (
                Provider::Salesforce,
                "salesforce/pubsub-interaction-text-flat.json",
            ),
        ];
        for (provider, path) in cases {
            let acts = normalize_payload(provider, &fixture(path)).unwrap();
            assert!(!acts.is_empty(), "{path}");
            let lines = to_lines(&acts).unwrap();
            assert_eq!(lines.lines().count(), acts.len(), "{path}");
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = normalize_payload(Provider::Telesign, br#"{"sub_resource": 5}"#).unwrap_err();
        assert_eq!(e.http_status(), 400);
        let e = normalize_payload(Provider::Connector, br#"{"type":"message"}"#).unwrap_err();
        assert_eq!(e.field(), Some("channelId"));
    }
}
