//! The Interaction Service REST bodies (`/api/v1/...`), as typed serde structs.
//!
//! Field names follow `inbound-interaction-api.yaml`; optional fields are skipped when `None`.

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

/// The `json` part of `POST /interactions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionRequest {
    /// The channel address identifier.
    pub to: String,
    /// The end user client identifier.
    pub from: String,
    /// Exactly one interaction.
    pub interactions: Vec<Interaction>,
    /// Routing attributes (channel variables), when Salesforce routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_attributes: Option<BTreeMap<String, String>>,
}

/// One interaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "interactionType")]
#[non_exhaustive]
pub enum Interaction {
    /// A conversation entry (message, typing, delivery failure).
    #[serde(rename = "EntryInteraction")]
    Entry {
        /// Epoch milliseconds.
        timestamp: i64,
        /// The entry.
        payload: EntryPayload,
    },
    /// A file, whose bytes travel in the `attachments` part.
    #[serde(rename = "AttachmentInteraction", rename_all = "camelCase")]
    Attachment {
        /// Epoch milliseconds.
        timestamp: i64,
        /// A client-generated UUID.
        id: String,
        /// Index into the `attachments` parts (0).
        attachment_index: u32,
        /// The file's byte size.
        content_length: u64,
        /// Caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

/// An inbound entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entryType")]
#[non_exhaustive]
pub enum EntryPayload {
    /// A message.
    #[serde(rename = "Message", rename_all = "camelCase")]
    Message {
        /// Entry id (equal to the message id).
        id: String,
        /// The message.
        abstract_message: AbstractMessage,
    },
    /// The end user started typing.
    #[serde(rename = "TypingStartedIndicator")]
    TypingStarted {
        /// Entry id.
        id: String,
        /// Epoch milliseconds.
        timestamp: i64,
    },
    /// The end user stopped typing.
    #[serde(rename = "TypingStoppedIndicator")]
    TypingStopped {
        /// Entry id.
        id: String,
        /// Epoch milliseconds.
        timestamp: i64,
    },
    /// The partner could not deliver an outbound entry.
    #[serde(rename = "MessageDeliveryFailed", rename_all = "camelCase")]
    MessageDeliveryFailed {
        /// Entry id.
        id: String,
        /// The outbound entry's `identifier`.
        failed_conversation_entry_identifier: String,
        /// The end user.
        recipient: Participant,
        /// The partner's error code.
        error_code: String,
        /// Description.
        #[serde(skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
}

/// A message (`StaticContentMessage` with text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbstractMessage {
    /// `StaticContentMessage`.
    pub message_type: String,
    /// Message id (equal to the entry id).
    pub id: String,
    /// The content.
    pub static_content: StaticContent,
    /// The message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to_message_id: Option<String>,
}

/// `staticContent` with `formatType: Text`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticContent {
    /// `Text`.
    pub format_type: String,
    /// The text.
    pub text: String,
}

/// The 202 answer of `POST /interactions`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InteractionResponse {
    /// The conversation (minted when none existed for the `to`/`from` pair).
    pub conversation_identifier: Option<String>,
    /// Undocumented id (the examples echo the entry id).
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
    /// Epoch milliseconds (sent as a number, as the README and the samples do).
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
pub struct AcknowledgementRequest {
    /// The end user.
    pub sender: Participant,
    /// The conversation.
    pub conversation_identifier: String,
    /// The acknowledgements.
    pub acknowledgements: Vec<Acknowledgement>,
}

/// The body of `POST /messagingSession`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagingSessionRequest {
    /// The channel address.
    pub channel_address_identifier: String,
    /// The end user.
    pub end_user_client_id: String,
    /// The conversation.
    pub conversation_identifier: String,
    /// `End` or `Inactivate`.
    pub operation: String,
    /// `EndUser` or `System`.
    pub operation_by: String,
    /// The MessagingSession id (required for `Inactivate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// The body of `POST /participant` (remove one participant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantRequest {
    /// The conversation.
    pub conversation_identifier: String,
    /// `Remove`.
    pub operation: String,
    /// Exactly one participant.
    pub participants: Vec<Participant>,
}

/// The body of `PATCH /consent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequest {
    /// The end user.
    pub end_user_client_id: String,
    /// The channel address.
    pub channel_address_identifier: String,
    /// `OptedOut`, `ImplicitlyOptedIn`, `ExplicitlyOptedIn` or `DoublyOptedIn`.
    pub consent_status: String,
}

/// The body of `POST /conversation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationRequest {
    /// The channel address.
    pub channel_address_identifier: String,
    /// Exactly one participant: the end user.
    pub participants: Vec<Participant>,
    /// Routing attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_attributes: Option<BTreeMap<String, String>>,
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
pub struct CancelRouteRequest {
    /// The conversation.
    pub conversation_identifier: String,
    /// `Unknown`, `Unavailable`, `Decline` or `Cancel`.
    pub cancel_reason: String,
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

/// An error body, `{"code": 10004, "message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The code.
    pub code: Option<i64>,
    /// The message.
    pub message: Option<String>,
}
