//! Dynamics 365 Omnichannel through the Messaging API.
//!
//! Out: the first delivery of a conversation creates the Omnichannel conversation with the
//! customer's context and the conversation's context variables, under the request id that
//! was stored in the record with the step that queued it (`conversationrequestid`: a retry
//! after a lost answer gets the same conversation, never a second one); the link is
//! recorded, then the activity is sent. Typing and the customer leaving go the same way.
//!
//! In: `POST /webhooks/{name}/v3/conversations/{id}/activities`, authenticated and
//! normalized by the adapter, keyed to the byoc conversation by the recorded link, and
//! persisted before Omnichannel hears `200`. A call for a conversation whose link is not
//! recorded yet (its create answer is still on the way) is waited for briefly, then
//! answered `503` so Omnichannel retries; nothing is acknowledged unpersisted.

use std::collections::BTreeMap;
use std::time::Duration;

use byoc_core::activity::ActivityType;
use byoc_core::conversation::ContextScalar;
use byoc_core::{AdapterError, ChannelAdapter as _, ConversationAccount, Delivery};
use byoc_messaging_api::{
    ContextVariable, CreateConversation, CustomerContext, MessagingApiAdapter,
};
use std::sync::Arc;

use super::{Relay, store_error};
use crate::model::ConversationRecord;
use crate::store::{ClaimedOutbound, ConversationKey, PlatformLink};

/// How long a webhook call waits for the link of a conversation just created.
const LINK_WAIT: Duration = Duration::from_secs(2);

/// The create request of a relayed conversation: the customer, the context variables the
/// conversation holds (their displayability kept) and byoc's own ids (hidden).
fn create_request(relay: &Relay, rec: &ConversationRecord) -> CreateConversation {
    let conv = &rec.conversation;
    let link = rec.relay.as_ref();
    let end_user = link.map_or_else(|| conv.customer_id().to_owned(), |l| l.end_user.clone());
    let mut customer = CustomerContext::new(truncate(&end_user, 200));
    if let Some(name) = &conv.customer.name {
        customer = customer.with_preferred_name(truncate(name, 200));
    }
    if relay.channel_kinds.get(&conv.channel_id) == Some(&"telesign") {
        customer = customer.with_phone(truncate(&end_user, 200));
    }
    let mut body = CreateConversation::new().with_customer(customer);
    if let Some(l) = link {
        body = body.with_request_id(l.request_id.clone());
    }
    let mut context: BTreeMap<String, ContextVariable> = conv
        .context
        .iter()
        .take(98)
        .map(|(name, v)| {
            let value = match &v.value {
                ContextScalar::String(s) => serde_json::Value::String(s.clone()),
                ContextScalar::Bool(b) => serde_json::Value::Bool(*b),
                ContextScalar::Number(n) => serde_json::json!(n),
            };
            let var = if v.is_displayable {
                ContextVariable::displayable(value)
            } else {
                ContextVariable::hidden(value)
            };
            (name.clone(), var)
        })
        .collect();
    context.insert(
        "byoc_channel".to_owned(),
        ContextVariable::hidden(conv.channel_id.clone()),
    );
    context.insert(
        "byoc_conversation".to_owned(),
        ContextVariable::hidden(conv.id.clone()),
    );
    for (name, var) in context {
        body = body.with_context_variable(name, var);
    }
    body
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Delivers a customer activity to Omnichannel, creating the conversation first if needed.
pub(super) async fn deliver(
    relay: &Relay,
    adapter: &MessagingApiAdapter,
    platform: &str,
    rec: &ConversationRecord,
    item: &ClaimedOutbound,
) -> Result<Delivery, AdapterError> {
    let kind = &item.activity.kind;
    if !matches!(
        kind,
        ActivityType::Message | ActivityType::Typing | ActivityType::EndOfConversation
    ) {
        tracing::debug!(conversation = %item.conversation_id, kind = %kind.as_str(), "nothing to send to Omnichannel");
        return Ok(Delivery::accepted(None));
    }
    let id = &rec.conversation.id;
    let existing = relay
        .links
        .platform_link(platform, id)
        .await
        .map_err(|e| store_error(&e))?;
    let omni_id = match existing {
        Some(link) => link.platform_conversation_id,
        None if *kind != ActivityType::Message => {
            // Typing or leaving before any message reached Omnichannel: nothing to tell.
            return Ok(Delivery::accepted(None));
        }
        None => {
            let body = create_request(relay, rec);
            let created = adapter
                .client()
                .create_conversation(&body)
                .await
                .map_err(AdapterError::from)?;
            let end_user = rec.relay.as_ref().map(|l| l.end_user.clone());
            let mut link = PlatformLink::new(platform, &created.conversation_id, id, &rec.key);
            if let Some(u) = end_user {
                link = link.with_end_user(u);
            }
            relay
                .links
                .save_platform_link(link)
                .await
                .map_err(|e| store_error(&e))?;
            tracing::info!(conversation = %id, %platform, is_new = created.is_new, "Omnichannel conversation created");
            created.conversation_id
        }
    };
    let mut activity = item.activity.clone();
    activity.conversation = Some(ConversationAccount::new(&omni_id));
    if activity.id.is_none() && activity.kind == ActivityType::Message {
        activity.id = Some(format!("byoc-{}", item.id));
    }
    adapter.send(&activity).await
}

/// The bridge's sink for a Messaging API platform entry's webhook (its agents' side): the
/// activities are grouped by Omnichannel conversation, each group persisted for the byoc
/// conversation it is linked to; an unknown conversation (its link not yet committed) or a
/// store failure answers `503`, so Omnichannel retries.
pub(crate) struct PlatformSink {
    pub(crate) relay: Arc<Relay>,
    pub(crate) platform: String,
}

#[async_trait::async_trait]
impl byoc_axum::ActivitySink for PlatformSink {
    async fn accept(
        &self,
        received: byoc_axum::Received,
    ) -> Result<byoc_axum::Answer, byoc_axum::SinkError> {
        let platform = self.platform.as_str();
        let mut by_conversation: BTreeMap<String, Vec<byoc_core::Activity>> = BTreeMap::new();
        for a in received.activities {
            let key = a.conversation_id().unwrap_or_default().to_owned();
            by_conversation.entry(key).or_default().push(a);
        }
        for (omni_id, activities) in by_conversation {
            let Some(to) = wait_for_link(&self.relay, platform, &omni_id).await else {
                tracing::warn!(%platform, "webhook for a conversation byoc does not know (yet); answering 503");
                return Err(byoc_axum::SinkError::unavailable(
                    "unknown conversation; retry",
                ));
            };
            if let Err(e) = self.relay.accept(platform, &to, activities).await {
                tracing::error!(%platform, error = %e, "platform webhook not persisted; answering 503");
                return Err(byoc_axum::SinkError::unavailable("try again later"));
            }
        }
        Ok(byoc_axum::Answer::Adapter)
    }
}

async fn wait_for_link(relay: &Relay, platform: &str, omni_id: &str) -> Option<ConversationKey> {
    let started = tokio::time::Instant::now();
    loop {
        match relay.conversation_for(platform, Some(omni_id), None).await {
            Ok(Some(to)) => return Some(to),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%platform, error = %e, "link lookup failed");
                return None;
            }
        }
        if started.elapsed() >= LINK_WAIT {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
