//! The shell's routing state: loads per channel kind against capacity profiles, and the
//! waiting set written out and restored.

use std::time::Duration;

use byoc_core::ChannelAccount;
use byoc_core::conversation::Conversation;
use byoc_core::workstream::{Outcome, Presence, RoutingState, Workstream};
use chrono::{TimeZone, Utc};

use super::*;
use crate::config::ContactCenterKind;

const PROFILES: &str = r#"
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }

[[capacity_profiles]]
name = "blended"
units = 10
cost = { sms = 5, chat = 2 }

[[routing_rules]]
name = "All"
queue = "Sales"

[[queues]]
name = "Sales"
offer = { timeout = "30s" }
members = [{ id = "ann", kind = "agent", capacity_profile = "blended" }]
"#;

fn config() -> WorkstreamConfig {
    WorkstreamConfig {
        workstream: Workstream::from_toml_str(PROFILES).unwrap(),
        contact_center: ContactCenterKind::Byoc,
        bot_timeout: Duration::from_secs(30),
    }
}

fn conversation(id: &str) -> Conversation {
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    Conversation::new(id, "sms", ChannelAccount::new("c"), at)
}

#[test]
fn loads_of_other_channel_kinds_count_at_their_cost_in_the_profile() {
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let ws = [config()];
    let mut routing = Routing::new(
        &ws,
        RoutingState::new().with_member("ann", Presence::Available, 0),
    );
    // One SMS (5 units) and two chats (2 each): 9 of 10 units, no room for another SMS.
    routing.add_load("ann", ChannelKind::Sms, 1, now);
    routing.add_load("ann", ChannelKind::Chat, 2, now);
    let (router, state) = routing.prepared_mut("Support").unwrap();
    let decision = router.route(&conversation("c1"), state);
    assert!(
        matches!(decision.outcome, Outcome::Queued { .. }),
        "{:?}",
        decision.explain()
    );
    // The chats end: room again.
    routing.add_load("ann", ChannelKind::Chat, -2, now);
    let (router, state) = routing.prepared_mut("Support").unwrap();
    let decision = router.route(&conversation("c1"), state);
    assert!(
        matches!(decision.outcome, Outcome::Offered { member, .. } if member.id == "ann"),
        "{:?}",
        decision.explain()
    );
    assert_eq!(routing.member_state("ann").unwrap().load, 1);
}

#[test]
fn the_waiting_set_written_out_restores_with_its_offer() {
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let ws = [config()];
    let members = RoutingState::new().with_member("ann", Presence::Available, 0);
    let mut routing = Routing::new(&ws, members.clone());
    let (router, state) = routing.prepared_mut("Support").unwrap();
    let placed = router.submit(state, &conversation("c1"), now);
    assert_eq!(placed.actions.len(), 1);
    drop(placed);
    let writes = routing.writes(
        "Support",
        &["c1".to_owned()],
        Some(("c1", "sms:c1")),
        Vec::new(),
    );
    let [WorkChange::Save { work, .. }] = &writes.work[..] else {
        panic!("{:?}", writes.work);
    };
    assert_eq!(work.conv_key, "sms:c1");

    let mut again = Routing::new(&ws, members);
    let gone = again.restore(vec![(**work).clone()], now);
    assert!(gone.is_empty());
    assert_eq!(again.offered_to("Support", "c1").as_deref(), Some("ann"));
    // The offer still times out at its own time, not 30 s after the restart.
    let later = now + chrono::TimeDelta::seconds(30);
    assert_eq!(again.next_wake(), Some(later));

    // Leaving the queue forgets it.
    let (router, state) = again.prepared_mut("Support").unwrap();
    let actions = router.cancel(state, "c1", later);
    let (follow_ups, _) = follow_ups_of(&actions);
    drop(actions);
    let writes = again.writes("Support", &["c1".to_owned()], None, follow_ups);
    assert!(
        matches!(&writes.work[..], [WorkChange::Forget { conversation, .. }] if conversation == "c1")
    );
    assert_eq!(
        writes.follow_ups.len(),
        1,
        "the withdrawal goes to c1's inbox"
    );
    assert_eq!(writes.follow_ups[0].conv_key, "sms:c1");
}
