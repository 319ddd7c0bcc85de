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

use super::simd::{self, amount_word, LoadedNames, KEY_MASKS};
use super::{add_line, Acc, RowError};

/// Aggregates a block of whole lines with this rung's reader when the processor has
/// AVX2, BMI1, BMI2 and POPCNT, with rung 6's otherwise; on error, the offset of the
/// bad line in the block. Public for the cluster's map step (`tp4-cluster`'s
/// `fastmap`), which runs this reader over its own byte range of the mapped file.
pub fn add_block(acc: &mut Acc<LoadedNames>, block: &[u8]) -> Result<(), (usize, RowError)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the features were detected just above.
        return unsafe { add_block_avx2(acc, block) };
    }
    simd::add_block_rows(acc, block)
}

/// Bytes that must be left from a line's start for the fast path: the 64-byte
/// window, and a name's 16 bytes loaded from a comma inside it (63 + 1 + 16 = 80).
const ROOM: usize = 96;

/// The masks of a 64-byte window: commas, line ends, double quotes, and bytes at or
/// below `b' '` (spaces, tabs, CR and other control bytes).
#[cfg(target_arch = "x86_64")]
struct Masks {
    comma: u64,
    newline: u64,
    quote: u64,
    blank: u64,
}

/// The [`Masks`] of the 64 bytes at `w`, in two 32-byte registers.
///
/// # Safety
/// The processor must support AVX2; 64 bytes must be readable at `w`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks(w: *const u8) -> Masks {
    use std::arch::x86_64::*;
    let mut m = Masks {
        comma: 0,
        newline: 0,
        quote: 0,
        blank: 0,
    };
    for h in 0..2 {
        // SAFETY: the caller guarantees 64 readable bytes; this reads 32 of them.
        let v = unsafe { _mm256_loadu_si256(w.add(32 * h).cast()) };
        let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * h);
        m.comma |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b',' as i8)));
        m.newline |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8)));
        m.quote |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8)));
        let low = _mm256_min_epu8(v, _mm256_set1_epi8(b' ' as i8));
        m.blank |= bits(_mm256_cmpeq_epi8(low, v));
    }
    m
}

/// The key of the name of `len` bytes (1 to 16) at `p` in [`LoadedNames`]' layout:
/// one 16-byte load masked to its length, as rung 5's.
///
/// # Safety
/// 16 bytes must be readable at `p`; `len` is at most 16.
#[cfg(target_arch = "x86_64")]
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
/// sign, 1 to 5 digits, a point, 2 digits), as [`simd::parse_cents_swar`] but with
/// no bounds check; `None` for any other shape (then the line goes the slow way).
///
/// # Safety
/// 9 bytes must be readable at `p`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn amount(p: *const u8, len: usize) -> Option<i64> {
    // SAFETY: the caller guarantees 9 readable bytes at `p`.
    let first = unsafe { *p };
    let signed = usize::from(first == b'-' || first == b'+');
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
/// The processor must support those features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
unsafe fn add_block_avx2(
    acc: &mut Acc<LoadedNames>,
    block: &[u8],
) -> Result<(), (usize, RowError)> {
    let mut start = 0;
    while start + ROOM <= block.len() {
        // SAFETY: ROOM (96) bytes are left from `start`.
        let w = unsafe { block.as_ptr().add(start) };
        // SAFETY: AVX2 is enabled here; 64 bytes are readable at `w`.
        let m = unsafe { masks(w) };
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
        if usual && add_row(acc, w, commas) {
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
#[cfg(target_arch = "x86_64")]
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
