//! W7 wordcount, the optimisation ladder. The workload does not change: read
//! `corpus.txt` from its first byte (inside the timing), count every word as
//! [`crate::data::words`] defines it (Unicode white space separates words), and give
//! the same total, distinct count, counts and top-10 as the plain kernel.
//!
//! 1. `plain`: the textbook kernel: the splitter of [`crate::data::words`] and a map
//!    from byte strings to counts (FxHash, looked up by `&[u8]` so a known word costs
//!    no allocation). `perf record` on the lab's kernel of this shape (the profile
//!    quoted in `workloads/wordcount.rs`) showed a third of the time in `memcmp` (each
//!    lookup confirms the match byte by byte) and a tenth hashing byte slices.
//! 2. `packed`: words of up to 15 bytes (all of the generated corpus's) packed into a
//!    `u128` key (bytes, then the length in the top byte) while they are scanned, as
//!    `workloads/wordcount.rs` does: comparing keys is one integer comparison, hashing
//!    two multiplications. Longer words keep a byte-string map.
//! 3. `simd`: separators found 16 bytes at a time with SSE2 (compare with space,
//!    compare with the range \t..\r, `movemask` into a 64-bit mask per 64 bytes), words
//!    read off the mask with `trailing_zeros`; each key is one unaligned 16-byte load,
//!    masked to the word's length. Rung 2 still spends a test, a table lookup and a
//!    branch per byte (and builds each key byte by byte); here it is a few instructions
//!    per 16 bytes plus a few per word: the measured time drops by two thirds. A 64-byte window holding a byte ≥ 0x80 is classified
//!    with the scalar splitter (multi-byte white spaces), so any text gives the same
//!    words; the ASCII corpus never takes that path. memchr does not fit: it finds up
//!    to three given bytes, a word separator is one of six.
//! 4. `table`: the standard hash map replaced by an open-addressing table made for
//!    these keys (power-of-two size, linear probing, key 0 marks an empty slot, counts
//!    in a parallel array): one multiplication to hash, usually one probe, instead of
//!    hashbrown's generic hashing and group probing.
//! 5. `bits`: the words read off two masks per 64 bytes, their starts
//!    (`!white & white << 1`) and their ends (`white & !white << 1`), which alternate:
//!    two `trailing_zeros` per word and no branch on a scan state; the key cut to the
//!    word's length by a table of masks instead of a variable 128-bit shift.
//! 6. `cases`, 7. `sse`, 8. `mmap` (in [`compact`]): a table that fits in the L2
//!    cache, its keys built, compared and counted in SSE registers, then the file
//!    mapped into memory instead of copied.
//! 9. `optimise`: rung 8 on `workers` threads, one table per worker, over many
//!    line-aligned ranges of the mapped file handed out by a shared counter (map +
//!    combine); the tables merged by integer key (reduce), the words turned into byte
//!    strings once at the end.
//!
//! Every profile below was taken on `examples/rung.rs`, which runs one rung once
//! (`cargo build --release -p tp4 --example rung`, then e.g. `valgrind
//! --tool=callgrind ./target/release/examples/rung wordcount table
//! data/bench/corpus-20mo.txt`): callgrind and cachegrind count instructions, cache
//! misses and mispredicted branches exactly, which stays steady on this shared
//! machine where times do not.
//!
//! The profile that chose rung 5 (callgrind on the first 24 MB of the corpus): rung 4
//! spent 97 instructions per word, 14 % of them on the line building the key
//! (`(1u128 << 8 * len) - 1`: a variable shift of a 128-bit integer compiles to
//! branches and double-word shifts) and a third in the walk over the mask
//! (`if let Some(start)`, `rest == 0`, `e >= width`: a scan state tested at every
//! word boundary). Rung 5 spends 79 per word; its thread CPU time fell by half, more
//! than its instructions, because the branches of the scan state were the
//! mispredicted ones. The profiles that chose rungs 6 to 8 are in [`compact`].
//!
//! The measured times and cachegrind counts of every rung are in
//! `docs/optimisation.md`. What they teach: time follows instructions while they
//! dominate (rungs 1 to 5); `cases` saves cache misses but no time alone; `sse` cuts
//! 40 % of the instructions and a fifth of the time. What is left is the copy of the
//! file (removed by `mmap`) and the mispredicted branches, one per 64-byte window
//! (how many words does it hold?) and one for the 11 % of lookups whose word is not
//! in its first slot, about 15 cycles each.
//!
//! The Unicode word definition is unchanged in every rung: a 64-byte window holding
//! a byte ≥ 0x80 is classified by the scalar splitter, as in rung 3.

mod compact;

use super::{mapped, Rung};
use crate::data::{chunks, words};
use crate::error::{Error, Result};
use crate::workloads::wordcount::WordCount;
pub use compact::Compact;
use rustc_hash::FxHashMap;
use std::path::Path;

/// The signature of every rung: (corpus path, workers) → counts.
pub type Kernel = fn(&Path, usize) -> Result<WordCount>;

/// The rungs, plain kernel first, top rung (parallel) last.
pub fn ladder() -> Vec<Rung<Kernel>> {
    vec![
        Rung {
            name: "plain",
            changed: "noyau simple : découpage octet par octet, table de chaînes d'octets",
            why: "référence",
            parallel: false,
            run: |p, _| plain(p),
        },
        Rung {
            name: "packed",
            changed: "mots de ≤ 15 octets rangés dans un entier de 128 bits pendant la lecture",
            why: "moins d'instructions : comparer et hacher un entier au lieu d'une chaîne (plus de memcmp)",
            parallel: false,
            run: |p, _| packed(p),
        },
        Rung {
            name: "simd",
            changed: "séparateurs trouvés 16 octets à la fois (SSE2), clé lue en un seul chargement",
            why: "voies vectorielles : quelques instructions par 16 octets au lieu de plusieurs par octet",
            parallel: false,
            run: |p, _| simd(p),
        },
        Rung {
            name: "table",
            changed: "table de hachage à adressage ouvert faite pour ces clés",
            why: "moins d'instructions et d'accès mémoire par mot : une multiplication, une case en général",
            parallel: false,
            run: |p, _| table(p),
        },
        Rung {
            name: "bits",
            changed: "mots lus sur deux masques (débuts, fins) par 64 octets, clé coupée par une table de masques",
            why: "moins d'instructions et de branches : deux trailing_zeros par mot, plus de décalage de 128 bits variable",
            parallel: false,
            run: |p, _| bits(p),
        },
        Rung {
            name: "cases",
            changed: "table plus petite : comptes sur 32 bits, remplie jusqu'aux trois quarts",
            why: "moins de défauts de cache : 320 Kio au lieu de 768, la table tient dans le cache L2 (mais un peu plus d'instructions : le temps bouge peu)",
            parallel: false,
            run: |p, _| compact::cases(p),
        },
        Rung {
            name: "sse",
            changed: "clé construite et comparée dans un registre SSE, mots de chaque fenêtre comptés (popcount) avant la boucle, instructions BMI/AVX2 si le processeur les a",
            why: "moins d'instructions : 49 par mot au lieu de 82 (une comparaison vectorielle, plus de test « reste-t-il un mot ? »)",
            parallel: false,
            run: |p, _| compact::sse(p),
        },
        Rung {
            name: "mmap",
            changed: "fichier projeté en mémoire (mmap) et lu sur place au lieu d'être copié par blocs",
            why: "moins de trafic mémoire : plus de copie du noyau vers un tampon (12 % du temps)",
            parallel: false,
            run: |p, _| compact::mapped(p),
        },
        Rung {
            name: super::STRATEGY,
            changed: "le noyau précédent sur plusieurs cœurs : une table par worker, des morceaux distribués par un compteur partagé, fusion par clé entière ; chaque worker libère les pages des morceaux qu'il a comptés",
            why: "tous les cœurs lisent et comptent leur part du fichier, et se partagent la libération de la projection (au lieu d'un munmap de 8 ms sur un seul cœur à la fin)",
            parallel: true,
            run: optimise,
        },
    ]
}

/// Bytes read at a time (a quarter of this machine's L2 cache: the block stays close).
const BLOCK: usize = 1 << 18;

/// Length of the file, with a French error.
fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| Error::io("lecture de", path, e))?
        .len())
}

/// Reads the bytes of `range` from `path` in line-aligned blocks of about [`BLOCK`]
/// bytes, as the lab's grammar reads the corpus ("corpus.txt, exactly"): a
/// byte-order mark at the start of the file skipped, invalid UTF-8 refused naming its
/// line. Every rung reads through it (or [`checked_text`]), so each is exact alone.
fn text_blocks(
    path: &Path,
    range: std::ops::Range<u64>,
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let mut offset = range.start;
    chunks::for_each_block(path, range, BLOCK, |block| {
        let skip = checked_text(path, offset, block)?;
        offset += block.len() as u64;
        f(&block[skip..])
    })
}

/// Checks a line-aligned part of the corpus that starts at byte `offset` of the
/// file: UTF-8 (else the located error of
/// [`crate::workloads::wordcount::not_utf8`]); returns how many bytes to skip (3 for
/// the byte-order mark at the very start of the file, else 0).
pub fn checked_text(path: &Path, offset: u64, part: &[u8]) -> Result<usize> {
    use crate::workloads::wordcount::{not_utf8, BOM};
    let skip = if offset == 0 && part.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    if let Err(e) = std::str::from_utf8(&part[skip..]) {
        let at = skip + e.valid_up_to();
        return Err(not_utf8(path, offset + at as u64, part[at]));
    }
    Ok(skip)
}

/// Rung 1: the plain kernel.
pub fn plain(path: &Path) -> Result<WordCount> {
    let mut wc = WordCount::default();
    text_blocks(path, 0..file_len(path)?, |block| {
        for w in words::words(block) {
            wc.total += 1;
            match wc.counts.get_mut(w) {
                Some(c) => *c += 1,
                None => {
                    wc.counts.insert(w.into(), 1);
                }
            }
        }
        Ok(())
    })?;
    Ok(wc)
}

/// Longest word kept packed in a `u128` key (the 16th byte holds the length).
const PACKED_MAX: usize = 15;

/// The packed key of a word of at most [`PACKED_MAX`] bytes.
#[inline(always)]
fn pack(word: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..word.len()].copy_from_slice(word);
    bytes[15] = word.len() as u8;
    u128::from_le_bytes(bytes)
}

/// The word of a packed key.
fn unpack(key: u128) -> Vec<u8> {
    let bytes = key.to_le_bytes();
    bytes[..bytes[15] as usize].to_vec()
}

/// Counts of rung 2 and 3: packed keys in a standard map, long words apart.
#[derive(Debug, Default)]
struct PackedCounts {
    total: u64,
    packed: FxHashMap<u128, u64>,
    long: FxHashMap<Box<[u8]>, u64>,
}

impl PackedCounts {
    #[inline(always)]
    fn add(&mut self, word: &[u8], key: impl FnOnce() -> u128) {
        self.total += 1;
        if word.len() <= PACKED_MAX {
            *self.packed.entry(key()).or_insert(0) += 1;
        } else {
            add_long(&mut self.long, word);
        }
    }

    fn into_word_count(self) -> WordCount {
        let mut wc = WordCount {
            total: self.total,
            ..WordCount::default()
        };
        wc.counts.reserve(self.packed.len() + self.long.len());
        wc.counts
            .extend(self.packed.into_iter().map(|(k, c)| (unpack(k).into(), c)));
        wc.counts.extend(self.long);
        wc
    }
}

/// Counts a word longer than [`PACKED_MAX`] in its byte-string map.
#[inline(never)]
fn add_long(long: &mut FxHashMap<Box<[u8]>, u64>, word: &[u8]) {
    match long.get_mut(word) {
        Some(c) => *c += 1,
        None => {
            long.insert(word.into(), 1);
        }
    }
}

/// Rung 2: packed keys, built byte by byte while the splitter scans.
pub fn packed(path: &Path) -> Result<WordCount> {
    let mut counts = PackedCounts::default();
    text_blocks(path, 0..file_len(path)?, |block| {
        for w in words::words(block) {
            counts.add(w, || pack(w));
        }
        Ok(())
    })?;
    Ok(counts.into_word_count())
}

/// The white-space mask of the 64 bytes of `block` from `base` (bit i set when byte
/// `base + i` belongs to a white-space character), for a window where every byte is
/// below 0x80; `None` when the window holds a byte ≥ 0x80.
#[inline(always)]
fn ascii_window_mask(window: &[u8; 64]) -> Option<u64> {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    #[allow(unused_unsafe)]
    // SAFETY: SSE2 is part of x86-64; the loads read the 64 bytes of `window`.
    unsafe {
        use std::arch::x86_64::*;
        let (mut white, mut high) = (0u64, 0u64);
        for q in 0..4 {
            let v = _mm_loadu_si128(window.as_ptr().add(16 * q).cast());
            let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
            let t = _mm_sub_epi8(v, _mm_set1_epi8(9));
            let control = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t);
            white |= u64::from(_mm_movemask_epi8(_mm_or_si128(space, control)) as u16) << (16 * q);
            high |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * q);
        }
        if high != 0 {
            return None;
        }
        Some(white)
    }
    #[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
    ascii_window_mask_scalar(window)
}

/// [`ascii_window_mask`] one byte at a time, with no vector instruction: what other
/// processors run, and the `scalaire` level of [`Compact::add_text_sse_at`].
#[inline(always)]
fn ascii_window_mask_scalar(window: &[u8; 64]) -> Option<u64> {
    if !window.is_ascii() {
        return None;
    }
    Some(window.iter().enumerate().fold(0u64, |m, (i, &b)| {
        m | u64::from(words::is_ascii_white(b)) << i
    }))
}

/// The white-space mask of `block[base..end]` (at most 64 bytes) with the scalar
/// splitter; `skip` carries the bytes of a multi-byte white space that runs into the
/// next window.
#[inline(never)]
fn scalar_window_mask(block: &[u8], base: usize, end: usize, skip: &mut usize) -> u64 {
    let mut mask = 0u64;
    for i in base..end {
        if *skip > 0 {
            *skip -= 1;
            mask |= 1 << (i - base);
            continue;
        }
        let n = words::white_len(block, i);
        if n > 0 {
            mask |= 1 << (i - base);
            *skip = n - 1;
        }
    }
    mask
}

/// Calls `f(start, end)` for each word of `block`, finding separators 64 bytes at a
/// time (rungs 3 and 4).
#[inline(always)]
fn for_each_word_simd(block: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut start: Option<usize> = None;
    let mut skip = 0usize;
    let mut base = 0;
    while base < block.len() {
        let end = (base + 64).min(block.len());
        let mut white = match block[base..end].try_into() {
            Ok(window) if skip == 0 => ascii_window_mask(window),
            _ => None,
        }
        .unwrap_or_else(|| scalar_window_mask(block, base, end, &mut skip));
        let width = end - base;
        if width < 64 {
            white |= u64::MAX << width; // past the end: white
        }
        // Walk the runs of zeros (words) of the mask.
        let mut pos = 0u32;
        while pos < 64 {
            if let Some(s) = start {
                let rest = white >> pos;
                if rest == 0 {
                    break;
                }
                let e = pos + rest.trailing_zeros();
                if e as usize >= width {
                    break; // the word runs to the end of the block
                }
                f(s, base + e as usize);
                start = None;
                pos = e;
            } else {
                let rest = !white >> pos;
                if rest == 0 {
                    break;
                }
                pos += rest.trailing_zeros();
                start = Some(base + pos as usize);
            }
        }
        base = end;
    }
    if let Some(s) = start {
        f(s, block.len());
    }
}

/// The packed key of the word `block[start..end]` (at most [`PACKED_MAX`] bytes): one
/// unaligned 16-byte load, masked to the word's length.
#[inline(always)]
fn load_key(block: &[u8], start: usize, end: usize) -> u128 {
    let len = end - start;
    let v = match block.get(start..start + 16) {
        Some(b) => u128::from_le_bytes(b.try_into().expect("16 bytes")),
        None => return pack(&block[start..end]),
    };
    (v & ((1u128 << (8 * len)) - 1)) | (len as u128) << 120
}

/// The white-space mask of the window of `block` at `base` (64 bytes, or the tail,
/// past-the-end bits set): SIMD when it is ASCII, the scalar splitter otherwise.
#[inline(always)]
fn white_mask(block: &[u8], base: usize, skip: &mut usize) -> u64 {
    white_mask_with(block, base, skip, ascii_window_mask)
}

/// [`white_mask`] with the ASCII windows classified by `ascii` (e.g. an AVX2 version
/// of [`ascii_window_mask`]).
#[inline(always)]
fn white_mask_with(
    block: &[u8],
    base: usize,
    skip: &mut usize,
    ascii: impl Fn(&[u8; 64]) -> Option<u64>,
) -> u64 {
    let end = (base + 64).min(block.len());
    let white = match block[base..end].try_into() {
        Ok(window) if *skip == 0 => ascii(window),
        _ => None,
    }
    .unwrap_or_else(|| scalar_window_mask(block, base, end, skip));
    match end - base {
        64 => white,
        width => white | u64::MAX << width, // past the end: white
    }
}

/// Calls `f(start, end)` for each word of `block` (rungs 5 and 6): the words are read
/// off two masks per 64 bytes, the starts (`!white & white << 1`) and the ends
/// (`white & !white << 1`), which alternate; each word costs two `trailing_zeros`
/// and no branch on the state of a scan.
#[inline(always)]
fn for_each_word_bits(block: &[u8], mut f: impl FnMut(usize, usize)) {
    let (mut skip, mut base) = (0usize, 0usize);
    let mut carry = 1u64; // 1 when the byte before the window is white
    let mut pending: Option<usize> = None; // the start of a word still open
    while base < block.len() {
        let white = white_mask(block, base, &mut skip);
        let mut starts = !white & (white << 1 | carry);
        let mut ends = white & (!white << 1 | (carry ^ 1));
        carry = white >> 63;
        if let Some(s) = pending {
            if ends == 0 {
                base += 64;
                continue; // the word runs through the whole window
            }
            f(s, base + ends.trailing_zeros() as usize);
            ends &= ends - 1;
            pending = None;
        }
        while starts != 0 {
            let s = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if ends == 0 {
                pending = Some(s);
                break;
            }
            f(s, base + ends.trailing_zeros() as usize);
            ends &= ends - 1;
        }
        base += 64;
    }
    if let Some(s) = pending {
        f(s, block.len());
    }
}

/// Masks keeping the first `len` bytes of a 16-byte load, with `len` in the top byte
/// (the packed key's length), for `len` in 0..=15.
const KEY_MASKS: [(u128, u128); 16] = {
    let mut m = [(0u128, 0u128); 16];
    let mut len = 1;
    while len < 16 {
        m[len] = ((1u128 << (8 * len)) - 1, (len as u128) << 120);
        len += 1;
    }
    m
};

/// [`load_key`] with the masks of a table instead of a variable 128-bit shift (which
/// compiles to branches and double-word shifts).
#[inline(always)]
fn load_key_table(block: &[u8], start: usize, end: usize) -> u128 {
    let len = end - start;
    match block.get(start..start + 16) {
        Some(b) => {
            let (keep, length) = KEY_MASKS[len & 15];
            u128::from_le_bytes(b.try_into().expect("16 bytes")) & keep | length
        }
        None => pack(&block[start..end]),
    }
}

/// Rung 3: SIMD-found separators, keys loaded whole, standard map.
pub fn simd(path: &Path) -> Result<WordCount> {
    let mut counts = PackedCounts::default();
    text_blocks(path, 0..file_len(path)?, |block| {
        for_each_word_simd(block, |s, e| {
            counts.add(&block[s..e], || load_key(block, s, e))
        });
        Ok(())
    })?;
    Ok(counts.into_word_count())
}

/// The hash of a packed key, for tables of up to 2³² slots: the two halves folded,
/// one multiplication (Fibonacci hashing), the high half of the product kept.
#[inline(always)]
fn hash(key: u128) -> usize {
    (product(key as u64, (key >> 64) as u64) >> 32) as usize
}

/// The two halves of a key folded (`xor`) and multiplied by 2⁶⁴/φ (Fibonacci
/// hashing): the top bits of the product depend on every bit of the key, the low
/// bits on few. A word of up to 7 bytes folds to itself with its length in the top
/// byte, so two such words never share a fold. The fold is a plain `xor` so that
/// rungs 7 to 9 compute it in an SSE register, without taking the halves out.
#[inline(always)]
fn product(low: u64, high: u64) -> u64 {
    fold_product(low ^ high)
}

/// The multiplication of [`product`], on a key already folded.
#[inline(always)]
fn fold_product(folded: u64) -> u64 {
    folded.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The counting table of rungs 4 and 5 (and of rung 6's longer words): open addressing on packed keys, linear
/// probing, a power-of-two size kept at most half full; key 0 marks an empty slot
/// (a packed key always holds its non-zero length).
#[derive(Debug)]
pub struct Table {
    keys: Vec<u128>,
    counts: Vec<u64>,
    len: usize,
    total: u64,
    long: FxHashMap<Box<[u8]>, u64>,
}

impl Default for Table {
    fn default() -> Table {
        Table::with_slots(1 << 14)
    }
}

impl Table {
    fn with_slots(slots: usize) -> Table {
        Table {
            keys: vec![0; slots],
            counts: vec![0; slots],
            len: 0,
            total: 0,
            long: FxHashMap::default(),
        }
    }

    /// The slot where the search for `key` starts.
    #[inline(always)]
    fn home(&self, key: u128) -> usize {
        hash(key) & (self.keys.len() - 1)
    }

    /// Adds `n` occurrences of a packed key.
    #[inline(always)]
    fn add_key(&mut self, key: u128, n: u64) {
        let mask = self.keys.len() - 1;
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == key {
                self.counts[i] += n;
                return;
            }
            if k == 0 {
                self.insert_at(i, key, n);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Fills an empty slot, growing the table past half full.
    #[inline(never)]
    fn insert_at(&mut self, i: usize, key: u128, n: u64) {
        self.keys[i] = key;
        self.counts[i] = n;
        self.len += 1;
        if 2 * self.len > self.keys.len() {
            let old = std::mem::replace(self, Table::with_slots(2 * self.keys.len()));
            self.total = old.total;
            self.long = old.long;
            for (k, c) in old.keys.into_iter().zip(old.counts) {
                if k != 0 {
                    self.add_key(k, c);
                }
            }
        }
    }

    /// Counts one word (of any length).
    #[inline(always)]
    fn add(&mut self, word: &[u8], key: impl FnOnce() -> u128) {
        self.total += 1;
        if word.len() <= PACKED_MAX {
            self.add_key(key(), 1);
        } else {
            add_long(&mut self.long, word);
        }
    }

    /// Counts the words of a block of text (the hot loop of rung 4).
    pub fn add_text(&mut self, block: &[u8]) {
        for_each_word_simd(block, |s, e| {
            self.add(&block[s..e], || load_key(block, s, e))
        });
    }

    /// Counts the words of a block of text, words read off the start and end masks
    /// (the hot loop of rungs 5 and 6).
    pub fn add_text_bits(&mut self, block: &[u8]) {
        for_each_word_bits(block, |s, e| {
            self.add(&block[s..e], || load_key_table(block, s, e))
        });
    }

    /// Merges another table into this one (integer keys, no byte comparison).
    pub fn merge(mut self, other: Table) -> Table {
        self.total += other.total;
        for (k, c) in other.keys.into_iter().zip(other.counts) {
            if k != 0 {
                self.add_key(k, c);
            }
        }
        for (w, c) in other.long {
            *self.long.entry(w).or_insert(0) += c;
        }
        self
    }

    /// The counts as the lab's [`WordCount`].
    pub fn into_word_count(self) -> WordCount {
        let mut wc = WordCount {
            total: self.total,
            ..WordCount::default()
        };
        wc.counts.reserve(self.len + self.long.len());
        for (k, c) in self.keys.into_iter().zip(self.counts) {
            if k != 0 {
                wc.counts.insert(unpack(k).into(), c);
            }
        }
        wc.counts.extend(self.long);
        wc
    }
}

/// Reads the bytes of `range` from `path` in blocks of [`BLOCK`] bytes that end on a
/// line boundary, calling `f` on each.
fn read_blocks(path: &Path, range: std::ops::Range<u64>, mut f: impl FnMut(&[u8])) -> Result<()> {
    text_blocks(path, range, |block| {
        f(block);
        Ok(())
    })
}

/// Counts one byte range of the file into a [`Table`], each block by `add`.
fn table_range(
    path: &Path,
    range: std::ops::Range<u64>,
    add: fn(&mut Table, &[u8]),
) -> Result<Table> {
    let mut t = Table::default();
    read_blocks(path, range, |block| add(&mut t, block))?;
    Ok(t)
}

/// Rung 4: SIMD separators and the open-addressing table.
pub fn table(path: &Path) -> Result<WordCount> {
    Ok(table_range(path, 0..file_len(path)?, Table::add_text)?.into_word_count())
}

/// Rung 5: words read off start and end masks, keys masked by a table.
pub fn bits(path: &Path) -> Result<WordCount> {
    Ok(table_range(path, 0..file_len(path)?, Table::add_text_bits)?.into_word_count())
}

/// The counter of `optimise` on one line-aligned byte range of the corpus: exact on
/// its own (byte-order mark at the file's start skipped, invalid UTF-8 refused with
/// its line counted from the start of the file). For the readers that share a file
/// out themselves (the cluster's nodes): merge the parts with [`Compact::merge`],
/// then [`Compact::into_word_count`].
pub fn optimise_range(path: &Path, range: std::ops::Range<u64>) -> Result<Compact> {
    let mut t = Compact::default();
    read_blocks(path, range, |block| t.add_text_sse(block))?;
    Ok(t)
}

/// Rung 9, the `optimise` strategy: rung 8 on `workers` threads (the calling
/// thread is one of them), through the skeleton of [`mapped::over_ranges`]: the
/// mapped file cut into line-aligned ranges handed out by a shared counter, one
/// table per worker, each range's pages released once counted, the tables merged
/// by integer key at the end.
pub fn optimise(path: &Path, workers: usize) -> Result<WordCount> {
    let text = mapped::map(path)?;
    let add = |t: &mut Compact, r: std::ops::Range<usize>| {
        // Checked and counted a cache-sized block at a time: one trip to memory.
        for (at, block) in mapped::line_blocks(&text[r.clone()], 1 << 17) {
            let skip = checked_text(path, (r.start + at) as u64, block)?;
            t.add_text_sse(&block[skip..]);
        }
        Ok(())
    };
    let merged = mapped::over_ranges(&text, 0, workers, Compact::default, add, Compact::merge)?;
    Ok(merged.into_word_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, to check every rung against.
    fn naive(text: &[u8]) -> WordCount {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut wc = WordCount::default();
        for w in words::words(text) {
            wc.total += 1;
            *wc.counts.entry(w.into()).or_default() += 1;
        }
        wc
    }

    fn check_all_rungs(text: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        std::fs::write(&path, text).unwrap();
        let expected = naive(text);
        for rung in ladder() {
            for workers in [1, 3] {
                let got = (rung.run)(&path, workers).unwrap();
                assert!(
                    got == expected,
                    "{} w={workers} on {:?}",
                    rung.name,
                    String::from_utf8_lossy(text)
                );
            }
        }
        let parts = chunks::line_ranges(&path, 3, false)
            .unwrap()
            .into_iter()
            .map(|r| optimise_range(&path, r).unwrap())
            .reduce(Compact::merge)
            .unwrap();
        assert!(parts.into_word_count() == expected);
        // The block-level counters see the text after the file's byte-order mark.
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut t = Table::default();
        t.add_text(text);
        assert!(t.into_word_count() == expected);
        let mut t = Table::default();
        t.add_text_bits(text);
        assert!(t.into_word_count() == expected);
        let mut c = Compact::default();
        c.add_text(text);
        assert!(c.into_word_count() == expected);
        for level in crate::cpu::available() {
            let mut c = Compact::default();
            c.add_text_sse_at(level, text);
            assert!(c.into_word_count() == expected, "{level}");
        }
    }

    #[test]
    fn edge_cases_match_the_definition() {
        let long = format!(
            "{} {} {}\n",
            "x".repeat(15),
            "y".repeat(16),
            "z".repeat(200)
        );
        let mut odd_size = String::new();
        for i in 0..10_007 {
            odd_size.push_str(["un ", "deux\t", "trois\n", "quatre  "][i % 4]);
        }
        for text in [
            "",
            " ",
            "mot",
            "une seule ligne\n",
            "pas de fin de ligne",
            "crlf\r\nfin\r\n",
            long.as_str(),
            "été à\u{a0}Noël\u{2003}x\ty\u{3000}z \u{1F}w\u{85}v",
            "a\u{a0}",
            odd_size.as_str(),
        ] {
            check_all_rungs(text.as_bytes());
        }
        check_all_rungs("\u{feff}marque d'ordre\n".as_bytes());
        // Invalid UTF-8 is refused by every rung, naming its line.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        std::fs::write(&path, b"ok\r\n\nbad\xff utf8\xE2\x80 \xC2").unwrap();
        for rung in ladder() {
            for workers in [1, 3] {
                let err = (rung.run)(&path, workers).unwrap_err().to_string();
                assert!(
                    err.contains("ligne 3") && err.contains("UTF-8"),
                    "{}: {err}",
                    rung.name
                );
            }
        }
        // Words ending exactly at a 64-byte window's end, or running through windows.
        for text in [
            "a".repeat(64),
            "b ".repeat(32),
            format!("{} {}", "c".repeat(63), "d".repeat(64)),
            format!(" {}\n{}", "e".repeat(127), "f".repeat(130)),
        ] {
            check_all_rungs(text.as_bytes());
        }
    }

    #[test]
    fn windows_with_non_ascii_bytes_at_every_offset() {
        // Multi-byte white spaces straddling the 64-byte windows at every position.
        for pad in 0..70 {
            let text = format!(
                "{}\u{2003}mot\u{a0}{}é fin",
                "a".repeat(pad),
                "b".repeat(pad % 7)
            );
            let mut t = Table::default();
            t.add_text(text.as_bytes());
            assert!(t.into_word_count() == naive(text.as_bytes()), "{pad}");
            let mut t = Table::default();
            t.add_text_bits(text.as_bytes());
            assert!(t.into_word_count() == naive(text.as_bytes()), "{pad}");
            for level in crate::cpu::available() {
                let mut c = Compact::default();
                c.add_text_sse_at(level, text.as_bytes());
                assert!(
                    c.into_word_count() == naive(text.as_bytes()),
                    "{level} {pad}"
                );
            }
        }
    }

    /// Random texts of ASCII and multi-byte words and white spaces (short and long
    /// words, every kind of separator, windows cut anywhere): rung 7's block counter
    /// at every vector level of this machine gives the definition's counts.
    #[test]
    fn random_texts_at_every_level_match_the_definition() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let pieces = [
            "a",
            "mot",
            "été",
            "x",
            "\u{1F600}",
            "ab",
            "longmotdeplusdeseizeoctets",
            "Noël",
        ];
        let white = [
            " ", "  ", "\t", "\n", "\r\n", "\u{a0}", "\u{2003}", "\u{3000}", "\u{85}",
        ];
        for _ in 0..200 {
            let mut text = String::new();
            for _ in 0..next(120) {
                let p = pieces[next(pieces.len())];
                text.push_str(&p.repeat(1 + next(3)));
                text.push_str(white[next(white.len())]);
            }
            let cut = text.len() - next(3).min(text.len());
            let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            let text = &text.as_bytes()[..cut];
            let expected = naive(text);
            for level in crate::cpu::available() {
                let mut c = Compact::default();
                c.add_text_sse_at(level, text);
                assert!(
                    c.into_word_count() == expected,
                    "{level} {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn generated_corpus_matches_the_plain_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        crate::data::corpus::generate(&path, 1, |_| {}).unwrap();
        let expected = crate::workloads::wordcount::seq(&path).unwrap();
        for rung in ladder() {
            let got = (rung.run)(&path, 2).unwrap();
            assert!(got == expected, "{}", rung.name);
            assert_eq!(got.top(10), expected.top(10));
        }
    }

    /// Quiet-run timings on the corpus of `TP4_OPT_DATA` (release only:
    /// `TP4_OPT_DATA=/tmp/opt-data cargo test --release -p tp4 --lib
    /// fast::wordcount::tests::timings -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timings() {
        let dir = std::env::var("TP4_OPT_DATA").unwrap_or_else(|_| "data".into());
        let path = Path::new(&dir).join(crate::data::CORPUS_FILE);
        let expected = table(&path).unwrap();
        for rung in ladder() {
            let (wall, cpu) = super::super::time_rung(
                || (rung.run)(&path, 2).unwrap(),
                |v| assert!(*v == expected),
            );
            println!(
                "W7 {:10} wall {wall:.4} s, thread CPU {cpu:.4} s",
                rung.name
            );
        }
    }
}
