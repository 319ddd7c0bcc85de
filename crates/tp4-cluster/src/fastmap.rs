//! The map step of a cluster worker with the lab's fastest single-machine kernels
//! (the `optimise` rungs of `tp4::workloads::fast`), so that each worker runs code
//! as good as the best single-threaded program. This is the COST lesson of
//! McSherry, Isard and Murray (*Scalability! But at what COST?*, HotOS 2015) put to
//! work: a distributed system is only worth its overheads if each of its workers
//! does.
//!
//! - W7: the worker's byte range of the memory-mapped file, read in place, counted
//!   by the SSE word table, its pages released once counted. The table counts every
//!   word as the reference does once each block is checked as UTF-8
//!   (`fast::wordcount::checked_text`: invalid UTF-8 is the reference's located
//!   error, the byte-order mark at the file's start is skipped). The file is mapped:
//!   a file shortened or rewritten while it is read gives zeros or other bytes, so
//!   the step ends with `Mapped::check`, whose "a changé pendant la lecture" error is
//!   reported before any other error of that range (the changed bytes explain it).
//! - W4: `fast::groupby::optimise_range`, the reader of the `optimise` rung on the
//!   worker's range: each line proven plain inside the AVX2 parser's own window, any
//!   other line through the lab's reference reader with checked sums; exact on its
//!   own, errors located by their line in the file. (It replaced a block pre-check
//!   of this module that duplicated that proof, and was slower: CPU time of
//!   `tp4 cluster groupby --processus 2 --sans-verification` on 1 M rows, median of
//!   10 interleaved runs on a loaded machine, 0.047 s against 0.065 s.)
//!
//! Sums of the partials of several ranges are checked in the reduce step
//! (`jobs::combine`).

use std::ops::Range;
use std::path::Path;
use tp4::workloads::fast;
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
/// keys tagged by [`CATEGORY_TAG`] or [`CITY_TAG`]; the reference's located error
/// on a bad row or a total too large for 64 bits inside the range.
pub fn groupby(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    // Every name passed the reader's UTF-8 check: the `String`s of the totals are
    // its bytes.
    let totals = fast::groupby::optimise_range(path, range)?.totals();
    let categories = totals
        .categories
        .into_iter()
        .map(|(name, cents, rows)| (tagged(CATEGORY_TAG, &name), [cents, rows as i64]));
    let cities = totals
        .cities
        .into_iter()
        .map(|(name, cents)| (tagged(CITY_TAG, &name), [cents, 0]));
    Ok(categories.chain(cities).collect())
}

/// The plain kernel's pairs for `range` (the reference's answer or located error),
/// for the tests that compare the two map steps.
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
