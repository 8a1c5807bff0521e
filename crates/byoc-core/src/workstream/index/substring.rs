//! `contains`: every needle of a run in one automaton, walked over the value once.

use aho_corasick::Anchored;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;

use super::folded::lower_word;
use super::{FxMap, first_at_or_after, min_rule, push};

/// Every `contains` needle of a run in one automaton, walked over the value byte by byte.
///
/// Aho-Corasick's DFA (standard match semantics, ASCII case-insensitive for `ignore_case`)
/// is copied into a flat table when prepared: byte → class (each byte of a needle its own
/// class, every other byte one more), and one row per state: the next state per class, then
/// the state's match slot (its entry in `matches`, for match states). States are renumbered
/// so that every match state comes after every other. A step is then two loads (the byte's
/// class, then the next state, the only one that waits on the step before) and a compare.
///
/// The walk avoids most steps. While the automaton is at its start, bytes that begin no
/// needle are skipped with one independent load each (eight at a time when at most three
/// bytes begin a needle). At a byte that begins one, the bytes every needle beginning with it
/// shares (its [`Lead`], when three to eight) are compared with the text's at once, and the
/// automaton jumps to the state after those that agree. Only a match state looks further: at
/// the smallest rule among the needles ending there, or (when searching past the run's first
/// rules) at each of those needles. The walk ends as soon as nothing further in the text can
/// lower the answer: when the rule found is the smallest any needle gives, or when, back at
/// the start state, the text left is shorter than every needle that could give a smaller
/// rule.
#[derive(Clone, Debug)]
pub(super) struct ContainsIndex {
    /// Byte → class.
    classes: Box<[u8; 256]>,
    /// Entries per state: one per class, then the match slot.
    stride: usize,
    /// State × class → next state, and per state its match slot (at `stride - 1`); states
    /// are premultiplied by `stride`.
    trans: Vec<u32>,
    start: u32,
    /// The first match state (premultiplied); every state from here on is one.
    match_from: u32,
    /// Per match slot, what the state reports.
    matches: Vec<Match>,
    /// Per class, the bytes the needles beginning with it share.
    leads: Vec<Lead>,
    /// Whether needles match ignoring ASCII case (leads are then lowered).
    fold: bool,
    /// The smallest rule of any needle.
    lowest: u32,
    /// `(rule, length)`, ascending by rule: from this rule on (until the next entry), the
    /// shortest needle whose smallest rule is at most `rule` has `length` bytes. Only the
    /// rules where that length drops are listed.
    shortest: Vec<(u32, usize)>,
    /// The length of the shortest needle (`usize::MAX` when there is none).
    shortest_any: usize,
    /// Per byte, whether it leads from the start state back to the start state.
    leaves_start: Box<[bool; 256]>,
    /// The bytes that lead away from the start state, when there are one to three, each
    /// repeated in every byte of a word.
    start_words: Option<Vec<u64>>,
    /// Per needle, its rules, ascending.
    rules: Vec<Vec<u32>>,
    /// Rules whose needle is empty: every text contains it.
    empty: Vec<u32>,
}

/// What a match state reports.
#[derive(Clone, Debug)]
struct Match {
    /// The smallest rule of the needles ending there.
    first: u32,
    /// The length of the shortest needle whose smallest rule is below `first`
    /// (`usize::MAX` when none is): once `first` is the answer, only such a needle could
    /// still lower it.
    below: usize,
    /// The needles ending there.
    needles: Vec<u32>,
}

/// From the start state, the first bytes of every needle that begins with one class's byte:
/// the automaton takes them at once.
#[derive(Clone, Copy, Debug)]
struct Lead {
    /// The bytes, little-endian, zero past `len` (lowered when folding).
    word: u64,
    /// How many bytes are taken at once (at most 8; no state before the last is a match
    /// state). 0 for a class that begins no needle.
    len: usize,
    /// The state after the first `m` bytes, for `m` up to `len`.
    states: [u32; 9],
}

/// Every byte 1.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The largest table built (entries of `trans`); a run that needs more is scanned.
pub(super) const MAX_TABLE: usize = 1 << 22;

/// A lead shorter than this is stepped byte by byte (as quick, and cheaper when the text
/// leaves the needles after one byte).
const MIN_LEAD: usize = 3;

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
        let stride = reps.len() + 1;

        let lowest = rules.iter().filter_map(|r| r.first()).min().copied();
        let mut index = Self {
            classes,
            stride,
            trans: Vec::new(),
            start: 0,
            match_from: 0,
            matches: Vec::new(),
            leads: Vec::new(),
            fold,
            lowest: lowest.unwrap_or(u32::MAX),
            shortest: shortest(&patterns, &rules),
            shortest_any: usize::MAX,
            leaves_start: Box::new([true; 256]),
            start_words: None,
            rules,
            empty,
        };
        index.shortest_any = index.shorter_than(None);
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
            let mut row = Vec::with_capacity(reps.len());
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
        // Renumber: states without a match first, then match states, each with its slot.
        let is_match = |sid: StateID| dfa.is_special(sid) && dfa.is_match(sid);
        let mut renumbered = vec![0u32; order.len()];
        let mut slots = vec![0u32; order.len()];
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
                        slots[d] = index.matches.len() as u32;
                        index.matches.push(Match {
                            first,
                            below: index.shorter_than(Some(first)),
                            needles,
                        });
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
            index.trans[at + stride - 1] = slots[d];
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
        if (1..=3).contains(&starts.len()) {
            index.start_words = Some(starts.iter().map(|&b| ONES * u64::from(b)).collect());
        }
        index.leads = reps.iter().map(|&b| index.lead(&patterns, b)).collect();
        Some(index)
    }

    /// The [`Lead`] of the class of `byte`, once the table is built.
    fn lead(&self, patterns: &[&str], byte: u8) -> Lead {
        let key = |p: &str| -> Vec<u8> {
            if self.fold {
                p.as_bytes().to_ascii_lowercase()
            } else {
                p.as_bytes().to_vec()
            }
        };
        let byte = if self.fold {
            byte.to_ascii_lowercase()
        } else {
            byte
        };
        // The longest prefix (up to 8 bytes) of every needle beginning with `byte`.
        let mut shared: Option<Vec<u8>> = None;
        for p in patterns.iter().map(|p| key(p)) {
            if p.first() != Some(&byte) {
                continue;
            }
            let p = &p[..p.len().min(8)];
            shared = Some(match shared {
                None => p.to_vec(),
                Some(s) => {
                    let same = s.iter().zip(p).take_while(|(a, b)| a == b).count();
                    s[..same].to_vec()
                }
            });
        }
        let shared = shared.unwrap_or_default();
        let mut lead = Lead {
            word: 0,
            len: 0,
            states: [self.start; 9],
        };
        let mut state = self.start;
        for (m, &b) in shared.iter().enumerate() {
            let class = usize::from(self.classes[usize::from(b)]);
            state = self.trans[state as usize + class];
            lead.word |= u64::from(b) << (8 * m);
            lead.len = m + 1;
            lead.states[m + 1..].fill(state);
            // The bytes taken at once pass no match state before the last.
            if state >= self.match_from {
                break;
            }
        }
        lead
    }

    /// The first position from `at`, before `end`, whose byte leads away from the start
    /// state (`end` when none does): eight bytes at a time when at most three bytes do.
    #[inline(always)]
    fn skip(&self, value: &[u8], mut at: usize, end: usize) -> usize {
        const HIGH: u64 = 0x8080_8080_8080_8080;
        if let Some(starts) = &self.start_words {
            while at < end {
                let Some(word) = value.get(at..).and_then(|rest| rest.first_chunk::<8>()) else {
                    break;
                };
                let w = u64::from_le_bytes(*word);
                // The lowest byte flagged is exactly the first byte equal to `b`'s.
                let equal = |b: u64| {
                    let x = w ^ b;
                    x.wrapping_sub(ONES) & !x & HIGH
                };
                let found = match starts.as_slice() {
                    [a] => equal(*a),
                    [a, b] => equal(*a) | equal(*b),
                    more => more.iter().fold(0, |found, &b| found | equal(b)),
                };
                if found != 0 {
                    return end.min(at + (found.trailing_zeros() / 8) as usize);
                }
                at += 8;
            }
        }
        while at < end {
            let Some(&b) = value.get(at) else {
                break;
            };
            if !self.leaves_start[usize::from(b)] {
                return at;
            }
            at += 1;
        }
        end
    }

    /// From the start state at `at`: the state after the lead of the byte there, or as many
    /// of its first bytes as the text agrees with (one step when the lead is short or the
    /// text too), and the position after them.
    #[inline(always)]
    fn enter(&self, value: &[u8], at: usize) -> (u32, usize) {
        let Some(&byte) = value.get(at) else {
            return (self.start, at);
        };
        let class = usize::from(self.classes[usize::from(byte)]);
        let word = value.get(at..).and_then(|rest| rest.first_chunk::<8>());
        if let (Some(lead), Some(word)) = (self.leads.get(class), word)
            && lead.len >= MIN_LEAD
        {
            let w = u64::from_le_bytes(*word);
            let w = if self.fold { lower_word(w) } else { w };
            // The bytes that agree, up to the first that differs.
            let same = ((w ^ lead.word).trailing_zeros() / 8) as usize;
            let m = same.min(lead.len);
            if let Some(&state) = lead.states.get(m) {
                return (state, at + m);
            }
        }
        (self.trans[self.start as usize + class], at + 1)
    }

    /// The length of the shortest needle whose smallest rule is below `rule` (any needle
    /// for `None`); `usize::MAX` when none is.
    fn shorter_than(&self, rule: Option<u32>) -> usize {
        let below = match rule {
            Some(rule) => self.shortest.partition_point(|&(r, _)| r < rule),
            None => self.shortest.len(),
        };
        match below.checked_sub(1).and_then(|k| self.shortest.get(k)) {
            Some(&(_, n)) => n,
            None => usize::MAX,
        }
    }

    /// Walks the automaton over `value` and calls `found` with what each match state
    /// reports. `end` bounds where, at the start state, a needle still of interest may begin;
    /// `found` answers a new bound when it has one, 0 to stop.
    #[inline(always)]
    fn walk(&self, value: &[u8], mut end: usize, mut found: impl FnMut(&Match) -> Option<usize>) {
        let (trans, classes, slot) = (self.trans.as_slice(), &*self.classes, self.stride - 1);
        let (start, match_from) = (self.start, self.match_from);
        let mut at = 0;
        'text: loop {
            // Bytes that begin no needle keep the automaton at its start: skip them without
            // the dependent table walk.
            at = self.skip(value, at, end);
            if at >= end {
                return;
            }
            let mut state;
            (state, at) = self.enter(value, at);
            // Walk until the automaton is back at its start (or the text ends).
            loop {
                if state >= match_from {
                    let reported = trans
                        .get(state as usize + slot)
                        .and_then(|&m| self.matches.get(m as usize));
                    if let Some(bound) = reported.and_then(&mut found) {
                        if bound == 0 {
                            return;
                        }
                        end = bound;
                    }
                }
                let Some(&byte) = value.get(at) else {
                    return;
                };
                at += 1;
                // Indexed from the class's column, whose start does not depend on the step
                // before: the step's address then waits on the state alone, not on a sum.
                let class = usize::from(classes[usize::from(byte)]);
                state = trans[class..][state as usize];
                if state == start {
                    continue 'text;
                }
            }
        }
    }

    /// The smallest rule at or after `from` whose needle `value` contains.
    #[inline]
    pub(super) fn first_from(&self, value: &[u8], from: u32) -> Option<u32> {
        // At the start state, a needle that could lower the answer must begin before the
        // position past which the shortest such needle (of `n` bytes) no longer fits.
        let ends = |n: usize| (value.len() + 1).saturating_sub(n);
        if from <= self.lowest && self.empty.is_empty() {
            // No needle's rule is below `from`: a match state's answer is its smallest rule.
            let mut best: Option<u32> = None;
            self.walk(value, ends(self.shortest_any), |found| {
                if best.is_some_and(|b| b <= found.first) {
                    return None;
                }
                best = Some(found.first);
                // No needle gives a rule below `lowest`.
                Some(if found.first <= self.lowest {
                    0
                } else {
                    ends(found.below)
                })
            });
            return best;
        }
        let mut best = first_at_or_after(&self.empty, from);
        // No needle gives a rule below `floor`: once found, nothing can do better.
        let floor = from.max(self.lowest);
        if best.is_some_and(|b| b <= floor) {
            return best;
        }
        let fast = from <= self.lowest;
        self.walk(value, ends(self.shorter_than(best)), |found| {
            let before = best;
            if fast {
                best = min_rule(best, Some(found.first));
            } else {
                for &p in &found.needles {
                    let rule = self
                        .rules
                        .get(p as usize)
                        .and_then(|rules| first_at_or_after(rules, from));
                    best = min_rule(best, rule);
                }
            }
            match best {
                Some(b) if b <= floor => Some(0),
                Some(_) if best != before => Some(ends(self.shorter_than(best))),
                _ => None,
            }
        });
        best
    }
}

/// The `shortest` list of [`ContainsIndex`]: per needle its smallest rule and length,
/// ascending by rule, keeping only the rules where the shortest length so far drops.
fn shortest(patterns: &[&str], rules: &[Vec<u32>]) -> Vec<(u32, usize)> {
    let mut firsts: Vec<(u32, usize)> = patterns
        .iter()
        .zip(rules)
        .filter_map(|(p, rules)| Some((*rules.first()?, p.len())))
        .collect();
    firsts.sort_unstable();
    let mut list: Vec<(u32, usize)> = Vec::new();
    for (rule, n) in firsts {
        if list.last().is_none_or(|&(_, m)| n < m) {
            list.push((rule, n));
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::ContainsIndex;

    /// The answer by definition: the smallest rule at or after `from` whose needle occurs in
    /// `text` (ignoring ASCII case when `fold`).
    fn naive(needles: &[(String, u32)], fold: bool, text: &str, from: u32) -> Option<u32> {
        let lower = |s: &str| {
            if fold {
                s.to_ascii_lowercase()
            } else {
                s.to_owned()
            }
        };
        let text = lower(text);
        needles
            .iter()
            .filter(|(n, r)| *r >= from && text.contains(&lower(n)))
            .map(|&(_, r)| r)
            .min()
    }

    fn needles() -> impl Strategy<Value = Vec<(String, u32)>> {
        prop::collection::vec(("[abcAB;]{0,9}", 0u32..12), 1..12).prop_map(|mut list| {
            // Rules are added in ascending order, as a run's rules are.
            list.sort_by_key(|&(_, r)| r);
            list
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Long texts too, so that the word-at-a-time skip and the early end are exercised.
        #[test]
        fn finds_the_smallest_rule_whose_needle_occurs(
            needles in needles(),
            fold in any::<bool>(),
            text in "[abcAB; x]{0,40}",
            from in 0u32..13,
        ) {
            let index = ContainsIndex::new(&needles, fold);
            prop_assert!(index.is_some());
            let found = index.and_then(|i| i.first_from(text.as_bytes(), from));
            prop_assert_eq!(found, naive(&needles, fold, &text, from));
        }

        /// Texts made of the needles themselves (in either case), between random bytes, so
        /// that leads are taken whole, in part, and across the ends of needles.
        #[test]
        fn finds_needles_placed_in_the_text(
            needles in needles(),
            fold in any::<bool>(),
            pieces in prop::collection::vec(("[abc; x]{0,4}", any::<prop::sample::Index>(), any::<bool>()), 0..6),
            from in 0u32..13,
        ) {
            let mut text = String::new();
            for (filler, pick, upper) in &pieces {
                text.push_str(filler);
                let needle = &pick.get(&needles).0;
                text.push_str(&if *upper { needle.to_ascii_uppercase() } else { needle.clone() });
            }
            let index = ContainsIndex::new(&needles, fold);
            prop_assert!(index.is_some());
            let found = index.and_then(|i| i.first_from(text.as_bytes(), from));
            prop_assert_eq!(found, naive(&needles, fold, &text, from));
        }
    }
}
