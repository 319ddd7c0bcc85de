//! W7 wordcount: word frequencies of `corpus.txt` (a word is a maximal run of
//! characters that are not Unicode White_Space, as [`crate::data::words`] defines it
//! for the whole lab), the total word count and the 10 most frequent words, ties
//! broken alphabetically (by bytes).
//!
//! The counting map uses FxHash (a fast, deterministic hash; the default SipHash
//! resists denial-of-service attacks we do not face here) and looks words up by
//! `&[u8]` first, so a word already seen costs no allocation. The parallel version
//! is map-reduce: each worker counts its own byte range of the file into its own
//! map (map + combine), then the maps are merged (reduce).

use crate::data::{chunks, words};
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
        let mut fast = FastCounts::default();
        fast.add_text(text);
        fast.add_into(self);
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

    /// The whole answer as in `workloads.md`: `{"total", "distinct", "top":
    /// [[word, count]…]}` (top 10).
    pub fn answer_json(&self) -> serde_json::Value {
        serde_json::json!({
            "total": self.total,
            "distinct": self.distinct(),
            "top": self.top(10),
        })
    }
}

/// Longest word kept packed in a `u128` key (the 16th byte holds the length).
const PACKED_MAX: usize = 15;

/// The counting map of the hot loop. Profiling W7 (`perf record`) showed a third of
/// the time in `memcmp`, called by every lookup of a `Box<[u8]>` key to confirm the
/// match, and another tenth hashing byte slices. Words of up to 15 bytes (all of the
/// corpus's) are therefore packed, while they are scanned, into a `u128` (bytes in
/// little-endian order, length in the top byte): comparing two keys is one integer
/// comparison and hashing is two multiplications. Longer words go to a map of byte
/// strings. The result is converted into a [`WordCount`] once per range.
#[derive(Debug, Default)]
struct FastCounts {
    total: u64,
    packed: FxHashMap<u128, u64>,
    long: FxHashMap<Box<[u8]>, u64>,
}

impl FastCounts {
    /// Scans `text` once: each byte either ends a word or is packed into its key.
    /// White space is [`words::white_len`]'s: one table lookup per ASCII byte, a look
    /// at the next bytes only after a byte that may start a multi-byte white space.
    fn add_text(&mut self, text: &[u8]) {
        let mut start = 0usize;
        let mut key = 0u128;
        let mut i = 0usize;
        while i < text.len() {
            let white = words::white_len(text, i);
            if white > 0 {
                if i > start {
                    self.add_word(&text[start..i], key);
                }
                i += white;
                start = i;
                key = 0;
            } else {
                let pos = i - start;
                if pos < PACKED_MAX {
                    key |= u128::from(text[i]) << (8 * pos);
                }
                i += 1;
            }
        }
        if text.len() > start {
            // A last word without a trailing separator: pack it again from scratch.
            let word = &text[start..];
            let key = word
                .iter()
                .take(PACKED_MAX)
                .enumerate()
                .fold(0u128, |k, (i, &b)| k | u128::from(b) << (8 * i));
            self.add_word(word, key);
        }
    }

    /// Counts one word; `bytes_key` holds its first 15 bytes packed.
    #[inline(always)]
    fn add_word(&mut self, word: &[u8], bytes_key: u128) {
        self.total += 1;
        if word.len() <= PACKED_MAX {
            let key = bytes_key | (word.len() as u128) << 120;
            *self.packed.entry(key).or_insert(0) += 1;
        } else {
            match self.long.get_mut(word) {
                Some(c) => *c += 1,
                None => {
                    self.long.insert(word.into(), 1);
                }
            }
        }
    }

    /// Merges the counts of another range (integer keys: no byte comparison).
    fn merge(mut self, other: FastCounts) -> FastCounts {
        let (mut big, small) = if self.packed.len() >= other.packed.len() {
            (std::mem::take(&mut self), other)
        } else {
            (other, std::mem::take(&mut self))
        };
        big.total += small.total;
        for (k, c) in small.packed {
            *big.packed.entry(k).or_insert(0) += c;
        }
        for (w, c) in small.long {
            *big.long.entry(w).or_insert(0) += c;
        }
        big
    }

    /// Adds these counts into a [`WordCount`].
    fn add_into(self, wc: &mut WordCount) {
        wc.total += self.total;
        wc.counts.reserve(self.packed.len() + self.long.len());
        for (key, c) in self.packed {
            let len = (key >> 120) as usize;
            let bytes = key.to_le_bytes();
            match wc.counts.get_mut(&bytes[..len]) {
                Some(n) => *n += c,
                None => {
                    wc.counts.insert(bytes[..len].into(), c);
                }
            }
        }
        for (word, c) in self.long {
            *wc.counts.entry(word).or_insert(0) += c;
        }
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
    fast_range(path, range)?.add_into(&mut wc);
    Ok(wc)
}

/// Counts one line-aligned byte range of the file into packed counts. The text is
/// checked as it is read, as `workloads.md` v3 says ("corpus.txt, exactly"): a
/// byte-order mark at the start of the file is skipped, invalid UTF-8 is refused
/// naming its line (counted from the start of the file, whatever the range).
fn fast_range(path: &Path, range: std::ops::Range<u64>) -> Result<FastCounts> {
    let mut fast = FastCounts::default();
    let mut offset = range.start;
    chunks::for_each_block(path, range, BLOCK, |block| {
        let text = match offset {
            0 => block.strip_prefix(BOM).unwrap_or(block),
            _ => block,
        };
        if let Err(e) = std::str::from_utf8(text) {
            let at = offset + (block.len() - text.len() + e.valid_up_to()) as u64;
            return Err(not_utf8(path, at, text[e.valid_up_to()]));
        }
        fast.add_text(text);
        offset += block.len() as u64;
        Ok(())
    })?;
    Ok(fast)
}

/// The UTF-8 byte-order mark, skipped at the start of the corpus.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The error of a corpus that is not UTF-8 at byte `at` (whose value is `byte`):
/// names the line, counted from the start of the file.
pub fn not_utf8(path: &Path, at: u64, byte: u8) -> crate::error::Error {
    let line = match line_number_at(path, at) {
        Ok(line) => line,
        Err(e) => return e,
    };
    crate::error::Error::Malformed {
        path: path.to_path_buf(),
        line,
        field: "texte".into(),
        message: format!(
            "texte qui n'est pas de l'UTF-8 (octet 0x{byte:02X}) : le corpus doit être \
             encodé en UTF-8 ; convertissez-le, par exemple avec \
             `iconv -f latin1 -t utf-8 ancien.txt > corpus.txt`"
        ),
    }
}

/// The 1-based line number of the byte at `offset` (counts the LF bytes before it).
fn line_number_at(path: &Path, offset: u64) -> Result<u64> {
    let mut newlines = 0u64;
    chunks::for_each_block(path, 0..offset, 1 << 20, |b| {
        newlines += memchr::memchr_iter(b'\n', b).count() as u64;
        Ok(())
    })?;
    Ok(newlines + 1)
}

/// Parallel map-reduce with rayon over byte ranges (4 per worker); run it inside a
/// pool of `workers` threads. (`WordCount::merge` is the reduce step for counts that
/// come from elsewhere, such as other processes or hosts.)
pub fn rayon(path: &Path, workers: usize) -> Result<WordCount> {
    let ranges = chunks::line_ranges(path, workers.max(1) * 4, false)?;
    // The partial counts are merged with their integer keys; the words are turned
    // into byte strings once, at the end (the serial part stays small).
    let fast = ranges
        .clone()
        .into_par_iter()
        .map(|r| fast_range(path, r))
        .try_reduce(FastCounts::default, |a, b| Ok(a.merge(b)))
        .map_err(|e| chunks::first_error(e, &ranges, |r| fast_range(path, r)))?;
    let mut wc = WordCount::default();
    fast.add_into(&mut wc);
    Ok(wc)
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

    /// The plain definition, to check the packed counting against.
    fn naive(text: &[u8]) -> WordCount {
        let mut wc = WordCount::default();
        for w in String::from_utf8_lossy(text)
            .split(char::is_whitespace)
            .filter(|w| !w.is_empty())
        {
            wc.total += 1;
            *wc.counts.entry(w.as_bytes().into()).or_default() += 1;
        }
        wc
    }

    #[test]
    fn packed_keys_match_the_plain_definition() {
        let long = "x".repeat(15) + " " + &"y".repeat(16) + " " + &"z".repeat(40);
        for text in [
            "",
            " ",
            "a",
            "a a\ta\r\na\x0Cb",
            "mot final sans fin de ligne",
            "  espaces   multiples  ",
            "été àçè é\u{a0}x",
            "a\u{a0}b\u{0B}c\u{2003}d\u{3000}e\u{202F}f\u{85}g \u{1F}h",
            "a\0 a \0a",
            long.as_str(),
            "123456789012345 1234567890123456 123456789012345",
        ] {
            let mut wc = WordCount::default();
            wc.add_text(text.as_bytes());
            assert_eq!(wc, naive(text.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn seq_and_rayon_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        crate::data::corpus::generate(&path, 1, |_| {}).unwrap();
        let text = std::fs::read(&path).unwrap();
        let naive = naive(&text);
        let s = seq(&path).unwrap();
        assert_eq!(s, naive);
        for w in [1, 2, 3] {
            assert_eq!(rayon(&path, w).unwrap(), naive);
        }
        assert_eq!(s.total % 12, 0);
    }
}
