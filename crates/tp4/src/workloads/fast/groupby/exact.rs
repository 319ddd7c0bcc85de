//! How a fast rung stays exact: the proof, a block at a time, that every line is in
//! the plain subset of the grammar ([`plain_block`]: six fields, nothing to trim or
//! unquote, numbers that fit, valid UTF-8, no lone CR), with 64-byte class masks
//! (SSE2 on x86-64); a block that is not plain goes line by line to the reference
//! reader ([`reference_block`]), the one exact slow path.

// The ladder's shared items (names, totals, readers) are the parent module's.
use super::*;

/// Largest amount, in cents, that the plain-block test ([`plain_block`]) lets through
/// to the unchecked fast path: at most 9 digits before the point.
pub(super) const PLAIN_CENTS: u64 = 100_000_000_000;

/// Whether a field is 1 to `max` decimal digits.
#[inline(always)]
pub(super) fn plain_digits(f: &[u8], max: usize) -> bool {
    let mut bad = f.is_empty() || f.len() > max;
    for &b in f {
        bad |= b.wrapping_sub(b'0') > 9;
    }
    !bad
}

/// Whether an amount is plain: an optional `-`, 1 to 9 digits, optionally a point
/// and 1 or 2 digits (so less than [`PLAIN_CENTS`] cents).
#[inline(always)]
pub(super) fn plain_amount(f: &[u8]) -> bool {
    let f = match f.first() {
        Some(b'-') => &f[1..],
        _ => f,
    };
    // The point, if any, is 2 or 3 bytes from the end.
    let n = f.len();
    let point = if n >= 3 && f[n - 3] == b'.' {
        n - 3
    } else if n >= 2 && f[n - 2] == b'.' {
        n - 2
    } else {
        n
    };
    let frac_ok = point == n || plain_digits(&f[point + 1..], 2);
    frac_ok && plain_digits(&f[..point], 9)
}

/// The byte classes of 64 bytes from `at` (fewer at the end of `block`: the missing
/// bytes count as nothing), one bit per byte: quote, control character (below
/// 0x20), space, comma, LF, CR, and bytes ≥ 0x80.
#[derive(Clone, Copy, Default)]
pub(super) struct Classes {
    quote: u64,
    control: u64,
    space: u64,
    comma: u64,
    lf: u64,
    cr: u64,
    high: u64,
}

/// [`Classes`] of `block[at..at + 64]`, with SSE2 (x86-64's baseline): 16 bytes per
/// comparison, one `movemask` per class and 16 bytes.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
pub(super) fn classes(block: &[u8], at: usize) -> Classes {
    use std::arch::x86_64::*;
    let mut tail = [b'a'; 64];
    let bytes: &[u8] = if block.len() - at >= 64 {
        &block[at..at + 64]
    } else {
        let n = block.len() - at;
        tail[..n].copy_from_slice(&block[at..]);
        &tail
    };
    let mut c = Classes::default();
    // SAFETY: SSE2 is part of x86-64; the loads read 4 × 16 bytes of `bytes`, which
    // holds 64.
    unsafe {
        for k in 0..4 {
            let v = _mm_loadu_si128(bytes.as_ptr().add(16 * k).cast::<__m128i>());
            let m = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (16 * k);
            let eq = |b: u8| m(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
            c.quote |= eq(b'"');
            c.space |= eq(b' ');
            c.comma |= eq(b',');
            c.lf |= eq(b'\n');
            c.cr |= eq(b'\r');
            c.high |= m(v);
            c.control |= m(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        }
    }
    c.control &= !c.high;
    c
}

/// [`Classes`] of `block[at..at + 64]`, one byte at a time (other targets).
#[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
#[inline(always)]
pub(super) fn classes(block: &[u8], at: usize) -> Classes {
    let mut c = Classes::default();
    for (i, &b) in block[at..block.len().min(at + 64)].iter().enumerate() {
        let bit = 1u64 << i;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut c.quote, b == b'"');
        set(&mut c.space, b == b' ');
        set(&mut c.comma, b == b',');
        set(&mut c.lf, b == b'\n');
        set(&mut c.cr, b == b'\r');
        set(&mut c.high, b >= 0x80);
        set(&mut c.control, b < 0x20);
    }
    c
}

/// Checks the numeric fields of one line `block[start..end]` (its LF excluded) whose
/// five commas are at `commas`; returns the rows it holds (0 for an empty line).
#[inline(always)]
pub(super) fn plain_numbers(
    block: &[u8],
    start: usize,
    end: usize,
    commas: &[usize; 5],
    n: usize,
) -> Option<u64> {
    let end = if end > start && block[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    if end == start && n == 0 {
        return Some(0);
    }
    let ok = n == 5
        && plain_digits(&block[start..commas[0]], 19)
        && plain_amount(&block[commas[3] + 1..commas[4]])
        && plain_digits(&block[commas[4] + 1..end], 9);
    ok.then_some(1)
}

/// Counts the rows of a block if every line of it is in the plain subset of the
/// grammar that every fast rung reads exactly as the lab's reader does, `None`
/// otherwise. Plain: six fields, none empty, none to trim or unquote (no quote, no
/// space next to a comma or a line end, no control character but the line ends, no
/// lone CR), `id` and `quantity` digits that fit, an amount of at most 9 digits
/// before the point (less than [`PLAIN_CENTS`] cents), valid UTF-8. The byte tests
/// are made on 64-byte masks (SSE2, as simdjson's first stage), the numeric fields
/// are read between the commas those masks locate.
pub(super) fn plain_block(block: &[u8]) -> Option<u64> {
    // Classes of the byte before the current one (the block starts a line).
    let (mut p_space, mut p_comma, mut p_lf, mut p_cr) = (0u64, 0u64, 1u64, 0u64);
    let mut high = 0u64;
    let mut rows = 0u64;
    let mut line_start = 0usize;
    let mut commas = [0usize; 5];
    let mut n = 0usize;
    let mut at = 0usize;
    while at < block.len() {
        let c = classes(block, at);
        let valid = match block.len() - at {
            64.. => u64::MAX,
            k => (1u64 << k) - 1,
        };
        let before = |mask: u64, carry: u64| mask << 1 | carry;
        let (b_space, b_comma, b_lf, b_cr) = (
            before(c.space, p_space),
            before(c.comma, p_comma),
            before(c.lf, p_lf),
            before(c.cr, p_cr),
        );
        let ends = c.comma | c.lf | c.cr;
        let bad = c.quote
            | (c.control & !c.lf & !c.cr)
            | (b_cr & !c.lf)
            | (b_space & ends)
            | ((b_comma | b_lf) & c.space)
            | (b_comma & ends)
            | (b_lf & c.comma);
        if bad & valid != 0 {
            return None;
        }
        high |= c.high & valid;
        let last = 63.min(block.len() - at - 1);
        (p_space, p_comma, p_lf, p_cr) = (
            c.space >> last & 1,
            c.comma >> last & 1,
            c.lf >> last & 1,
            c.cr >> last & 1,
        );
        let mut structure = (c.comma | c.lf) & valid;
        while structure != 0 {
            let bit = structure.trailing_zeros();
            let i = at + bit as usize;
            structure &= structure - 1;
            if c.comma >> bit & 1 != 0 {
                if n == 5 {
                    return None;
                }
                commas[n] = i;
                n += 1;
            } else {
                rows += plain_numbers(block, line_start, i, &commas, n)?;
                line_start = i + 1;
                n = 0;
            }
        }
        at += 64;
    }
    if line_start < block.len() {
        // A last line without a line end: it may not end with a space, a comma or a CR.
        if p_space | p_comma | p_cr != 0 {
            return None;
        }
        rows += plain_numbers(block, line_start, block.len(), &commas, n)?;
    }
    if high != 0 && std::str::from_utf8(block).is_err() {
        return None;
    }
    Some(rows)
}

/// Aggregates a block of whole lines exactly as the lab's reader would: the rung's
/// fast `add` when the block is proven plain ([`plain_block`]) and no total can
/// overflow yet, else every line through the reference reader
/// ([`crate::data::transactions::parse_line`], checked sums), as simdjson-style
/// parsers keep one exact slow path. On error, the offset of the bad line.
pub fn add_block_exact<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
    add: BlockFn<N>,
) -> std::result::Result<(), (usize, RowError)> {
    if let Some(rows) = plain_block(block) {
        if acc.unchecked_fits(rows) {
            acc.plain_rows += rows;
            return add(acc, block);
        }
    }
    reference_block(acc, block)
}

/// Every line of a block through the lab's reader, with checked sums.
#[inline(never)]
pub(super) fn reference_block<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
) -> std::result::Result<(), (usize, RowError)> {
    let mut buf = String::new();
    let mut pos = 0;
    for raw in block.split_inclusive(|&b| b == b'\n') {
        reference_line(acc, raw, &mut buf).map_err(|e| (pos, e))?;
        pos += raw.len();
    }
    Ok(())
}

/// One line (with its line end, if any) through the lab's reader
/// ([`crate::data::transactions::parse_line`]), with checked sums; `buf` is the
/// reader's scratch space for unquoted fields.
#[inline(never)]
pub(super) fn reference_line<N: Names>(
    acc: &mut Acc<N>,
    raw: &[u8],
    buf: &mut String,
) -> std::result::Result<(), RowError> {
    use crate::data::transactions::{line_content, parse_line};
    match parse_line(line_content(raw), buf) {
        Ok(Some(row)) => acc.add_checked(row.city.as_bytes(), row.category.as_bytes(), row.cents),
        Ok(None) => Ok(()),
        Err(e) => Err(RowError {
            field: e.field,
            message: e.message,
        }),
    }
}

/// The 1-based line number of the byte at `offset` (the error path only).
pub(super) fn line_number_at(path: &Path, offset: u64) -> Result<u64> {
    let mut newlines = 0u64;
    chunks::for_each_block(path, 0..offset, 1 << 20, |b| {
        newlines += memchr::memchr_iter(b'\n', b).count() as u64;
        Ok(())
    })?;
    Ok(newlines + 1)
}
