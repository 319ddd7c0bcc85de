//! W1 primes, the optimisation ladder. The workload does not change: count the primes
//! below N by trial division by the odd divisors up to √n, ascending, stopping at the
//! first one that divides, no sieve. Only the way each "does d divide n?" is answered
//! changes, rung by rung:
//!
//! 1. `u64`: the plain kernel ([`crate::workloads::primes::count_seq`]), one 64-bit
//!    `div` per divisor: a few instructions per divisor, but a division is not
//!    pipelined (each one waits for the previous to finish).
//! 2. `u32`: the same loop on 32-bit integers (every n < 2^32). Measured on this
//!    machine's AMD EPYC (Zen 3), it is no faster: its divider takes about as long for
//!    these small operands on 64 bits as on 32. The rung stays, because it answers the
//!    question "does the width of the division matter?" with a measurement.
//! 3. `inverse`: no division at all. For an odd d, n is a multiple of d exactly when
//!    `n × d⁻¹ mod 2^32 ≤ (2^32 − 1) / d`, where d⁻¹ is the inverse of d modulo 2^32
//!    (Granlund & Montgomery, "Division by invariant integers using multiplication",
//!    1994; Lemire et al. 2019). The pairs (d⁻¹, limit) are computed once into a table;
//!    each test is then one multiplication and one comparison (pipelined, one per
//!    cycle). The loop visits odd n only (even numbers above 2 are answered by their
//!    last bit) and tracks how many divisors have d² ≤ n as n grows, instead of
//!    computing d × d at each step.
//! 4. `lanes`: the table is walked 8 divisors at a time, with the 8 tests combined by
//!    `|` rather than 8 early exits: the compiler turns the block into vector
//!    instructions (8 multiplications in a few instructions) and there is one
//!    unpredictable branch per 8 divisors instead of one per divisor. A block may test
//!    up to 7 divisors past the first one that divides: the answer is the same.
//! 5. `optimise`: rung 4 on `workers` threads, work stealing over blocks of numbers
//!    (large numbers cost more than small ones: static halves would be unbalanced).
//!
//! Every rung gives the same count for every N (tests against the sieve).
//!
//! The measured times of every rung, and how to reproduce them, are in
//! `docs/optimisation.md`.
//!
//! # The profiles that chose the rungs
//!
//! Taken on `examples/rung.rs` (one rung, once, one thread; release build, rustc 1.95,
//! default target: SSE2 only), N = 200 000 for callgrind (3 529 200 divisors tested
//! in all; the program's own start, 0.31 M instructions, subtracted) and
//! N = 2 000 000 for perf. This VM exposes no hardware counter (`perf stat -e
//! instructions,cycles` says "not supported"), so there is no IPC figure: callgrind
//! counts instructions and simulates branch prediction (deterministic, unaffected by
//! the machine's load), and `perf record -e cpu-clock` samples where the time goes.
//!
//! - `u64`: `valgrind --tool=callgrind --branch-sim=yes rung primes u64 200000` →
//!   58.6 M instructions (16.6 per divisor tested, 293 per number below N), 14.5 M
//!   conditional branches (4.1 per divisor), all in `is_prime`, 66 % on the line
//!   `n % d == 0`. `perf record -e cpu-clock -F 5000 rung primes u64 2000000` then
//!   `perf annotate --stdio`: 45 % of the samples on the `div` instruction and 31 % on
//!   the branch right after it (the sample lands on the instruction that waits for the
//!   division's result): the division is the cost, so the next rungs attack it.
//! - `u32`: callgrind → 36.6 M instructions (10.4 per divisor, 2.2 branches), a third
//!   fewer, yet no faster in time. The disassembly of `u64` (`objdump -d`) says why:
//!   LLVM already tests `(n | d) >> 32 == 0` and takes a 32-bit `div %r32` when both
//!   fit, so `u64` was doing 32-bit divisions all along; the extra instructions are
//!   that test, and the time is the division's latency either way.
//! - `inverse`: callgrind → 26.7 M instructions (7.6 per divisor, 2.1 branches), no
//!   `div` left in the loop; perf: 75 % of the samples on the `jbe` that leaves the
//!   loop when a divisor is found (one data-dependent branch per divisor), 11 % on the
//!   `imul`. Twice as fast as `u32` for only 27 % fewer instructions: a multiplication
//!   is pipelined, a division is not. The branch per divisor is the next target.
//! - `lanes`: callgrind → 17.9 M instructions (5.1 per divisor), 1.64 M branches (0.46
//!   per divisor, 4.6 times fewer than `inverse`); simulated mispredictions 88 k
//!   against 109 k. `objdump`: the 8 tests became SSE2 `pmuludq` (two 32 × 32-bit
//!   products per instruction, as SSE2 has no `pmulld`), a compare and one `pmovmskb`
//!   per block of 8; perf: 27 % of the samples on the branch that tests the block's
//!   mask, the rest spread over the vector instructions (at most 11 % on one): no
//!   single hot spot left, the next gain is more cores (`optimise`).

use super::Rung;
use rayon::prelude::*;

/// The signature of every rung: (N, workers) → number of primes below N.
pub type Kernel = fn(u64, usize) -> u64;

/// The rungs, plain kernel first, top rung (parallel) last.
pub fn ladder() -> Vec<Rung<Kernel>> {
    vec![
        Rung {
            name: "u64",
            changed: "noyau simple : une division 64 bits (n % d) par diviseur",
            why: "référence : le diviseur 64 bits du processeur est lent et non pipeliné",
            parallel: false,
            run: |n, _| crate::workloads::primes::count_seq(n),
        },
        Rung {
            name: "u32",
            changed: "mêmes divisions sur des entiers 32 bits (n < 2^32)",
            why: "une division 32 bits coûte moins de cycles qu'une division 64 bits",
            parallel: false,
            run: |n, _| count_u32(n),
        },
        Rung {
            name: "inverse",
            changed: "plus de division : d divise n si n × inverse(d) ≤ limite(d) (table)",
            why: "moins d'instructions lentes : une multiplication pipelinée au lieu d'une division",
            parallel: false,
            run: |n, _| count_inverse(n),
        },
        Rung {
            name: "lanes",
            changed: "8 diviseurs testés ensemble, combinés par | sans sortie anticipée",
            why: "voies vectorielles : 8 multiplications par instruction, 8 fois moins de branchements",
            parallel: false,
            run: |n, _| count_lanes(n),
        },
        Rung {
            name: super::STRATEGY,
            changed: "le noyau vectoriel sur plusieurs cœurs (vol de travail, blocs de nombres)",
            why: "tous les cœurs travaillent, équilibrés malgré le coût inégal des nombres",
            parallel: true,
            run: optimise,
        },
    ]
}

/// Rung 2: trial division on `u32` (falls back to the plain kernel for N > 2^32).
pub fn count_u32(n: u64) -> u64 {
    if n > 1 << 32 {
        return crate::workloads::primes::count_seq(n);
    }
    (0..n as u32).filter(|&k| is_prime_u32(k)).count() as u64
}

/// Trial division of a `u32` by the odd divisors up to √n.
#[inline]
pub fn is_prime_u32(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let root = n.isqrt();
    let mut d = 3;
    while d <= root {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// The divisibility table of rungs 3 and 4: for each odd divisor d ≥ 3 in order, its
/// inverse modulo 2^32 and the largest quotient `u32::MAX / d`, in two arrays (the
/// layout the vector loop reads best).
#[derive(Debug, Clone, Default)]
pub struct Divisors {
    /// d⁻¹ mod 2^32 for d = 3, 5, 7, …
    inverse: Vec<u32>,
    /// `u32::MAX / d` for the same d.
    limit: Vec<u32>,
}

impl Divisors {
    /// The table of every odd d with 3 ≤ d and d² < `n`.
    pub fn below_square(n: u64) -> Divisors {
        let top = n.saturating_sub(1).isqrt().min(u64::from(u16::MAX)) as u32;
        let (inverse, limit) = (3..=top)
            .step_by(2)
            .map(|d| (inverse(d), u32::MAX / d))
            .unzip();
        Divisors { inverse, limit }
    }

    /// The odd divisor at position `i` (3 + 2i).
    #[inline]
    fn divisor(i: usize) -> u64 {
        3 + 2 * i as u64
    }

    /// How many divisors of the table have d² ≤ n.
    fn count_up_to_root(&self, n: u64) -> usize {
        let root = n.isqrt();
        (root.saturating_sub(1) / 2).min(self.inverse.len() as u64) as usize
    }
}

/// The inverse of an odd `d` modulo 2^32 by Newton's iteration: `x ← x(2 − dx)`
/// doubles the number of correct low bits, and `x = d` is right on 3 bits.
pub fn inverse(d: u32) -> u32 {
    debug_assert!(d % 2 == 1);
    let mut x = d;
    for _ in 0..4 {
        x = x.wrapping_mul(2u32.wrapping_sub(d.wrapping_mul(x)));
    }
    x
}

/// Whether odd `n` (< 2^32) has no divisor among the first `k` of the table, testing
/// one divisor at a time with a multiplication (rung 3).
#[inline]
fn no_divisor_inverse(t: &Divisors, n: u32, k: usize) -> bool {
    let (inv, lim) = (&t.inverse[..k], &t.limit[..k]);
    !inv.iter().zip(lim).any(|(&i, &l)| n.wrapping_mul(i) <= l)
}

/// Whether odd `n` (< 2^32) has no divisor among the first `k` of the table, testing
/// 8 divisors per step (rung 4).
#[inline]
fn no_divisor_lanes(t: &Divisors, n: u32, k: usize) -> bool {
    let (inv, lim) = (&t.inverse[..k], &t.limit[..k]);
    let mut blocks_i = inv.chunks_exact(8);
    let mut blocks_l = lim.chunks_exact(8);
    for (bi, bl) in (&mut blocks_i).zip(&mut blocks_l) {
        let mut hit = false;
        for j in 0..8 {
            hit |= n.wrapping_mul(bi[j]) <= bl[j];
        }
        if hit {
            return false;
        }
    }
    !blocks_i
        .remainder()
        .iter()
        .zip(blocks_l.remainder())
        .any(|(&i, &l)| n.wrapping_mul(i) <= l)
}

/// Counts the primes in `lo..hi` (hi ≤ 2^32) with a divisibility test over the table:
/// odd n only, and the number of divisors to try grows with n.
fn count_range_with(
    t: &Divisors,
    lo: u64,
    hi: u64,
    no_divisor: impl Fn(&Divisors, u32, usize) -> bool,
) -> u64 {
    let mut count = u64::from(lo <= 2 && 2 < hi);
    let first_odd = lo.max(3) | 1;
    let mut k = t.count_up_to_root(first_odd);
    let mut n = first_odd;
    while n < hi {
        while k < t.inverse.len() && Divisors::divisor(k) * Divisors::divisor(k) <= n {
            k += 1;
        }
        count += u64::from(no_divisor(t, n as u32, k));
        n += 2;
    }
    count
}

/// Rung 3: division replaced by a multiplication by the inverse.
pub fn count_inverse(n: u64) -> u64 {
    if n > 1 << 32 {
        return crate::workloads::primes::count_seq(n);
    }
    count_range_with(&Divisors::below_square(n), 0, n, no_divisor_inverse)
}

/// Rung 4: the inverse test on 8 divisors at a time.
pub fn count_lanes(n: u64) -> u64 {
    if n > 1 << 32 {
        return crate::workloads::primes::count_seq(n);
    }
    count_range_with(&Divisors::below_square(n), 0, n, no_divisor_lanes)
}

/// Numbers per block handed to a worker in [`optimise`].
const BLOCK: u64 = 1 << 14;

/// Rung 5, the `optimise` strategy: [`count_lanes`] on `workers` threads, blocks of
/// numbers stolen by idle workers.
pub fn optimise(n: u64, workers: usize) -> u64 {
    if n > 1 << 32 {
        return crate::workloads::primes::count_seq(n);
    }
    let table = Divisors::below_square(n);
    super::pool(workers).install(|| {
        (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                count_range_with(
                    &table,
                    b * BLOCK,
                    ((b + 1) * BLOCK).min(n),
                    no_divisor_lanes,
                )
            })
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::primes::{reference_count, PRIMES_BELOW_2M};

    #[test]
    fn inverses_are_inverses() {
        for d in (1..100_001u32).step_by(2) {
            assert_eq!(d.wrapping_mul(inverse(d)), 1, "{d}");
        }
    }

    #[test]
    fn every_rung_agrees_with_the_sieve() {
        for n in [
            0, 1, 2, 3, 4, 5, 9, 10, 11, 25, 26, 49, 50, 100, 1_000, 16_385, 100_003,
        ] {
            let expected = reference_count(n);
            for rung in ladder() {
                assert_eq!((rung.run)(n, 3), expected, "{} n={n}", rung.name);
            }
        }
    }

    #[test]
    fn single_numbers_agree_with_the_plain_test() {
        let t = Divisors::below_square(1 << 20);
        for n in (3..200_000u32).step_by(2) {
            let k = t.count_up_to_root(u64::from(n));
            let plain = crate::workloads::primes::is_prime(u64::from(n));
            assert_eq!(no_divisor_inverse(&t, n, k), plain, "{n}");
            assert_eq!(no_divisor_lanes(&t, n, k), plain, "{n}");
            assert_eq!(is_prime_u32(n), plain, "{n}");
        }
        assert!(is_prime_u32(u32::MAX - 4) && !is_prime_u32(u32::MAX));
    }

    #[test]
    fn fast_rungs_find_the_count_of_workloads_md() {
        assert_eq!(count_lanes(2_000_000), PRIMES_BELOW_2M);
        assert_eq!(optimise(2_000_000, 2), PRIMES_BELOW_2M);
    }

    /// Quiet-run timings of every rung at the size of workloads.md (release only:
    /// `cargo test --release -p tp4 --lib fast::primes::tests::timings -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timings() {
        let n = 2_000_000;
        for rung in ladder() {
            let (wall, cpu) =
                super::super::time_rung(|| (rung.run)(n, 2), |v| assert_eq!(*v, PRIMES_BELOW_2M));
            println!(
                "W1 {:10} wall {wall:.4} s, thread CPU {cpu:.4} s",
                rung.name
            );
        }
    }
}
