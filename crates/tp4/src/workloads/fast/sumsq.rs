//! W3 sumsq, the optimisation ladder. The workload does not change: the sum of the
//! squares of the M values x_i = (i mod 1000) / 1000 of an array filled before
//! timing ([`crate::workloads::sumsq`]), checked against the closed form within the
//! tolerance of `workloads.md` (relative error below 1e-9).
//!
//! 1. `fold`: the plain kernel ([`crate::workloads::sumsq::sum_seq`]), one
//!    accumulator: each addition waits for the previous one (a chain of dependent
//!    additions, 4 cycles each), and the compiler may not reorder it (floating-point
//!    addition is not associative).
//! 2. `lanes`: 8 independent accumulators written by hand
//!    ([`crate::workloads::sumsq::sum_lanes`]): the compiler vectorises them, but only
//!    with what the default x86-64 target allows, SSE2 (2 values per instruction, a
//!    multiplication then an addition).
//! 3. `fma`: the widest vectors of the processor, chosen at run time ([`sum_wide`]):
//!    AVX-512F (8 values per register) where present, else AVX2 with FMA (4 values),
//!    each square added by one fused multiply-add, 8 independent vector accumulators
//!    so that loads and multiply-adds overlap. The level that ran is
//!    [`crate::cpu::level`]; without AVX2 this rung is rung 2.
//! 4. `prefetch`: AVX2 + FMA (4 values per register) with a software prefetch of the
//!    data [`PREFETCH_BYTES`] ahead ([`sum_prefetch`]). With one multiply-add per 8
//!    bytes, rung 3 waits for memory: what limits one core is how many cache lines it
//!    has asked for and not yet received. The hardware prefetcher stops at every
//!    4 KiB page boundary and starts again slowly; a `prefetch` instruction a few
//!    lines ahead keeps lines on their way all the time. On the Xeon this lab was
//!    built on, 512-bit vectors with the same prefetch were slower than 256-bit ones
//!    (the core runs 512-bit arithmetic at a lower clock), so this rung uses AVX2
//!    even where AVX-512 exists: the measurement, not the register width, decides
//!    (timings in `docs/optimisation.md`). Without AVX2 this rung is rung 2.
//! 5. `optimise`: rung 4 on `workers` threads (a rayon pool built inside the call,
//!    chunks of [`CHUNK`] values taken by whichever thread is free).
//!
//! From rung 3 on, the limit is the memory (or the cache, when the last-level cache
//! holds the array), not the arithmetic. That is why [`read_wide`], the same loads
//! and prefetch as rung 5 with one addition instead of a multiply-add, is the
//! `bandwidth` baseline W3 is judged against. Measured timings are in
//! `docs/optimisation.md` and `docs/benchmarks.md`.

use super::Rung;
use crate::cpu::Level;
use crate::workloads::sumsq;
use rayon::prelude::*;

/// The signature of every rung: (array, workers) → Σ x².
pub type Kernel = fn(&[f64], usize) -> f64;

/// Values per chunk of the parallel rung and of the bandwidth baseline (512 KiB: a
/// thread's share of a 2 MB last-level cache slice, and few enough chunks that taking
/// one costs nothing).
pub const CHUNK: usize = 1 << 16;

/// How far ahead of the current load rung 4 asks for the data: 1 KiB, 16 cache lines
/// (the distance that read fastest on this machine among 256 B to 4 KiB: far enough
/// that the line arrives before it is needed, near enough that it is not evicted
/// first).
pub const PREFETCH_BYTES: usize = 1024;

/// The rungs, plain kernel first, top rung (parallel) last.
pub fn ladder() -> Vec<Rung<Kernel>> {
    vec![
        Rung {
            name: "fold",
            changed: "noyau simple : un accumulateur, une addition après l'autre",
            why: "référence",
            parallel: false,
            run: |xs, _| sumsq::sum_seq(xs),
        },
        Rung {
            name: "lanes",
            changed: "8 accumulateurs indépendants écrits à la main",
            why: "8 chaînes d'additions menées de front ; le compilateur les vectorise (SSE2 : 2 valeurs par instruction)",
            parallel: false,
            run: |xs, _| sumsq::sum_lanes(xs),
        },
        Rung {
            name: "fma",
            changed: "vecteurs les plus larges du processeur, choisis à l'exécution (AVX-512 : 8 valeurs, AVX2 : 4), une multiplication-addition fusionnée (FMA) par carré",
            why: "4 fois moins d'instructions par valeur : le cœur demande plus d'octets par seconde que la mémoire n'en livre",
            parallel: false,
            run: |xs, _| sum_wide(xs, crate::cpu::level()),
        },
        Rung {
            name: "prefetch",
            changed: "préchargement logiciel : chaque bloc demande la mémoire 1 Kio en avance (AVX2 + FMA, 256 bits)",
            why: "le cœur attend la mémoire : des lignes demandées d'avance sont déjà en route quand on les lit ; en 256 bits, le processeur garde sa fréquence",
            parallel: false,
            run: |xs, _| sum_prefetch(xs, crate::cpu::level()),
        },
        Rung {
            name: super::STRATEGY,
            changed: "le noyau avec préchargement sur plusieurs cœurs (rayon, morceaux de 65 536 valeurs)",
            why: "plusieurs cœurs demandent la mémoire en même temps : on s'approche du débit de la machine",
            parallel: true,
            run: optimise,
        },
    ]
}

/// Σ x² of `xs` with the widest vectors allowed at `level`: AVX-512F, AVX2 + FMA, or
/// the portable 8 lanes below AVX2 (and in a build without arch-specific code).
pub fn sum_wide(xs: &[f64], level: Level) -> f64 {
    wide::<true>(xs, level)
}

/// Σ x of `xs` (no square) with the same loads as [`sum_wide`]: the read alone.
pub fn read_wide_seq(xs: &[f64], level: Level) -> f64 {
    wide::<false>(xs, level)
}

/// Σ x² of `xs` with AVX2 + FMA and a software prefetch [`PREFETCH_BYTES`] ahead
/// (rung 4), at any level from AVX2 up; the portable 8 lanes below AVX2.
pub fn sum_prefetch(xs: &[f64], level: Level) -> f64 {
    prefetched::<true>(xs, level)
}

/// Σ x of `xs` (no square) with the same loads and prefetch as [`sum_prefetch`]:
/// the read alone.
pub fn read_prefetch_seq(xs: &[f64], level: Level) -> f64 {
    prefetched::<false>(xs, level)
}

/// The top rung: [`sum_prefetch`] at the current level on a rayon pool of `workers`
/// threads built inside the call (starting the threads is part of the timing, as
/// `workloads.md` requires).
pub fn optimise(xs: &[f64], workers: usize) -> f64 {
    let level = crate::cpu::level();
    super::pool(workers).install(|| xs.par_chunks(CHUNK).map(|c| sum_prefetch(c, level)).sum())
}

/// What the `bandwidth` baseline measures: reading the array once with the loads and
/// prefetch of the top rung on the current rayon pool, in the same chunks as
/// [`optimise`], with one vector addition per load and no multiplication. It is the
/// read speed of this array by this code on these threads: a W3 sum can only come
/// close to it, not beat it by much (a sum faster than it is noise of the shared
/// machine). It is not the memory's peak bandwidth as a hardware manual gives it,
/// and when the last-level cache holds the array it is the cache's speed.
pub fn read_wide(xs: &[f64]) -> f64 {
    let level = crate::cpu::level();
    xs.par_chunks(CHUNK)
        .map(|c| read_prefetch_seq(c, level))
        .sum()
}

/// Dispatch on the level: the vector kernel whose token the level gives, else the
/// portable lanes.
fn wide<const SQUARE: bool>(xs: &[f64], level: Level) -> f64 {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    {
        if let Some(t) = crate::cpu::Avx512Token::at(level) {
            return x86::avx512::<SQUARE>(t, xs);
        }
        if let Some(t) = crate::cpu::Avx2Token::at(level) {
            return x86::avx2::<SQUARE>(t, xs);
        }
    }
    let _ = level;
    portable::<SQUARE>(xs)
}

/// Dispatch of rung 4: the AVX2 kernel with prefetch wherever the level allows AVX2
/// (AVX-512 included, see the module doc), else the portable lanes.
fn prefetched<const SQUARE: bool>(xs: &[f64], level: Level) -> f64 {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    if let Some(t) = crate::cpu::Avx2Token::at(level) {
        return x86::avx2_prefetch::<SQUARE>(t, xs);
    }
    let _ = level;
    portable::<SQUARE>(xs)
}

/// The portable kernel: 8 independent accumulators (what rung 2 does), with or
/// without the square.
fn portable<const SQUARE: bool>(xs: &[f64]) -> f64 {
    let f = |x: f64| if SQUARE { x * x } else { x };
    let mut acc = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += f(c[i]);
        }
    }
    acc.iter().sum::<f64>() + rest.iter().map(|&x| f(x)).sum::<f64>()
}

/// The x86-64 vector kernels, each reachable only with the token that proves its
/// features.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
mod x86 {
    use crate::cpu::{Avx2Token, Avx512Token};
    use std::arch::x86_64::*;

    /// Vector accumulators of each kernel: enough independent chains to cover the
    /// latency of a multiply-add (4 cycles) at two per cycle.
    const ACC: usize = 8;

    /// AVX2 + FMA: Σ x² (or Σ x) over `xs`, 4 values per register.
    pub fn avx2<const SQUARE: bool>(t: Avx2Token, xs: &[f64]) -> f64 {
        let _ = t;
        // SAFETY: the token proves AVX2 and FMA, the features `avx2_body` is compiled for.
        unsafe { avx2_body::<SQUARE, false>(xs) }
    }

    /// AVX2 + FMA with a software prefetch: Σ x² (or Σ x) over `xs`.
    pub fn avx2_prefetch<const SQUARE: bool>(t: Avx2Token, xs: &[f64]) -> f64 {
        let _ = t;
        // SAFETY: the token proves AVX2 and FMA, the features `avx2_body` is compiled for.
        unsafe { avx2_body::<SQUARE, true>(xs) }
    }

    /// AVX-512F: Σ x² (or Σ x) over `xs`, 8 values per register.
    pub fn avx512<const SQUARE: bool>(t: Avx512Token, xs: &[f64]) -> f64 {
        let _ = t;
        // SAFETY: the token proves AVX-512F, the feature `avx512_body` is compiled for.
        unsafe { avx512_body::<SQUARE>(xs) }
    }

    /// The AVX2 loop: blocks of `ACC` × 4 values (256 bytes) into `ACC` accumulators,
    /// then the tail one value at a time. With `PREFETCH`, each block first asks for
    /// two lines [`super::PREFETCH_BYTES`] ahead of it (every other 64-byte line: the
    /// processor's adjacent-line prefetcher brings the line beside each one).
    #[target_feature(enable = "avx2,fma")]
    fn avx2_body<const SQUARE: bool, const PREFETCH: bool>(xs: &[f64]) -> f64 {
        const W: usize = 4;
        let mut acc = [_mm256_setzero_pd(); ACC];
        let blocks = xs.chunks_exact(ACC * W);
        let rest = blocks.remainder();
        for b in blocks {
            if PREFETCH {
                let ahead = b.as_ptr().cast::<i8>().wrapping_add(super::PREFETCH_BYTES);
                // A prefetch is a hint: it never faults, whatever the address (past
                // the end of `xs` included), and changes no memory; the address is
                // computed with `wrapping_add`, so no out-of-bounds pointer is formed.
                _mm_prefetch::<_MM_HINT_T0>(ahead);
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(128));
            }
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: `b` holds ACC × W values, so the W values from k × W are in it;
                // `loadu` accepts any alignment.
                let v = unsafe { _mm256_loadu_pd(b.as_ptr().add(k * W)) };
                *a = if SQUARE {
                    _mm256_fmadd_pd(v, v, *a)
                } else {
                    _mm256_add_pd(v, *a)
                };
            }
        }
        let mut lanes = [0.0f64; W];
        let mut total = _mm256_setzero_pd();
        for a in acc {
            total = _mm256_add_pd(total, a);
        }
        // SAFETY: `lanes` holds W values; `storeu` accepts any alignment.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), total) };
        lanes.iter().sum::<f64>()
            + rest
                .iter()
                .map(|&x| if SQUARE { x * x } else { x })
                .sum::<f64>()
    }

    /// The AVX-512 loop: blocks of `ACC` × 8 values into `ACC` accumulators, then the
    /// tail one value at a time.
    #[target_feature(enable = "avx512f")]
    fn avx512_body<const SQUARE: bool>(xs: &[f64]) -> f64 {
        const W: usize = 8;
        let mut acc = [_mm512_setzero_pd(); ACC];
        let blocks = xs.chunks_exact(ACC * W);
        let rest = blocks.remainder();
        for b in blocks {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: `b` holds ACC × W values, so the W values from k × W are in it;
                // `loadu` accepts any alignment.
                let v = unsafe { _mm512_loadu_pd(b.as_ptr().add(k * W)) };
                *a = if SQUARE {
                    _mm512_fmadd_pd(v, v, *a)
                } else {
                    _mm512_add_pd(v, *a)
                };
            }
        }
        let mut total = _mm512_setzero_pd();
        for a in acc {
            total = _mm512_add_pd(total, a);
        }
        _mm512_reduce_add_pd(total)
            + rest
                .iter()
                .map(|&x| if SQUARE { x * x } else { x })
                .sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu;
    use crate::workloads::sumsq::{closed_form, closed_form_plain, fill, is_ok, is_ok_plain};
    use rand::{Rng, SeedableRng};

    /// The sizes every rung is tried on: empty, one value, around each block size
    /// (8, 32, 64 values) and the chunk, plus drawn odd sizes.
    fn sizes() -> Vec<usize> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(26);
        let mut v = vec![
            0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 129, 999, 1001,
        ];
        v.extend([CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]);
        v.extend((0..20).map(|_| rng.random_range(0..5000) * 2 + 1));
        v
    }

    #[test]
    fn every_rung_at_every_level_matches_the_closed_form_and_the_scalar_rung() {
        let levels = cpu::available();
        assert!(levels.contains(&cpu::Level::Scalar));
        for m in sizes() {
            let xs = fill(m);
            let scalar = sumsq::sum_seq(&xs);
            let exact = closed_form(m as u64);
            for r in ladder() {
                for workers in [1, 2, 3] {
                    let s = (r.run)(&xs, workers);
                    assert!(is_ok(s, m as u64), "{} m={m} s={s} exact={exact}", r.name);
                    assert!(
                        (s - scalar).abs() <= 1e-9 * scalar.max(1.0),
                        "{} m={m} s={s} scalar={scalar}",
                        r.name
                    );
                }
            }
            for &level in &levels {
                let s = sum_wide(&xs, level);
                assert!(is_ok(s, m as u64), "{level:?} m={m} s={s} exact={exact}");
                let p = read_wide_seq(&xs, level);
                assert!(is_ok_plain(p, m as u64), "{level:?} m={m} p={p}");
                let s = sum_prefetch(&xs, level);
                assert!(is_ok(s, m as u64), "prefetch {level:?} m={m} s={s}");
                let p = read_prefetch_seq(&xs, level);
                assert!(is_ok_plain(p, m as u64), "prefetch {level:?} m={m} p={p}");
            }
        }
    }

    #[test]
    fn unaligned_slices_and_other_values_give_the_scalar_answer() {
        // Slices starting at every offset of a 64-byte line, on values that are not
        // W3's (drawn, of both signs): the kernels do not depend on alignment or on
        // the array's pattern.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..3000).map(|_| rng.random_range(-2.0..2.0)).collect();
        for start in 0..9 {
            for len in [0, 1, 7, 8, 9, 63, 64, 65, 200, 2991 - start] {
                let s = &xs[start..start + len];
                let sq: f64 = s.iter().map(|x| x * x).sum();
                let plain: f64 = s.iter().sum();
                for &level in &cpu::available() {
                    for (name, sum, read) in [
                        (
                            "fma",
                            sum_wide as fn(&[f64], Level) -> f64,
                            read_wide_seq as fn(&[f64], Level) -> f64,
                        ),
                        ("prefetch", sum_prefetch, read_prefetch_seq),
                    ] {
                        let got = sum(s, level);
                        assert!(
                            (got - sq).abs() <= 1e-9 * sq.max(1.0),
                            "{name} {level:?} {start} {len}"
                        );
                        let got = read(s, level);
                        assert!(
                            (got - plain).abs() <= 1e-9 * s.len().max(1) as f64,
                            "{name} {level:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_bandwidth_read_reads_every_value_once() {
        for m in [0usize, 1, 65, CHUNK + 3, 200_003] {
            let xs = fill(m);
            let pool = crate::workloads::pool(2);
            let p = pool.install(|| read_wide(&xs));
            assert!(
                is_ok_plain(p, m as u64),
                "m={m} p={p} exact={}",
                closed_form_plain(m as u64)
            );
        }
        // A changed value changes the read (it does read the array).
        let mut xs = fill(1000);
        xs[999] += 1.0;
        assert!(!is_ok_plain(read_wide(&xs), 1000));
    }
}
