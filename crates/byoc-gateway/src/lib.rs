//! # byoc-gateway
//!
//! The host that composes byoc's adapters into a contact center: a customer texts a
//! TeleSign number (or writes on a Bot Framework channel), a bot answers first, the bot
//! hands off to a human agent queue, and every reply finds its way back to the customer's
//! channel — without losing, duplicating or reordering a message. The binary is `byoc`:
//!
//! | command | what |
//! |---|---|
//! | `byoc demo` | the gateway, the simulators and a sample Bot Framework bot on loopback; prints the URLs and what to try, then each conversation hop as it happens |
//! | `byoc demo --once` | one scripted conversation through every hop (SMS in → bot → hand-off → queue → offer → accept → agent → SMS out); exit 0, or 1 naming the hop that failed |
//! | `byoc demo [--once] --contact-center <omnichannel\|salesforce>` | the same with a platform's simulator as the contact center (SMS in → Omnichannel or Salesforce → its agent → SMS out); interactive, it prints how to play the agent with `byoc-sim agent` |
//! | `byoc channel register [create\|update\|list\|delete] --config byoc.toml --channel NAME` | the Dataverse record of a Messaging API custom channel (`msdyn_occustommessagingchannel`), with the entry's credentials |
//! | `byoc serve --config byoc.toml` | the gateway for real ([`Config`] documents the file) |
//! | `byoc check --config byoc.toml` | validates without starting; exit 2 naming the file, the field and the reason |
//! | `byoc normalize --channel <connector\|directline\|telesign\|messaging-api\|salesforce> [FILE]` | the canonical activities of one provider payload, one compact JSON per line; bad input exits 2 naming the field |
//!
//! ## Features
//!
//! - `demo` (default): `byoc demo` and `run_demo`, which start the simulators of
//!   `byoc-sim` and a sample bot. A production build can leave it out
//!   (`default-features = false`): the gateway then does not depend on the simulators.
//!
//! ## Embedding
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = byoc_gateway::Config::load(std::path::Path::new("byoc.toml"))?;
//! let gateway = byoc_gateway::start(config).await?;
//! println!("listening on {}", gateway.url());
//! gateway.run_until_signal().await; // Ctrl-C / SIGTERM: drains in-flight work
//! # Ok(()) }
//! ```
//!
//! ## How a message travels
//!
//! 1. **Inbound** (`POST /webhooks/{channel}`, mounted through `byoc-axum`'s webhook
//!    bridge): the body limit the channel's adapter is configured with (`413` past it,
//!    [`ServerSettings::max_body_bytes`]), the adapter's verification and normalization,
//!    then every activity is appended to the store's inbox — dropped if the provider's
//!    message id was seen before (ids are kept for
//!    [`ServerSettings::dedupe_retention`], longer than any provider's retry window) — and
//!    only once that is durable does the provider get its 2xx. A refused payload gets the
//!    adapter's status and is never acknowledged; a store failure answers 503 so the
//!    provider retries. Concurrent webhooks are committed together (group commit). A
//!    delivery report on a message byoc sent is not an event to process: it is recorded
//!    on that outbound row (the admin API's conversation view shows it), durably, before
//!    the answer — unless the conversation's platform takes receipts (Salesforce), in
//!    which case it enters the inbox like any event.
//! 2. **Dispatch**: one worker per conversation key processes its inbox in order;
//!    conversations run concurrently, at most [`ServerSettings::max_conversation_workers`]
//!    at a time; idle workers are dropped (teloxide's dispatcher, with the queue in the
//!    store rather than in memory). **Ingest first**: processing (the workers, the
//!    outbox, timers, routing) runs on threads of its own at a lower scheduling priority
//!    ([`ServerSettings::processing_priority`]), so when the CPU is short the webhooks
//!    are served first, and while a burst of webhooks is being handled
//!    ([`ServerSettings::processing_yield_at`] of them at once) the workers hold each step
//!    back (20 ms at most), so the burst is worked off from the inbox right after; the
//!    inbox is bounded ([`ServerSettings::max_inbox_backlog`]: past it, `503` with
//!    `Retry-After`).
//! 3. **Engine**: a pure function of (conversation, event, now) returning the next state
//!    and its effects — find or create the conversation, route it (bot first), apply the
//!    bot's hand-off (the Omnichannel `Escalate` command or Bot Framework's
//!    `handoff.initiate`) with the context variables it set, route with byoc-core's
//!    workstream router (offers, overflow, hours, skills; see *Routing* below), enforce
//!    the Omnichannel state machine, auto-close after inactivity, send the workstream's
//!    automated messages, check attachment permissions, adapt replies to the channel
//!    (SMS length, cards and suggested actions as text) and record every loss in the
//!    transcript. The state change, its transcript entries, its outbound activities and
//!    its timers commit in one transaction.
//! 4. **Outbox**: workers claim rows with a lease that expires (so another instance can
//!    take over a dead one's work), one lane per conversation and target — the next
//!    message waits until the previous is delivered or dead-lettered — and retry with
//!    exponential backoff and jitter under a retry budget, honouring `Retry-After`, never
//!    retrying permanent errors, dead-lettering with the reason after
//!    [`OutboxSettings::max_attempts`]. `GET /api/admin/dead-letters` lists them,
//!    `POST /api/admin/dead-letters/{id}/replay` puts one back.
//! 5. **Bots** are reached through Direct Line: one Direct Line conversation per
//!    conversation and bot, its replies polled and persisted with the watermark in the
//!    same transaction, so a restart resumes where it stopped. A bot silent for the
//!    workstream's `bot_timeout` after a customer message loses the conversation to the
//!    human queues.
//!
//! A crash loses nothing that was acknowledged: on start the gateway processes the inbox
//! events left, delivers the outbox rows left (an SQLite file belongs to one process, so
//! the previous process's leases are taken back at once; a store shared by several
//! instances lets them expire), fires the timers due and resumes the bot sessions in use.
//!
//! Delivery is at least once towards providers: a crash after a provider accepted a
//! message but before the gateway recorded it sends that message again after the restart.
//! The window is one request long; TeleSign messages carry the outbox row in
//! `external_id` (`byoc-{id}`) so such a repeat can be recognised.
//!
//! ## Contact centers
//!
//! A workstream names its contact center ([`ContactCenterKind`]): byoc's own queues and
//! agents, worked through the agent API (`/api/agent/...`, JSON and server-sent events; see
//! the `agent` module's table in the source), or a platform byoc relays to, byoc being the
//! custom channel that brings the customer's channel into it:
//!
//! | `contact_center` | `platform` names | customer → platform | platform → customer |
//! |---|---|---|---|
//! | `byoc` | — | bot first, byoc's queues and agents | the agent API |
//! | `omnichannel` | a `kind = "messaging-api"` channel | the first message creates the Omnichannel conversation (customer context, context variables, request id); messages, typing, the customer leaving | the webhook `/webhooks/{name}/v3/conversations/{id}/activities`: agent and bot messages, attachments, typing, agent accepted, transfers, the end |
//! | `omnichannel-bot` | a `[bots.*]` entry | a Direct Line conversation with the Azure bot the Omnichannel custom channel is on (watermark stored) | everything the bot relays (Omnichannel's bot, then its agents) |
//! | `salesforce` | a `kind = "salesforce"` channel | interactions (messages, files, typing), delivery receipts as acknowledgements, the end of the session | one Pub/Sub subscription per channel entry: rep and Agentforce messages, participants, typing, session end |
//! | `salesforce-ccaas` | a `kind = "salesforce"` channel | as `salesforce`, and byoc routes: on a new conversation or a `RoutingRequested` event, byoc's workstream router chooses the queue or the rep and answers with `/route`, `/agentWork` and `/routingResult` within the routing deadline (60 s) | as `salesforce` |
//!
//! In every mode the conversation, its state and its transcript stay in byoc's store:
//! `GET /api/admin/conversations[/{id}[/export]]` shows and exports them with their
//! platform links. The engine stays pure: a customer event of a relayed workstream queues
//! the platform's copy in the outbox ([`Target::Platform`]); a platform event
//! ([`InboxEvent::Platform`]) yields the reply to the customer's channel, adapted to it with
//! every loss in the transcript, and the state change (agent accepted → Active, transfer to
//! a queue → Open, agent ended → WrapUp, closed → Closed). byoc's automated messages are
//! the platform's business in relayed modes and are not sent.
//!
//! Nothing is lost across a restart: the request id of the platform conversation is in the
//! record before the create call (a retried create returns the same conversation), the
//! platform conversation ids are recorded ([`PlatformLink`]) as the platform answers,
//! Direct Line watermarks are stored with the activities they delivered, and each Pub/Sub
//! replay id is stored in the transaction of the events it delivered, so the stream resumes
//! after the last persisted event. Calls to a platform go through the outbox like every
//! delivery (ordered per conversation, retried with backoff and `Retry-After`, an expired
//! token re-authenticated once by the adapter, dead-lettered with the reason). Platform
//! events enter like customer webhooks: deduplicated by the platform's id and persisted
//! before they are acknowledged (the Messaging API hears `200` only then).
//!
//! A missed routing deadline (CCaaS) is never silent: the late `/routingResult` Salesforce
//! expects, the metric `byoc_platform_routing_deadline_missed_total`, a warning in the log
//! and a note in the transcript ([`RoutingReport`]).
//!
//! ## Store
//!
//! [`Store`] is one trait shaped for a database that claims rows with `FOR UPDATE SKIP
//! LOCKED`; [`SqliteStore`] is the embedded default through sqlx: one file in WAL mode,
//! `synchronous = FULL`, migrations embedded in the binary and run at start. No job crate
//! is used for the outbox: apalis (with apalis-sql) has leases but no ordering per key;
//! sqlxmq's ordered channels and graphile_worker's serial queues run on PostgreSQL only.
//! Retry delays come from the `backon` crate and the retry budget from tower's `TpsBudget`.
//!
//! SQLite has one writer, so every write of every kind (inbound events, processing steps,
//! outbox claims and results, timers, agents' sessions) goes through one writer thread
//! that commits them together (group commit):
//!
//! - it drains whatever writes are queued into one transaction, up to
//!   [`StoreSettings::group_commit_max`]; each write is one SQL script (one call into the
//!   database thread) inside its own savepoint, so one failing write fails alone;
//! - writes someone waits for (a webhook's acknowledgement, an agent's request) have their
//!   own queue, always drained first; while they keep coming, background writes (processing,
//!   outbox) take at most a 64th of a transaction, so a webhook never waits behind a run
//!   of processing writes, and processing still advances;
//! - the inbox rows of every webhook in a transaction are inserted by one statement, sent
//!   with the commit in the same call;
//! - a message costs few writes: the processing step that queues a reply claims it for the
//!   outbox worker in the same transaction ([`StepCommit::claim`]), recording a delivery
//!   claims the conversation's next reply ([`Store::finish_outbound`]), a conversation that
//!   did not change is not rewritten, and a worker reads a conversation and its pending
//!   events in one query ([`Store::pending_work`]).
//!
//! The scripts rely on sqlx's SQLite driver running several `;`-separated statements of one
//! query with their bound values (which sqlx documents as deprecated for a future version;
//! the store's tests fail if that ever stops working). A PostgreSQL store implements the same
//! [`Store`] trait with its own statements.
//!
//! ## Routing: offers, timers and re-evaluation
//!
//! Each workstream's byoc-core `Router` is built once at start; its `PreparedState` — the
//! members' presence and load (per channel kind, for capacity profiles) and the
//! conversations waiting in its queues or offered to an agent — lives in memory, updated
//! in place by the engine and by presence changes. The engine hosts the router's event
//! API: a conversation needing routing is `submit`ted (a transfer: `submit_transfer`), an
//! agent's accept or decline is `accept` / `decline`, a conversation that closes or is
//! picked from a queue is `cancel`led. Every call returns actions (offer, assign,
//! withdraw, wait with its position and estimated wait, overflow transfer, end or
//! message), each written to the transcript as a `routing: ...` trace line and carried out
//! on the record, in hops, in agent notices and in the customer's automated messages
//! (`queue_position`, `agent_joined`, `transferred`, the overflow's own text).
//!
//! - **Offers.** A queue with `offer = { timeout }` offers a conversation to one agent; the
//!   agent hears it over `GET /api/agent/events` (`{"offered": {"expires_at": ...}}`), sees
//!   `offered_to` in its conversation list, and answers with `POST
//!   /api/agent/conversations/{id}/accept` or `/decline` (same sign-in, `403` outside its
//!   queues). A declined or unanswered offer goes to the next agent, never back; after the
//!   queue's `offers_failed` limit its overflow applies. Queues without `offer` assign at
//!   once, as they always did; bots take a conversation at once.
//! - **Actions for other conversations.** A step may decide about conversations other than
//!   its own (the agent it freed is offered the next waiting one). Those actions are stored,
//!   in the step's transaction, as [`InboxEvent::Routing`] events in their conversations'
//!   inboxes, so each conversation changes only in its own order. An agent's load counts an
//!   assignment when the router makes it.
//! - **Timers and re-evaluation.** One task (`run_routing`) wakes the router at the earliest
//!   `next_wake` of any workstream (offer timeouts, `waited_over` limits, skill relaxation,
//!   a closed queue opening, a preferred agent's hold ending) and whenever members change —
//!   an agent comes online (`PUT /api/agent/presence`), frees capacity (a conversation
//!   closes or is transferred away), joins a queue (`POST /api/agent/queues/{queue}/join`)
//!   or raises its capacity (`PUT /api/agent/capacity`) — so waiting conversations are
//!   offered in priority order (`reevaluate`). What it decides is committed like a step's
//!   follow-ups.
//! - **Agents' own settings.** The queues an agent signed out of and its own capacity are
//!   stored (`agent_queues`, `agent_capacity`) and applied to every workstream's router at
//!   start. Leaving a queue (or going away) gives back the offers made to the agent, to
//!   the next agent, without counting as declines; a capacity change
//!   rebuilds the routers of the workstreams listing the agent (a router lays capacities
//!   out when built), carrying their waiting sets over.
//! - **Returning customers.** A new conversation carries the customer fact `last_agent`
//!   (the human who last worked the customer's previous conversation on the channel), for
//!   `preferred_agent = { from = "customer.last_agent", wait = "..." }`.
//! - **Restart.** The waiting set is mirrored in the store (`routing_work`: per waiting or
//!   offered conversation, the router's `WorkItem` — queue, priority, time entered,
//!   skills, preferred agent, decliners, failed offers, the offer outstanding and its
//!   expiry), rewritten in the transaction of the step or routing pass that moved it. At
//!   start it is `restore`d and the router woken once, so an offer that expired while the
//!   gateway was down moves on, and an agent coming online is offered what waited. Should
//!   a routing write fail, the in-memory state is rebuilt from the store.
//!
//! The relayed Salesforce CCaaS mode asks the same router for a one-shot decision (the
//! platform owns its offer), leaving the waiting set alone.
//!
//! ## Operations
//!
//! `/healthz` (alive), `/readyz` (started and the store answers), `/metrics` (Prometheus:
//! messages in and out per channel, duplicates, routing decisions by outcome, outbox depth,
//! retries, dead letters, webhook and delivery latencies, group-commit sizes, platform
//! routing times and missed deadlines, platform stream reconnections). Logs go
//! through `tracing` with conversation ids; message bodies and secrets never appear at
//! info level or above.
//!
//! ## Security
//!
//! - Webhooks are verified by their adapter (HMAC with constant-time compare, JWTs) over
//!   the exact body, which is size-limited ([`ServerSettings::max_body_bytes`]).
//! - Secrets in the config are read inline or from environment variables and held as
//!   [`byoc_core::Secret`]: never in `Debug`, logs or errors.
//! - Agent passwords are checked against argon2 hashes (clear passwords given in the config
//!   are hashed at start); session tokens are random, stored as SHA-256 digests, and
//!   expire. An agent sees only the conversations of its own queues. The admin token is
//!   compared in constant time.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod admin;
mod agent;
mod bots;
mod channels;
mod cli;
mod config;
#[cfg(feature = "demo")]
mod demo;
mod dispatch;
mod engine;
mod gateway;
mod http;
mod metrics;
mod model;
mod normalize;
mod outbox;
mod processing;
mod relay;
mod store;

pub use cli::main as cli_main;
pub use config::{
    AgentConfig, AgentPassword, BotConfig, ChannelConfig, ChannelKind, Config, ConfigError,
    ContactCenterKind, EnvLookup, MessagingApiSettings, OutboxSettings, ReplayFrom,
    SalesforceSettings, ServerSettings, StoreSettings, WorkstreamConfig,
};
#[cfg(feature = "demo")]
pub use demo::{DemoContactCenter, DemoError, run as run_demo, run_with as run_demo_with};
pub use engine::{Hop, HopKind, Notice, NoticeKind};
pub use gateway::{RunningGateway, SinkError, StartError, start, start_on};
pub use model::{
    Acknowledge, AgentAction, Author, ConversationRecord, InboxEvent, RelayLink, RoutingAction,
    RoutingPlan, RoutingReport, Target, TimerKind, TranscriptEntry,
};
pub use normalize::{Provider, normalize_payload, to_lines};
pub use processing::{LOW_NICENESS, ProcessingPriority};
pub use store::{
    Accepted, BotSession, ClaimedOutbound, ConversationKey, ConversationRow, DeadLetter, Finished,
    InboxItem, Lease, NewInbound, NewOutbound, OutboundRecord, OutboundResult, PlatformLink,
    Receipt, RelayStore, SqliteStore, StepCommit, Store, StoreError, StoredWork, TimerChange,
    WorkChange,
};

#[cfg(test)]
mod assert_impls {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<crate::Config>();
        send_sync::<crate::RunningGateway>();
        send_sync::<crate::SqliteStore>();
        send_sync::<std::sync::Arc<dyn crate::Store>>();
        send_sync::<crate::StoreError>();
        send_sync::<crate::ConfigError>();
        send_sync::<crate::Hop>();
    }
}
