//! W7 wordcount: word frequencies of `corpus.txt` (a word is a maximal run of
//! non-whitespace bytes), the total word count and the 10 most frequent words, ties
//! broken alphabetically.
//!
//! The counting map uses FxHash (a fast, deterministic hash; the default SipHash
//! resists denial-of-service attacks we do not face here) and looks words up by
//! `&[u8]` first, so a word already seen costs no allocation. The parallel version
//! is map-reduce: each worker counts its own byte range of the file into its own
//! map (map + combine), then the maps are merged (reduce).

use crate::data::chunks;
use crate::error::Result;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::path::Path;

/// Word counts of a text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WordCount {
    /// Total number of words.
    pub total: u64,
    /// Occurrences of each distinct word.
    pub counts: FxHashMap<Box<[u8]>, u64>,
}

impl WordCount {
    /// Counts the words of a block of text into `self`.
    pub fn add_text(&mut self, text: &[u8]) {
        for word in text
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
        {
            self.total += 1;
            match self.counts.get_mut(word) {
                Some(c) => *c += 1,
                None => {
                    self.counts.insert(word.into(), 1);
                }
            }
        }
    }

    /// Merges the counts of another part (the reduce step).
    pub fn merge(mut self, other: WordCount) -> WordCount {
        let (mut big, small) = if self.counts.len() >= other.counts.len() {
            (std::mem::take(&mut self), other)
        } else {
            (other, std::mem::take(&mut self))
        };
        big.total += small.total;
        for (w, c) in small.counts {
            *big.counts.entry(w).or_default() += c;
        }
        big
    }

    /// The `n` most frequent words with their counts, ties broken alphabetically.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(&[u8], u64)> = self.counts.iter().map(|(w, &c)| (&w[..], c)).collect();
        let by_rank = |a: &(&[u8], u64), b: &(&[u8], u64)| b.1.cmp(&a.1).then(a.0.cmp(b.0));
        if v.len() > n && n > 0 {
            v.select_nth_unstable_by(n - 1, by_rank);
            v.truncate(n);
        }
        v.sort_by(by_rank);
        v.truncate(n);
        v.into_iter()
            .map(|(w, c)| (String::from_utf8_lossy(w).into_owned(), c))
            .collect()
    }

    /// Number of distinct words.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }
}

/// Block size used when streaming the file.
const BLOCK: usize = 1 << 20;

/// Sequential: stream the file in 1 MiB blocks cut on line boundaries.
pub fn seq(path: &Path) -> Result<WordCount> {
    let len = std::fs::metadata(path)
        .map_err(|e| crate::error::Error::io("lecture de", path, e))?
        .len();
    count_range(path, 0..len)
}

/// Counts the words of one byte range of the file.
pub fn count_range(path: &Path, range: std::ops::Range<u64>) -> Result<WordCount> {
    let mut wc = WordCount::default();
    chunks::for_each_block(path, range, BLOCK, |block| {
        wc.add_text(block);
        Ok(())
    })?;
    Ok(wc)
}

/// Parallel map-reduce with rayon over byte ranges (4 per worker); run it inside a
/// pool of `workers` threads.
pub fn rayon(path: &Path, workers: usize) -> Result<WordCount> {
    let ranges = chunks::line_ranges(path, workers.max(1) * 4, false)?;
    ranges
        .into_par_iter()
        .map(|r| count_range(path, r))
        .try_reduce(WordCount::default, |a, b| Ok(a.merge(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_ties() {
        let mut wc = WordCount::default();
        wc.add_text(b"b a c\n  a b\td\n");
        assert_eq!(wc.total, 6);
        assert_eq!(
            wc.top(3),
            vec![("a".into(), 2), ("b".into(), 2), ("c".into(), 1)]
        );
        assert_eq!(wc.top(10).len(), 4);
    }

    #[test]
    fn seq_and_rayon_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        crate::data::corpus::generate(&path, 1, |_| {}).unwrap();
        let text = std::fs::read(&path).unwrap();
        let mut naive = WordCount::default();
        naive.add_text(&text);
        let s = seq(&path).unwrap();
        assert_eq!(s, naive);
        for w in [1, 2, 3] {
            assert_eq!(rayon(&path, w).unwrap(), naive);
        }
        assert_eq!(s.total % 12, 0);
    }
}
