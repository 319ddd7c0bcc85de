//! The two distributed computations, W7 wordcount and W4 groupby, written as the two
//! halves a map/reduce engine needs: `map_range` (read one byte range and
//! pre-aggregate it locally, the combiner) and `assemble` (turn the reduced
//! `(key, value)` pairs back into the single-machine answer type).
//!
//! The map side is [`crate::fastmap`]: the `optimise` kernels of the `tp4` crate
//! over the mapped file, exact against the reference on every file (a range the fast
//! reader cannot take exactly goes through the plain kernel).

use std::ops::Range;
use std::path::{Path, PathBuf};
use tp4::workloads::fast;
use tp4::workloads::groupby::{self, GroupBy};
use tp4::workloads::wordcount::{self, WordCount};
use tp4::Result;

use crate::fastmap::{self, CATEGORY_TAG, CITY_TAG};
pub use crate::fastmap::{Key, Value};

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
            Job::WordCount => fastmap::wordcount(path, range),
            Job::GroupBy => fastmap::groupby(path, range),
        }
    }
}

/// REDUCE, per key: adds `b` to `a` with checked sums (the partials of several
/// ranges or processes may each fit and their sum not). `false` when a sum does not
/// fit in 64 bits: `a` is then left as it was, and the caller refuses the run with
/// [`too_large`].
#[must_use]
pub fn combine(a: &mut Value, b: Value) -> bool {
    match (a[0].checked_add(b[0]), a[1].checked_add(b[1])) {
        (Some(x), Some(y)) => {
            *a = [x, y];
            true
        }
        _ => false,
    }
}

/// The French "trop grand" message of a key whose total no longer fits in 64 bits,
/// worded as the single-machine readers word it, prefixed by the file.
pub fn too_large(path: &Path, key: &[u8]) -> String {
    let (what, name) = match key.split_first() {
        Some((&CATEGORY_TAG, n)) => ("de la catégorie", n),
        Some((&CITY_TAG, n)) => ("de la ville", n),
        _ => ("du mot", key),
    };
    let name = tp4::data::transactions::shown(&String::from_utf8_lossy(name));
    format!(
        "{} : {}",
        path.display(),
        tp4::data::transactions::total_too_large(&format!("{what} « {name} »"))
    )
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
                    // Counts of words of a file: they cannot reach 2^64.
                    wc.total += v[0] as u64;
                    *wc.counts.entry(k.clone().into_boxed_slice()).or_default() += v[0] as u64;
                }
                Answer::WordCount(wc)
            }
            Job::GroupBy => {
                let mut g = GroupBy::default();
                for (k, v) in pairs {
                    // Keys were built from valid UTF-8 names by `map_range`. The
                    // reduce step gives one pair per key; pairs of the same key (not
                    // reduced) are merged with checked sums like in `GroupBy::merge`.
                    let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
                    let mut part = GroupBy::default();
                    if let Some(n) = k.strip_prefix(&[CATEGORY_TAG]) {
                        part.categories.insert(name(n), (v[0], v[1] as u64));
                    } else if let Some(n) = k.strip_prefix(&[CITY_TAG]) {
                        part.cities.insert(name(n), v[0]);
                    }
                    g = g.merge(part);
                }
                Answer::GroupBy(Box::new(g))
            }
        }
    }

    /// An error if a groupby read no row at all (headers only in every partition):
    /// the run says so rather than reporting totals of zero; or the "trop grand"
    /// error if a total, or the sum of all amounts, does not fit in 64 bits
    /// (`groupby::non_empty`, as the single-machine readers do).
    pub fn check_not_empty(&self, path: &Path) -> Result<()> {
        match self {
            Answer::GroupBy(g) => groupby::non_empty(path, (**g).clone()).map(|_| ()),
            Answer::WordCount(_) => Ok(()),
        }
    }

    /// An exact answer computed on this machine alone, independently of the cluster
    /// (no ranges handed out by the run, no shuffle, no reduce): the `optimise`
    /// kernel of `tp4 bench` on `workers` threads (`tp4::workloads::fast::…::optimise`).
    /// Under the grammar of `workloads.md` v3 it gives the reference's answer on every
    /// file and refuses the same files with the same located error, several times
    /// faster than [`Answer::reference`]: process 0 checks the cluster's answer with
    /// it, so that checking does not cost more than the run it checks.
    pub fn single_machine(job: Job, path: &Path, workers: usize) -> Result<Answer> {
        Ok(match job {
            Job::WordCount => Answer::WordCount(fast::wordcount::optimise(path, workers)?),
            Job::GroupBy => {
                let totals = fast::groupby::optimise(path, workers)?;
                Answer::GroupBy(Box::new(GroupBy {
                    categories: totals
                        .categories
                        .into_iter()
                        .map(|(name, cents, rows)| (name, (cents, rows)))
                        .collect(),
                    cities: totals.cities.into_iter().collect(),
                    overflow: None,
                }))
            }
        })
    }

    /// The single-machine reference answer (`wordcount::seq`, `groupby::seq`): the
    /// plain kernels, the lab's definition of the answer.
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

    /// A xorshift generator: the same files on every run, no dependency.
    fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        }
    }

    /// An amount of `cents` written with 0, 1 or 2 decimals when exact.
    fn amount(next: &mut impl FnMut(u64) -> u64, cents: i64) -> String {
        let (sign, a) = (if cents < 0 { "-" } else { "" }, cents.unsigned_abs());
        match (next(3), a % 100) {
            (0, 0) => format!("{sign}{}", a / 100),
            (1, c) if c % 10 == 0 => format!("{sign}{}.{}", a / 100, c / 10),
            _ => format!("{sign}{}.{:02}", a / 100, a % 100),
        }
    }

    /// A users'-style transactions file: accents, quotes, CRLF, a byte-order mark,
    /// refunds, padded fields, blank lines, no final line end, and (in `noisy` files)
    /// random bytes that matter to the readers.
    fn users_file(next: &mut impl FnMut(u64) -> u64, noisy: bool) -> Vec<u8> {
        let header = tp4::data::transactions::HEADER;
        let crlf = next(2) == 0;
        // Odd names (padded, quoted) only in some files: the others stay on the fast
        // path.
        let odd = if noisy || next(2) == 0 { 2 } else { 0 };
        let mut text: Vec<u8> = Vec::new();
        if next(3) == 0 {
            text.extend_from_slice(b"\xEF\xBB\xBF");
        }
        text.extend_from_slice(header.as_bytes());
        text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        for id in 0..1 + next(400) {
            if noisy && next(60) == 0 {
                let alphabet = b"0123456789,,,..--+  \t\r\"\"ab\xc3\xa9\xff\n";
                for _ in 0..next(70) {
                    text.push(alphabet[next(alphabet.len() as u64) as usize]);
                }
                text.push(b'\n');
                continue;
            }
            if next(50) == 0 {
                text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            let city = [
                "Paris",
                "Saint-Étienne",
                "Orléans",
                "V",
                "Zürich",
                " Pau ",
                "\"Aix, en\"",
            ][next(5 + odd) as usize];
            let cat = [
                "sport",
                "thé",
                "catégorie-de-plus-de-seize-octets",
                "\"maison\"",
            ][next(3 + odd / 2) as usize];
            let cents = next(2_000_000) as i64 - 300_000;
            let amount = amount(next, cents);
            let id = if odd > 0 && next(40) == 0 {
                format!(" {id} ")
            } else {
                id.to_string()
            };
            let end = if crlf { "\r\n" } else { "\n" };
            let row = format!(
                "{id},2024-03-0{},{city},{cat},{amount},{}{end}",
                next(9) + 1,
                next(10) + 1
            );
            text.extend_from_slice(row.as_bytes());
        }
        if next(2) == 0 {
            while text.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                text.pop();
            }
        }
        text
    }

    /// A map step: one range of a file to its pairs.
    type MapFn = fn(&Path, Range<u64>) -> Result<Vec<(Key, Value)>>;

    /// The answer of a map step over `parts` ranges, assembled, or the first error
    /// in file order (what the run reports).
    fn assembled(
        job: Job,
        path: &Path,
        parts: usize,
        map: MapFn,
    ) -> std::result::Result<Answer, String> {
        job.check_input(path).map_err(|e| e.to_string())?;
        let ranges = tp4::data::chunks::line_ranges(path, parts, job.has_header())
            .map_err(|e| e.to_string())?;
        let mut pairs = Vec::new();
        for r in ranges {
            pairs.extend(map(path, r).map_err(|e| e.to_string())?);
        }
        let answer = Answer::assemble(job, &pairs);
        answer.check_not_empty(path).map_err(|e| e.to_string())?;
        Ok(answer)
    }

    /// The fast map step gives exactly what the plain one gives (same answer or same
    /// error) on random users' files cut into 1 to 7 ranges, and the reference's
    /// answer wherever the reference accepts the file.
    #[test]
    fn random_users_files_give_the_plain_answer_or_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transactions.csv");
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let (mut fast_runs, mut errors) = (0, 0);
        for case in 0..80 {
            let text = users_file(&mut next, case % 3 == 0);
            std::fs::write(&path, &text).unwrap();
            let reference = Answer::reference(Job::GroupBy, &path);
            // The verification's answer: the reference's, or its very error.
            for workers in [1, 2] {
                assert_eq!(
                    Answer::single_machine(Job::GroupBy, &path, workers).map_err(|e| e.to_string()),
                    reference.as_ref().map_err(|e| e.to_string()).cloned(),
                    "case {case}, {workers} workers"
                );
            }
            for parts in [1, 2, 3, 1 + next(7) as usize] {
                let fast = assembled(Job::GroupBy, &path, parts, fastmap::groupby);
                let plain = assembled(Job::GroupBy, &path, parts, fastmap::groupby_plain);
                assert_eq!(fast, plain, "case {case}, {parts} parts");
                if let (Ok(a), Ok(r)) = (&fast, &reference) {
                    assert_eq!(a, r, "case {case}, {parts} parts");
                }
                errors += usize::from(fast.is_err());
            }
            fast_runs += usize::from(reference.is_ok());
        }
        // Both outcomes were exercised: files the reference accepts, and errors.
        assert!(fast_runs > 5 && errors > 5, "{fast_runs} {errors}");
    }

    /// W7: the fast table gives the reference's counts or its error on random texts
    /// (any white space, accents, invalid UTF-8, a byte-order mark, CRLF, no final
    /// line end), cut into 1 to 7 ranges.
    #[test]
    fn random_texts_give_the_reference_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        let mut next = xorshift(0xD1B5_4A32_D192_ED03);
        let mut invalid = 0;
        let pieces: [&[u8]; 14] = [
            b"le",
            b"calcul",
            b"donn\xC3\xA9es",
            b" ",
            b"  ",
            b"\t",
            b"\r\n",
            b"\n",
            b"\xC2\xA0",
            b"\xE3\x80\x80",
            b"\xFF",
            b"\xEF\xBB\xBF",
            b"mot-de-plus-de-seize-octets",
            b"\xE2\x80\xAF",
        ];
        for case in 0..60 {
            let mut text = Vec::new();
            for _ in 0..next(3000) {
                // Invalid UTF-8 (0xFF) only in one file out of four.
                let piece = pieces[next(pieces.len() as u64) as usize];
                let piece = if piece == b"\xFF" && case % 4 != 0 {
                    b" "
                } else {
                    piece
                };
                text.extend_from_slice(piece);
                if next(4) == 0 {
                    text.push(b' ');
                }
            }
            std::fs::write(&path, &text).unwrap();
            let reference = Answer::reference(Job::WordCount, &path).map_err(|e| e.to_string());
            for workers in [1, 2] {
                let exact = Answer::single_machine(Job::WordCount, &path, workers);
                assert!(
                    exact.map_err(|e| e.to_string()) == reference,
                    "case {case}, {workers} workers"
                );
            }
            for parts in [1, 2, 1 + next(7) as usize] {
                let fast = assembled(Job::WordCount, &path, parts, fastmap::wordcount);
                assert!(fast == reference, "case {case}, {parts} parts");
                let plain = assembled(Job::WordCount, &path, parts, fastmap::wordcount_plain);
                assert!(plain == reference, "case {case}, {parts} parts");
                invalid += usize::from(fast.is_err());
            }
        }
        // Both outcomes were exercised: counts, and invalid UTF-8 refused.
        assert!(invalid > 5 && invalid < 150, "{invalid}");
    }
}
