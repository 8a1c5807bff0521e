//! Salesforce BYOC for CCaaS with byoc as the routing owner: carrying out the router's
//! decision ([`RoutingPlan`]) within the channel's routing deadline (Salesforce's 60 s),
//! counted from when the request reached byoc.
//!
//! | decision | calls |
//! |---|---|
//! | a rep, new conversation | `/route` (Initial, the queue) for the work item and correlation id, `/agentWork`, `/routingResult` |
//! | a rep, `RoutingRequested` | `/agentWork` (the event's correlation id), `/routingResult` |
//! | a queue only | `/route` with the queue's Salesforce id (Omni-Channel takes it from there) |
//! | nothing (transfer) | `/routingResult` `success: false` |
//!
//! A retryable failure is retried by the outbox while the deadline allows. When the deadline
//! passes, the calls under way are abandoned and the attempt is reported the way Salesforce
//! expects a late answer: `/routingResult` with `success: false` (or `true` when the
//! AgentWork was created) within 10 more seconds. Either way the outcome is never silent: a
//! metric ([`ROUTING_DEADLINE_MISSED`], [`PLATFORM_ROUTING_SECONDS`]), a log line, and a
//! [`RoutingReport`] in the conversation's transcript.

use std::sync::Mutex;
use std::time::Duration;

use byoc_core::{AdapterError, Delivery};
use byoc_salesforce::{
    AgentWorkRequest, RouteRequest, RoutingContext, RoutingInfo, RoutingResultRequest, RoutingType,
    SalesforceAdapter, SalesforceClient,
};
use chrono::Utc;

use super::{Relay, store_error};
use crate::config::SalesforceSettings;
use crate::model::{ConversationRecord, RoutingPlan, RoutingReport};
use crate::store::PlatformLink;

/// Routing answers that missed the deadline, by platform (`platform`).
pub(crate) const ROUTING_DEADLINE_MISSED: &str = "byoc_platform_routing_deadline_missed_total";
/// Time from a routing request to its last answer (seconds), by platform.
pub(crate) const PLATFORM_ROUTING_SECONDS: &str = "byoc_platform_routing_seconds";

/// How long the late `routingResult` may take once the deadline passed.
const REPORT_GRACE: Duration = Duration::from_secs(10);

/// What the calls did so far (read when the deadline cuts them short).
#[derive(Debug, Default)]
struct Progress {
    calls: Vec<String>,
    work_item_id: Option<String>,
    agent_work_created: bool,
    reported: bool,
}

fn with<T>(p: &Mutex<Progress>, f: impl FnOnce(&mut Progress) -> T) -> T {
    f(&mut p.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

fn routing_type(plan: &RoutingPlan) -> RoutingType {
    match plan.routing_type.as_str() {
        "Initial" => RoutingType::Initial,
        "Conference" => RoutingType::Conference,
        _ => RoutingType::Transfer,
    }
}

fn late_message(deadline: Duration) -> String {
    format!(
        "routing did not complete within the {}-second deadline",
        deadline.as_secs()
    )
}

/// Carries out a routing plan for `rec` (outbox row `outbox_id`).
pub(super) async fn answer(
    relay: &Relay,
    adapter: &SalesforceAdapter,
    settings: &SalesforceSettings,
    platform: &str,
    rec: &ConversationRecord,
    outbox_id: i64,
    plan: &RoutingPlan,
) -> Result<Delivery, AdapterError> {
    let Some(link) = relay
        .links
        .platform_link(platform, &rec.conversation.id)
        .await
        .map_err(|e| store_error(&e))?
    else {
        // The interaction before it in the lane records the link; it is not there yet.
        return Err(AdapterError::transient(
            "the conversation is not on Salesforce yet",
        ));
    };
    let deadline = settings.routing_deadline;
    let due =
        plan.requested_at + chrono::Duration::from_std(deadline).unwrap_or(chrono::Duration::MAX);
    let progress = Mutex::new(Progress {
        work_item_id: plan
            .work_item_id
            .clone()
            .or_else(|| link.work_item_id.clone()),
        ..Progress::default()
    });
    let client = adapter.client();
    let remaining = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    let outcome = if remaining.is_zero() {
        None
    } else {
        tokio::time::timeout(
            remaining,
            steps(relay, client, settings, platform, &link, plan, &progress),
        )
        .await
        .ok()
    };
    let elapsed = (Utc::now() - plan.requested_at)
        .to_std()
        .unwrap_or_default();
    let label = platform.to_owned();
    let report = |met: bool, problem: Option<String>| RoutingReport {
        met,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        deadline_ms: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
        calls: with(&progress, |p| p.calls.clone()),
        user_id: with(&progress, |p| p.agent_work_created)
            .then(|| plan.user_id.clone())
            .flatten(),
        problem,
    };
    match outcome {
        Some(Ok(())) => {
            metrics::histogram!(PLATFORM_ROUTING_SECONDS, "platform" => label)
                .record(elapsed.as_secs_f64());
            tracing::info!(conversation = %rec.conversation.id, %platform, elapsed_ms = elapsed.as_millis() as u64, "routing answered within the deadline");
            relay
                .report_routing(platform, rec, report(true, None), outbox_id)
                .await;
            Ok(Delivery::accepted(None).with_conversation_id(link.platform_conversation_id))
        }
        Some(Err(e)) if e.is_retryable() => Err(e),
        Some(Err(e)) => {
            tracing::warn!(conversation = %rec.conversation.id, %platform, error = %e, "routing answer refused");
            relay
                .report_routing(platform, rec, report(false, Some(e.to_string())), outbox_id)
                .await;
            Err(e)
        }
        None => {
            metrics::counter!(ROUTING_DEADLINE_MISSED, "platform" => label.clone()).increment(1);
            metrics::histogram!(PLATFORM_ROUTING_SECONDS, "platform" => label)
                .record(elapsed.as_secs_f64());
            let late = report_late(client, &link, plan, deadline, &progress).await;
            tracing::warn!(conversation = %rec.conversation.id, %platform,
                elapsed_ms = elapsed.as_millis() as u64, deadline_ms = deadline.as_millis() as u64,
                late_result = %late, "routing deadline missed");
            let problem = format!("{}; {late}", late_message(deadline));
            relay
                .report_routing(platform, rec, report(false, Some(problem)), outbox_id)
                .await;
            Ok(Delivery::accepted(None).with_conversation_id(link.platform_conversation_id))
        }
    }
}

async fn steps(
    relay: &Relay,
    client: &SalesforceClient,
    settings: &SalesforceSettings,
    platform: &str,
    link: &PlatformLink,
    plan: &RoutingPlan,
    progress: &Mutex<Progress>,
) -> Result<(), AdapterError> {
    let conversation = link.platform_conversation_id.clone();
    let kind = routing_type(plan);
    let queue_id = plan
        .queue
        .as_ref()
        .and_then(|q| settings.queues.get(q))
        .cloned();
    let routing_info = queue_id.clone().map(|q| RoutingInfo {
        queue_id: Some(q),
        ..RoutingInfo::default()
    });
    let route = RouteRequest {
        conversation_identifier: conversation.clone(),
        routing_type: kind,
        routing_info,
    };
    let Some(user_id) = plan.user_id.clone() else {
        if queue_id.is_some() || kind == RoutingType::Initial {
            with(progress, |p| p.calls.push("/route".to_owned()));
            client.route(&route).await?;
            return Ok(());
        }
        let work_item_id = with(progress, |p| p.work_item_id.clone())
            .ok_or_else(|| AdapterError::permanent(None, "no work item to report on"))?;
        with(progress, |p| p.calls.push("/routingResult".to_owned()));
        client
            .routing_result(&RoutingResultRequest {
                routing_type: kind,
                work_item_id,
                conversation_identifier: conversation,
                success: false,
                externally_routed: true,
                error_message: Some("byoc's router found no queue or agent".to_owned()),
            })
            .await?;
        return Ok(());
    };
    let mut correlation = plan.correlation_id.clone();
    if correlation.is_none() {
        // A new conversation: Omni-Channel opens the work and names its correlation id.
        with(progress, |p| p.calls.push("/route".to_owned()));
        let routed = client.route(&route).await?;
        correlation = routed.routing_correlation_id;
        if let Some(w) = routed.work_item_id {
            with(progress, |p| p.work_item_id = Some(w.clone()));
            let updated = link.clone().with_work_item(Some(w));
            if let Err(e) = relay.links.save_platform_link(updated).await {
                tracing::warn!(%platform, error = %e, "work item not recorded");
            }
        }
    }
    let work_item_id = with(progress, |p| p.work_item_id.clone())
        .ok_or_else(|| AdapterError::permanent(None, "no work item to assign"))?;
    let correlation =
        correlation.ok_or_else(|| AdapterError::permanent(None, "no routing correlation id"))?;
    with(progress, |p| p.calls.push("/agentWork".to_owned()));
    let work = client
        .create_agent_work(&AgentWorkRequest {
            user_id,
            work_item_id: work_item_id.clone(),
            capacity_weight: Some(1),
            capacity_percentage: None,
            routing_context: Some(RoutingContext {
                conversation_identifier: conversation.clone(),
                routing_type: kind,
                routing_correlation_id: correlation,
            }),
        })
        .await;
    with(progress, |p| {
        p.agent_work_created = work.is_ok();
        p.calls.push("/routingResult".to_owned());
    });
    let error_message = work
        .as_ref()
        .err()
        .map(|e| e.to_string().chars().take(255).collect());
    client
        .routing_result(&RoutingResultRequest {
            routing_type: kind,
            work_item_id,
            conversation_identifier: conversation,
            success: work.is_ok(),
            externally_routed: true,
            error_message,
        })
        .await?;
    with(progress, |p| p.reported = true);
    work.map(|_| ()).map_err(AdapterError::from)
}

/// The `routingResult` Salesforce expects when the answer is late; what became of it.
async fn report_late(
    client: &SalesforceClient,
    link: &PlatformLink,
    plan: &RoutingPlan,
    deadline: Duration,
    progress: &Mutex<Progress>,
) -> String {
    let (reported, created, work_item) = with(progress, |p| {
        (p.reported, p.agent_work_created, p.work_item_id.clone())
    });
    if reported {
        return "the routingResult was already sent".to_owned();
    }
    let Some(work_item_id) = work_item else {
        return "no work item to report on".to_owned();
    };
    let result = RoutingResultRequest {
        routing_type: routing_type(plan),
        work_item_id,
        conversation_identifier: link.platform_conversation_id.clone(),
        success: created,
        externally_routed: true,
        error_message: (!created).then(|| late_message(deadline)),
    };
    with(progress, |p| {
        p.calls.push("/routingResult (late)".to_owned())
    });
    match tokio::time::timeout(REPORT_GRACE, client.routing_result(&result)).await {
        Ok(Ok(_)) => format!("late routingResult sent (success: {created})"),
        Ok(Err(e)) => format!("late routingResult refused: {e}"),
        Err(_) => "late routingResult unanswered".to_owned(),
    }
}
