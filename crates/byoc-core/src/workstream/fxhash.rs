//! A small, fast, non-cryptographic hasher for the router's maps (the Fx hash of rustc).
//! Keys are member ids and queue names the operator configures, not attacker input, so
//! HashDoS resistance is not needed and SipHash's cost is not worth paying per member.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The Fx hasher.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

/// One step of the Fx hash: folds `word` into `hash`. The rule index's text hash uses it too.
#[inline]
pub(crate) fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(SEED)
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = mix(self.hash, word);
    }
}

impl Hasher for FxHasher {
    /// Whole words, the last one overlapping the one before when the length is not a
    /// multiple of 8 (no variable-length copy); shorter input in 4-, 2- or 1-byte pieces.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        if n >= 8 {
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                self.add(le64(chunk));
            }
            if !chunks.remainder().is_empty() {
                self.add(le64(&bytes[n - 8..]));
            }
        } else if n >= 4 {
            self.add(u64::from(le32(&bytes[..4])) | u64::from(le32(&bytes[n - 4..])) << 32);
        } else if n >= 2 {
            self.add(u64::from(le16(&bytes[..2])) | u64::from(le16(&bytes[n - 2..])) << 16);
        } else if let Some(&b) = bytes.first() {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

fn le64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().unwrap_or_default())
}

fn le16(bytes: &[u8]) -> u16 {
    u16::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// Builds [`FxHasher`]s.
pub(crate) type FxBuildHasher = BuildHasherDefault<FxHasher>;
