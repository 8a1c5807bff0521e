//! The agent side: the Pub/Sub entries Salesforce sends to a BYOC connector when a rep,
//! a bot or the platform acts, published on the simulator's event bus.

use super::SalesforceSim;
use super::state::now_ms;

impl SalesforceSim {
    /// A rep (or with `bot`, the Agentforce bot) sends `text` to `end_user`; returns the
    /// entry identifier.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_says(
        &self,
        end_user: &str,
        sender: &str,
        name: &str,
        text: &str,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let (app, role) = if sender.starts_with("005") {
            ("agent", "Agent")
        } else {
            ("chatbot", "Chatbot")
        };
        let entry = serde_json::json!({
            "senderDisplayName": name, "identifier": id, "entryType": "Message",
            "entryPayload": {"entryType": "Message", "id": id, "abstractMessage": {
                "messageType": "StaticContentMessage", "id": id,
                "staticContent": {"formatType": "Text", "text": text}}, "messageReason": null},
            "sender": {"appType": app, "subject": sender, "role": role},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }

    /// The bot escalates: a RoutingRequested (Transfer) event through `flow_id`, or to
    /// `user_id`; returns the routing correlation id (`channelData.eventId`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn bot_escalates(
        &self,
        end_user: &str,
        flow_id: Option<&str>,
        user_id: Option<&str>,
    ) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let event_id = uuid::Uuid::new_v4().to_string();
        let channel_data = serde_json::json!({
            "eventId": event_id, "routerParticipantSubject": uuid::Uuid::new_v4().to_string(),
            "routingType": "Transfer", "conversationId": conv.conversation_identifier
        })
        .to_string();
        let payload = serde_json::json!({
            "channelAddressIdentifier": self.shared.cfg.channel_address,
            "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
            "payload": {
                "conversationIdentifier": conv.conversation_identifier,
                "routingParameters": {"queueId": null, "channelData": channel_data, "isTransfer": true,
                    "routingConfigId": null, "userId": user_id, "skillsList": [], "botId": null,
                    "flowId": flow_id, "isScrt2": true},
                "routingType": "Transfer", "workRecordId": null
            }
        });
        self.shared
            .publish("RoutingRequested", &payload.to_string())?;
        Ok(event_id)
    }

    /// A rep joins the conversation (ParticipantChanged `add`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn agent_joins(&self, end_user: &str, user_id: &str, name: &str) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let entry = serde_json::json!({
            "senderDisplayName": "System", "identifier": id, "entryType": "ParticipantChanged",
            "entryPayload": {"entryType": "ParticipantChanged", "id": id, "entries": [{
                "operation": "add", "displayName": name,
                "participant": {"appType": "agent", "subject": user_id, "role": "Agent"}}]},
            "sender": {"appType": "conversation", "subject": conv.conversation_identifier, "role": "System"},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }

    /// The session ends (SessionStatusChanged `Ended`).
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn end_session(&self, end_user: &str) -> anyhow::Result<String> {
        let conv = self.shared.conversation(end_user);
        let id = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now().timestamp();
        let entry = serde_json::json!({
            "senderDisplayName": "System", "identifier": id, "entryType": "SessionStatusChanged",
            "entryPayload": {"entryType": "SessionStatusChanged", "id": id,
                "conversationIdentifier": conv.conversation_identifier,
                "channelAddressIdentifier": self.shared.cfg.channel_address,
                "sessionId": conv.work_item_id, "sessionStatus": "Ended", "sessionStatusPrev": "Active",
                "sessionEndedByRole": "Agent", "sessionStartTime": now, "sessionEndTime": now},
            "sender": {"appType": "conversation", "subject": conv.conversation_identifier, "role": "System"},
            "transcriptedTimestamp": now_ms(), "clientTimestamp": now_ms(), "clientDuration": 0
        });
        self.shared
            .publish("Interaction", &self.shared.envelope(end_user, &conv, entry))?;
        Ok(id)
    }
}
