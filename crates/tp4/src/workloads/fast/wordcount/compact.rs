//! W7 rungs 6 to 8: a counting table that fits in the L2 cache, its keys handled in
//! SSE registers, then the file mapped instead of copied.
//!
//! 6. `cases`: rung 5's table made small enough for the L2 cache: 32-bit counts
//!    instead of 64-bit, and the table kept up to three quarters full instead of
//!    half. On the generated corpus (10 000 distinct words) that is 16 384 slots of
//!    16 + 4 bytes, 320 KiB, instead of 32 768 slots of 16 + 8 bytes, 768 KiB: it now
//!    fits in this machine's 512 KiB L2 cache. A count that passes 2³² is carried
//!    into a side map, so any file gives exact counts.
//!    The profile that chose it: `perf record -e cpu-clock` on rung 5
//!    (`examples/rung.rs wordcount bits`, 100 MB corpus) put 43 % of the samples on
//!    the load of the table's key, the mark of a cache miss; cachegrind with a
//!    simulated 512 KiB last level (`--LL=524288,8,64`, 20 MB corpus) counted
//!    614 000 misses for rung 5 and 179 000 here. The time barely moves (three more
//!    instructions per word, and more probes past the first slot at three quarters
//!    full, outweigh the misses saved), but rungs 7 to 9 build on this table.
//! 7. `sse`: the key built, compared and counted in SSE registers: one 16-byte load
//!    and-ed with a mask and or-ed with the length; a slot compared by one byte-wise
//!    comparison and a `movemask` instead of two 64-bit comparisons; the number of
//!    words that end in a window counted first (`count_ones`) so the loop pops a
//!    start and an end that many times without testing `ends == 0` before each word;
//!    the total summed from the counts at the end instead of one add per word. On
//!    processors with BMI1, POPCNT, LZCNT and AVX2 (detected at run time, as memchr
//!    does), the same code compiled with them: `trailing_zeros` and `count_ones`
//!    become one instruction each (callgrind counted 22 instructions per window for
//!    `count_ones` in the baseline x86-64 build, which has no `popcnt`), and the
//!    64-byte windows classified in two AVX2 registers instead of four SSE ones. The
//!    profile that chose it (callgrind, 20 MB, on rung 6 and on a first version of
//!    this rung): the walk's tests `ends == 0` and `starts != 0` cost 7 instructions
//!    per word, comparing a 128-bit key as two 64-bit halves 9, and `count_ones`
//!    without `popcnt` 22 per window; and, once those were gone, the table's pointers
//!    and sizes reloaded through `&mut self` for every word (see [`View`]). Then
//!    from the disassembly (`objdump -d` of `add_text_bmi`) and cachegrind's line
//!    counts: the key's halves taken out of the register to be hashed (5
//!    instructions; they are now folded in the register, see [`super::product`]),
//!    the shift by a count in `cl` (BMI2's `shrx` needs no `cl`), the test "16 bytes
//!    left to load?" made for every word though it only fails in a block's last
//!    window (now once per window, see [`for_each_word_counted`]), and the 11 % of
//!    lookups that miss their first slot (their branch is mispredicted): when the
//!    table grows, words are put back most frequent first, so the words that make
//!    most of a text take their home slots (mispredicted branches 720 000 →
//!    682 000). This rung spends 49 instructions per word, rung 6 82.
//! 8. `mmap`: the file mapped into memory (`mmap`, the memmap2 crate: the standard
//!    wrapper, used by ripgrep) and scanned in place from its first byte, instead of
//!    copied block by block into a buffer by `read`. Under `perf`, rung 5 spent 12 %
//!    of its time in the kernel's copy (`_copy_to_iter`, `filemap_get_read_batch`),
//!    and the copy's 100 MB of writes pass through the cache the table lives in
//!    (measured: 0.142 s → 0.126 s, the kernel's share gone). The
//!    known limit of a mapping: if another program shortens the file while it is
//!    read, the process is stopped by SIGBUS (ripgrep has the same); the lab's own
//!    files are not written during a measurement.
//!
//! Rung 9 (`optimise`, in the parent module) runs rung 8 on every worker, one table
//! per worker.

#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use super::KEY_MASKS;
use super::{add_long, for_each_word_bits, load_key_table, unpack, PACKED_MAX};
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use crate::cpu::Avx2Token;
use crate::cpu::Level;
use crate::error::Result;
use crate::workloads::wordcount::WordCount;
use rustc_hash::FxHashMap;
use std::path::Path;

/// The table's pointers and sizes, read once for a whole block and again only after
/// an insertion (which may grow the table): the hot loop of rungs 7 to 9 then does
/// not reload them from the table for every word, as it must through `&mut self`.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    not(all(target_arch = "x86_64", not(feature = "sans-simd"))),
    allow(dead_code)
)]
struct View {
    keys: *const u128,
    counts: *mut u32,
    mask: usize,
    shift: u32,
}

/// The counting table of rungs 6 to 9: words of up to [`PACKED_MAX`] bytes as packed
/// keys (rung 2's layout: the bytes, the length in byte 15) with 32-bit counts in a
/// parallel array (open addressing, linear probing, a power-of-two size kept at
/// most three quarters full, key 0 marks an empty slot); longer words by bytes.
#[derive(Debug)]
pub struct Compact {
    keys: Vec<u128>,
    /// 64 − log2(slots): a key's home slot is the top bits of its hash product.
    shift: u32,
    counts: Vec<u32>,
    len: usize,
    /// Multiples of 2³² carried out of a slot's 32-bit count.
    carried: FxHashMap<u128, u64>,
    /// Words of more than [`PACKED_MAX`] bytes.
    long: FxHashMap<Box<[u8]>, u64>,
}

impl Default for Compact {
    fn default() -> Compact {
        Compact::with_slots(1 << 12)
    }
}

impl Compact {
    fn with_slots(slots: usize) -> Compact {
        Compact {
            shift: 64 - slots.trailing_zeros(),
            keys: vec![0; slots],
            counts: vec![0; slots],
            len: 0,
            carried: FxHashMap::default(),
            long: FxHashMap::default(),
        }
    }

    /// The slot where the search for the key of halves `low` and `high` starts.
    #[inline(always)]
    fn home(&self, low: u64, high: u64) -> usize {
        (super::product(low, high) >> self.shift) as usize
    }

    /// The table as [`add_one_sse`](Compact::add_one_sse) reads it.
    fn view(&mut self) -> View {
        View {
            keys: self.keys.as_ptr(),
            counts: self.counts.as_mut_ptr(),
            mask: self.keys.len() - 1,
            shift: self.shift,
        }
    }

    /// Counts one occurrence of a packed key (rung 6's hot path).
    #[inline(always)]
    fn add_one(&mut self, key: u128) {
        self.add_many(key, 1);
    }

    /// Adds `n` occurrences of a packed key (counting, merging and growing).
    #[inline(always)]
    fn add_many(&mut self, key: u128, n: u64) {
        let mask = self.keys.len() - 1;
        let mut i = self.home(key as u64, (key >> 64) as u64);
        loop {
            let k = self.keys[i];
            if k == key {
                let sum = u64::from(self.counts[i]) + n;
                self.counts[i] = sum as u32;
                if sum >> 32 > 0 {
                    self.carry(key, sum >> 32 << 32);
                }
                return;
            }
            if k == 0 {
                self.insert_at(i, key, n);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Keeps the part of a count that does not fit in 32 bits.
    #[inline(never)]
    fn carry(&mut self, key: u128, n: u64) {
        *self.carried.entry(key).or_insert(0) += n;
    }

    /// Fills an empty slot, growing the table past three quarters full.
    #[inline(never)]
    fn insert_at(&mut self, i: usize, key: u128, n: u64) {
        self.keys[i] = key;
        self.counts[i] = n as u32;
        self.len += 1;
        if n >> 32 > 0 {
            self.carry(key, n >> 32 << 32);
        }
        if 4 * self.len > 3 * self.keys.len() {
            let slots = 2 * self.keys.len();
            self.shift -= 1;
            let keys = std::mem::replace(&mut self.keys, vec![0; slots]);
            let counts = std::mem::replace(&mut self.counts, vec![0; slots]);
            self.len = 0;
            let mut words: Vec<(u32, u128)> = counts
                .into_iter()
                .zip(keys)
                .filter(|&(_, k)| k != 0)
                .collect();
            // Most frequent first: each takes its home slot unless a more frequent
            // word has it, so the words that make most of a text are found at the
            // first probe, with no mispredicted branch.
            words.sort_unstable_by_key(|&(count, _)| std::cmp::Reverse(count));
            for (c, k) in words {
                // Counts already carried stay in `carried`: re-add the low part.
                self.add_many(k, u64::from(c));
            }
        }
    }

    /// Counts the words of a block of text (rung 6): rung 5's walk over the start
    /// and end masks and rung 5's keys.
    pub fn add_text(&mut self, block: &[u8]) {
        for_each_word_bits(block, |s, e| {
            if e - s <= PACKED_MAX {
                self.add_one(load_key_table(block, s, e));
            } else {
                add_long(&mut self.long, &block[s..e]);
            }
        });
    }

    /// Counts the words of a block of text (rungs 7 to 9): the words found as in
    /// [`for_each_word_counted`], each key built, compared and counted in an SSE
    /// register ([`Compact::add_one_sse`]), at the level the lab uses
    /// ([`crate::cpu::level`]).
    pub fn add_text_sse(&mut self, block: &[u8]) {
        self.add_text_sse_at(crate::cpu::level(), block);
    }

    /// [`Compact::add_text_sse`] at an explicit vector level (at most the
    /// machine's): compiled for AVX2 and BMI with an [`Avx2Token`]
    /// ([`Compact::add_text_bmi`]), SSE2 only at `sse2`
    /// ([`Compact::add_text_sse_baseline`]), and with no vector instruction at all
    /// at `scalaire` (rung 6's scalar window test, keys compared in memory): the
    /// same counts at every level.
    pub fn add_text_sse_at(&mut self, level: Level, block: &[u8]) {
        #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
        if let Some(token) = Avx2Token::at(level) {
            // SAFETY: the token proves BMI1, BMI2, POPCNT, LZCNT and AVX2.
            return unsafe { self.add_text_bmi(token, block) };
        }
        if level >= Level::Sse2 {
            self.add_text_sse_baseline(block);
        } else {
            self.add_text_with::<false>(block, super::ascii_window_mask_scalar);
        }
    }

    /// [`Compact::add_text_sse`] compiled for processors with BMI1, POPCNT, LZCNT and
    /// AVX2 (all x86-64 processors since 2013–2015): `trailing_zeros`, `count_ones`
    /// and `leading_zeros` become one instruction each (`tzcnt`, `popcnt`, `lzcnt`)
    /// instead of a sequence, and the SSE code uses the three-operand VEX forms (no
    /// register copies).
    ///
    /// # Safety
    /// None beyond the token, which proves the features (the function is `unsafe`
    /// only because of its `target_feature`).
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    #[target_feature(enable = "bmi1,bmi2,popcnt,lzcnt,avx2")]
    unsafe fn add_text_bmi(&mut self, _token: Avx2Token, block: &[u8]) {
        // SAFETY: AVX2 is enabled in this function, and so in its closures.
        self.add_text_with::<true>(block, |w| unsafe { ascii_window_mask_avx2(w) });
    }

    /// [`Compact::add_text_sse`] for the baseline x86-64 (SSE2 only) and, through
    /// rung 6's scalar lookup, for other processors.
    #[inline(always)]
    fn add_text_sse_baseline(&mut self, block: &[u8]) {
        self.add_text_with::<true>(block, super::ascii_window_mask);
    }

    /// The body of [`Compact::add_text_sse`], ASCII windows classified by `ascii`,
    /// short words counted in an SSE register when `SSE` (x86-64 only), through
    /// [`Compact::add_any`] otherwise.
    #[inline(always)]
    #[cfg_attr(
        not(all(target_arch = "x86_64", not(feature = "sans-simd"))),
        allow(unused_variables, unused_mut)
    )]
    fn add_text_with<const SSE: bool>(
        &mut self,
        block: &[u8],
        ascii: impl Fn(&[u8; 64]) -> Option<u64> + Copy,
    ) {
        let len = block.len();
        let mut view = self.view();
        for_each_word_counted(block, ascii, |s, e, room| {
            #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
            if SSE && e - s <= PACKED_MAX && (room || s + 16 <= len) {
                // SAFETY: the 16 bytes from `s` are inside `block` (tested above);
                // `view` is this table's, refreshed after every insertion.
                unsafe { self.add_one_sse(&mut view, block.as_ptr().add(s), e - s) };
                return;
            }
            self.add_any(block, s, e);
        });
    }

    /// Counts one occurrence of the word of `len` bytes (at most [`PACKED_MAX`]) at
    /// `word`, 16 bytes of which can be read: its key is built in a register (one
    /// load, an `and` and an `or` with the constants of [`KEY_MASKS`]); a slot is
    /// compared with it by one byte-wise comparison and a `movemask`; the count is
    /// one 32-bit add to memory, its carry tested.
    ///
    /// # Safety
    /// The 16 bytes from `word` must be readable.
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    #[inline(always)]
    unsafe fn add_one_sse(&mut self, view: &mut View, word: *const u8, len: usize) {
        use std::arch::x86_64::*;
        let (keep, length) = &KEY_MASKS[len];
        // SAFETY: the caller gives 16 readable bytes; `u128` constants and keys are
        // 16-byte aligned, as the aligned loads require; `i` stays below the table's
        // length (masked by `len - 1`, the length a power of two).
        unsafe {
            let key = _mm_or_si128(
                _mm_and_si128(
                    _mm_loadu_si128(word.cast()),
                    _mm_load_si128((keep as *const u128).cast()),
                ),
                _mm_load_si128((length as *const u128).cast()),
            );
            // The halves folded in the register: `product` without taking them out.
            let folded = _mm_cvtsi128_si64(_mm_xor_si128(key, _mm_unpackhi_epi64(key, key)));
            let mut i = (super::fold_product(folded as u64) >> view.shift) as usize;
            let whole = || std::mem::transmute::<__m128i, u128>(key);
            loop {
                let slot = _mm_load_si128(view.keys.add(i).cast());
                if _mm_movemask_epi8(_mm_cmpeq_epi8(slot, key)) == 0xFFFF {
                    let count = &mut *view.counts.add(i);
                    let (n, wrapped) = count.overflowing_add(1);
                    *count = n;
                    if wrapped {
                        self.carry(whole(), 1 << 32);
                    }
                    return;
                }
                if *view.keys.add(i) == 0 {
                    self.insert_at(i, whole(), 1);
                    *view = self.view(); // the table may have grown
                    return;
                }
                i = (i + 1) & view.mask;
            }
        }
    }

    /// Counts a word off the fast path: one near the end of the block (fewer than 16
    /// bytes left to load), or longer than [`PACKED_MAX`] bytes.
    #[inline(never)]
    fn add_any(&mut self, block: &[u8], s: usize, e: usize) {
        if e - s <= PACKED_MAX {
            self.add_one(load_key_table(block, s, e));
        } else {
            add_long(&mut self.long, &block[s..e]);
        }
    }

    /// Merges another table into this one (integer keys, no byte comparison).
    pub fn merge(mut self, other: Compact) -> Compact {
        for (k, c) in other.keys.into_iter().zip(other.counts) {
            if k != 0 {
                self.add_many(k, u64::from(c));
            }
        }
        for (k, n) in other.carried {
            self.carry(k, n);
        }
        for (w, c) in other.long {
            *self.long.entry(w).or_insert(0) += c;
        }
        self
    }

    /// The counts as the lab's [`WordCount`]; the total is their sum.
    pub fn into_word_count(self) -> WordCount {
        let mut wc = WordCount::default();
        wc.counts.reserve(self.len + self.long.len());
        for (k, c) in self.keys.into_iter().zip(self.counts) {
            if k != 0 {
                let n = u64::from(c) + self.carried.get(&k).copied().unwrap_or(0);
                wc.counts.insert(unpack(k).into(), n);
            }
        }
        wc.counts.extend(self.long);
        wc.total = wc.counts.values().sum();
        wc
    }
}

/// Calls `f(start, end, room)` for each word of `block`: rung 5's start and end
/// masks, but the number of words that end in a window is counted first
/// (`count_ones`), so that the loop pops a start and an end that many times without
/// testing, word by word, whether one is left (rung 5 tested `ends == 0` before each
/// word). `room` is true when the block has 16 bytes to load from `start`: it is
/// known for a whole window (all but the last of a block), so the loop is written
/// twice, once with `room` a constant `true` the compiler folds away.
#[inline(always)]
fn for_each_word_counted(
    block: &[u8],
    ascii: impl Fn(&[u8; 64]) -> Option<u64> + Copy,
    mut f: impl FnMut(usize, usize, bool),
) {
    let (mut skip, mut base) = (0usize, 0usize);
    let mut carry = 1u64; // 1 when the byte before the window is white
    let mut open: Option<usize> = None; // the start of a word still open
    while base < block.len() {
        let white = super::white_mask_with(block, base, &mut skip, ascii);
        let mut starts = !white & (white << 1 | carry);
        let mut ends = white & (!white << 1 | (carry ^ 1));
        carry = white >> 63;
        if let Some(s) = open {
            if ends == 0 {
                base += 64;
                continue; // the word runs through the whole window
            }
            f(s, base + ends.trailing_zeros() as usize, false);
            ends &= ends - 1;
        }
        let n = ends.count_ones();
        if base + 64 + 16 <= block.len() {
            pop_words(n, &mut starts, &mut ends, base, true, &mut f);
        } else {
            pop_words(n, &mut starts, &mut ends, base, false, &mut f);
        }
        open = (starts != 0).then(|| base + starts.trailing_zeros() as usize);
        base += 64;
    }
    if let Some(s) = open {
        f(s, block.len(), false);
    }
}

/// The inner loop of [`for_each_word_counted`]: pops `n` words off the start and end
/// masks of the window at `base`, calling `f(start, end, room)`.
#[inline(always)]
fn pop_words(
    n: u32,
    starts: &mut u64,
    ends: &mut u64,
    base: usize,
    room: bool,
    f: &mut impl FnMut(usize, usize, bool),
) {
    for _ in 0..n {
        let (s, e) = (starts.trailing_zeros(), ends.trailing_zeros());
        *starts &= *starts - 1;
        *ends &= *ends - 1;
        f(base + s as usize, base + e as usize, room);
    }
}

/// [`super::ascii_window_mask`] with AVX2: the 64 bytes in two 32-byte registers
/// instead of four 16-byte ones.
///
/// # Safety
/// The processor must support AVX2.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn ascii_window_mask_avx2(window: &[u8; 64]) -> Option<u64> {
    use std::arch::x86_64::*;
    let (mut white, mut high) = (0u64, 0u64);
    for h in 0..2 {
        // SAFETY: the load reads 32 of the 64 bytes of `window`.
        let v = unsafe { _mm256_loadu_si256(window.as_ptr().add(32 * h).cast()) };
        let space = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b' ' as i8));
        let t = _mm256_sub_epi8(v, _mm256_set1_epi8(9));
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(t, _mm256_set1_epi8(4)), t);
        white |=
            u64::from(_mm256_movemask_epi8(_mm256_or_si256(space, control)) as u32) << (32 * h);
        high |= u64::from(_mm256_movemask_epi8(v) as u32) << (32 * h);
    }
    (high == 0).then_some(white)
}

/// Counts the words of `path` into a [`Compact`] table, the file read by `read`: the
/// shape shared by rungs 6 and 7.
fn count(path: &Path, read: fn(&Path, &mut Compact) -> Result<()>) -> Result<WordCount> {
    let mut t = Compact::default();
    read(path, &mut t)?;
    Ok(t.into_word_count())
}

/// Rung 6: rung 5 with the compact table, file read block by block.
pub fn cases(path: &Path) -> Result<WordCount> {
    count(path, |path, t| {
        super::read_blocks(path, 0..super::file_len(path)?, |b| t.add_text(b))
    })
}

/// Rung 7: rung 6 with the keys compared in SSE registers.
pub fn sse(path: &Path) -> Result<WordCount> {
    count(path, |path, t| {
        super::read_blocks(path, 0..super::file_len(path)?, |b| t.add_text_sse(b))
    })
}

/// Rung 8: rung 7 on the mapped file.
pub fn mapped(path: &Path) -> Result<WordCount> {
    count(path, |path, t| {
        let map = crate::workloads::fast::mapped::map(path)?;
        let skip = match super::checked_text(path, 0, &map) {
            Ok(skip) => skip,
            Err(e) => {
                // A file shortened while it was checked reads as zeros: say so first.
                map.check()?;
                return Err(e);
            }
        };
        t.add_text_sse(&map[skip..]);
        map.check()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_past_32_bits_is_carried_exactly() {
        let mut t = Compact::default();
        let key = super::super::pack(b"mot");
        t.add_many(key, u64::from(u32::MAX) - 1);
        t.add_one(key);
        t.add_one(key); // wraps the slot's count
        t.add_one(key);
        t.add_many(key, 5 << 32);
        let wc = t.into_word_count();
        let n = u64::from(u32::MAX) + 2 + (5 << 32);
        assert_eq!(wc.counts[&b"mot"[..]], n);
        assert_eq!(wc.total, n);
    }

    #[test]
    fn the_sse_path_carries_past_32_bits_too() {
        let mut t = Compact::default();
        t.add_many(super::super::pack(b"mot"), u64::from(u32::MAX));
        t.add_text_sse("mot mot                 \n".as_bytes());
        assert_eq!(
            t.into_word_count().counts[&b"mot"[..]],
            u64::from(u32::MAX) + 2
        );
    }

    #[test]
    fn growing_gives_the_frequent_words_their_home_slots() {
        let mut t = Compact::default();
        let key = |w: String| super::super::pack(w.as_bytes());
        // Rare words first, then frequent ones, then rare ones until the table
        // grows (past 3 072 words in 4 096 slots).
        for i in 0..2800 {
            t.add_one(key(format!("rare{i}")));
        }
        let hot: Vec<u128> = (0..200).map(|i| key(format!("hot{i}"))).collect();
        for &k in &hot {
            t.add_many(k, 100);
        }
        for i in 2800..3100 {
            t.add_one(key(format!("rare{i}")));
        }
        assert!(t.counts.len() > 4096, "the table has grown");
        for &k in &hot {
            let home = t.home(k as u64, (k >> 64) as u64);
            let resident = t.keys[home];
            assert!(
                resident == k || hot.contains(&resident),
                "a rare word holds the home slot of a frequent one"
            );
        }
    }

    #[test]
    fn growing_keeps_every_count() {
        let mut t = Compact::default();
        let text: String = (0..20_000).map(|i| format!("m{i} m{} ", i % 7)).collect();
        t.add_text(text.as_bytes());
        let mut u = Compact::default();
        u.add_text_sse(text.as_bytes());
        let sevens = (0..20_000).filter(|i| i % 7 == 3).count() as u64;
        for wc in [t.into_word_count(), u.into_word_count()] {
            assert_eq!(wc.total, 40_000);
            assert_eq!(wc.counts[&b"m3"[..]], 1 + sevens);
            assert_eq!(wc.counts[&b"m19999"[..]], 1);
        }
    }
}
