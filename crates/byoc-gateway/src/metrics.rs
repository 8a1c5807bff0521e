//! Prometheus metrics through the `metrics` facade: the names, and the recorder that
//! `/metrics` renders.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Inbound activities accepted, by channel (`channel`).
pub(crate) const MESSAGES_IN: &str = "byoc_messages_in_total";
/// Inbound deliveries dropped as duplicates, by channel.
pub(crate) const DUPLICATES: &str = "byoc_inbound_duplicates_total";
/// Outbound activities delivered, by target (`target`).
pub(crate) const MESSAGES_OUT: &str = "byoc_messages_out_total";
/// Routing decisions, by outcome (`outcome`: bot, agent, queued, full, unrouted).
pub(crate) const ROUTING_DECISIONS: &str = "byoc_routing_decisions_total";
/// Pending outbound activities.
pub(crate) const OUTBOX_DEPTH: &str = "byoc_outbox_depth";
/// Inbound events waiting for processing.
pub(crate) const INBOX_BACKLOG: &str = "byoc_inbox_backlog";
/// Inbound deliveries refused because the inbox backlog is full, by channel.
pub(crate) const BACKLOG_REFUSED: &str = "byoc_inbound_backlog_refused_total";
/// Providers' delivery receipts recorded on outbound rows, by channel.
pub(crate) const RECEIPTS: &str = "byoc_delivery_receipts_total";
/// Delivery retries scheduled, by target.
pub(crate) const RETRIES: &str = "byoc_outbox_retries_total";
/// Activities dead-lettered, by target.
pub(crate) const DEAD_LETTERS: &str = "byoc_dead_letters_total";
/// Webhook handling time, from request to answer (seconds), by channel.
pub(crate) const WEBHOOK_SECONDS: &str = "byoc_webhook_seconds";
/// Time from queuing an outbound activity to its delivery (seconds), by target.
pub(crate) const DELIVERY_SECONDS: &str = "byoc_delivery_seconds";
/// Writes committed per transaction by the store's group commit.
pub(crate) const GROUP_COMMIT_SIZE: &str = "byoc_store_group_commit_size";
/// Time from a group commit's first write to its commit (seconds).
pub(crate) const GROUP_COMMIT_SECONDS: &str = "byoc_store_group_commit_seconds";

/// The process's Prometheus recorder, installed on first use (one per process; several
/// gateways in one process share it).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .as_ref()
}
