//! Exercise 7 — benchmarks and optimisation: the reference solutions.
//!
//! A measurement is only worth what its method is worth, and an optimisation only
//! what its measurement shows. This module holds the small, exact pieces the
//! exercise asks students to write, each one the kernel of an experiment of the
//! demonstration ([`demo()`]):
//!
//! - method: [`median`], [`mean`], [`relative_spread`] of repeated timings;
//! - granularity: [`count_primes_chunked`], W1 cut into tasks of a chosen size;
//! - false sharing: [`count_packed`] (per-thread counters in one cache line) versus
//!   [`count_padded`] (each counter on its own line, `CachePadded`);
//! - data layout: [`PointsAos`] versus [`PointsSoa`] and their column sums;
//! - COST: [`cost`], the cores a parallel run needs to beat one good thread;
//! - Amdahl: [`amdahl_hits`], a Monte Carlo π with a deliberate serial part, and the
//!   laws [`amdahl_speedup`] and [`gustafson_speedup`] (the models of
//!   [`crate::models`]).
//!
//! The student's own answers to 7.2 and 7.3 are timed beside these references by
//! [`measure_chunks`] and [`measure_counters`] ([`own`]).
//!
//! The checkers are in [`verif`]: `tp4::ex7::verif::q1_median(...)` and so on.

pub mod cost;
pub mod demo;
pub mod ladder;
pub mod live;
pub mod own;
pub mod verif;

pub use demo::demo;
pub use own::{measure_chunks, measure_counters, OwnChunks, OwnCounters};

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 7 — Benchmarks de performance et optimisation";

use crate::verif::work::Work;
use crate::workloads::{pi, primes};
use crossbeam::utils::CachePadded;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Median of timings (mean of the two middle values for an even count; `NaN` for
/// none). It resists an outlier, which the mean does not.
pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Arithmetic mean of timings (`NaN` for none).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Relative spread `(max - min) / median`: above 10–20 % the machine was busy.
pub fn relative_spread(xs: &[f64]) -> f64 {
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (max - min) / median(xs)
}

/// W1 cut into tasks of `chunk` consecutive numbers, run on the current rayon pool:
/// too small and scheduling costs dominate, too large and the last task (the
/// costliest numbers) leaves the other workers idle. Same answer as
/// [`primes::count_seq`] for every `chunk ≥ 1`.
pub(crate) fn count_primes_chunked(n: u64, chunk: u64) -> u64 {
    let chunk = chunk.max(1);
    (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| primes::count_range(c * chunk, ((c + 1) * chunk).min(n)))
        .sum()
}

/// [`count_primes_chunked`] with each task counted by `work` (the 7.2 check's
/// reference: the tasks a right answer asks for).
pub(crate) fn count_primes_chunked_with(n: u64, chunk: u64, work: Work) -> u64 {
    let chunk = chunk.max(1);
    (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| work.count_primes(c * chunk, ((c + 1) * chunk).min(n)))
        .sum()
}

/// `workers` threads each add 1 to their own counter `per_thread` times; the
/// counters sit next to each other in memory (one cache line for up to 8): every
/// increment steals the line from the other cores. Returns the total.
pub(crate) fn count_packed(workers: usize, per_thread: u64) -> u64 {
    let counters: Vec<AtomicU64> = (0..workers).map(|_| AtomicU64::new(0)).collect();
    std::thread::scope(|s| {
        for c in &counters {
            s.spawn(move || {
                for _ in 0..per_thread {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// Same as [`count_packed`], each counter padded to its own cache line with
/// [`CachePadded`]: the cores no longer fight over a line.
pub(crate) fn count_padded(workers: usize, per_thread: u64) -> u64 {
    let counters: Vec<CachePadded<AtomicU64>> = (0..workers)
        .map(|_| CachePadded::new(AtomicU64::new(0)))
        .collect();
    std::thread::scope(|s| {
        for c in &counters {
            s.spawn(move || {
                for _ in 0..per_thread {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// One record with 8 numeric fields (64 bytes: one cache line).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Record8 {
    /// The column summed by the experiment.
    pub x: f64,
    /// The other fields, read along with `x` in the array-of-structs layout.
    pub rest: [f64; 7],
}

/// Array of structs: records one after the other. Summing one column reads whole
/// records, 8 times the useful bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointsAos {
    /// The records.
    pub records: Vec<Record8>,
}

/// Struct of arrays: one vector per field. Summing a column reads only that column,
/// contiguously (and vectorises).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointsSoa {
    /// The `x` column.
    pub x: Vec<f64>,
    /// The other columns, `rest[j][i]` = field j of record i.
    pub rest: [Vec<f64>; 7],
}

/// `n` deterministic records: `x = i mod 100`, field j = `i + j`.
pub(crate) fn records(n: usize) -> PointsAos {
    PointsAos {
        records: (0..n)
            .map(|i| Record8 {
                x: (i % 100) as f64,
                rest: std::array::from_fn(|j| (i + j) as f64),
            })
            .collect(),
    }
}

/// Converts an array of structs into a struct of arrays (same order).
pub(crate) fn to_soa(aos: &PointsAos) -> PointsSoa {
    PointsSoa {
        x: aos.records.iter().map(|r| r.x).collect(),
        rest: std::array::from_fn(|j| aos.records.iter().map(|r| r.rest[j]).collect()),
    }
}

/// Sum of the `x` column of an array of structs.
pub(crate) fn sum_x_aos(aos: &PointsAos) -> f64 {
    aos.records.iter().map(|r| r.x).sum()
}

/// Sum of the `x` column of a struct of arrays, in 8 lanes (vectorisable).
pub(crate) fn sum_x_soa(soa: &PointsSoa) -> f64 {
    crate::workloads::sumsq::sum_plain_lanes(&soa.x)
}

/// Amdahl's speedup (see [`crate::models::amdahl`]).
pub(crate) fn amdahl_speedup(workers: f64, serial_fraction: f64) -> f64 {
    crate::models::amdahl(workers, serial_fraction)
}

/// Gustafson's scaled speedup (see [`crate::models::gustafson`]).
pub(crate) fn gustafson_speedup(workers: f64, serial_fraction: f64) -> f64 {
    crate::models::gustafson(workers, serial_fraction)
}

/// Monte Carlo π hits over `samples` points where a fraction `serial` of the points
/// is drawn by one thread before the rest is shared between `workers` threads of a
/// rayon pool: a program with a known serial part, to measure Amdahl's law. The
/// answer (hits) does not depend on `workers`.
pub fn amdahl_hits(samples: u64, serial: f64, workers: usize) -> u64 {
    let serial_points = (samples as f64 * serial.clamp(0.0, 1.0)) as u64;
    let parallel_points = samples - serial_points;
    let first = pi::hits(0, serial_points);
    // The parallel part is cut into a fixed number of streams, so that the answer is
    // the same on any number of workers.
    const STREAMS: usize = 16;
    let rest: u64 = crate::workloads::pool(workers).install(|| {
        (0..STREAMS)
            .into_par_iter()
            .map(|i| pi::hits(i + 1, pi::share(parallel_points, STREAMS, i)))
            .sum()
    });
    first + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        assert!((relative_spread(&[1.0, 2.0, 3.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn chunked_counts_agree_whatever_the_chunk() {
        let expected = primes::reference_count(50_000);
        let pool = crate::workloads::pool(2);
        for chunk in [0, 1, 7, 1000, 50_000, 1 << 40] {
            assert_eq!(
                pool.install(|| count_primes_chunked(50_000, chunk)),
                expected
            );
        }
        assert_eq!(count_primes_chunked(0, 10), 0);
    }

    #[test]
    fn counters_count_everything() {
        assert_eq!(count_packed(3, 10_000), 30_000);
        assert_eq!(count_padded(3, 10_000), 30_000);
        assert_eq!(count_padded(0, 10), 0);
        assert_eq!(std::mem::size_of::<CachePadded<AtomicU64>>() % 64, 0);
    }

    #[test]
    fn layouts_give_the_same_sum() {
        let aos = records(1003);
        let soa = to_soa(&aos);
        assert_eq!(soa.x.len(), 1003);
        assert_eq!(soa.rest[6][10], 16.0);
        let exact: f64 = (0..1003).map(|i| (i % 100) as f64).sum();
        assert_eq!(sum_x_aos(&aos), exact);
        assert_eq!(sum_x_soa(&soa), exact);
    }

    #[test]
    fn amdahl_hits_do_not_depend_on_workers() {
        let a = amdahl_hits(200_000, 0.25, 1);
        assert_eq!(amdahl_hits(200_000, 0.25, 2), a);
        assert_eq!(amdahl_hits(200_000, 0.25, 3), a);
        let estimate = 4.0 * a as f64 / 200_000.0;
        assert!((estimate - std::f64::consts::PI).abs() < 0.02, "{estimate}");
        assert!((amdahl_speedup(2.0, 0.0) - 2.0).abs() < 1e-12);
        assert!((gustafson_speedup(2.0, 0.5) - 1.5).abs() < 1e-12);
    }
}
