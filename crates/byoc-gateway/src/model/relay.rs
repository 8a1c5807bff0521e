//! What a relayed conversation keeps about its platform, and the gateway's own requests to
//! a platform that no customer activity expresses (a CCaaS routing answer, a receipt).
//! These travel through the outbox as `event` activities addressed to
//! [`Target::Platform`](super::Target::Platform), so they are durable, ordered with the
//! conversation's other platform calls, and retried like them.

use byoc_core::Activity;
use byoc_core::activity::RawJson;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Name of the outbound event asking the relay to answer a routing request
/// (value: [`RoutingPlan`]).
pub(crate) const EVENT_ROUTE: &str = "byoc.route";
/// Name of the outbound event carrying a customer's receipt of a platform message
/// (value: [`Acknowledge`]).
pub(crate) const EVENT_ACKNOWLEDGE: &str = "byoc.acknowledge";

/// A relayed conversation's tie to its platform, stored in its record when the
/// conversation starts (before any call to the platform).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RelayLink {
    /// The platform entry: a `[channels]` name, or the bot for `omnichannel-bot`.
    pub platform: String,
    /// The idempotency key of the platform conversation (the Messaging API's
    /// `conversationrequestid`): a retried create returns the same conversation.
    pub request_id: String,
    /// The customer's id on the platform (Salesforce's end user, Omnichannel's
    /// `customerid`): their id on their channel (the phone number for SMS).
    pub end_user: String,
}

impl RelayLink {
    /// The link of a new conversation `conversation_id` of `end_user` on `platform`.
    #[must_use]
    pub fn new(platform: &str, conversation_id: &str, end_user: &str) -> Self {
        Self {
            platform: platform.to_owned(),
            request_id: format!("byoc-{conversation_id}"),
            end_user: end_user.to_owned(),
        }
    }
}

/// byoc's answer to a routing request (CCaaS, byoc the routing owner): what the workstream
/// router chose and why. The relay carries it out with `/route`, `/agentWork` and
/// `/routingResult` within the channel's routing deadline, counted from `requested_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoutingPlan {
    /// `Initial` (a new conversation) or `Transfer` (a `RoutingRequested` event).
    pub routing_type: String,
    /// The request's routing correlation id (`channelData.eventId`), for a transfer.
    pub correlation_id: Option<String>,
    /// The work item named by the request, if any.
    pub work_item_id: Option<String>,
    /// The byoc queue chosen.
    pub queue: Option<String>,
    /// The Salesforce user (queue member id) chosen, if one was free.
    pub user_id: Option<String>,
    /// When the request reached byoc (the deadline runs from here).
    pub requested_at: DateTime<Utc>,
    /// The router's explanation.
    pub trace: Vec<String>,
}

/// A customer's receipt of a platform message, for the platform (Salesforce
/// `/acknowledgement`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Acknowledge {
    /// The outbox row that carried the platform message to the customer (its `id` is the
    /// platform's entry id).
    pub outbox_id: i64,
    /// `Delivered` or `Read`.
    pub kind: String,
    /// When the customer's channel reported it.
    pub at: DateTime<Utc>,
}

/// How the relay's routing answer went, reported back to the conversation's transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoutingReport {
    /// Whether every call was answered within the deadline.
    pub met: bool,
    /// Time from the request to the last answer (or to giving up), in milliseconds.
    pub elapsed_ms: u64,
    /// The deadline, in milliseconds.
    pub deadline_ms: u64,
    /// The calls made, in order (`/route`, `/agentWork`, `/routingResult`).
    pub calls: Vec<String>,
    /// The user the work was given to, when `/agentWork` succeeded.
    pub user_id: Option<String>,
    /// What went wrong, if anything (no message body).
    pub problem: Option<String>,
}

/// An `event` activity named `name` with `value` as its value.
pub(crate) fn event_with<T: Serialize>(name: &str, value: &T) -> Activity {
    let mut a = Activity::event(name);
    a.value = RawJson::from_serialize(value).ok();
    a
}
