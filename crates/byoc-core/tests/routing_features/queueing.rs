//! Priorities, preferred agents, capacity profiles, positions and estimated waits, restoring after a restart.

use std::time::Duration;

use byoc_core::workstream::{
    Action, MemberState, Outcome, PerKind, PreparedState, Presence, Router, RoutingState,
    TraceStep, Verdict, Workstream,
};

use crate::offers::{escalated, offer_ws};
use crate::{at, conv, free, given_to, offers, secs, ws};

fn priority_ws() -> Workstream {
    ws(r#"
[[routing_rules]]
name = "Urgent"
queue = "Q"
priority = 10
condition = { equals = { field = "context.Topic", value = "urgent" } }

[[routing_rules]]
name = "Vip"
queue = "Vip"
condition = { equals = { field = "context.Topic", value = "vip" } }

[[routing_rules]]
name = "Normal"
queue = "Q"

[[queues]]
name = "Q"
members = [{ id = "ann", kind = "agent", capacity = 1 }]

[[queues]]
name = "Vip"
priority = 5
members = [{ id = "ann", kind = "agent", capacity = 1 }]
"#)
}

#[test]
fn priorities_then_first_in_first_out() {
    let ws = priority_ws();
    let router = Router::new(&ws);
    let mut state = router.prepare(&RoutingState::new().with_member("ann", Presence::Available, 1));
    let arrivals = [
        ("n1", ""),
        ("n2", ""),
        ("u1", "urgent"),
        ("n3", ""),
        ("u2", "urgent"),
    ];
    for (i, (id, topic)) in arrivals.iter().enumerate() {
        let mut c = conv(id);
        if !topic.is_empty() {
            c.set_context("Topic", *topic);
        }
        router.submit(&mut state, &c, at(9, i as u32));
    }
    let order: Vec<(String, u32)> = router
        .places(&state, "Q")
        .into_iter()
        .map(|(id, place)| (id.to_string(), place.position))
        .collect();
    assert_eq!(
        order,
        [
            ("u1".into(), 1),
            ("u2".into(), 2),
            ("n1".into(), 3),
            ("n2".into(), 4),
            ("n3".into(), 5)
        ]
    );
    // A new urgent one would wait at 3; a normal one at 6.
    let mut urgent = conv("u3");
    urgent.set_context("Topic", "urgent");
    let d = router.route_at(&urgent, &state, at(9, 10));
    assert!(matches!(d.outcome, Outcome::Queued { position: 3 }));
    assert_eq!(d.priority, 10);
    // ann frees up: the queues are served in priority order.
    let mut vip = conv("v1");
    vip.set_context("Topic", "vip");
    router.submit(&mut state, &vip, at(9, 11));
    let served: Vec<String> = (0..3)
        .map(|i| {
            state.set_member("ann", Presence::Available, 0);
            let a = router.reevaluate(&mut state, at(10, i));
            let (c, m) = offers(&a).pop().unwrap();
            assert_eq!(m, "ann");
            state.set_member("ann", Presence::Available, 1);
            c
        })
        .collect();
    assert_eq!(served, ["v1", "u1", "u2"]);
}

// ------------------------------------------------------------------ preferred agent

fn preferred_ws(wait: &str) -> Workstream {
    ws(&format!(
        r#"
[[routing_rules]]
name = "Returning"
queue = "Q"
preferred_agent = {{ from = "context.Agent", wait = "{wait}" }}

[[queues]]
name = "Q"
members = [
    {{ id = "ann", kind = "agent", capacity = 3 }},
    {{ id = "bob", kind = "agent", capacity = 1 }},
]
"#
    ))
}

#[test]
fn preferred_agent_first_then_the_queue() {
    // (wait, bob's presence and load, expected at once, expected after 2 minutes)
    type Case<'a> = (&'a str, Presence, u32, Option<&'a str>, Option<&'a str>);
    let cases: &[Case<'_>] = &[
        ("0s", Presence::Available, 0, Some("bob"), None),
        ("0s", Presence::Away, 0, Some("ann"), None),
        ("2m", Presence::Available, 1, None, Some("ann")),
        ("2m", Presence::Away, 0, None, Some("ann")),
    ];
    for (wait, presence, load, now, later) in cases {
        let ws = preferred_ws(wait);
        let router = Router::new(&ws);
        let mut state = router.prepare(
            &RoutingState::new()
                .with_member("ann", Presence::Available, 0)
                .with_member("bob", *presence, *load),
        );
        let mut c = conv("c");
        c.set_context("Agent", "bob");
        let t0 = at(9, 0);
        let p = router.submit(&mut state, &c, t0);
        assert_eq!(
            given_to(&p.actions, "c"),
            *now,
            "{wait} {presence:?}: {:#?}",
            p.decision.explain()
        );
        if now.is_none() {
            assert!(p.decision.explain().iter().any(|l| l.starts_with(
                "preferred agent bob: not free; the conversation waits for them until"
            )));
            assert_eq!(state.next_wake(), Some(secs(t0, 120)));
            let a = router.wake(&mut state, secs(t0, 120));
            assert_eq!(given_to(&a, "c"), *later);
        }
    }
}

#[test]
fn preferred_agent_coming_back_within_the_wait_takes_it() {
    let ws = preferred_ws("2m");
    let router = Router::new(&ws);
    let mut state = router.prepare(
        &RoutingState::new()
            .with_member("ann", Presence::Available, 0)
            .with_member("bob", Presence::Away, 0),
    );
    let mut c = conv("c");
    c.set_context("Agent", "bob");
    router.submit(&mut state, &c, at(9, 0));
    // ann is free but the conversation waits for bob.
    assert!(router.reevaluate(&mut state, at(9, 1)).is_empty());
    state.update_member("bob", MemberState::new(Presence::Available, 0), at(9, 1));
    let a = router.reevaluate(&mut state, at(9, 1));
    assert_eq!(given_to(&a, "c"), Some("bob"));
}

// ------------------------------------------------------------------ capacity profiles

#[test]
fn capacity_profiles_share_an_agent_between_kinds() {
    let ws = ws(r#"
[[capacity_profiles]]
name = "blended"
units = 10
cost = { chat = 4, sms = 2 }
max = { chat = 2 }

[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
members = [
    { id = "ann", kind = "agent", capacity_profile = "blended" },
    { id = "bob", kind = "agent", capacity_profile = "blended", units = 4, max = { chat = 1 } },
]
"#);
    let router = Router::new(&ws);
    let kinds = |chat, sms| PerKind {
        chat,
        sms,
        messaging: 0,
    };
    // (ann's chat and SMS conversations, bob's, expected for one more chat)
    let cases = [
        (kinds(0, 0), kinds(0, 0), Some("ann")), // 10 free vs 4 free
        (kinds(1, 1), kinds(0, 0), Some("ann")), // 4 free each: the lower id
        (kinds(2, 0), kinds(0, 0), Some("bob")), // ann at her chat limit
        (kinds(0, 4), kinds(0, 1), None),        // ann 2 units free, bob 2: a chat costs 4
        (kinds(1, 2), kinds(1, 0), None),        // ann 2 free; bob at his own chat limit
    ];
    for (i, (ann, bob, expected)) in cases.into_iter().enumerate() {
        let state = router.prepare(
            &RoutingState::new()
                .with_member_state(
                    "ann",
                    MemberState::new(Presence::Available, 0).with_kinds(ann),
                )
                .with_member_state(
                    "bob",
                    MemberState::new(Presence::Available, 0).with_kinds(bob),
                ),
        );
        let d = router.route_at(&conv("c"), &state, at(9, 0));
        let got = match d.outcome {
            Outcome::Assigned(m) => Some(m.id.as_str()),
            _ => None,
        };
        assert_eq!(got, expected, "case {i}: {:#?}", d.explain());
    }
    let state = router.prepare(&RoutingState::new().with_member_state(
        "ann",
        MemberState::new(Presence::Available, 0).with_kinds(kinds(2, 0)),
    ));
    let d = router.route_at(&conv("c"), &state, at(9, 0));
    assert!(d.trace().contains(&TraceStep::Member(
        &ws.queues[0].members[0],
        Verdict::AtKindLimit { max: 2 }
    )));
}

// ------------------------------------------------------------------ positions and waits

#[test]
fn queue_positions_and_estimated_waits() {
    let ws = ws(r#"
[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
average_handle_time = "6m"
offer = { timeout = "1m" }
members = [
    { id = "ann", kind = "agent", capacity = 1 },
    { id = "bob", kind = "agent", capacity = 2 },
]
"#);
    let router = Router::new(&ws);
    let mut state = router.prepare(
        &RoutingState::new()
            .with_member("ann", Presence::Available, 1)
            .with_member("bob", Presence::Available, 2),
    );
    for i in 0..3 {
        router.submit(&mut state, &conv(&format!("c{i}")), at(9, i));
    }
    // Three conversations at a time can be held: 6 minutes / 3 per position.
    let place = router.place(&state, "c2").unwrap();
    assert_eq!(place.position, 3);
    assert_eq!(place.estimated_wait, Some(Duration::from_secs(360)));
    // Departures teach the queue its pace: one leaves every 4 minutes.
    state.set_member("ann", Presence::Available, 0);
    let a = router.reevaluate(&mut state, at(9, 4));
    assert_eq!(given_to(&a, "c0"), Some("ann"));
    router.accept(&mut state, "c0", "ann", at(9, 4)).unwrap();
    let place = router.place(&state, "c2").unwrap();
    assert_eq!(place.position, 2);
    assert_eq!(place.estimated_wait, Some(Duration::from_secs(2 * 240)));
    let rendered = ws.render_text(
        "About {EstimatedWaitMinutes} minutes, number {QueuePosition}.",
        &conv("c2"),
        &byoc_core::workstream::MessageValues {
            queue_position: Some(place.position),
            estimated_wait: place.estimated_wait,
            ..Default::default()
        },
    );
    assert_eq!(rendered, "About 8 minutes, number 2.");
}

#[test]
fn a_conversation_served_on_arrival_does_not_shorten_the_estimated_wait() {
    let ws = ws(r#"
[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
average_handle_time = "6m"
members = [{ id = "ann", kind = "agent", capacity = 1 }]
"#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&RoutingState::new().with_member("ann", Presence::Available, 0));
    // Ann is free: the first conversation is assigned the moment it arrives.
    let a = router.submit(&mut state, &conv("c0"), at(9, 0));
    assert_eq!(given_to(&a.actions, "c0"), Some("ann"));
    // The next one waits; its estimate still comes from the handle time, not from a
    // departure that took no time.
    router.submit(&mut state, &conv("c1"), at(9, 1));
    let place = router.place(&state, "c1").unwrap();
    assert_eq!(place.position, 1);
    assert_eq!(place.estimated_wait, Some(Duration::from_secs(360)));
}

// ------------------------------------------------------------------ restart

#[test]
fn tracked_conversations_survive_a_restart() {
    let ws = offer_ws("");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob"]));
    let t0 = at(9, 0);
    router.submit(&mut state, &escalated("c1"), t0);
    router
        .decline(&mut state, "c1", "ann", secs(t0, 1))
        .unwrap();
    state.set_member("bob", Presence::Available, 1);
    state.set_member("ann", Presence::Available, 1);
    router.submit(&mut state, &escalated("c2"), secs(t0, 2));
    let items = router.work_items(&state);
    let json = serde_json::to_string(&items).unwrap();
    let items: Vec<byoc_core::workstream::WorkItem> = serde_json::from_str(&json).unwrap();

    // The host's presence store, without the waiting counts (the items carry those).
    let mut presence = state.to_routing_state();
    presence.set_waiting("Q", 0);
    let mut fresh: PreparedState = router.prepare(&presence);
    for item in &items {
        router.restore(&mut fresh, item, secs(t0, 3)).unwrap();
    }
    let before: Vec<_> = router.places(&state, "Q");
    let after: Vec<_> = router.places(&fresh, "Q");
    assert_eq!(before, after);
    assert_eq!(fresh.next_wake(), state.next_wake());
    // bob's offer is still his to answer, and his capacity is still held.
    assert_eq!(
        router.place(&fresh, "c1").unwrap().offered_to.as_deref(),
        Some("bob")
    );
    let a = router.wake(&mut fresh, secs(t0, 31));
    assert!(matches!(&a[0], Action::Withdraw { conversation, .. } if **conversation == *"c1"));
}
