//! The RoutingRequested transfer sequence and its 60-second deadline (see
//! `docs/protocols/salesforce.md#transfers`).

use std::sync::Mutex;
use std::time::Duration;

use super::SalesforceClient;
use super::api::{
    AgentWorkRequest, AgentWorkResponse, FlowRouting, RouteRequest, RouteResponse, RoutingContext,
    RoutingInfo, RoutingResultRequest, RoutingType,
};
use crate::error::{TransferError, TransferStage};
use crate::normalize::RoutingRequested;

/// The transfer deadline: routing must complete within 60 s of the RoutingRequested event
/// (counted here from the call to [`SalesforceClient::transfer`]).
pub const TRANSFER_DEADLINE: Duration = Duration::from_secs(60);

/// After the deadline, how long reporting the failed attempt (`routingResult`
/// `success: false`) may take.
pub const TRANSFER_REPORT_GRACE: Duration = Duration::from_secs(10);

/// The `errorMessage` reported when the deadline passes.
const DEADLINE_MESSAGE: &str = "transfer did not complete within 60 seconds";

/// Where a transfer went.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// Routed through Omni (`POST /route`).
    Routed(RouteResponse),
    /// Assigned to a rep (`POST /agentWork`, then `POST /routingResult`).
    Assigned(AgentWorkResponse),
}

/// What the sequence has done so far; read when the deadline cuts it short.
#[derive(Debug)]
struct Progress {
    stage: TransferStage,
    agent_work_id: Option<String>,
    reported: bool,
    /// The routingResult to send if the deadline passes before one is acknowledged.
    report: Option<RoutingResultRequest>,
}

fn set<T>(progress: &Mutex<Progress>, f: impl FnOnce(&mut Progress) -> T) -> T {
    f(&mut progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
}

impl SalesforceClient {
    /// Carries out the transfer a RoutingRequested event asks for, within
    /// [`TRANSFER_DEADLINE`]: to `user_id` (the event's, else the one given) with
    /// `POST /agentWork` then `POST /routingResult`; otherwise through the event's flow with
    /// `POST /route` (`fallback_queue_id` as the flow's fallback queue). A failed assignment
    /// is reported with `routingResult` `success: false` before the error is returned.
    ///
    /// When the deadline passes, the calls under way are abandoned; an assignment attempt
    /// that has no acknowledged `routingResult` yet is reported (`success: false`, or `true`
    /// when the AgentWork was created) within [`TRANSFER_REPORT_GRACE`], and the error names
    /// the stage reached, the AgentWork created and whether the report was acknowledged.
    ///
    /// # Errors
    /// [`TransferError::DeadlineExceeded`] when the deadline passes;
    /// [`TransferError::MissingField`] when the event names neither a user nor a flow (or
    /// lacks its conversation or correlation id); [`TransferError::Call`] with the failed
    /// call's error.
    pub async fn transfer(
        &self,
        request: &RoutingRequested,
        work_item_id: &str,
        user_id: Option<&str>,
        fallback_queue_id: Option<&str>,
    ) -> Result<TransferOutcome, TransferError> {
        let progress = Mutex::new(Progress {
            stage: TransferStage::Started,
            agent_work_id: None,
            reported: false,
            report: None,
        });
        let work =
            self.transfer_steps(request, work_item_id, user_id, fallback_queue_id, &progress);
        if let Ok(done) = tokio::time::timeout(TRANSFER_DEADLINE, work).await {
            return done;
        }
        let (stage, agent_work_id, reported, report) = set(&progress, |p| {
            (
                p.stage,
                p.agent_work_id.clone(),
                p.reported,
                p.report.take(),
            )
        });
        let mut acknowledged = reported;
        if let Some(report) = report.filter(|_| !reported) {
            tracing::warn!(%stage, "transfer deadline passed; reporting the attempt");
            acknowledged = matches!(
                tokio::time::timeout(TRANSFER_REPORT_GRACE, self.routing_result(&report)).await,
                Ok(Ok(_))
            );
        } else {
            tracing::warn!(%stage, "transfer deadline passed");
        }
        Err(TransferError::DeadlineExceeded {
            stage,
            agent_work_id,
            reported: acknowledged,
        })
    }

    async fn transfer_steps(
        &self,
        request: &RoutingRequested,
        work_item_id: &str,
        user_id: Option<&str>,
        fallback_queue_id: Option<&str>,
        progress: &Mutex<Progress>,
    ) -> Result<TransferOutcome, TransferError> {
        let missing = |field, reason| TransferError::MissingField { field, reason };
        let conversation = request
            .conversation_identifier
            .clone()
            .ok_or(missing("conversationIdentifier", "missing"))?;
        let routing_type = match request.routing_type.as_deref() {
            Some("Conference") => RoutingType::Conference,
            Some("Initial") => RoutingType::Initial,
            _ => RoutingType::Transfer,
        };
        if let Some(user) = request.user_id.as_deref().or(user_id) {
            let correlation = request
                .routing_correlation_id
                .clone()
                .ok_or(missing("channelData.eventId", "missing"))?;
            let body = AgentWorkRequest {
                user_id: user.to_owned(),
                work_item_id: work_item_id.to_owned(),
                capacity_weight: Some(1),
                capacity_percentage: None,
                routing_context: Some(RoutingContext {
                    conversation_identifier: conversation.clone(),
                    routing_type,
                    routing_correlation_id: correlation,
                }),
            };
            let mut report = RoutingResultRequest {
                routing_type,
                work_item_id: work_item_id.to_owned(),
                conversation_identifier: conversation,
                success: false,
                externally_routed: true,
                error_message: Some(DEADLINE_MESSAGE.to_owned()),
            };
            set(progress, |p| {
                p.stage = TransferStage::AgentWorkRequested;
                p.report = Some(report.clone());
            });
            let result = self.create_agent_work(&body).await;
            match &result {
                Ok(work) => {
                    report.success = true;
                    report.error_message = None;
                    set(progress, |p| {
                        p.stage = TransferStage::RoutingResultRequested;
                        p.agent_work_id.clone_from(&work.agent_work_id);
                        p.report = Some(report.clone());
                    });
                }
                Err(e) => {
                    report.error_message = Some(e.to_string().chars().take(255).collect());
                    set(progress, |p| p.report = Some(report.clone()));
                }
            }
            self.routing_result(&report)
                .await
                .map_err(TransferError::Call)?;
            set(progress, |p| p.reported = true);
            return result
                .map(TransferOutcome::Assigned)
                .map_err(TransferError::Call);
        }
        let flow_id = request
            .flow_id
            .clone()
            .ok_or(missing("routingParameters", "neither a user nor a flow"))?;
        let queue_id = fallback_queue_id
            .map(str::to_owned)
            .or_else(|| request.queue_id.clone())
            .ok_or(missing("queueId", "flow routing needs a fallback queue"))?;
        let body = RouteRequest {
            conversation_identifier: conversation,
            routing_type,
            routing_info: Some(RoutingInfo {
                flow: Some(FlowRouting { flow_id, queue_id }),
                ..RoutingInfo::default()
            }),
        };
        set(progress, |p| p.stage = TransferStage::RouteRequested);
        self.route(&body)
            .await
            .map(TransferOutcome::Routed)
            .map_err(TransferError::Call)
    }
}

#[cfg(test)]
mod tests;
