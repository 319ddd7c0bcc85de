//! Checkers of exercise 3: each `qN_...` function takes the student's answer (an
//! iterator factory, or a closure around a generic function) and compares it with
//! the reference of [`super`] on fixed, edge and generated cases. Iterators are
//! always consumed with a bound (`take`), so that an infinite or looping answer is
//! reported as wrong instead of hanging the notebook.
//!
//! ```
//! use tp4::ex3::verif;
//! // Powers of two are not the Fibonacci sequence: rejected, without hanging.
//! let v = verif::q1_fibonacci(|| std::iter::successors(Some(1u64), |x| x.checked_mul(2)));
//! assert!(!v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex3::verif::q1_collatz(tp4::ex3::collatz_from_fn);
//! ```

use super::TextStats;
use crate::verif::{check_cases, close, Status, Verdict};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// How many items the checkers pull at most from an iterator.
const BOUND: usize = 10_000;

/// Question 3.1: `make()` must return the Fibonacci iterator (0, 1, 1, 2…), which
/// ends by itself after F₉₃, the last term that fits in a `u64`.
pub fn q1_fibonacci<I: Iterator<Item = u64>>(make: impl Fn() -> I) -> Verdict {
    let cases: Vec<(String, usize)> = [0, 1, 2, 10, 50, 94]
        .into_iter()
        .map(|k| (format!("les {k} premiers termes"), k))
        .chain([(
            "jusqu'à la fin : s'arrête seule après F₉₃ (94 termes)".to_string(),
            BOUND,
        )])
        .collect();
    check_cases(
        "3.1 Fibonacci (impl Iterator)",
        "chaque terme se déduit des deux précédents : l'état du générateur est la paire des \
         deux derniers termes (cherchez `std::iter::successors`) ; la suite s'arrête \
         d'elle-même quand le terme suivant ne tient plus dans un u64 (cherchez \
         `u64::checked_add`, qui rend None au dépassement)",
        cases,
        |&k| super::Fibonacci::new().take(k).collect::<Vec<u64>>(),
        |&k| make().take(k).collect::<Vec<u64>>(),
        |a, b| a == b,
    )
}

/// Question 3.1: `make(n)` must return the Collatz sequence from `n` down to 1
/// (empty for 0).
pub fn q1_collatz<I: Iterator<Item = u64>>(make: impl Fn(u64) -> I) -> Verdict {
    let cases: Vec<(String, u64)> = [
        ("n = 0 (suite vide)", 0),
        ("n = 1", 1),
        ("n = 2", 2),
        ("n = 6", 6),
        ("n = 27 (112 termes, monte à 9232)", 27),
        ("n = 837 799 (525 termes)", 837_799),
        ("grande valeur n = 2⁶⁰ + 1", (1 << 60) + 1),
    ]
    .into_iter()
    .map(|(name, n)| (name.to_string(), n))
    .chain((1..=40).map(|n| (format!("n = {n} (série)"), n * 97)))
    .collect();
    check_cases(
        "3.1 Collatz (impl Iterator)",
        "rendez n d'abord, puis n / 2 (pair) ou 3n + 1 (impair), et terminez APRÈS avoir rendu 1 \
         (next rend None ensuite) ; pour n = 0, rien",
        cases,
        |&n| super::Collatz::new(n).take(BOUND).collect::<Vec<u64>>(),
        |&n| make(n).take(BOUND).collect::<Vec<u64>>(),
        |a, b| a == b,
    )
}

/// Question 3.2: `make()` must return the infinite iterator of triangular numbers
/// 1, 3, 6, 10…
pub fn q2_triangular<I: Iterator<Item = u64>>(make: impl Fn() -> I) -> Verdict {
    let cases: Vec<(String, usize)> = [0, 1, 5, 100, BOUND]
        .into_iter()
        .map(|k| (format!("les {k} premiers termes"), k))
        .collect();
    check_cases(
        "3.2 nombres triangulaires (itérateur infini)",
        "le k-ième vaut 1 + 2 + … + k : chaque terme se déduit du précédent ; avec \
         `std::iter::successors`, gardez dans l'état le rang ET le terme, puis ne rendez \
         que le terme (`map`) ; pas de borne : c'est au consommateur de faire `take`",
        cases,
        |&k| super::triangular().take(k).collect::<Vec<u64>>(),
        |&k| make().take(k).collect::<Vec<u64>>(),
        |a, b| a == b,
    )
}

/// Question 3.3: `student(items, n)` must cut `items` in batches of `n` (the last
/// one shorter). Pass `q3_batches(|v, n| v.into_iter().batches(n.max(1)).collect())`.
pub fn q3_batches(student: impl Fn(Vec<u32>, usize) -> Vec<Vec<u32>>) -> Verdict {
    let cases: Vec<(String, (Vec<u32>, usize))> = vec![
        ("aucun élément".into(), (vec![], 3)),
        ("un élément".into(), (vec![7], 3)),
        ("lots de 1".into(), ((1..=4).collect(), 1)),
        ("taille multiple de n".into(), ((1..=9).collect(), 3)),
        (
            "un reste (10 éléments par 4)".into(),
            ((1..=10).collect(), 4),
        ),
        (
            "n plus grand que la longueur".into(),
            ((1..=3).collect(), 100),
        ),
        ("mille éléments par 7".into(), ((0..1000).collect(), 7)),
        (
            "n = 0 : une taille nulle compte comme 1 (jamais de lot vide)".into(),
            ((1..=3).collect(), 0),
        ),
    ];
    check_cases(
        "3.3 lots de n éléments",
        "des lots de n éléments consécutifs, dans l'ordre (cherchez `slice::chunks`) ; le \
         dernier lot peut être plus court mais ne doit pas être perdu ; jamais de lot \
         vide ; relisez ce que l'énoncé dit d'une taille nulle (découper en lots de 0 \
         n'a pas de sens, et `chunks` le refuse)",
        cases,
        |(v, n)| {
            use super::IteratorExt;
            v.clone()
                .into_iter()
                .batches((*n).max(1))
                .collect::<Vec<_>>()
        },
        |(v, n)| student(v.clone(), *n),
        |a, b| a == b,
    )
}

/// Question 3.3: `student(text)` must count the bigrams (consecutive words of the
/// same line) of `text`.
pub fn q3_bigrams(student: impl Fn(&str) -> HashMap<(String, String), u64>) -> Verdict {
    let mut generated = Vec::new();
    crate::data::corpus::write_text(&mut generated, 20_000, |_| {}).expect("writing to memory");
    let cases: Vec<(String, String)> = vec![
        ("texte vide".into(), String::new()),
        ("un seul mot".into(), "seul".into()),
        ("a b c (fenêtres qui se chevauchent)".into(), "a b c".into()),
        ("répétitions a a a".into(), "a a a".into()),
        (
            "deux lignes (pas de bigramme à cheval)".into(),
            "le chat\ndort bien".into(),
        ),
        ("espaces multiples".into(), "  un   deux \t trois ".into()),
        (
            "20 ko de corpus généré".into(),
            String::from_utf8(generated).expect("ASCII corpus"),
        ),
    ];
    let sorted = |m: HashMap<(String, String), u64>| m.into_iter().collect::<BTreeMap<_, _>>();
    check_cases(
        "3.3 bigrammes avec `windows`",
        "pour chaque ligne, collectez ses mots (`split_whitespace`) puis prenez les paires \
         de mots voisins (`slice::windows` : des fenêtres qui se chevauchent, pas \
         `chunks`) ; ne reliez pas la fin d'une ligne au début de la suivante",
        cases,
        |text| sorted(super::bigram_counts(text)),
        |text| sorted(student(text)),
        |a, b| a == b,
    )
}

/// Question 3.4: `student(path)` must compute the [`TextStats`] of a file while
/// reading it line by line. Where the tracking allocator is installed (`cargo test`,
/// the `tp4` binary), the checker also measures the peak heap on a 4 MB file: it
/// must stay under 400 kB (a tenth of the file).
pub fn q4_text_stats<E: std::fmt::Display>(
    student: impl Fn(&Path) -> Result<TextStats, E>,
) -> Verdict {
    const QUESTION: &str = "3.4 statistiques en flux (BufRead::lines)";
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return Verdict::failed(
                QUESTION,
                0,
                "préparation",
                "un dossier temporaire",
                e.to_string(),
                "le vérificateur n'a pas pu créer ses fichiers de test",
            )
        }
    };
    let mut generated = Vec::new();
    crate::data::corpus::write_text(&mut generated, 200_000, |_| {}).expect("writing to memory");
    let contents: Vec<(&str, Vec<u8>)> = vec![
        ("fichier vide", vec![]),
        ("une ligne sans retour final", b"un deux trois".to_vec()),
        ("lignes vides", b"\n\nmot\n\n".to_vec()),
        (
            "fins de ligne Windows (\\r\\n)",
            b"ab cd\r\nefgh\r\n".to_vec(),
        ),
        (
            "espaces multiples",
            b"  un   deux\t trois  \nquatre\n".to_vec(),
        ),
        ("200 ko de corpus généré", generated),
    ];
    let mut cases = Vec::new();
    for (i, (name, bytes)) in contents.into_iter().enumerate() {
        let path = dir.path().join(format!("cas{i}.txt"));
        if std::fs::write(&path, bytes).is_err() {
            continue;
        }
        cases.push((name.to_string(), path));
    }
    let verdict = check_cases(
        QUESTION,
        "lisez ligne par ligne (`BufReader`, `BufRead::lines`) et propagez les erreurs avec \
         ? ; `lines` compte aussi une dernière ligne sans \\n ; longest_line est la \
         longueur en octets (`str::len`) sans la fin de ligne",
        cases,
        |p| super::stream_file(p).map_err(|e| e.to_string()),
        |p| student(p).map_err(|e| e.to_string()),
        |a, b| a == b,
    );
    if !verdict.passed() || !crate::alloc::is_installed() {
        return verdict;
    }
    // Memory: a 4 MB file must not be held in memory.
    let big = dir.path().join("gros.txt");
    if crate::data::corpus::generate(&big, 4, |_| {}).is_err() {
        return verdict;
    }
    // The heap counters are global to the process: keep the smallest peak of three
    // runs, so that an allocation made by another thread at the same time does not
    // count against the student.
    let _guard = super::MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let peak = (0..3)
        .map(|_| crate::alloc::measure_peak(|| student(&big)).1.unwrap_or(0))
        .min()
        .unwrap_or(0);
    if peak > 400_000 {
        return Verdict::failed(
            QUESTION,
            verdict.cases_passed,
            "mémoire sur un fichier de 4 Mo",
            "un pic de tas de moins de 400 ko (lecture ligne à ligne)",
            format!("un pic de {}", crate::alloc::human_bytes(peak)),
            "ne lisez pas tout le fichier (read_to_string, fs::read, collect) : \
                       traitez chaque ligne dès qu'elle est lue avec BufRead::lines",
        );
    }
    Verdict::new(QUESTION, verdict.cases_passed + 1, Status::Passed)
}

/// An answer to question 3.5, borrowed.
type FindLine<'a> = &'a dyn Fn(&mut dyn Iterator<Item = String>, &str) -> Option<(usize, String)>;

/// Question 3.5: `student(lines, word)` must return the first line that contains
/// `word` as a whole word, with its number (counted from one), pulling no line
/// after it. The checker counts the lines pulled. Pass
/// `q5_first_line_containing(|l, w| first_line_containing(l, w))`.
pub fn q5_first_line_containing(
    student: impl Fn(&mut dyn Iterator<Item = String>, &str) -> Option<(usize, String)>,
) -> Verdict {
    let text = |s: &str| s.lines().map(String::from).collect::<Vec<_>>();
    let mut generated = Vec::new();
    crate::data::corpus::write_text(&mut generated, 100_000, |_| {}).expect("writing to memory");
    let corpus = text(&String::from_utf8(generated).expect("ASCII corpus"));
    let rare = crate::data::corpus::vocabulary()[2_000].clone();
    let cases: Vec<(String, (Vec<String>, String))> = vec![
        ("aucune ligne".into(), (vec![], "chat".into())),
        (
            "mot sur la première ligne".into(),
            (text("le chat dort\nle chien aussi"), "chat".into()),
        ),
        (
            "mot sur la dernière ligne".into(),
            (text("a b\nc d\ne chat"), "chat".into()),
        ),
        (
            "mot absent (tout est lu)".into(),
            (text("a b\nc d"), "chat".into()),
        ),
        (
            "piège : « chaton » contient « chat »".into(),
            (text("un chaton\nun chat"), "chat".into()),
        ),
        (
            "plusieurs lignes contiennent le mot".into(),
            (text("x\nchat 1\nchat 2"), "chat".into()),
        ),
        (
            format!("corpus de 100 ko, mot rare « {rare} »"),
            (corpus, rare),
        ),
    ];
    let run = |f: FindLine, lines: &[String], word: &str| {
        let pulled = Cell::new(0usize);
        let mut it = lines
            .iter()
            .cloned()
            .inspect(|_| pulled.set(pulled.get() + 1));
        let found = f(&mut it, word);
        (found, pulled.get())
    };
    check_cases(
        "3.5 arrêt anticipé (find)",
        "numérotez les lignes à partir de 1 (`enumerate`) et arrêtez-vous à la première qui \
         contient le mot entier (`find`, `split_whitespace`, `any` ; pas `contains`, qui \
         trouve aussi « chat » dans « chaton ») ; ne collectez rien avant de chercher : le \
         2e nombre est le nombre de lignes lues",
        cases,
        |(lines, word)| run(&|l, w| super::first_line_containing(l, w), lines, word),
        |(lines, word)| run(&student, lines, word),
        |a, b| a == b,
    )
}

/// Question 3.6: `student(values)` must return the running means (the k-th is the
/// mean of the first k values). Pass
/// `q6_running_mean(|v| v.into_iter().running_mean().collect())`.
pub fn q6_running_mean(student: impl Fn(Vec<f64>) -> Vec<f64>) -> Verdict {
    let cases: Vec<(String, Vec<f64>)> = vec![
        ("aucune valeur".into(), vec![]),
        ("une valeur".into(), vec![3.5]),
        ("valeurs égales".into(), vec![2.0; 5]),
        ("2, 4, 9".into(), vec![2.0, 4.0, 9.0]),
        ("négatives et positives".into(), vec![-1.0, 1.0, -1.0, 1.0]),
        ("grandes valeurs".into(), vec![1e12, 3e12, 5e12]),
        (
            "mille valeurs".into(),
            (0..1000).map(|i| f64::from(i % 37)).collect(),
        ),
    ];
    check_cases(
        "3.6 moyenne courante",
        "le k-ième élément rendu est la moyenne des k premières valeurs (divisez par k, pas \
         par k − 1 ni par le total) ; un élément rendu par valeur lue",
        cases,
        |v| {
            use super::IteratorExt;
            v.clone().into_iter().running_mean().collect::<Vec<f64>>()
        },
        |v| student(v.clone()),
        |a, b| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(*x, *y, 1e-9)),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{self as r, IteratorExt};
    use super::*;

    #[test]
    fn references_pass() {
        let verdicts = [
            q1_fibonacci(r::Fibonacci::new),
            q1_collatz(r::Collatz::new),
            q1_collatz(r::collatz_from_fn),
            q2_triangular(r::triangular),
            q3_batches(|v, n| v.into_iter().batches(n.max(1)).collect()),
            q3_bigrams(r::bigram_counts),
            q4_text_stats(r::stream_file),
            q4_text_stats(|p| r::stats_streaming(std::io::BufReader::new(std::fs::File::open(p)?))),
            q5_first_line_containing(|l, w| r::first_line_containing(l, w)),
            q6_running_mean(|v| v.into_iter().running_mean().collect()),
        ];
        for v in verdicts {
            assert!(v.passed(), "{v}");
        }
    }

    #[test]
    fn wrong_answers_are_caught() {
        // Wrapping addition: wrong terms after F93 instead of stopping.
        let v = q1_fibonacci(|| {
            let mut s = (0u64, 1u64);
            std::iter::from_fn(move || {
                let c = s.0;
                s = (s.1, s.0.wrapping_add(s.1));
                Some(c)
            })
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("fin"),
            "{v}"
        );
        // Stops before yielding 1; and loops forever on 0 (bounded by the checker).
        let v = q1_collatz(|n| r::Collatz::new(n).take_while(|&x| x != 1));
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("n = 1"),
            "{v}"
        );
        let v = q1_collatz(|n| {
            std::iter::successors(Some(n), |&x| {
                (x != 1).then(|| if x % 2 == 0 { x / 2 } else { 3 * x + 1 })
            })
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("n = 0"),
            "{v}"
        );
        // A finite iterator.
        assert!(q2_triangular(|| r::triangular().take(1000))
            .failure_case()
            .unwrap_or("(accepté)")
            .contains("10000"));
        // Drops the last, shorter batch.
        // `chunks(0)` panics: the case n = 0 names it.
        let v = q3_batches(|v, n| v.chunks(n).map(|c| c.to_vec()).collect());
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("n = 0"),
            "{v}"
        );
        let v = q3_batches(|v, n| v.chunks_exact(n).map(|c| c.to_vec()).collect());
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("un élément"),
            "{v}"
        );
        // chunks(2) instead of windows(2).
        let v = q3_bigrams(|text| {
            let mut m = HashMap::new();
            for line in text.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                for p in w.chunks_exact(2) {
                    *m.entry((p[0].to_string(), p[1].to_string())).or_default() += 1;
                }
            }
            m
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("a b c"),
            "{v}"
        );
        // Counts '\n' instead of lines: misses a last line without newline.
        let v = q4_text_stats(|p| -> std::io::Result<TextStats> {
            let text = std::fs::read_to_string(p)?;
            let mut s = TextStats::of_lines(text.lines());
            s.lines = text.matches('\n').count() as u64;
            Ok(s)
        });
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("sans retour"),
            "{v}"
        );
        // Right answer, but the whole file is read first: caught by the memory case.
        let v = q4_text_stats(r::read_whole_file);
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("mémoire"),
            "{v}"
        );
        // Substring match.
        let v = q5_first_line_containing(|l, w| {
            l.enumerate()
                .find(|(_, s)| s.contains(w))
                .map(|(i, s)| (i + 1, s))
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("chaton"),
            "{v}"
        );
        // Collects everything before searching: right answer, too many lines read.
        let v = q5_first_line_containing(|l, w| {
            let all: Vec<String> = l.collect();
            r::first_line_containing(all.into_iter(), w)
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("première"),
            "{v}"
        );
        // Divides by the total count instead of k.
        let v = q6_running_mean(|v| {
            let n = v.len() as f64;
            v.iter()
                .scan(0.0, |s, x| {
                    *s += x;
                    Some(*s / n)
                })
                .collect()
        });
        assert!(v.failure_case().is_some());
    }

    #[test]
    fn unfinished_answer_is_not_done() {
        assert!(q2_triangular(|| -> std::iter::Empty<u64> { todo!() }).not_done());
    }
}
