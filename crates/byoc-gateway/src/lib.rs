//! # byoc-gateway
//!
//! The host that composes byoc's adapters into a contact center.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod agent;
mod bots;
mod channels;
mod cli;
mod config;
mod demo;
mod dispatch;
mod engine;
mod gateway;
mod http;
mod metrics;
mod model;
mod normalize;
mod outbox;
mod store;

pub use cli::main as cli_main;
pub use demo::{DemoError, run as run_demo};
pub use config::{
    AgentConfig, AgentPassword, BotConfig, ChannelConfig, ChannelKind, Config, ConfigError,
    ContactCenterKind, EnvLookup, OutboxSettings, ServerSettings, StoreSettings, WorkstreamConfig,
};
pub use engine::{Hop, HopKind, Notice, NoticeKind};
pub use gateway::{RunningGateway, SinkError, StartError, start};
pub use model::{
    AgentAction, Author, ConversationRecord, InboxEvent, Target, TimerKind, TranscriptEntry,
};
pub use normalize::{Provider, normalize_payload, to_lines};
pub use store::{
    Accepted, BotSession, ClaimedOutbound, ConversationRow, DeadLetter, InboxItem, NewInbound,
    NewOutbound, OutboundResult, SqliteStore, StepCommit, Store, StoreError, TimerChange,
};
