//! The demonstration of exercise 3 (`tp4 exercice 3`): custom iterators and
//! adapters, laziness made visible, batches and sliding windows over the shipped
//! `corpus.txt`, the peak heap of streaming against reading whole (constant against
//! proportional to the size), chained files and early exit.
//!
//! The memory experiment reads the shipped corpus chained 1, 2, 4, 8 and 16 times
//! (question 3.5's [`super::lines_of_files`]), and also `<data>/grand/corpus.txt`
//! when it exists: generate a 100 MB one with
//! `tp4 --data data/grand donnees --lignes 1000 --mo 100`.

use super::{IteratorExt, MemoryComparison};
use crate::context::Context;
use crate::error::Result;
use crate::fr;
use crate::output::{self, Section};
use crate::plot::{LineChart, Series};
use std::path::{Path, PathBuf};

/// How many times the shipped corpus is chained for the memory experiment.
pub const COPIES: [usize; 5] = [1, 2, 4, 8, 16];

/// Where the demonstration looks for the big corpus: `<data>/grand/corpus.txt`.
pub fn big_corpus_path(data: &Path) -> PathBuf {
    data.join("grand").join(crate::data::CORPUS_FILE)
}

/// One row of `ex3_memoire.csv`.
#[derive(Debug, serde::Serialize)]
struct MemoryRow {
    source: String,
    octets: u64,
    lignes: u64,
    mots: u64,
    pic_flux_octets: Option<u64>,
    pic_lecture_entiere_octets: Option<u64>,
    secondes_flux: f64,
    secondes_lecture_entiere: f64,
}

/// Runs the demonstration of exercise 3 (see the module documentation): one call
/// per step.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut section = Section::new(super::TITLE);
    let corpus = crate::data::corpus_path(&ctx.data)?;
    iterators(&mut section);
    windows(&mut section, &corpus)?;
    memory(ctx, &mut section, &corpus)?;
    early_exit(&mut section, &corpus)?;
    extension_trait(&mut section, &corpus)?;
    Ok(section)
}

/// Steps 3.1 – 3.2: custom iterators, infinite iterators, laziness.
fn iterators(section: &mut Section) {
    let fib15: Vec<u64> = super::Fibonacci::new().take(15).collect();
    let even_sum: u64 = super::Fibonacci::new()
        .filter(|x| x % 2 == 0)
        .take_while(|&x| x < 4_000_000)
        .sum();
    let c27: Vec<u64> = super::Collatz::new(27).collect();
    let same = super::Collatz::new(27).eq(super::collatz_from_fn(27));
    let first_big_triangle = super::triangular()
        .enumerate()
        .find(|&(_, t)| t > 1_000_000);
    let iter_rows = vec![
        vec!["Fibonacci::new().take(15)".into(), format!("{fib15:?}")],
        vec![
            "Fibonacci::new().count()".into(),
            format!(
                "{} termes (s'arrête avant de dépasser u64)",
                super::Fibonacci::new().count()
            ),
        ],
        vec![
            "pairs < 4 000 000 : filter + take_while + sum".into(),
            fr::thousands(even_sum),
        ],
        vec![
            "Collatz::new(27)".into(),
            format!(
                "{} termes, maximum {}",
                c27.len(),
                c27.iter().max().copied().unwrap_or(0)
            ),
        ],
        vec![
            "collatz_from_fn(27) == Collatz::new(27)".into(),
            if same { "oui".into() } else { "NON".into() },
        ],
        vec![
            "premier triangulaire > 10⁶ (successors + find)".into(),
            first_big_triangle.map_or("—".into(), |(k, t)| {
                format!("T({}) = {}", k + 1, fr::thousands(t))
            }),
        ],
        vec![
            "powers_of_two().skip(10).take(4)".into(),
            format!(
                "{:?}",
                super::powers_of_two().skip(10).take(4).collect::<Vec<_>>()
            ),
        ],
    ];
    println!("3.1–3.2 Itérateurs écrits à la main, itérateurs infinis :");
    section.text("**3.1–3.2 Itérateurs** (`impl Iterator`, `successors`, adaptateurs) :");
    section.table("", &["itérateur et adaptateurs", "résultat"], 2, iter_rows);
    let trace = super::laziness_trace().join(" → ");
    println!(
        "Paresse : (1..).inspect(..).filter(impair).map(carré).take(3).sum(), journal des étapes :"
    );
    println!("  {trace}");
    section.text(format!(
        "Paresse : la chaîne est construite avant tout calcul, puis seuls les éléments \
         nécessaires à `take(3)` sont produits : {trace}."
    ));
}

/// Step 3.3: batches and sliding windows over the corpus.
fn windows(section: &mut Section, corpus: &Path) -> Result<()> {
    let text = sample_text(corpus)?;
    let batches: Vec<usize> = text.lines().batches(1_000).map(|b| b.len()).collect();
    let mut bigrams: Vec<((String, String), u64)> =
        super::bigram_counts(&text).into_iter().collect();
    bigrams.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kmers: Vec<(String, u64)> = super::kmer_counts(&text, 3).into_iter().collect();
    kmers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let window_rows: Vec<Vec<String>> = (0..5)
        .map(|i| {
            let b = bigrams.get(i).map_or("—".into(), |((x, y), c)| {
                format!("{x} {y} ({})", fr::thousands(*c))
            });
            let k = kmers.get(i).map_or("—".into(), |(x, c)| {
                format!("{x} ({})", fr::thousands(*c))
            });
            vec![(i + 1).to_string(), b, k]
        })
        .collect();
    let headers = [
        "rang",
        "bigramme (windows(2) sur les mots)",
        "trigramme de lettres (windows(3))",
    ];
    let batch_note = format!(
        "{} en {} de 1 000 (dernier lot : {}) ; {}.",
        fr::count(batches.iter().sum::<usize>() as u64, "ligne", "lignes"),
        fr::count(batches.len() as u64, "lot", "lots"),
        fr::count(
            batches.last().copied().unwrap_or(0) as u64,
            "ligne",
            "lignes"
        ),
        fr::count(
            bigrams.len() as u64,
            "bigramme distinct",
            "bigrammes distincts"
        )
    );
    println!(
        "3.3 Lots et fenêtres glissantes sur {} : {batch_note}",
        corpus.display()
    );
    section.text(format!("**3.3 Lots et fenêtres** : {batch_note}"));
    section.table("", &headers, 3, window_rows);
    Ok(())
}

/// Step 3.4: the peak heap of streaming against reading whole, on the corpus
/// chained [`COPIES`] times (and the big corpus when present); table, reading, CSV
/// file and chart.
fn memory(ctx: &Context, section: &mut Section, corpus: &Path) -> Result<()> {
    let big = big_corpus_path(&ctx.data);
    let results = measure_memory(ctx, corpus, &big)?;
    let shown = |p: Option<u64>| p.map_or("non mesuré".to_string(), fr::bytes);
    let mem_rows: Vec<Vec<String>> = results
        .iter()
        .map(|(label, c)| {
            vec![
                label.clone(),
                fr::bytes(c.bytes),
                shown(c.streaming_peak),
                fr::seconds(c.streaming_seconds),
                shown(c.whole_peak),
                fr::seconds(c.whole_seconds),
            ]
        })
        .collect();
    let headers = [
        "texte lu",
        "taille",
        "pic en flux",
        "temps en flux",
        "pic lecture entière",
        "temps lecture entière",
    ];
    println!("3.4 Pic de mémoire du tas (allocateur de suivi) : lignes, mots et plus longue ligne calculés deux fois");
    section.text(
        "**3.4 Flux contre lecture entière.** Les mêmes statistiques (lignes, mots, plus \
         longue ligne) calculées en lisant ligne à ligne (`BufRead::lines`) ou après avoir lu \
         tout le texte en mémoire ; pic du tas mesuré par l'allocateur de suivi \
         (l'équivalent de memory-profiler).",
    );
    section.table("", &headers, 1, mem_rows);
    section.say(memory_verdict(&results, big.is_file(), &ctx.data));
    memory_files(ctx, section, &results)
}

/// Measures [`super::compare_memory`] on the corpus chained [`COPIES`] times, then
/// on `big` when it exists; each result is labelled by the text it read.
fn measure_memory(
    ctx: &Context,
    corpus: &Path,
    big: &Path,
) -> Result<Vec<(String, MemoryComparison)>> {
    let mut results: Vec<(String, MemoryComparison)> = Vec::new();
    let bar = ctx.steps(COPIES.len() as u64 + 1, "exercice 3 : mémoire");
    let size = std::fs::metadata(corpus).map_or(0, |m| m.len());
    let skipped: Vec<usize> = COPIES
        .into_iter()
        .filter(|&k| k as u64 * size > super::WHOLE_READ_CAP)
        .collect();
    if !skipped.is_empty() {
        println!(
            "  (lecture entière limitée à {} : {} de corpus.txt non mesurées)",
            fr::bytes(super::WHOLE_READ_CAP),
            skipped
                .iter()
                .map(|k| format!("× {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for k in COPIES.into_iter().filter(|k| !skipped.contains(k)) {
        let paths = vec![corpus.to_path_buf(); k];
        let label = if k == 1 {
            "corpus.txt".to_string()
        } else {
            format!("corpus.txt × {k} (enchaînés)")
        };
        results.push((label, super::compare_memory(&paths)?));
        bar.inc(1);
    }
    let big_size = std::fs::metadata(big).map_or(0, |m| m.len());
    if big.is_file() && big_size <= super::WHOLE_READ_CAP {
        results.push((
            format!("{}", big.display()),
            super::compare_memory(&[big.to_path_buf()])?,
        ));
    }
    bar.finish_and_clear();
    Ok(results)
}

/// Writes `ex3_memoire.csv` and, when the peaks were measured, the chart of the
/// peaks against the size read.
fn memory_files(
    ctx: &Context,
    section: &mut Section,
    results: &[(String, MemoryComparison)],
) -> Result<()> {
    let csv: Vec<MemoryRow> = results
        .iter()
        .map(|(label, c)| MemoryRow {
            source: label.clone(),
            octets: c.bytes,
            lignes: c.stats.lines,
            mots: c.stats.words,
            pic_flux_octets: c.streaming_peak,
            pic_lecture_entiere_octets: c.whole_peak,
            secondes_flux: c.streaming_seconds,
            secondes_lecture_entiere: c.whole_seconds,
        })
        .collect();
    output::write_csv(&ctx.out("ex3_memoire.csv"), &csv)?;
    section.file("ex3_memoire.csv");
    if !results.iter().all(|(_, c)| c.streaming_peak.is_some()) {
        return Ok(());
    }
    let points = |f: fn(&MemoryComparison) -> Option<u64>| -> Vec<(f64, f64)> {
        results
            .iter()
            .map(|(_, c)| (c.bytes as f64 / 1e6, f(c).unwrap_or(0) as f64 / 1e6))
            .collect()
    };
    let chart = LineChart {
        title: "Exercice 3 — pic de mémoire selon la taille lue".into(),
        x_label: "taille du texte lu (Mo)".into(),
        y_label: "pic du tas (Mo)".into(),
        series: vec![
            Series::measured(
                "lecture entière (tout le texte en mémoire)",
                points(|c| c.whole_peak),
            ),
            Series::measured("en flux (BufRead::lines)", points(|c| c.streaming_peak)),
        ],
        log_x: false,
    };
    for f in chart.save(&ctx.output, "ex3_memoire")? {
        section.file(f);
    }
    section.image("Pic de mémoire selon la taille lue", "ex3_memoire.png");
    Ok(())
}

/// Step 3.5: three chained copies of the corpus, and `find` that stops early.
fn early_exit(section: &mut Section, corpus: &Path) -> Result<()> {
    let three = vec![corpus.to_path_buf(); 3];
    let mut total = 0u64;
    for line in super::lines_of_files(&three) {
        line?;
        total += 1;
    }
    let rare = rare_word_of_middle_line(corpus)?;
    let pulled = std::cell::Cell::new(0u64);
    let mut error = None;
    let lines = super::lines_of_files(&three)
        .map_while(|l| l.map_err(|e| error = Some(e)).ok())
        .inspect(|_| pulled.set(pulled.get() + 1));
    let found = super::first_line_containing(lines, &rare);
    if let Some(e) = error {
        return Err(e);
    }
    let first5: usize = super::lines_of_files(&three).take(5).count();
    let early = match found {
        Some((n, _)) => format!(
            "Trois copies de corpus.txt enchaînées (flat_map) : {} en tout. La première \
             ligne contenant le mot rare « {rare} » est la n° {} : find s'est arrêté après {} \
             sur {} ({} %), et les fichiers suivants n'ont pas été ouverts. \
             take(5) n'a lu que {}.",
            fr::count(total, "ligne", "lignes"),
            fr::thousands(n as u64),
            fr::count(pulled.get(), "ligne lue", "lignes lues"),
            fr::thousands(total),
            fr::decimal(100.0 * pulled.get() as f64 / total.max(1) as f64, 2),
            fr::count(first5 as u64, "ligne", "lignes")
        ),
        None => format!(
            "Trois copies de corpus.txt enchaînées : {} ; le mot « {rare} » n'y figure \
             pas, find a donc tout lu ({}).",
            fr::count(total, "ligne", "lignes"),
            fr::count(pulled.get(), "ligne", "lignes")
        ),
    };
    println!("3.5 Fichiers enchaînés et arrêt anticipé : {early}");
    section.text(format!(
        "**3.5 Fichiers enchaînés et arrêt anticipé.** {early}"
    ));
    Ok(())
}

/// Step 3.6: an extension trait (`running_mean`) and `from_fn`.
fn extension_trait(section: &mut Section, corpus: &Path) -> Result<()> {
    let first_line = super::lines_of_files(&[corpus.to_path_buf()])
        .next()
        .transpose()?
        .unwrap_or_default();
    let lengths: Vec<u32> = super::words_of(&first_line)
        .map(|w| w.chars().count() as u32)
        .collect();
    let means: Vec<String> = lengths
        .iter()
        .copied()
        .running_mean()
        .map(|m| fr::decimal(m, 2))
        .collect();
    let ext = format!(
        "Longueurs des mots de la 1re ligne {lengths:?}, moyenne courante (.running_mean(), \
         ajouté à tout itérateur par le trait IteratorExt) : {}. Rust stable n'a pas de \
         `yield` : un générateur s'écrit comme un type qui implémente Iterator, ou avec \
         std::iter::from_fn et une fermeture qui garde son état (collatz_from_fn).",
        means.join(" ; ")
    );
    println!("3.6 {ext}");
    section.text(format!("**3.6 Trait d'extension et from_fn.** {ext}"));
    Ok(())
}

/// Largest part of the corpus that step 3.3 reads whole (bigrams of a 100 MB text
/// would take gigabytes): the first lines up to this many bytes.
pub const SAMPLE_BYTES: usize = 8 * 1024 * 1024;

/// The corpus, or its first lines up to [`SAMPLE_BYTES`] (said on screen).
fn sample_text(corpus: &Path) -> Result<String> {
    let size = std::fs::metadata(corpus).map_or(0, |m| m.len());
    if size as usize <= SAMPLE_BYTES {
        return super::read_text(corpus);
    }
    println!(
        "  (3.3 sur les premières lignes du corpus : {} sur {})",
        fr::bytes(SAMPLE_BYTES as u64),
        fr::bytes(size)
    );
    let mut text = String::new();
    for line in super::lines_of_files(&[corpus.to_path_buf()]) {
        let line = line?;
        if text.len() + line.len() + 1 > SAMPLE_BYTES {
            break;
        }
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// A rare word of the middle line of the corpus: a word that `find` meets somewhere
/// in the middle of the file, far from its start. The least frequent word of that
/// line (W7's counts, ties by bytes); if it is also the most frequent word of the
/// whole text (a tiny corpus), the least frequent word of the text instead.
fn rare_word_of_middle_line(corpus: &Path) -> Result<String> {
    let counts = crate::workloads::wordcount::seq(corpus)?;
    let lines = super::lines_of_files(&[corpus.to_path_buf()]).count();
    let middle = super::lines_of_files(&[corpus.to_path_buf()])
        .nth(lines / 2)
        .transpose()?
        .unwrap_or_default();
    let count = |w: &[u8]| counts.counts.get(w).copied().unwrap_or(0);
    let rarest = |it: &mut dyn Iterator<Item = &[u8]>| {
        it.min_by(|a, b| count(a).cmp(&count(b)).then(a.cmp(b)))
            .map(|w| String::from_utf8_lossy(w).into_owned())
    };
    let top = counts.top(1).first().map(|t| t.0.clone());
    let candidate = rarest(&mut super::words_of(&middle).map(str::as_bytes));
    Ok(match candidate {
        Some(w) if Some(&w) != top.as_ref() || counts.distinct() < 2 => w,
        _ => rarest(&mut counts.counts.keys().map(|k| &k[..])).unwrap_or_default(),
    })
}

/// The sentence that reads the memory table: growth of each peak with the size.
fn memory_verdict(
    results: &[(String, MemoryComparison)],
    big_present: bool,
    data: &Path,
) -> String {
    let (Some((_, first)), Some((_, last))) = (results.first(), results.last()) else {
        return String::new();
    };
    let mut s = match (
        first.streaming_peak,
        last.streaming_peak,
        first.whole_peak,
        last.whole_peak,
    ) {
        (Some(s0), Some(s1), Some(w0), Some(w1)) => format!(
            "Quand le texte passe de {} à {} (× {:.0}), le pic en flux passe de {} à {} \
             (constant : un tampon et une ligne) et celui de la lecture entière de {} à {} \
             (proportionnel à la taille).",
            fr::bytes(first.bytes),
            fr::bytes(last.bytes),
            last.bytes as f64 / first.bytes.max(1) as f64,
            fr::bytes(s0),
            fr::bytes(s1),
            fr::bytes(w0),
            fr::bytes(w1)
        ),
        _ => "Pics non mesurés : l'allocateur de suivi n'est installé que dans le binaire `tp4` \
              et les tests (lancez `tp4 exercice 3`)."
            .to_string(),
    };
    if !big_present {
        s.push_str(&format!(
            " Pour le cas à 100 Mo : `tp4 --data {} donnees --lignes 1000 --mo 100`, puis \
             relancez `tp4 --data {} exercice 3`.",
            big_corpus_path(data).parent().unwrap_or(data).display(),
            data.display()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_runs_and_writes_its_files() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::corpus::generate(&dir.path().join("corpus.txt"), 1, |_| {}).unwrap();
        let out = dir.path().join("out");
        let ctx = crate::context::Context::quiet(dir.path(), &out);
        let s = demo(&ctx).unwrap();
        assert!(
            s.markdown.contains("constant") && s.markdown.contains("--mo 100"),
            "{}",
            s.markdown
        );
        for f in ["ex3_memoire.csv", "ex3_memoire.png", "ex3_memoire.svg"] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let csv = std::fs::read_to_string(out.join("ex3_memoire.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + COPIES.len(), "{csv}");
    }
}
