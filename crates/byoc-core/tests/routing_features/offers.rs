//! Offers: bots take at once, declines and timeouts go to the next agent, overflow after N failed offers.

use byoc_core::conversation::Conversation;
use byoc_core::workstream::{Action, Outcome, Presence, Router, Withdrawal, Workstream};

use crate::{at, conv, free, given_to, offers, secs, ws};

pub(crate) fn offer_ws(extra_overflow: &str) -> Workstream {
    ws(&format!(
        r#"
[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
offer = {{ timeout = "30s" }}
overflow = [{extra_overflow}]
members = [
    {{ id = "bot", kind = "bot" }},
    {{ id = "ann", kind = "agent", capacity = 1 }},
    {{ id = "bob", kind = "agent", capacity = 1 }},
]

[[queues]]
name = "Supervisors"
members = [{{ id = "sue", kind = "agent", capacity = 2 }}]
"#
    ))
}

#[test]
fn bots_take_conversations_at_once() {
    let ws = offer_ws("");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob"]));
    let p = router.submit(&mut state, &conv("c"), at(9, 0));
    assert!(matches!(p.decision.outcome, Outcome::Assigned(m) if m.id == "bot"));
    assert!(matches!(&p.actions[..], [Action::Assign { member, .. }] if member.id == "bot"));
    assert!(!state.is_tracked("c"));
}

/// A conversation the bot already had, so that it goes to the humans.
pub(crate) fn escalated(id: &str) -> Conversation {
    let mut c = conv(id);
    c.bots_visited.push("bot".into());
    c
}

#[test]
fn declined_offers_go_to_the_next_agent_and_never_back() {
    let ws = offer_ws("");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob"]));
    let t0 = at(9, 0);
    let p = router.submit(&mut state, &escalated("c"), t0);
    assert!(
        matches!(p.decision.outcome, Outcome::Offered { member, expires_at } if member.id == "ann" && expires_at == secs(t0, 30))
    );
    assert_eq!(state.next_wake(), Some(secs(t0, 30)));
    // Only the agent offered may answer.
    assert!(router.accept(&mut state, "c", "bob", t0).is_err());
    assert!(router.decline(&mut state, "nope", "ann", t0).is_err());

    let a = router.decline(&mut state, "c", "ann", secs(t0, 5)).unwrap();
    assert_eq!(offers(&a), [("c".into(), "bob".into())]);
    let b = router
        .decline(&mut state, "c", "bob", secs(t0, 10))
        .unwrap();
    assert!(offers(&b).is_empty(), "nobody left who has not declined");
    assert_eq!(router.place(&state, "c").unwrap().position, 1);

    // ann frees up and is available: still never offered it again.
    state.set_member("ann", Presence::Available, 0);
    assert!(offers(&router.reevaluate(&mut state, secs(t0, 20))).is_empty());
    let item = router.work_item(&state, "c").unwrap();
    assert_eq!(item.declined_by, ["ann", "bob"]);
    assert_eq!(item.failed_offers, 2);
}

#[test]
fn an_offer_taken_back_from_an_agent_who_left_is_no_decline() {
    let ws = offer_ws(r#"{ when = { offers_failed = 1 }, then = { transfer = "Supervisors" } }"#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob", "sue"]));
    let t0 = at(9, 0);
    router.submit(&mut state, &escalated("c"), t0);
    assert_eq!(
        router.place(&state, "c").unwrap().offered_to,
        Some("ann".to_owned())
    );
    // ann leaves the queue: her offer is taken back and goes to bob, and the one failed
    // offer the queue tolerates is not spent.
    state.set_queue_membership("ann", "Q", false);
    let a = router
        .withdraw(&mut state, "c", "ann", secs(t0, 5))
        .unwrap();
    assert!(matches!(
        &a[0],
        Action::Withdraw { member, reason: Withdrawal::Unavailable, .. } if member.id == "ann"
    ));
    assert_eq!(offers(&a), [("c".into(), "bob".into())]);
    let item = router.work_item(&state, "c").unwrap();
    assert!(item.declined_by.is_empty());
    assert_eq!(item.failed_offers, 0);
    // Only the agent offered may be withdrawn.
    assert!(
        router
            .withdraw(&mut state, "c", "ann", secs(t0, 6))
            .is_err()
    );
    // bob's offer is withdrawn too (he went offline): nobody left in Q, the conversation
    // waits; ann joins again and is offered it, as she never declined.
    state.set_member("bob", Presence::Offline, 0);
    let b = router
        .withdraw(&mut state, "c", "bob", secs(t0, 7))
        .unwrap();
    assert!(offers(&b).is_empty(), "{b:#?}");
    assert_eq!(router.place(&state, "c").unwrap().position, 1);
    state.set_queue_membership("ann", "Q", true);
    let c = router.reevaluate(&mut state, secs(t0, 8));
    assert_eq!(offers(&c), [("c".into(), "ann".into())]);
}

#[test]
fn timed_out_offers_are_withdrawn_and_offered_on() {
    let ws = offer_ws("");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob"]));
    let t0 = at(9, 0);
    router.submit(&mut state, &escalated("c"), t0);
    // Early wakes change nothing.
    assert!(router.wake(&mut state, secs(t0, 29)).is_empty());
    let a = router.wake(&mut state, secs(t0, 30));
    assert!(matches!(
        &a[0],
        Action::Withdraw { member, reason: Withdrawal::TimedOut, .. } if member.id == "ann"
    ));
    assert_eq!(offers(&a), [("c".into(), "bob".into())]);
    assert_eq!(state.next_wake(), Some(secs(t0, 60)));
    // bob accepts: assigned, load counted, nothing tracked, no timer.
    let done = router.accept(&mut state, "c", "bob", secs(t0, 40)).unwrap();
    assert!(matches!(&done[..], [Action::Assign { member, .. }] if member.id == "bob"));
    assert_eq!(state.member_state("bob").unwrap().load, 1);
    assert_eq!(state.next_wake(), None);
    assert!(!state.is_tracked("c"));
}

#[test]
fn after_n_failed_offers_the_queue_overflows() {
    let ws = offer_ws(r#"{ when = { offers_failed = 2 }, then = { transfer = "Supervisors" } }"#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob", "sue"]));
    let t0 = at(9, 0);
    router.submit(&mut state, &escalated("c"), t0);
    router.decline(&mut state, "c", "ann", secs(t0, 1)).unwrap();
    let a = router.decline(&mut state, "c", "bob", secs(t0, 2)).unwrap();
    assert!(
        matches!(&a[0], Action::Transfer { from, to, .. } if from.name == "Q" && to.name == "Supervisors")
    );
    assert_eq!(given_to(&a, "c"), Some("sue"), "{a:#?}");
    // Supervisors assign without offers.
    assert!(!state.is_tracked("c"));
}
