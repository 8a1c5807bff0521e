//! Outbound bodies: the create-conversation request and activities for
//! `POST /api/v1.0/consumer/conversation/{id}`, with the documented limits checked before
//! anything is sent. Lengths are counted in Unicode scalar values (`char`s); the start
//! message in bytes of its JSON.

use std::collections::BTreeMap;

use byoc_core::{Activity, ActivityType};
use serde::{Deserialize, Serialize};

use crate::error::{Limit, LimitError};

/// `text` limit, in characters.
pub const MAX_TEXT_CHARS: usize = 6000;
/// Limit of `type`, names, ids and display names, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Limit of each `customercontext` field, in characters.
pub const MAX_CUSTOMER_FIELD_CHARS: usize = 200;
/// Most conversation context variables.
pub const MAX_CONTEXT_VARIABLES: usize = 100;
/// `startmessage` limit: 27 KB of JSON.
pub const MAX_START_MESSAGE_BYTES: usize = 27 * 1024;

/// Who the customer is (`customercontext`); every field optional, each ≤ 200 characters.
/// An active conversation with the same `customerid` is returned instead of a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerContext {
    /// Your id of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customerid: Option<String>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Preferred name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferredname: Option<String>,
    /// Email (used to find the contact record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number (used to find the contact record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phonenumber: Option<String>,
}

impl CustomerContext {
    /// A customer with your id for them.
    #[must_use]
    pub fn new(customer_id: impl Into<String>) -> Self {
        Self {
            customerid: Some(customer_id.into()),
            ..Self::default()
        }
    }

    /// Sets first and last name.
    #[must_use]
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.firstname = Some(first.into());
        self.lastname = Some(last.into());
        self
    }

    /// Sets the preferred name.
    #[must_use]
    pub fn with_preferred_name(mut self, name: impl Into<String>) -> Self {
        self.preferredname = Some(name.into());
        self
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phonenumber = Some(phone.into());
        self
    }

    fn fields(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("customerid", &self.customerid),
            ("firstname", &self.firstname),
            ("lastname", &self.lastname),
            ("preferredname", &self.preferredname),
            ("email", &self.email),
            ("phonenumber", &self.phonenumber),
        ]
    }
}

/// One conversation context variable; `isDisplayable` shows it to the representative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextVariable {
    /// Whether the representative sees it.
    #[serde(rename = "isDisplayable", default)]
    pub is_displayable: bool,
    /// The value (string, number or boolean).
    pub value: serde_json::Value,
}

impl ContextVariable {
    /// A variable.
    #[must_use]
    pub fn new(value: impl Into<serde_json::Value>, is_displayable: bool) -> Self {
        Self {
            is_displayable,
            value: value.into(),
        }
    }
}

/// The first message, shown to the representative only (≤ 27 KB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartMessage {
    /// Text.
    pub message: String,
    /// Sender name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
}

/// The body of the create-conversation request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateConversation {
    /// Who the customer is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customercontext: Option<CustomerContext>,
    /// Context variables (≤ 100).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub conversationcontext: BTreeMap<String, ContextVariable>,
    /// Idempotency key: the same id returns the same conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversationrequestid: Option<String>,
    /// The first message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startmessage: Option<StartMessage>,
    /// `true`: do not engage the AI agent first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipdeflectionbot: Option<bool>,
}

impl CreateConversation {
    /// An empty request.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the customer.
    #[must_use]
    pub fn with_customer(mut self, customer: CustomerContext) -> Self {
        self.customercontext = Some(customer);
        self
    }

    /// Adds a context variable.
    #[must_use]
    pub fn with_context(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
        is_displayable: bool,
    ) -> Self {
        self.conversationcontext
            .insert(name.into(), ContextVariable::new(value, is_displayable));
        self
    }

    /// Sets the idempotency key (`conversationrequestid`).
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.conversationrequestid = Some(id.into());
        self
    }

    /// Sets the start message.
    #[must_use]
    pub fn with_start_message(
        mut self,
        message: impl Into<String>,
        display_name: Option<String>,
    ) -> Self {
        self.startmessage = Some(StartMessage {
            message: message.into(),
            displayname: display_name,
        });
        self
    }

    /// Sets `skipdeflectionbot`.
    #[must_use]
    pub fn with_skip_deflection_bot(mut self, skip: bool) -> Self {
        self.skipdeflectionbot = Some(skip);
        self
    }

    /// Checks the documented limits.
    ///
    /// # Errors
    /// The first [`LimitError`] found.
    pub fn validate(&self) -> Result<(), LimitError> {
        if let Some(c) = &self.customercontext {
            for (name, value) in c.fields() {
                check_chars(
                    value.as_deref(),
                    Limit::CustomerContextField,
                    &format!("customercontext.{name}"),
                )?;
            }
        }
        let n = self.conversationcontext.len();
        if n > MAX_CONTEXT_VARIABLES {
            return Err(LimitError::new(
                Limit::ContextVariables,
                "conversationcontext",
                n,
            ));
        }
        for name in self.conversationcontext.keys() {
            check_chars(Some(name), Limit::Name, "conversationcontext")?;
        }
        check_chars(
            self.conversationrequestid.as_deref(),
            Limit::Name,
            "conversationrequestid",
        )?;
        if let Some(m) = &self.startmessage {
            let bytes = serde_json::to_vec(m).map_or(usize::MAX, |v| v.len());
            if bytes > MAX_START_MESSAGE_BYTES {
                return Err(LimitError::new(Limit::StartMessage, "startmessage", bytes));
            }
            check_chars(
                m.displayname.as_deref(),
                Limit::Name,
                "startmessage.displayname",
            )?;
        }
        Ok(())
    }
}

/// An account in an outbound activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundAccount {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The conversation of an outbound activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundConversation {
    /// The Omnichannel conversation id.
    pub id: String,
}

/// An attachment of an outbound message (behind a URL or as base64 in `contentUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundAttachment {
    /// MIME type.
    #[serde(rename = "contentType")]
    pub content_type: String,
    /// URL or base64 content.
    #[serde(rename = "contentUrl")]
    pub content_url: String,
    /// File name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An activity as the Messaging API takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundActivity {
    /// `message`, `typing`, `endOfConversation` or `event`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Your id for the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The custom channel id (must equal the `channel-id` header).
    #[serde(rename = "channelId", skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<OutboundAccount>,
    /// Conversation.
    pub conversation: OutboundConversation,
    /// Text (≤ 6,000 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachments.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attachments: Vec<OutboundAttachment>,
    /// Event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Channel data (custom event fields, `messagingapi-oc`).
    #[serde(rename = "channelData", skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<serde_json::Value>,
}

/// Renders a canonical activity for the Messaging API, checking the limits.
///
/// `message` → text and URL attachments (cards without `contentUrl` are refused);
/// `typing`; `endOfConversation`; `event` → a custom event whose `channelData` carries
/// `customEvent: true`, `customEventName` and `customEventValue` (the activity `value`
/// JSON-encoded as a string; a string value is sent as is). `channelData` of the activity is
/// kept for messages (e.g. `{"messagingapi-oc":{"type":"AutomatedMessage"}}`).
///
/// # Errors
/// [`LimitError`] naming the field and limit at fault.
pub fn render(activity: &Activity, channel_id: &str) -> Result<OutboundActivity, LimitError> {
    let conversation_id = activity
        .conversation_id()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LimitError::new(Limit::Required, "conversation.id", 0))?
        .to_owned();
    check_chars(Some(&conversation_id), Limit::Name, "conversation.id")?;
    let from = activity.from.as_ref().map(|f| OutboundAccount {
        id: f.id.clone(),
        name: f.name.clone(),
    });
    if let Some(f) = &from {
        check_chars(f.id.as_deref(), Limit::Name, "from.id")?;
        check_chars(f.name.as_deref(), Limit::Name, "from.name")?;
    }
    check_chars(activity.id.as_deref(), Limit::Name, "id")?;
    let mut out = OutboundActivity {
        kind: activity.kind.as_str().to_owned(),
        id: None,
        channel_id: Some(channel_id.to_owned()),
        from,
        conversation: OutboundConversation {
            id: conversation_id,
        },
        text: None,
        attachments: Vec::new(),
        name: None,
        channel_data: None,
    };
    match &activity.kind {
        ActivityType::Message => {
            out.id.clone_from(&activity.id);
            if let Some(t) = activity.text.as_deref().filter(|t| !t.is_empty()) {
                check_chars(Some(t), Limit::Text, "text")?;
                out.text = Some(t.to_owned());
            }
            for (i, a) in activity.attachments.iter().flatten().enumerate() {
                let url = a
                    .content_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        LimitError::new(Limit::Required, format!("attachments.{i}.contentUrl"), 0)
                    })?;
                check_chars(
                    a.name.as_deref(),
                    Limit::Name,
                    &format!("attachments.{i}.name"),
                )?;
                out.attachments.push(OutboundAttachment {
                    content_type: a
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "application/octet-stream".to_owned()),
                    content_url: url,
                    name: a.name.clone(),
                });
            }
            if out.text.is_none() && out.attachments.is_empty() {
                return Err(LimitError::new(Limit::EmptyMessage, "text", 0));
            }
            out.channel_data = activity
                .channel_data
                .as_ref()
                .filter(|c| c.is_object())
                .and_then(|c| c.to_value().ok());
        }
        ActivityType::Typing | ActivityType::EndOfConversation => {}
        ActivityType::Event => {
            let name = activity
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| LimitError::new(Limit::Required, "name", 0))?;
            check_chars(Some(&name), Limit::Name, "name")?;
            let value = match &activity.value {
                None => "{}".to_owned(),
                Some(v) => match v.as_string() {
                    Some(s) => s.into_owned(),
                    None => v.get().to_owned(),
                },
            };
            out.channel_data = Some(serde_json::json!({
                "customEvent": true,
                "customEventName": name,
                "customEventValue": value,
            }));
            out.name = Some(name);
        }
        other => {
            return Err(LimitError::new(
                Limit::ActivityType,
                "type",
                other.as_str().chars().count(),
            ));
        }
    }
    Ok(out)
}

fn check_chars(value: Option<&str>, limit: Limit, field: &str) -> Result<(), LimitError> {
    if let Some(v) = value {
        // Cheap upper bound first: a string has at most as many chars as bytes.
        if v.len() > limit.max() {
            let n = v.chars().count();
            if n > limit.max() {
                return Err(LimitError::new(limit, field, n));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use byoc_core::{Attachment, ChannelAccount, ConversationAccount, RawJson};

    use super::*;

    const CH: &str = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/fixtures/messaging-api/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn msg(text: &str) -> Activity {
        let mut a = Activity::message(text);
        a.conversation = Some(ConversationAccount::new(
            "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f",
        ));
        a
    }

    #[test]
    fn create_request_matches_the_fixture() {
        let req = CreateConversation::new()
            .with_customer(
                CustomerContext::new("customer-00917734")
                    .with_name("Priya", "Raman")
                    .with_preferred_name("Priya")
                    .with_email("priya.raman@example.com")
                    .with_phone("15555550123"),
            )
            .with_context("productname", "Mesh Router X2", true)
            .with_context("ticketid", "INC-20931", true)
            .with_context("botsummary", "restart and relocation did not help", false)
            .with_request_id("c0ffee00-1d2e-4f30-8a4b-5c6d7e8f9a0b")
            .with_start_message(
                "Router drops Wi-Fi every few minutes since the March update.",
                Some("Priya Raman".into()),
            )
            .with_skip_deflection_bot(true);
        req.validate().unwrap();
        let ours = serde_json::to_value(&req).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_slice(&fixture("request-create-conversation.json")).unwrap();
        assert_eq!(ours, theirs);
        let back: CreateConversation =
            serde_json::from_slice(&fixture("request-create-conversation.json")).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn create_limits() {
        let long = "x".repeat(201);
        let e = CreateConversation::new()
            .with_customer(CustomerContext::new("c").with_email(long))
            .validate()
            .unwrap_err();
        assert_eq!(e.limit, Limit::CustomerContextField);
        assert_eq!(e.field, "customercontext.email");
        // 200 multi-byte characters are fine
        CreateConversation::new()
            .with_customer(CustomerContext::new("é".repeat(200)))
            .validate()
            .unwrap();
        let mut req = CreateConversation::new();
        for i in 0..101 {
            req = req.with_context(format!("v{i}"), i, false);
        }
        let e = req.validate().unwrap_err();
        assert_eq!((e.limit, e.actual), (Limit::ContextVariables, 101));
        let e = CreateConversation::new()
            .with_start_message("y".repeat(MAX_START_MESSAGE_BYTES), None)
            .validate()
            .unwrap_err();
        assert_eq!(e.limit, Limit::StartMessage);
        assert!(e.to_string().contains("27 KB"));
    }

    #[test]
    fn message_matches_the_fixture_shape() {
        let mut a = msg("The serial number is CX2-88-41907.");
        a.id = Some("sms-3F8A1C07D2B94E6A0B5C9D12E47F6A01".into());
        a.from = Some(ChannelAccount::new("customer-00917734").with_name("Priya Raman"));
        let mut att = Attachment::from_url(
            "image/jpeg",
            "https://files.contoso.example/u/c00917734/label.jpg",
        );
        att.name = Some("label.jpg".into());
        a.attachments = Some(vec![att]);
        let ours = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_slice(&fixture("request-send-message.json")).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn custom_event_matches_the_fixture() {
        let mut a = Activity::event("DeviceTelemetry");
        a.conversation = Some(ConversationAccount::new(
            "2f6b8d0e-4a1c-4e3b-9d5f-7a9c1e3b5d7f",
        ));
        a.value = Some(RawJson::from_serialize(
            "{ \"firmware\": \"4.18.1\", \"uptimeHours\": 2, \"signal\": { \"isDisplayable\": true, \"value\": \"-71 dBm\" } }",
        ).unwrap());
        let mut ours = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
        // The fixture omits channelId; we always send it (it must equal the header).
        assert_eq!(ours["channelId"], CH);
        ours.as_object_mut().unwrap().remove("channelId");
        let theirs: serde_json::Value =
            serde_json::from_slice(&fixture("request-custom-event.json")).unwrap();
        assert_eq!(ours, theirs);
        // a JSON object value is encoded as a string
        a.value = Some(RawJson::from_serialize(&serde_json::json!({"a": 1})).unwrap());
        let out = render(&a, CH).unwrap();
        assert_eq!(out.channel_data.unwrap()["customEventValue"], "{\"a\":1}");
    }

    #[test]
    fn typing_and_end() {
        let mut a = Activity::typing();
        a.conversation = Some(ConversationAccount::new("c"));
        a.from = Some(ChannelAccount::new("u").with_name("Priya"));
        let v = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
        assert_eq!(v["type"], "typing");
        assert_eq!(v["from"]["name"], "Priya");
        a.kind = ActivityType::EndOfConversation;
        let v = serde_json::to_value(render(&a, CH).unwrap()).unwrap();
        assert_eq!(v["type"], "endOfConversation");
        assert!(v.get("text").is_none());
    }

    #[test]
    fn limits_name_field_and_limit() {
        let e = render(&msg(&"a".repeat(6001)), CH).unwrap_err();
        assert_eq!(
            (e.limit, e.field.as_str(), e.actual),
            (Limit::Text, "text", 6001)
        );
        render(&msg(&"😀".repeat(6000)), CH).unwrap();
        let mut a = msg("hi");
        a.from = Some(ChannelAccount::new("u").with_name("n".repeat(257)));
        assert_eq!(render(&a, CH).unwrap_err().field, "from.name");
        let e = render(&msg(""), CH).unwrap_err();
        assert_eq!(e.limit, Limit::EmptyMessage);
        let mut a = Activity::message("x");
        a.conversation = None;
        assert_eq!(render(&a, CH).unwrap_err().field, "conversation.id");
        let mut a = msg("x");
        a.kind = ActivityType::Invoke;
        assert_eq!(render(&a, CH).unwrap_err().limit, Limit::ActivityType);
        let mut a = msg("x");
        a.attachments = Some(vec![Attachment::default()]);
        assert_eq!(
            render(&a, CH).unwrap_err().field,
            "attachments.0.contentUrl"
        );
        let mut a = Activity::event("n".repeat(257));
        a.conversation = Some(ConversationAccount::new("c"));
        assert_eq!(render(&a, CH).unwrap_err().field, "name");
    }
}
