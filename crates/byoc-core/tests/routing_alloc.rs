//! A prepared routing decision costs no heap allocation; its trace is one `Vec`, built only
//! when asked for. Counted with dhat's heap statistics (this test binary only), not timed.

use byoc_core::ChannelAccount;
use byoc_core::conversation::{ContextValue, Conversation};
use byoc_core::workstream::{Outcome, Presence, Router, RoutingState, Workstream};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn blocks() -> u64 {
    dhat::HeapStats::get().total_blocks
}

// dhat counts process-wide, so this binary holds one test function: no other test thread
// allocates while it counts.
#[test]
fn a_prepared_decision_does_not_allocate() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let ws =
        Workstream::from_toml_str(include_str!("fixtures/chat-workstream.toml")).expect("fixture");
    let router = Router::new(&ws);
    let state = router.prepare(
        &["alice", "bob", "carol", "dave", "erin"]
            .into_iter()
            .fold(RoutingState::new(), |s, id| {
                s.with_member(id, Presence::Available, 0)
            }),
    );
    let at = "2025-03-01T09:00:00Z".parse().expect("time");
    let mut conv = Conversation::new("c-1", "directline", ChannelAccount::new("u"), at);

    // Bot first.
    let before = blocks();
    let d = router.route(&conv, &state);
    assert_eq!(blocks() - before, 0, "bot-first decision");
    assert!(matches!(d.outcome, Outcome::Assigned(m) if m.is_bot()));

    // To a human by topic, after the bot had it: the loop guard skips the bot rule, and
    // recording that skip is the one allocation.
    conv.bots_visited.push("contoso-bot".into());
    conv.set_context("BotHandoffTopic", ContextValue::new("HomeLoan"));
    let before = blocks();
    let d = router.route(&conv, &state);
    assert_eq!(blocks() - before, 1, "decision after a hand-off");
    assert!(matches!(d.outcome, Outcome::Assigned(m) if m.id == "dave"));

    // A human by topic, no loop guard involved: nothing.
    conv.bots_visited.clear();
    let text = include_str!("fixtures/chat-workstream.toml").replacen(
        "[[routing_rules]]\nname = \"BotRule\"",
        "[[routing_rules]]\nname = \"BotRule\"\ncondition = { exists = \"customer.email\" }",
        1,
    );
    let ws2 = Workstream::from_toml_str(&text).expect("edited fixture");
    let router2 = Router::new(&ws2);
    let state2 = router2.prepare(&state.to_routing_state());
    let before = blocks();
    let d = router2.route(&conv, &state2);
    assert_eq!(blocks() - before, 0, "decision by topic");
    assert!(matches!(d.outcome, Outcome::Assigned(m) if m.id == "dave"));

    // Every kind of indexed run: prefixes, substrings (one automaton), case-folded
    // equality, negations, exists, `any` on one field; a match in each, and none at all.
    let indexed = Workstream::from_toml_str(
        r#"
        name = "Indexed"
        language = "en"
        channel = { kind = "messaging", id = "x" }
        context_variables = [
            { name = "T", type = "string" },
            { name = "M", type = "string" },
            { name = "V", type = "string" },
        ]
        [[routing_rules]]
        name = "P0"
        queue = "Q"
        condition = { starts_with = { field = "context.T", value = "order-" } }
        [[routing_rules]]
        name = "P1"
        queue = "Q"
        condition = { starts_with = { field = "context.T", value = "REFUND", ignore_case = true } }
        [[routing_rules]]
        name = "C0"
        queue = "Q"
        condition = { contains = { field = "context.M", value = "invoice" } }
        [[routing_rules]]
        name = "C1"
        queue = "Q"
        condition = { contains = { field = "context.M", value = "LOAN", ignore_case = true } }
        [[routing_rules]]
        name = "A0"
        queue = "Q"
        condition = { any = [{ equals = { field = "context.V", value = "gold" } }, { starts_with = { field = "context.V", value = "plat" } }] }
        [[routing_rules]]
        name = "A1"
        queue = "Q"
        condition = { exists = "context.V" }
        [[routing_rules]]
        name = "E0"
        queue = "Q"
        condition = { equals = { field = "customer.locale", value = "EN-us", ignore_case = true } }
        [[routing_rules]]
        name = "E1"
        queue = "Q"
        condition = { not_equals = { field = "customer.locale", value = "fr-FR" } }
        [[queues]]
        name = "Q"
        members = [{ id = "alice", kind = "agent", capacity = 2 }]
        "#,
    )
    .expect("indexed workstream");
    let router3 = Router::new(&indexed);
    let state3 = router3.prepare(&RoutingState::new().with_member("alice", Presence::Available, 0));
    let cases: [(&str, &str, Option<&str>); 7] = [
        ("T", "refund 1234", Some("P1")),
        ("M", "about my Home Loan, please", Some("C1")),
        ("M", "invoice 7", Some("C0")),
        ("V", "platinum", Some("A0")),
        ("V", "silver", Some("A1")),
        ("L", "en-US", Some("E0")),
        ("L", "fr-FR", None),
    ];
    for (var, value, expected) in cases {
        let mut c = Conversation::new("c-2", "x", ChannelAccount::new("u"), at);
        if var == "L" {
            c.locale = Some(value.to_owned());
        } else {
            c.set_context(var, value);
        }
        let before = blocks();
        let d = router3.route(&c, &state3);
        assert_eq!(
            blocks() - before,
            0,
            "indexed decision on {var} = {value:?}"
        );
        assert_eq!(
            d.rule.map(|r| r.name.as_str()),
            expected,
            "{var} = {value:?}"
        );
    }

    // The trace: one Vec.
    let before = blocks();
    let trace = d.trace();
    assert_eq!(blocks() - before, 1, "trace");
    assert!(trace.len() >= 3);
}
