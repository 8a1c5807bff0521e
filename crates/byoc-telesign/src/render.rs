//! Activity → TeleSign send requests: phone number normalization, text splitting at word
//! boundaries, GSM-7 / UCS-2 segment counting, and the `POST /v1/messaging` form
//! (`docs/protocols/telesign.md#send`).

use std::fmt;

use byoc_core::{Activity, ActivityType};
use serde::Deserialize;

use crate::config::{LongText, MAX_MESSAGE_CHARS, MAX_SENDER_ID_CHARS, TelesignConfig};
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

/// How many SMS segments a text takes. Advisory: TeleSign chooses the encoding
/// (`docs/protocols/telesign.md#segments`).
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
pub(crate) fn split_text(text: &str, max: usize) -> Vec<String> {
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
/// characters is split or refused per [`TelesignConfig::with_long_text`].
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
    let sender_id = cd
        .sender_id
        .or_else(|| config.sender_id().map(str::to_owned));
    if sender_id
        .as_ref()
        .is_some_and(|s| s.is_empty() || s.chars().count() > MAX_SENDER_ID_CHARS)
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
        match config.long_text() {
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
        .map_or_else(|| config.message_type().clone(), MessageType::from_wire);
    let callback_url = cd
        .callback_url
        .or_else(|| config.callback_url().map(|u| u.as_str().to_owned()));
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
mod tests;
