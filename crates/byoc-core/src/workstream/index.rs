//! The rule index of a prepared [`Router`](super::Router): runs of rules over one field,
//! answered by lookups instead of evaluating each rule.
//!
//! A rule joins a run when its condition is a *simple* test of one field: `equals`, `in`,
//! `starts_with`, `contains`, `exists`, case-sensitive or `ignore_case`, an `any` of such
//! tests on the same field, or a `not` / `not_equals` of one of those. Consecutive rules on
//! the same field (two or more) form a run, and the run answers "the first rule at or after
//! `from` that holds for this value" ([`RunIndex::first_from`]) with:
//!
//! | test | index | cost per decision |
//! |---|---|---|
//! | `equals`, `in` | hash map from the literal to its rules, by type (text, number, boolean, text that parses as a number or boolean) | one lookup |
//! | `starts_with` | hash map from the prefix to its rules, probed with the value's prefixes of each length present | per distinct prefix length up to the value's length, a bit test on the prefix's last byte, and a lookup when some literal of that length ends in it |
//! | `contains` | one Aho-Corasick DFA over every needle of the run, walked over the value (its match states name every needle ending there) | one step per byte of the value (bytes that begin no needle skipped cheaply at the start state), plus the needles found |
//! | `exists` | the rules, ascending | none |
//! | `ignore_case` | the same structures over ASCII-lowered literals; the value is folded while it is hashed (or by the automaton), so nothing is copied | as above |
//! | `not ...`, `not_equals` | the negated rules in order, the first checked directly | linear in the negated rules the value excludes |
//!
//! Everything else (`all` of more than one condition, an `any` over several fields or
//! mixing negations, a rule without condition, runs of one rule, and a run whose substring
//! automaton would exceed [`MAX_TABLE`] entries) is evaluated in order, one rule after
//! another. Both paths
//! give the same answer as [`Condition::matches`]: the first rule that holds, in
//! declaration order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::Anchored;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;

use super::condition::{Condition, Field, Value, parse_bool};
use super::fxhash::FxBuildHasher;
use super::model::RoutingRule;
use crate::conversation::ContextScalar;

type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// Rules in order, as the router walks them. The index is held inline (not boxed): a
/// decision follows one pointer fewer, and a workstream has few segments.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Segment {
    /// Evaluate each rule of the range in turn.
    Scan(usize, usize),
    /// A run of rules testing one field: look the value up.
    Index { field: Field, index: RunIndex },
}

/// Splits the rules into runs the index serves and ranges evaluated in order.
pub(crate) fn segments(rules: &[RoutingRule]) -> Vec<Segment> {
    let simple: Vec<Option<Simple<'_>>> = rules
        .iter()
        .map(|r| r.condition.as_ref().and_then(Simple::of))
        .collect();
    let mut segments = Vec::new();
    let mut i = 0;
    while i < rules.len() {
        let field = simple[i].as_ref().map(|s| s.field);
        let mut end = i + 1;
        if let Some(field) = field {
            while end < rules.len() && simple[end].as_ref().is_some_and(|s| s.field == field) {
                end += 1;
            }
        }
        let index = match field {
            Some(field) if end - i >= 2 => {
                RunIndex::new(&simple[i..end], i).map(|index| (field.clone(), index))
            }
            _ => None,
        };
        match index {
            Some((field, index)) => segments.push(Segment::Index { field, index }),
            None => match segments.last_mut() {
                Some(Segment::Scan(_, e)) if *e == i => *e = end,
                _ => segments.push(Segment::Scan(i, end)),
            },
        }
        i = end;
    }
    segments
}

/// One test of a field's value.
#[derive(Clone, Copy, Debug)]
enum Atom<'a> {
    Equals(&'a ContextScalar, bool),
    StartsWith(&'a ContextScalar, bool),
    Contains(&'a ContextScalar, bool),
    Exists,
}

/// A condition that holds when one of `atoms` holds on `field` (or, `negated`, when none
/// does).
#[derive(Debug)]
struct Simple<'a> {
    field: &'a Field,
    negated: bool,
    atoms: Vec<Atom<'a>>,
}

impl<'a> Simple<'a> {
    fn of(condition: &'a Condition) -> Option<Self> {
        let (field, atoms): (&Field, Vec<Atom<'a>>) = match condition {
            Condition::Equals(c) => (&c.field, vec![Atom::Equals(&c.value, c.ignore_case)]),
            Condition::NotEquals(c) => {
                return Some(Self {
                    field: &c.field,
                    negated: true,
                    atoms: vec![Atom::Equals(&c.value, c.ignore_case)],
                });
            }
            Condition::StartsWith(c) => (&c.field, vec![Atom::StartsWith(&c.value, c.ignore_case)]),
            Condition::Contains(c) => (&c.field, vec![Atom::Contains(&c.value, c.ignore_case)]),
            Condition::In(m) => (
                &m.field,
                m.values
                    .iter()
                    .map(|v| Atom::Equals(v, m.ignore_case))
                    .collect(),
            ),
            Condition::Exists(field) => (field, vec![Atom::Exists]),
            Condition::Not(inner) => {
                let mut s = Self::of(inner)?;
                s.negated = !s.negated;
                return Some(s);
            }
            Condition::Any(list) => {
                // A union of positive tests on one field (an empty `any` has no field).
                let mut parts = list.iter().map(Self::of);
                let mut first = parts.next()??;
                if first.negated {
                    return None;
                }
                for part in parts {
                    let part = part?;
                    if part.negated || part.field != first.field {
                        return None;
                    }
                    first.atoms.extend(part.atoms);
                }
                return Some(first);
            }
            Condition::All(list) => match list.as_slice() {
                [one] => return Self::of(one),
                _ => return None,
            },
        };
        Some(Self {
            field,
            negated: false,
            atoms,
        })
    }
}

/// The index of one run of rules over one field.
#[derive(Clone, Debug)]
pub(crate) struct RunIndex {
    /// The tests of the rules that hold when one of them holds.
    positive: Tests,
    /// The rules that hold when none of their tests holds, ascending.
    negated: Vec<u32>,
}

impl RunIndex {
    /// `None` when a part cannot be built (the caller then scans the run).
    fn new(run: &[Option<Simple<'_>>], start: usize) -> Option<Self> {
        let mut builder = TestsBuilder::default();
        let mut negated = Vec::new();
        for (k, simple) in run.iter().enumerate() {
            let rule = (start + k) as u32;
            let simple = simple.as_ref()?;
            if simple.negated {
                negated.push(rule);
            } else {
                for atom in &simple.atoms {
                    builder.add(*atom, rule);
                }
            }
        }
        Some(Self {
            positive: builder.build()?,
            negated,
        })
    }

    /// The first rule at or after `from` that holds for `value`. `holds` evaluates one rule
    /// directly (used for negated rules only).
    #[inline(always)]
    pub(crate) fn first_from(
        &self,
        value: Option<Value<'_>>,
        from: usize,
        holds: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let from = from as u32;
        let mut best = self.positive.first_from(value, from);
        if !self.negated.is_empty() {
            let start = self.negated.partition_point(|&r| r < from);
            for &r in &self.negated[start..] {
                if best.is_some_and(|b| b < r) {
                    break;
                }
                if holds(r as usize) {
                    best = Some(best.map_or(r, |b| b.min(r)));
                    break;
                }
            }
        }
        best.map(|r| r as usize)
    }
}

/// The first rule at or after `from` in an ascending list.
#[inline(always)]
fn first_at_or_after(list: &[u32], from: u32) -> Option<u32> {
    match list.first() {
        Some(&r) if r >= from => Some(r),
        None => None,
        _ => {
            let start = list.partition_point(|&r| r < from);
            list.get(start).copied()
        }
    }
}

/// The smaller of two optional rules.
#[inline(always)]
fn min_rule(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn push(list: &mut Vec<u32>, rule: u32) {
    if list.last() != Some(&rule) {
        list.push(rule);
    }
}

/// The positive tests of a run, by kind; only the kinds present.
#[derive(Clone, Debug)]
struct Tests {
    parts: Vec<Part>,
}

/// One kind of test, held inline (a run has at most seven parts).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Part {
    Equals(ValueIndex),
    StartsWith(PrefixIndex),
    Contains(ContainsIndex),
    Exists(Vec<u32>),
}

impl Tests {
    #[inline(always)]
    fn first_from(&self, value: Option<Value<'_>>, from: u32) -> Option<u32> {
        let value = value?;
        if let [part] = self.parts.as_slice() {
            return part.first_from(value, from);
        }
        let mut best = None;
        for part in &self.parts {
            best = min_rule(best, part.first_from(value, from));
            if best == Some(from) {
                break;
            }
        }
        best
    }
}

impl Part {
    #[inline(always)]
    fn first_from(&self, value: Value<'_>, from: u32) -> Option<u32> {
        match self {
            Part::Equals(index) => index.first_from(value, from),
            Part::StartsWith(index) => match value {
                Value::Str(s) => index.first_from(s.as_bytes(), from),
                _ => None,
            },
            Part::Contains(index) => match value {
                Value::Str(s) => index.first_from(s.as_bytes(), from),
                _ => None,
            },
            Part::Exists(rules) => first_at_or_after(rules, from),
        }
    }
}

#[derive(Default)]
struct TestsBuilder {
    /// Case-sensitive, then ignoring case.
    equals: [Option<ValueIndex>; 2],
    prefixes: [Option<PrefixIndex>; 2],
    needles: [Vec<(String, u32)>; 2],
    exists: Vec<u32>,
}

impl TestsBuilder {
    fn add(&mut self, atom: Atom<'_>, rule: u32) {
        match atom {
            Atom::Equals(literal, fold) => self.equals[usize::from(fold)]
                .get_or_insert_with(|| ValueIndex::new(fold))
                .add(literal, rule),
            // `starts_with` and `contains` only match text.
            Atom::StartsWith(ContextScalar::String(s), fold) => self.prefixes[usize::from(fold)]
                .get_or_insert_with(|| PrefixIndex::new(fold))
                .add(s.as_bytes(), rule),
            Atom::Contains(ContextScalar::String(s), fold) => {
                self.needles[usize::from(fold)].push((s.clone(), rule));
            }
            Atom::StartsWith(..) | Atom::Contains(..) => {}
            Atom::Exists => push(&mut self.exists, rule),
        }
    }

    fn build(self) -> Option<Tests> {
        let mut parts = Vec::new();
        for index in self.equals.into_iter().flatten() {
            parts.push(Part::Equals(index));
        }
        for index in self.prefixes.into_iter().flatten() {
            parts.push(Part::StartsWith(index));
        }
        for (fold, needles) in self.needles.into_iter().enumerate() {
            if !needles.is_empty() {
                parts.push(Part::Contains(ContainsIndex::new(&needles, fold == 1)?));
            }
        }
        if !self.exists.is_empty() {
            parts.push(Part::Exists(self.exists));
        }
        Some(Tests { parts })
    }
}

// ------------------------------------------------------------------------------ text tables

/// ASCII-lowers each byte of a word (others unchanged).
#[inline]
fn lower_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = w & !HIGH;
    // Per byte, the high bit of `low7 + (0x80 - c)` is set when the byte is >= c; no byte
    // carries into the next (at most 0x7f + 0x3f).
    let at_least_a = low7.wrapping_add(ONES * u64::from(0x80 - b'A'));
    let above_z = low7.wrapping_add(ONES * u64::from(0x80 - b'Z' - 1));
    let upper = at_least_a & !above_z & !w & HIGH;
    w | (upper >> 2)
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[inline]
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(SEED)
}

/// The first 8 bytes, little-endian (`bytes` holds at least 8).
#[inline(always)]
fn word8(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// The first 4 bytes, little-endian (`bytes` holds at least 4).
#[inline(always)]
fn word4(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<4>()
        .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// Up to 16 bytes as two words (overlapping when shorter than 16, zero-padded when shorter
/// than 8): two byte strings of the same length are equal exactly when their words are.
#[inline(always)]
fn words(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    if n >= 8 {
        (word8(bytes), word8(&bytes[n - 8..]))
    } else if n >= 4 {
        (word4(bytes), word4(&bytes[n - 4..]))
    } else {
        let mut w = 0;
        for (k, &b) in bytes.iter().enumerate() {
            w |= u64::from(b) << (8 * k);
        }
        (w, 0)
    }
}

/// The Fx hash of a byte string in whole words (the last overlapping the one before), ASCII
/// letters lowered first when `fold`; the length is mixed in last.
#[inline(always)]
fn text_hash(bytes: &[u8], fold: bool) -> u64 {
    let f = |w: u64| if fold { lower_word(w) } else { w };
    let n = bytes.len();
    let hash = if n <= 16 {
        let (a, b) = words(bytes);
        mix(mix(0, f(a)), f(b))
    } else {
        let mut hash = 0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            hash = mix(hash, f(word8(chunk)));
        }
        if !chunks.remainder().is_empty() {
            hash = mix(hash, f(word8(&bytes[n - 8..])));
        }
        hash
    };
    mix(hash, n as u64).rotate_left(26)
}

/// A hasher that passes a precomputed `u64` through.
#[derive(Clone, Copy, Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Rules by text key, exact or ignoring ASCII case: keyed by [`text_hash`], the key kept to
/// confirm a hit; keys whose hash another key already has go to `spill`.
#[derive(Clone, Debug)]
struct TextTable {
    fold: bool,
    map: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    spill: Vec<Entry>,
}

/// A key and its rules, ascending.
type Entry = (Box<[u8]>, Vec<u32>);

impl TextTable {
    fn new(fold: bool) -> Self {
        Self {
            fold,
            map: HashMap::default(),
            spill: Vec::new(),
        }
    }

    /// Whether a stored key (lowered when folding) equals `key`.
    #[inline(always)]
    fn same(&self, stored: &[u8], key: &[u8]) -> bool {
        if stored.len() != key.len() {
            return false;
        }
        if key.len() <= 16 {
            let (a, b) = words(key);
            let (x, y) = words(stored);
            if self.fold {
                (lower_word(a), lower_word(b)) == (x, y)
            } else {
                (a, b) == (x, y)
            }
        } else if self.fold {
            stored.eq_ignore_ascii_case(key)
        } else {
            stored == key
        }
    }

    fn add(&mut self, key: &[u8], rule: u32) {
        let key: Box<[u8]> = if self.fold {
            key.to_ascii_lowercase().into()
        } else {
            key.into()
        };
        let hash = text_hash(&key, self.fold);
        match self.map.get_mut(&hash) {
            None => {
                self.map.insert(hash, (key, vec![rule]));
            }
            Some((k, rules)) if **k == *key => push(rules, rule),
            Some(_) => match self.spill.iter_mut().find(|(k, _)| **k == *key) {
                Some((_, rules)) => push(rules, rule),
                None => self.spill.push((key, vec![rule])),
            },
        }
    }

    #[inline(always)]
    fn get(&self, key: &[u8]) -> &[u32] {
        match self.map.get(&text_hash(key, self.fold)) {
            Some((k, rules)) if self.same(k, key) => rules,
            Some(_) => self
                .spill
                .iter()
                .find(|(k, _)| self.same(k, key))
                .map_or(&[], |(_, rules)| rules.as_slice()),
            None => &[],
        }
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

// ------------------------------------------------------------------------------- equality

/// From a value to the rules (ascending) whose `equals` / `in` literal it equals, by the
/// literal's type: exactly the comparisons of `Value::equals` (text to text, ignoring ASCII
/// case or not; a number to a number or to text that parses as one; a boolean likewise), so
/// a rule found here holds and a rule not found does not.
#[derive(Clone, Debug)]
struct ValueIndex {
    strs: TextTable,
    str_as_num: FxMap<u64, Vec<u32>>,
    str_as_bool: [Vec<u32>; 2],
    nums: FxMap<u64, Vec<u32>>,
    bools: [Vec<u32>; 2],
}

/// The hash key of a number: `None` for NaN (equal to nothing), `-0` as `0`.
fn num_key(n: f64) -> Option<u64> {
    if n.is_nan() {
        None
    } else if n == 0.0 {
        Some(0)
    } else {
        Some(n.to_bits())
    }
}

impl ValueIndex {
    fn new(fold: bool) -> Self {
        Self {
            strs: TextTable::new(fold),
            str_as_num: FxMap::default(),
            str_as_bool: [Vec::new(), Vec::new()],
            nums: FxMap::default(),
            bools: [Vec::new(), Vec::new()],
        }
    }

    fn add(&mut self, literal: &ContextScalar, rule: u32) {
        match literal {
            ContextScalar::String(s) => {
                self.strs.add(s.as_bytes(), rule);
                if let Some(k) = s.trim().parse::<f64>().ok().and_then(num_key) {
                    push(self.str_as_num.entry(k).or_default(), rule);
                }
                if let Some(b) = parse_bool(s) {
                    push(&mut self.str_as_bool[usize::from(b)], rule);
                }
            }
            ContextScalar::Number(n) => {
                if let Some(k) = num_key(*n) {
                    push(self.nums.entry(k).or_default(), rule);
                }
            }
            ContextScalar::Bool(b) => push(&mut self.bools[usize::from(*b)], rule),
        }
    }

    /// The rules under a number key.
    fn get(map: &FxMap<u64, Vec<u32>>, key: Option<u64>) -> &[u32] {
        key.and_then(|k| map.get(&k)).map_or(&[], Vec::as_slice)
    }

    #[inline(always)]
    fn first_from(&self, value: Value<'_>, from: u32) -> Option<u32> {
        let lists: [&[u32]; 2] = match value {
            Value::Str(s) => {
                let text = if self.strs.is_empty() {
                    None
                } else {
                    first_at_or_after(self.strs.get(s.as_bytes()), from)
                };
                let number = if self.nums.is_empty() {
                    None
                } else {
                    first_at_or_after(
                        Self::get(&self.nums, s.trim().parse::<f64>().ok().and_then(num_key)),
                        from,
                    )
                };
                let boolean = if self.bools.iter().all(Vec::is_empty) {
                    None
                } else {
                    parse_bool(s).and_then(|b| first_at_or_after(&self.bools[usize::from(b)], from))
                };
                return min_rule(text, min_rule(number, boolean));
            }
            Value::Num(n) => [
                Self::get(&self.nums, num_key(n)),
                Self::get(&self.str_as_num, num_key(n)),
            ],
            Value::Bool(b) => [
                &self.bools[usize::from(b)],
                &self.str_as_bool[usize::from(b)],
            ],
        };
        min_rule(
            first_at_or_after(lists[0], from),
            first_at_or_after(lists[1], from),
        )
    }
}

// -------------------------------------------------------------------------------- prefixes

/// From a prefix to the rules (ascending) whose `starts_with` literal it is; probed with the
/// value's prefix of each length some literal has, when the prefix's last byte is the last
/// byte of some literal of that length (a 256-bit set per length, both cases when folding),
/// so most lengths cost a bit test instead of a hash lookup.
#[derive(Clone, Debug)]
struct PrefixIndex {
    table: TextTable,
    /// The literals' lengths, ascending, without repeats, each with the set of their last
    /// bytes.
    lengths: Vec<(usize, [u64; 4])>,
}

impl PrefixIndex {
    fn new(fold: bool) -> Self {
        Self {
            table: TextTable::new(fold),
            lengths: Vec::new(),
        }
    }

    fn add(&mut self, prefix: &[u8], rule: u32) {
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
    fn first_from(&self, value: &[u8], from: u32) -> Option<u32> {
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

// ------------------------------------------------------------------------------- substrings

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
struct ContainsIndex {
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
const MAX_TABLE: usize = 1 << 22;

impl ContainsIndex {
    /// `None` when the automaton cannot be built or would be too large.
    fn new(needles: &[(String, u32)], fold: bool) -> Option<Self> {
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
    fn first_from(&self, value: &[u8], from: u32) -> Option<u32> {
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
