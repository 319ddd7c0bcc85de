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
//! W4 has two tiers. The usual range is made of blocks that [`simple_rows`] passes
//! (rows on which the AVX2 row reader and the lab's reader agree) and whose amounts
//! are bounded well under 2^62 cents all together: the AVX2 reader adds them without
//! checks, as fast as before. Any other range is read again through
//! `fast::groupby::add_block_exact` (the AVX2 reader on blocks it proves plain, the
//! lab's reference reader with checked sums elsewhere). A range on which that
//! reports an error (a bad row, a total too large for 64 bits) is read again by the
//! plain kernel (`groupby::aggregate_range`), which gives the reference's located
//! error. Sums of the partials of several ranges are checked in
//! the reduce step (`jobs::combine`).
//!
//! The file is memory-mapped: a file shortened or rewritten while it is read gives
//! zeros or other bytes, so every map step ends with `Mapped::check`, whose
//! "a changé pendant la lecture" error is reported before any other error of that
//! range (the changed bytes explain it).

use memchr::{memchr, memchr_iter};
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

/// Bound on the cents of a range read by the unchecked path of [`groupby_fast`]:
/// while the sum of the bounds [`simple_rows`] gives for its blocks stays under it,
/// no total of the range (a sum of some of its amounts) can leave the `i64` range.
const SIMPLE_CENTS_MAX: u128 = 1 << 62;

/// The fast path of [`groupby`]: `None` when the range holds an error (the plain
/// kernel then locates it). Two tiers: blocks that [`simple_rows`] passes go
/// straight to the AVX2 row reader (unchecked sums, safe while the bounds of their
/// amounts add up to less than [`SIMPLE_CENTS_MAX`]); if any block does not, the
/// whole range is read again
/// through `add_block_exact` (each block proven plain or read by the reference
/// reader, checked sums).
fn groupby_fast(path: &Path, range: Range<u64>) -> Result<Option<Vec<(Key, Value)>>> {
    let map = mapped::map(path)?;
    let range = clamp(range, map.len());
    let release = |piece: Range<usize>| {
        if map.len() >= mapped::RELEASE_FROM {
            mapped::release(&map, piece);
        }
    };
    let mut acc: Acc<LoadedNames> = Acc::default();
    let mut simple = true;
    let mut cents_bound: u128 = 0;
    'simple: for piece in pieces(&map[range.clone()], range.start) {
        for (_, block) in mapped::line_blocks(&map[piece.clone()], W4_BLOCK) {
            cents_bound += simple_rows(block).unwrap_or(SIMPLE_CENTS_MAX);
            if cents_bound >= SIMPLE_CENTS_MAX || avx2::add_block(&mut acc, block).is_err() {
                simple = false;
                break 'simple;
            }
        }
        release(piece);
    }
    let mut failed = false;
    if !simple {
        acc = Acc::default();
        'exact: for piece in pieces(&map[range.clone()], range.start) {
            for (_, block) in mapped::line_blocks(&map[piece.clone()], W4_BLOCK) {
                if add_block_exact(&mut acc, block, avx2::add_block).is_err() {
                    failed = true;
                    break 'exact;
                }
            }
            release(piece);
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

/// Whether every row of `block` (whole lines) is one that W4's fast reader and the
/// plain reader read alike: the block is valid UTF-8 and holds no quote; every
/// carriage return is followed by a line feed; every non-empty line starts with an
/// id of 1 to 19 ASCII digits followed by a comma (any 19 digits fit in a `u64`)
/// and ends with a quantity of 1 to 9 ASCII digits preceded by a comma (any 9 fit in
/// a `u32`), itself preceded by a field (the amount) of at most 16 bytes. `Some`
/// bound on the cents of the block's amounts (the sum of [`simple_row`]'s bounds).
/// `None` sends the range to the exact path: it may be a file the grammar accepts
/// (a quoted name, a padded id), only not one the unchecked path takes.
pub fn simple_rows(block: &[u8]) -> Option<u128> {
    // Two `memchr` passes (AVX2, no match in the usual file) cost less than folding
    // these two tests into the line-end masks below (measured: CPU time of
    // `tp4 cluster groupby --processus 1`, mean of 10, twice: 43 ms against 54 ms).
    if memchr(b'"', block).is_some()
        || memchr_iter(b'\r', block).any(|cr| block.get(cr + 1) != Some(&b'\n'))
    {
        return None;
    }
    // Sums saturate: `u64::MAX` (a line that is not simple, or bounds too large)
    // stays `u64::MAX`.
    let mut start = 0;
    let mut bound = 0u64;
    for_each_line_end(block, |end| {
        bound = bound.saturating_add(simple_row(&block[start..end]));
        start = end + 1;
    });
    // The last line of the file may have no line end. The block was just read:
    // checking its bytes for UTF-8 now finds them in the cache.
    if start < block.len() {
        bound = bound.saturating_add(simple_row(&block[start..]));
    }
    (bound != u64::MAX && (block.is_ascii() || std::str::from_utf8(block).is_ok()))
        .then_some(u128::from(bound))
}

/// 10^0 to 10^18 (10^(n+2) bounds the cents of an amount of n ≤ 16 bytes; the
/// largest stays under `u64::MAX`, the mark of a line that is not simple).
const POWERS_OF_TEN: [u64; 19] = {
    let mut p = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// For one line (without its `\n`) that is empty or has a plain id and quantity
/// (see [`simple_rows`]), a bound on the cents of its amount (0 for an empty line):
/// an amount of `n` bytes is under 10^(n+2) cents in absolute value; `u64::MAX` for
/// any other line.
#[inline(always)]
fn simple_row(line: &[u8]) -> u64 {
    const NOT_SIMPLE: u64 = u64::MAX;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return 0;
    }
    let id = line.iter().take_while(|b| b.is_ascii_digit()).count();
    if id == 0 || id > 19 || line.get(id) != Some(&b',') {
        return NOT_SIMPLE;
    }
    // The line holds a comma after the id, so the quantity is shorter than it.
    let quantity = line.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if quantity == 0 || quantity > 9 || line[line.len() - quantity - 1] != b',' {
        return NOT_SIMPLE;
    }
    // The amount is the field before the quantity. A short scan back (the usual
    // amount has 4 to 8 bytes) costs less than a `memrchr` call per line.
    let before = &line[..line.len() - quantity - 1];
    match before.iter().rev().take(17).position(|&b| b == b',') {
        Some(amount) => POWERS_OF_TEN[amount + 2],
        None => NOT_SIMPLE,
    }
}

/// Calls `f` with the offset of every `\n` of `bytes`, in order: 64 bytes at a time
/// through a bit mask (one `memchr` call per line cost more than the checks of
/// [`simple_row`] under `perf`: 17 % of the map step against 13 % for them), the tail
/// byte by byte.
fn for_each_line_end(bytes: &[u8], mut f: impl FnMut(usize)) {
    let mut chunks = bytes.chunks_exact(64);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut mask = newline_mask(chunk.try_into().expect("64 bytes"));
        while mask != 0 {
            f(base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 64;
    }
    for p in memchr_iter(b'\n', chunks.remainder()) {
        f(base + p);
    }
}

/// The bit mask of the `\n` bytes of a 64-byte chunk (bit i for byte i): four SSE2
/// comparisons on x86-64 (always there), byte by byte elsewhere.
#[inline(always)]
fn newline_mask(chunk: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        let mut mask = 0u64;
        for i in 0..4 {
            // SAFETY: SSE2 is part of x86-64; the load reads bytes 16 i to 16 i + 15
            // of the 64-byte chunk (unaligned load allowed).
            let bits = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().add(16 * i).cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)))
            };
            mask |= u64::from(bits as u16) << (16 * i);
        }
        mask
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        chunk
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, &b)| m | (u64::from(b == b'\n') << i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_and_rows_are_found_across_chunks() {
        let text: Vec<u8> = (0..3000u32)
            .flat_map(|i| {
                let mut l = vec![b'x'; (i % 131) as usize];
                l.push(b'\n');
                l
            })
            .collect();
        for cut in [0, 1, 63, 64, 65, 200, text.len()] {
            let bytes = &text[..cut];
            let mut found = Vec::new();
            for_each_line_end(bytes, |p| found.push(p));
            let expected: Vec<usize> = memchr_iter(b'\n', bytes).collect();
            assert_eq!(found, expected, "cut {cut}");
        }
        // Rows of every length, so that line ends and CRs fall on every position of
        // the 64-byte chunks; one bad row anywhere is found.
        let rows: Vec<String> = (0..400u32)
            .map(|i| {
                format!(
                    "{i},d,{},c,1.5,{}\r\n",
                    "x".repeat((i % 71) as usize),
                    i % 9 + 1
                )
            })
            .collect();
        let good = rows.concat();
        assert!(simple_rows(good.as_bytes()).is_some());
        for bad in [5, 150, 399] {
            let mut r = rows.clone();
            r[bad] = r[bad].replacen(',', " ,", 1);
            assert!(simple_rows(r.concat().as_bytes()).is_none(), "row {bad}");
            let mut r = rows.clone();
            r[bad] = r[bad].replacen("\r\n", "\r \n", 1);
            assert!(simple_rows(r.concat().as_bytes()).is_none(), "row {bad}");
        }
    }

    #[test]
    fn simple_rows_passes_only_plain_ascii_rows() {
        assert_eq!(
            simple_rows(b"1,2024-01-01,Paris,sport,12.50,3\n"),
            Some(10u128.pow(7))
        );
        assert_eq!(
            simple_rows(b"1,d,Paris,sport,12.50,3\r\n\r\n2,d,Lyon,th\xC3\xA9,-1,10"),
            Some(10u128.pow(7) + 10u128.pow(4))
        );
        assert_eq!(simple_rows(b""), Some(0));
        for odd in [
            &b"1,d,\"Paris\",sport,1,3\n"[..],
            b" 1,d,Paris,sport,1,3\n",
            b"1,d,Paris,sport,1,3 \n",
            b"1,d,Paris,sport,1,+3\n",
            b"1,d,Paris,sport,1,3\r",
            b"1,d,Par\ris,sport,1,3\n",
            b"1,d,Par\xC3is,sport,1,3\n",
            b"12345678901234567890,d,Paris,sport,1,3\n",
            b"1,d,Paris,sport,1,1234567890\n",
            b"   \n",
            b"x\n",
            b"1,d,Paris,sport,12345678901234567,3\n",
        ] {
            assert!(
                simple_rows(odd).is_none(),
                "{:?}",
                String::from_utf8_lossy(odd)
            );
        }
    }
}
