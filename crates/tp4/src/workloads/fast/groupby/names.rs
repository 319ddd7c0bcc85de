//! How the groupby ladder interns city and category names: a map from byte strings
//! (rungs 1 and 2, [`MapNames`]), then an open-addressing table keyed by the name's
//! bytes packed in two integers (rung 3 on, [`PackedNames`]): one multiplication to
//! hash and one integer comparison instead of hashing and comparing a byte string.

// The ladder's shared items (names, totals, readers) are the parent module's.
use super::*;

/// Interns names: the same bytes always give the same index, from 0.
pub trait Names: Default + Send {
    /// The index of `name`, added if new.
    fn index(&mut self, name: &[u8]) -> usize;
    /// The names in index order.
    fn names(&self) -> &[Box<[u8]>];
}

/// Rung 1 and 2's interning: a map from byte strings.
#[derive(Debug, Default)]
pub struct MapNames {
    pub(super) map: FxHashMap<Box<[u8]>, usize>,
    pub(super) list: Vec<Box<[u8]>>,
}

impl Names for MapNames {
    #[inline]
    fn index(&mut self, name: &[u8]) -> usize {
        if let Some(&i) = self.map.get(name) {
            return i;
        }
        let i = self.list.len();
        self.list.push(name.into());
        self.map.insert(name.into(), i);
        i
    }

    fn names(&self) -> &[Box<[u8]>] {
        &self.list
    }
}

/// Below this many slots (24 bytes each: 96 KiB), a names table grows whenever a
/// name does not land in its home slot, until every name does (see [`PackedNames`]).
pub(super) const SPARSE: usize = 4096;

/// Rung 3's interning: names of up to 16 bytes keyed by their packed bytes and length
/// in an open-addressing table (64 slots to start, at most half full), longer ones in
/// a map from byte strings. Below [`SPARSE`] slots, a name that does not land in its
/// home slot makes the table double and change its hash multiplier until none is
/// displaced: with the fixed hash, 2 of the 20 generated cities shared a home slot
/// at every size, and the branch that finds them one slot further was mispredicted
/// on a tenth of the rows (rung `lignes`, median of 15 in-process runs, 8 times
/// interleaved: 60.5 → 58.0 ms). `LOADED` chooses how a name is packed: `false` for
/// [`pack16`] (rung 3), `true` for the masked 16-byte load of rung 5
/// ([`simd::LoadedNames`]); one table always uses one layout.
#[derive(Debug)]
pub struct PackedNames<const LOADED: bool = false> {
    /// (low 8 bytes, high 8 bytes, length + 1 or 0 when empty, index) per slot.
    pub(super) slots: Vec<(u64, u64, u32, u32)>,
    pub(super) used: usize,
    /// The odd multiplier of [`PackedNames::home`]: changed when the table is rebuilt
    /// because names share a home slot (at every size, a fixed hash keeps two names
    /// whose hash bits agree in the same slot).
    pub(super) mult: u64,
    pub(super) long: FxHashMap<Box<[u8]>, usize>,
    pub(super) list: Vec<Box<[u8]>>,
}

impl<const LOADED: bool> Default for PackedNames<LOADED> {
    fn default() -> PackedNames<LOADED> {
        PackedNames {
            slots: vec![(0, 0, 0, 0); 64],
            used: 0,
            mult: 0x9E37_79B9_7F4A_7C15,
            long: FxHashMap::default(),
            list: Vec::new(),
        }
    }
}

/// A name of at most 16 bytes as two words that, with its length, identify it: the
/// first and the last 8 bytes (overlapping) from 8 bytes up, the first and last 4
/// from 4 bytes up, the bytes themselves below. Fixed-size loads only: the first
/// version copied each name into a zeroed buffer (a variable-length `memcpy` call per
/// name) and measured slower than the map lookup it replaced.
#[inline(always)]
pub(super) fn pack16(name: &[u8]) -> (u64, u64) {
    let n = name.len();
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let half = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().expect("4 bytes")));
    if n >= 8 {
        (word(&name[..8]), word(&name[n - 8..]))
    } else if n >= 4 {
        (half(&name[..4]) | half(&name[n - 4..]) << 32, 0)
    } else {
        (name.iter().fold(0, |a, &b| a << 8 | u64::from(b)), 0)
    }
}

impl<const LOADED: bool> PackedNames<LOADED> {
    #[inline(always)]
    pub(super) fn home(&self, lo: u64, hi: u64, len: u32) -> usize {
        let h = (lo ^ hi.rotate_left(31) ^ u64::from(len)).wrapping_mul(self.mult);
        (h >> 40) as usize & (self.slots.len() - 1)
    }

    /// The index of a name longer than 16 bytes (rare: a map from byte strings).
    #[inline(never)]
    pub(super) fn long_index(&mut self, name: &[u8]) -> usize {
        if let Some(&i) = self.long.get(name) {
            return i;
        }
        let i = self.list.len();
        self.list.push(name.into());
        self.long.insert(name.into(), i);
        i
    }

    #[inline(never)]
    pub(super) fn insert(&mut self, slot: usize, name: &[u8], key: (u64, u64, u32)) -> usize {
        let index = self.list.len();
        self.list.push(name.into());
        self.slots[slot] = (key.0, key.1, key.2, index as u32);
        self.used += 1;
        let displaced = slot != self.home(key.0, key.1, key.2);
        if displaced && self.slots.len() < SPARSE {
            // Bigger and hashed anew (another odd multiplier) until no name is
            // displaced, or the table is SPARSE slots.
            let mut len = self.slots.len();
            loop {
                len *= 2;
                self.mult = self.mult.wrapping_add(0x6A09_E667_F3BC_C908);
                if !self.rebuild(len) || len >= SPARSE {
                    break;
                }
            }
        } else if 2 * self.used > self.slots.len() {
            self.rebuild(2 * self.slots.len());
        }
        index
    }

    /// Puts every name back into a table of `len` slots; whether one of them is not
    /// in its home slot.
    pub(super) fn rebuild(&mut self, len: usize) -> bool {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0, 0); len]);
        let mut displaced = false;
        for s in old.into_iter().filter(|s| s.2 != 0) {
            let home = self.home(s.0, s.1, s.2);
            let mut i = home;
            while self.slots[i].2 != 0 {
                i = (i + 1) & (len - 1);
            }
            displaced |= i != home;
            self.slots[i] = s;
        }
        displaced
    }

    /// The index of `name` (at most 16 bytes) whose packed words `(lo, hi)` the
    /// caller computed in this table's layout; added if new.
    #[inline(always)]
    pub fn index_key(&mut self, name: &[u8], lo: u64, hi: u64) -> usize {
        let len = name.len() as u32 + 1;
        let mut i = self.home(lo, hi, len);
        loop {
            let s = self.slots[i];
            if s.0 == lo && s.1 == hi && s.2 == len {
                return s.3 as usize;
            }
            if s.2 == 0 {
                return self.insert(i, name, (lo, hi, len));
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
    }
}

impl<const LOADED: bool> Names for PackedNames<LOADED> {
    #[inline(always)]
    fn index(&mut self, name: &[u8]) -> usize {
        if name.len() > 16 {
            return self.long_index(name);
        }
        let (lo, hi) = if LOADED {
            simd::pack_copied(name)
        } else {
            pack16(name)
        };
        self.index_key(name, lo, hi)
    }

    fn names(&self) -> &[Box<[u8]>] {
        &self.list
    }
}
