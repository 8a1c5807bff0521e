//! The state of one Direct Line conversation: token, conversation id, stream URL,
//! watermark, and the ids already delivered.

use std::collections::{HashSet, VecDeque};

use byoc_core::{Activity, Secret};
use tokio::time::Instant;

/// How many activity ids are remembered for de-duplication.
const SEEN_CAPACITY: usize = 4096;

#[derive(Default)]
pub(crate) struct Session {
    pub(crate) token: Option<Secret>,
    pub(crate) refresh_at: Option<Instant>,
    pub(crate) conversation_id: Option<String>,
    pub(crate) stream_url: Option<String>,
    pub(crate) watermark: Option<String>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
}

impl Session {
    /// Keeps activities not seen before (by `id`) and remembers them
    /// (`docs/protocols/bot-framework.md#watermarks-and-streams`).
    pub(crate) fn dedupe(&mut self, activities: Vec<Activity>) -> Vec<Activity> {
        let mut out = Vec::with_capacity(activities.len());
        for a in activities {
            if let Some(id) = a.id.clone() {
                if !self.seen.insert(id.clone()) {
                    continue;
                }
                self.seen_order.push_back(id);
                if self.seen_order.len() > SEEN_CAPACITY
                    && let Some(old) = self.seen_order.pop_front()
                {
                    self.seen.remove(&old);
                }
            }
            out.push(a);
        }
        out
    }

    /// Stores a watermark; `None` never overwrites one already held.
    pub(crate) fn set_watermark(&mut self, w: Option<String>) {
        if w.is_some() {
            self.watermark = w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(id: &str) -> Activity {
        let mut a = Activity::message("x");
        a.id = Some(id.into());
        a
    }

    #[test]
    fn activities_are_delivered_once_and_a_missing_watermark_keeps_the_last() {
        let mut s = Session::default();
        assert_eq!(s.dedupe(vec![with_id("1"), with_id("2")]).len(), 2);
        assert_eq!(s.dedupe(vec![with_id("2"), with_id("3")]).len(), 1);
        s.set_watermark(Some("5".into()));
        s.set_watermark(None);
        assert_eq!(s.watermark.as_deref(), Some("5"));
    }

    #[test]
    fn the_oldest_ids_are_forgotten_past_the_capacity() {
        let mut s = Session::default();
        let ids: Vec<_> = (0..=SEEN_CAPACITY)
            .map(|i| with_id(&i.to_string()))
            .collect();
        assert_eq!(s.dedupe(ids).len(), SEEN_CAPACITY + 1);
        assert_eq!(s.seen.len(), SEEN_CAPACITY);
        assert!(s.dedupe(vec![with_id("1")]).is_empty(), "still remembered");
        assert_eq!(s.dedupe(vec![with_id("0")]).len(), 1, "forgotten");
    }
}
