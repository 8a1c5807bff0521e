//! The transfer sequence under paused tokio time: calls that take longer than the
//! 60-second deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use byoc_core::AdapterError;
use byoc_http::{HttpTransport, TransportError};
use bytes::Bytes;

use super::*;

const WORK_ITEM: &str = "0Mw5g000000Ab3C";

/// Answers each path after a scripted delay (virtual time), recording the JSON bodies.
#[derive(Debug, Default)]
struct Slow {
    delays: HashMap<&'static str, Duration>,
    answers: HashMap<&'static str, (u16, &'static str)>,
    seen: Mutex<Vec<(String, serde_json::Value)>>,
}

#[async_trait]
impl HttpTransport for Slow {
    async fn execute(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let path = request
            .uri()
            .path()
            .trim_start_matches("/api/v1")
            .to_owned();
        let body = serde_json::from_slice(request.body()).unwrap_or(serde_json::Value::Null);
        if let Some(d) = self.delays.get(path.as_str()) {
            tokio::time::sleep(*d).await;
        }
        // Recorded once answered: what the service acknowledged.
        self.seen.lock().unwrap().push((path.clone(), body));
        let (status, body) = match path.as_str() {
            "/services/oauth2/token" => (
                200,
                r#"{"access_token":"00D!t","instance_url":"https://i"}"#,
            ),
            p => self
                .answers
                .get(p)
                .copied()
                .unwrap_or((202, r#"{"success":true}"#)),
        };
        let mut r = http::Response::new(Bytes::from_static(body.as_bytes()));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        Ok(r)
    }
}

impl Slow {
    fn new(delays: &[(&'static str, u64)]) -> Self {
        let mut s = Self::default();
        for (p, secs) in delays {
            s.delays.insert(p, Duration::from_secs(*secs));
        }
        s.answers.insert(
            "/agentWork",
            (202, r#"{"success":true,"agentWorkId":"0Bz5g000000AgW1"}"#),
        );
        s
    }

    fn seen(&self) -> Vec<(String, serde_json::Value)> {
        self.seen.lock().unwrap().clone()
    }
}

fn client(t: &Arc<Slow>) -> SalesforceClient {
    SalesforceClient::with_transport(crate::client::tests::config(), t.clone()).unwrap()
}

fn to_rep() -> RoutingRequested {
    RoutingRequested {
        conversation_identifier: Some("06f6c69b-bf42-4ec2-a6fa-9ae595218ea0".into()),
        routing_type: Some("Transfer".into()),
        routing_correlation_id: Some("d3bdacb1-49b4-4fbd-9adb-919319631db4".into()),
        user_id: Some("0055g00000Jk7Qp".into()),
        ..RoutingRequested::default()
    }
}

fn through_flow() -> RoutingRequested {
    RoutingRequested {
        user_id: None,
        flow_id: Some("300SG00000jJder".into()),
        ..to_rep()
    }
}

#[tokio::test(start_paused = true)]
async fn in_time_assignment_reports_success() {
    let t = Arc::new(Slow::new(&[("/agentWork", 30), ("/routingResult", 29)]));
    let out = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap();
    assert!(
        matches!(out, TransferOutcome::Assigned(ref w) if w.agent_work_id.as_deref() == Some("0Bz5g000000AgW1"))
    );
    let seen = t.seen();
    let results: Vec<_> = seen.iter().filter(|(p, _)| p == "/routingResult").collect();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].1["success"], true);
}

#[tokio::test(start_paused = true)]
async fn slow_agent_work_fails_typed_and_is_reported_failed() {
    let t = Arc::new(Slow::new(&[("/agentWork", 61)]));
    let e = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    match &e {
        TransferError::DeadlineExceeded {
            stage,
            agent_work_id,
            reported,
        } => {
            assert_eq!(*stage, TransferStage::AgentWorkRequested);
            assert_eq!(*agent_work_id, None);
            assert!(*reported);
        }
        other => panic!("{other:?}"),
    }
    let seen = t.seen();
    // The abandoned /agentWork was never answered; the attempt was reported as failed.
    assert!(!seen.iter().any(|(p, _)| p == "/agentWork"));
    let (_, report) = seen.iter().find(|(p, _)| p == "/routingResult").unwrap();
    assert_eq!(report["success"], false);
    assert_eq!(report["errorMessage"], DEADLINE_MESSAGE);
    assert_eq!(report["workItemId"], WORK_ITEM);
    let e: AdapterError = e.into();
    assert!(!e.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn created_work_with_a_slow_report_is_reported_after_the_deadline() {
    // /routingResult answers only after 61 s, so the in-sequence report is abandoned and
    // the one sent after the deadline outlives the grace period too: nothing is
    // acknowledged, and the error says so with the AgentWork to clean up.
    let t = Arc::new(Slow::new(&[("/agentWork", 20), ("/routingResult", 61)]));
    let e = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    let TransferError::DeadlineExceeded {
        stage,
        agent_work_id,
        reported,
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(stage, TransferStage::RoutingResultRequested);
    assert_eq!(agent_work_id.as_deref(), Some("0Bz5g000000AgW1"));
    assert!(!reported);
    assert!(!t.seen().iter().any(|(p, _)| p == "/routingResult"));
}

#[tokio::test(start_paused = true)]
async fn created_work_is_reported_as_assigned_when_the_grace_allows() {
    // The in-sequence report (sent at 55 s) needs 8 s: cut at 60 s. The late report, sent
    // at 60 s, needs 8 s too: within the 10 s grace.
    let t = Arc::new(Slow::new(&[("/agentWork", 55), ("/routingResult", 8)]));
    let e = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    let TransferError::DeadlineExceeded {
        stage,
        agent_work_id,
        reported,
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(stage, TransferStage::RoutingResultRequested);
    assert_eq!(agent_work_id.as_deref(), Some("0Bz5g000000AgW1"));
    assert!(reported);
    let seen = t.seen();
    let results: Vec<_> = seen.iter().filter(|(p, _)| p == "/routingResult").collect();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].1["success"], true);
    assert!(results[0].1.get("errorMessage").is_none());
}

#[tokio::test(start_paused = true)]
async fn slow_flow_routing_fails_typed_without_a_routing_result() {
    let t = Arc::new(Slow::new(&[("/route", 90)]));
    let e = client(&t)
        .transfer(&through_flow(), WORK_ITEM, None, Some("00G5g000000QuEu"))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        TransferError::DeadlineExceeded {
            stage: TransferStage::RouteRequested,
            agent_work_id: None,
            reported: false
        }
    ));
    assert!(t.seen().iter().all(|(p, _)| p == "/services/oauth2/token"));
}

#[tokio::test(start_paused = true)]
async fn a_slow_token_endpoint_fails_typed() {
    let t = Arc::new(Slow::new(&[("/services/oauth2/token", 120)]));
    let e = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    // /agentWork was about to be sent (its token not minted): reported as failed.
    let TransferError::DeadlineExceeded {
        stage,
        agent_work_id,
        ..
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(stage, TransferStage::AgentWorkRequested);
    assert_eq!(agent_work_id, None);
}

#[tokio::test(start_paused = true)]
async fn failed_assignment_is_reported_before_the_error() {
    let mut slow = Slow::new(&[]);
    slow.answers.insert(
        "/agentWork",
        (
            400,
            r#"{"code":15112,"message":"Agent status not associated with the channel"}"#,
        ),
    );
    let t = Arc::new(slow);
    let e = client(&t)
        .transfer(&to_rep(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    let TransferError::Call(inner) = e else {
        panic!("{e:?}");
    };
    assert_eq!(inner.code(), Some("15112"));
    let seen = t.seen();
    let (_, report) = seen.iter().find(|(p, _)| p == "/routingResult").unwrap();
    assert_eq!(report["success"], false);
    assert!(
        report["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not associated")
    );
}

#[tokio::test]
async fn missing_fields_are_named() {
    let t = Arc::new(Slow::new(&[]));
    let c = client(&t);
    let mut r = to_rep();
    r.routing_correlation_id = None;
    let e = c.transfer(&r, WORK_ITEM, None, None).await.unwrap_err();
    assert!(matches!(
        e,
        TransferError::MissingField {
            field: "channelData.eventId",
            ..
        }
    ));
    let e = c
        .transfer(&through_flow(), WORK_ITEM, None, None)
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        TransferError::MissingField {
            field: "queueId",
            ..
        }
    ));
    let mut r = through_flow();
    r.flow_id = None;
    let e = c.transfer(&r, WORK_ITEM, None, None).await.unwrap_err();
    assert!(matches!(
        e,
        TransferError::MissingField {
            field: "routingParameters",
            ..
        }
    ));
    assert!(t.seen().is_empty());
}
