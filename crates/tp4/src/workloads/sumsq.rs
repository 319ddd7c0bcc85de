//! W3 sumsq: the sum of squares of M `f64` values, x_i = (i mod 1000) / 1000. One
//! multiply-add per 8 bytes read: once the arithmetic uses wide vectors, the
//! processor waits for the array to arrive (from memory, or from the last-level
//! cache when it holds the array), so the speed limit is the read speed, not the
//! number of cores.
//!
//! Floating-point addition is not associative, so the compiler may not reorder a
//! plain `fold` into SIMD lanes. [`sum_lanes`] writes the reordering by hand (8
//! independent accumulators), which lets the compiler vectorise it with what the
//! default x86-64 target allows (SSE2). The ladder of exercise 7
//! ([`crate::workloads::fast::sumsq`]) goes further: FMA on the widest vectors of the
//! processor, then threads.

use rayon::prelude::*;

/// The input array (filled before timing), in huge pages where the system allows it
/// ([`advise_huge_pages`]), as numpy does for its large arrays.
pub fn fill(m: usize) -> Vec<f64> {
    let mut xs: Vec<f64> = Vec::with_capacity(m);
    advise_huge_pages(xs.spare_capacity_mut());
    xs.extend((0..m).map(|i| (i % 1000) as f64 / 1000.0));
    xs
}

/// Asks Linux to back `buf` (not yet written) with transparent huge pages of 2 MiB
/// (`madvise(MADV_HUGEPAGE)`, which a system whose THP mode is `madvise`, the
/// common default, needs): a pass over a 400 MB array then walks 200 page-table
/// entries instead of 100 000, and the processor's address cache (TLB) stops
/// missing. numpy does the same for every array of 4 MiB or more. Only a hint: a
/// refusal changes nothing but the speed, and other systems ignore it.
pub fn advise_huge_pages<T>(buf: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let bytes = std::mem::size_of_val(buf);
        if bytes < 4 << 20 {
            return;
        }
        let start = buf.as_mut_ptr() as usize;
        let aligned = start.next_multiple_of(PAGE);
        let len = (bytes - (aligned - start)) / PAGE * PAGE;
        // SAFETY: the range [aligned, aligned + len) lies inside `buf`, which this
        // process owns; MADV_HUGEPAGE only changes how the kernel backs the pages,
        // never their contents or the mapping, so no Rust reference is invalidated.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

/// Plain sequential sum: one accumulator, a dependency chain of additions.
pub fn sum_seq(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |acc, &x| acc + x * x)
}

/// Sequential sum with 8 independent accumulators: vectorisable.
pub fn sum_lanes(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i] * c[i];
        }
    }
    let tail: f64 = rest.iter().map(|x| x * x).sum();
    acc.iter().sum::<f64>() + tail
}

/// Parallel sum with rayon (on the current pool): chunks of 64 Ki values, each
/// summed with [`sum_lanes`].
pub fn sum_rayon(xs: &[f64]) -> f64 {
    xs.par_chunks(1 << 16).map(sum_lanes).sum()
}

/// The read baseline of W3 (`tp4 bench sumsq`, strategy `bandwidth`): the array
/// read once by the current rayon pool with the widest vector loads of the processor
/// and one addition per load, no multiplication
/// ([`crate::workloads::fast::sumsq::read_wide`]). It measures how fast this code
/// reads this array on these threads, the speed a W3 sum can at best come close to;
/// it is not the memory's peak bandwidth from a data sheet, and when the last-level
/// cache holds the array it is the cache's speed. Its answer is Σ x, checked by
/// [`is_ok_plain`].
pub fn read_bandwidth(xs: &[f64]) -> f64 {
    crate::workloads::fast::sumsq::read_wide(xs)
}

/// Sequential plain sum (no square) in 8 independent lanes: vectorisable.
pub fn sum_plain_lanes(xs: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f64>() + rest.iter().sum::<f64>()
}

/// The exact plain sum Σ x_i, to check [`read_bandwidth`].
pub fn closed_form_plain(m: u64) -> f64 {
    let below = |n: u64| (n * n.saturating_sub(1) / 2) as f64;
    let (q, r) = (m / 1000, m % 1000);
    (q as f64 * below(1000) + below(r)) / 1e3
}

/// The check of the bandwidth baseline (same tolerance as [`is_ok`]).
pub fn is_ok_plain(sum: f64, m: u64) -> bool {
    let exact = closed_form_plain(m);
    (sum - exact).abs() <= 1e-9 * exact.max(1.0)
}

/// The exact answer: Σ over full periods of Σ_{j<1000} (j/1000)² plus the partial one.
pub fn closed_form(m: u64) -> f64 {
    let squares_below = |n: u64| (n.saturating_sub(1) * n * (2 * n).saturating_sub(1)) as f64 / 6.0;
    let (q, r) = (m / 1000, m % 1000);
    (q as f64 * squares_below(1000) + squares_below(r)) / 1e6
}

/// The check: relative error below 1e-9 (any order of summation of these values
/// stays far below it).
pub fn is_ok(sum: f64, m: u64) -> bool {
    let exact = closed_form(m);
    (sum - exact).abs() <= 1e-9 * exact.max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sums_match_the_closed_form() {
        for m in [0usize, 1, 7, 999, 1000, 1001, 123_457] {
            let xs = fill(m);
            for s in [sum_seq(&xs), sum_lanes(&xs), sum_rayon(&xs)] {
                assert!(
                    is_ok(s, m as u64),
                    "m={m} s={s} exact={}",
                    closed_form(m as u64)
                );
            }
        }
        assert!(!is_ok(closed_form(5000) * 1.001, 5000));
    }

    #[test]
    fn bandwidth_baseline_reads_everything() {
        for m in [0usize, 1, 999, 1001, 200_003] {
            let xs = fill(m);
            let naive: f64 = xs.iter().sum();
            assert!(is_ok_plain(read_bandwidth(&xs), m as u64), "m={m}");
            assert!(is_ok_plain(naive, m as u64), "m={m}");
        }
        assert!(!is_ok_plain(closed_form_plain(5000) * 1.001, 5000));
    }
}
