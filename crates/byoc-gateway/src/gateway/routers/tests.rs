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

/// Submits `id` and registers its key, as a step would.
fn submit(routing: &mut Routing, id: &str, now: chrono::DateTime<Utc>) -> bool {
    let (router, state) = routing.prepared_mut("Support").unwrap();
    let placed = router.submit(state, &conversation(id), now);
    let offered = matches!(placed.decision.outcome, Outcome::Offered { .. });
    drop(placed);
    let key = format!("sms:{id}");
    routing.writes("Support", &[id.to_owned()], Some((id, &key)), Vec::new());
    offered
}

#[test]
fn an_agents_own_units_override_the_profile_and_carry_the_waiting_set_over() {
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let ws = [config()];
    let mut routing = Routing::new(
        &ws,
        RoutingState::new().with_member("ann", Presence::Available, 0),
    );
    routing.add_load("ann", ChannelKind::Sms, 2, now); // 10 of 10 units
    assert!(!submit(&mut routing, "c1", now), "full: c1 waits");
    let configured = routing.capacity_of("ann").unwrap();
    assert_eq!(
        (
            configured.configured,
            configured.profile.as_deref(),
            configured.own
        ),
        (Some(10), Some("blended"), None)
    );

    assert!(routing.set_capacity("ann", Some(15), now));
    assert_eq!(routing.capacity_of("ann").unwrap().own, Some(15));
    let (router, state) = routing.prepared_mut("Support").unwrap();
    assert!(state.is_tracked("c1"), "still waiting after the rebuild");
    let actions = router.reevaluate(state, now);
    assert!(
        matches!(&actions[..], [Action::Offer { member, .. }] if member.id == "ann"),
        "{actions:?}"
    );
    drop(actions);

    assert!(routing.set_capacity("ann", None, now));
    assert_eq!(routing.capacity_of("ann").unwrap().own, None);
    assert_eq!(
        routing.offered_to("Support", "c1").as_deref(),
        Some("ann"),
        "the offer survives going back to the profile"
    );
    assert!(!routing.set_capacity("nobody", Some(3), now));
}

#[test]
fn an_agent_out_of_a_queue_stays_out_when_the_state_is_rebuilt() {
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let ws = [config()];
    let mut routing = Routing::new(
        &ws,
        RoutingState::new().with_member("ann", Presence::Available, 0),
    );
    assert!(!routing.set_queue_membership("ann", "Elsewhere", false));
    assert!(routing.set_queue_membership("ann", "Sales", false));
    assert!(!routing.queue_choices("ann")[0].joined);
    assert!(
        !submit(&mut routing, "c1", now),
        "out of Sales: nothing offered"
    );

    routing.restore(Vec::new(), now);
    assert!(!routing.queue_choices("ann")[0].joined, "still out");
    assert!(!submit(&mut routing, "c2", now));

    assert!(routing.set_queue_membership("ann", "Sales", true));
    // Back in: c2, waiting, is served first, then c3 (two SMS fill ann's ten units).
    assert!(submit(&mut routing, "c3", now), "back in: offered");
    assert_eq!(
        routing.offers_to("ann", Some("Sales")),
        vec![
            ("c2".to_owned(), "sms:c2".to_owned()),
            ("c3".to_owned(), "sms:c3".to_owned())
        ]
    );
    assert!(routing.offers_to("ann", Some("Elsewhere")).is_empty());
}
