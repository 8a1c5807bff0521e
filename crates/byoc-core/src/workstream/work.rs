//! The conversations a prepared state tracks: waiting in a queue or offered to an agent,
//! each queue's waiting order (priority, then time entered), the timers they need, and the
//! departures that estimate waits.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::FxMap;
use super::skills::Needs;

/// Up to four (closeness, tree root index) pairs, inline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roots {
    len: u8,
    items: [(u32, u32); 4],
}

impl Roots {
    /// The roots, when there are at most four (else none: the caller looks them up).
    pub(crate) fn of(roots: &[(u32, usize)]) -> Self {
        let mut inline = Self::default();
        if roots.len() > inline.items.len() {
            return inline;
        }
        for (slot, &(fit, root)) in inline.items.iter_mut().zip(roots) {
            let Ok(root) = u32::try_from(root) else {
                return Self::default();
            };
            *slot = (fit, root);
        }
        inline.len = roots.len() as u8;
        inline
    }

    pub(crate) fn as_slice(&self) -> &[(u32, u32)] {
        &self.items[..usize::from(self.len)]
    }
}

/// A waiting order key: higher priority first, then earlier entry, then arrival order.
pub(crate) type BookKey = (Reverse<i32>, i64, u64);

/// One tracked conversation.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) id: Arc<str>,
    pub(crate) queue: u32,
    pub(crate) rule: Option<u32>,
    pub(crate) priority: i32,
    /// When it entered its queue, in milliseconds.
    pub(crate) entered: i64,
    pub(crate) order: u64,
    /// Its required skills before relaxation.
    pub(crate) needs: Needs,
    /// They are its rule's named skills (so the rule's prepared groups serve it).
    pub(crate) static_needs: bool,
    /// Its rule relaxes skills over time.
    pub(crate) relaxes: bool,
    /// Its rule's qualifying groups in its queue, as (closeness, tree root index), copied
    /// here so that re-evaluation reads them next to the item; empty when they do not
    /// apply (skills not all named, or another queue).
    pub(crate) roots: Roots,
    pub(crate) preferred: Option<u32>,
    /// Until when (milliseconds) it is held for its preferred agent.
    pub(crate) hold_until: i64,
    pub(crate) declined: Vec<u32>,
    pub(crate) failed: u32,
    /// The member it is offered to, and until when (milliseconds).
    pub(crate) offer: Option<(u32, i64)>,
    /// The `waited_over` overflow has applied.
    pub(crate) waited_done: bool,
    /// The `offers_failed` overflow has applied.
    pub(crate) failed_done: bool,
    /// The stamp of its current timer entry.
    pub(crate) stamp: u64,
    pub(crate) deadline: Option<i64>,
}

impl Item {
    pub(crate) fn key(&self) -> BookKey {
        (Reverse(self.priority), self.entered, self.order)
    }

    /// Whether it is held for its preferred agent at `now`.
    pub(crate) fn is_held(&self, now: i64) -> bool {
        self.preferred.is_some() && now < self.hold_until
    }
}

/// Departures from a queue, for estimated waits.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Departures {
    last: Option<i64>,
    /// Smoothed time between departures while conversations waited, in milliseconds.
    pub(crate) interval_ms: Option<f64>,
}

/// The tracked conversations of a prepared state.
#[derive(Clone, Debug)]
pub(crate) struct Work {
    items: Vec<Option<Item>>,
    free: Vec<u32>,
    by_id: FxMap<Arc<str>, u32>,
    /// Per queue, its items in waiting order.
    books: Vec<Vec<(BookKey, u32)>>,
    /// (time in milliseconds, stamp, slot); stale when the item's stamp moved on.
    timers: BinaryHeap<Reverse<(i64, u64, u32)>>,
    stamp: u64,
    order: u64,
    /// Per queue: re-evaluate (members changed, offers ended, hours opened).
    dirty: Vec<bool>,
    pub(crate) departures: Vec<Departures>,
    /// Per queue with waiting conversations while closed: when it opens (seconds).
    pub(crate) opens_at: Vec<Option<i64>>,
}

impl Work {
    pub(crate) fn new(queues: usize) -> Self {
        Self {
            items: Vec::new(),
            free: Vec::new(),
            by_id: FxMap::default(),
            books: vec![Vec::new(); queues],
            timers: BinaryHeap::new(),
            stamp: 0,
            order: 0,
            dirty: vec![false; queues],
            departures: vec![Departures::default(); queues],
            opens_at: vec![None; queues],
        }
    }

    #[inline]
    pub(crate) fn mark(&mut self, q: usize) {
        if let Some(d) = self.dirty.get_mut(q) {
            *d = true;
        }
    }

    /// The queues to re-evaluate, clearing the marks.
    pub(crate) fn take_dirty(&mut self) -> Vec<bool> {
        let empty = vec![false; self.dirty.len()];
        std::mem::replace(&mut self.dirty, empty)
    }

    #[inline]
    pub(crate) fn len_of(&self, q: usize) -> u32 {
        self.books.get(q).map_or(0, |b| b.len() as u32)
    }

    #[inline]
    pub(crate) fn book(&self, q: usize) -> &[(BookKey, u32)] {
        self.books.get(q).map_or(&[], Vec::as_slice)
    }

    #[inline]
    pub(crate) fn get(&self, slot: u32) -> Option<&Item> {
        self.items.get(slot as usize)?.as_ref()
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut Item> {
        self.items.get_mut(slot as usize)?.as_mut()
    }

    #[inline]
    pub(crate) fn slot_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub(crate) fn next_order(&mut self) -> u64 {
        self.order += 1;
        self.order
    }

    /// Items ahead of a conversation of `priority` entering at `now`.
    pub(crate) fn ahead_of(&self, q: usize, priority: i32, now: i64) -> u32 {
        let key = (Reverse(priority), now, u64::MAX);
        self.book(q).partition_point(|(k, _)| *k < key) as u32
    }

    /// An item's 1-based place in its queue's order.
    pub(crate) fn place_of(&self, slot: u32) -> Option<u32> {
        let item = self.get(slot)?;
        let book = self.book(item.queue as usize);
        let at = book.partition_point(|(k, _)| *k < item.key());
        Some(at as u32 + 1)
    }

    /// Starts tracking an item; returns its slot. An item with the same id is replaced.
    pub(crate) fn insert(&mut self, item: Item) -> u32 {
        if let Some(old) = self.slot_of(&item.id) {
            self.remove(old);
        }
        let id = Arc::clone(&item.id);
        let (key, q) = (item.key(), item.queue as usize);
        let slot = match self.free.pop() {
            Some(s) => {
                self.items[s as usize] = Some(item);
                s
            }
            None => {
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        };
        self.by_id.insert(id, slot);
        if let Some(book) = self.books.get_mut(q) {
            let at = book.partition_point(|(k, _)| *k < key);
            book.insert(at, (key, slot));
        }
        slot
    }

    /// Stops tracking an item.
    pub(crate) fn remove(&mut self, slot: u32) -> Option<Item> {
        let item = self.items.get_mut(slot as usize)?.take()?;
        self.by_id.remove(&*item.id);
        if let Some(book) = self.books.get_mut(item.queue as usize) {
            let at = book.partition_point(|(k, _)| *k < item.key());
            if book.get(at).is_some_and(|&(_, s)| s == slot) {
                book.remove(at);
            } else if let Some(i) = book.iter().position(|&(_, s)| s == slot) {
                book.remove(i);
            }
        }
        self.free.push(slot);
        Some(item)
    }

    /// Sets an item's timer (none: cancels it).
    pub(crate) fn set_deadline(&mut self, slot: u32, at: Option<i64>) {
        self.stamp += 1;
        let stamp = self.stamp;
        let Some(item) = self.get_mut(slot) else {
            return;
        };
        if item.deadline == at {
            return;
        }
        item.deadline = at;
        item.stamp = stamp;
        if let Some(t) = at {
            self.timers.push(Reverse((t, stamp, slot)));
        }
    }

    /// Records an offer of item `slot` to member `m` until `expires` (milliseconds), the
    /// expiry joining the item's other timers.
    #[inline]
    pub(crate) fn offer(&mut self, slot: u32, m: u32, expires: i64) {
        self.stamp += 1;
        let stamp = self.stamp;
        let Some(item) = self.items.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        item.offer = Some((m, expires));
        let at = item.deadline.map_or(expires, |d| d.min(expires));
        if item.deadline != Some(at) {
            item.deadline = Some(at);
            item.stamp = stamp;
            self.timers.push(Reverse((at, stamp, slot)));
        }
    }

    /// Room for `n` more timers.
    pub(crate) fn reserve_timers(&mut self, n: usize) {
        self.timers.reserve(n);
    }

    fn is_fresh(&self, stamp: u64, slot: u32) -> bool {
        self.get(slot).is_some_and(|i| i.stamp == stamp)
    }

    /// Drops stale timers from the top, so the top is the next real one.
    pub(crate) fn purge(&mut self) {
        while let Some(&Reverse((_, stamp, slot))) = self.timers.peek() {
            if self.is_fresh(stamp, slot) {
                break;
            }
            self.timers.pop();
        }
    }

    /// The next item timer (milliseconds); accurate after [`Work::purge`].
    pub(crate) fn next_timer(&self) -> Option<i64> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Takes the items whose timer is due at `now`.
    pub(crate) fn due(&mut self, now: i64) -> Vec<u32> {
        let mut due = Vec::new();
        while let Some(&Reverse((t, stamp, slot))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            if self.is_fresh(stamp, slot) {
                if let Some(item) = self.get_mut(slot) {
                    item.deadline = None;
                }
                due.push(slot);
            }
        }
        due
    }

    /// Records a conversation leaving queue `q` at `now` after entering at `entered`. One
    /// that never waited (served the moment it arrived) says nothing of the queue's pace
    /// and is not sampled.
    pub(crate) fn depart(&mut self, q: usize, entered: i64, now: i64) {
        let Some(d) = self.departures.get_mut(q) else {
            return;
        };
        if now <= entered {
            return;
        }
        let since = d.last.map_or(entered, |l| l.max(entered));
        let sample = (now - since).clamp(0, 3_600_000) as f64;
        d.interval_ms = Some(d.interval_ms.map_or(sample, |i| 0.8 * i + 0.2 * sample));
        d.last = Some(now);
    }

    /// Every tracked item, in slot order.
    pub(crate) fn items(&self) -> impl Iterator<Item = (u32, &Item)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(s, i)| Some((s as u32, i.as_ref()?)))
    }
}

/// What the host stores to restore a tracked conversation after a restart
/// ([`Router::work_item`](super::Router::work_item) /
/// [`Router::restore`](super::Router::restore)); serializes with serde.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkItem {
    /// The conversation's id.
    pub conversation_id: String,
    /// The queue it waits in.
    pub queue: String,
    /// The rule that sent it there, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Its priority.
    #[serde(default)]
    pub priority: i32,
    /// When it entered the queue (orders equal priorities, drives relaxation and
    /// `waited_over`).
    pub entered_queue_at: DateTime<Utc>,
    /// The skills it requires (before relaxation), most important first, with their least
    /// proficiency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<(String, u8)>,
    /// The agent it prefers, and until when it waits for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_agent: Option<(String, DateTime<Utc>)>,
    /// Agents who declined it or let an offer time out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declined_by: Vec<String>,
    /// Offers declined or timed out so far.
    #[serde(default)]
    pub failed_offers: u32,
    /// The agent it is offered to, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_to: Option<(String, DateTime<Utc>)>,
    /// The queue's `waited_over` overflow has applied.
    #[serde(default)]
    pub waited_overflow_applied: bool,
}

/// A waiting conversation's place, for the automated "queue position" message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuePlace {
    /// The queue's name.
    pub queue: String,
    /// 1-based, counting the conversations ahead of it (and those the host counts).
    pub position: u32,
    /// The estimated wait, when the queue can tell.
    pub estimated_wait: Option<Duration>,
    /// Offered to this member now.
    pub offered_to: Option<String>,
}
