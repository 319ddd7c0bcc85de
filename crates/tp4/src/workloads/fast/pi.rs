//! W2 pi, the optimisation ladder. The workload does not change: S points drawn
//! uniformly in the unit square from seeded xoshiro256++ streams (independent streams
//! obtained by jumps of 2^128 steps, as in [`crate::workloads::pi`]), π ≈ 4 × the
//! fraction inside the quarter disc, within the tolerance of `workloads.md`.
//!
//! 1. `f64`: the plain kernel ([`crate::workloads::pi::estimate_seq`]): two 64-bit
//!    draws per point, each turned into an `f64`, a floating-point test.
//! 2. `split`: one 64-bit draw per point, cut into two 31-bit coordinates, and an
//!    integer test `x² + y² < 2^62` (both squares fit in 62 bits, so the sum cannot
//!    overflow). Half the generator work, no int→float conversion. The 2^-31 grid is
//!    far finer than the answer's tolerance.
//! 3. `lanes`: [`LANES`] generators side by side (xoshiro256++ is only additions,
//!    xors, shifts and rotations), their states stored as arrays of the same word
//!    (struct of arrays), in plain Rust: the [`LANES`] independent chains hide each
//!    other's latency, and the compiler vectorises what it can.
//! 4. `avx2`: the same generators written with AVX2 intrinsics (checked at run time;
//!    rung 3 when the processor lacks AVX2): 4 lanes per instruction, every step in
//!    vector registers. `objdump` of rung 3 compiled for AVX2 showed why it is needed:
//!    LLVM keeps the 64-bit rotations scalar (AVX2 has no vector rotate) and spends
//!    its time moving lanes between vector and scalar registers.
//! 5. `32bits`: [`LANES32`] xoshiro128++ generators (the 32-bit member of the same
//!    family, same authors, period 2^128 − 1; rand_xoshiro's `Xoshiro128PlusPlus`,
//!    checked word for word) in AVX2: one 32-bit draw per point, cut into two signed
//!    16-bit coordinates, and `vpmaddwd` computes x² + y² of 8 points in one
//!    instruction. Twice the lanes per vector instruction of rung 4 and no 64-bit
//!    multiplications. The 2^-15 grid of the coordinates moves the estimate by
//!    9 × 10^-7 (the 2^32 points of the grid counted exactly), far below the
//!    tolerance (2 × 10^-3).
//! 6. `optimise`: rung 5 on `workers` threads; worker w draws from its own
//!    [`LANES32`] streams (`w × LANES32 + lane` jumps), so streams never overlap and
//!    the estimate is reproducible for a given worker count.
//!
//! The measured times of every rung, and how to reproduce them, are in
//! `docs/optimisation.md`.
//!
//! # The profiles that chose the rungs
//!
//! Taken on `examples/rung.rs` (one rung, once, one thread; release build, default
//! target), S = 1 000 000 for callgrind (the program's own start, 0.31 M
//! instructions, subtracted) and S = 20 000 000 for perf. This VM exposes no hardware
//! counter (no IPC figure): callgrind counts instructions and simulates branches.
//!
//! - `f64`: `valgrind --tool=callgrind --branch-sim=yes rung pi f64 1000000` → 48.0
//!   instructions per point: about 29 in the two xoshiro256++ draws (state update,
//!   rotation, the `++` additions), 10 turning them into `f64` (shift, convert,
//!   scale), 7 for `x * x + y * y <= 1.0` and the count, 2 for the loop; 5 k
//!   mispredictions in all (the test is branch-free). The second draw and the
//!   conversions are a good half of the work: rung 2 removes both.
//! - `split`: callgrind → 22.0 instructions per point (11 in the single draw, 7 for
//!   the split and the integer test, 2 for the loop), 2.2 times fewer.
//! - `lanes`: callgrind → 29.4 instructions per point, *more* than `split`, yet faster
//!   in time: the 8 chains are independent, so the processor overlaps them where one
//!   chain waits on its own previous step (instruction-level parallelism, which
//!   callgrind does not model). `objdump -d` of `hits_lanes` on the default target:
//!   not one vector instruction; 205 `mov` for 24 `rol`, 53 `xor` and 45 `add`: the
//!   8 × 4 state words do not fit in the 16 general registers and go to memory and
//!   back at every step. Those moves are most of the 29 instructions, and they are
//!   why rung 4 writes the vectors by hand.
//! - `avx2`: callgrind (valgrind runs AVX2) → 5.5 instructions per point, 90 % of them
//!   in the AVX2 intrinsics of `hits_lanes_avx2` (about 44 per step of 8 points: 4
//!   lanes per instruction, nothing leaves the vector registers); 7 k mispredictions.
//!   Per step and vector: 14 instructions of generator for 4 draws, 9 for the test
//!   (a shift, a mask, two `vpmuludq`, an add, and the count): with 64-bit words the
//!   vector holds only 4 lanes, hence rung 5's 32-bit generator.
//! - `32bits`: callgrind → 2.95 instructions per point (about 20 per vector of 8
//!   points: 13 of generator, 5 for `vpmaddwd` and the count).
//!
//! Why not a crate: rand_xoshiro (already used) has no multi-lane generator, and the
//! SIMD-friendly generator crates found either need nightly `portable_simd` or change
//! the generator; the lanes here are plain xoshiro256++ and are tested word for word
//! against rand_xoshiro.

use super::Rung;
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
use crate::cpu::Avx2Token;
use crate::cpu::Level;
use crate::workloads::pi::{estimate, share, stream};
use rand::RngCore;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro128PlusPlus;
use rayon::prelude::*;

/// The signature of every rung: (S, workers) → estimate of π.
pub type Kernel = fn(u64, usize) -> f64;

/// Generators run side by side in rungs 3 and 4.
pub const LANES: usize = 8;

/// The rungs, plain kernel first, top rung (parallel) last.
pub fn ladder() -> Vec<Rung<Kernel>> {
    vec![
        Rung {
            name: "f64",
            changed: "noyau simple : deux tirages 64 bits convertis en f64 par point",
            why: "référence",
            parallel: false,
            run: |s, _| crate::workloads::pi::estimate_seq(s),
        },
        Rung {
            name: "split",
            changed: "un seul tirage 64 bits coupé en deux coordonnées de 31 bits, test entier",
            why: "moins d'instructions : moitié moins de tirages, aucune conversion en flottant",
            parallel: false,
            run: |s, _| estimate(hits_split(0, s), s),
        },
        Rung {
            name: "lanes",
            changed: "8 générateurs côte à côte dans des tableaux, en Rust simple",
            why: "8 chaînes indépendantes que le processeur mène de front ; le compilateur en vectorise une partie",
            parallel: false,
            run: |s, _| estimate(hits_lanes(0, s), s),
        },
        Rung {
            name: "avx2",
            changed: "les 8 générateurs écrits en instructions AVX2 (détectées à l'exécution)",
            why: "voies vectorielles : 4 générateurs par instruction, tout reste dans les registres vectoriels",
            parallel: false,
            run: |s, _| estimate(hits_best(0, s), s),
        },
        Rung {
            name: "32bits",
            changed: "16 générateurs xoshiro128++ (mots de 32 bits) en AVX2 : un tirage de 32 bits par point, coupé en deux coordonnées de 16 bits, x² + y² en une instruction (vpmaddwd)",
            why: "voies vectorielles : 8 générateurs par instruction au lieu de 4, et le test du point en une multiplication-addition",
            parallel: false,
            run: |s, _| estimate(hits_best32(0, s), s),
        },
        Rung {
            name: super::STRATEGY,
            changed: "le noyau 32 bits sur plusieurs cœurs, un jeu de flux par worker",
            why: "tous les cœurs travaillent, sans rien partager",
            parallel: true,
            run: optimise,
        },
    ]
}

/// Whether a 64-bit draw, cut into two 31-bit coordinates, falls in the quarter disc.
#[inline(always)]
fn inside(r: u64) -> u64 {
    let x = r >> 33;
    let y = r & 0x7fff_ffff;
    u64::from((x * x + y * y) >> 62 == 0)
}

/// Rung 2: `points` points of stream `index`, one draw each.
pub fn hits_split(index: usize, points: u64) -> u64 {
    let mut rng = stream(index);
    (0..points).map(|_| inside(rng.next_u64())).sum()
}

/// [`LANES`] xoshiro256++ generators, state words as arrays (struct of arrays).
#[derive(Debug, Clone)]
pub struct Lanes {
    s: [[u64; LANES]; 4],
}

impl Lanes {
    /// Lanes `first`, `first + 1`, … of the jump-separated streams of [`stream`].
    pub fn new(first: usize) -> Lanes {
        let mut s = [[0; LANES]; 4];
        let mut rng = stream(first);
        for lane in 0..LANES {
            let state = state_words(&rng);
            for (word, value) in s.iter_mut().zip(state) {
                word[lane] = value;
            }
            rng.jump();
        }
        Lanes { s }
    }

    /// One xoshiro256++ step of every lane: the next output of each.
    #[inline(always)]
    pub fn step(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0; LANES];
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }
}

/// The four state words of a rand_xoshiro generator (`u64` for xoshiro256++, `u32`
/// for xoshiro128++). The crate keeps them private; its serde form
/// (`{"s": [s0, s1, s2, s3]}`) is the documented way to save a state.
fn state_words<W: serde::de::DeserializeOwned>(rng: &impl serde::Serialize) -> [W; 4] {
    let value = serde_json::to_value(rng).expect("a xoshiro state is serialisable");
    serde_json::from_value(value["s"].clone()).expect("a xoshiro state is 4 words")
}

/// Counts the points of `points` draws from `lanes` that fall inside (the loop the
/// compiler vectorises; inlined into each target-feature wrapper).
#[inline(always)]
fn count_lanes(lanes: &mut Lanes, points: u64) -> u64 {
    let mut hits = [0u64; LANES];
    for _ in 0..points / LANES as u64 {
        let r = lanes.step();
        for l in 0..LANES {
            hits[l] += inside(r[l]);
        }
    }
    let rest = (points % LANES as u64) as usize;
    let r = lanes.step();
    hits.iter().sum::<u64>() + r[..rest].iter().map(|&x| inside(x)).sum::<u64>()
}

/// Rung 3: `points` points from lanes `index × LANES …`, baseline vector width.
pub fn hits_lanes(index: usize, points: u64) -> u64 {
    count_lanes(&mut Lanes::new(index * LANES), points)
}

/// Rung 4: the [`LANES`] generators written with AVX2 intrinsics, two vectors of 4
/// lanes per state word; points counted as outside when `(x² + y²) >> 62` is 1 or 2,
/// with `((d >> 62) + 1) >> 1`, so there is no compare at all.
///
/// # Safety
/// None beyond the token, which proves AVX2 (the function is `unsafe` only because
/// of its `target_feature`).
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2")]
unsafe fn hits_lanes_avx2(_token: Avx2Token, index: usize, points: u64) -> u64 {
    use std::arch::x86_64::*;
    let mut lanes = Lanes::new(index * LANES);
    let steps = points / LANES as u64;
    // SAFETY: AVX2 is enabled (whole block); loads and stores stay inside `lanes.s`.
    let outside = unsafe {
        let load = |w: &[u64; LANES], h: usize| _mm256_loadu_si256(w.as_ptr().add(4 * h).cast());
        let mut s: [[__m256i; 2]; 4] =
            std::array::from_fn(|i| [load(&lanes.s[i], 0), load(&lanes.s[i], 1)]);
        let mask31 = _mm256_set1_epi64x(0x7fff_ffff);
        let one = _mm256_set1_epi64x(1);
        let mut acc = [_mm256_setzero_si256(); 2];
        for _ in 0..steps {
            for h in 0..2 {
                let [s0, s1, s2, s3] = [s[0][h], s[1][h], s[2][h], s[3][h]];
                let sum = _mm256_add_epi64(s0, s3);
                let rot =
                    _mm256_or_si256(_mm256_slli_epi64::<23>(sum), _mm256_srli_epi64::<41>(sum));
                let r = _mm256_add_epi64(rot, s0);
                let t = _mm256_slli_epi64::<17>(s1);
                let s2 = _mm256_xor_si256(s2, s0);
                let s3 = _mm256_xor_si256(s3, s1);
                let s1 = _mm256_xor_si256(s1, s2);
                let s0 = _mm256_xor_si256(s0, s3);
                let s2 = _mm256_xor_si256(s2, t);
                let s3 = _mm256_or_si256(_mm256_slli_epi64::<45>(s3), _mm256_srli_epi64::<19>(s3));
                [s[0][h], s[1][h], s[2][h], s[3][h]] = [s0, s1, s2, s3];
                let x = _mm256_srli_epi64::<33>(r);
                let y = _mm256_and_si256(r, mask31);
                let d = _mm256_add_epi64(_mm256_mul_epu32(x, x), _mm256_mul_epu32(y, y));
                let out = _mm256_srli_epi64::<1>(_mm256_add_epi64(_mm256_srli_epi64::<62>(d), one));
                acc[h] = _mm256_add_epi64(acc[h], out);
            }
        }
        for (i, word) in s.iter().enumerate() {
            for (h, v) in word.iter().enumerate() {
                _mm256_storeu_si256(lanes.s[i].as_mut_ptr().add(4 * h).cast(), *v);
            }
        }
        let mut sums = [0u64; 8];
        _mm256_storeu_si256(sums.as_mut_ptr().cast(), acc[0]);
        _mm256_storeu_si256(sums.as_mut_ptr().add(4).cast(), acc[1]);
        sums.iter().sum::<u64>()
    };
    let rest = (points % LANES as u64) as usize;
    let r = lanes.step();
    steps * LANES as u64 - outside + r[..rest].iter().map(|&x| inside(x)).sum::<u64>()
}

/// Rung 4: the widest vector version the lab's level runs ([`crate::cpu::level`];
/// same answer as rung 3).
pub fn hits_best(index: usize, points: u64) -> u64 {
    hits_best_at(crate::cpu::level(), index, points)
}

/// [`hits_best`] at an explicit vector level (at most the machine's): AVX2 with an
/// [`Avx2Token`], rung 3 below.
pub fn hits_best_at(level: Level, index: usize, points: u64) -> u64 {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    if let Some(token) = Avx2Token::at(level) {
        // SAFETY: the token proves AVX2 (`cpu::Avx2Token`).
        return unsafe { hits_lanes_avx2(token, index, points) };
    }
    let _ = level;
    hits_lanes(index, points)
}

/// Generators run side by side in rung 5: two AVX2 vectors of 8 32-bit lanes.
pub const LANES32: usize = 16;

/// The xoshiro128++ generator of stream `index` (the 32-bit member of the family of
/// [`stream`]: same authors, period 2^128 − 1, streams 2^64 draws apart by jumps).
pub fn stream32(index: usize) -> Xoshiro128PlusPlus {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(crate::workloads::pi::SEED);
    for _ in 0..index {
        rng.jump();
    }
    rng
}

/// Whether a 32-bit draw, cut into two signed 16-bit coordinates x and y (a point
/// of the square [−2^15, 2^15)²), falls in the disc x² + y² < 2^30: the fraction
/// inside is π/4 as for the quarter disc of the unit square. What `vpmaddwd` computes
/// for 8 draws at once: both products and their sum in 32 bits (unsigned, since
/// 2 × 2^30 fits).
#[inline(always)]
fn inside16(r: u32) -> u32 {
    let (x, y) = (
        i32::from(r as u16 as i16),
        i32::from((r >> 16) as u16 as i16),
    );
    let d = (x * x) as u32 + (y * y) as u32;
    u32::from(d >> 30 == 0)
}

/// [`LANES32`] xoshiro128++ generators, state words as arrays (struct of arrays).
#[derive(Debug, Clone)]
pub struct Lanes32 {
    s: [[u32; LANES32]; 4],
}

impl Lanes32 {
    /// Lanes `first`, `first + 1`, … of the jump-separated streams of [`stream32`].
    pub fn new(first: usize) -> Lanes32 {
        let mut s = [[0; LANES32]; 4];
        let mut rng = stream32(first);
        for lane in 0..LANES32 {
            let state: [u32; 4] = state_words(&rng);
            for (word, value) in s.iter_mut().zip(state) {
                word[lane] = value;
            }
            rng.jump();
        }
        Lanes32 { s }
    }

    /// One xoshiro128++ step of every lane: the next output of each.
    #[inline(always)]
    pub fn step(&mut self) -> [u32; LANES32] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0; LANES32];
        for l in 0..LANES32 {
            out[l] = s0[l].wrapping_add(s3[l]).rotate_left(7).wrapping_add(s0[l]);
            let t = s1[l] << 9;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(11);
        }
        out
    }
}

/// Rung 5 without AVX2 (and the reference of the tests): `points` points from the
/// 32-bit lanes `index × LANES32 …`, one step of all lanes after another.
pub fn hits_lanes32(index: usize, points: u64) -> u64 {
    let mut lanes = Lanes32::new(index * LANES32);
    let mut hits = 0u64;
    for _ in 0..points / LANES32 as u64 {
        hits += lanes
            .step()
            .iter()
            .map(|&r| u64::from(inside16(r)))
            .sum::<u64>();
    }
    let rest = (points % LANES32 as u64) as usize;
    hits + lanes.step()[..rest]
        .iter()
        .map(|&r| u64::from(inside16(r)))
        .sum::<u64>()
}

/// Rung 5: the [`LANES32`] generators in two AVX2 vectors of 8 lanes per state word;
/// `vpmaddwd` gives x² + y² of 8 points in one instruction, counted as outside when
/// `((d >> 30) + 1) >> 1` is 1. The 32-bit counters are emptied into a `u64` every
/// `flush` steps (2^30 in [`hits_best32`]), so any S is counted exactly.
///
/// # Safety
/// None beyond the token, which proves AVX2 (the function is `unsafe` only because
/// of its `target_feature`).
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[target_feature(enable = "avx2")]
unsafe fn hits_lanes32_avx2(_token: Avx2Token, index: usize, points: u64, flush: u64) -> u64 {
    use std::arch::x86_64::*;
    let mut lanes = Lanes32::new(index * LANES32);
    let steps = points / LANES32 as u64;
    let half = LANES32 / 2;
    // SAFETY: AVX2 is enabled (whole block); loads and stores stay inside `lanes.s`.
    let outside = unsafe {
        let load =
            |w: &[u32; LANES32], h: usize| _mm256_loadu_si256(w.as_ptr().add(half * h).cast());
        let mut s: [[__m256i; 2]; 4] =
            std::array::from_fn(|i| [load(&lanes.s[i], 0), load(&lanes.s[i], 1)]);
        let one = _mm256_set1_epi32(1);
        let mut outside = 0u64;
        let mut done = 0u64;
        while done < steps {
            let run = (steps - done).min(flush);
            let mut acc = [_mm256_setzero_si256(); 2];
            for _ in 0..run {
                for h in 0..2 {
                    let [s0, s1, s2, s3] = [s[0][h], s[1][h], s[2][h], s[3][h]];
                    let sum = _mm256_add_epi32(s0, s3);
                    let rot =
                        _mm256_or_si256(_mm256_slli_epi32::<7>(sum), _mm256_srli_epi32::<25>(sum));
                    let r = _mm256_add_epi32(rot, s0);
                    let t = _mm256_slli_epi32::<9>(s1);
                    let s2 = _mm256_xor_si256(s2, s0);
                    let s3 = _mm256_xor_si256(s3, s1);
                    let s1 = _mm256_xor_si256(s1, s2);
                    let s0 = _mm256_xor_si256(s0, s3);
                    let s2 = _mm256_xor_si256(s2, t);
                    let s3 =
                        _mm256_or_si256(_mm256_slli_epi32::<11>(s3), _mm256_srli_epi32::<21>(s3));
                    [s[0][h], s[1][h], s[2][h], s[3][h]] = [s0, s1, s2, s3];
                    let d = _mm256_madd_epi16(r, r);
                    let out =
                        _mm256_srli_epi32::<1>(_mm256_add_epi32(_mm256_srli_epi32::<30>(d), one));
                    acc[h] = _mm256_add_epi32(acc[h], out);
                }
            }
            let mut sums = [0u32; LANES32];
            _mm256_storeu_si256(sums.as_mut_ptr().cast(), acc[0]);
            _mm256_storeu_si256(sums.as_mut_ptr().add(half).cast(), acc[1]);
            outside += sums.iter().map(|&c| u64::from(c)).sum::<u64>();
            done += run;
        }
        for (i, word) in s.iter().enumerate() {
            for (h, v) in word.iter().enumerate() {
                _mm256_storeu_si256(lanes.s[i].as_mut_ptr().add(half * h).cast(), *v);
            }
        }
        outside
    };
    let rest = (points % LANES32 as u64) as usize;
    let r = lanes.step();
    let last: u64 = r[..rest].iter().map(|&x| u64::from(inside16(x))).sum();
    steps * LANES32 as u64 - outside + last
}

/// Rung 5: the 32-bit lanes with AVX2 when the lab's level has it (same answer as
/// [`hits_lanes32`]).
pub fn hits_best32(index: usize, points: u64) -> u64 {
    hits_best32_at(crate::cpu::level(), index, points)
}

/// [`hits_best32`] at an explicit vector level (at most the machine's).
pub fn hits_best32_at(level: Level, index: usize, points: u64) -> u64 {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    if let Some(token) = Avx2Token::at(level) {
        // SAFETY: the token proves AVX2 (`cpu::Avx2Token`).
        return unsafe { hits_lanes32_avx2(token, index, points, 1 << 30) };
    }
    let _ = level;
    hits_lanes32(index, points)
}

/// Rung 6, the `optimise` strategy: [`hits_best32`] on `workers` threads, worker w on
/// its own lanes.
pub fn optimise(samples: u64, workers: usize) -> f64 {
    let workers = workers.max(1);
    let inside: u64 = super::pool(workers).install(|| {
        (0..workers)
            .into_par_iter()
            .map(|w| hits_best32(w, share(samples, workers, w)))
            .sum()
    });
    estimate(inside, samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::pi::is_ok;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn lanes_are_the_streams_of_rand_xoshiro() {
        let mut lanes = Lanes::new(3);
        let mut reference: Vec<Xoshiro256PlusPlus> = (3..3 + LANES).map(stream).collect();
        for _ in 0..100 {
            let got = lanes.step();
            for (l, rng) in reference.iter_mut().enumerate() {
                assert_eq!(got[l], rng.next_u64(), "lane {l}");
            }
        }
    }

    #[test]
    fn lanes32_are_the_streams_of_rand_xoshiro() {
        let mut lanes = Lanes32::new(5);
        let mut reference: Vec<Xoshiro128PlusPlus> = (5..5 + LANES32).map(stream32).collect();
        for _ in 0..100 {
            let got = lanes.step();
            for (l, rng) in reference.iter_mut().enumerate() {
                assert_eq!(got[l], rng.next_u32(), "lane {l}");
            }
        }
    }

    #[test]
    fn a_16_bit_point_is_inside_when_its_disc_test_says_so() {
        let exact = |r: u32| {
            let (x, y) = (
                i64::from(r as u16 as i16),
                i64::from((r >> 16) as u16 as i16),
            );
            u32::from(x * x + y * y < 1 << 30)
        };
        // Corners (−2^15 on both axes: x² + y² = 2^31), axes, the circle's edge.
        for r in [
            0,
            0x8000_8000,
            0x0000_8000,
            0x7fff_7fff,
            0x0000_7fff,
            0x5a82_5a82,
            0x5a83_5a82,
        ] {
            assert_eq!(inside16(r), exact(r), "{r:#x}");
        }
        let mut rng = stream32(0);
        for _ in 0..100_000 {
            let r = rng.next_u32();
            assert_eq!(inside16(r), exact(r), "{r:#x}");
        }
    }

    #[test]
    fn the_32_bit_kernels_agree_at_every_length_flush_and_level() {
        for points in [0, 1, 15, 16, 17, 1000, 100_003] {
            for level in crate::cpu::available() {
                let got = hits_best32_at(level, 2, points);
                assert_eq!(hits_lanes32(2, points), got, "{level} {points}");
            }
            assert_eq!(hits_lanes32(2, points), hits_best32(2, points), "{points}");
            #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
            if let Some(token) = Avx2Token::at(Level::Avx2) {
                // Counters emptied every 3 steps instead of 2^30: the same count.
                // SAFETY: the token proves AVX2.
                let flushed = unsafe { hits_lanes32_avx2(token, 2, points, 3) };
                assert_eq!(flushed, hits_lanes32(2, points), "{points}");
            }
        }
    }

    #[test]
    fn vector_widths_agree_and_every_rung_is_within_tolerance() {
        for points in [0, 1, 7, 8, 9, 1000, 100_003] {
            assert_eq!(hits_lanes(1, points), hits_best(1, points), "{points}");
            for level in crate::cpu::available() {
                let got = hits_best_at(level, 1, points);
                assert_eq!(hits_lanes(1, points), got, "{level} {points}");
            }
        }
        let s = 2_000_000;
        for rung in ladder() {
            let v = (rung.run)(s, 3);
            assert!(is_ok(v, s), "{} {v}", rung.name);
        }
        assert_eq!(optimise(s, 2), optimise(s, 2));
        assert_eq!(optimise(s, 1), estimate(hits_best32(0, s), s));
    }

    /// Quiet-run timings of every rung at the size of workloads.md (release only:
    /// `cargo test --release -p tp4 --lib fast::pi::tests::timings -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timings() {
        let s = 20_000_000;
        for rung in ladder() {
            let (wall, cpu) =
                super::super::time_rung(|| (rung.run)(s, 2), |v| assert!(is_ok(*v, s), "{v}"));
            println!(
                "W2 {:10} wall {wall:.4} s, thread CPU {cpu:.4} s",
                rung.name
            );
        }
    }
}
