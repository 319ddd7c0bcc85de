//! W4 rungs 4 to 6: the separators of 64 bytes found in one bitmask, then amounts
//! and names read without a branch per byte, then one window per line.
//!
//! 4. `simd`: commas and line ends of each 64-byte window compared 16 bytes at a time
//!    (SSE2, part of x86-64) and gathered into two 64-bit masks; the fields of a row
//!    are read off the masks with `trailing_zeros`. Rung 3 called memchr six times
//!    per row, each call on a few bytes, where its setup costs more than its search.
//! 5. `swar`: the amount `123.45` parsed as one 64-bit word (its digits shifted into
//!    place, checked and converted by three multiplications: "SIMD within a
//!    register"), without `str` conversion, splitting or a loop per digit; each name
//!    looked up by one 16-byte load masked to its length instead of
//!    [`super::pack16`]'s branches on the length.
//! 6. `lignes`: rung 5's walk asks, for every separator, "comma or line end?", a
//!    branch the processor mispredicts about twice a row (callgrind's branch
//!    simulation put 86 % of rung 5's mispredictions there). Here one 64-byte window
//!    is loaded at each line's start: the line end is the first bit of its newline
//!    mask, the five commas the first five bits of its comma mask, popped without a
//!    test; a line of 64 bytes or more falls back to rung 5's walk.
//!
//! Everything else is rung 3's: a block holding a double quote, a line that does not
//! have exactly 6 fields, an amount of another shape (no decimal point, more than 5
//! digits before it) or a name longer than 16 bytes goes through rung 3's code, so
//! answers and errors (file, line, field) are the same on any file.

use super::{add_block, add_line, add_row, parse_cents, Acc, Names, PackedNames, RowError};
use memchr::memchr;

/// Rung 5's names: packed by a masked 16-byte load (see [`load_key`]).
pub type LoadedNames = PackedNames<true>;

/// Masks of the first `len` bytes of a 16-byte key, as (low word, high word).
pub(super) const KEY_MASKS: [(u64, u64); 17] = {
    let mut m = [(0u64, 0u64); 17];
    let mut len = 1;
    while len <= 16 {
        m[len] = if len > 8 {
            (u64::MAX, u64::MAX >> (8 * (16 - len)))
        } else {
            (u64::MAX >> (8 * (8 - len)), 0)
        };
        len += 1;
    }
    m
};

/// The key of a name of at most 16 bytes in [`LoadedNames`]' layout: its bytes, zero
/// padded, as two little-endian words (the slow path: a copy).
pub(super) fn pack_copied(name: &[u8]) -> (u64, u64) {
    let mut b = [0u8; 16];
    b[..name.len()].copy_from_slice(name);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    (word(&b[..8]), word(&b[8..]))
}

/// The key of `block[start..end]` (at most 16 bytes) by one unaligned 16-byte load
/// masked to the name's length; the same as [`pack_copied`].
#[inline(always)]
fn load_key(block: &[u8], start: usize, end: usize) -> (u64, u64) {
    match block.get(start..start + 16) {
        Some(b) => {
            let (m0, m1) = KEY_MASKS[end - start];
            let lo = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
            let hi = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
            (lo & m0, hi & m1)
        }
        None => pack_copied(&block[start..end]),
    }
}

/// The bits of the 64 bytes of `w` at or below `b' '` (space, tab, CR and the other
/// control bytes: a superset of what trimming removes), and those equal to `"`.
#[inline(always)]
fn blank_and_quote_masks(w: &[u8; 64]) -> (u64, u64) {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    // SAFETY: SSE2 is part of x86-64; the four loads read the 64 bytes of `w`.
    unsafe {
        use std::arch::x86_64::*;
        let (space, quote) = (_mm_set1_epi8(b' ' as i8), _mm_set1_epi8(b'"' as i8));
        let (mut blank, mut quotes) = (0u64, 0u64);
        for q in 0..4 {
            let v = _mm_loadu_si128(w.as_ptr().add(16 * q).cast());
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, space), v);
            blank |= u64::from(_mm_movemask_epi8(low) as u16) << (16 * q);
            quotes |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) as u16) << (16 * q);
        }
        (blank, quotes)
    }
    #[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
    w.iter().enumerate().fold((0, 0), |(b, q), (i, &c)| {
        (b | u64::from(c <= b' ') << i, q | u64::from(c == b'"') << i)
    })
}

/// The bits of the 64 bytes of `w` equal to `a` and to `b`, as two masks.
#[inline(always)]
fn masks64(w: &[u8; 64], a: u8, b: u8) -> (u64, u64) {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    // SAFETY: SSE2 is part of x86-64; the four loads read the 64 bytes of `w`.
    unsafe {
        use std::arch::x86_64::*;
        let (va, vb) = (_mm_set1_epi8(a as i8), _mm_set1_epi8(b as i8));
        let (mut ma, mut mb) = (0u64, 0u64);
        for q in 0..4 {
            let v = _mm_loadu_si128(w.as_ptr().add(16 * q).cast());
            ma |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, va)) as u16) << (16 * q);
            mb |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vb)) as u16) << (16 * q);
        }
        (ma, mb)
    }
    #[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
    w.iter().enumerate().fold((0, 0), |(ma, mb), (i, &c)| {
        (ma | u64::from(c == a) << i, mb | u64::from(c == b) << i)
    })
}

/// Commas and line ends of `block[base..]` (64 bytes, or the zero-padded tail).
#[inline(always)]
fn separators(block: &[u8], base: usize) -> (u64, u64) {
    match block[base..].first_chunk::<64>() {
        Some(w) => masks64(w, b',', b'\n'),
        None => {
            let mut w = [0u8; 64];
            w[..block.len() - base].copy_from_slice(&block[base..]);
            masks64(&w, b',', b'\n')
        }
    }
}

/// A row handler: (totals, block, line start, positions of the first commas, number
/// of commas, line end) → aggregated or the row's error.
type RowFn<N> = fn(&mut Acc<N>, &[u8], usize, &[usize; 6], usize, usize) -> Result<(), RowError>;

/// Calls `row` on every line of a block without quotes, its commas found by masks
/// (rungs 4 and 5); on error, the offset of the bad line in the block.
#[inline(always)]
fn walk<N: Names>(acc: &mut Acc<N>, block: &[u8], row: RowFn<N>) -> Result<(), (usize, RowError)> {
    let (mut start, mut commas, mut n) = (0usize, [0usize; 6], 0usize);
    let mut base = 0;
    while base < block.len() {
        let (c, nl) = separators(block, base);
        let mut seps = c | nl;
        while seps != 0 {
            let i = seps.trailing_zeros();
            let p = base + i as usize;
            seps &= seps - 1;
            if nl >> i & 1 != 0 {
                row(acc, block, start, &commas, n, p).map_err(|e| (start, e))?;
                (start, n) = (p + 1, 0);
            } else {
                commas[n.min(5)] = p;
                n += 1;
            }
        }
        base += 64;
    }
    if start < block.len() {
        row(acc, block, start, &commas, n, block.len()).map_err(|e| (start, e))?;
    }
    Ok(())
}

/// The six fields of a line with five commas.
#[inline(always)]
fn fields<'a>(block: &'a [u8], start: usize, c: &[usize; 6], end: usize) -> [&'a [u8]; 6] {
    [
        &block[start..c[0]],
        &block[c[0] + 1..c[1]],
        &block[c[1] + 1..c[2]],
        &block[c[2] + 1..c[3]],
        &block[c[3] + 1..c[4]],
        &block[c[4] + 1..end],
    ]
}

/// Rung 4's row: the fields cut at the commas found, then rung 3's checks.
#[inline(always)]
fn row_simd<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
    start: usize,
    c: &[usize; 6],
    n: usize,
    end: usize,
) -> Result<(), RowError> {
    if n != 5 {
        return add_line(acc, &block[start..end], false); // blank or malformed
    }
    add_row(acc, &fields(block, start, c, end))
}

/// `block[start..end]` without its surrounding spaces and tabs, as a range.
#[inline(always)]
fn trim_range(block: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    // Usual case first: a byte above b' ' is neither a space nor a tab.
    if start < end && block[start] > b' ' && block[end - 1] > b' ' {
        return (start, end);
    }
    let space = |b: u8| b == b' ' || b == b'\t';
    while start < end && space(block[start]) {
        start += 1;
    }
    while end > start && space(block[end - 1]) {
        end -= 1;
    }
    (start, end)
}

/// Eight ASCII digits (first digit in the lowest byte) as their value, if they all
/// are digits: the check and the three multiplications of Lemire's "SIMD within a
/// register" parser.
#[inline(always)]
fn eight_digits(w: u64) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    if (w & HIGH) | ((w.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let v = (w & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    Some((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32)
}

/// The value in cents of the 8 bytes `x` (little-endian) that start with `int_len`
/// digits (1 to 5), a point and 2 digits, if those are all digits: the digits moved
/// into the high bytes with '0's below them (8 digits, same value), then
/// [`eight_digits`].
#[inline(always)]
pub(super) fn amount_word(x: u64, int_len: usize) -> Option<u64> {
    let int = x & (u64::MAX >> (8 * (8 - int_len)));
    let frac = (x >> (8 * (int_len + 1))) & 0xFFFF;
    let digits = int_len + 2;
    let w =
        (int | frac << (8 * int_len)) << (8 * (8 - digits)) | 0x3030_3030_3030_3030 >> (8 * digits);
    eight_digits(w)
}

/// The amount `block[start..end]` in cents when it has the usual shape (optional
/// sign, 1 to 5 digits, a point, 2 digits) and 8 bytes can be loaded after its sign;
/// any other shape, and any invalid amount, goes to the lab's parser.
#[inline(always)]
pub fn parse_cents_swar(block: &[u8], start: usize, end: usize) -> Option<i64> {
    let sign = block[start..end].first().copied();
    let t = start + usize::from(matches!(sign, Some(b'-' | b'+')));
    let len = end - t;
    let fast = (4..=8).contains(&len) && block[end - 3] == b'.';
    let word = block.get(t..t + 8).filter(|_| fast);
    let Some(word) = word else {
        return parse_cents(&block[start..end]);
    };
    let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
    match amount_word(x, len - 3) {
        Some(v) if sign == Some(b'-') => Some(-(v as i64)),
        Some(v) => Some(v as i64),
        None => parse_cents(&block[start..end]),
    }
}

/// Rung 5's row: trimmed ranges, the amount by [`parse_cents_swar`], the names by
/// [`load_key`]; anything unusual (an error to report, a long name) through rung 4.
#[inline(always)]
fn row_swar(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
    start: usize,
    c: &[usize; 6],
    n: usize,
    end: usize,
) -> Result<(), RowError> {
    row_fields(acc, block, start, c, n, end, false)
}

/// [`row_swar`], told by `clean` that no field starts or ends with a byte at or
/// below `b' '` (so none needs trimming): rung 6 knows it from its window's masks.
#[inline(always)]
fn row_fields(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
    start: usize,
    c: &[usize; 6],
    n: usize,
    end: usize,
    clean: bool,
) -> Result<(), RowError> {
    if n != 5 {
        return add_line(acc, &block[start..end], false);
    }
    let trimmed = |a: usize, b: usize| match clean {
        true => (a, b),
        false => trim_range(block, a, b),
    };
    let (t0, t1) = trimmed(c[1] + 1, c[2]);
    let (k0, k1) = trimmed(c[2] + 1, c[3]);
    let (a0, a1) = trimmed(c[3] + 1, c[4]);
    let usual = t0 < t1 && t1 - t0 <= 16 && k0 < k1 && k1 - k0 <= 16;
    match parse_cents_swar(block, a0, a1) {
        Some(cents) if usual => {
            let (lo, hi) = load_key(block, k0, k1);
            let k = acc.categories.index_key(&block[k0..k1], lo, hi);
            let (lo, hi) = load_key(block, t0, t1);
            let t = acc.cities.index_key(&block[t0..t1], lo, hi);
            acc.add_indexed(k, t, cents, 1);
            Ok(())
        }
        _ => add_row(acc, &fields(block, start, c, end)),
    }
}

/// Aggregates a block with rung 4's splitter (rung 3's when it holds a quote).
pub(super) fn add_block_simd<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    if memchr(b'"', block).is_some() {
        return add_block(acc, block);
    }
    walk(acc, block, row_simd::<N>)
}

/// Aggregates a block with rung 5's row reader (rung 3's when it holds a quote).
pub(super) fn add_block_swar(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    if memchr(b'"', block).is_some() {
        return add_block(acc, block);
    }
    walk(acc, block, row_swar)
}

/// The commas of a line whose first 64 bytes give the masks `c` (commas) and the
/// line end at `e` (< 64): the first five, and whether there are exactly five.
#[inline(always)]
fn five_commas(start: usize, c: u64, e: usize) -> ([usize; 6], bool) {
    let mut m = c & ((1u64 << e) - 1);
    let mut commas = [0usize; 6];
    for comma in &mut commas[..5] {
        *comma = start + m.trailing_zeros() as usize; // start + 64 when none is left
        m &= m.wrapping_sub(1);
    }
    (commas, m == 0 && commas[4] < start + e)
}

/// Aggregates a block with rung 6's reader: one 64-byte window per line, loaded at
/// the line's start, gives the line end (the first bit of the newline mask) and the
/// five commas (the first five bits of the comma mask), so no branch depends on which
/// separator comes next. The same window tells whether the line holds a quote (then
/// rung 3's line reader takes it) and whether a field needs trimming. The lines of
/// 64 bytes or more and the last bytes of the block go through rung 5's walk (rung
/// 3's reader if they hold a quote). The first version looked for a quote in the
/// whole block with `memchr` before parsing it: a second pass over the bytes, 9 % of
/// the time under `perf` on the mapped file, 8 % measured when it was skipped.
pub(super) fn add_block_rows(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    let mut start = 0;
    while let Some(w) = block[start..].first_chunk::<64>() {
        let (c, nl) = masks64(w, b',', b'\n');
        if nl == 0 {
            break; // a line of 64 bytes or more
        }
        let e = nl.trailing_zeros() as usize;
        let line = (1u64 << e) - 1;
        let (blank, quote) = blank_and_quote_masks(w);
        if quote & line != 0 {
            add_line(acc, &block[start..start + e], true).map_err(|err| (start, err))?;
            start += e + 1;
            continue;
        }
        let (commas, five) = five_commas(start, c, e);
        // 0 commas: rung 3's code finds what is wrong with the line.
        let n = if five { 5 } else { 0 };
        // The bytes next to a comma, inside the line: if none is a space, a tab or
        // another byte below, no field needs trimming.
        let clean = blank & (c << 1 | c >> 1) & line == 0;
        row_fields(acc, block, start, &commas, n, start + e, clean).map_err(|err| (start, err))?;
        start += e + 1;
    }
    let rest = &block[start..];
    match memchr(b'"', rest) {
        Some(_) => add_block(acc, rest),
        None => walk(acc, rest, row_swar),
    }
    .map_err(|(at, err)| (start + at, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_amounts_equal_the_lab_parser() {
        let mut cases: Vec<String> = [
            "0.00",
            "1.00",
            "12.34",
            "-12.34",
            "+5.50",
            "99999.99",
            "100000.00",
            "7",
            "1.5",
            "-0.05",
            "1.234",
            ".50",
            "1..50",
            "1a.00",
            "12.3x",
            "-",
            "",
            "--1.00",
            "00012.34",
            "1 2.34",
            "12,34",
            "١٢.٣٤",
            "9.9\u{0}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for v in (0..200_000i64).step_by(37) {
            cases.push(format!("{}.{:02}", v / 100, v % 100));
            cases.push(format!("-{}.{:02}", v * 7 / 100, v % 100));
        }
        for case in cases {
            let expected = parse_cents(case.as_bytes());
            // With room after the amount (the fast path), and without (the fallback).
            let mut padded = case.clone().into_bytes();
            padded.extend_from_slice(b",1\n0000000000");
            assert_eq!(
                parse_cents_swar(&padded, 0, case.len()),
                expected,
                "{case:?}"
            );
            assert_eq!(
                parse_cents_swar(case.as_bytes(), 0, case.len()),
                expected,
                "{case:?}"
            );
        }
    }

    #[test]
    fn loaded_keys_equal_copied_keys() {
        let text = b"Lyon,Saint-Etienne,Clermont-Ferrand,a,Besan\xc3\xa7on,0123456789abcdef,";
        let mut start = 0;
        for end in memchr::memchr_iter(b',', text) {
            let name = &text[start..end];
            assert_eq!(load_key(text, start, end), pack_copied(name), "{name:?}");
            start = end + 1;
        }
    }
}
