//! Fault injection: throttling, outages, dropped connections and slow answers map to
//! retryable errors; the next request succeeds.

use std::time::Duration;

use byoc_core::{AdapterError, ChannelAdapter};
use byoc_sim::fault::Fault;
use byoc_telesign::TelesignAdapter;

use crate::support::{adapter, config, message_to, sim};

#[tokio::test]
async fn rate_limits_outages_and_drops_are_retryable() {
    let sim = sim().await;
    let a = adapter(&sim);
    let msg = message_to("15555550123", "hi");

    sim.faults().push(Fault::rate_limited(3), 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(matches!(e, AdapterError::RateLimited { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));

    let body = r#"{"status":{"code":10020,"description":"Messaging exceeded transaction hard cap. Request denied.","updated_on":"2024-05-02T20:03:17Z"}}"#;
    sim.faults().push(
        Fault::Status {
            status: 429,
            retry_after: Some(60),
            body: Some(body.into()),
        },
        1,
    );
    let e = a.send(&msg).await.unwrap_err();
    assert_eq!(
        (e.code(), e.retry_after()),
        (Some("10020"), Some(Duration::from_secs(60)))
    );

    sim.faults().push(Fault::unavailable(), 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(
        matches!(e, AdapterError::Transient { .. }) && e.is_retryable(),
        "{e}"
    );

    sim.faults().push(Fault::Drop, 1);
    let e = a.send(&msg).await.unwrap_err();
    assert!(matches!(e, AdapterError::Transient { .. }), "{e}");

    assert!(sim.messages().is_empty());
    a.send(&msg).await.unwrap();
    assert_eq!(sim.messages().len(), 1);
}

#[tokio::test]
async fn slow_answers_time_out_as_transient() {
    let sim = sim().await;
    let a = TelesignAdapter::new(config(&sim).with_timeout(Duration::from_millis(200))).unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)), 1);
    let e = a.send(&message_to("15555550123", "hi")).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
}
