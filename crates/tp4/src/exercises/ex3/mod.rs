//! Exercise 3 — iterators, laziness and streaming (the Rust side of Python's
//! generators).
//!
//! An iterator is a value with a `next` method that produces the following item on
//! demand, or `None` at the end. Adapters (`map`, `filter`, `take_while`,
//! `windows`...) wrap an iterator in another one and compute nothing until someone
//! pulls items: a chain of adapters is a recipe, run item by item by the consumer
//! (`collect`, `sum`, `find`, a `for` loop). This is what lets a program stream a
//! 100 MB file through a few kilobytes of memory (question 3.4).
//!
//! Rust has no `yield` on stable: a generator is written either as a type that
//! implements [`Iterator`] ([`Fibonacci`], [`Collatz`]) or, closest to a
//! generator, as a closure with its state passed to [`std::iter::from_fn`]
//! ([`collatz_from_fn`]). New adapters for every iterator come from an extension
//! trait ([`IteratorExt`]: `batches`, `running_mean`).
//!
//! - [`verif`]: the checkers of the notebook (`tp4::ex3::verif::q1_fibonacci(...)`...);
//! - [`demo`]: what `tp4 exercice 3` shows and measures (peak heap included).

pub mod demo;
pub mod verif;

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Title of the exercise (report section, `tp4 exercice 3`).
pub const TITLE: &str = "Exercice 3 — Générateurs et itérateurs";

/// Question 3.1 — la suite de Fibonacci 0, 1, 1, 2, 3, 5… comme type qui implémente
/// `Iterator` ; elle s'arrête d'elle-même avant de dépasser `u64` (94 termes, de F₀
/// à F₉₃).
///
/// The state is the pair of the next two terms; `checked_add` returns `None` on
/// overflow, which ends the sequence cleanly instead of panicking or wrapping.
#[derive(Debug, Clone)]
pub(crate) struct Fibonacci {
    current: Option<u64>,
    next: Option<u64>,
}

impl Fibonacci {
    /// The sequence from F₀ = 0.
    pub fn new() -> Self {
        Fibonacci {
            current: Some(0),
            next: Some(1),
        }
    }
}

impl Default for Fibonacci {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for Fibonacci {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let current = self.current?;
        let after = match self.next {
            Some(n) => current.checked_add(n),
            None => None,
        };
        self.current = self.next;
        self.next = after;
        Some(current)
    }
}

/// Question 3.1 — la suite de Collatz (ou de Syracuse) partant de `n` : n, puis
/// n / 2 si n est pair, 3n + 1 sinon, jusqu'à 1 inclus. Vide pour `n = 0` ; elle
/// s'arrête si 3n + 1 dépasse `u64`.
#[derive(Debug, Clone)]
pub(crate) struct Collatz {
    next: Option<u64>,
}

impl Collatz {
    /// The sequence starting at `n`.
    pub fn new(n: u64) -> Self {
        Collatz {
            next: (n > 0).then_some(n),
        }
    }
}

impl Iterator for Collatz {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let n = self.next?;
        self.next = collatz_step(n);
        Some(n)
    }
}

/// The term after `n` in a Collatz sequence (`None` after 1, or on overflow).
fn collatz_step(n: u64) -> Option<u64> {
    match n {
        0 | 1 => None,
        n if n % 2 == 0 => Some(n / 2),
        n => n.checked_mul(3).and_then(|m| m.checked_add(1)),
    }
}

/// Question 3.6 (le plus proche d'un générateur) — la suite de Collatz écrite avec
/// `std::iter::from_fn` : une fermeture qui garde son état et rend `Some(terme)` ou
/// `None`, là où Python écrirait une fonction avec `yield`.
pub(crate) fn collatz_from_fn(n: u64) -> impl Iterator<Item = u64> {
    let mut next = (n > 0).then_some(n);
    std::iter::from_fn(move || {
        let current = next?;
        next = collatz_step(current);
        Some(current)
    })
}

/// Question 3.2 — les nombres triangulaires 1, 3, 6, 10… (le k-ième vaut
/// 1 + 2 + … + k), comme itérateur infini construit avec `successors`.
///
/// `successors(first, f)` yields `first`, then `f` of the previous item, forever
/// (until `f` returns `None`): infinite, yet nothing is computed before it is asked.
/// Consume it with `take`, `take_while`, `find`...
pub(crate) fn triangular() -> impl Iterator<Item = u64> {
    std::iter::successors(Some((1u64, 1u64)), |&(k, t)| {
        let k = k.checked_add(1)?;
        Some((k, t.checked_add(k)?))
    })
    .map(|(_, t)| t)
}

/// The powers of two that fit in a `u64` (1, 2, 4… 2⁶³), with `successors`.
pub(crate) fn powers_of_two() -> impl Iterator<Item = u64> {
    std::iter::successors(Some(1u64), |&x| x.checked_mul(2))
}

/// Question 3.2 — la paresse rendue visible : une chaîne d'adaptateurs sur un
/// itérateur infini, dont chaque étape note ce qu'elle fait. Rend le journal : rien
/// n'y est écrit avant la consommation, et seuls les éléments nécessaires sont
/// produits (`take(3)` arrête tout après le troisième).
pub fn laziness_trace() -> Vec<String> {
    let log = RefCell::new(Vec::new());
    let chain = (1u64..)
        .inspect(|x| log.borrow_mut().push(format!("produit {x}")))
        .filter(|x| x % 2 == 1)
        .map(|x| {
            log.borrow_mut().push(format!("carré de {x}"));
            x * x
        })
        .take(3);
    log.borrow_mut()
        .push("chaîne construite : rien n'a encore été calculé".into());
    let total: u64 = chain.sum();
    log.borrow_mut().push(format!("somme consommée : {total}"));
    log.into_inner()
}

/// Question 3.3 — un adaptateur qui regroupe les éléments par lots de `size` (le
/// dernier lot peut être plus court) ; s'obtient avec `.batches(size)` sur tout
/// itérateur (voir [`IteratorExt`]).
///
/// Each call to `next` pulls at most `size` items from the inner iterator with
/// `by_ref().take(size)`: the inner iterator is borrowed, not consumed, so the next
/// batch continues where this one stopped. Memory: one batch at a time.
#[derive(Debug, Clone)]
pub(crate) struct Batches<I> {
    inner: I,
    size: usize,
}

impl<I: Iterator> Iterator for Batches<I> {
    type Item = Vec<I::Item>;

    fn next(&mut self) -> Option<Vec<I::Item>> {
        let batch: Vec<I::Item> = self.inner.by_ref().take(self.size).collect();
        (!batch.is_empty()).then_some(batch)
    }
}

/// Question 3.6 — la moyenne courante : le k-ième élément rendu est la moyenne des k
/// premiers ; s'obtient avec `.running_mean()` (voir [`IteratorExt`]).
///
/// The mean is updated incrementally, `mean += (x − mean) / k`, so that no sum can
/// overflow or lose precision on long streams.
#[derive(Debug, Clone)]
pub(crate) struct RunningMean<I> {
    inner: I,
    count: u64,
    mean: f64,
}

impl<I> Iterator for RunningMean<I>
where
    I: Iterator,
    I::Item: Into<f64>,
{
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        let x: f64 = self.inner.next()?.into();
        self.count += 1;
        self.mean += (x - self.mean) / self.count as f64;
        Some(self.mean)
    }
}

/// Question 3.6 — un trait d'extension : il ajoute `batches` et `running_mean` à
/// *tout* itérateur, grâce à l'implémentation générique `impl<I: Iterator>
/// IteratorExt for I`. C'est ainsi que des crates comme `itertools` ajoutent des
/// adaptateurs.
///
/// ```ignore
/// // Inside the library (the trait is private: it is the reference of 3.6).
/// let lots: Vec<Vec<u32>> = (1..=5).batches(2).collect();
/// assert_eq!(lots, vec![vec![1, 2], vec![3, 4], vec![5]]);
/// let moyennes: Vec<f64> = [2.0, 4.0, 9.0].into_iter().running_mean().collect();
/// assert_eq!(moyennes, vec![2.0, 3.0, 5.0]);
/// ```
pub(crate) trait IteratorExt: Iterator + Sized {
    /// Groups the items in batches of `size` (the last one may be shorter).
    /// Panics if `size` is 0, like `slice::chunks`.
    fn batches(self, size: usize) -> Batches<Self> {
        assert!(
            size > 0,
            "batches : la taille d'un lot doit être au moins 1"
        );
        Batches { inner: self, size }
    }

    /// The running mean of the items.
    fn running_mean(self) -> RunningMean<Self>
    where
        Self::Item: Into<f64>,
    {
        RunningMean {
            inner: self,
            count: 0,
            mean: 0.0,
        }
    }
}

impl<I: Iterator> IteratorExt for I {}

/// Question 3.3 — les bigrammes (paires de mots consécutifs d'une même ligne) d'un
/// texte et leur nombre d'occurrences, avec `windows(2)`.
///
/// `windows(2)` slides a window of two over the words of a line: "a b c" gives
/// (a, b) and (b, c). Windows overlap, unlike `chunks(2)`.
pub(crate) fn bigram_counts(text: &str) -> HashMap<(String, String), u64> {
    let mut counts = HashMap::new();
    for line in text.lines() {
        let words: Vec<&str> = words_of(line).collect();
        for pair in words.windows(2) {
            *counts
                .entry((pair[0].to_string(), pair[1].to_string()))
                .or_default() += 1;
        }
    }
    counts
}

/// The words of a text, as the whole lab defines them ([`crate::data::words`]:
/// Unicode White_Space separates words).
pub(crate) fn words_of(text: &str) -> impl Iterator<Item = &str> {
    // White spaces are whole characters, so every word is valid UTF-8.
    crate::data::words::words(text.as_bytes()).map(|w| std::str::from_utf8(w).unwrap_or_default())
}

/// Question 3.3 — les k-mers (suites de `k` lettres consécutives à l'intérieur d'un
/// mot) d'un texte et leur nombre d'occurrences, avec `windows(k)` sur les
/// caractères de chaque mot (pas sur les octets : « été » a 3 lettres). `k = 0` ne
/// donne rien.
pub(crate) fn kmer_counts(text: &str, k: usize) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    if k == 0 {
        return counts;
    }
    for word in words_of(text) {
        let letters: Vec<char> = word.chars().collect();
        for kmer in letters.windows(k) {
            *counts.entry(kmer.iter().collect::<String>()).or_default() += 1;
        }
    }
    counts
}

/// Counts of a text: what question 3.4 computes while streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStats {
    /// Number of lines (a last line without `\n` counts; an empty file has none).
    pub lines: u64,
    /// Number of words ([`crate::data::words`]: runs of non-White_Space characters).
    pub words: u64,
    /// Length in characters of the longest line, line ending excluded.
    pub longest_line: u64,
}

impl TextStats {
    /// Adds one line (without its line ending).
    pub fn add_line(&mut self, line: &str) {
        self.lines += 1;
        self.words += crate::data::words::count(line.as_bytes()) as u64;
        self.longest_line = self.longest_line.max(line.chars().count() as u64);
    }

    /// The statistics of a sequence of lines.
    pub fn of_lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> TextStats {
        let mut s = TextStats::default();
        for line in lines {
            s.add_line(line.as_ref());
        }
        s
    }
}

/// Question 3.4 (en flux) — les statistiques d'un texte lu ligne à ligne avec
/// `BufRead::lines` : la mémoire reste celle d'une ligne et du tampon de lecture
/// (8 ko), quelle que soit la taille du texte.
#[cfg(test)]
pub(crate) fn stats_streaming(reader: impl BufRead) -> std::io::Result<TextStats> {
    let mut stats = TextStats::default();
    for line in reader.lines() {
        stats.add_line(&line?);
    }
    Ok(stats)
}

/// Question 3.4 (en bloc) — les mêmes statistiques après avoir lu tout le texte en
/// mémoire (`read_to_string`) : la mémoire grandit comme la taille du texte.
#[cfg(test)]
pub(crate) fn stats_whole(mut reader: impl Read) -> std::io::Result<TextStats> {
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    Ok(TextStats::of_lines(text.lines()))
}

/// [`stats_streaming`] on a file, with French errors naming the file and the line.
pub(crate) fn stream_file(path: &Path) -> Result<TextStats> {
    let mut stats = TextStats::default();
    for line in lines_of_files(std::slice::from_ref(&path.to_path_buf())) {
        stats.add_line(&line?);
    }
    Ok(stats)
}

/// [`stats_whole`] on a file, with French errors naming the file and the line.
#[cfg(test)]
pub(crate) fn read_whole_file(path: &Path) -> Result<TextStats> {
    let text = read_text(path)?;
    Ok(TextStats::of_lines(text.lines()))
}

/// Reads a whole file as text; invalid UTF-8 is reported with its line number.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("lecture de", path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        not_utf8(path, line)
    })
}

/// Reads several files, one after the other, into one string of about `total`
/// bytes (allocated once: the memory held is the size of the text, no more). A file
/// that does not end with a line end gets one, so that its last line never merges
/// with the first line of the next file (the same lines as [`lines_of_files`]).
pub(crate) fn read_texts(paths: &[PathBuf], total: u64) -> Result<String> {
    let mut bytes = Vec::with_capacity(total as usize + paths.len());
    for p in paths {
        let mut file = std::fs::File::open(p).map_err(|e| Error::io("lecture de", p, e))?;
        let start = bytes.len();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("lecture de", p, e))?;
        if bytes.len() > start && bytes.last() != Some(&b'\n') {
            bytes.push(b'\n');
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => {
            // Rare path: find the file and the line at fault.
            for p in paths {
                read_text(p)?;
            }
            Err(Error::Other(format!(
                "les fichiers {} mis bout à bout ne forment pas un texte UTF-8",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

fn not_utf8(path: &Path, line: u64) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line,
        field: "ligne".into(),
        message: "texte qui n'est pas de l'UTF-8 (le corpus doit être un fichier texte)".into(),
    }
}

/// Question 3.5 — plusieurs fichiers enchaînés en un seul flux de lignes, lu
/// paresseusement : chaque fichier n'est ouvert que lorsque le flux l'atteint, donc
/// un arrêt anticipé (`find`, `take`) n'ouvre même pas les suivants.
///
/// `flat_map` turns each path into the iterator of its lines and concatenates
/// them. A file that cannot be opened, or a line that is not UTF-8, becomes an
/// `Err` item naming the file (and the line): the consumer decides to stop or not.
pub fn lines_of_files(paths: &[PathBuf]) -> impl Iterator<Item = Result<String>> + '_ {
    paths
        .iter()
        .flat_map(|path| -> Box<dyn Iterator<Item = Result<String>>> {
            match std::fs::File::open(path) {
                Ok(file) => Box::new(
                    BufReader::with_capacity(64 * 1024, file)
                        .lines()
                        .enumerate()
                        .map(move |(i, line)| {
                            line.map_err(|e| {
                                if e.kind() == std::io::ErrorKind::InvalidData {
                                    not_utf8(path, i as u64 + 1)
                                } else {
                                    Error::io("lecture de", path, e)
                                }
                            })
                        }),
                ),
                Err(e) => Box::new(std::iter::once(Err(Error::io("lecture de", path, e)))),
            }
        })
}

/// Question 3.5 — arrêt anticipé : la première ligne (numérotée à partir de 1) qui
/// contient le mot `word` (un mot entier, pas un morceau de mot), en ne lisant que
/// les lignes nécessaires.
///
/// `find` pulls lines one by one and stops at the first match: the rest of the
/// stream (file) is never read.
pub(crate) fn first_line_containing(
    lines: impl Iterator<Item = String>,
    word: &str,
) -> Option<(usize, String)> {
    lines
        .enumerate()
        .find(|(_, line)| words_of(line).any(|w| w == word))
        .map(|(i, line)| (i + 1, line))
}

/// Largest text (in bytes) that [`compare_memory`] reads whole: beyond it the
/// read-everything side would need more memory than the README promises (2 Go
/// free), so the demonstration skips those sizes and says so.
pub const WHOLE_READ_CAP: u64 = 256 * 1024 * 1024;

/// Serialises the memory measurements of this module: the heap counters are global,
/// so two measurements at the same time would see each other's allocations.
pub(crate) static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Peak heap and time of the two ways of computing [`TextStats`] over files.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemoryComparison {
    /// Total size of the files, in bytes.
    pub bytes: u64,
    /// The statistics (identical both ways, checked).
    pub stats: TextStats,
    /// Peak heap added while streaming line by line (`None` without the tracker).
    pub streaming_peak: Option<u64>,
    /// Wall time of the streaming pass, in seconds.
    pub streaming_seconds: f64,
    /// Peak heap added while reading everything first (`None` without the tracker).
    pub whole_peak: Option<u64>,
    /// Wall time of the read-everything pass, in seconds.
    pub whole_seconds: f64,
}

/// Question 3.4 — mesure le pic de mémoire du tas (allocateur de suivi,
/// [`crate::alloc::measure_peak`]) et le temps des deux façons de lire `paths` (les
/// fichiers enchaînés) : en flux, ligne à ligne, et en lisant tout d'abord. Le pic
/// n'est mesuré que si l'allocateur de suivi est installé (binaire `tp4`, tests).
pub(crate) fn compare_memory(paths: &[PathBuf]) -> Result<MemoryComparison> {
    let mut bytes = 0;
    for p in paths {
        bytes += std::fs::metadata(p)
            .map_err(|e| Error::io("lecture de", p, e))?
            .len();
    }
    if bytes > WHOLE_READ_CAP {
        return Err(Error::Other(format!(
            "lecture entière refusée : {} au-delà de la limite de {} (mémoire)",
            crate::fr::bytes(bytes),
            crate::fr::bytes(WHOLE_READ_CAP)
        )));
    }
    let _guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let start = std::time::Instant::now();
    let (streamed, streaming_peak) = crate::alloc::measure_peak(|| -> Result<TextStats> {
        let mut stats = TextStats::default();
        for line in lines_of_files(paths) {
            stats.add_line(&line?);
        }
        Ok(stats)
    });
    let streaming_seconds = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let (whole, whole_peak) = crate::alloc::measure_peak(|| -> Result<TextStats> {
        let text = read_texts(paths, bytes)?;
        Ok(TextStats::of_lines(text.lines()))
    });
    let whole_seconds = start.elapsed().as_secs_f64();
    let (streamed, whole) = (streamed?, whole?);
    if streamed != whole {
        return Err(Error::WrongAnswer {
            what: "exercice 3 / lecture en flux contre lecture entière".into(),
            expected: format!("{whole:?}"),
            got: format!("{streamed:?}"),
        });
    }
    Ok(MemoryComparison {
        bytes,
        stats: streamed,
        streaming_peak,
        streaming_seconds,
        whole_peak,
        whole_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fibonacci_stops_before_overflow() {
        let v: Vec<u64> = Fibonacci::new().take(10).collect();
        assert_eq!(v, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
        assert_eq!(Fibonacci::new().count(), 94);
        assert_eq!(Fibonacci::new().last(), Some(12_200_160_415_121_876_738));
        let even: u64 = Fibonacci::new()
            .filter(|x| x % 2 == 0)
            .take_while(|&x| x < 4_000_000)
            .sum();
        assert_eq!(even, 4_613_732);
    }

    #[test]
    fn collatz_both_ways() {
        assert_eq!(
            Collatz::new(6).collect::<Vec<_>>(),
            [6, 3, 10, 5, 16, 8, 4, 2, 1]
        );
        assert_eq!(Collatz::new(27).count(), 112);
        assert_eq!(Collatz::new(27).max(), Some(9_232));
        assert_eq!(Collatz::new(0).count(), 0);
        assert_eq!(Collatz::new(1).collect::<Vec<_>>(), [1]);
        for n in 0..300 {
            assert!(Collatz::new(n).eq(collatz_from_fn(n)));
        }
        // 3n + 1 overflows: the sequence stops instead of panicking.
        assert_eq!(Collatz::new(u64::MAX).collect::<Vec<_>>(), [u64::MAX]);
    }

    #[test]
    fn infinite_iterators_are_lazy() {
        let t: Vec<u64> = triangular().take(5).collect();
        assert_eq!(t, [1, 3, 6, 10, 15]);
        assert_eq!(powers_of_two().count(), 64);
        assert_eq!(
            powers_of_two()
                .skip(3)
                .take_while(|&x| x < 100)
                .collect::<Vec<_>>(),
            [8, 16, 32, 64]
        );
        let log = laziness_trace();
        assert!(log[0].starts_with("chaîne construite"), "{log:?}");
        assert_eq!(log.last().unwrap(), "somme consommée : 35");
        // 1..=5 produced, 3 squares: nothing beyond what take(3) needed.
        assert_eq!(log.iter().filter(|l| l.starts_with("produit")).count(), 5);
    }

    #[test]
    fn batches_windows_and_running_mean() {
        assert_eq!(
            (1..=7).batches(3).collect::<Vec<_>>(),
            vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]
        );
        assert_eq!((0..0).batches(3).count(), 0);
        let b = bigram_counts("a b a b\nb a");
        assert_eq!(b[&("a".into(), "b".into())], 2);
        assert_eq!(b[&("b".into(), "a".into())], 2);
        assert_eq!(b.len(), 2);
        let k = kmer_counts("banana", 3);
        assert_eq!((k["ana"], k["ban"], k.len()), (2, 1, 3));
        assert!(kmer_counts("ab", 3).is_empty() && kmer_counts("ab", 0).is_empty());
        let m: Vec<f64> = [1u32, 2, 3, 4].into_iter().running_mean().collect();
        assert_eq!(m, [1.0, 1.5, 2.0, 2.5]);
    }

    #[test]
    fn streaming_and_whole_agree_and_early_exit_stops() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        std::fs::write(&a, "un deux\ntrois\n").unwrap();
        std::fs::write(&b, "chat chaton\n\nfin sans retour").unwrap();
        assert_eq!(
            stream_file(&b).unwrap(),
            TextStats {
                lines: 3,
                words: 5,
                longest_line: 15
            }
        );
        assert_eq!(stream_file(&b).unwrap(), read_whole_file(&b).unwrap());
        let text = "un deux\r\n\ntrois quatre cinq";
        let streamed = stats_streaming(std::io::Cursor::new(text)).unwrap();
        assert_eq!(streamed, stats_whole(std::io::Cursor::new(text)).unwrap());
        assert_eq!(
            streamed,
            TextStats {
                lines: 3,
                words: 5,
                longest_line: 17
            }
        );
        let both = [a.clone(), b.clone()];
        let c = compare_memory(&both).unwrap();
        assert_eq!(c.stats.lines, 5);
        assert!(
            c.streaming_peak.is_some(),
            "the unit tests run with the tracker"
        );
        let lines: Vec<String> = lines_of_files(&both).map(|l| l.unwrap()).collect();
        assert_eq!(lines.len(), 5);
        let pulled = std::cell::Cell::new(0);
        let found = first_line_containing(
            lines
                .iter()
                .cloned()
                .inspect(|_| pulled.set(pulled.get() + 1)),
            "chaton",
        );
        assert_eq!(found, Some((3, "chat chaton".into())));
        assert_eq!(pulled.get(), 3);
        assert_eq!(first_line_containing(lines.into_iter(), "cha"), None);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, b"ok\nok\n\xff\xfe\n").unwrap();
        for err in [
            stream_file(&bad).unwrap_err(),
            read_whole_file(&bad).unwrap_err(),
        ] {
            let msg = err.to_string();
            assert!(
                msg.contains("bad.txt") && msg.contains("ligne 3") && msg.contains("UTF-8"),
                "{msg}"
            );
        }
        let good = dir.path().join("good.txt");
        std::fs::write(&good, "bon texte\n").unwrap();
        let msg = compare_memory(&[good, bad.clone()])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad.txt") && msg.contains("ligne 3"), "{msg}");
        let missing = dir.path().join("absent.txt");
        let msg = stream_file(&missing).unwrap_err().to_string();
        assert!(msg.contains("absent.txt"), "{msg}");
        // A missing second file does not stop the first one from being read.
        let items: Vec<Result<String>> = lines_of_files(&[bad.clone(), missing]).collect();
        assert!(items[0].is_ok() && items.last().unwrap().is_err());
    }

    #[test]
    fn streaming_memory_is_constant_and_whole_is_proportional() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        crate::data::corpus::generate(&path, 2, |_| {}).unwrap();
        let paths = [path.clone(), path];
        // The counters are global and other tests run at the same time: keep the
        // smallest streaming peak of a few attempts.
        let runs: Vec<MemoryComparison> = (0..4).map(|_| compare_memory(&paths).unwrap()).collect();
        let s = runs
            .iter()
            .map(|c| c.streaming_peak.unwrap())
            .min()
            .unwrap();
        let w = runs[0].whole_peak.unwrap();
        let bytes = runs[0].bytes;
        assert!(bytes > 4_000_000);
        assert!(s < bytes / 10, "streaming peak {s} for {bytes} bytes");
        assert!(w >= bytes, "whole peak {w} < {bytes} bytes");
    }
}
