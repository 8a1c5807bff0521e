//! The Interaction Service REST bodies other than the interaction itself
//! (`/acknowledgement`, `/conversation`, `/messagingSession`, `/participant`, `/consent`,
//! `/route`, `/agentWork`, `/routingResult`) and the answers, as typed serde structs. Field
//! names are the service's; optional fields are skipped when `None`. See
//! `docs/protocols/salesforce.md#rest-calls`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A participant reference (`{appType, subject, role}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// `custom`, `agent`, `chatbot`, `conversation`, ...
    pub app_type: String,
    /// The participant's key (end user client id, user id).
    pub subject: String,
    /// `EndUser`, `Agent`, `Chatbot`, `System`, ...
    pub role: String,
}

impl Participant {
    /// The end user (`appType: custom`, `role: EndUser`), as Salesforce requires since
    /// Spring '24.
    #[must_use]
    pub fn end_user(subject: impl Into<String>) -> Self {
        Self {
            app_type: "custom".into(),
            subject: subject.into(),
            role: "EndUser".into(),
        }
    }

    /// A rep (`appType: agent`, `role: Agent`).
    #[must_use]
    pub fn agent(user_id: impl Into<String>) -> Self {
        Self {
            app_type: "agent".into(),
            subject: user_id.into(),
            role: "Agent".into(),
        }
    }
}

/// The 202 answer of `POST /interactions`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InteractionResponse {
    /// The conversation (minted when none existed for the `to`/`from` pair).
    pub conversation_identifier: Option<String>,
    /// An id the service does not describe (it echoes the entry id).
    pub id: Option<String>,
    /// The MessagingSession ids (15 characters).
    #[serde(default)]
    pub work_item_ids: Vec<String>,
    /// Whether it succeeded.
    pub success: Option<bool>,
}

/// `Read` or `Delivered`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AcknowledgementType {
    /// Read by the end user.
    Read,
    /// Delivered to the end user.
    Delivered,
}

/// One acknowledgement of `POST /acknowledgement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Epoch milliseconds, sent as a number (see `docs/protocols/salesforce.md#acknowledgements`).
    #[serde(rename = "acknowledgementTimestamp")]
    pub timestamp: i64,
    /// Read or delivered.
    #[serde(rename = "acknowledgementType")]
    pub kind: AcknowledgementType,
    /// The outbound entry's `identifier`.
    #[serde(rename = "acknowledgedConversationEntryIdentifier")]
    pub acknowledged_entry: String,
    /// A new UUID for the acknowledgement entry (note the spelling, without the "e").
    #[serde(rename = "acknowledgmentCreatedConversationEntryIdentifier")]
    pub created_entry: String,
}

/// The body of `POST /acknowledgement` (at most 25 acknowledgements).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AcknowledgementRequest {
    /// The end user.
    pub(crate) sender: Participant,
    /// The conversation.
    pub(crate) conversation_identifier: String,
    /// The acknowledgements.
    pub(crate) acknowledgements: Vec<Acknowledgement>,
}

/// The body of `POST /messagingSession`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessagingSessionRequest {
    /// The channel address.
    pub(crate) channel_address_identifier: String,
    /// The end user.
    pub(crate) end_user_client_id: String,
    /// The conversation.
    pub(crate) conversation_identifier: String,
    /// `End` or `Inactivate`.
    pub(crate) operation: String,
    /// `EndUser` or `System`.
    pub(crate) operation_by: String,
    /// The MessagingSession id (required for `Inactivate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<String>,
}

/// The body of `POST /participant` (remove one participant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParticipantRequest {
    /// The conversation.
    pub(crate) conversation_identifier: String,
    /// `Remove`.
    pub(crate) operation: String,
    /// Exactly one participant.
    pub(crate) participants: Vec<Participant>,
}

/// The body of `PATCH /consent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsentRequest {
    /// The end user.
    pub(crate) end_user_client_id: String,
    /// The channel address.
    pub(crate) channel_address_identifier: String,
    /// `OptedOut`, `ImplicitlyOptedIn`, `ExplicitlyOptedIn` or `DoublyOptedIn`.
    pub(crate) consent_status: String,
}

/// The body of `POST /conversation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationRequest {
    /// The channel address.
    pub(crate) channel_address_identifier: String,
    /// Exactly one participant: the end user.
    pub(crate) participants: Vec<Participant>,
    /// Routing attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) routing_attributes: Option<BTreeMap<String, String>>,
}

/// `Initial`, `Transfer` or `Conference`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RoutingType {
    /// First routing.
    Initial,
    /// A transfer.
    Transfer,
    /// A conference.
    Conference,
}

/// `routingInfo` of `POST /route`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingInfo {
    /// Route through an Omni flow (`flowId` and the fallback `queueId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowRouting>,
    /// Route to a queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// Channel variables for the flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_attributes: Option<BTreeMap<String, String>>,
}

/// A flow and its fallback queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowRouting {
    /// The FlowDefinitionView id.
    pub flow_id: String,
    /// The fallback queue id.
    pub queue_id: String,
}

/// The body of `POST /route`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRequest {
    /// The conversation.
    pub conversation_identifier: String,
    /// The routing type.
    pub routing_type: RoutingType,
    /// Where to route; `None` uses the channel's configured routing (recommended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_info: Option<RoutingInfo>,
}

/// The answer of `POST /route`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RouteResponse {
    /// Whether it succeeded.
    pub success: Option<bool>,
    /// The PendingServiceRouting id.
    pub psr_id: Option<String>,
    /// The work item.
    pub work_item_id: Option<String>,
    /// The routing correlation id.
    pub routing_correlation_id: Option<String>,
    /// Why it was not routed.
    pub reason_for_not_routing: Option<String>,
}

/// The body of `DELETE /route`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelRouteRequest {
    /// The conversation.
    pub(crate) conversation_identifier: String,
    /// `Unknown`, `Unavailable`, `Decline` or `Cancel`.
    pub(crate) cancel_reason: String,
}

/// `routingContext` of `POST /agentWork`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingContext {
    /// The conversation.
    pub conversation_identifier: String,
    /// The routing type.
    pub routing_type: RoutingType,
    /// The `eventId` of the RoutingRequested event, or the route response's id.
    pub routing_correlation_id: String,
}

/// The body of `POST /agentWork`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentWorkRequest {
    /// The user who gets the work.
    pub user_id: String,
    /// The MessagingSession id (15 characters).
    pub work_item_id: String,
    /// Capacity weight (never together with a percentage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_weight: Option<u32>,
    /// Capacity percentage, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_percentage: Option<u32>,
    /// The routing context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_context: Option<RoutingContext>,
}

/// The answer of `POST /agentWork`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentWorkResponse {
    /// Whether it succeeded.
    pub success: Option<bool>,
    /// The AgentWork id.
    pub agent_work_id: Option<String>,
}

/// The body of `PATCH /agentWork`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentWorkUpdate {
    /// The AgentWork id.
    pub work_id: String,
    /// `Close`, `Accept`, `Decline`, `Cancel`.
    pub status: String,
    /// `Agent` or `Chatbot`.
    pub context_type: String,
}

/// The body of `POST /routingResult`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingResultRequest {
    /// The routing type.
    pub routing_type: RoutingType,
    /// The MessagingSession id.
    pub work_item_id: String,
    /// The conversation.
    pub conversation_identifier: String,
    /// Whether routing succeeded.
    pub success: bool,
    /// Routed outside Salesforce.
    pub externally_routed: bool,
    /// Why it failed: required when `success` is false, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// A success answer of the session APIs (`{success, errorDetail?}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SuccessResponse {
    /// Whether it succeeded.
    pub success: Option<bool>,
    /// The reason, for `/messagingSession` failures.
    pub error_reason: Option<String>,
}

/// The part of an error body (`{"code": 10004, "message": "..."}`) that is read besides the
/// code: the message, only to tell a rate limit that is not a 429; it is never kept.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    /// The message.
    pub(crate) message: Option<String>,
}
