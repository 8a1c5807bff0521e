//! Bots reached through Direct Line: one Direct Line conversation per byoc conversation and
//! bot, started on the first activity the outbox delivers to the bot, its id kept in the
//! store. A reader per conversation polls the bot's replies; each batch is persisted in
//! the inbox together with the new watermark (in one transaction), so a restart resumes
//! after the last activity persisted and none is read twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use byoc_core::{AdapterError, Secret};
use byoc_directline::{
    ClientError, DirectLineClient, DirectLineConfig, DirectLineCredential, HttpTransport,
};
use tokio::task::JoinHandle;

use crate::config::BotConfig;
use crate::model::InboxEvent;
use crate::store::{BotSession, NewInbound, Store};

/// Wakes the dispatcher for a key once bot activities are persisted.
pub(crate) type Wake = Arc<dyn Fn(&str) + Send + Sync>;

struct Session {
    client: Arc<DirectLineClient>,
    reader: JoinHandle<()>,
}

/// The bots, and the live Direct Line conversations with them.
pub(crate) struct Bots {
    configs: HashMap<String, BotConfig>,
    transport: Arc<dyn HttpTransport>,
    store: Arc<dyn Store>,
    wake: Wake,
    sessions: tokio::sync::Mutex<HashMap<(String, String), Arc<Session>>>,
}

impl std::fmt::Debug for Bots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bots")
            .field("bots", &self.configs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Bots {
    pub(crate) fn new(
        configs: &[BotConfig],
        transport: Arc<dyn HttpTransport>,
        store: Arc<dyn Store>,
        wake: Wake,
    ) -> Self {
        Self {
            configs: configs.iter().map(|b| (b.id.clone(), b.clone())).collect(),
            transport,
            store,
            wake,
            sessions: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn client(
        &self,
        config: &BotConfig,
        conversation_id: &str,
    ) -> Result<Arc<DirectLineClient>, AdapterError> {
        let named = |e: byoc_directline::ConfigError| {
            AdapterError::configuration(format!("bot {}: {e}", config.id))
        };
        let base_url =
            crate::channels::parse_url(&config.id, "directline_url", &config.directline_url)?;
        let dl = DirectLineConfig::new(DirectLineCredential::Secret(Secret::new(
            config.secret.secret(),
        )))
        .map_err(named)?
        .with_base_url(base_url)
        .map_err(named)?
        .with_user(
            format!("byoc-{conversation_id}"),
            Some("customer".to_owned()),
        )
        .map_err(named)?
        .with_poll_interval(config.poll_interval)
        .map_err(named)?;
        Ok(Arc::new(
            DirectLineClient::with_transport(dl, Arc::clone(&self.transport)).map_err(named)?,
        ))
    }

    /// Posts an activity to the bot in the conversation's Direct Line conversation, starting
    /// (or resuming) it first.
    pub(crate) async fn send(
        self: &Arc<Self>,
        bot: &str,
        conversation_id: &str,
        conv_key: &str,
        activity: &byoc_core::Activity,
    ) -> Result<byoc_core::Delivery, AdapterError> {
        let session = self.session(bot, conversation_id, conv_key, None).await?;
        let id = session.client.post_activity(activity).await?;
        if activity.kind == byoc_core::ActivityType::EndOfConversation {
            // The customer left (a relayed workstream told the bot): nothing more to read.
            self.release(conversation_id, bot).await;
        }
        Ok(byoc_core::Delivery::accepted(
            (!id.is_empty()).then_some(id),
        ))
    }

    /// The live session, started or resumed as needed.
    async fn session(
        self: &Arc<Self>,
        bot: &str,
        conversation_id: &str,
        conv_key: &str,
        known: Option<BotSession>,
    ) -> Result<Arc<Session>, AdapterError> {
        let key = (conversation_id.to_owned(), bot.to_owned());
        let mut sessions = self.sessions.lock().await;
        if let Some(s) = sessions.get(&key) {
            return Ok(Arc::clone(s));
        }
        let config = self
            .configs
            .get(bot)
            .ok_or_else(|| AdapterError::configuration(format!("no bot `{bot}` configured")))?;
        let client = self.client(config, conversation_id)?;
        let stored = match known {
            Some(s) => Some(s),
            None => self
                .store
                .bot_session(conversation_id, bot)
                .await
                .map_err(|e| AdapterError::transient(format!("store: {e}")))?,
        };
        let session = match stored {
            Some(s) => {
                client
                    .resume(&s.dl_conversation_id, s.watermark.clone())
                    .await?;
                s
            }
            None => {
                let started = client.start().await?;
                let s = BotSession {
                    conversation_id: conversation_id.to_owned(),
                    bot_id: bot.to_owned(),
                    conv_key: conv_key.to_owned(),
                    dl_conversation_id: started.conversation_id,
                    watermark: None,
                };
                self.store
                    .save_bot_session(s.clone())
                    .await
                    .map_err(|e| AdapterError::transient(format!("store: {e}")))?;
                s
            }
        };
        let reader = tokio::spawn(read(
            Arc::clone(&client),
            session,
            Arc::clone(&self.store),
            Arc::clone(&self.wake),
            config.poll_interval,
        ));
        let s = Arc::new(Session { client, reader });
        sessions.insert(key, Arc::clone(&s));
        Ok(s)
    }

    /// Resumes reading the replies of every bot session still in use (after a restart).
    pub(crate) async fn resume_all(self: &Arc<Self>) {
        let sessions = match self.store.active_bot_sessions().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "bot sessions not resumed");
                return;
            }
        };
        for s in sessions {
            let (bot, conv, key) = (
                s.bot_id.clone(),
                s.conversation_id.clone(),
                s.conv_key.clone(),
            );
            if let Err(e) = self.session(&bot, &conv, &key, Some(s)).await {
                tracing::warn!(conversation = %conv, %bot, error = %e, "bot session not resumed");
            }
        }
    }

    /// The bot no longer holds the conversation: stop reading and forget the session.
    pub(crate) async fn release(&self, conversation_id: &str, bot: &str) {
        let removed = self
            .sessions
            .lock()
            .await
            .remove(&(conversation_id.to_owned(), bot.to_owned()));
        if let Some(s) = removed {
            s.reader.abort();
        }
        if let Err(e) = self.store.end_bot_session(conversation_id, bot).await {
            tracing::warn!(conversation = %conversation_id, %bot, error = %e, "bot session not marked ended");
        }
    }

    /// Stops every reader.
    pub(crate) async fn stop(&self) {
        for (_, s) in self.sessions.lock().await.drain() {
            s.reader.abort();
        }
    }
}

/// Polls the bot's replies and persists each batch with its watermark.
async fn read(
    client: Arc<DirectLineClient>,
    mut session: BotSession,
    store: Arc<dyn Store>,
    wake: Wake,
    every: Duration,
) {
    let user = client.user().id.unwrap_or_default();
    let channel = format!("bot:{}", session.bot_id);
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(every).await;
        let batch = match client.get_activities().await {
            Ok(b) => b,
            Err(ClientError::ConversationEnded) => {
                tracing::info!(conversation = %session.conversation_id, bot = %session.bot_id, "Direct Line conversation ended");
                return;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(conversation = %session.conversation_id, bot = %session.bot_id, error = %e, "reading bot replies failed");
                tokio::time::sleep(every * failures.min(30)).await;
                continue;
            }
        };
        failures = 0;
        let watermark = client.watermark().await;
        if batch.is_empty() && watermark == session.watermark {
            continue;
        }
        let events: Vec<NewInbound> = batch
            .into_iter()
            .filter(|a| a.from_id() != Some(user.as_str()))
            .map(|a| {
                NewInbound::new(
                    channel.clone(),
                    a.id.clone(),
                    session.conv_key.clone(),
                    InboxEvent::Bot {
                        bot: session.bot_id.clone(),
                        activity: Box::new(a),
                    },
                )
            })
            .collect();
        let count = events.len();
        session.watermark = watermark;
        loop {
            match store
                .accept_inbound(events.clone(), Some(session.clone()))
                .await
            {
                Ok(_) => break,
                Err(e) => {
                    // The replies stay unread at Direct Line until they are persisted.
                    tracing::warn!(error = %e, "bot replies not persisted; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        if count > 0 {
            metrics::counter!(crate::metrics::MESSAGES_IN, "channel" => channel.clone())
                .increment(count as u64);
            wake(&session.conv_key);
        }
    }
}
