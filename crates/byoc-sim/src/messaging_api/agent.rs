//! The agent side: what a representative does in Omnichannel, delivered to the registered
//! webhook with a signed bearer token, retried as Omnichannel retries.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::Inner;
use super::keys;
use super::state::{ChannelRecord, DeliveryReport, SimMessage, SimState};

/// The agent side: what a representative does in Omnichannel, delivered to the webhook.
#[derive(Clone)]
pub struct Agent {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Agent")
    }
}

impl Agent {
    fn conversation(&self, id: &str) -> anyhow::Result<(String, Option<String>)> {
        let st = self.inner.lock();
        let c = st
            .conversations
            .get(id)
            .with_context(|| format!("no conversation {id}"))?;
        Ok((c.channel_id.clone(), c.customer_id.clone()))
    }

    fn set_state(&self, id: &str, state: SimState) {
        if let Some(c) = self.inner.lock().conversations.get_mut(id) {
            c.state = state;
        }
    }

    fn event_body(channel: &str, id: &str, name: &str, from: Option<&str>) -> Value {
        let mut v = json!({
            "type": "message",
            "channelId": channel,
            "conversation": { "id": id },
            "text": format!("EventName: **_{name}_**"),
            "name": name,
        });
        if let Some(f) = from {
            v["from"] = json!({ "id": f });
        }
        v
    }

    /// The agent accepts the conversation (`AgentAccepted`; state → Active).
    ///
    /// # Errors
    /// Unknown conversation or no registered channel.
    pub async fn accepts(&self, id: &str) -> anyhow::Result<DeliveryReport> {
        let (channel, _) = self.conversation(id)?;
        self.set_state(id, SimState::Active);
        let body = Self::event_body(&channel, id, "AgentAccepted", None);
        self.deliver(id, body).await
    }

    /// The agent says `text` (markdown).
    ///
    /// # Errors
    /// Unknown conversation or no registered channel.
    pub async fn says(&self, id: &str, text: &str) -> anyhow::Result<DeliveryReport> {
        let (channel, _) = self.conversation(id)?;
        let body = json!({
            "type": "message",
            "channelId": channel,
            "from": { "id": self.inner.agent_id, "name": self.inner.opts.agent_name },
            "conversation": { "id": id },
            "textFormat": "markdown",
            "text": text,
        });
        self.record(id, &body);
        self.deliver(id, body).await
    }

    /// The agent sends a file.
    ///
    /// # Errors
    /// Unknown conversation or no registered channel.
    pub async fn sends_attachment(
        &self,
        id: &str,
        name: &str,
        content_type: &str,
        url: &str,
    ) -> anyhow::Result<DeliveryReport> {
        let (channel, _) = self.conversation(id)?;
        let body = json!({
            "type": "message",
            "channelId": channel,
            "from": { "id": self.inner.agent_id, "name": self.inner.opts.agent_name },
            "conversation": { "id": id },
            "textFormat": "markdown",
            "attachments": [{ "contentType": content_type, "contentUrl": url, "content": null, "name": name, "thumbnailUrl": null }],
        });
        self.record(id, &body);
        self.deliver(id, body).await
    }

    /// The agent is typing.
    ///
    /// # Errors
    /// Unknown conversation or no registered channel.
    pub async fn typing(&self, id: &str) -> anyhow::Result<DeliveryReport> {
        let (_, customer) = self.conversation(id)?;
        let body = json!({
            "type": "typing",
            "channelId": "MessagingApi",
            "conversation": { "id": id },
            "recipient": { "id": customer.unwrap_or_default() },
        });
        self.deliver(id, body).await
    }

    /// The agent closes the conversation (`ConversationClosed`; state → Closed).
    ///
    /// # Errors
    /// Unknown conversation or no registered channel.
    pub async fn close(&self, id: &str) -> anyhow::Result<DeliveryReport> {
        let (channel, _) = self.conversation(id)?;
        self.set_state(id, SimState::Closed);
        let body = Self::event_body(
            &channel,
            id,
            "ConversationClosed",
            Some(&self.inner.agent_id),
        );
        self.deliver(id, body).await
    }

    /// Any named event, sent the way Omnichannel sends state events (a `message` with a
    /// `name`). A few names also change the simulated state.
    ///
    /// # Errors
    /// Unknown conversation, empty name, or no registered channel.
    pub async fn event(&self, id: &str, name: &str) -> anyhow::Result<DeliveryReport> {
        anyhow::ensure!(!name.is_empty(), "event name is empty");
        let (channel, _) = self.conversation(id)?;
        let state = match name {
            "AgentAccepted" | "AgentAssigned" => Some(SimState::Active),
            "AgentEndSession" | "PrimaryAgentEndConversation" => Some(SimState::WrapUp),
            "ConversationClose" | "ConversationClosed" => Some(SimState::Closed),
            "CustomerDisconnected" => Some(SimState::Waiting),
            "TransferToQueueInitiated" => Some(SimState::Open),
            _ => None,
        };
        if let Some(s) = state {
            self.set_state(id, s);
        }
        let body = Self::event_body(&channel, id, name, None);
        self.deliver(id, body).await
    }

    fn record(&self, id: &str, body: &Value) {
        let mut st = self.inner.lock();
        let message_id = st.next_message_id();
        let timestamp = st.next_timestamp();
        if let Some(c) = st.conversations.get_mut(id) {
            c.messages.push(SimMessage {
                message_id,
                timestamp,
                side: "agent",
                activity: body.clone(),
            });
        }
    }

    fn auth_header(&self, record: &ChannelRecord) -> anyhow::Result<(&'static str, String)> {
        let o = &self.inner.opts;
        if let Some(t) = &o.legacy_token {
            return Ok(("x-ms-token", t.clone()));
        }
        let now = chrono::Utc::now().timestamp();
        let tid = &record.tenant_id;
        let mut claims = json!({
            "aud": o.webhook_audience.clone().unwrap_or_else(|| record.app_id.clone()),
            "tid": tid,
            "sub": record.app_id,
            "oid": record.app_id,
            "iat": now, "nbf": now, "exp": now + 3600,
        });
        if o.v1_issuer {
            claims["iss"] = json!(format!("https://sts.windows.net/{tid}/"));
            claims["appid"] = json!(record.app_id);
            claims["ver"] = json!("1.0");
        } else {
            claims["iss"] = json!(format!("{}/{tid}/v2.0", self.inner.base));
            claims["azp"] = json!(record.app_id);
            claims["ver"] = json!("2.0");
        }
        Ok(("authorization", format!("Bearer {}", keys::sign(&claims)?)))
    }

    async fn deliver(&self, id: &str, body: Value) -> anyhow::Result<DeliveryReport> {
        let (channel, _) = self.conversation(id)?;
        let record = self
            .inner
            .lock()
            .channels
            .get(&channel)
            .cloned()
            .with_context(|| format!("channel {channel} is not registered"))?;
        let url = format!(
            "{}/v3/conversations/{id}/activities",
            record.webhook_url.trim_end_matches('/')
        );
        let (header, value) = self.auth_header(&record)?;
        let text = body.to_string();
        let o = &self.inner.opts;
        let mut attempts = Vec::new();
        let mut delivered = false;
        for attempt in 0..=o.webhook_retries {
            if attempt > 0 {
                tokio::time::sleep(o.webhook_retry_delay).await;
            }
            let send = self
                .inner
                .http
                .post(&url)
                .header(header, &value)
                .header("content-type", "application/json")
                .body(text.clone())
                .send();
            let status = match tokio::time::timeout(o.webhook_timeout, send).await {
                Ok(Ok(resp)) => Some(resp.status().as_u16()),
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, attempt, "webhook delivery failed");
                    None
                }
                Err(_) => None,
            };
            attempts.push(status);
            if status.is_some_and(|s| (200..300).contains(&s)) {
                delivered = true;
                break;
            }
        }
        let report = DeliveryReport {
            conversation_id: id.to_owned(),
            url,
            attempts,
            delivered,
            body: text,
        };
        self.inner.lock().deliveries.push(report.clone());
        Ok(report)
    }
}
