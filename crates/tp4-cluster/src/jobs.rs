//! The two distributed computations, W7 wordcount and W4 groupby, written as the two
//! halves a map/reduce engine needs: `map_range` (read one byte range and
//! pre-aggregate it locally, the combiner) and `assemble` (turn the reduced
//! `(key, value)` pairs back into the single-machine answer type).
//!
//! Both reuse the single-machine code of the `tp4` crate for the map side
//! (`wordcount::count_range`, `groupby::aggregate_range`), so the distributed answer
//! can only differ from the reference if the shuffle or the reduce is wrong.

use std::ops::Range;
use std::path::{Path, PathBuf};
use tp4::workloads::groupby::{self, GroupBy};
use tp4::workloads::wordcount::{self, WordCount};
use tp4::Result;

/// The key of the shuffle: a word, or a prefixed category/city name.
pub type Key = Vec<u8>;
/// The value attached to a key: `[count, 0]` for a word, `[cents, rows]` for a group.
pub type Value = [i64; 2];

/// Prefix of the category keys of the groupby.
const CATEGORY: &[u8] = b"categorie:";
/// Prefix of the city keys of the groupby.
const CITY: &[u8] = b"ville:";

/// Which computation a run performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// W7: word frequencies of corpus.txt.
    WordCount,
    /// W4: per-category and per-city totals of transactions.csv.
    GroupBy,
}

impl Job {
    /// Short name, used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Job::WordCount => "wordcount",
            Job::GroupBy => "groupby",
        }
    }

    /// A stable number, sent in the handshake so that processes of different jobs
    /// refuse to work together.
    pub fn code(self) -> u32 {
        match self {
            Job::WordCount => 7,
            Job::GroupBy => 4,
        }
    }

    /// The input file of the job in a data directory (a French error if missing).
    pub fn input(self, data_dir: &Path) -> Result<PathBuf> {
        match self {
            Job::WordCount => tp4::data::corpus_path(data_dir),
            Job::GroupBy => tp4::data::transactions_path(data_dir),
        }
    }

    /// Whether the input starts with a header line that belongs to no range.
    pub fn has_header(self) -> bool {
        matches!(self, Job::GroupBy)
    }

    /// Checks what must be checked once per file before ranges are read (the CSV
    /// header of transactions.csv).
    pub fn check_input(self, path: &Path) -> Result<()> {
        match self {
            Job::WordCount => Ok(()),
            Job::GroupBy => groupby::check_header(path),
        }
    }

    /// MAP + COMBINE: reads one byte range of the input and pre-aggregates it into
    /// one pair per distinct key (a word seen 500 times in the range travels once,
    /// with the count 500).
    pub fn map_range(self, path: &Path, range: Range<u64>) -> Result<Vec<(Key, Value)>> {
        match self {
            Job::WordCount => {
                let wc = wordcount::count_range(path, range)?;
                Ok(wc
                    .counts
                    .into_iter()
                    .map(|(w, c)| (w.into_vec(), [c as i64, 0]))
                    .collect())
            }
            Job::GroupBy => {
                // The names found in this range, whatever they are.
                let g = groupby::aggregate_range(path, range)?;
                let categories = g
                    .categories
                    .iter()
                    .map(|(name, &(cents, rows))| (prefixed(CATEGORY, name), [cents, rows as i64]));
                let cities = g
                    .cities
                    .iter()
                    .map(|(name, &cents)| (prefixed(CITY, name), [cents, 0]));
                Ok(categories.chain(cities).collect())
            }
        }
    }
}

fn prefixed(prefix: &[u8], name: &str) -> Key {
    let mut k = prefix.to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

/// REDUCE, per key: adds two values.
pub fn combine(a: &mut Value, b: Value) {
    a[0] += b[0];
    a[1] += b[1];
}

/// The answer of a run, in the types of the single-machine references.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// W7 answer.
    WordCount(WordCount),
    /// W4 answer.
    GroupBy(Box<GroupBy>),
}

impl Answer {
    /// Rebuilds the answer from the reduced pairs gathered on worker 0.
    pub fn assemble(job: Job, pairs: &[(Key, Value)]) -> Answer {
        match job {
            Job::WordCount => {
                let mut wc = WordCount::default();
                for (k, v) in pairs {
                    wc.total += v[0] as u64;
                    *wc.counts.entry(k.clone().into_boxed_slice()).or_default() += v[0] as u64;
                }
                Answer::WordCount(wc)
            }
            Job::GroupBy => {
                let mut g = GroupBy::default();
                for (k, v) in pairs {
                    // Keys were built from valid UTF-8 names by `map_range`.
                    let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
                    if let Some(n) = k.strip_prefix(CATEGORY) {
                        let c = g.categories.entry(name(n)).or_default();
                        c.0 += v[0];
                        c.1 += v[1] as u64;
                    } else if let Some(n) = k.strip_prefix(CITY) {
                        *g.cities.entry(name(n)).or_default() += v[0];
                    }
                }
                Answer::GroupBy(Box::new(g))
            }
        }
    }

    /// An error if a groupby read no row at all (headers only in every partition):
    /// the run says so rather than reporting totals of zero.
    pub fn check_not_empty(&self, path: &Path) -> Result<()> {
        match self {
            Answer::GroupBy(g) if g.rows() == 0 => Err(tp4::data::transactions::no_rows(path)),
            _ => Ok(()),
        }
    }

    /// The single-machine reference answer (`wordcount::seq`, `groupby::seq`).
    pub fn reference(job: Job, path: &Path) -> Result<Answer> {
        Ok(match job {
            Job::WordCount => Answer::WordCount(wordcount::seq(path)?),
            Job::GroupBy => Answer::GroupBy(Box::new(groupby::seq(path)?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_then_assemble_is_the_reference() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus.txt");
        tp4::data::corpus::generate(&corpus, 1, |_| {}).unwrap();
        let csv = dir.path().join("transactions.csv");
        tp4::data::transactions::generate(&csv, 2_000, |_| {}).unwrap();
        for (job, path) in [(Job::WordCount, &corpus), (Job::GroupBy, &csv)] {
            let ranges = tp4::data::chunks::line_ranges(path, 3, job.has_header()).unwrap();
            let mut all: Vec<(Key, Value)> = Vec::new();
            for r in ranges {
                all.extend(job.map_range(path, r).unwrap());
            }
            // Pairs of the same key from different ranges are merged by assemble.
            assert_eq!(
                Answer::assemble(job, &all),
                Answer::reference(job, path).unwrap(),
                "{}",
                job.name()
            );
        }
    }
}
