//! The shell around the engine: starts the store, the adapters, the dispatcher, the outbox
//! worker, the timers and the HTTP server; applies each engine step's effects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use byoc_core::workstream::{MemberState, PerKind, Presence, RoutingState};
use byoc_core::{Activity, AdapterError};
use tokio::sync::{Notify, broadcast, watch};

use crate::bots::Bots;
use crate::channels::{self, Channel};
use crate::config::{AgentPassword, Config};
use crate::dispatch::{Dispatcher, ProcessFn};
use crate::engine::{Hop, Notice};
use crate::outbox::{self, Handoff};
use crate::processing::{IngestGate, Processing};
use crate::relay::Relay;
mod process;
mod routers;
mod tasks;

use process::Deliverer;
pub(crate) use routers::Routing;
use tasks::{run_backlog, run_pruner, run_routing, run_timers};

use crate::store::{RelayStore, SqliteStore, Store, StoreError};

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
    /// The processing threads could not be started.
    #[error("processing threads: {0}")]
    Processing(std::io::Error),
}

/// Why an inbound delivery was not taken (answer 503 so the provider retries).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The store could not persist it.
    #[error("inbound not persisted: {0}")]
    Store(#[from] StoreError),
    /// Too many inbound events wait for processing
    /// ([`ServerSettings::max_inbox_backlog`](crate::ServerSettings::max_inbox_backlog)).
    #[error("inbound refused: {waiting} events wait for processing (limit {limit})")]
    Backlog {
        /// Events waiting, as last counted.
        waiting: u64,
        /// The configured limit.
        limit: u64,
    },
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) channels: HashMap<String, Channel>,
    /// Members' presence and load, and each workstream's prepared router.
    pub(crate) routing: Mutex<Routing>,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) bots: Arc<Bots>,
    /// The contact-center platforms relayed workstreams go to.
    pub(crate) relay: Arc<Relay>,
    pub(crate) hops: broadcast::Sender<Hop>,
    pub(crate) notices: broadcast::Sender<Notice>,
    pub(crate) outbox_wake: Arc<Notify>,
    /// Where processing hands the outbound rows it claimed to the outbox worker.
    pub(crate) outbox: Handoff,
    pub(crate) timer_wake: Arc<Notify>,
    /// Wakes the router's timer task: members changed, or a step moved the waiting set.
    pub(crate) routing_wake: Arc<Notify>,
    /// Agent id → argon2 PHC hash.
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) ready: AtomicBool,
    /// Inbox entries waiting for processing, as last counted (`run_backlog`).
    pub(crate) backlog: AtomicU64,
    /// The threads processing runs on (ingest first).
    pub(crate) processing: Processing,
    /// Customer webhooks in flight, which conversation workers yield to.
    pub(crate) ingest: Arc<IngestGate>,
}

impl Shared {
    pub(crate) fn routing(&self) -> std::sync::MutexGuard<'_, Routing> {
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
/// pending work (inbox events, outbox rows, timers, bot sessions) and serves HTTP on
/// [`ServerSettings::listen`](crate::ServerSettings::listen).
///
/// # Errors
/// [`StartError`].
pub async fn start(config: Config) -> Result<RunningGateway, StartError> {
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.server.listen,
            source,
        })?;
    start_on(config, listener).await
}

/// [`start`] on a listener the caller bound (`server.listen` is then not used): for a host
/// that must know the address before the gateway starts, without releasing the port in
/// between.
///
/// # Errors
/// [`StartError`].
pub async fn start_on(
    config: Config,
    listener: tokio::net::TcpListener,
) -> Result<RunningGateway, StartError> {
    // Installed before anything is counted (a recorder sees only what follows it).
    let _ = crate::metrics::handle();
    let sqlite =
        Arc::new(SqliteStore::open(&config.store.sqlite, config.store.group_commit_max).await?);
    let store: Arc<dyn Store> = sqlite.clone();
    let links: Arc<dyn RelayStore> = sqlite;
    let channels = channels::build(&config.channels, config.server.max_body_bytes)?;
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
    let mut loads: HashMap<String, u32> = store.agent_loads().await?.into_iter().collect();
    let mut by_kind: HashMap<String, PerKind<u32>> = HashMap::new();
    for (agent, channel, n) in store.agent_loads_by_channel().await? {
        if let Some(w) = config.workstream_for(&channel) {
            *by_kind
                .entry(agent)
                .or_default()
                .get_mut(w.workstream.channel.kind) += n;
        }
    }
    // Assignments decided before the stop that their conversation has not applied yet (the
    // follow-up still in its inbox) count on the agent as they did when decided.
    for key in store.keys_with_pending_inbox().await? {
        let channel = key.split_once(':').map_or(key.as_str(), |(c, _)| c);
        let kind = config
            .workstream_for(channel)
            .map(|w| w.workstream.channel.kind);
        for agent in pending_assignments(&store.pending_inbox(&key).await?) {
            *loads.entry(agent.to_owned()).or_default() += 1;
            if let Some(kind) = kind {
                *by_kind.entry(agent.to_owned()).or_default().get_mut(kind) += 1;
            }
        }
    }
    let member = |presence: Presence, agent: &str| {
        let state = MemberState::new(presence, loads.get(agent).copied().unwrap_or(0));
        match by_kind.get(agent) {
            Some(k) => state.with_kinds(*k),
            None => state,
        }
    };
    for (agent, presence) in store.agent_presence().await? {
        let state = member(presence, &agent);
        routing.set_member_state(agent, state);
    }
    for agent in loads.keys() {
        if routing.member_state(agent).is_none() {
            routing.set_member_state(agent.clone(), member(Presence::Offline, agent));
        }
    }
    crate::relay::platform_members(&config, &mut routing, &loads);

    // The waiting set as stored: conversations waiting or offered when the gateway stopped.
    let mut routing = Routing::new(&config.workstreams, routing);
    routing.load_settings(
        store.agent_queue_choices().await?,
        store.agent_capacities().await?,
        chrono::Utc::now(),
    );
    let gone = routing.restore(store.routing_work().await?, chrono::Utc::now());
    if !gone.is_empty() {
        store.commit_routing(gone, Vec::new()).await?;
    }

    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.server.listen,
        source,
    })?;

    let transport: Arc<dyn byoc_http::HttpTransport> = Arc::new(
        byoc_http::ReqwestTransport::new()
            .map_err(|e| AdapterError::configuration(format!("HTTP client: {e}")))?,
    );
    let (handoff, handed) = Handoff::new(&config.outbox);
    let processing = Processing::start(
        config.server.processing_threads,
        config.server.processing_priority,
    )
    .map_err(StartError::Processing)?;
    let ingest = Arc::new(IngestGate::new(config.server.processing_yield_at));
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
        let dispatcher = Dispatcher::new(
            config.server.max_conversation_workers,
            process,
            processing.handle().clone(),
            Arc::clone(&ingest),
        );
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
            outbox: handoff,
            timer_wake: Arc::new(Notify::new()),
            routing_wake: Arc::new(Notify::new()),
            passwords,
            ready: AtomicBool::new(false),
            backlog: AtomicU64::new(0),
            processing,
            ingest,
        }
    });

    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let worker = Arc::new(outbox::Worker::new(
        Arc::clone(&store),
        config.outbox.clone(),
        Arc::new(Deliverer(Arc::clone(&shared))),
        Arc::clone(&shared.outbox_wake),
        &shared.outbox,
    ));
    let background = &shared.processing;
    tasks.push(background.spawn(worker.run(handed, stop_rx.clone())));
    tasks.push(background.spawn(run_timers(Arc::clone(&shared), stop_rx.clone())));
    tasks.push(background.spawn(run_routing(Arc::clone(&shared), stop_rx.clone())));
    tasks.push(background.spawn(run_pruner(Arc::clone(&shared), stop_rx.clone())));
    // Counted at the webhooks' priority: a starved count would never refuse.
    tasks.push(tokio::spawn(run_backlog(
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

/// The human agents assigned a conversation by inbox events not yet processed: the router
/// counted each on the agent's load when it decided, before the conversation applied it.
fn pending_assignments(items: &[crate::store::InboxItem]) -> impl Iterator<Item = &str> {
    items.iter().filter_map(|item| match &item.event {
        Some(crate::model::InboxEvent::Routing {
            action:
                crate::model::RoutingAction::Assigned {
                    member, bot: false, ..
                },
            ..
        }) => Some(member.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod pending_tests {
    use super::pending_assignments;
    use crate::model::{InboxEvent, RoutingAction};
    use crate::store::InboxItem;

    fn assigned(member: &str, bot: bool) -> InboxItem {
        InboxItem {
            seq: 1,
            event: Some(InboxEvent::Routing {
                conversation: "c".into(),
                action: RoutingAction::Assigned {
                    queue: "Q".into(),
                    member: member.into(),
                    bot,
                    name: member.into(),
                },
                trace: String::new(),
            }),
        }
    }

    #[test]
    fn only_human_assignments_still_in_the_inbox_count() {
        let unreadable = InboxItem {
            seq: 2,
            event: None,
        };
        let items = [
            assigned("alice", false),
            assigned("helper", true),
            unreadable,
        ];
        assert_eq!(pending_assignments(&items).collect::<Vec<_>>(), ["alice"]);
    }
}
