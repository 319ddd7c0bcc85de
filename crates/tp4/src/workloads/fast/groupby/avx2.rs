//! W4 rung 7, `avx2`: rung 6's one window per line (see [`super::simd`]) with the
//! work per line cut to what a row needs, on processors with AVX2 and BMI1/BMI2
//! (every x86-64 processor since 2013–2015, detected at run time as in W7's `sse`
//! rung; any other processor runs rung 6).
//!
//! Callgrind on rung 6 (`lignes`, 393 instructions per row) found its instructions
//! spread thin: about 50 in the four masks of the window built 16 bytes at a time,
//! 40 in bounds checks (`slice/index.rs`), 26 in `Option` plumbing of the amount
//! parser, 22 in the five `trailing_zeros` of the baseline x86-64 build (`bsf` and a
//! test for zero each), 39 in shifts by a variable count (`shl %cl`, which needs the
//! `cl` register). This rung changes four things, each visible in the disassembly:
//! - the window is read in two 32-byte AVX2 registers: four masks from eight
//!   comparisons and eight `vpmovmskb` instead of sixteen of each;
//! - one test per line says whether the fast path applies: the line ends inside
//!   the window, has exactly five commas (`popcnt`), no quote, and no byte at or
//!   below `b' '` next to a comma (so no field needs trimming); any other line goes
//!   through rung 3's line reader, which gives the same answers and errors;
//! - one bounds check per line: the fast path runs while 96 bytes are left from the
//!   line's start, enough for every load it makes (the window, 16 bytes of a name
//!   starting inside it, 8 bytes of the amount), so those loads are unchecked;
//! - compiled with BMI1/BMI2: `tzcnt`, `blsr` (clear the lowest bit), `bzhi` (keep
//!   the low bits) and `shlx`/`shrx` (shifts by any register) are one instruction.
//!
//! The last 96 bytes of a block go through rung 6's reader.
//!
//! Exactness ([`add_block_exact`], the entry point of this rung and of `optimise`):
//! the plain-block proof of the other rungs ([`super::plain_block`]) is a second pass
//! over each block that walks every comma and reads the digits of `id`, `amount` and
//! `quantity` byte by byte (about 420 instructions per row: 245 → 668 for this
//! rung). Here the proof is made per line on the window the parser reads anyway
//! ([`plain_line`]): two more masks (digits, bytes ≥ 0x80), control bytes with the quotes, and a
//! few bit tests say whether the line is in the plain subset of the grammar; a plain
//! line goes to the fast parser, any other line (and the last 96 bytes of a block,
//! and lines of 64 bytes or more) to the lab's reference reader
//! ([`super::reference_line`], checked sums). Both paths give the reference's answer
//! for their line, so the block's answer, refusal and line number are the reference's.
//! Callgrind, the 200 000-row file: 668 → 312 instructions per row (245 without any
//! proof).

use super::simd::{self, LoadedNames};
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use super::simd::{amount_word, KEY_MASKS};
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use super::{add_line, reference_line};
use super::{Acc, RowError};
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use crate::cpu::Avx2Token;
use crate::cpu::Level;

/// Aggregates a block of whole lines with this rung's reader when the level the lab
/// uses ([`crate::cpu::level`]) has AVX2 and BMI1/BMI2, with rung 6's otherwise; on
/// error, the offset of the bad line in the block. Public for the cluster's map step
/// (`tp4-cluster`'s `fastmap`), which runs this reader over its own byte range of the
/// mapped file.
pub fn add_block(acc: &mut Acc<LoadedNames>, block: &[u8]) -> Result<(), (usize, RowError)> {
    add_block_at(crate::cpu::level(), acc, block)
}

/// [`add_block`] at an explicit vector level (at most the machine's): what the tests
/// run at every level of [`crate::cpu::available`].
pub fn add_block_at(
    level: Level,
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    if let Some(token) = Avx2Token::at(level) {
        // SAFETY: the token proves AVX2, BMI1, BMI2 and POPCNT (`cpu::Avx2Token`).
        return unsafe { add_block_avx2(token, acc, block) };
    }
    let _ = level;
    simd::add_block_rows(acc, block)
}

/// Bytes that must be left from a line's start for the fast path: the 64-byte
/// window, and a name's 16 bytes loaded from a comma inside it (63 + 1 + 16 = 80).
#[cfg_attr(
    not(all(target_arch = "x86_64", not(feature = "sans-simd"))),
    allow(dead_code)
)]
const ROOM: usize = 96;

/// The masks of a 64-byte window: commas, line ends, double quotes, bytes at or
/// below `b' '` (spaces, tabs, CR and other control bytes), and for the per-line
/// proof ([`plain_line`]) decimal digits and bytes at or above 0x80 (its `quote`
/// mask also has the control bytes, below `b' '`: neither may be in a plain line).
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[derive(Debug, Default)]
struct Masks {
    comma: u64,
    newline: u64,
    quote: u64,
    blank: u64,
    digit: u64,
    high: u64,
}

/// The [`Masks`] of the 64 bytes at `w`, in two 32-byte registers: commas, line
/// ends, quotes and blanks for the fast path ([`add_block_avx2`]); with `PROOF`, the
/// masks of the per-line proof ([`plain_line`]) too: digits, bytes ≥ 0x80, and the
/// control bytes in the `quote` mask (`digit` and `high` stay empty without it). One
/// load and movemask loop for both paths; `PROOF` is a constant, so each path compiles
/// to the comparisons it needs only.
///
/// # Safety
/// The processor must support AVX2; 64 bytes must be readable at `w`.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks<const PROOF: bool>(w: *const u8) -> Masks {
    use std::arch::x86_64::*;
    let mut m = Masks::default();
    for h in 0..2 {
        // SAFETY: the caller guarantees 64 readable bytes; this reads 32 of them.
        let v = unsafe { _mm256_loadu_si256(w.add(32 * h).cast()) };
        let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * h);
        m.comma |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b',' as i8)));
        m.newline |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8)));
        let mut quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        if PROOF {
            let ctl = _mm256_min_epu8(v, _mm256_set1_epi8(0x1F));
            quote = _mm256_or_si256(quote, _mm256_cmpeq_epi8(ctl, v));
            let d = _mm256_sub_epi8(v, _mm256_set1_epi8(b'0' as i8));
            m.digit |= bits(_mm256_cmpeq_epi8(
                _mm256_min_epu8(d, _mm256_set1_epi8(9)),
                d,
            ));
            m.high |= bits(v);
        }
        m.quote |= bits(quote);
        let low = _mm256_min_epu8(v, _mm256_set1_epi8(b' ' as i8));
        m.blank |= bits(_mm256_cmpeq_epi8(low, v));
    }
    m
}

/// Whether the line of `e` bytes at `w` (its `\n` at `e`, inside the window whose
/// masks are `m`) is in the plain subset of the grammar, the same as
/// [`super::plain_block`]'s: five commas, no quote, no control byte but a final CR
/// before the `\n`, nothing to trim next to a comma (the ends of the line are
/// digits), `id` of 1 to 19 digits, a date that is not empty, `quantity` of 1 to 9
/// digits, valid UTF-8. The names and the amount are checked by [`add_row`] (1 to
/// 16 bytes, the amount's usual shape without `+`), which gives the line back
/// otherwise.
///
/// # Safety
/// 64 bytes must be readable at `w`; `e` is below 64.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
unsafe fn plain_line(m: &Masks, w: *const u8, e: usize) -> bool {
    let line = (1u64 << e) - 1;
    let commas = m.comma & line;
    if commas.count_ones() != 5 {
        return false;
    }
    // SAFETY: five commas before `e`, so e ≥ 5 and `e - 1` is in the window.
    let cr = usize::from(unsafe { *w.add(e - 1) } == b'\r');
    let body = line >> cr; // the line without its final CR
    let c0 = commas.trailing_zeros() as usize;
    let c1 = (commas & (commas - 1)).trailing_zeros() as usize;
    let c4 = 63 - commas.leading_zeros() as usize;
    let id = (1u64 << c0) - 1;
    let quantity = body & !((2u64 << c4) - 1);
    let quantity_len = (e - cr) - c4 - 1;
    let near_comma = (m.comma << 1 | m.comma >> 1) & line;
    // `m.quote` has the control bytes too; a final CR is not in `body`.
    let bad = m.quote & body
        | m.blank & near_comma
        | (m.digit & id) ^ id
        | (m.digit & quantity) ^ quantity;
    if bad != 0 || c0.wrapping_sub(1) > 18 || quantity_len.wrapping_sub(1) > 8 || c1 - c0 < 2 {
        return false;
    }
    // SAFETY: the caller guarantees 64 readable bytes at `w`, and e < 64.
    m.high & line == 0 || std::str::from_utf8(unsafe { std::slice::from_raw_parts(w, e) }).is_ok()
}

/// Aggregates a block of whole lines exactly as the lab's reader would (the entry
/// point of this rung and of `optimise`): with the per-line proof on AVX2, BMI1,
/// BMI2 and POPCNT processors ([`plain_line`]), with the plain-block proof and rung
/// 6 otherwise ([`super::add_block_exact`]). While the rows the block may hold,
/// added unchecked, could not make a total overflow (the bound of
/// [`super::add_block_exact`]); else every line goes through the reference reader.
/// On error, the offset of the bad line in the block.
pub(super) fn add_block_exact(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    add_block_exact_at(crate::cpu::level(), acc, block)
}

/// [`add_block_exact`] at an explicit vector level (at most the machine's).
pub(super) fn add_block_exact_at(
    level: Level,
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    if let Some(token) = Avx2Token::at(level) {
        if acc.unchecked_fits(most_rows(block)) {
            // SAFETY: the token proves AVX2, BMI1, BMI2 and POPCNT (`cpu::Avx2Token`).
            return unsafe { add_block_proved(token, acc, block) };
        }
        return super::reference_block(acc, block);
    }
    let _ = level;
    // Below AVX2, `add_block_at` is rung 6's reader.
    super::add_block_exact(acc, block, simd::add_block_rows)
}

/// The most rows a block may hold: a plain line has at least 11 bytes and its line
/// end.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
fn most_rows(block: &[u8]) -> u64 {
    block.len() as u64 / 12 + 1
}

/// [`add_block_exact`] on a processor with AVX2, BMI1, BMI2 and POPCNT: each line
/// proven plain ([`plain_line`]) and read by [`add_row`], or read by the reference.
///
/// # Safety
/// None beyond the token, which proves the features (the function is `unsafe` only
/// because of its `target_feature`).
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
unsafe fn add_block_proved(
    _token: Avx2Token,
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    let mut buf = String::new();
    let mut fast = 0u64;
    let mut start = 0;
    while start + ROOM <= block.len() {
        // SAFETY: ROOM (96) bytes are left from `start`.
        let w = unsafe { block.as_ptr().add(start) };
        // SAFETY: AVX2 is enabled here; 64 bytes are readable at `w`.
        let m = unsafe { masks::<true>(w) };
        let end = if m.newline == 0 {
            // A line of 64 bytes or more: the reference.
            memchr::memchr(b'\n', &block[start + 64..]).map_or(block.len(), |e| start + 65 + e)
        } else {
            let e = m.newline.trailing_zeros() as usize;
            // SAFETY: e < 64 and 96 bytes are readable at `w`; `add_row` is given the
            // five commas of the line.
            if unsafe { plain_line(&m, w, e) && add_row(acc, w, m.comma & ((1u64 << e) - 1)) } {
                fast += 1;
                start += e + 1;
                continue;
            }
            start + e + 1
        };
        reference_line(acc, &block[start..end], &mut buf).map_err(|err| (start, err))?;
        start = end;
        if !acc.unchecked_fits(fast + most_rows(block)) {
            // That line's amount was large: the rest of the block takes the checked path.
            acc.plain_rows += fast;
            return super::reference_block(acc, &block[start..])
                .map_err(|(at, err)| (start + at, err));
        }
    }
    acc.plain_rows += fast;
    for raw in block[start..].split_inclusive(|&b| b == b'\n') {
        reference_line(acc, raw, &mut buf).map_err(|err| (start, err))?;
        start += raw.len();
    }
    Ok(())
}

/// The key of the name of `len` bytes (1 to 16) at `p` in [`LoadedNames`]' layout:
/// one 16-byte load masked to its length, as rung 5's.
///
/// # Safety
/// 16 bytes must be readable at `p`; `len` is at most 16.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
unsafe fn key(p: *const u8, len: usize) -> (u64, u64) {
    // SAFETY: the caller guarantees 16 readable bytes at `p` and 1 ≤ len ≤ 16.
    let (lo, hi, (m0, m1)) = unsafe {
        (
            p.cast::<u64>().read_unaligned(),
            p.add(8).cast::<u64>().read_unaligned(),
            *KEY_MASKS.get_unchecked(len),
        )
    };
    (lo & m0, hi & m1)
}

/// The amount of `len` bytes at `p` in cents when it has the usual shape (optional
/// `-`, 1 to 5 digits, a point, 2 digits), as [`simd::parse_cents_swar`] but with
/// no bounds check; `None` for any other shape (then the line goes the slow way).
///
/// # Safety
/// 9 bytes must be readable at `p`.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
unsafe fn amount(p: *const u8, len: usize) -> Option<i64> {
    // SAFETY: the caller guarantees 9 readable bytes at `p`.
    let first = unsafe { *p };
    let signed = usize::from(first == b'-');
    let n = len.wrapping_sub(signed); // digits and point (4 to 8 wanted)
    if n.wrapping_sub(4) > 4 {
        return None;
    }
    // SAFETY: n ≤ 8 and signed ≤ 1, so every byte read is among the 9 of `p`.
    let (point, x) = unsafe {
        let t = p.add(signed);
        (*t.add(n - 3), t.cast::<u64>().read_unaligned())
    };
    if point != b'.' {
        return None;
    }
    let v = amount_word(x, n - 3)? as i64; // 1 to 5 digits before the point
    Some(if first == b'-' { -v } else { v })
}

/// [`add_block`] on a processor with AVX2, BMI1, BMI2 and POPCNT.
///
/// # Safety
/// None beyond the token, which proves the features (the function is `unsafe` only
/// because of its `target_feature`).
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
unsafe fn add_block_avx2(
    _token: Avx2Token,
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    let mut start = 0;
    while start + ROOM <= block.len() {
        // SAFETY: ROOM (96) bytes are left from `start`.
        let w = unsafe { block.as_ptr().add(start) };
        // SAFETY: AVX2 is enabled here; 64 bytes are readable at `w`.
        let m = unsafe { masks::<false>(w) };
        if m.newline == 0 {
            // A line of 64 bytes or more: rung 3's line reader.
            let end =
                memchr::memchr(b'\n', &block[start + 64..]).map_or(block.len(), |e| start + 64 + e);
            add_line(acc, &block[start..end], true).map_err(|err| (start, err))?;
            start = (end + 1).min(block.len());
            continue;
        }
        let e = m.newline.trailing_zeros() as usize;
        let line = (1u64 << e) - 1;
        let commas = m.comma & line;
        let near_comma = (m.comma << 1 | m.comma >> 1) & line;
        let usual = commas.count_ones() == 5 && m.quote & line == 0 && m.blank & near_comma == 0;
        // SAFETY: ROOM bytes are left from `start` (the loop's condition); the line
        // ends inside the window, so its five commas are bits below 64.
        if usual && unsafe { add_row(acc, w, commas) } {
            start += e + 1;
            continue;
        }
        add_line(acc, &block[start..start + e], true).map_err(|err| (start, err))?;
        start += e + 1;
    }
    match block.get(start..) {
        Some(rest) if !rest.is_empty() => {
            simd::add_block_rows(acc, rest).map_err(|(at, err)| (start + at, err))
        }
        _ => Ok(()),
    }
}

/// Aggregates the line at `w` whose five commas (within its window) are the bits of
/// `commas`, if its names have 1 to 16 bytes and its amount the usual shape; false
/// (nothing added) otherwise.
///
/// # Safety
/// [`ROOM`] bytes must be readable at `w`; `commas` has five bits, all below 64.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
unsafe fn add_row(acc: &mut Acc<LoadedNames>, w: *const u8, commas: u64) -> bool {
    let c = commas & (commas - 1); // the id and date are not read
    let c1 = c.trailing_zeros() as usize;
    let c = c & (c - 1);
    let c2 = c.trailing_zeros() as usize;
    let c = c & (c - 1);
    let c3 = c.trailing_zeros() as usize;
    let c = c & (c - 1);
    let c4 = c.trailing_zeros() as usize;
    let (city_len, category_len) = (c2 - c1 - 1, c3 - c2 - 1);
    // 1 to 16 bytes each (0 wraps to usize::MAX).
    if city_len.wrapping_sub(1) > 15 || category_len.wrapping_sub(1) > 15 {
        return false;
    }
    // SAFETY: every comma is below 64, so the amount's 9 bytes and each name's 16 are
    // within the ROOM (96) readable bytes at `w`.
    unsafe {
        let Some(cents) = amount(w.add(c3 + 1), c4 - c3 - 1) else {
            return false;
        };
        let (city, category) = (w.add(c1 + 1), w.add(c2 + 1));
        let (lo, hi) = key(category, category_len);
        let k =
            acc.categories
                .index_key(std::slice::from_raw_parts(category, category_len), lo, hi);
        let (lo, hi) = key(city, city_len);
        let t = acc
            .cities
            .index_key(std::slice::from_raw_parts(city, city_len), lo, hi);
        acc.add_indexed(k, t, cents, 1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{available, Avx2Token};

    /// The answer of a block through [`add_block_exact_at`] at `level` and through
    /// the reference, as comparable text, and the rows the fast path took.
    fn both(level: Level, block: &[u8]) -> (String, String, u64) {
        let show = |acc: Acc<LoadedNames>, r: Result<(), (usize, RowError)>| match r {
            Ok(()) => format!("{:?}", acc.totals()),
            Err((at, e)) => format!("{at} {} {}", e.field, e.message),
        };
        let mut fast = Acc::default();
        let r = add_block_exact_at(level, &mut fast, block);
        let rows = fast.plain_rows;
        let mut slow = Acc::default();
        let s = super::super::reference_block(&mut slow, block);
        (show(fast, r), show(slow, s), rows)
    }

    /// Each rule of the per-line proof at every offset of the 64-byte window (the
    /// date padded so that what follows it moves by one byte each time, up to a line
    /// end at byte 63): a plain line takes the fast path, a line that breaks a rule
    /// does not, and the block's answer or refusal is the reference's.
    #[test]
    fn each_rule_of_the_line_proof_at_every_offset() {
        for level in available() {
            each_rule_at(level);
        }
    }

    /// [`each_rule_of_the_line_proof_at_every_offset`] at one level: the answers at
    /// every level, the rows of the fast path where it runs (AVX2).
    fn each_rule_at(level: Level) {
        let proof = Avx2Token::at(level).is_some();
        // Plain lines after the tested one, so that it is read in the fast loop.
        let tail = b"1,d,Lyon,sport,2.50,1\n".repeat(12);
        // The tail's lines read by the fast loop: those with ROOM bytes left.
        let fast_tail = |first: usize| {
            (0..12)
                .filter(|k| first + 22 * k + ROOM <= first + tail.len())
                .count() as u64
        };
        let line = |id: &str, pad: usize, rest: &str, end: &str| {
            format!("{id},2024-01-01{},{rest}{end}", "x".repeat(pad)).into_bytes()
        };
        let good = [
            ("12", "Le Havre,sport,-12.50,3", "\n"),
            ("1234567890123456789", "Pau,jeux,0.05,999999999", "\n"),
            ("7", "Orléans,électronique,99999.99,1", "\r\n"),
        ];
        let bad = [
            ("12", "Le Havre ,sport,-12.50,3", "\n"),
            ("12", " Le Havre,sport,-12.50,3", "\n"),
            ("12", "\"Le Havre\",sport,-12.50,3", "\n"),
            ("12", "Le\tHavre,sport,-12.50,3", "\n"),
            ("12", "Le\rHavre,sport,-12.50,3", "\n"),
            ("12", "Le\x01Havre,sport,-12.50,3", "\n"),
            ("12", ",sport,-12.50,3", "\n"),
            ("", "Le Havre,sport,-12.50,3", "\n"),
            (" 12", "Le Havre,sport,-12.50,3", "\n"),
            ("12345678901234567890", "Le Havre,sport,-12.50,3", "\n"),
            ("1a", "Le Havre,sport,-12.50,3", "\n"),
            ("12", "Le Havre,sport,-12.50,", "\n"),
            ("12", "Le Havre,sport,-12.50,3,", "\n"),
            ("12", "Le Havre,sport,+12.50,3", "\n"),
            ("12", "Le Havre,sport,12.50,3a", "\n"),
            ("12", "Le Havre,sport,12.50,3 ", "\n"),
            ("12", "Le Havre,sport,12.50,1234567890", "\n"),
            ("12", "Le Havre,sport,12.50,3\r", "\r\n"),
            ("12", "Le Havre,sport,12.50", "\n"),
            ("12", "Le \u{ff}\u{fe},sport,12.50,3", "\n"),
        ];
        for pad in 0..40 {
            for (id, rest, end) in good {
                let text = line(id, pad, rest, end);
                if text.len() > 64 {
                    continue;
                }
                let block = [&text[..], &tail].concat();
                let (fast, slow, rows) = both(level, &block);
                assert_eq!(fast, slow, "{pad} {:?}", String::from_utf8_lossy(&text));
                if !proof {
                    continue;
                }
                assert_eq!(
                    rows,
                    1 + fast_tail(text.len()),
                    "{pad} {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
            for (id, rest, end) in bad {
                let mut text = line(id, pad, rest, end);
                if text.len() > 64 {
                    continue;
                }
                if rest.contains('\u{ff}') {
                    // Invalid UTF-8: a lone continuation byte in the city.
                    let at = text.iter().position(|&b| b == 0xC3).unwrap();
                    text[at] = 0xFF;
                }
                let block = [&text[..], &tail].concat();
                let (fast, slow, rows) = both(level, &block);
                assert_eq!(
                    fast,
                    slow,
                    "{level} {pad} {:?}",
                    String::from_utf8_lossy(&text)
                );
                // A refused line stops the block (the answers above compare the
                // refusals); an accepted one was read by the reference.
                let refused = slow.starts_with("0 ");
                assert!(
                    !proof || refused || rows == fast_tail(text.len()),
                    "{pad} {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    /// A total brought near the `i64` limit by a line of the checked path, then plain
    /// lines: they take the checked path too, and the block is refused where the
    /// reference refuses it (no unchecked sum overflows).
    #[test]
    fn large_totals_of_the_checked_path_stop_the_unchecked_one() {
        for first in [
            "92233720368547758.00",
            "-92233720368547758.00",
            "46116860184273879.04",
        ] {
            let mut block = format!("1,d,Lyon,sport,{first},1\n").into_bytes();
            for i in 0..30 {
                block.extend_from_slice(b"2,d,Lyon,sport,99999.99,1\n");
                block.extend_from_slice(format!("{i},d,Lyon,sport,-0.0{},1\n", i % 10).as_bytes());
                block.extend_from_slice(
                    format!("{i},d,Lyon,sport,46116860184273879.0{},1\n", i % 10).as_bytes(),
                );
            }
            for level in available() {
                let (fast, slow, _) = both(level, &block);
                assert_eq!(fast, slow, "{level} {first}");
            }
        }
    }

    /// Blocks of random plain and broken lines, cut at every length near the end of
    /// the fast loop: the answer or refusal (and its offset) is the reference's.
    #[test]
    fn random_blocks_match_the_reference() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pieces: [&[u8]; 9] = [
            b" ",
            b",",
            b"\"",
            b"\r",
            b"\t",
            b"\xC3\xA9",
            b"\xFF",
            b"+",
            b"\n",
        ];
        for _ in 0..300 {
            let mut block = Vec::new();
            for i in 0..12 {
                let mut text = format!(
                    "{i},2024-01-0{},Ville{},cat{},{}.{:02},{}\n",
                    next(10),
                    next(30),
                    next(5),
                    next(100_000),
                    next(100),
                    next(20)
                )
                .into_bytes();
                if next(4) == 0 {
                    let at = next(text.len() as u64) as usize;
                    let piece = pieces[next(pieces.len() as u64) as usize];
                    text.splice(at..at, piece.iter().copied());
                }
                block.extend_from_slice(&text);
            }
            let cut = block.len() - next(40) as usize;
            for level in available() {
                let (fast, slow, _) = both(level, &block[..cut]);
                assert_eq!(
                    fast,
                    slow,
                    "{level} {:?}",
                    String::from_utf8_lossy(&block[..cut])
                );
            }
        }
    }
}
