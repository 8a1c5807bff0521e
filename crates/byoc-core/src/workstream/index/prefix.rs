//! `starts_with`: from the value's prefixes to the rules whose literal they are.

use super::folded::TextTable;
use super::{first_at_or_after, min_rule};

/// From a prefix to the rules (ascending) whose `starts_with` literal it is; probed with the
/// value's prefix of each length some literal has, when the prefix's last byte is the last
/// byte of some literal of that length (a 256-bit set per length, both cases when folding),
/// so most lengths cost a bit test instead of a hash lookup.
#[derive(Clone, Debug)]
pub(super) struct PrefixIndex {
    table: TextTable,
    /// The literals' lengths, ascending, without repeats, each with the set of their last
    /// bytes.
    lengths: Vec<(usize, [u64; 4])>,
}

impl PrefixIndex {
    pub(super) fn new(fold: bool) -> Self {
        Self {
            table: TextTable::new(fold),
            lengths: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, prefix: &[u8], rule: u32) {
        self.table.add(prefix, rule);
        let n = prefix.len();
        let at = match self.lengths.binary_search_by_key(&n, |&(len, _)| len) {
            Ok(at) => at,
            Err(at) => {
                self.lengths.insert(at, (n, [0; 4]));
                at
            }
        };
        if let Some(&last) = prefix.last() {
            let set = &mut self.lengths[at].1;
            let variants = if self.table.fold {
                [last.to_ascii_lowercase(), last.to_ascii_uppercase()]
            } else {
                [last, last]
            };
            for b in variants {
                set[usize::from(b >> 6)] |= 1 << (b & 63);
            }
        }
    }

    #[inline]
    pub(super) fn first_from(&self, value: &[u8], from: u32) -> Option<u32> {
        let mut best = None;
        for &(n, ref last) in &self.lengths {
            let Some(prefix) = value.get(..n) else {
                break;
            };
            let ends_right = prefix
                .last()
                .is_none_or(|&b| last[usize::from(b >> 6)] & (1 << (b & 63)) != 0);
            if !ends_right {
                continue;
            }
            best = min_rule(best, first_at_or_after(self.table.get(prefix), from));
            if best == Some(from) {
                break;
            }
        }
        best
    }
}
