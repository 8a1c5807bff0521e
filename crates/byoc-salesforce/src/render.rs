//! Activity → Interaction Service request (pure): what a customer's activity becomes when it
//! is posted to `POST /api/v1/interactions`.
//!
//! | activity | interaction |
//! |---|---|
//! | `message` with text | `EntryInteraction` / `Message` (`StaticContentMessage`, `Text`) |
//! | `message` with one `data:` attachment | `AttachmentInteraction` (+ the file part), text as caption |
//! | `typing` | `TypingStartedIndicator` |
//! | `event` `salesforce.typingStopped` | `TypingStoppedIndicator` |
//! | `event` `salesforce.messageDeliveryFailed`, value `{failedConversationEntryIdentifier, errorCode, errorMessage?}` | `MessageDeliveryFailed` |
//!
//! `from.id` is the end user client identifier; `channelData.routingAttributes` (an object
//! of strings), when present, becomes `routingAttributes`.
//!
//! ## Entry ids
//!
//! The entry id must be the same when a send is retried, or the retry can become a second
//! entry on the Salesforce side ([`entry_id`]):
//!
//! - the activity `id` when it is a UUID;
//! - a UUID v5 of the activity `id` otherwise;
//! - without an `id`, a UUID v5 of what a retry carries: the activity type, `from.id`,
//!   `conversation.id`, `timestamp`, `name`, `text`, `value`, `replyToId` and each
//!   attachment's content type, name, URL and content. Two activities without `id` that
//!   carry all of these alike get the same entry id, so give each activity an `id` or a
//!   `timestamp` when the same text may legitimately be sent twice.

use std::collections::BTreeMap;

use base64::Engine as _;
use byoc_core::{Activity, ActivityType};
use serde::Deserialize;

use crate::api::{
    AbstractMessage, EntryPayload, Interaction, InteractionRequest, Participant, StaticContent,
};
use crate::error::RenderError;

/// Largest attachment the Interaction Service accepts: 25 MB.
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;

/// The attachment MIME types Salesforce documents for inbound files.
pub const ALLOWED_MIME_TYPES: [&str; 13] = [
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "application/pdf",
    "video/3gpp2",
    "audio/3gpp2",
    "video/3gpp",
    "audio/3gpp",
    "video/mpeg",
    "audio/mpeg",
    "video/mp4",
    "audio/mp4",
];

/// Event name of an inbound typing-stopped indicator.
pub const EVENT_TYPING_STOPPED: &str = "salesforce.typingStopped";
/// Event name of a delivery failure report.
pub const EVENT_DELIVERY_FAILED: &str = "salesforce.messageDeliveryFailed";

/// A file to upload with an `AttachmentInteraction`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachmentFile {
    /// File name.
    pub name: String,
    /// MIME type (one of [`ALLOWED_MIME_TYPES`]).
    pub mime_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for AttachmentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentFile")
            .field("name", &self.name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.data.len())
            .finish()
    }
}

impl AttachmentFile {
    /// A file.
    ///
    /// # Errors
    /// [`RenderError::Limit`] above 25 MB or for a MIME type Salesforce does not take.
    pub fn new(
        name: impl Into<String>,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<Self, RenderError> {
        let mime_type = mime_type.into().to_ascii_lowercase();
        if data.len() > MAX_ATTACHMENT_BYTES {
            return Err(RenderError::Limit {
                field: "attachments",
                limit: "25 MB per file",
            });
        }
        if !ALLOWED_MIME_TYPES.contains(&mime_type.as_str()) {
            return Err(RenderError::Limit {
                field: "attachments.contentType",
                limit: "one of the documented MIME types",
            });
        }
        Ok(Self {
            name: name.into(),
            mime_type,
            data,
        })
    }
}

/// One rendered `/interactions` call: the `json` part and at most one file.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RenderedInteraction {
    /// The `json` part.
    pub request: InteractionRequest,
    /// The `attachments` part.
    pub attachment: Option<AttachmentFile>,
}

/// The UUID v5 namespace of entry ids derived from activity content.
const CONTENT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6b79_6f63_5f73_4600_8000_656e_7472_7969);

/// A stable entry id for an activity: the same for a retry of the same activity (see the
/// module docs).
#[must_use]
pub fn entry_id(activity: &Activity) -> String {
    match activity.id.as_deref() {
        Some(id) => match uuid::Uuid::parse_str(id) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes()).to_string(),
        },
        None => content_id(activity),
    }
}

/// UUID v5 of the SHA-256 of the activity's content fields, each length-prefixed (so no two
/// different field sets hash the same input).
fn content_id(activity: &Activity) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    let mut field = |v: Option<&str>| match v {
        Some(v) => {
            h.update([1]);
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        None => h.update([0]),
    };
    field(Some(activity.kind.as_str()));
    field(activity.from_id());
    field(activity.conversation_id());
    field(
        activity
            .timestamp
            .as_ref()
            .map(byoc_core::Timestamp::as_str),
    );
    field(activity.name.as_deref());
    field(activity.text.as_deref());
    field(activity.value.as_ref().map(byoc_core::RawJson::get));
    field(activity.reply_to_id.as_deref());
    for att in activity.attachments.as_deref().unwrap_or_default() {
        field(att.content_type.as_deref());
        field(att.name.as_deref());
        field(att.content_url.as_deref());
        field(att.content.as_ref().map(byoc_core::RawJson::get));
    }
    uuid::Uuid::new_v5(&CONTENT_NAMESPACE, &h.finalize()).to_string()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDataIn {
    routing_attributes: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryFailedValue {
    failed_conversation_entry_identifier: String,
    error_code: String,
    error_message: Option<String>,
}

/// Renders a customer activity as one interaction to `to` (the channel address).
/// `now_ms` is used when the activity has no timestamp.
///
/// # Errors
/// [`RenderError`] naming what is missing or unsupported.
pub fn render_interaction(
    activity: &Activity,
    to: &str,
    now_ms: i64,
) -> Result<RenderedInteraction, RenderError> {
    let from = activity
        .from_id()
        .filter(|f| !f.is_empty())
        .ok_or(RenderError::MissingField("from.id"))?;
    if from.chars().count() > 255 {
        return Err(RenderError::Limit {
            field: "from.id",
            limit: "255 characters",
        });
    }
    let timestamp = activity
        .timestamp
        .as_ref()
        .map_or(now_ms, |t| t.to_utc().timestamp_millis());
    let id = entry_id(activity);
    let routing_attributes = activity
        .channel_data
        .as_ref()
        .and_then(|c| c.parse::<ChannelDataIn>().ok())
        .and_then(|c| c.routing_attributes);
    let mut attachment = None;
    let interaction = match &activity.kind {
        ActivityType::Message => {
            let atts = activity.attachments.as_deref().unwrap_or_default();
            match atts {
                [] => {
                    let text = activity
                        .text
                        .clone()
                        .filter(|t| !t.is_empty())
                        .ok_or(RenderError::MissingField("text"))?;
                    Interaction::Entry {
                        timestamp,
                        payload: EntryPayload::Message {
                            id: id.clone(),
                            abstract_message: AbstractMessage {
                                message_type: "StaticContentMessage".into(),
                                id,
                                static_content: StaticContent {
                                    format_type: "Text".into(),
                                    text,
                                },
                                in_reply_to_message_id: activity.reply_to_id.clone(),
                            },
                        },
                    }
                }
                [one] => {
                    let file = decode_attachment(one)?;
                    let content_length = file.data.len() as u64;
                    attachment = Some(file);
                    Interaction::Attachment {
                        timestamp,
                        id,
                        attachment_index: 0,
                        content_length,
                        text: activity.text.clone().filter(|t| !t.is_empty()),
                    }
                }
                _ => {
                    return Err(RenderError::Limit {
                        field: "attachments",
                        limit: "one file per interaction",
                    });
                }
            }
        }
        ActivityType::Typing => Interaction::Entry {
            timestamp,
            payload: EntryPayload::TypingStarted { id, timestamp },
        },
        ActivityType::Event if activity.name.as_deref() == Some(EVENT_TYPING_STOPPED) => {
            Interaction::Entry {
                timestamp,
                payload: EntryPayload::TypingStopped { id, timestamp },
            }
        }
        ActivityType::Event if activity.name.as_deref() == Some(EVENT_DELIVERY_FAILED) => {
            let v: DeliveryFailedValue = activity
                .value
                .as_ref()
                .ok_or(RenderError::MissingField("value"))?
                .parse()
                .map_err(|_| {
                    RenderError::MissingField("value.failedConversationEntryIdentifier")
                })?;
            Interaction::Entry {
                timestamp,
                payload: EntryPayload::MessageDeliveryFailed {
                    id,
                    failed_conversation_entry_identifier: v.failed_conversation_entry_identifier,
                    recipient: Participant::end_user(from),
                    error_code: v.error_code,
                    error_message: v.error_message,
                },
            }
        }
        other => {
            return Err(RenderError::Unsupported(format!(
                "activity type `{other}` has no Interaction Service entry"
            )));
        }
    };
    Ok(RenderedInteraction {
        request: InteractionRequest {
            to: to.to_owned(),
            from: from.to_owned(),
            interactions: vec![interaction],
            routing_attributes,
        },
        attachment,
    })
}

/// Decodes an attachment carried inline as a `data:<mime>;base64,<bytes>` URI. Attachments
/// behind `http(s)` URLs are the host's to download ([`AttachmentFile::new`] and
/// [`crate::InteractionClient::send_file`]): this crate does no I/O in rendering.
fn decode_attachment(att: &byoc_core::Attachment) -> Result<AttachmentFile, RenderError> {
    let url = att
        .content_url
        .as_deref()
        .ok_or(RenderError::MissingField("attachments.contentUrl"))?;
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(RenderError::Unsupported(
            "attachments behind URLs must be downloaded by the host and sent with send_file".into(),
        ));
    };
    let (meta, data) = rest.split_once(',').ok_or(RenderError::BadDataUri)?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or(RenderError::BadDataUri)?;
    let mime = if mime.is_empty() {
        att.content_type.as_deref().unwrap_or_default()
    } else {
        mime
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| RenderError::BadDataUri)?;
    let name = att.name.clone().unwrap_or_else(|| "attachment".to_owned());
    AttachmentFile::new(name, mime, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use byoc_core::{Attachment, ChannelAccount, RawJson, Timestamp};

    const FIX: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/salesforce/"
    );

    fn fixture(name: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(format!("{FIX}{name}")).unwrap()).unwrap()
    }

    fn customer(mut a: Activity, id: &str, ts: &str) -> Activity {
        a.id = Some(id.into());
        a.from = Some(ChannelAccount::new("15555550123"));
        a.timestamp = Some(Timestamp::parse(ts).unwrap());
        a
    }

    const TO: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

    #[test]
    fn text_message_matches_the_fixture() {
        let a = customer(
            Activity::message("STATUS 48213"),
            "a3c5e7f9-1b2d-4f6a-8c0e-2b4d6f8a0c1e",
            "2024-05-02T16:41:09.301Z",
        );
        let r = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(
            serde_json::to_value(&r.request).unwrap(),
            fixture("interaction-text-message.json")
        );
        assert!(r.attachment.is_none());
    }

    #[test]
    fn typing_started_and_stopped_match_the_fixtures() {
        let a = customer(
            Activity::typing(),
            "0d2f4b6a-8c1e-4d3f-a5b7-c9e1f3a5b7d9",
            "2024-05-02T16:41:00.120Z",
        );
        let r = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(
            serde_json::to_value(&r.request).unwrap(),
            fixture("interaction-typing-started.json")
        );
        let a = customer(
            Activity::event(EVENT_TYPING_STOPPED),
            "6e8a0c2e-4a6c-4e8a-9c2e-4a6c8e0a2c4e",
            "2024-05-02T16:41:09.299Z",
        );
        let r = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(
            serde_json::to_value(&r.request).unwrap(),
            fixture("interaction-typing-stopped.json")
        );
    }

    #[test]
    fn delivery_failed_matches_the_fixture() {
        let mut a = customer(
            Activity::event(EVENT_DELIVERY_FAILED),
            "f1a3c5e7-9b2d-4f4a-b6c8-d0e2f4a6b8c0",
            "2024-05-02T17:00:12.775Z",
        );
        a.value = Some(
            RawJson::from_serialize(&serde_json::json!({
                "failedConversationEntryIdentifier": "5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f",
                "errorCode": "210",
                "errorMessage": "Temporary phone error"
            }))
            .unwrap(),
        );
        let r = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(
            serde_json::to_value(&r.request).unwrap(),
            fixture("interaction-message-delivery-failed.json")
        );
    }

    #[test]
    fn data_uri_attachment_renders_an_attachment_interaction() {
        let mut a = customer(
            Activity::message("photo of the router label"),
            "c2e4a6b8-d0f2-4a4c-8e6a-b8d0f2a4c6e8",
            "2024-05-02T16:43:21.456Z",
        );
        let data = vec![7u8; 48213];
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        a.attachments = Some(vec![Attachment::from_url(
            "image/png",
            format!("data:image/png;base64,{b64}"),
        )]);
        let r = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(
            serde_json::to_value(&r.request).unwrap(),
            fixture("interaction-attachment.json")
        );
        let file = r.attachment.unwrap();
        assert_eq!(file.data, data);
        assert!(!format!("{file:?}").contains("7, 7"));
    }

    #[test]
    fn routing_attributes_from_channel_data() {
        let mut a = customer(Activity::message("hi"), "x", "2024-05-02T16:41:09Z");
        a.channel_data = Some(
            RawJson::from_serialize(&serde_json::json!({"routingAttributes": {"lang": "en"}}))
                .unwrap(),
        );
        let r = render_interaction(&a, TO, 0).unwrap();
        let v = serde_json::to_value(&r.request).unwrap();
        assert_eq!(v["routingAttributes"]["lang"], "en");
        // A non-UUID id becomes a stable v5 UUID.
        let id = v["interactions"][0]["payload"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 5);
        let again = render_interaction(&a, TO, 0).unwrap();
        assert_eq!(serde_json::to_value(&again.request).unwrap(), v);
    }

    #[test]
    fn an_activity_without_id_keeps_its_entry_id_across_retries() {
        let mut a = Activity::message("yes");
        a.from = Some(ChannelAccount::new("15555550123"));
        a.timestamp = Some(Timestamp::parse("2024-05-02T16:41:09.301Z").unwrap());
        let first = entry_id(&a);
        assert_eq!(uuid::Uuid::parse_str(&first).unwrap().get_version_num(), 5);
        // A retry (the same activity, rendered later) carries the same entry id.
        let r1 = render_interaction(&a, TO, 1).unwrap();
        let r2 = render_interaction(&a.clone(), TO, 2).unwrap();
        assert_eq!(
            serde_json::to_value(&r1.request).unwrap()["interactions"][0]["payload"]["id"],
            serde_json::to_value(&r2.request).unwrap()["interactions"][0]["payload"]["id"],
        );
        assert_eq!(
            serde_json::to_value(&r1.request).unwrap()["interactions"][0]["payload"]["id"],
            first.as_str()
        );
        // Anything a different send carries gives another id.
        type Change = Box<dyn Fn(&mut Activity)>;
        let variants: Vec<Change> = vec![
            Box::new(|a| a.text = Some("yes!".into())),
            Box::new(|a| a.timestamp = Some(Timestamp::parse("2024-05-02T16:41:10.301Z").unwrap())),
            Box::new(|a| a.timestamp = None),
            Box::new(|a| a.from = Some(ChannelAccount::new("15555550124"))),
            Box::new(|a| a.kind = ActivityType::Typing),
            Box::new(|a| a.reply_to_id = Some("r".into())),
            Box::new(|a| a.name = Some("n".into())),
            Box::new(|a| {
                a.attachments = Some(vec![Attachment::from_url(
                    "image/png",
                    "data:image/png;base64,AA==",
                )]);
            }),
            // Field boundaries count: "ye" + "s" is not "yes" + "".
            Box::new(|a| {
                a.text = Some("ye".into());
                a.name = Some("s".into());
            }),
        ];
        let mut seen = std::collections::HashSet::from([first.clone()]);
        for change in &variants {
            let mut b = a.clone();
            change(&mut b);
            assert!(seen.insert(entry_id(&b)), "{b:?}");
        }
        // An id wins over the content.
        let mut c = a.clone();
        c.id = Some("7c6f1a8e-2b0d-4e4f-9a51-0c3e5b7d9f1a".into());
        assert_eq!(entry_id(&c), "7c6f1a8e-2b0d-4e4f-9a51-0c3e5b7d9f1a");
    }

    #[test]
    fn one_error_per_fault() {
        let mut a = Activity::message("hi");
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::MissingField("from.id"))
        ));
        a.from = Some(ChannelAccount::new("x".repeat(256)));
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::Limit { .. })
        ));
        a.from = Some(ChannelAccount::new("u"));
        a.text = None;
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::MissingField("text"))
        ));
        a.attachments = Some(vec![Attachment::from_url(
            "image/png",
            "https://x.example/a.png",
        )]);
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::Unsupported(_))
        ));
        a.attachments = Some(vec![Attachment::from_url("image/png", "data:image/png,zz")]);
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::BadDataUri)
        ));
        a.attachments = Some(vec![Attachment::from_url(
            "text/html",
            "data:text/html;base64,PGI+",
        )]);
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::Limit { .. })
        ));
        a.attachments = Some(vec![
            Attachment::from_url("image/png", "data:image/png;base64,AA=="),
            Attachment::from_url("image/png", "data:image/png;base64,AA=="),
        ]);
        assert!(matches!(
            render_interaction(&a, TO, 0),
            Err(RenderError::Limit { .. })
        ));
        let mut e = Activity::event(EVENT_DELIVERY_FAILED);
        e.from = Some(ChannelAccount::new("u"));
        assert!(matches!(
            render_interaction(&e, TO, 0),
            Err(RenderError::MissingField("value"))
        ));
        let mut inv = Activity::new(ActivityType::Invoke);
        inv.from = Some(ChannelAccount::new("u"));
        assert!(matches!(
            render_interaction(&inv, TO, 0),
            Err(RenderError::Unsupported(_))
        ));
        assert!(
            AttachmentFile::new("big", "image/png", vec![0; MAX_ATTACHMENT_BYTES + 1]).is_err()
        );
    }
}
