//! Assignment methods: highest capacity, round robin, longest idle, custom orders.

use byoc_core::workstream::{MemberState, Outcome, Presence, Router, RoutingState, Workstream};

use crate::{at, conv, free, given_to, ws};

fn method_ws(method: &str) -> Workstream {
    ws(&format!(
        r#"
[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
assignment = {method}
members = [
    {{ id = "ann", kind = "agent", capacity = 3 }},
    {{ id = "bob", kind = "agent", capacity = 3 }},
    {{ id = "cat", kind = "agent", capacity = 3 }},
]
"#
    ))
}

#[test]
fn each_assignment_method_picks_its_agent() {
    let idle = |h: u32| MemberState::new(Presence::Available, 0).with_idle_since(at(h, 0));
    // (method, members' (id, load, idle since hour), expected first pick)
    /// (method, members' (id, load, idle since hour), expected first pick)
    type Case<'a> = (&'a str, [(&'a str, u32, u32); 3], &'a str);
    let cases: &[Case<'_>] = &[
        (
            r#""highest_capacity""#,
            [("ann", 2, 8), ("bob", 0, 7), ("cat", 1, 6)],
            "bob",
        ),
        (
            r#""round_robin""#,
            [("ann", 2, 8), ("bob", 0, 7), ("cat", 1, 6)],
            "ann",
        ),
        (
            r#""longest_idle""#,
            [("ann", 0, 8), ("bob", 0, 7), ("cat", 2, 6)],
            "cat",
        ),
        (
            r#"{ custom = ["least_load", "longest_idle"] }"#,
            [("ann", 1, 5), ("bob", 1, 7), ("cat", 2, 4)],
            "ann",
        ),
        (
            r#"{ custom = ["free_capacity"] }"#,
            [("ann", 1, 5), ("bob", 1, 7), ("cat", 2, 4)],
            "ann",
        ),
    ];
    for (method, members, expected) in cases {
        let ws = method_ws(method);
        let router = Router::new(&ws);
        let state = members
            .iter()
            .fold(RoutingState::new(), |s, (id, load, h)| {
                let mut m = idle(*h);
                m.load = *load;
                s.with_member_state(*id, m)
            });
        let state = router.prepare(&state);
        let d = router.route_at(&conv("c"), &state, at(9, 0));
        assert!(
            matches!(d.outcome, Outcome::Assigned(m) if m.id == *expected),
            "{method}: {:?}\n{:#?}",
            d.outcome,
            d.explain()
        );
    }
}

#[test]
fn round_robin_keeps_its_order_across_decisions() {
    let ws = method_ws(r#""round_robin""#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob", "cat"]));
    let picks: Vec<String> = (0..6)
        .map(|i| {
            let p = router.submit(&mut state, &conv(&format!("c{i}")), at(9, i));
            given_to(&p.actions, &format!("c{i}")).unwrap().to_owned()
        })
        .collect();
    assert_eq!(picks, ["ann", "bob", "cat", "ann", "bob", "cat"]);
    // The trace says why the others were passed over.
    let d = router.route_at(&conv("x"), &state, at(9, 10));
    let lines = d.explain();
    assert!(
        lines
            .iter()
            .any(|l| l == "agent ann: picked (next in round robin)"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "agent bob: not picked: was offered work more recently (round robin)"),
        "{lines:#?}"
    );
}

#[test]
fn highest_capacity_breaks_ties_by_round_robin() {
    let ws = method_ws(r#""highest_capacity""#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob", "cat"]));
    // Everyone equal: ann (lowest id); then ann has less room; bob and cat tie, bob first.
    let first = router.submit(&mut state, &conv("c1"), at(9, 0));
    assert_eq!(given_to(&first.actions, "c1"), Some("ann"));
    let second = router.submit(&mut state, &conv("c2"), at(9, 1));
    assert_eq!(given_to(&second.actions, "c2"), Some("bob"));
    // ann, bob and cat free a conversation each: all at 3 free again; cat's turn.
    for id in ["ann", "bob"] {
        state.set_member(id, Presence::Available, 0);
    }
    let third = router.submit(&mut state, &conv("c3"), at(9, 2));
    assert_eq!(given_to(&third.actions, "c3"), Some("cat"));
}
