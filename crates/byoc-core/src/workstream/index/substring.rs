//! `contains`: every needle of a run in one automaton, walked over the value once.

use aho_corasick::Anchored;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;

use super::{FxMap, first_at_or_after, min_rule, push};

/// Every `contains` needle of a run in one automaton, walked over the value byte by byte.
///
/// Aho-Corasick's DFA (standard match semantics, ASCII case-insensitive for `ignore_case`)
/// is copied into a flat table when prepared: byte → class (each byte of a needle its own
/// class, every other byte one more), state × class → state, with the states renumbered so
/// that every match state comes after every other. A step is then two loads and a compare;
/// while the automaton is at its start, bytes that begin no needle are skipped with one
/// independent load each (most of a text, usually). Only a match state looks further: at the smallest rule among the needles ending
/// there, or (when searching past the run's first rules) at each of those needles.
#[derive(Clone, Debug)]
pub(super) struct ContainsIndex {
    /// Byte → class.
    classes: Box<[u8; 256]>,
    /// Classes per state.
    stride: usize,
    /// State × class → next state; states are premultiplied by `stride`.
    trans: Vec<u32>,
    start: u32,
    /// The first match state (premultiplied); every state from here on is one.
    match_from: u32,
    /// Per match state (by `(state - match_from) / stride`): the smallest rule of the needles
    /// ending there, and those needles.
    matches: Vec<(u32, Vec<u32>)>,
    /// The smallest rule of any needle.
    lowest: u32,
    /// Per byte, whether it leads from the start state back to the start state.
    leaves_start: Box<[bool; 256]>,
    /// The bytes that lead away from the start state, when there are at most three.
    start_bytes: Option<Vec<u8>>,
    /// Per needle, its rules, ascending.
    rules: Vec<Vec<u32>>,
    /// Rules whose needle is empty: every text contains it.
    empty: Vec<u32>,
}

/// The largest table built (entries of `trans`); a run that needs more is scanned.
pub(super) const MAX_TABLE: usize = 1 << 22;

impl ContainsIndex {
    /// `None` when the automaton cannot be built or would be too large.
    pub(super) fn new(needles: &[(String, u32)], fold: bool) -> Option<Self> {
        let mut patterns: Vec<&str> = Vec::new();
        let mut by_pattern: FxMap<Box<[u8]>, usize> = FxMap::default();
        let mut rules: Vec<Vec<u32>> = Vec::new();
        let mut empty = Vec::new();
        for (needle, rule) in needles {
            if needle.is_empty() {
                push(&mut empty, *rule);
                continue;
            }
            let key: Box<[u8]> = if fold {
                needle.as_bytes().to_ascii_lowercase().into()
            } else {
                needle.as_bytes().into()
            };
            let at = *by_pattern.entry(key).or_insert_with(|| {
                patterns.push(needle);
                rules.push(Vec::new());
                rules.len() - 1
            });
            push(&mut rules[at], *rule);
        }

        // Classes: one per byte that occurs in a needle (both cases when folding), then one
        // for all other bytes.
        let mut seen = [false; 256];
        let mut reps: Vec<u8> = Vec::new();
        for p in &patterns {
            for &b in p.as_bytes() {
                let variants = if fold {
                    [b.to_ascii_lowercase(), b.to_ascii_uppercase()]
                } else {
                    [b, b]
                };
                for v in variants {
                    if !seen[usize::from(v)] {
                        seen[usize::from(v)] = true;
                        reps.push(v);
                    }
                }
            }
        }
        let mut classes = Box::new([0u8; 256]);
        let other = (0..=255u8).find(|&b| !seen[usize::from(b)]);
        if let Some(other) = other {
            reps.push(other);
        }
        for (class, &r) in reps.iter().enumerate() {
            classes[usize::from(r)] = class as u8;
        }
        if other.is_some() {
            let last = (reps.len() - 1) as u8;
            for b in 0..=255u8 {
                if !seen[usize::from(b)] {
                    classes[usize::from(b)] = last;
                }
            }
        }
        let stride = reps.len();

        let lowest = rules.iter().filter_map(|r| r.first()).min().copied();
        let mut index = Self {
            classes,
            stride,
            trans: Vec::new(),
            start: 0,
            match_from: 0,
            matches: Vec::new(),
            lowest: lowest.unwrap_or(u32::MAX),
            leaves_start: Box::new([true; 256]),
            start_bytes: None,
            rules,
            empty,
        };
        if patterns.is_empty() {
            return Some(index);
        }
        let dfa = DFA::builder()
            .ascii_case_insensitive(fold)
            .prefilter(false)
            .build(&patterns)
            .ok()?;
        let start = dfa.start_state(Anchored::No).ok()?;

        // Every state reachable from the start, in order found, with its successors.
        let mut order: Vec<StateID> = vec![start];
        let mut dense: FxMap<StateID, usize> = FxMap::default();
        dense.insert(start, 0);
        let mut next: Vec<Vec<usize>> = Vec::new();
        let mut k = 0;
        while k < order.len() {
            if order.len().saturating_mul(stride) > MAX_TABLE {
                return None;
            }
            let sid = order[k];
            let mut row = Vec::with_capacity(stride);
            for &r in &reps {
                let to = dfa.next_state(Anchored::No, sid, r);
                let at = *dense.entry(to).or_insert_with(|| {
                    order.push(to);
                    order.len() - 1
                });
                row.push(at);
            }
            next.push(row);
            k += 1;
        }
        // Renumber: states without a match first, then match states.
        let is_match = |sid: StateID| dfa.is_special(sid) && dfa.is_match(sid);
        let mut renumbered = vec![0u32; order.len()];
        let mut n = 0;
        for pass in [false, true] {
            for (d, &sid) in order.iter().enumerate() {
                if is_match(sid) == pass {
                    renumbered[d] = (n * stride) as u32;
                    n += 1;
                    if pass {
                        let needles: Vec<u32> = (0..dfa.match_len(sid))
                            .map(|m| dfa.match_pattern(sid, m).as_u32())
                            .collect();
                        let first = needles
                            .iter()
                            .filter_map(|&p| index.rules.get(p as usize)?.first())
                            .min()
                            .copied()
                            .unwrap_or(u32::MAX);
                        index.matches.push((first, needles));
                    }
                }
            }
            if !pass {
                index.match_from = (n * stride) as u32;
            }
        }
        index.trans = vec![0; n * stride];
        for (d, row) in next.iter().enumerate() {
            let at = renumbered[d] as usize;
            for (class, &to) in row.iter().enumerate() {
                index.trans[at + class] = renumbered[to];
            }
        }
        index.start = renumbered[0];
        for b in 0..=255u8 {
            let class = usize::from(index.classes[usize::from(b)]);
            index.leaves_start[usize::from(b)] =
                index.trans[index.start as usize + class] == index.start;
        }
        let starts: Vec<u8> = (0..=255u8)
            .filter(|&b| !index.leaves_start[usize::from(b)])
            .collect();
        if starts.len() <= 3 {
            index.start_bytes = Some(starts);
        }
        Some(index)
    }

    /// The first position from `at` whose byte leads away from the start state (the
    /// value's length when none does): eight bytes at a time when at most three bytes do.
    #[inline(always)]
    fn skip(&self, value: &[u8], mut at: usize, leaves: &[bool; 256]) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        if let Some(starts) = &self.start_bytes {
            while let Some(word) = value.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
                let w = u64::from_le_bytes(*word);
                let mut found = 0;
                for &b in starts {
                    let x = w ^ (ONES * u64::from(b));
                    // The lowest byte flagged is exactly the first byte equal to `b`.
                    found |= x.wrapping_sub(ONES) & !x & HIGH;
                }
                if found != 0 {
                    return at + (found.trailing_zeros() / 8) as usize;
                }
                at += 8;
            }
        }
        while let Some(&b) = value.get(at) {
            if !leaves[usize::from(b)] {
                return at;
            }
            at += 1;
        }
        value.len()
    }

    #[inline]
    pub(super) fn first_from(&self, value: &[u8], from: u32) -> Option<u32> {
        let mut best = first_at_or_after(&self.empty, from);
        if self.trans.is_empty() || best == Some(from) {
            return best;
        }
        let fast = from <= self.lowest;
        let (trans, classes, match_from) = (self.trans.as_slice(), &*self.classes, self.match_from);
        let (start, leaves) = (self.start, &*self.leaves_start);
        let mut state = start;
        let mut at = 0;
        while at < value.len() {
            if state == start {
                // Bytes that begin no needle keep the automaton at its start: skip them
                // without the dependent table walk.
                at = self.skip(value, at, leaves);
            }
            let Some(&byte) = value.get(at) else {
                break;
            };
            at += 1;
            state = trans[state as usize + usize::from(classes[usize::from(byte)])];
            if state < match_from {
                continue;
            }
            let Some((first, needles)) = self
                .matches
                .get((state - match_from) as usize / self.stride)
            else {
                continue;
            };
            if fast {
                best = min_rule(best, Some(*first));
            } else {
                for &p in needles {
                    let found = self
                        .rules
                        .get(p as usize)
                        .and_then(|rules| first_at_or_after(rules, from));
                    best = min_rule(best, found);
                }
            }
            if best == Some(from) {
                break;
            }
        }
        best
    }
}
