//! Ranking keys: one 64-bit number per human and queue, larger is better, 0 when the human
//! cannot take work, so that a tournament tree compares agents with one comparison.
//!
//! From the most significant bits down: the queue's sort keys in order (free capacity,
//! fewest conversations and round-robin turn 16 bits each, idle time 32 bits: at most 48
//! bits together), then the human's rank by id in 16 bits (the tie-break). Values past a
//! field's width saturate: more than 65 535 free units rank as 65 535; round-robin turns are
//! renumbered per queue before they run out.

use super::assignment::SortKey;

/// A ranking key.
pub(crate) type Key = u64;

/// The bits the sort keys may take together.
pub(crate) const FIELD_BITS: u32 = 48;

/// The largest round-robin turn a key holds.
pub(crate) const MAX_TURN: u32 = u16::MAX as u32;

/// The most humans a queue may list: ranks take 16 bits.
pub(crate) const MAX_HUMANS: usize = u16::MAX as usize + 1;

/// How many bits a sort key takes.
#[inline]
pub(crate) fn width(key: SortKey) -> u32 {
    match key {
        SortKey::LongestIdle => 32,
        _ => 16,
    }
}

/// The bits the sort keys take together.
#[inline]
pub(crate) fn bits(keys: &[SortKey]) -> u32 {
    keys.iter().map(|&k| width(k)).sum()
}

/// Each sort key with its field's shift (from bit 0) and width.
#[inline]
pub(crate) fn fields(keys: &[SortKey]) -> impl Iterator<Item = (SortKey, u32, u32)> + '_ {
    let mut top = 64;
    keys.iter().map(move |&k| {
        let w = width(k);
        top -= w;
        (k, top, w)
    })
}

/// A field's value in a key.
#[inline]
pub(crate) fn field(key: Key, shift: u32, width: u32) -> u32 {
    ((key >> shift) & ((1u64 << width) - 1)) as u32
}

/// The rank a key carries (its tie-break).
#[inline]
pub(crate) fn rank(key: Key) -> usize {
    usize::from(u16::MAX - key as u16)
}

/// The rank's bits for a human of rank `rank`.
#[inline]
pub(crate) fn rank_bits(rank: u32) -> Key {
    Key::from(u16::MAX - u16::try_from(rank).unwrap_or(u16::MAX))
}
