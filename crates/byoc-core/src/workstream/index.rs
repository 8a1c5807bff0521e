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
//! | `contains` | one Aho-Corasick DFA over every needle of the run, walked over the value (its match states name every needle ending there) | at most one step per byte of the value (at the start state, bytes that begin no needle skipped eight at a time, and the first bytes all needles beginning with a byte share taken at once), ending once no needle left in the text could give a smaller rule; plus the needles found |
//! | `exists` | the rules, ascending | none |
//! | `ignore_case` | the same structures over ASCII-lowered literals; the value is folded while it is hashed (or by the automaton), so nothing is copied | as above |
//! | `not ...`, `not_equals` | the negated rules in order, the first checked directly | linear in the negated rules the value excludes |
//!
//! Everything else (`all` of more than one condition, an `any` over several fields or
//! mixing negations, a rule without condition, runs of one rule, and a run whose substring
//! automaton would exceed [`MAX_TABLE`](substring::MAX_TABLE) entries) is evaluated in
//! order, one rule after another. Both paths give the same answer as
//! [`Condition::matches`]: the first rule that holds, in declaration order.
//!
//! One file per kind of index: `equals` (`equals` / `in`), `prefix` (`starts_with`),
//! `substring` (`contains`), and `folded`, the text table both exact and case-folded
//! lookups share (keys hashed a word at a time with the router's one Fx mixer,
//! `super::fxhash::mix`).

mod equals;
mod folded;
mod prefix;
mod substring;

use std::collections::HashMap;

use self::equals::ValueIndex;
use self::prefix::PrefixIndex;
use self::substring::ContainsIndex;
use super::condition::{Condition, Field, Value};
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
            // Time-dependent: evaluated in order.
            Condition::Open(_) => return None,
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
