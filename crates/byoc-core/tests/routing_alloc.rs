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

    // The trace: one Vec.
    let before = blocks();
    let trace = d.trace();
    assert_eq!(blocks() - before, 1, "trace");
    assert!(trace.len() >= 3);
}
