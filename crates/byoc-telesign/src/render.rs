//! Activity → TeleSign send requests: phone number normalization, text splitting at word
//! boundaries, GSM-7 / UCS-2 segment counting, and the `POST /v1/messaging` form.

use std::fmt;

use byoc_core::{Activity, ActivityType};
use serde::Deserialize;

use crate::config::{LongText, MAX_MESSAGE_CHARS, TelesignConfig};
use crate::error::RenderError;

/// A phone number as TeleSign takes it: country code + national number, digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Normalizes `text`: removes `+`, spaces, dashes, dots and parentheses, then requires
    /// 7 to 15 digits not starting with `0` (E.164).
    ///
    /// # Errors
    /// [`RenderError::InvalidPhoneNumber`] naming `field`.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, RenderError> {
        let digits: String = text
            .chars()
            .filter(|c| !matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let ok = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(digits))
        } else {
            Err(RenderError::InvalidPhoneNumber { field })
        }
    }

    /// The digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `message_type`: an open set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// `OTP`: one-time passwords.
    Otp,
    /// `ARN`: alerts, reminders, notifications.
    Arn,
    /// `MKT`: marketing.
    Mkt,
    /// Any other value, sent as is.
    Other(String),
}

impl MessageType {
    /// The wire value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Otp => "OTP",
            Self::Arn => "ARN",
            Self::Mkt => "MKT",
            Self::Other(s) => s,
        }
    }

    /// From a wire value (case-insensitive for the known ones).
    #[must_use]
    pub fn from_wire(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "OTP" => Self::Otp,
            "ARN" => Self::Arn,
            "MKT" => Self::Mkt,
            _ => Self::Other(s.to_owned()),
        }
    }
}

/// One `POST /v1/messaging` request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendRequest {
    /// `phone_number`.
    pub phone_number: PhoneNumber,
    /// `message` (≤ 1600 characters).
    pub message: String,
    /// `message_type`.
    pub message_type: MessageType,
    /// `sender_id`.
    pub sender_id: Option<String>,
    /// `external_id`, echoed in delivery reports.
    pub external_id: Option<String>,
    /// `callback_url` for this message's delivery reports.
    pub callback_url: Option<String>,
}

impl SendRequest {
    /// A request with the default message type (ARN) and no optional field.
    #[must_use]
    pub fn new(phone_number: PhoneNumber, message: impl Into<String>) -> Self {
        Self {
            phone_number,
            message: message.into(),
            message_type: MessageType::Arn,
            sender_id: None,
            external_id: None,
            callback_url: None,
        }
    }

    /// Sets `message_type`.
    #[must_use]
    pub fn with_message_type(mut self, t: MessageType) -> Self {
        self.message_type = t;
        self
    }

    /// Sets `sender_id`.
    #[must_use]
    pub fn with_sender_id(mut self, s: impl Into<String>) -> Self {
        self.sender_id = Some(s.into());
        self
    }

    /// Sets `external_id`.
    #[must_use]
    pub fn with_external_id(mut self, s: impl Into<String>) -> Self {
        self.external_id = Some(s.into());
        self
    }

    /// Sets `callback_url`.
    #[must_use]
    pub fn with_callback_url(mut self, s: impl Into<String>) -> Self {
        self.callback_url = Some(s.into());
        self
    }

    /// The form body, `+` for spaces, as TeleSign's SDKs encode it.
    #[must_use]
    pub fn to_form(&self) -> String {
        let mut f = vec![
            ("phone_number", self.phone_number.as_str()),
            ("message", self.message.as_str()),
            ("message_type", self.message_type.as_str()),
        ];
        if let Some(s) = &self.sender_id {
            f.push(("sender_id", s));
        }
        if let Some(s) = &self.external_id {
            f.push(("external_id", s));
        }
        if let Some(s) = &self.callback_url {
            f.push(("callback_url", s));
        }
        // Encoding pairs of strings cannot fail.
        serde_urlencoded::to_string(f).unwrap_or_default()
    }
}

/// The encoding an SMS is carried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// GSM 03.38 7-bit: 160 characters, 153 per part (escape-table characters count 2).
    Gsm7,
    /// UCS-2 / UTF-16: 70 units, 67 per part (astral characters count 2).
    Ucs2,
}

/// How many SMS segments a text takes. Advisory: TeleSign chooses the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Segments {
    /// The encoding the text fits.
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Segments.
    pub count: usize,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

/// Counts the segments of `text`.
#[must_use]
pub fn segments(text: &str) -> Segments {
    let mut septets = 0usize;
    let mut gsm = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (encoding, units, single, multi) = if gsm {
        (Encoding::Gsm7, septets, 160, 153)
    } else {
        (Encoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    let count = match units {
        0 => 1,
        u if u <= single => 1,
        u => u.div_ceil(multi),
    };
    Segments {
        encoding,
        units,
        count,
    }
}

/// Splits `text` into parts of at most `max` characters, at the last whitespace of each
/// part when there is one (a word longer than `max` is cut). Whitespace at a cut is dropped.
#[must_use]
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        // Byte index just past `max` characters.
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..limit];
        let next_is_space = rest[limit..].starts_with(char::is_whitespace);
        let cut = match head.rfind(char::is_whitespace) {
            _ if next_is_space => limit,
            Some(i) if i > 0 => i,
            _ => limit,
        };
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// TeleSign fields an activity may set in its `channelData`.
#[derive(Deserialize, Default)]
struct ChannelData {
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    sender_id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
}

/// Turns a `message` activity into one or more send requests.
///
/// The phone number is `recipient.id`, else the customer part of a conversation id made by
/// [`crate::conversation_id`]. `channelData` may set `message_type`, `sender_id`,
/// `external_id` and `callback_url` (overriding the configuration). Text over 1600
/// characters is split or refused per [`TelesignConfig::long_text`].
///
/// # Errors
/// A [`RenderError`]; nothing is sent.
pub fn render(
    activity: &Activity,
    config: &TelesignConfig,
) -> Result<Vec<SendRequest>, RenderError> {
    if activity.kind != ActivityType::Message {
        return Err(RenderError::UnsupportedActivity {
            kind: activity.kind.to_string(),
        });
    }
    let phone = match activity.recipient_id() {
        Some(id) => PhoneNumber::parse(id, "recipient.id")?,
        None => {
            let conv = activity
                .conversation_id()
                .ok_or(RenderError::MissingRecipient)?;
            let customer = conv.split(':').next().unwrap_or(conv);
            PhoneNumber::parse(customer, "conversation.id")?
        }
    };
    let text = activity.text.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(if activity.has_attachments() {
            RenderError::UnsupportedActivity {
                kind: "message with attachments only".into(),
            }
        } else {
            RenderError::EmptyText
        });
    }
    let cd: ChannelData = match &activity.channel_data {
        Some(raw) if raw.is_object() => raw.parse().map_err(|_| RenderError::InvalidField {
            field: "channelData",
            reason: "TeleSign fields must be strings",
        })?,
        _ => ChannelData::default(),
    };
    let sender_id = cd.sender_id.or_else(|| config.sender_id.clone());
    if sender_id
        .as_ref()
        .is_some_and(|s| s.is_empty() || s.chars().count() > 20)
    {
        return Err(RenderError::InvalidField {
            field: "sender_id",
            reason: "must be 1 to 20 characters",
        });
    }
    let chars = text.chars().count();
    let parts = if chars <= MAX_MESSAGE_CHARS {
        vec![text.to_owned()]
    } else {
        match config.long_text {
            LongText::Split => split_text(text, MAX_MESSAGE_CHARS),
            LongText::Refuse => {
                return Err(RenderError::TextTooLong {
                    chars,
                    max: MAX_MESSAGE_CHARS,
                });
            }
        }
    };
    let message_type = cd
        .message_type
        .as_deref()
        .map_or_else(|| config.message_type.clone(), MessageType::from_wire);
    let callback_url = cd.callback_url.or_else(|| config.callback_url.clone());
    Ok(parts
        .into_iter()
        .map(|message| SendRequest {
            phone_number: phone.clone(),
            message,
            message_type: message_type.clone(),
            sender_id: sender_id.clone(),
            external_id: cd.external_id.clone(),
            callback_url: callback_url.clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use byoc_core::ChannelAccount;

    const K1: &str = "VGVzdCBLZXk=";

    fn config() -> TelesignConfig {
        TelesignConfig::new("cid", K1).unwrap()
    }

    #[test]
    fn phone_numbers() {
        let table = [
            ("+1 (555) 555-0123", Some("15555550123")),
            ("44 7700 900461", Some("447700900461")),
            ("+61.491.570.156", Some("61491570156")),
            ("15555550123", Some("15555550123")),
            ("0049301234567", None),
            ("12345", None),
            ("1234567890123456", None),
            ("1555abc0123", None),
            ("", None),
            ("++", None),
        ];
        for (input, want) in table {
            let got = PhoneNumber::parse(input, "phone_number").ok();
            assert_eq!(got.as_ref().map(PhoneNumber::as_str), want, "{input}");
        }
        assert_eq!(
            PhoneNumber::parse("x", "recipient.id"),
            Err(RenderError::InvalidPhoneNumber {
                field: "recipient.id"
            })
        );
    }

    #[test]
    fn message_types_are_open() {
        for (s, t) in [
            ("OTP", MessageType::Otp),
            ("arn", MessageType::Arn),
            ("MKT", MessageType::Mkt),
        ] {
            assert_eq!(MessageType::from_wire(s), t);
        }
        assert_eq!(MessageType::from_wire("NEW").as_str(), "NEW");
    }

    #[test]
    fn segment_counts() {
        let cases = [
            ("", Encoding::Gsm7, 0, 1),
            ("hello", Encoding::Gsm7, 5, 1),
            (&"a".repeat(160), Encoding::Gsm7, 160, 1),
            (&"a".repeat(161), Encoding::Gsm7, 161, 2),
            (&"€".repeat(80), Encoding::Gsm7, 160, 1),
            (&"€".repeat(81), Encoding::Gsm7, 162, 2),
            (&"é".repeat(10), Encoding::Gsm7, 10, 1),
            (&"ж".repeat(70), Encoding::Ucs2, 70, 1),
            (&"ж".repeat(71), Encoding::Ucs2, 71, 2),
            ("🙏", Encoding::Ucs2, 2, 1),
        ];
        for (text, enc, units, count) in cases {
            let s = segments(text);
            assert_eq!(
                (s.encoding, s.units, s.count),
                (enc, units, count),
                "{text}"
            );
        }
    }

    #[test]
    fn splitting_at_words() {
        assert_eq!(split_text("hello world", 20), vec!["hello world"]);
        assert_eq!(
            split_text("hello world foo", 11),
            vec!["hello world", "foo"]
        );
        assert_eq!(split_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(split_text("", 4), vec![""]);
        let long = "word ".repeat(500);
        let parts = split_text(long.trim(), 1600);
        assert_eq!(parts.len(), 2);
        assert!(
            parts
                .iter()
                .all(|p| p.chars().count() <= 1600 && !p.ends_with(' '))
        );
        assert_eq!(parts.join(" "), long.trim());
        // Multi-byte characters are counted as characters.
        let parts = split_text(&"é".repeat(3201), 1600);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            vec![1600, 1600, 1]
        );
    }

    fn msg(to: &str, text: &str) -> Activity {
        let mut a = Activity::message(text);
        a.recipient = Some(ChannelAccount::new(to));
        a
    }

    #[test]
    fn render_message() {
        let r = render(&msg("+1 555 555 0123", "Hello world"), &config()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_form(),
            "phone_number=15555550123&message=Hello+world&message_type=ARN"
        );
        let mut a = msg("15555550123", "x");
        a.channel_data = Some(
            byoc_core::RawJson::from_json_text(
                r#"{"message_type":"OTP","sender_id":"15555550999","external_id":"e-1","callback_url":"https://cb.example/t"}"#,
            )
            .unwrap(),
        );
        let r = render(&a, &config()).unwrap();
        assert_eq!(
            r[0].to_form(),
            "phone_number=15555550123&message=x&message_type=OTP&sender_id=15555550999&external_id=e-1&callback_url=https%3A%2F%2Fcb.example%2Ft"
        );
        // From the conversation id when there is no recipient.
        let mut a = Activity::message("hi");
        a.conversation = Some(byoc_core::ConversationAccount::new(crate::conversation_id(
            "15555550123",
            "15555550999",
        )));
        assert_eq!(
            render(&a, &config()).unwrap()[0].phone_number.as_str(),
            "15555550123"
        );
    }

    #[test]
    fn render_refusals() {
        let c = config();
        assert_eq!(
            render(&Activity::message("hi"), &c),
            Err(RenderError::MissingRecipient)
        );
        assert_eq!(
            render(&msg("555", "hi"), &c),
            Err(RenderError::InvalidPhoneNumber {
                field: "recipient.id"
            })
        );
        assert_eq!(
            render(&msg("15555550123", "  "), &c),
            Err(RenderError::EmptyText)
        );
        assert!(matches!(
            render(&Activity::typing(), &c),
            Err(RenderError::UnsupportedActivity { .. })
        ));
        let long = "word ".repeat(400);
        assert_eq!(render(&msg("15555550123", &long), &c).unwrap().len(), 2);
        assert_eq!(
            render(
                &msg("15555550123", &long),
                &c.clone().with_long_text(LongText::Refuse)
            ),
            Err(RenderError::TextTooLong {
                chars: 1999,
                max: 1600
            })
        );
        let mut a = msg("15555550123", "x");
        a.channel_data = Some(
            byoc_core::RawJson::from_json_text(r#"{"sender_id":"123456789012345678901"}"#).unwrap(),
        );
        assert_eq!(
            render(&a, &c),
            Err(RenderError::InvalidField {
                field: "sender_id",
                reason: "must be 1 to 20 characters"
            })
        );
        a.channel_data = Some(byoc_core::RawJson::from_json_text(r#"{"sender_id":5}"#).unwrap());
        assert!(matches!(
            render(&a, &c),
            Err(RenderError::InvalidField {
                field: "channelData",
                ..
            })
        ));
    }
}
