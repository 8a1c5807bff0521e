//! Which outbound events are ours (pure).
//!
//! The subscription receives the events of **every** channel and end user on the platform
//! event's topic. [`EventFilter`] keeps those whose `channelAddressIdentifier` is this
//! channel and, when a recipient set is given, whose `recipient.subject` is one of them
//! (see `docs/protocols/salesforce.md#filtering`). Comparisons are plain equality: these are
//! routing keys, not secrets.

use std::collections::HashSet;

use super::NormalizedEvent;

/// Why an event was not for us.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The event carries no `channelAddressIdentifier`.
    #[error("event has no channelAddressIdentifier")]
    MissingChannelAddress,
    /// The event is for another channel.
    #[error("event is for another channel")]
    OtherChannel,
    /// The event is for an end user this filter does not serve.
    #[error("event is for another recipient")]
    OtherRecipient,
}

/// Keeps the events of one channel (and optionally some end users).
#[derive(Clone, Debug)]
pub struct EventFilter {
    channel_address: String,
    recipients: Option<HashSet<String>>,
}

impl EventFilter {
    /// A filter on one channel, every recipient.
    #[must_use]
    pub fn new(channel_address: impl Into<String>) -> Self {
        Self {
            channel_address: channel_address.into(),
            recipients: None,
        }
    }

    /// Restricts to these end users.
    #[must_use]
    pub fn with_recipients<I: IntoIterator<Item = S>, S: Into<String>>(mut self, r: I) -> Self {
        self.recipients = Some(r.into_iter().map(Into::into).collect());
        self
    }

    /// The channel address identifier kept.
    #[must_use]
    pub fn channel_address(&self) -> &str {
        &self.channel_address
    }

    /// Checks one event.
    ///
    /// # Errors
    /// [`FilterError`] saying why the event is not ours.
    pub fn check(&self, event: &NormalizedEvent) -> Result<(), FilterError> {
        let addr = event
            .channel_address
            .as_deref()
            .ok_or(FilterError::MissingChannelAddress)?;
        if addr != self.channel_address {
            return Err(FilterError::OtherChannel);
        }
        if let Some(set) = &self.recipients {
            match event.recipient.as_deref() {
                Some(r) if set.contains(r) => {}
                _ => return Err(FilterError::OtherRecipient),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize_payload;

    fn event(channel: &str, recipient: &str) -> NormalizedEvent {
        let json = serde_json::json!({
            "channelAddressIdentifier": channel,
            "recipient": {"appType": "custom", "subject": recipient, "role": "EndUser"},
            "payload": {"identifier": "e", "entryType": "TypingStartedIndicator",
                        "entryPayload": {"timestamp": 1}}
        });
        normalize_payload(&json.to_string(), None).unwrap()
    }

    #[test]
    fn events_of_other_channels_and_recipients_are_not_ours() {
        let f = EventFilter::new("ch1");
        assert_eq!(f.check(&event("ch1", "u1")), Ok(()));
        assert_eq!(f.check(&event("ch2", "u1")), Err(FilterError::OtherChannel));
        let f = f.with_recipients(["u1"]);
        assert_eq!(f.check(&event("ch1", "u1")), Ok(()));
        assert_eq!(
            f.check(&event("ch1", "u2")),
            Err(FilterError::OtherRecipient)
        );
        let mut e = event("ch1", "u1");
        e.channel_address = None;
        assert_eq!(f.check(&e), Err(FilterError::MissingChannelAddress));
    }
}
