//! The shell around the engine: starts the store, the adapters, the dispatcher, the outbox
//! worker, the timers and the HTTP server; applies each engine step's effects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use byoc_core::workstream::{Presence, RoutingState};
use byoc_core::{Activity, AdapterError, Delivery};
use chrono::Utc;
use tokio::sync::{Notify, broadcast, watch};

use crate::bots::Bots;
use crate::channels::{self, Channel};
use crate::config::{AgentPassword, Config};
use crate::dispatch::{Dispatcher, ProcessFn};
use crate::engine::{self, Context, Hop, Notice, RoutedTo};
use crate::model::{InboxEvent, Target};
use crate::outbox::{self, Deliver};
use crate::relay::Relay;
use crate::store::{
    Accepted, ClaimedOutbound, NewInbound, RelayStore, SqliteStore, StepCommit, Store, StoreError,
};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// An adapter could not be built from its configuration.
    #[error("adapter: {0}")]
    Adapter(#[from] AdapterError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A password could not be hashed.
    #[error("agent {0}: password could not be hashed")]
    Password(String),
}

/// Why an inbound delivery could not be persisted (answer 503 so the provider retries).
#[derive(Debug, thiserror::Error)]
#[error("inbound not persisted: {0}")]
#[non_exhaustive]
pub struct SinkError(#[from] StoreError);

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) channels: HashMap<String, Channel>,
    pub(crate) routing: Mutex<RoutingState>,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) bots: Arc<Bots>,
    /// The contact-center platforms relayed workstreams go to.
    pub(crate) relay: Arc<Relay>,
    pub(crate) hops: broadcast::Sender<Hop>,
    pub(crate) notices: broadcast::Sender<Notice>,
    pub(crate) outbox_wake: Arc<Notify>,
    pub(crate) timer_wake: Arc<Notify>,
    /// Agent id → argon2 PHC hash.
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) ready: AtomicBool,
}

impl Shared {
    pub(crate) fn routing(&self) -> std::sync::MutexGuard<'_, RoutingState> {
        self.routing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The queues an agent works (human member of).
    pub(crate) fn agent_queues(&self, agent: &str) -> Vec<String> {
        self.config
            .workstreams
            .iter()
            .flat_map(|w| &w.workstream.queues)
            .filter(|q| q.members.iter().any(|m| m.id == agent && !m.is_bot()))
            .map(|q| q.name.clone())
            .collect()
    }

    fn apply_load(&self, deltas: &[(String, i32)], sign: i32) {
        let mut routing = self.routing();
        for (agent, delta) in deltas {
            let s = routing
                .member_state(agent)
                .unwrap_or(byoc_core::workstream::MemberState {
                    presence: Presence::Offline,
                    load: 0,
                });
            routing.set_member(
                agent.clone(),
                s.presence,
                s.load.saturating_add_signed(delta * sign),
            );
        }
    }

    /// Processes every pending inbox event of one ordering key, in order.
    async fn process_key(self: Arc<Self>, key: String) -> Result<(), ()> {
        let channel = key
            .split_once(':')
            .map_or(key.as_str(), |(c, _)| c)
            .to_owned();
        let (Some(ws), Some(ch)) = (
            self.config.workstream_for(&channel),
            self.channels.get(&channel),
        ) else {
            tracing::error!(%key, "no workstream or channel for this key");
            return Err(());
        };
        let info = ch.adapter.info().clone();
        let mut current = self.store.current_conversation(&key).await.map_err(|e| {
            tracing::error!(%key, error = %e, "conversation not loaded");
        })?;
        // One pass: events that arrive meanwhile leave a wake-up that brings the worker back.
        {
            let items = self.store.pending_inbox(&key).await.map_err(|e| {
                tracing::error!(%key, error = %e, "inbox not read");
            })?;
            let full = items.len() >= crate::store::INBOX_BATCH;
            for item in items {
                let Some(event) = item.event else {
                    tracing::error!(%key, seq = item.seq, "unreadable inbox event skipped");
                    let skip = StepCommit {
                        record: None,
                        new_conversation: false,
                        processed: vec![item.seq],
                        transcript: Vec::new(),
                        outbox: Vec::new(),
                        timers: Vec::new(),
                    };
                    self.store.commit_step(skip).await.map_err(|_| ())?;
                    continue;
                };
                let new_id = uuid::Uuid::new_v4().simple().to_string();
                let step = {
                    let routing = self.routing();
                    let cx = Context {
                        workstream: ws,
                        channel: &info,
                        routing: &routing,
                        now: Utc::now(),
                        new_id: &new_id,
                    };
                    engine::step(current.clone(), &event, &cx)
                };
                self.apply_load(&step.load, 1);
                let new_conversation = step.record.as_ref().map(|r| &r.conversation.id)
                    != current.as_ref().map(|r| &r.conversation.id);
                let commit = StepCommit {
                    record: step.record.clone(),
                    new_conversation,
                    processed: vec![item.seq],
                    transcript: step.transcript,
                    outbox: step.outbox,
                    timers: step.timers,
                };
                let queued = commit.outbox.len();
                let timed = !commit.timers.is_empty();
                if let Err(e) = self.store.commit_step(commit).await {
                    self.apply_load(&step.load, -1);
                    tracing::error!(%key, error = %e, "step not committed; will retry");
                    return Err(());
                }
                if step.record.is_some() {
                    current = step.record;
                }
                for routed in &step.routed {
                    let outcome = match &routed.to {
                        RoutedTo::Bot(_) => "bot",
                        RoutedTo::Agent { .. } => "agent",
                        RoutedTo::Queued(_) => "queued",
                        RoutedTo::Full => "full",
                        RoutedTo::Unrouted => "unrouted",
                    };
                    metrics::counter!(crate::metrics::ROUTING_DECISIONS, "outcome" => outcome)
                        .increment(1);
                }
                for hop in step.hops {
                    tracing::info!(conversation = %hop.conversation, hop = ?hop.kind, "hop");
                    let _ = self.hops.send(hop);
                }
                for notice in step.notices {
                    let _ = self.notices.send(notice);
                }
                if let Some(rec) = &current {
                    for bot in &step.bots_released {
                        self.bots.release(&rec.conversation.id, bot).await;
                    }
                }
                if queued > 0 {
                    self.outbox_wake.notify_one();
                }
                if timed {
                    self.timer_wake.notify_one();
                }
            }
            if full {
                self.dispatcher.wake(&key);
            }
        }
        Ok(())
    }

    /// Persists one batch of inbound activities from a channel and wakes their workers.
    pub(crate) async fn accept(
        &self,
        channel: &str,
        activities: Vec<Activity>,
    ) -> Result<(), SinkError> {
        if activities.is_empty() {
            return Ok(());
        }
        let mut events: Vec<NewInbound> = Vec::with_capacity(activities.len());
        for a in activities {
            // A receipt names no conversation: the relay finds it by the message it reports on.
            let key = match self.relay.receipt_key(channel, &a).await {
                Some(key) => key,
                None => engine::conv_key(channel, &a),
            };
            events.push(NewInbound::new(
                channel,
                a.id.clone(),
                key,
                InboxEvent::Customer {
                    activity: Box::new(a),
                },
            ));
        }
        let keys: Vec<String> = events.iter().map(|e| e.conv_key.clone()).collect();
        let accepted = self.store.accept_inbound(events, None).await?;
        for (key, a) in keys.iter().zip(&accepted) {
            match a {
                Accepted::New(_) => {
                    metrics::counter!(crate::metrics::MESSAGES_IN, "channel" => channel.to_owned())
                        .increment(1);
                    self.dispatcher.wake(key);
                }
                Accepted::Duplicate => {
                    metrics::counter!(crate::metrics::DUPLICATES, "channel" => channel.to_owned())
                        .increment(1);
                    tracing::info!(%channel, "duplicate delivery dropped");
                }
            }
        }
        Ok(())
    }
}

struct Deliverer(Arc<Shared>);

#[async_trait::async_trait]
impl Deliver for Deliverer {
    async fn deliver(&self, item: &ClaimedOutbound) -> Result<Delivery, AdapterError> {
        match &item.target {
            Target::Channel(name) => {
                let channel =
                    self.0.channels.get(name).ok_or_else(|| {
                        AdapterError::configuration(format!("no channel `{name}`"))
                    })?;
                let mut activity = item.activity.clone();
                channel.mark(&mut activity, item.id);
                channel.adapter.send(&activity).await
            }
            Target::Bot(bot) => {
                let key = match self.0.store.conversation(&item.conversation_id).await {
                    Ok(Some(rec)) => rec.key,
                    Ok(None) => {
                        return Err(AdapterError::permanent(None, "conversation not found"));
                    }
                    Err(e) => return Err(AdapterError::transient(format!("store: {e}"))),
                };
                self.0
                    .bots
                    .send(bot, &item.conversation_id, &key, &item.activity)
                    .await
            }
            Target::Platform(platform) => self.0.relay.deliver(platform, item).await,
        }
    }
}

/// A running gateway. Dropping it does not stop it; call [`RunningGateway::shutdown`].
pub struct RunningGateway {
    pub(crate) shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningGateway {
    /// The address the HTTP server listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{local_addr}`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every conversation hop, as it happens.
    #[must_use]
    pub fn hops(&self) -> broadcast::Receiver<Hop> {
        self.shared.hops.subscribe()
    }

    /// The store (for inspection).
    #[must_use]
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.shared.store)
    }

    /// The relay's part of the store: platform links and replay ids (for inspection).
    #[must_use]
    pub fn relay_store(&self) -> Arc<dyn RelayStore> {
        Arc::clone(&self.shared.relay.links)
    }

    /// Persists activities from a channel as its webhook does (the sink an HTTP bridge
    /// calls after the adapter's `receive`), and wakes their processing. Returns once they
    /// are durable.
    ///
    /// # Errors
    /// [`SinkError`] when they could not be persisted (answer 503).
    pub async fn accept(&self, channel: &str, activities: Vec<Activity>) -> Result<(), SinkError> {
        self.shared.accept(channel, activities).await
    }

    /// Stops accepting requests, lets in-flight work finish (within the configured grace),
    /// and stops.
    pub async fn shutdown(self) {
        let grace = self.shared.config.server.shutdown_grace;
        self.shared.ready.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.server).await;
        self.shared.dispatcher.drain(grace).await;
        for t in self.tasks {
            let _ = tokio::time::timeout(grace, t).await;
        }
        self.shared.bots.stop().await;
    }

    /// Runs until Ctrl-C (or SIGTERM), then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts the gateway: opens the store (running migrations), builds the adapters, resumes
/// pending work (inbox events, outbox rows, timers, bot sessions) and serves HTTP.
///
/// # Errors
/// [`StartError`].
pub async fn start(config: Config) -> Result<RunningGateway, StartError> {
    // Installed before anything is counted (a recorder sees only what follows it).
    let _ = crate::metrics::handle();
    let sqlite =
        Arc::new(SqliteStore::open(&config.store.sqlite, config.store.group_commit_max).await?);
    let store: Arc<dyn Store> = sqlite.clone();
    let links: Arc<dyn RelayStore> = sqlite;
    let channels = channels::build(&config.channels)?;
    let platforms = Relay::platforms(&config)?;
    let mut passwords = HashMap::new();
    for a in &config.agents {
        let hash = match &a.password {
            AgentPassword::Hash(h) => h.clone(),
            AgentPassword::Plain(p) => crate::agent::hash_password(p.secret())
                .map_err(|()| StartError::Password(a.id.clone()))?,
        };
        passwords.insert(a.id.clone(), hash);
    }
    let mut routing = RoutingState::new();
    let loads: HashMap<String, u32> = store.agent_loads().await?.into_iter().collect();
    for (agent, presence) in store.agent_presence().await? {
        routing.set_member(
            agent.clone(),
            presence,
            loads.get(&agent).copied().unwrap_or(0),
        );
    }
    for (agent, load) in &loads {
        if routing.member_state(agent).is_none() {
            routing.set_member(agent.clone(), Presence::Offline, *load);
        }
    }
    crate::relay::platform_members(&config, &mut routing, &loads);

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.server.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.server.listen,
        source,
    })?;

    let transport: Arc<dyn byoc_http::HttpTransport> = Arc::new(
        byoc_http::ReqwestTransport::new()
            .map_err(|e| AdapterError::configuration(format!("HTTP client: {e}")))?,
    );
    let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| {
        let w = weak.clone();
        let process: ProcessFn = Arc::new(move |key| {
            let w = w.clone();
            Box::pin(async move {
                match w.upgrade() {
                    Some(s) => s.process_key(key).await,
                    None => Ok(()),
                }
            })
        });
        let dispatcher = Dispatcher::new(config.server.max_conversation_workers, process);
        let d = dispatcher.clone();
        let bots = Arc::new(Bots::new(
            &config.bots,
            transport,
            Arc::clone(&store),
            Arc::new(move |key: &str| d.wake(key)),
        ));
        let d = dispatcher.clone();
        let relay = Arc::new(Relay::new(
            &config,
            platforms,
            Arc::clone(&store),
            links,
            Arc::new(move |key: &str| d.wake(key)),
        ));
        Shared {
            config: config.clone(),
            store: Arc::clone(&store),
            channels,
            routing: Mutex::new(routing),
            dispatcher,
            bots,
            relay,
            hops: broadcast::channel(1024).0,
            notices: broadcast::channel(1024).0,
            outbox_wake: Arc::new(Notify::new()),
            timer_wake: Arc::new(Notify::new()),
            passwords,
            ready: AtomicBool::new(false),
        }
    });

    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let worker = Arc::new(outbox::Worker::new(
        Arc::clone(&store),
        config.outbox.clone(),
        Arc::new(Deliverer(Arc::clone(&shared))),
        Arc::clone(&shared.outbox_wake),
    ));
    tasks.push(tokio::spawn(worker.run(stop_rx.clone())));
    tasks.push(tokio::spawn(run_timers(
        Arc::clone(&shared),
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(run_pruner(
        Arc::clone(&shared),
        stop_rx.clone(),
    )));

    // Resume: inbox events not yet processed, then bot sessions still in use, then the
    // platforms' event streams from their stored replay ids.
    for key in store.keys_with_pending_inbox().await? {
        shared.dispatcher.wake(&key);
    }
    shared.bots.resume_all().await;
    tasks.extend(crate::relay::run_subscriptions(&shared.relay, &stop_rx));

    let app = crate::http::router(Arc::clone(&shared));
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    shared.ready.store(true, Ordering::SeqCst);
    tracing::info!(%addr, "gateway listening");
    Ok(RunningGateway {
        shared,
        addr,
        stop,
        tasks,
        server,
    })
}

async fn run_timers(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match shared.store.fire_due_timers(Utc::now()).await {
            Ok(keys) => {
                for k in keys {
                    shared.dispatcher.wake(&k);
                }
            }
            Err(e) => tracing::warn!(error = %e, "timers not fired"),
        }
        let wait = match shared.store.next_timer_due().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(5)),
            _ => Duration::from_secs(5),
        };
        tokio::select! {
            () = shared.timer_wake.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn run_pruner(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let retention = chrono::Duration::from_std(shared.config.server.dedupe_retention)
        .unwrap_or(chrono::Duration::MAX);
    loop {
        let now = Utc::now();
        match shared
            .store
            .prune(now.checked_sub_signed(retention).unwrap_or_default(), now)
            .await
        {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "old inbox entries pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "prune failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}
