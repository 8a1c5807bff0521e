//! # byoc-sim
//!
//! Loopback simulators of the providers byoc speaks to, faithful enough that a client which
//! passes against them works against the real service (same auth checks, same payloads, same
//! errors), with fault injection ([`fault`]).
//!
//! | module | simulates | command |
//! |---|---|---|
//! | [`telesign`] | TeleSign SMS REST API and its callbacks | `byoc-sim telesign --port P --customer-id ID --api-key KEY` |
//! | [`directline`] | Bot Framework token authority, connector and Direct Line 3.0 | `byoc-sim directline --port P --secret S` / `byoc-sim connector` |
//! | [`messaging_api`] | Dynamics 365 Omnichannel Messaging API, Entra, Dataverse | `byoc-sim messaging-api --port P` |
//! | [`salesforce`] | Salesforce token endpoint, Interaction Service, Pub/Sub gRPC | `byoc-sim salesforce --port P` |
//!
//! | [`AllSims`] | every simulator above, one CA | `byoc-sim all` |
//! | [`run_agent_cli`] | plays the Messaging API's or Salesforce's agent of a running simulator | `byoc-sim agent <omnichannel\|salesforce> --sim URL ...` |
//!
//! Each simulator's library API starts it on `127.0.0.1:0` and returns a handle with its URL,
//! what it recorded, and ways to drive it.
//!
//! Plaintext HTTP is the library's default (fast, and what most tests need); TLS is one
//! option away on every simulator (`with_tls(ca)`, [`tls::LocalCa`]): HTTPS, WSS and gRPC
//! over TLS with a certificate for `localhost` and `127.0.0.1` from a local CA, so a client
//! reaches a simulator exactly as the real service, by URL and one trusted root. On the
//! command line `--tls` (or `--tls-dir DIR`) turns it on; `byoc-sim all` serves TLS unless
//! given `--plaintext`.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub use agent_cli::run_cli as run_agent_cli;
pub use all::{AllSims, run_cli as run_all_cli};

mod agent_cli;
mod all;
pub mod directline;
mod entra;
pub mod fault;
pub mod messaging_api;
pub mod salesforce;
pub mod telesign;
pub mod tls;
