//! `corpus.txt`: the text corpus of the lab (workloads.md), its vocabulary and its
//! generator.
//!
//! Lines of 12 words separated by single spaces. Words come from a fixed vocabulary
//! of 10_000 lowercase pseudo-words (syllables drawn from a seeded stream), and are
//! drawn with Zipf frequencies of exponent 1.1: the word of rank k appears with a
//! probability proportional to 1/k^1.1, as in natural languages. Sampling inverts the
//! cumulative distribution with a binary search, which is exact and deterministic.

use crate::error::Result;
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// Number of distinct words.
pub const VOCABULARY_SIZE: usize = 10_000;
/// Exponent of the Zipf law.
pub const ZIPF_EXPONENT: f64 = 1.1;
/// Words per line.
pub const WORDS_PER_LINE: usize = 12;
/// Seed of the vocabulary.
pub const VOCABULARY_SEED: u64 = 0x7470_345f_766f_6361; // "tp4_voca"
/// Seed of the word stream.
pub const TEXT_SEED: u64 = 0x7470_345f_7465_7874; // "tp4_text"

const ONSETS: [&str; 20] = [
    "b", "c", "d", "f", "g", "j", "l", "m", "n", "p", "r", "s", "t", "v", "ch", "gr", "pl", "tr",
    "br", "qu",
];
const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ou", "an", "on"];

/// The vocabulary, word of rank 1 first: 10_000 distinct lowercase pseudo-words.
pub fn vocabulary() -> Vec<String> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(VOCABULARY_SEED);
    let mut seen = HashSet::with_capacity(VOCABULARY_SIZE);
    let mut words = Vec::with_capacity(VOCABULARY_SIZE);
    while words.len() < VOCABULARY_SIZE {
        let syllables = rng.random_range(1..=4);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(ONSETS[rng.random_range(0..ONSETS.len())]);
            w.push_str(VOWELS[rng.random_range(0..VOWELS.len())]);
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Cumulative Zipf distribution over ranks 1..=n, normalised so that the last value
/// is 1.
pub fn zipf_cdf(n: usize, exponent: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(exponent);
            acc
        })
        .collect();
    let total = acc;
    for c in &mut cdf {
        *c /= total;
    }
    cdf
}

/// Writes lines of words until at least `bytes` bytes are written (the last line is
/// completed), calling `progress` with the bytes written so far now and then.
pub fn write_text(
    out: &mut impl Write,
    bytes: u64,
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let words = vocabulary();
    let cdf = zipf_cdf(VOCABULARY_SIZE, ZIPF_EXPONENT);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(TEXT_SEED);
    let mut written = 0u64;
    let mut line = String::with_capacity(256);
    let mut lines = 0u64;
    while written < bytes {
        line.clear();
        for i in 0..WORDS_PER_LINE {
            if i > 0 {
                line.push(' ');
            }
            // 53 random bits give a uniform f64 in [0, 1).
            let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            let rank = cdf.partition_point(|&c| c <= u).min(VOCABULARY_SIZE - 1);
            line.push_str(&words[rank]);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        lines += 1;
        if lines.is_multiple_of(8192) {
            progress(written);
        }
    }
    progress(written);
    Ok(())
}

/// Generates `corpus.txt` of about `megabytes` × 10^6 bytes at `path`, atomically.
pub fn generate(path: &Path, megabytes: u64, progress: impl FnMut(u64)) -> Result<()> {
    crate::output::write_atomic(path, |w| write_text(w, megabytes * 1_000_000, progress))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn vocabulary_is_distinct_lowercase() {
        let v = vocabulary();
        assert_eq!(v.len(), VOCABULARY_SIZE);
        assert_eq!(v.iter().collect::<HashSet<_>>().len(), VOCABULARY_SIZE);
        assert!(v.iter().all(|w| w.chars().all(|c| c.is_ascii_lowercase())));
    }

    #[test]
    fn lines_have_twelve_words_and_follow_zipf() {
        let mut out = Vec::new();
        write_text(&mut out, 300_000, |_| {}).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.len() >= 300_000 && text.ends_with('\n'));
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            assert_eq!(words.len(), WORDS_PER_LINE, "{line}");
            for w in words {
                *counts.entry(w).or_default() += 1;
            }
        }
        let v = vocabulary();
        // Rank 1 is about 2^1.1 ≈ 2.1 times as frequent as rank 2.
        let ratio = counts[v[0].as_str()] as f64 / counts[v[1].as_str()] as f64;
        assert!((1.7..2.6).contains(&ratio), "ratio {ratio}");
    }
}
