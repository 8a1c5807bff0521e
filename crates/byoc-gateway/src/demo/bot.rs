//! The demo's sample bot: a real Bot Framework bot. Its messaging endpoint validates the
//! channel JWT the Direct Line service signs ([`BotEndpoint`]) and it answers through the
//! Connector with a client-credentials token, exactly as a bot hosted on Azure does.
//!
//! It greets, asks what the question is about, records the answer as context variables and
//! hands off with the Omnichannel `Escalate` command (`channelData.tags`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse as _;
use byoc_core::{Activity, ChannelAdapter as _};
use byoc_directline::BotCommand;
use byoc_directline::ConnectorAdapter;

/// The bot's first answer.
pub(crate) const GREETING: &str =
    "Hi, I'm the byoc sample bot. What is your question about? (billing, delivery, other)";

#[derive(Default)]
struct Memory {
    /// Conversations that were greeted (and wait for their topic).
    greeted: HashMap<String, ()>,
}

/// The bot's axum app: `POST /api/messages`.
pub(crate) fn app(endpoint: Arc<ConnectorAdapter>) -> axum::Router {
    let memory = Arc::new(Mutex::new(Memory::default()));
    axum::Router::new().route(
        "/api/messages",
        axum::routing::post(move |req: axum::extract::Request| {
            let endpoint = Arc::clone(&endpoint);
            let memory = Arc::clone(&memory);
            async move {
                let (parts, body) = req.into_parts();
                let Ok(body) = axum::body::to_bytes(body, 256 * 1024).await else {
                    return http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
                };
                let inbound = match endpoint
                    .receive(http::Request::from_parts(parts, body))
                    .await
                {
                    Ok(i) => i,
                    Err(e) => return e.to_response().map(axum::body::Body::from),
                };
                for activity in inbound.activities {
                    if !activity.is_message() {
                        continue;
                    }
                    let replies = answer(&memory, &activity);
                    let endpoint = Arc::clone(&endpoint);
                    tokio::spawn(async move {
                        for reply in replies {
                            if let Err(e) = endpoint.send(&reply).await {
                                tracing::warn!(error = %e, "sample bot reply not sent");
                            }
                        }
                    });
                }
                inbound.response.map(axum::body::Body::from)
            }
        }),
    )
}

/// The bot's replies to one message.
fn answer(memory: &Mutex<Memory>, activity: &Activity) -> Vec<Activity> {
    let conv = activity.conversation_id().unwrap_or_default().to_owned();
    let mut memory = memory
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if memory.greeted.insert(conv.clone(), ()).is_none() {
        return vec![activity.create_reply(GREETING)];
    }
    memory.greeted.remove(&conv);
    let said = activity.text.clone().unwrap_or_default();
    let topic = ["billing", "delivery"]
        .into_iter()
        .find(|t| said.to_lowercase().contains(t))
        .unwrap_or("other");
    let tell = activity.create_reply(format!("Thanks! Connecting you with a {topic} specialist."));
    let mut escalate = activity.create_reply(format!("Customer asked about {topic}: {said}"));
    let mut context = serde_json::Map::new();
    context.insert("BotHandoffTopic".into(), topic.into());
    context.insert("CustomerQuestion".into(), said.into());
    if BotCommand::escalate(context).apply(&mut escalate).is_err() {
        return vec![tell];
    }
    vec![tell, escalate]
}
