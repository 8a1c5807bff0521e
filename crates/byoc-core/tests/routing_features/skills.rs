//! Skills: exact and closest matching, skills from context variables, relaxation over time.

use byoc_core::workstream::{Outcome, Router, Workstream};

use crate::{at, conv, free, given_to, secs, ws};

fn skills_ws(matching: &str) -> Workstream {
    ws(&format!(
        r#"
skill_matching = "{matching}"

[[routing_rules]]
name = "Spanish billing"
queue = "Q"
condition = {{ equals = {{ field = "context.Topic", value = "billing-es" }} }}
skills = [{{ name = "billing", proficiency = 4 }}, {{ name = "spanish", proficiency = 2 }}]
relax_skills_after = ["1m"]

[[routing_rules]]
name = "Bot says"
queue = "Q"
skills = [{{ from = "context.Skills" }}]

[[queues]]
name = "Q"
members = [
    {{ id = "ann", kind = "agent", capacity = 2, skills = {{ billing = 5 }} }},
    {{ id = "bob", kind = "agent", capacity = 2, skills = {{ billing = 3, spanish = 5 }} }},
    {{ id = "cat", kind = "agent", capacity = 2, skills = {{ spanish = 2 }} }},
]
"#
    ))
}

#[test]
fn skills_match_exactly_or_closest() {
    // (matching, Topic, Skills, expected)
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("exact", "billing-es", "", None),
        ("closest", "billing-es", "", Some("bob")),
        ("exact", "", "spanish:2", Some("bob")),
        ("exact", "", "spanish:5, billing", Some("bob")),
        ("exact", "", "billing:5", Some("ann")),
        ("exact", "", "french", None),
        ("closest", "", "french", Some("ann")),
        ("exact", "", "", Some("ann")),
    ];
    for (matching, topic, skills, expected) in cases {
        let ws = skills_ws(matching);
        let router = Router::new(&ws);
        let state = router.prepare(&free(&["ann", "bob", "cat"]));
        let mut c = conv("c");
        if !topic.is_empty() {
            c.set_context("Topic", *topic);
        }
        if !skills.is_empty() {
            c.set_context("Skills", *skills);
        }
        let d = router.route_at(&c, &state, at(9, 0));
        let got = match d.outcome {
            Outcome::Assigned(m) => Some(m.id.as_str()),
            _ => None,
        };
        assert_eq!(
            got,
            *expected,
            "{matching} {topic:?} {skills:?}: {:#?}",
            d.explain()
        );
    }
}

#[test]
fn skills_relax_after_waiting() {
    let ws = skills_ws("exact");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob", "cat"]));
    let mut c = conv("c");
    c.set_context("Topic", "billing-es");
    let t0 = at(9, 0);
    let p = router.submit(&mut state, &c, t0);
    assert!(matches!(p.decision.outcome, Outcome::Queued { .. }));
    let lines = p.decision.explain();
    assert!(
        lines.contains(&"requires skills billing ≥ 4, spanish ≥ 2 (exact match)".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"agent bob: not picked: lacks a required skill or proficiency".to_owned())
    );
    // After a minute, spanish is dropped: ann (billing 5) qualifies.
    assert_eq!(state.next_wake(), Some(secs(t0, 60)));
    assert!(router.wake(&mut state, secs(t0, 59)).is_empty());
    let a = router.wake(&mut state, secs(t0, 60));
    assert_eq!(given_to(&a, "c"), Some("ann"));
    assert_eq!(state.next_wake(), None);
}

#[test]
fn skills_from_context_relax_one_at_a_time() {
    let ws = ws(r#"
[[routing_rules]]
name = "Bot says"
queue = "Q"
skills = [{ from = "context.Skills" }]
relax_skills_after = ["10m"]

[[queues]]
name = "Q"
members = [{ id = "ann", kind = "agent", capacity = 2 }]
"#);
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann"]));
    let mut c = conv("c");
    c.set_context("Skills", "billing:3, spanish");
    let t0 = at(9, 0);
    let p = router.submit(&mut state, &c, t0);
    assert!(matches!(p.decision.outcome, Outcome::Queued { .. }));
    // Ten minutes on, one skill is dropped; ann still lacks the other.
    let a = router.wake(&mut state, secs(t0, 600));
    assert_eq!(given_to(&a, "c"), None, "{a:#?}");
    assert!(router.place(&state, "c").is_some());
}
