//! Operating hours across midnight, holidays, a DST change, and `open` conditions.

use byoc_core::workstream::{Outcome, Router, TraceStep, Workstream};
use chrono::{TimeZone, Utc};

use crate::{at, conv, free, given_to, ws};

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
        (
            utc(9, 1, 0),
            false,
            "Sunday 02:00: a holiday, Saturday's night does not run into it",
        ),
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
            assert!(
                d.trace()
                    .iter()
                    .any(|s| matches!(s, TraceStep::QueueClosed(_)))
            );
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
    assert!(matches!(
        p.decision.outcome,
        Outcome::Queued { position: 1 }
    ));
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
        assert_eq!(
            router.route_at(&conv("c"), &state, t).queue.unwrap().name,
            queue
        );
        let rule = &ws.routing_rules[0];
        let c = conv("c");
        assert_eq!(
            rule.condition.as_ref().unwrap().matches_at(&c, &ws, t),
            queue == "Humans"
        );
    }
}
