//! `equals` and `in`: from a value to the rules whose literal it equals.

use super::folded::TextTable;
use super::{FxMap, first_at_or_after, min_rule, push};
use crate::conversation::ContextScalar;
use crate::workstream::condition::{Value, parse_bool};

/// From a value to the rules (ascending) whose `equals` / `in` literal it equals, by the
/// literal's type: exactly the comparisons of `Value::equals` (text to text, ignoring ASCII
/// case or not; a number to a number or to text that parses as one; a boolean likewise), so
/// a rule found here holds and a rule not found does not.
#[derive(Clone, Debug)]
pub(super) struct ValueIndex {
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
    pub(super) fn new(fold: bool) -> Self {
        Self {
            strs: TextTable::new(fold),
            str_as_num: FxMap::default(),
            str_as_bool: [Vec::new(), Vec::new()],
            nums: FxMap::default(),
            bools: [Vec::new(), Vec::new()],
        }
    }

    pub(super) fn add(&mut self, literal: &ContextScalar, rule: u32) {
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
    pub(super) fn first_from(&self, value: Value<'_>, from: u32) -> Option<u32> {
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
