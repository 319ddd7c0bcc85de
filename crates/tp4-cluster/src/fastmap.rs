//! The map step of a cluster worker with the lab's fastest single-machine kernels
//! (the `optimise` rungs of `tp4::workloads::fast`): the worker's byte range of the
//! memory-mapped file, read in place, counted by W7's SSE word table or W4's AVX2
//! row reader, its pages released once counted. This is the COST lesson of
//! McSherry, Isard and Murray (*Scalability! But at what COST?*, HotOS 2015) put to
//! work: a distributed system is only worth its overheads if each of its workers runs
//! code as good as the best single-threaded program.
//!
//! Exactness. W7's fast table counts every word as the reference does, once each
//! block is checked as UTF-8 (`fast::wordcount::checked_text`: invalid UTF-8 is the
//! reference's located error, the byte-order mark at the file's start is skipped).
//! W4's blocks go through `fast::groupby::add_block_exact`: the AVX2 row reader on a
//! block it has proven plain (ids, quantities, UTF-8, no quote; totals that cannot
//! overflow yet), the lab's reference reader with checked sums on any other block.
//! A range on which that reports an error (a bad row, a total too large for 64 bits)
//! is read again by the plain kernel (`groupby::aggregate_range`), which gives the
//! reference's located error. Sums of the partials of several ranges are checked in
//! the reduce step (`jobs::combine`).
//!
//! The file is memory-mapped: a file shortened or rewritten while it is read gives
//! zeros or other bytes, so every map step ends with `Mapped::check`, whose
//! "a changé pendant la lecture" error is reported before any other error of that
//! range (the changed bytes explain it).

use std::ops::Range;
use std::path::Path;
use tp4::workloads::fast::groupby::{add_block_exact, avx2, simd::LoadedNames, Acc};
use tp4::workloads::fast::mapped;
use tp4::workloads::fast::wordcount::{checked_text, Compact};
use tp4::workloads::groupby;
use tp4::Result;

/// The key of a pair: a word's bytes, or a tag byte then a W4 name's bytes.
pub type Key = Vec<u8>;
/// The value of a pair: `[count, 0]` for a word, `[cents, rows]` for a category,
/// `[cents, 0]` for a city.
pub type Value = [i64; 2];
/// The tag byte of a W4 category key (a byte no UTF-8 name starts with).
pub const CATEGORY_TAG: u8 = 0xFE;
/// The tag byte of a W4 city key.
pub const CITY_TAG: u8 = 0xFF;

/// Pieces a range is cut into, so that the pages of each piece are released as soon
/// as it is counted (as `mapped::over_ranges` does for one machine).
const PIECES: usize = 32;

/// Bytes handed to W4's row reader at a time (the `optimise` rung's block: a quarter
/// of this machine's L2 cache, so that the block proven plain is still in the cache
/// when it is parsed).
const W4_BLOCK: usize = 1 << 17;

/// Bytes of the corpus checked for UTF-8 then counted at a time (a block still in
/// the cache when it is counted, as in the `optimise` rung).
const W7_BLOCK: usize = 1 << 17;

/// W7, map + combine: the words of `range` (line-aligned) of the corpus, one pair
/// `(word bytes, [count, 0])` per distinct word.
pub fn wordcount(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    let map = mapped::map(path)?;
    let range = clamp(range, map.len());
    let mut table = Compact::default();
    for piece in pieces(&map[range.clone()], range.start) {
        // Checked (UTF-8, byte-order mark at the file's start) and counted a
        // cache-sized block at a time, as the `optimise` rung does.
        for (at, block) in mapped::line_blocks(&map[piece.clone()], W7_BLOCK) {
            match checked_text(path, (piece.start + at) as u64, block) {
                Ok(skip) => table.add_text_sse(&block[skip..]),
                Err(e) => {
                    // Zeros read from a shortened file explain any error.
                    map.check()?;
                    return Err(e);
                }
            }
        }
        if map.len() >= mapped::RELEASE_FROM {
            mapped::release(&map, piece);
        }
    }
    map.check()?;
    Ok(table
        .into_word_count()
        .counts
        .into_iter()
        .map(|(w, c)| (w.into_vec(), [c as i64, 0]))
        .collect())
}

/// W4, map + combine: the totals of the rows in `range` (line-aligned, after the
/// header), one pair per category (`[cents, rows]`) and per city (`[cents, 0]`),
/// keys tagged by [`CATEGORY_TAG`] or [`CITY_TAG`]. A range on which the fast reader
/// meets an error is read again by the plain kernel, for the reference's located
/// error (see the module's doc).
pub fn groupby(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    match groupby_fast(path, range.clone())? {
        Some(pairs) => Ok(pairs),
        None => groupby_plain(path, range),
    }
}

/// The fast path of [`groupby`]: `None` when the range holds an error (the plain
/// kernel then locates it).
fn groupby_fast(path: &Path, range: Range<u64>) -> Result<Option<Vec<(Key, Value)>>> {
    let map = mapped::map(path)?;
    let range = clamp(range, map.len());
    let mut acc: Acc<LoadedNames> = Acc::default();
    let mut failed = false;
    'pieces: for piece in pieces(&map[range.clone()], range.start) {
        for (_, block) in mapped::line_blocks(&map[piece.clone()], W4_BLOCK) {
            if add_block_exact(&mut acc, block, avx2::add_block).is_err() {
                failed = true;
                break 'pieces;
            }
        }
        if map.len() >= mapped::RELEASE_FROM {
            mapped::release(&map, piece);
        }
    }
    // Zeros read from a shortened file explain any error: say that first.
    map.check()?;
    if failed {
        return Ok(None);
    }
    // Every name passed the UTF-8 check: the `String`s of `totals` are its bytes.
    let totals = acc.totals();
    let categories = totals
        .categories
        .into_iter()
        .map(|(name, cents, rows)| (tagged(CATEGORY_TAG, &name), [cents, rows as i64]));
    let cities = totals
        .cities
        .into_iter()
        .map(|(name, cents)| (tagged(CITY_TAG, &name), [cents, 0]));
    Ok(Some(categories.chain(cities).collect()))
}

/// The plain kernel's pairs for `range` (the reference's answer or located error).
pub fn groupby_plain(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    let g = groupby::aggregate_range(path, range)?;
    let categories = g
        .categories
        .iter()
        .map(|(name, &(cents, rows))| (tagged(CATEGORY_TAG, name), [cents, rows as i64]));
    let cities = g
        .cities
        .iter()
        .map(|(name, &cents)| (tagged(CITY_TAG, name), [cents, 0]));
    Ok(categories.chain(cities).collect())
}

/// The plain kernel's pairs for `range` of the corpus (for the tests that compare
/// the two map steps).
pub fn wordcount_plain(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    let wc = tp4::workloads::wordcount::count_range(path, range)?;
    Ok(wc
        .counts
        .into_iter()
        .map(|(w, c)| (w.into_vec(), [c as i64, 0]))
        .collect())
}

/// A key: one tag byte, then the name's bytes.
fn tagged(tag: u8, name: &str) -> Key {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(tag);
    k.extend_from_slice(name.as_bytes());
    k
}

/// `range` cut to a file of `len` bytes (the file may be shorter than when the
/// ranges were computed only if someone writes it during the run).
fn clamp(range: Range<u64>, len: usize) -> Range<usize> {
    let end = (range.end as usize).min(len);
    (range.start as usize).min(end)..end
}

/// Line-aligned pieces of `bytes` (which start at `offset` in the file), as file
/// offsets.
fn pieces(bytes: &[u8], offset: usize) -> impl Iterator<Item = Range<usize>> {
    tp4::data::chunks::line_ranges_of(bytes, PIECES)
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(move |r| r.start + offset..r.end + offset)
}
