//! Simulator of the Salesforce side of BYOC for Messaging / CCaaS: the OAuth token endpoint
//! (JWT bearer flow, assertion checked against the connected app's X.509 certificate, as
//! uploaded under "Use digital signatures", or a bare public key), the
//! Interaction Service REST API (`/api/v1/...`, with its header, multipart and schema checks
//! and error codes) and a Pub/Sub API gRPC server publishing Avro-encoded platform events
//! with replay.
//!
//! The checks are written here from the protocol facts, independently of `byoc-salesforce`;
//! both sides are pinned by the same JWT known-answer vector and fixtures.
//!
//! Beside the Interaction Service, the login host serves its OpenID Connect discovery
//! document (`/.well-known/openid-configuration`, `/id/keys`), the SOAP partner `login`
//! (`POST /services/Soap/u/{version}` with [`SimConfig::username`] and
//! [`SimConfig::password`], answering a `sessionId` and `serverUrl`), and the REST query
//! endpoint for the SOQL a BYOC connector runs at start and in its health check (its channel
//! definition, messaging channel, contact center channels, the `sfdc_scrt2` permissions, and
//! the platform event's `describe`), answered from the configuration. The token endpoint
//! accepts assertions for [`SimConfig::audience`] (`--audience`, e.g.
//! `https://login.salesforce.com`) as well as for the simulator's own URL. With
//! [`SimConfig::with_tls`] both REST and the Pub/Sub gRPC server (which also takes `Publish`)
//! serve TLS.
//!
//! Request fields follow Salesforce's published Interaction Service schema. Where it is
//! silent, the simulator accepts what Salesforce's own published connector sends:
//! `POST /routingResult` with `success: true` and an empty `errorMessage` (its UI sends the
//! field on every result), and `DELETE /route` without `cancelReason` (the schema requires
//! only the conversation; a reason, when given, must be a known one). Acknowledgements need
//! `sender` and, per acknowledgement, `acknowledgementTimestamp` (a number as in the
//! samples, or a string as in the schema), `acknowledgementType` (`Read` or `Delivered`),
//! `acknowledgedConversationEntryIdentifier` and
//! `acknowledgmentCreatedConversationEntryIdentifier`, as the schema requires.
//!
//! Drive it from tests ([`SalesforceSim::agent_says`], [`SalesforceSim::bot_escalates`],
//! [`SalesforceSim::agent_joins`], [`SalesforceSim::end_session`],
//! [`SalesforceSim::agent_sends_attachments`], [`SalesforceSim::agent_typing`],
//! [`SalesforceSim::attachment_upload_result`] (`MessageUpdated`),
//! [`SalesforceSim::agent_leaves`], [`SalesforceSim::receipt`],
//! [`SalesforceSim::queue_position`], [`SalesforceSim::consent_updated`],
//! [`SalesforceSim::routing_result`], and any other entry with
//! [`SalesforceSim::publish_entry`]) or, standalone, with
//! `POST /__sim/{agent_says|bot_escalates|agent_joins|agent_typing|agent_leaves|end_session}`
//! and a JSON body `{"endUser": "...", "text": "...", "name": "...", "userId": "...",
//! "flowId": "...", "stopped": false}` (or `byoc-sim agent salesforce ...`).
//!
//! Faults: [`SalesforceSim::faults`] (HTTP 429 / 5xx / dropped connections on REST and the
//! token endpoint), [`SalesforceSim::expire_tokens`], [`SalesforceSim::drop_streams_after`]
//! (the next Subscribe stream fails with `UNAVAILABLE` after N events).

mod agent;
pub mod cert;
mod cli;
mod config;
mod endpoints;
mod entries;
mod grpc;
mod identity;
mod interactions;
/// The generated Pub/Sub messages and server, shared with the adapter's client.
use byoc_pubsub_proto as proto;
mod rest;
mod soql;
mod state;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::fault::Faults;
use crate::tls::LocalCa;
pub use cli::run_cli;
pub use config::{
    Recorded, SimConfig, SimConversation, TEST_AUTHORIZATION_CONTEXT, TEST_CERTIFICATE_PEM,
    TEST_CHANNEL_ADDRESS, TEST_CONSUMER_KEY, TEST_EVENT_TYPE_FIELD, TEST_ORG_ID, TEST_PASSWORD,
    TEST_PAYLOAD_FIELD, TEST_PLATFORM_EVENT, TEST_PRIVATE_KEY_PEM, TEST_PUBLIC_KEY_PEM,
    TEST_USERNAME,
};
pub use entries::{SimAttachment, SimSender, UploadResult};
pub(crate) use state::{Shared, lock};

/// A running simulator.
#[derive(Debug)]
pub struct SalesforceSim {
    url: String,
    pubsub_url: String,
    faults: Faults,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for SalesforceSim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SalesforceSim {
    /// Starts the simulator on `127.0.0.1:0` (REST and gRPC on two ports).
    ///
    /// # Errors
    /// When a port cannot be bound or the configuration is invalid.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Self> {
        Self::start_on(cfg, 0, 0).await
    }

    /// Starts the simulator on the given ports (0 for any).
    ///
    /// # Errors
    /// When a port cannot be bound or the configuration is invalid.
    pub async fn start_on(cfg: SimConfig, port: u16, grpc_port: u16) -> anyhow::Result<Self> {
        let rest_l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let grpc_l = tokio::net::TcpListener::bind(("127.0.0.1", grpc_port)).await?;
        let rest_addr: SocketAddr = rest_l.local_addr()?;
        let grpc_addr: SocketAddr = grpc_l.local_addr()?;
        let tls = cfg.tls.clone();
        let scheme = crate::tls::scheme(tls.as_ref());
        let url = format!("{scheme}://{rest_addr}");
        let shared = Shared::new(cfg, &url)?;
        let faults = Faults::new();
        let app = faults.layer(rest::router(shared.clone()));
        let rest_tls = tls.clone();
        let rest_task = tokio::spawn(async move {
            if let Err(e) = crate::tls::serve(rest_l, rest_tls, app, std::future::pending()).await {
                tracing::error!(error = %e, "salesforce sim REST server stopped");
            }
        });
        let grpc_task = tokio::spawn(grpc::serve(shared.clone(), grpc_l, tls));
        Ok(Self {
            url,
            pubsub_url: format!("{scheme}://{grpc_addr}"),
            faults,
            shared,
            tasks: vec![rest_task, grpc_task],
        })
    }

    /// Base URL of the REST side: the login host (token endpoint), the SCRT2 host and the
    /// instance URL at once.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// URL of the Pub/Sub gRPC server: `http://` (plaintext HTTP/2) or, with TLS,
    /// `https://`.
    #[must_use]
    pub fn pubsub_url(&self) -> &str {
        &self.pubsub_url
    }

    /// The CA whose certificate this simulator serves (REST and gRPC), when it serves TLS.
    #[must_use]
    pub fn ca(&self) -> Option<&Arc<LocalCa>> {
        self.shared.cfg.tls.as_ref()
    }

    /// The JWT `aud` the token endpoint accepts.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.shared.audience
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// HTTP fault injection.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Invalidates every issued access token (REST answers 401 / 10004, gRPC
    /// `UNAUTHENTICATED`).
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// How many tokens the token endpoint issued.
    #[must_use]
    pub fn tokens_issued(&self) -> usize {
        self.shared
            .tokens_issued
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The next Subscribe stream fails with `UNAVAILABLE` after delivering `n` events.
    pub fn drop_streams_after(&self, n: usize) {
        *lock(&self.shared.drop_after) = Some(n);
    }

    /// The REST calls accepted so far.
    #[must_use]
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.shared.recorded).clone()
    }

    /// The conversation of an end user (created on first use).
    #[must_use]
    pub fn conversation(&self, end_user: &str) -> SimConversation {
        self.shared.conversation(end_user)
    }

    /// How many events were published.
    #[must_use]
    pub fn published(&self) -> usize {
        lock(&self.shared.events).len()
    }

    /// Publishes a raw payload JSON with an event type.
    ///
    /// # Errors
    /// When Avro encoding fails.
    pub fn publish_raw(&self, event_type: &str, payload: &str) -> anyhow::Result<u64> {
        self.shared.publish(event_type, payload)
    }
}
