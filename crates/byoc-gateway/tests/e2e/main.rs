//! End-to-end tests over loopback: the gateway (in-process, or the `byoc` binary) against
//! the TeleSign and Bot Framework simulators, with real signatures and JWTs.
//!
//! `delivery`: the outbox against a provider that fails; `agents`: the agent API; `offers`:
//! offers accepted, declined and timed out through the agent API, and across a restart;
//! `bots`: bots and Bot Framework channels; `binary`: the `byoc` process (kill and
//! restart, config checks, normalize); `ops`: operations endpoints and webhook limits;
//! `returning`: a returning customer offered to their last agent first; `desk`: the queues
//! an agent works and its capacity, set through the agent API and kept across a restart.

mod agents;
mod binary;
mod bots;
mod delivery;
mod desk;
mod offers;
mod ops;
mod relay;
mod returning;
mod support;

use std::time::Duration;

use support::{Agent, CUSTOMER, Env, OURS, eventually};

const LIMIT: Duration = Duration::from_secs(20);

/// Alice signs in; the customer texts; alice is assigned and greeted the customer.
async fn conversation_with_alice(env: &Env) -> (Agent, String) {
    let mut alice = env.agent("alice");
    alice.sign_in().await;
    let (_, status) = env.telesign.send_mo(CUSTOMER, OURS, "hello").await.unwrap();
    assert_eq!(status, 200);
    let id = alice.wait_held().await;
    eventually("the agent-joined SMS", LIMIT, || {
        env.sms()
            .contains(&"alice joined.".to_owned())
            .then_some(())
    })
    .await;
    (alice, id)
}

fn count(sms: &[String], text: &str) -> usize {
    sms.iter().filter(|t| *t == text).count()
}

#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripted_demo_conversation_passes_every_hop() {
    byoc_gateway::run_demo(true).await.unwrap();
}
