//! More of the entries Salesforce publishes to a BYOC connector: attachments, typing,
//! attachment upload results (`MessageUpdated`), a rep leaving, receipts, queue position,
//! consent, routing results, and any other entry through [`SalesforceSim::publish_entry`].
//! Shapes follow Salesforce's outbound event schema: every `entryPayload` carries `id` and
//! `entryType`, wrapped with the sender, display name and timestamps.

use serde_json::{Value, json};

use super::SalesforceSim;
use super::state::now_ms;

/// Who an entry is from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimSender {
    /// `appType`: `agent`, `chatbot`, `conversation` (the system), ...
    pub app_type: String,
    /// `subject`: a user id (`005...`), a bot id, or the conversation identifier.
    pub subject: String,
    /// `role`: `Agent`, `Chatbot`, `System`, `Router`, ...
    pub role: String,
    /// `senderDisplayName`.
    pub display_name: String,
}

impl SimSender {
    /// A rep.
    #[must_use]
    pub fn agent(user_id: &str, name: &str) -> Self {
        Self {
            app_type: "agent".into(),
            subject: user_id.into(),
            role: "Agent".into(),
            display_name: name.into(),
        }
    }

    /// A bot.
    #[must_use]
    pub fn chatbot(bot_id: &str, name: &str) -> Self {
        Self {
            app_type: "chatbot".into(),
            subject: bot_id.into(),
            role: "Chatbot".into(),
            display_name: name.into(),
        }
    }

    /// The conversation itself (system entries).
    #[must_use]
    pub fn system(conversation_identifier: &str) -> Self {
        Self {
            app_type: "conversation".into(),
            subject: conversation_identifier.into(),
            role: "System".into(),
            display_name: "System".into(),
        }
    }
}

/// A file a rep sends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimAttachment {
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Where the file can be downloaded.
    pub url: String,
}

impl SimAttachment {
    /// A file.
    #[must_use]
    pub fn new(name: &str, mime_type: &str, url: &str) -> Self {
        Self {
            name: name.into(),
            mime_type: mime_type.into(),
            url: url.into(),
        }
    }
}

/// The outcome of uploading an end user's file, as `MessageUpdated` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadResult {
    /// `CompletedAttachmentUploadResult`.
    Completed,
    /// `PendingAttachmentUploadResult`, with its reference id.
    Pending {
        /// `referenceId`.
        reference_id: String,
    },
    /// `ErrorAttachmentUploadResult` with its `errorType` (`AttachmentTooLarge`,
    /// `StorageLimitExceeded`, `AttachmentNotFound`, `AttachmentUploadNotEnabled`,
    /// `AttachmentUploadNotAllowed`, `InternalServerError`).
    Error {
        /// `errorType`.
        error_type: String,
    },
}

impl UploadResult {
    fn to_json(&self) -> Value {
        match self {
            Self::Completed => json!({ "resultType": "CompletedAttachmentUploadResult" }),
            Self::Pending { reference_id } => {
                json!({ "resultType": "PendingAttachmentUploadResult", "referenceId": reference_id })
            }
            Self::Error { error_type } => {
                json!({ "resultType": "ErrorAttachmentUploadResult", "errorType": error_type })
            }
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn attachments_json(files: &[(SimAttachment, Option<UploadResult>)]) -> Vec<Value> {
    files
        .iter()
        .map(|(f, result)| {
            json!({
                "name": f.name, "id": new_id(), "mimeType": f.mime_type, "url": f.url,
                "referenceId": new_id(),
                "attachmentUploadResult": result.as_ref().map_or(Value::Null, UploadResult::to_json),
            })
        })
        .collect()
}

impl SalesforceSim {
    /// Publishes one entry to `end_user`'s conversation: `entry_payload` gets `id` and
    /// `entryType` (unless present), and is wrapped with `sender` and timestamps, as an
    /// `Interaction` event. Returns the entry identifier.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn publish_entry(
        &self,
        end_user: &str,
        entry_type: &str,
        sender: &SimSender,
        mut entry_payload: Value,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = match entry_payload.get("id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => new_id(),
        };
        if let Some(o) = entry_payload.as_object_mut() {
            o.insert("id".into(), Value::String(id.clone()));
            o.insert("entryType".into(), Value::String(entry_type.into()));
        }
        let entry = json!({
            "senderDisplayName": sender.display_name, "identifier": id, "entryType": entry_type,
            "entryPayload": entry_payload,
            "sender": {"appType": sender.app_type, "subject": sender.subject, "role": sender.role},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }

    /// A rep sends files (with an optional caption): a `Message` with `Attachments` static
    /// content.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_sends_attachments(
        &self,
        end_user: &str,
        sender: &SimSender,
        text: Option<&str>,
        files: &[SimAttachment],
    ) -> anyhow::Result<String> {
        let id = new_id();
        let files: Vec<(SimAttachment, Option<UploadResult>)> =
            files.iter().cloned().map(|f| (f, None)).collect();
        let mut content =
            json!({ "formatType": "Attachments", "attachments": attachments_json(&files) });
        if let Some(t) = text {
            content["text"] = Value::String(t.into());
        }
        self.publish_entry(
            end_user,
            "Message",
            sender,
            json!({ "id": id, "abstractMessage": {
                "messageType": "StaticContentMessage", "id": id, "staticContent": content },
                "messageReason": null }),
        )
    }

    /// A rep (or bot) starts or stops typing: `TypingStartedIndicator` /
    /// `TypingStoppedIndicator`.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_typing(
        &self,
        end_user: &str,
        sender: &SimSender,
        started: bool,
    ) -> anyhow::Result<String> {
        let kind = if started {
            "TypingStartedIndicator"
        } else {
            "TypingStoppedIndicator"
        };
        self.publish_entry(end_user, kind, sender, json!({ "timestamp": now_ms() }))
    }

    /// The result of uploading the end user's files of message `message_id`: a
    /// `MessageUpdated` entry whose `updatedMessage` carries the text and each file with its
    /// `attachmentUploadResult`.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn attachment_upload_result(
        &self,
        end_user: &str,
        message_id: &str,
        text: Option<&str>,
        files: &[(SimAttachment, UploadResult)],
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let files: Vec<(SimAttachment, Option<UploadResult>)> =
            files.iter().cloned().map(|(f, r)| (f, Some(r))).collect();
        let mut content =
            json!({ "formatType": "Attachments", "attachments": attachments_json(&files) });
        if let Some(t) = text {
            content["text"] = Value::String(t.into());
        }
        self.publish_entry(
            end_user,
            "MessageUpdated",
            &SimSender::system(&conv.conversation_identifier),
            json!({ "updatedMessage": {
                "messageType": "StaticContentMessage", "id": message_id, "staticContent": content } }),
        )
    }

    /// A rep leaves the conversation (ParticipantChanged `remove`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_leaves(
        &self,
        end_user: &str,
        user_id: &str,
        name: &str,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        self.publish_entry(
            end_user,
            "ParticipantChanged",
            &SimSender::system(&conv.conversation_identifier),
            json!({ "entries": [{ "operation": "remove", "displayName": name,
                "participant": {"appType": "agent", "subject": user_id, "role": "Agent"} }] }),
        )
    }

    /// A delivery (`read == false`) or read receipt of entry `entry_id` from the rep's side:
    /// `DeliveryAcknowledgement` / `ReadAcknowledgement`.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn receipt(
        &self,
        end_user: &str,
        sender: &SimSender,
        entry_id: &str,
        read: bool,
    ) -> anyhow::Result<String> {
        let kind = if read {
            "ReadAcknowledgement"
        } else {
            "DeliveryAcknowledgement"
        };
        self.publish_entry(
            end_user,
            kind,
            sender,
            json!({ "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
                "acknowledgedConversationEntryIdentifier": entry_id,
                "acknowledgementTimestamp": now_ms() }),
        )
    }

    /// The conversation's place in the queue (`QueuePosition`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn queue_position(&self, end_user: &str, position: u32) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        self.publish_entry(
            end_user,
            "QueuePosition",
            &SimSender::system(&conv.conversation_identifier),
            json!({ "pendingServiceRoutingId": "0JR5g000000PsR1",
                "workItemId": conv.work_item_id, "position": position }),
        )
    }

    /// The end user's consent changed (`EndUserConsentUpdated`, `OptIn` or `OptOut`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn consent_updated(&self, end_user: &str, opted_in: bool) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        self.publish_entry(
            end_user,
            "EndUserConsentUpdated",
            &SimSender::system(&conv.conversation_identifier),
            json!({ "endUserSubject": end_user,
                "consentStatus": if opted_in { "OptIn" } else { "OptOut" },
                "isEndUserInitiated": true }),
        )
    }

    /// The outcome of routing (`RoutingResult`): `failure_type` `None` for success, else
    /// `Unknown`, `SubmissionError`, `RoutingError` or `Cancelled`, with its messages.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn routing_result(
        &self,
        end_user: &str,
        failure_type: &str,
        error_messages: &[&str],
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        self.publish_entry(
            end_user,
            "RoutingResult",
            &SimSender::system(&conv.conversation_identifier),
            json!({ "routingType": "Initial", "failureType": failure_type,
                "errorMessages": error_messages, "recordId": conv.work_item_id,
                "pendingServiceRoutingId": "0JR5g000000PsR1", "isExternallyRouted": false }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::{SimConfig, lock};

    /// The payload JSON of published event `n` (0-based).
    fn published(sim: &SalesforceSim, n: usize) -> Value {
        let events = lock(&sim.shared.events);
        let mut bytes = events[n].payload.as_slice();
        let v = apache_avro::from_avro_datum(&sim.shared.schema, &mut bytes, None).unwrap();
        let apache_avro::types::Value::Record(fields) = v else {
            panic!("a record")
        };
        let payload = fields
            .iter()
            .find(|(k, _)| *k == sim.shared.cfg.payload_field)
            .map(|(_, v)| v.clone())
            .unwrap();
        let apache_avro::types::Value::Union(_, inner) = payload else {
            panic!("a union")
        };
        let apache_avro::types::Value::String(s) = *inner else {
            panic!("a string")
        };
        serde_json::from_str(&s).unwrap()
    }

    #[tokio::test]
    async fn every_entry_type_is_published_with_its_payload() {
        let sim = SalesforceSim::start(SimConfig::default()).await.unwrap();
        let rep = SimSender::agent("0055g00000Jk7Qp", "Grace Liu");
        let user = "15555550123";
        let label = SimAttachment::new(
            "label.pdf",
            "application/pdf",
            "https://files.example/l.pdf",
        );
        sim.agent_sends_attachments(user, &rep, Some("your label"), std::slice::from_ref(&label))
            .unwrap();
        sim.agent_typing(user, &rep, true).unwrap();
        sim.agent_typing(user, &rep, false).unwrap();
        sim.attachment_upload_result(
            user,
            "m-1",
            Some("photo"),
            &[
                (label.clone(), UploadResult::Completed),
                (
                    label.clone(),
                    UploadResult::Error {
                        error_type: "AttachmentTooLarge".into(),
                    },
                ),
            ],
        )
        .unwrap();
        sim.agent_leaves(user, "0055g00000Jk7Qp", "Grace Liu")
            .unwrap();
        sim.receipt(user, &rep, "e-1", true).unwrap();
        sim.queue_position(user, 3).unwrap();
        sim.consent_updated(user, false).unwrap();
        sim.routing_result(user, "RoutingError", &["no agent"])
            .unwrap();

        let kinds: Vec<String> = (0..sim.published())
            .map(|n| {
                published(&sim, n)["payload"]["entryType"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "Message",
                "TypingStartedIndicator",
                "TypingStoppedIndicator",
                "MessageUpdated",
                "ParticipantChanged",
                "ReadAcknowledgement",
                "QueuePosition",
                "EndUserConsentUpdated",
                "RoutingResult",
            ]
        );
        let files =
            &published(&sim, 0)["payload"]["entryPayload"]["abstractMessage"]["staticContent"];
        assert_eq!(files["formatType"], "Attachments");
        assert_eq!(files["attachments"][0]["mimeType"], "application/pdf");
        let typing = &published(&sim, 1)["payload"]["entryPayload"];
        assert!(typing["timestamp"].is_i64() && typing["id"].is_string());
        let updated = &published(&sim, 3)["payload"]["entryPayload"]["updatedMessage"];
        assert_eq!(updated["id"], "m-1");
        let results = &updated["staticContent"]["attachments"];
        assert_eq!(
            results[0]["attachmentUploadResult"]["resultType"],
            "CompletedAttachmentUploadResult"
        );
        assert_eq!(
            results[1]["attachmentUploadResult"]["errorType"],
            "AttachmentTooLarge"
        );
        assert_eq!(
            published(&sim, 4)["payload"]["entryPayload"]["entries"][0]["operation"],
            "remove"
        );
        assert_eq!(
            published(&sim, 5)["payload"]["entryPayload"]["acknowledgedConversationEntryIdentifier"],
            "e-1"
        );
        assert_eq!(published(&sim, 6)["payload"]["entryPayload"]["position"], 3);
        assert_eq!(
            published(&sim, 7)["payload"]["entryPayload"]["consentStatus"],
            "OptOut"
        );
        assert_eq!(
            published(&sim, 8)["payload"]["entryPayload"]["errorMessages"][0],
            "no agent"
        );
        for n in 0..sim.published() {
            let event = published(&sim, n);
            assert_eq!(event["recipient"]["subject"], user);
            assert_eq!(
                event["channelAddressIdentifier"],
                sim.config().channel_address
            );
        }
    }
}
