//! Overflow before queueing (closed, too many waiting, long estimated wait) and after (waited too long).

use byoc_core::workstream::{Action, Outcome, Presence, Router, RoutingState, Workstream};
use chrono::{DateTime, Utc};

use crate::{at, conv, free, given_to, secs, ws};

fn overflow_ws(overflow: &str) -> Workstream {
    ws(&format!(
        r#"
[[operating_hours]]
name = "Office"
time_zone = "Europe/Paris"
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]

[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
operating_hours = "Office"
average_handle_time = "10m"
overflow = [{overflow}]
members = [{{ id = "ann", kind = "agent", capacity = 1 }}]

[[queues]]
name = "Later"
members = [{{ id = "lee", kind = "agent", capacity = 1 }}]
"#
    ))
}

#[test]
fn overflow_before_queueing() {
    // (overflow, ann's load, conversations already waiting, time, expected)
    let cases: &[(&str, u32, u32, DateTime<Utc>, &str)] = &[
        (
            r#"{ when = "closed", then = { transfer = "Later" } }"#,
            0,
            0,
            at(19, 0),
            "transfer Later",
        ),
        (
            r#"{ when = "closed", then = { transfer = "Later" } }"#,
            0,
            0,
            at(9, 0),
            "assign ann",
        ),
        (
            r#"{ when = { waiting_over = 2 }, then = { end = "Busy, sorry." } }"#,
            1,
            2,
            at(9, 0),
            "end Busy, sorry.",
        ),
        (
            r#"{ when = { waiting_over = 2 }, then = { end = "Busy, sorry." } }"#,
            1,
            1,
            at(9, 0),
            "wait 2",
        ),
        (
            r#"{ when = { estimated_wait_over = "15m" }, then = { wait = "Long wait, {EstimatedWaitMinutes} min." } }"#,
            1,
            1,
            at(9, 0),
            "message Long wait, {EstimatedWaitMinutes} min.",
        ),
        (
            r#"{ when = { estimated_wait_over = "25m" }, then = { wait = "Long wait." } }"#,
            1,
            1,
            at(9, 0),
            "wait 2",
        ),
        // Closed and no overflow for it: it waits for the opening.
        (
            r#"{ when = { waiting_over = 5 }, then = { end = "" } }"#,
            0,
            0,
            at(19, 0),
            "wait 1",
        ),
    ];
    for (overflow, load, waiting, now, expected) in cases {
        let ws = overflow_ws(overflow);
        let router = Router::new(&ws);
        let mut state = router.prepare(
            &RoutingState::new()
                .with_member("ann", Presence::Available, *load)
                .with_member("lee", Presence::Available, 0)
                .with_waiting("Q", *waiting),
        );
        let p = router.submit(&mut state, &conv("c"), *now);
        let got = p
            .actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::Transfer { to, .. } => Some(format!("transfer {}", to.name)),
                Action::End { message, .. } => Some(format!("end {}", message.unwrap_or(""))),
                Action::Message { text, .. } => Some(format!("message {text}")),
                _ => None,
            })
            .or_else(|| {
                p.actions.iter().find_map(|a| match a {
                    Action::Assign { member, .. } if member.id == "ann" => {
                        Some("assign ann".to_owned())
                    }
                    Action::Wait { position, .. } => Some(format!("wait {position}")),
                    _ => None,
                })
            });
        assert_eq!(
            got.as_deref(),
            Some(*expected),
            "{overflow} at {now}: {:#?}",
            p.decision.explain()
        );
    }
}

#[test]
fn overflow_after_queueing_when_waited_too_long() {
    for (then, expected) in [
        (r#"{ transfer = "Later" }"#, "transfer"),
        (r#"{ end = "We will write back." }"#, "end"),
        (r#"{ wait = "Still there?" }"#, "message"),
    ] {
        let ws = overflow_ws(&format!(
            r#"{{ when = {{ waited_over = "5m" }}, then = {then} }}"#
        ));
        let router = Router::new(&ws);
        let mut state = router.prepare(
            &RoutingState::new()
                .with_member("ann", Presence::Available, 1)
                .with_member("lee", Presence::Away, 0),
        );
        let t0 = at(9, 0);
        let p = router.submit(&mut state, &conv("c"), t0);
        assert!(matches!(
            p.decision.outcome,
            Outcome::Queued { position: 1 }
        ));
        assert_eq!(state.next_wake(), Some(secs(t0, 300)), "{then}");
        let a = router.wake(&mut state, secs(t0, 300));
        let kind = match &a[0] {
            Action::Transfer { .. } => "transfer",
            Action::End { message, .. } => {
                assert_eq!(*message, Some("We will write back."));
                "end"
            }
            Action::Message { text, .. } => {
                assert_eq!(*text, "Still there?");
                "message"
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(kind, expected);
        // A message is sent once; the conversation keeps waiting without a timer.
        if expected == "message" {
            assert!(state.is_tracked("c"));
            assert_eq!(state.next_wake(), None);
        }
        if expected == "transfer" {
            assert_eq!(router.place(&state, "c").unwrap().queue, "Later");
            state.set_member("lee", Presence::Available, 0);
            let served = router.reevaluate(&mut state, secs(t0, 301));
            assert_eq!(given_to(&served, "c"), Some("lee"));
        }
    }
}

#[test]
fn overflow_is_explained() {
    let ws = overflow_ws(r#"{ when = "closed", then = { transfer = "Later" } }"#);
    let router = Router::new(&ws);
    let state = router.prepare(&free(&["ann", "lee"]));
    let d = router.route_at(&conv("c"), &state, at(19, 0));
    assert_eq!(d.queue.unwrap().name, "Later");
    assert_eq!(d.overflowed_from.unwrap().name, "Q");
    assert!(matches!(d.outcome, Outcome::Assigned(m) if m.id == "lee"));
    assert_eq!(
        d.explain(),
        [
            "rule All: no condition, matches all → queue Q",
            "queue Q overflows: outside operating hours → transfer to queue Later",
            "agent lee: picked (most free capacity)",
        ]
    );
}
