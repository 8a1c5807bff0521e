//! Salesforce through the Interaction Service: a customer's messages, files and typing as
//! interactions, the customer leaving as the end of the messaging session, a delivery
//! receipt as an acknowledgement, and (CCaaS) routing answers (`routing`).
//!
//! Entry ids are stable across retries (the customer's provider id, else the outbox row's
//! id, made a UUID by the adapter), so a retried interaction is never a second entry; one
//! Salesforce already holds (10073, "entry id reused") counts as delivered. A file behind a
//! URL is downloaded (25 MB at most, the types Salesforce takes) and sent inline; one it
//! cannot take goes as a link in the text. The first answer's conversation identifier and
//! work item are recorded as the conversation's link.

use std::time::Duration;

use base64::Engine as _;
use byoc_core::activity::ActivityType;
use byoc_core::{Activity, AdapterError, Attachment, ChannelAccount, Delivery};
use byoc_salesforce::{
    ALLOWED_MIME_TYPES, Acknowledgement, AcknowledgementType, ClientError, MAX_ATTACHMENT_BYTES,
    SalesforceAdapter, entry_id, render_interaction,
};

use super::{Relay, routing, store_error};
use crate::config::SalesforceSettings;
use crate::model::{Acknowledge, ConversationRecord, EVENT_ACKNOWLEDGE, EVENT_ROUTE, RoutingPlan};
use crate::store::{ClaimedOutbound, PlatformLink};

/// Salesforce's code for an entry id it already holds.
const ENTRY_ID_REUSED: &str = "10073";

/// The end user of a relayed conversation.
fn end_user(rec: &ConversationRecord) -> String {
    rec.relay.as_ref().map_or_else(
        || rec.conversation.customer_id().to_owned(),
        |l| l.end_user.clone(),
    )
}

pub(super) async fn deliver(
    relay: &Relay,
    adapter: &SalesforceAdapter,
    settings: &SalesforceSettings,
    platform: &str,
    rec: &ConversationRecord,
    item: &ClaimedOutbound,
) -> Result<Delivery, AdapterError> {
    let a = &item.activity;
    match (&a.kind, a.name.as_deref()) {
        (ActivityType::Event, Some(EVENT_ROUTE)) => {
            let plan: RoutingPlan = a
                .value_as()
                .map_err(|_| AdapterError::permanent(None, "routing plan unreadable"))?;
            routing::answer(relay, adapter, settings, platform, rec, item.id, &plan).await
        }
        (ActivityType::Event, Some(EVENT_ACKNOWLEDGE)) => {
            acknowledge(relay, adapter, platform, rec, a).await
        }
        (ActivityType::EndOfConversation, _) => {
            let Some(link) = relay
                .links
                .platform_link(platform, &rec.conversation.id)
                .await
                .map_err(|e| store_error(&e))?
            else {
                return Ok(Delivery::accepted(None));
            };
            adapter
                .client()
                .end_session(&end_user(rec), &link.platform_conversation_id)
                .await
                .map_err(AdapterError::from)?;
            Ok(Delivery::accepted(None).with_conversation_id(link.platform_conversation_id))
        }
        (ActivityType::Message | ActivityType::Typing | ActivityType::Event, _) => {
            interaction(relay, adapter, platform, rec, item).await
        }
        _ => Ok(Delivery::accepted(None)),
    }
}

async fn interaction(
    relay: &Relay,
    adapter: &SalesforceAdapter,
    platform: &str,
    rec: &ConversationRecord,
    item: &ClaimedOutbound,
) -> Result<Delivery, AdapterError> {
    let mut a = item.activity.clone();
    a.from = Some(ChannelAccount::new(end_user(rec)));
    if a.id.is_none() {
        a.id = Some(format!("byoc-{}", item.id));
    }
    a.id = Some(entry_id(&a));
    if a.kind == ActivityType::Message {
        inline_attachments(&mut a).await;
    }
    let client = adapter.client();
    let rendered = render_interaction(
        &a,
        client.config().channel_address(),
        chrono::Utc::now().timestamp_millis(),
    )
    .map_err(AdapterError::from)?;
    let answer = match client.send_interaction(&rendered).await {
        Ok(answer) => Some(answer),
        Err(e) if e.code() == Some(ENTRY_ID_REUSED) => {
            tracing::info!(conversation = %rec.conversation.id, "interaction already held by Salesforce; delivered");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let mut delivery = Delivery::accepted(a.id.clone());
    if let Some(answer) = answer
        && let Some(conversation) = answer.conversation_identifier
    {
        let link = PlatformLink::new(platform, &conversation, &rec.conversation.id, &rec.key)
            .with_end_user(end_user(rec))
            .with_work_item(answer.work_item_ids.into_iter().next());
        relay
            .links
            .save_platform_link(link)
            .await
            .map_err(|e| store_error(&e))?;
        delivery = delivery.with_conversation_id(conversation);
    }
    Ok(delivery)
}

async fn acknowledge(
    relay: &Relay,
    adapter: &SalesforceAdapter,
    platform: &str,
    rec: &ConversationRecord,
    a: &Activity,
) -> Result<Delivery, AdapterError> {
    let ack: Acknowledge = a
        .value_as()
        .map_err(|_| AdapterError::permanent(None, "acknowledgement unreadable"))?;
    let entry = relay
        .links
        .outbound_activity(ack.outbox_id)
        .await
        .map_err(|e| store_error(&e))?
        .filter(|(conversation, _)| conversation == &rec.conversation.id)
        .and_then(|(_, carried)| carried.id);
    let link = relay
        .links
        .platform_link(platform, &rec.conversation.id)
        .await
        .map_err(|e| store_error(&e))?;
    let (Some(entry), Some(link)) = (entry, link) else {
        // The receipt is of a message that was not the platform's (an automated one).
        return Ok(Delivery::accepted(None));
    };
    let kind = if ack.kind == "Read" {
        AcknowledgementType::Read
    } else {
        AcknowledgementType::Delivered
    };
    let created = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("{entry}:{}", ack.kind).as_bytes(),
    );
    adapter
        .client()
        .acknowledge(
            &end_user(rec),
            &link.platform_conversation_id,
            vec![Acknowledgement {
                timestamp: ack.at.timestamp_millis(),
                kind,
                acknowledged_entry: entry,
                created_entry: created.to_string(),
            }],
        )
        .await
        .map_err(|e: ClientError| AdapterError::from(e))?;
    Ok(Delivery::accepted(None))
}

/// Downloads the first attachment behind an `http(s)` URL and carries it inline; any
/// other attachment (or one that cannot be fetched or that Salesforce does not take)
/// becomes a link in the text.
async fn inline_attachments(a: &mut Activity) {
    let Some(atts) = a.attachments.take() else {
        return;
    };
    let mut links = Vec::new();
    let mut inline: Option<Attachment> = None;
    for att in atts {
        let url = att.content_url.clone().unwrap_or_default();
        if inline.is_none() {
            if url.starts_with("data:") {
                inline = Some(att);
                continue;
            }
            if let Some(data_uri) = download(&att).await {
                let mut carried = att.clone();
                carried.content_url = Some(data_uri);
                inline = Some(carried);
                continue;
            }
        }
        if !url.is_empty() {
            links.push(match &att.name {
                Some(n) => format!("{n}: {url}"),
                None => url,
            });
        }
    }
    if !links.is_empty() {
        let mut text = a.text.take().unwrap_or_default();
        for l in links {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&l);
        }
        a.text = Some(text);
    }
    a.attachments = inline.map(|i| vec![i]);
}

/// The file behind an attachment URL as a `data:` URI, when Salesforce takes its type and
/// size.
async fn download(att: &Attachment) -> Option<String> {
    let url = att.content_url.as_deref()?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return None;
    }
    let mime = att.content_type.as_deref().unwrap_or_default();
    if !ALLOWED_MIME_TYPES.contains(&mime) {
        return None;
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .ok()?;
    let response = client.get(url).send().await.ok()?.error_for_status().ok()?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ATTACHMENT_BYTES as u64)
    {
        return None;
    }
    let bytes = response.bytes().await.ok()?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return None;
    }
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Some(format!("data:{mime};base64,{data}"))
}
