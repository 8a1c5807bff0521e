//! Routing decisions against a baseline measured in the same run: the TeleSign callback HMAC
//! check (`CallbackVerifier::verify` of `tests/fixtures/telesign/mo-basic.json` with its
//! signature). Issue #7: a decision grows at most linearly with rules and agents and takes
//! under 1/10 of the baseline at 100 rules × 100 agents.
//!
//! Every prepared state knows the time of the decisions (`PreparedState::set_time`), as it
//! does after any of the router's event calls.
//!
//! Ids (group `routing`):
//!
//! - `decision/r{R}_a{A}`: the worst case for rules. `R` rules `equals` on
//!   `context.Topic` (`topic-0;` ... `topic-{R-1};`), the conversation carries the last one, so
//!   the last rule matches; its queue holds `A` human agents, all available, capacity 5 and
//!   loads cycling 0..5, so a human must be chosen among all of them. A prepared
//!   [`Router`] and [`PreparedState`]; the trace is not derived.
//! - `decision_scan/r{R}_a{A}`: the same, with `starts_with` conditions (`topic-{i};`):
//!   served by the router's prefix table, probed per distinct literal length up to the
//!   value's (here 8 to 11 bytes; the literals' last byte, `;`, filters out all probes but
//!   the matching one). Before the prefix index, every rule before the last was evaluated (the id
//!   keeps its name so that figures compare across versions).
//! - `decision_contains/r{R}_a100`: `contains` conditions on the same literals; the
//!   conversation's topic is the text `re: order 5521, topic-{R-1}; thanks`, so only the
//!   last rule's needle occurs in it. Served by one Aho-Corasick automaton over all the
//!   needles (a pass over the 31 to 34 bytes of text).
//! - `bot_first/r{R}_a{A}`: the typical first decision: the first rule (no condition) sends
//!   the conversation to a bot queue, the bot takes it; `R - 1` topic rules and `A` agents
//!   follow.
//! - `decision_full/r{R}_a{A}`: the same worst case for rules, with what a contact center
//!   configures: each rule has a priority and requires a skill (`s{i % 10}` at proficiency
//!   2), the queue has operating hours (`Europe/Paris`, weekdays 08:00–20:00, the decision at
//!   10:00 on a Monday) and assigns by highest capacity; agent `k` has skill `s{k % 10}` at 3
//!   and `s{(k + 3) % 10}` at 1, so ten skill groups, and the last rule's skill is held at
//!   proficiency 2 or more by a tenth of the agents. The state knows the time
//!   (`PreparedState::set_time`), as it does after any of the router's event calls.
//! - `reevaluate/w100_a100`: 100 conversations wait in that queue, which offers (ten per
//!   skill, priorities 0–4), every agent at capacity (5 of 5); then all 100 agents free one
//!   place, and
//!   `Router::reevaluate` offers the 100 conversations, in priority order, each to the agent
//!   its skills and the assignment method pick. Compare with 100 × `decision_full/r100_a100`.
//! - `explain/r100_a100`: deriving the trace of `decision/r100_a100` (`decision.trace()`).
//! - `oneoff/r100_a100`: `byoc::core::workstream::route`, which prepares the workstream
//!   and the state for a single decision.
//! - `baseline/telesign_hmac`: the TeleSign check.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::fmt::Write as _;
use std::hint::black_box;

use byoc::core::ChannelAccount;
use byoc::core::conversation::Conversation;
use byoc::core::workstream::{
    Action, Outcome, PreparedState, Presence, Router, RoutingState, Workstream, route,
};
use byoc::telesign::{ApiKey, CallbackVerifier};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue};

const SIZES: [usize; 3] = [10, 100, 1000];

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// `equals` rules, the last matching.
    Equals,
    /// `starts_with` rules, the last matching.
    Scan,
    /// `contains` rules, the last matching.
    Contains,
    /// A first rule without condition to a bot queue.
    BotFirst,
}

fn workstream(rules: usize, agents: usize, shape: Shape) -> Workstream {
    let mut t = String::from(
        "name = \"Bench\"\nlanguage = \"en-US\"\nchannel = { kind = \"messaging\", id = \"x\" }\n\
         context_variables = [{ name = \"Topic\", type = \"string\" }]\n",
    );
    let mut topic_rules = rules;
    if shape == Shape::BotFirst {
        t.push_str("[[routing_rules]]\nname = \"Bot\"\nqueue = \"BotQ\"\n");
        topic_rules -= 1;
    }
    let op = match shape {
        Shape::Scan => "starts_with",
        Shape::Contains => "contains",
        Shape::Equals | Shape::BotFirst => "equals",
    };
    for i in 0..topic_rules {
        let _ = write!(
            t,
            "[[routing_rules]]\nname = \"R{i}\"\nqueue = \"Q\"\n\
             condition = {{ {op} = {{ field = \"context.Topic\", value = \"topic-{i};\" }} }}\n"
        );
    }
    t.push_str("[[queues]]\nname = \"Q\"\nmembers = [\n");
    for i in 0..agents {
        let _ = writeln!(t, "{{ id = \"a{i:04}\", kind = \"agent\", capacity = 5 }},");
    }
    t.push_str("]\n");
    if shape == Shape::BotFirst {
        t.push_str("[[queues]]\nname = \"BotQ\"\nmembers = [{ id = \"bot\", kind = \"bot\" }]\n");
    }
    Workstream::from_toml_str(&t).expect("bench workstream")
}

/// `decision_full`: priorities, a skill per rule, operating hours, skilled agents.
fn full_workstream(rules: usize, agents: usize, offers: bool) -> Workstream {
    let mut t = String::from(
        "name = \"Bench\"\nlanguage = \"en-US\"\nchannel = { kind = \"chat\", id = \"x\" }\n\
         context_variables = [{ name = \"Topic\", type = \"string\" }]\n\
         [[operating_hours]]\nname = \"Office\"\ntime_zone = \"Europe/Paris\"\n",
    );
    for day in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
        let _ = writeln!(t, "{day} = [\"08:00-20:00\"]");
    }
    for i in 0..rules {
        let _ = write!(
            t,
            "[[routing_rules]]\nname = \"R{i}\"\nqueue = \"Q\"\npriority = {}\n\
             skills = [{{ name = \"s{}\", proficiency = 2 }}]\n\
             condition = {{ equals = {{ field = \"context.Topic\", value = \"topic-{i};\" }} }}\n",
            i % 5,
            i % 10
        );
    }
    t.push_str("[[queues]]\nname = \"Q\"\noperating_hours = \"Office\"\n");
    if offers {
        t.push_str("offer = { timeout = \"1h\" }\n");
    }
    t.push_str("members = [\n");
    for k in 0..agents {
        let _ = writeln!(
            t,
            "{{ id = \"a{k:04}\", kind = \"agent\", capacity = 5, skills = {{ s{} = 3, s{} = 1 }} }},",
            k % 10,
            (k + 3) % 10
        );
    }
    t.push_str("]\n");
    Workstream::from_toml_str(&t).expect("bench workstream")
}

fn state(agents: usize) -> RoutingState {
    (0..agents).fold(RoutingState::new(), |s, i| {
        s.with_member(format!("a{i:04}"), Presence::Available, (i % 5) as u32)
    })
}

fn conversation(rules: usize, shape: Shape) -> Conversation {
    let at = "2025-03-01T09:00:00Z".parse().expect("time");
    let mut c = Conversation::new("c", "x", ChannelAccount::new("u"), at);
    // Values end in `;` so that no rule's value is a prefix of another's (`topic-9;` is not
    // a prefix of `topic-99;`): only the last rule's `starts_with` (or `contains`) holds.
    let last = if shape == Shape::BotFirst {
        rules - 2
    } else {
        rules - 1
    };
    if shape == Shape::Contains {
        c.set_context("Topic", format!("re: order 5521, topic-{last}; thanks"));
    } else {
        c.set_context("Topic", format!("topic-{last};"));
    }
    c
}

struct Case {
    ws: Workstream,
    state: RoutingState,
    conv: Conversation,
}

fn case(rules: usize, agents: usize, shape: Shape) -> Case {
    Case {
        ws: workstream(rules, agents, shape),
        state: state(agents),
        conv: conversation(rules, shape),
    }
}

fn check(router: &Router<'_>, prepared: &PreparedState, c: &Case, shape: Shape) {
    let d = router.route(&c.conv, prepared);
    match (shape, d.outcome) {
        (Shape::BotFirst, Outcome::Assigned(m)) => assert_eq!(m.id, "bot"),
        (_, Outcome::Assigned(m)) => assert_eq!(m.id, "a0000"),
        (_, other) => panic!("unexpected {other:?}"),
    }
    // Same decision, and trace, as the one-off router.
    assert_eq!(d, route(&c.conv, &c.ws, &c.state));
}

fn bench(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("routing");

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/telesign/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("fixture");
    let key = ApiKey::new(byoc::core::Secret::new(
        String::from_utf8(read("KEY.txt")).expect("utf-8"),
    ))
    .expect("key");
    let body = read("mo-basic.json");
    let sig = String::from_utf8(read("mo-basic.sig.txt")).expect("utf-8");
    let customer_id = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890";
    let verifier = CallbackVerifier::new(customer_id, key);
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("TSA {customer_id}:{sig}")).expect("header");
    headers.insert("authorization", value.clone());
    headers.insert("x-ts-authorization", value);
    verifier.verify(&body, &headers).expect("fixture verifies");
    g.bench_function("baseline/telesign_hmac", |b| {
        b.iter(|| verifier.verify(black_box(&body), black_box(&headers)))
    });

    for (prefix, shape) in [("decision", Shape::Equals), ("decision_scan", Shape::Scan)] {
        for rules in SIZES {
            for agents in SIZES {
                let c = case(rules, agents, shape);
                let router = Router::new(&c.ws);
                let mut prepared = router.prepare(&c.state);
                prepared.set_time(c.conv.last_activity_at);
                check(&router, &prepared, &c, shape);
                g.bench_function(format!("{prefix}/r{rules}_a{agents}"), |b| {
                    b.iter(|| {
                        router
                            .route(black_box(&c.conv), black_box(&prepared))
                            .outcome
                    })
                });
            }
        }
    }

    for rules in SIZES {
        let agents = 100;
        let c = case(rules, agents, Shape::Contains);
        let router = Router::new(&c.ws);
        let mut prepared = router.prepare(&c.state);
        prepared.set_time(c.conv.last_activity_at);
        check(&router, &prepared, &c, Shape::Contains);
        g.bench_function(format!("decision_contains/r{rules}_a{agents}"), |b| {
            b.iter(|| {
                router
                    .route(black_box(&c.conv), black_box(&prepared))
                    .outcome
            })
        });
    }

    let c = case(100, 100, Shape::BotFirst);
    let router = Router::new(&c.ws);
    let mut prepared = router.prepare(&c.state);
    prepared.set_time(c.conv.last_activity_at);
    check(&router, &prepared, &c, Shape::BotFirst);
    g.bench_function("bot_first/r100_a100", |b| {
        b.iter(|| {
            router
                .route(black_box(&c.conv), black_box(&prepared))
                .outcome
        })
    });

    // Monday 2025-03-03, 10:00 in Paris.
    let now = "2025-03-03T09:00:00Z".parse().expect("time");
    for rules in SIZES {
        for agents in SIZES {
            let ws = full_workstream(rules, agents, false);
            let router = Router::new(&ws);
            let mut prepared = router.prepare(&state(agents));
            prepared.set_time(now);
            let conv = conversation(rules, Shape::Equals);
            let d = router.route_at(&conv, &prepared, now);
            // The last rule's skill: agents k with k % 10 == (rules - 1) % 10, the first
            // of whom has the most free capacity (loads cycle 0..5).
            let skill = (rules - 1) % 10;
            let expected = (0..agents)
                .find(|k| k % 10 == skill && k % 5 == 0)
                .or((0..agents).find(|k| k % 10 == skill));
            match d.outcome {
                Outcome::Assigned(m) => {
                    assert_eq!(Some(m.id.clone()), expected.map(|k| format!("a{k:04}")));
                }
                other => panic!("unexpected {other:?}"),
            }
            assert_eq!(d.priority, ((rules - 1) % 5) as i32);
            g.bench_function(format!("decision_full/r{rules}_a{agents}"), |b| {
                b.iter(|| {
                    router
                        .route_at(black_box(&conv), black_box(&prepared), now)
                        .outcome
                })
            });
        }
    }

    // 100 conversations waiting, 100 agents at capacity; all of them free up.
    let ws = full_workstream(100, 100, true);
    let router = Router::new(&ws);
    let busy = (0..100).fold(RoutingState::new(), |s, k| {
        s.with_member(format!("a{k:04}"), Presence::Available, 5)
    });
    let mut waiting = router.prepare(&busy);
    for i in 0..100 {
        let mut c = Conversation::new(format!("c{i}"), "x", ChannelAccount::new("u"), now);
        c.set_context("Topic", format!("topic-{i};"));
        let p = router.submit(&mut waiting, &c, now);
        assert!(matches!(p.decision.outcome, Outcome::Queued { .. }));
    }
    for k in 0..100 {
        waiting.set_member(&format!("a{k:04}"), Presence::Available, 4);
    }
    let offers = router.reevaluate(&mut waiting.clone(), now);
    assert_eq!(
        offers
            .iter()
            .filter(|a| matches!(a, Action::Offer { .. }))
            .count(),
        100
    );
    // The state is cloned just before each timed call (so it is as warm in the caches as
    // the state a host works on) and dropped after it, outside the timing.
    g.bench_function("reevaluate/w100_a100", |b| {
        b.iter_batched_ref(
            || waiting.clone(),
            |s| router.reevaluate(s, now),
            BatchSize::PerIteration,
        )
    });

    let c = case(100, 100, Shape::Equals);
    let router = Router::new(&c.ws);
    let prepared = router.prepare(&c.state);
    let d = router.route(&c.conv, &prepared);
    g.bench_function("explain/r100_a100", |b| b.iter(|| black_box(&d).trace()));
    g.bench_function("oneoff/r100_a100", |b| {
        b.iter(|| route(black_box(&c.conv), black_box(&c.ws), black_box(&c.state)).outcome)
    });

    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
