//! The fixed, deterministic hash that routes every key of the shuffle to its reducer.
//!
//! All processes of a run, possibly on different hosts and started at different
//! times, must send a given key to the same worker, so the hash may depend on the key
//! bytes only. std's `RandomState` draws a random seed per process and would scatter
//! the same word over several reducers: we use 64-bit FNV-1a instead, a few lines of
//! arithmetic that give the same value everywhere, forever.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a offset basis (64 bits).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a prime (64 bits).
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a hash of `bytes`: the same value on every machine and every run.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The worker (0-based, among `peers`) that reduces `key`.
pub fn destination(key: &[u8], peers: usize) -> usize {
    (fnv1a(key) % peers.max(1) as u64) as usize
}

/// FNV-1a as a [`Hasher`], for the local hash maps of the reducers (deterministic
/// too, so that two runs do the same work in the same order).
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(FNV_OFFSET)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

/// A `HashMap` keyed with FNV-1a.
pub type FnvMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FnvHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fnv1a_values() {
        // Reference values of the FNV specification (64-bit FNV-1a).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn destination_is_stable_and_in_range() {
        for peers in 1..8 {
            for word in ["le", "la", "données", "calcul", ""] {
                let d = destination(word.as_bytes(), peers);
                assert!(d < peers);
                assert_eq!(d, destination(word.as_bytes(), peers));
            }
        }
        let mut h = FnvHasher::default();
        h.write(b"foobar");
        assert_eq!(h.finish(), fnv1a(b"foobar"));
    }
}
