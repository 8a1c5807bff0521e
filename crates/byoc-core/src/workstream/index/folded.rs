//! Text keys, exact or ignoring ASCII case: the word-at-a-time hash both kinds of table use
//! (letters lowered while hashing, so a folded probe copies nothing) and the table itself.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::push;
use crate::workstream::fxhash::mix;

/// ASCII-lowers each byte of a word (others unchanged).
#[inline]
pub(super) fn lower_word(w: u64) -> u64 {
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
pub(super) struct TextTable {
    pub(super) fold: bool,
    map: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    spill: Vec<Entry>,
}

/// A key and its rules, ascending.
type Entry = (Box<[u8]>, Vec<u32>);

impl TextTable {
    pub(super) fn new(fold: bool) -> Self {
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

    pub(super) fn add(&mut self, key: &[u8], rule: u32) {
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
    pub(super) fn get(&self, key: &[u8]) -> &[u32] {
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

    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
