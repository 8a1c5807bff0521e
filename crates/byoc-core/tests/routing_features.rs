//! Contact-center routing features, one table per feature: assignment methods, offers
//! declined and timed out, overflow before and after queueing, operating hours across
//! midnight, holidays and a DST change, skill relaxation, priorities, preferred agents,
//! capacity profiles, queue positions and estimated waits, restoring after a restart.

use std::time::Duration;

use byoc_core::ChannelAccount;
use byoc_core::conversation::Conversation;
use byoc_core::workstream::{
    Action, MemberState, Outcome, PerKind, PreparedState, Presence, Router, RoutingState,
    TraceStep, Verdict, Withdrawal, Workstream,
};
use chrono::{DateTime, TimeZone, Utc};

/// Monday 2025-03-03 at `h:m` UTC (10:00 in Paris at 09:00 UTC, before the DST change).
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, h, m, 0).unwrap()
}

fn secs(t: DateTime<Utc>, s: i64) -> DateTime<Utc> {
    t + chrono::Duration::seconds(s)
}

const HEAD: &str = r#"
name = "Contact"
language = "en-US"
channel = { kind = "chat", id = "web" }
context_variables = [
    { name = "Topic", type = "string" },
    { name = "Skills", type = "string" },
    { name = "Agent", type = "string" },
]
"#;

fn ws(body: &str) -> Workstream {
    Workstream::from_toml_str(&format!("{HEAD}{body}")).unwrap_or_else(|e| panic!("{e}"))
}

fn conv(id: &str) -> Conversation {
    Conversation::new(id, "web", ChannelAccount::new(format!("cust-{id}")), at(9, 0))
}

fn free(ids: &[&str]) -> RoutingState {
    ids.iter().fold(RoutingState::new(), |s, id| {
        s.with_member(*id, Presence::Available, 0)
    })
}

/// The agent a conversation is offered or assigned to, from an action list.
fn given_to<'a>(actions: &'a [Action<'_>], conversation: &str) -> Option<&'a str> {
    actions.iter().find_map(|a| match a {
        Action::Offer {
            conversation: c,
            member,
            ..
        }
        | Action::Assign {
            conversation: c,
            member,
            ..
        } if &**c == conversation => Some(member.id.as_str()),
        _ => None,
    })
}

fn offers(actions: &[Action<'_>]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer {
                conversation,
                member,
                ..
            }
            | Action::Assign {
                conversation,
                member,
                ..
            } => Some((conversation.to_string(), member.id.clone())),
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------ assignment methods

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
    let cases: &[(&str, [(&str, u32, u32); 3], &str)] = &[
        (r#""highest_capacity""#, [("ann", 2, 8), ("bob", 0, 7), ("cat", 1, 6)], "bob"),
        (r#""round_robin""#, [("ann", 2, 8), ("bob", 0, 7), ("cat", 1, 6)], "ann"),
        (r#""longest_idle""#, [("ann", 0, 8), ("bob", 0, 7), ("cat", 2, 6)], "cat"),
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
        let state = members.iter().fold(RoutingState::new(), |s, (id, load, h)| {
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
    assert!(lines.iter().any(|l| l == "agent ann: picked (next in round robin)"), "{lines:#?}");
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

// ------------------------------------------------------------------ offers

fn offer_ws(extra_overflow: &str) -> Workstream {
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
fn escalated(id: &str) -> Conversation {
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
    let b = router.decline(&mut state, "c", "bob", secs(t0, 10)).unwrap();
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
    assert!(matches!(&a[0], Action::Transfer { from, to, .. } if from.name == "Q" && to.name == "Supervisors"));
    assert_eq!(given_to(&a, "c"), Some("sue"), "{a:#?}");
    // Supervisors assign without offers.
    assert!(!state.is_tracked("c"));
}

// ------------------------------------------------------------------ overflow

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
        (r#"{ when = "closed", then = { transfer = "Later" } }"#, 0, 0, at(19, 0), "transfer Later"),
        (r#"{ when = "closed", then = { transfer = "Later" } }"#, 0, 0, at(9, 0), "assign ann"),
        (r#"{ when = { waiting_over = 2 }, then = { end = "Busy, sorry." } }"#, 1, 2, at(9, 0), "end Busy, sorry."),
        (r#"{ when = { waiting_over = 2 }, then = { end = "Busy, sorry." } }"#, 1, 1, at(9, 0), "wait 2"),
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
        (r#"{ when = { waiting_over = 5 }, then = { end = "" } }"#, 0, 0, at(19, 0), "wait 1"),
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
        assert_eq!(got.as_deref(), Some(*expected), "{overflow} at {now}: {:#?}", p.decision.explain());
    }
}

#[test]
fn overflow_after_queueing_when_waited_too_long() {
    for (then, expected) in [
        (r#"{ transfer = "Later" }"#, "transfer"),
        (r#"{ end = "We will write back." }"#, "end"),
        (r#"{ wait = "Still there?" }"#, "message"),
    ] {
        let ws = overflow_ws(&format!(r#"{{ when = {{ waited_over = "5m" }}, then = {then} }}"#));
        let router = Router::new(&ws);
        let mut state = router.prepare(
            &RoutingState::new()
                .with_member("ann", Presence::Available, 1)
                .with_member("lee", Presence::Away, 0),
        );
        let t0 = at(9, 0);
        let p = router.submit(&mut state, &conv("c"), t0);
        assert!(matches!(p.decision.outcome, Outcome::Queued { position: 1 }));
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

// ------------------------------------------------------------------ operating hours

fn hours_ws() -> Workstream {
    ws(r#"
[[operating_hours]]
name = "Night"
time_zone = "Europe/Paris"
friday = ["22:00-06:00"]
saturday = ["22:00-06:00"]
monday = ["09:00-17:00"]
holidays = [
    { date = "2025-03-09", name = "Closed Sunday" },
    { date = "2025-03-10", hours = ["10:00-12:00"] },
]

[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
operating_hours = "Night"
members = [{ id = "ann", kind = "agent", capacity = 1 }]
"#)
}

#[test]
fn hours_across_midnight_and_a_holiday() {
    let ws = hours_ws();
    let hours = ws.hours("Night").unwrap();
    let utc = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2025, 3, d, h, m, 0).unwrap();
    // Paris is UTC+1 until 2025-03-30.
    let cases = [
        (utc(7, 20, 59), false, "Friday 21:59"),
        (utc(7, 21, 0), true, "Friday 22:00"),
        (utc(8, 4, 59), true, "Saturday 05:59, Friday's night"),
        (utc(8, 5, 0), false, "Saturday 06:00"),
        (utc(8, 21, 0), true, "Saturday 22:00"),
        (utc(9, 1, 0), false, "Sunday 02:00: a holiday, Saturday's night does not run into it"),
        (utc(10, 8, 30), false, "Monday 09:30: holiday hours only"),
        (utc(10, 9, 30), true, "Monday 10:30"),
        (utc(10, 11, 0), false, "Monday 12:00"),
        (utc(3, 8, 0), true, "the Monday before, 09:00"),
    ];
    let router = Router::new(&ws);
    let state = router.prepare(&free(&["ann"]));
    for (t, open, what) in cases {
        assert_eq!(hours.is_open_at(t), open, "{what}");
        let d = router.route_at(&conv("c"), &state, t);
        assert_eq!(matches!(d.outcome, Outcome::Assigned(_)), open, "{what}");
        if !open {
            assert!(d.trace().iter().any(|s| matches!(s, TraceStep::QueueClosed(_))));
        }
    }
    assert_eq!(hours.next_change_after(utc(8, 6, 0)), Some(utc(8, 21, 0)));
    // Saturday's night ends at midnight (Sunday is a holiday); Monday opens at 10:00.
    assert_eq!(hours.next_change_after(utc(8, 21, 0)), Some(utc(8, 23, 0)));
    assert_eq!(hours.next_change_after(utc(8, 23, 0)), Some(utc(10, 9, 0)));
}

#[test]
fn opening_hours_follow_the_queue_zone_across_a_dst_change() {
    let ws = ws(r#"
[[operating_hours]]
name = "Paris"
time_zone = "Europe/Paris"
friday = ["09:00-17:00"]
sunday = ["02:30-04:00"]

[[routing_rules]]
name = "All"
queue = "Q"

[[queues]]
name = "Q"
operating_hours = "Paris"
members = [{ id = "ann", kind = "agent", capacity = 1 }]
"#);
    let hours = ws.hours("Paris").unwrap();
    let utc = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2025, 3, d, h, m, 0).unwrap();
    // Before the change (UTC+1) 09:00 Paris is 08:00 UTC; after it (UTC+2), 07:00 UTC.
    assert!(!hours.is_open_at(utc(28, 7, 59)));
    assert!(hours.is_open_at(utc(28, 8, 0)));
    assert!(hours.is_open_at(Utc.with_ymd_and_hms(2025, 4, 4, 7, 0, 0).unwrap()));
    assert!(!hours.is_open_at(Utc.with_ymd_and_hms(2025, 4, 4, 6, 59, 0).unwrap()));
    // Sunday 2025-03-30, clocks jump from 02:00 to 03:00 at 01:00 UTC: a range starting at
    // 02:30 opens when the jump happens.
    assert!(!hours.is_open_at(utc(30, 0, 59)));
    assert!(hours.is_open_at(utc(30, 1, 0)));
    assert_eq!(hours.next_change_after(utc(30, 0, 0)), Some(utc(30, 1, 0)));
    assert_eq!(hours.next_change_after(utc(30, 1, 0)), Some(utc(30, 2, 0)));

    // A conversation waiting over the night is offered when the queue opens.
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann"]));
    let p = router.submit(&mut state, &conv("c"), utc(28, 7, 0));
    assert!(matches!(p.decision.outcome, Outcome::Queued { position: 1 }));
    assert_eq!(state.next_wake(), Some(utc(28, 8, 0)));
    let a = router.wake(&mut state, utc(28, 8, 0));
    assert_eq!(given_to(&a, "c"), Some("ann"));
}

#[test]
fn open_conditions_route_by_hours() {
    let ws = ws(r#"
[[operating_hours]]
name = "Office"
time_zone = "America/New_York"
monday = ["09:00-17:00"]

[[routing_rules]]
name = "Daytime"
queue = "Humans"
condition = { open = "Office" }

[[routing_rules]]
name = "Otherwise"
queue = "Bots"

[[queues]]
name = "Humans"
members = [{ id = "ann", kind = "agent", capacity = 1 }]

[[queues]]
name = "Bots"
members = [{ id = "bot", kind = "bot" }]
"#);
    let router = Router::new(&ws);
    let state = router.prepare(&free(&["ann"]));
    // 09:00 UTC is 04:00 in New York; 15:00 UTC is 10:00.
    for (t, queue) in [(at(9, 0), "Bots"), (at(15, 0), "Humans")] {
        assert_eq!(router.route_at(&conv("c"), &state, t).queue.unwrap().name, queue);
        let rule = &ws.routing_rules[0];
        let c = conv("c");
        assert_eq!(rule.condition.as_ref().unwrap().matches_at(&c, &ws, t), queue == "Humans");
    }
}

// ------------------------------------------------------------------ skills

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
        assert_eq!(got, *expected, "{matching} {topic:?} {skills:?}: {:#?}", d.explain());
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
    assert!(lines.contains(&"requires skills billing ≥ 4, spanish ≥ 2 (exact match)".to_owned()), "{lines:#?}");
    assert!(lines.contains(&"agent bob: not picked: lacks a required skill or proficiency".to_owned()));
    // After a minute, spanish is dropped: ann (billing 5) qualifies.
    assert_eq!(state.next_wake(), Some(secs(t0, 60)));
    assert!(router.wake(&mut state, secs(t0, 59)).is_empty());
    let a = router.wake(&mut state, secs(t0, 60));
    assert_eq!(given_to(&a, "c"), Some("ann"));
    assert_eq!(state.next_wake(), None);
}

// ------------------------------------------------------------------ priorities

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
    let arrivals = [("n1", ""), ("n2", ""), ("u1", "urgent"), ("n3", ""), ("u2", "urgent")];
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
        [("u1".into(), 1), ("u2".into(), 2), ("n1".into(), 3), ("n2".into(), 4), ("n3".into(), 5)]
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
    let cases: &[(&str, Presence, u32, Option<&str>, Option<&str>)] = &[
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
        assert_eq!(given_to(&p.actions, "c"), *now, "{wait} {presence:?}: {:#?}", p.decision.explain());
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
                .with_member_state("ann", MemberState::new(Presence::Available, 0).with_kinds(ann))
                .with_member_state("bob", MemberState::new(Presence::Available, 0).with_kinds(bob)),
        );
        let d = router.route_at(&conv("c"), &state, at(9, 0));
        let got = match d.outcome {
            Outcome::Assigned(m) => Some(m.id.as_str()),
            _ => None,
        };
        assert_eq!(got, expected, "case {i}: {:#?}", d.explain());
    }
    let state = router.prepare(
        &RoutingState::new()
            .with_member_state("ann", MemberState::new(Presence::Available, 0).with_kinds(kinds(2, 0))),
    );
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

// ------------------------------------------------------------------ restart

#[test]
fn tracked_conversations_survive_a_restart() {
    let ws = offer_ws("");
    let router = Router::new(&ws);
    let mut state = router.prepare(&free(&["ann", "bob"]));
    let t0 = at(9, 0);
    router.submit(&mut state, &escalated("c1"), t0);
    router.decline(&mut state, "c1", "ann", secs(t0, 1)).unwrap();
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
    assert_eq!(router.place(&fresh, "c1").unwrap().offered_to.as_deref(), Some("bob"));
    let a = router.wake(&mut fresh, secs(t0, 31));
    assert!(matches!(&a[0], Action::Withdraw { conversation, .. } if **conversation == *"c1"));
}
