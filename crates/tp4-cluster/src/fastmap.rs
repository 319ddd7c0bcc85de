//! The map step of a cluster worker with the lab's fastest single-machine kernels
//! (the `optimise` rungs of `tp4::workloads::fast`): the worker's byte range of the
//! memory-mapped file, read in place, counted by W7's SSE word table or W4's AVX2
//! row reader, its pages released once counted. This is the COST lesson of
//! McSherry, Isard and Murray (*Scalability! But at what COST?*, HotOS 2015) put to
//! work: a distributed system is only worth its overheads if each of its workers runs
//! code as good as the best single-threaded program.
//!
//! Exactness. W7's fast table counts every word as the reference does, on any bytes.
//! W4's fast reader does not read what the answer does not use (the id, the
//! quantity, whether names are valid UTF-8): alone, it would accept rows that the
//! reference (`tp4::workloads::groupby::seq`) refuses. So each block of the range is
//! first checked by [`simple_rows`], a conservative test: it passes only rows on which
//! the fast reader and the plain reader agree (ASCII digits for the id and the
//! quantity, valid UTF-8, no quote, no carriage return but before a line feed). A
//! range with any other row, or on which the fast reader reports an error, is read
//! again by the plain kernel (`groupby::aggregate_range`): it gives the reference's
//! answer or its located error. The users' odd files are small; the generated files
//! never leave the fast path.

use memchr::{memchr, memchr_iter};
use std::ops::Range;
use std::path::Path;
use tp4::workloads::fast::groupby::{avx2, simd::LoadedNames, Acc};
use tp4::workloads::fast::mapped;
use tp4::workloads::fast::wordcount::Compact;
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
/// of this machine's L2 cache, so that the block checked by [`simple_rows`] is still
/// in the cache when it is parsed).
const W4_BLOCK: usize = 1 << 17;

/// W7, map + combine: the words of `range` (line-aligned) of the corpus, one pair
/// `(word bytes, [count, 0])` per distinct word.
pub fn wordcount(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    let map = mapped::map(path)?;
    let range = clamp(range, map.len());
    let mut table = Compact::default();
    for piece in pieces(&map[range.clone()], range.start) {
        table.add_text_sse(&map[piece.clone()]);
        if map.len() >= mapped::RELEASE_FROM {
            mapped::release(&map, piece);
        }
    }
    Ok(table
        .into_word_count()
        .counts
        .into_iter()
        .map(|(w, c)| (w.into_vec(), [c as i64, 0]))
        .collect())
}

/// W4, map + combine: the totals of the rows in `range` (line-aligned, after the
/// header), one pair per category (`[cents, rows]`) and per city (`[cents, 0]`),
/// keys tagged by [`CATEGORY_TAG`] or [`CITY_TAG`]. Falls back on the plain kernel
/// for a range that the fast reader cannot take exactly (see the module's doc).
pub fn groupby(path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
    match groupby_fast(path, range.clone())? {
        Some(pairs) => Ok(pairs),
        None => groupby_plain(path, range),
    }
}

/// The fast path of [`groupby`]: `None` when the range needs the plain kernel.
fn groupby_fast(path: &Path, range: Range<u64>) -> Result<Option<Vec<(Key, Value)>>> {
    let map = mapped::map(path)?;
    let range = clamp(range, map.len());
    let mut acc: Acc<LoadedNames> = Acc::default();
    for piece in pieces(&map[range.clone()], range.start) {
        for (_, block) in mapped::line_blocks(&map[piece.clone()], W4_BLOCK) {
            if !simple_rows(block) || avx2::add_block(&mut acc, block).is_err() {
                return Ok(None);
            }
        }
        if map.len() >= mapped::RELEASE_FROM {
            mapped::release(&map, piece);
        }
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
/// a `u32`). A `false` sends the range to the plain reader: it may be a file the
/// grammar accepts (a quoted name, a padded id), only not one the fast path takes.
pub fn simple_rows(block: &[u8]) -> bool {
    // Two `memchr` passes (AVX2, no match in the usual file) cost less than folding
    // these two tests into the line-end masks below (measured: CPU time of
    // `tp4 cluster groupby --processus 1`, mean of 10, twice: 43 ms against 54 ms).
    if memchr(b'"', block).is_some()
        || memchr_iter(b'\r', block).any(|cr| block.get(cr + 1) != Some(&b'\n'))
    {
        return false;
    }
    let mut start = 0;
    let mut ok = true;
    for_each_line_end(block, |end| {
        ok = ok && simple_row(&block[start..end]);
        start = end + 1;
    });
    // The last line of the file may have no line end. The block was just read:
    // checking its bytes for UTF-8 now finds them in the cache.
    ok && (start >= block.len() || simple_row(&block[start..]))
        && (block.is_ascii() || std::str::from_utf8(block).is_ok())
}

/// Whether one line (without its `\n`) is empty or has a plain id and quantity (see
/// [`simple_rows`]).
#[inline(always)]
fn simple_row(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return true;
    }
    let id = line.iter().take_while(|b| b.is_ascii_digit()).count();
    if id == 0 || id > 19 || line.get(id) != Some(&b',') {
        return false;
    }
    // The line holds a comma after the id, so the quantity is shorter than it.
    let quantity = line.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    quantity > 0 && quantity <= 9 && line[line.len() - quantity - 1] == b','
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
        assert!(simple_rows(good.as_bytes()));
        for bad in [5, 150, 399] {
            let mut r = rows.clone();
            r[bad] = r[bad].replacen(',', " ,", 1);
            assert!(!simple_rows(r.concat().as_bytes()), "row {bad}");
            let mut r = rows.clone();
            r[bad] = r[bad].replacen("\r\n", "\r \n", 1);
            assert!(!simple_rows(r.concat().as_bytes()), "row {bad}");
        }
    }

    #[test]
    fn simple_rows_passes_only_plain_ascii_rows() {
        assert!(simple_rows(b"1,2024-01-01,Paris,sport,12.50,3\n"));
        assert!(simple_rows(
            b"1,d,Paris,sport,12.50,3\r\n\r\n2,d,Lyon,th\xC3\xA9,-1,10"
        ));
        assert!(simple_rows(b""));
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
        ] {
            assert!(!simple_rows(odd), "{:?}", String::from_utf8_lossy(odd));
        }
    }
}
