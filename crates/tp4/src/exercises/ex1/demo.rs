//! The demonstration of exercise 1 (`tp4 exercice 1`): the functional pipeline on
//! the shipped `transactions.csv`, the group-by per category, then three
//! measurements — a `for` loop against an iterator chain (zero-cost abstraction),
//! rayon's `fold` + `reduce` on 1 and 2+ workers (speedup), and `f64` sums that
//! change with the order of additions while integer cents do not.

use super::Transaction;
use crate::context::Context;
use crate::data::transactions::SumBound;
use crate::error::Result;
use crate::fr;
use crate::measure::{self, Measurement, Plan};
use crate::output::{self, Section};
use crate::plot::BarChart;
use serde_json::json;
use std::time::Duration;

/// How many times the table is repeated in memory for the timings. Twice the
/// shipped file (20_000 rows, about 4 MB with their strings) still fits in a core's
/// cache: the timing then shows the cost of the computation, whereas a table many
/// times bigger than the caches mostly measures the memory bus, which a second core
/// does not widen.
pub const REPEAT: usize = 2;

/// The timings (1.6 – 1.8) work on at most this many rows of the file (the size of
/// the shipped file), repeated [`REPEAT`] times: the point is the cost of the
/// computation in the cache, and a teacher's file of a million rows would otherwise
/// make each of the 100 passes per sample 100 times longer (the whole exercise took
/// more than ten minutes on `data/grand`). Said on screen when the file is bigger.
pub const TIMED_ROWS: usize = 10_000;

/// Formats cents as French euros: `1 234 567,89 €` (narrow no-break spaces). Kept
/// here because the notebook calls `tp4::ex1::demo::euros`; it is [`fr::euros`].
pub fn euros(cents: i64) -> String {
    fr::euros(cents)
}

/// Runs the demonstration of exercise 1 (see the module documentation): one call
/// per step.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut section = Section::new(super::TITLE);
    let rows = load(ctx)?;
    let total_cents = filter_map_reduce(&mut section, &rows);
    group_by(ctx, &mut section, &rows, total_cents)?;
    let timed = &rows[..rows.len().min(TIMED_ROWS)];
    let repeat = repeat_that_fits(timed);
    if timed.len() < rows.len() {
        section.say(format!(
            "Les mesures de temps qui suivent portent sur les {} premières ventes du fichier \
             (sur {}), répétées {} fois : de quoi mesurer le coût du calcul sans que le \
             TP dure des minutes.",
            fr::thousands(timed.len() as u64),
            fr::thousands(rows.len() as u64),
            repeat
        ));
    }
    let big = super::replicate(timed, repeat);
    timings(ctx, &mut section, &big, repeat)?;
    floats(ctx, &mut section, &big);
    Ok(section)
}

/// How many times the timed rows are repeated in memory: [`REPEAT`], or fewer when
/// the repeated table's money sums would no longer fit in 64 bits (a teacher's file
/// with huge amounts: see [`SumBound`]), so that no total of the timings can wrap.
fn repeat_that_fits(rows: &[Transaction]) -> usize {
    SumBound::of(rows).map_or(1, |bound| {
        (1..=REPEAT)
            .rev()
            .find(|&k| bound.fits_times(k as u64))
            .unwrap_or(1)
    })
}

/// Loading: reads the shipped `transactions.csv` and says how long it took.
fn load(ctx: &Context) -> Result<Vec<Transaction>> {
    let path = crate::data::transactions_path(&ctx.data)?;
    let (rows, seconds) = timed(|| super::load(&path));
    let rows = rows?;
    println!(
        "Chargement de {} : {} en {} (serde + csv, ligne à ligne).",
        path.display(),
        fr::count(rows.len() as u64, "vente", "ventes"),
        fr::seconds(seconds)
    );
    Ok(rows)
}

/// Steps 1.1 – 1.4: filter, map, reduce, fold, in one table. Returns the total
/// revenue in cents (the denominator of step 1.5's shares).
fn filter_map_reduce(section: &mut Section, rows: &[Transaction]) -> i64 {
    let expensive_sport = super::filter_ids(rows, "sport", 400.0);
    let s = super::summary(rows);
    let stats = super::mean_variance(&super::revenues(rows));
    let (mean, var) = stats.unwrap_or((0.0, 0.0));
    let row = |question: &str, quantity: &str, value: String| {
        vec![question.to_string(), quantity.to_string(), value]
    };
    let basics = vec![
        row(
            "1.1 filter",
            "ventes « sport » à ≥ 400 € l'unité",
            fr::thousands(expensive_sport.len() as u64),
        ),
        row("1.3 reduce", "nombre de lignes", fr::thousands(s.count)),
        row(
            "1.3 reduce",
            "chiffre d'affaires total",
            fr::euros(s.total_cents),
        ),
        row(
            "1.3 reduce",
            "plus petite ligne",
            s.min_cents.map_or("—".into(), fr::euros),
        ),
        row(
            "1.3 reduce",
            "plus grande ligne",
            s.max_cents.map_or("—".into(), fr::euros),
        ),
        row(
            "1.4 fold",
            "moyenne par ligne",
            fr::euros((mean * 100.0).round() as i64),
        ),
        row(
            "1.4 fold",
            "écart-type par ligne",
            fr::euros((var.sqrt() * 100.0).round() as i64),
        ),
    ];
    section.text(
        "Chaîne `filter` → `map` → `fold` sur `transactions.csv` : chaque étape est une petite \
         fonction pure, les montants sont additionnés en centimes entiers (exacts).",
    );
    section.table("", &["question", "quantité", "valeur"], 2, basics);
    s.total_cents
}

/// One row of `ex1_categories.csv`.
#[derive(serde::Serialize)]
struct CategoryRow<'a> {
    categorie: &'a str,
    chiffre_affaires_centimes: i64,
    lignes: u64,
}

/// Step 1.5: the group-by per category, as a table, a CSV file and a bar chart.
fn group_by(
    ctx: &Context,
    section: &mut Section,
    rows: &[Transaction],
    total_cents: i64,
) -> Result<()> {
    let groups = super::revenue_by_category(rows);
    let mut by_cat: Vec<(&String, &super::GroupTotal)> = groups.iter().collect();
    by_cat.sort_by(|a, b| b.1.revenue_cents.cmp(&a.1.revenue_cents).then(a.0.cmp(b.0)));
    let cat_rows: Vec<Vec<String>> = by_cat
        .iter()
        .map(|(c, g)| {
            vec![
                c.to_string(),
                fr::euros(g.revenue_cents),
                fr::thousands(g.count),
                fr::percent(g.revenue_cents as f64 / total_cents.max(1) as f64, 1),
            ]
        })
        .collect();
    println!("1.5 Group-by (fold dans une HashMap) : chiffre d'affaires par catégorie");
    section.text("**1.5 Group-by** (reduce par clé, `fold` dans une `HashMap` avec `entry`) :");
    section.table(
        "",
        &["catégorie", "chiffre d'affaires", "lignes", "part"],
        1,
        cat_rows,
    );
    let csv_rows: Vec<CategoryRow> = by_cat
        .iter()
        .map(|(c, g)| CategoryRow {
            categorie: c,
            chiffre_affaires_centimes: g.revenue_cents,
            lignes: g.count,
        })
        .collect();
    output::write_csv(&ctx.out("ex1_categories.csv"), &csv_rows)?;
    section.file("ex1_categories.csv");
    let chart = BarChart {
        title: "Exercice 1 — chiffre d'affaires par catégorie".into(),
        y_label: "chiffre d'affaires (millions d'euros)".into(),
        bars: by_cat
            .iter()
            .map(|(c, g)| (c.to_string(), g.revenue_cents as f64 / 1e8))
            .collect(),
    };
    for f in chart.save(&ctx.output, "ex1_categories")? {
        section.file(f);
    }
    section.image("Chiffre d'affaires par catégorie", "ex1_categories.png");
    Ok(())
}

/// Steps 1.6 – 1.7: the same computation as a loop, an iterator chain and with
/// rayon, timed on a bigger table in memory; table, reading, CSV and chart.
fn timings(ctx: &Context, section: &mut Section, big: &[Transaction], repeat: usize) -> Result<()> {
    let (measurements, table_rows) = time_pipelines(ctx, big)?;
    println!(
        "1.6–1.7 Même calcul (CA « sport » à ≥ 100 € + résumé), table répétée {repeat} fois \
         en mémoire ({} lignes), médiane de {} mesures de {PASSES} passages (temps par passage) :",
        fr::thousands(big.len() as u64),
        PLAN.repetitions
    );
    section.text(format!(
        "**1.6–1.7 Boucle, itérateurs, rayon.** Table répétée {repeat} fois en mémoire ({} \
         lignes) ; médiane de {} mesures (chacune de {PASSES} passages, temps par passage, les écritures \
         alternées à chaque tour). Accélération par rapport à la \
         boucle `for`.",
        big.len(),
        PLAN.repetitions
    ));
    let headers = [
        "écriture",
        "workers",
        "temps médian",
        "min – max",
        "accélération",
    ];
    section.table("", &headers, 1, table_rows);
    section.say(read_timings(&measurements));
    output::write_csv(&ctx.out("ex1_temps.csv"), &measurements)?;
    section.file("ex1_temps.csv");
    let chart = BarChart {
        title: format!(
            "Exercice 1 — même calcul sur {} lignes",
            fr::thousands(big.len() as u64)
        ),
        y_label: "temps médian par passage (ms)".into(),
        bars: measurements
            .iter()
            .map(|m| (label(&m.strategy, m.workers), m.seconds * 1e3))
            .collect(),
    };
    for f in chart.save(&ctx.output, "ex1_temps")? {
        section.file(f);
    }
    section.image(
        "Temps de la boucle, des itérateurs et de rayon",
        "ex1_temps.png",
    );
    Ok(())
}

/// Step 1.7 (floats): `f64` sums grouped in different orders against the integer
/// cents sum.
fn floats(ctx: &Context, section: &mut Section, big: &[Transaction]) {
    let (float_rows, note) = float_vs_cents(ctx, big);
    let (left, right) = (fr::full((0.1 + 0.2) + 0.3), fr::full(0.1 + (0.2 + 0.3)));
    println!(
        "Sommes flottantes et ordre des additions (0,1 + 0,2) + 0,3 = {left} mais \
         0,1 + (0,2 + 0,3) = {right} :"
    );
    section.text(format!(
        "**Flottants et parallélisme.** L'addition des `f64` n'est pas associative : \
         (0,1 + 0,2) + 0,3 = {left} mais 0,1 + (0,2 + 0,3) = {right}. Une somme parallèle regroupe les \
         additions autrement que la boucle séquentielle :"
    ));
    let headers = [
        "ordre des additions",
        "total en f64 (tous les chiffres)",
        "écart au séquentiel",
        "total en centimes",
    ];
    section.table("", &headers, 1, float_rows);
    section.say(note);
}

/// The timing plan of the demonstration.
const PLAN: Plan = Plan {
    warmup: 2,
    repetitions: 15,
};

/// Runs `f` once and returns its value with its wall time in seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = std::time::Instant::now();
    let v = f();
    (v, start.elapsed().as_secs_f64())
}

fn label(strategy: &str, workers: usize) -> String {
    match strategy {
        "boucle-for" => "boucle for".into(),
        "iterateurs" => "itérateurs".into(),
        _ => format!("rayon ×{workers}"),
    }
}

/// Passes over the table per timed sample (the time shown is per pass): a sample
/// of about ten milliseconds is long enough for rayon's workers to wake up and steal
/// work even on a busy shared machine.
const PASSES: u32 = 100;

/// Runs `f` [`PASSES`] times and returns its last value.
fn passes<T>(f: impl Fn() -> T) -> T {
    for _ in 1..PASSES {
        std::hint::black_box(f());
    }
    f()
}

/// The category and threshold of the timed pipeline.
const CATEGORY: &str = "sport";
const MIN_CENTS: i64 = 10_000;

/// The answer of one timed run: the filtered sum and the summary.
type Answer = (i64, super::Summary);

/// One timed strategy: its name, its worker count and the run itself.
type Run<'a> = (&'static str, usize, Box<dyn Fn() -> Answer + 'a>);

/// The strategies of steps 1.6 – 1.7: the loop, the iterator chain, and rayon on
/// each pool.
fn pipeline_runs<'a>(
    big: &'a [Transaction],
    pools: &'a [(usize, rayon::ThreadPool)],
) -> Vec<Run<'a>> {
    let mut runs: Vec<Run> = vec![
        (
            "boucle-for",
            1,
            Box::new(move || {
                passes(|| {
                    let rows = std::hint::black_box(big);
                    (
                        super::pipeline_loop(rows, CATEGORY, MIN_CENTS),
                        loop_summary(rows),
                    )
                })
            }),
        ),
        (
            "iterateurs",
            1,
            Box::new(move || {
                passes(|| {
                    let rows = std::hint::black_box(big);
                    (
                        super::pipeline_iter(rows, CATEGORY, MIN_CENTS),
                        super::summary(rows),
                    )
                })
            }),
        ),
    ];
    for (w, pool) in pools {
        runs.push((
            "rayon",
            *w,
            Box::new(move || {
                pool.install(|| {
                    passes(|| {
                        let rows = std::hint::black_box(big);
                        (
                            super::pipeline_par(rows, CATEGORY, MIN_CENTS),
                            super::summary_par(rows),
                        )
                    })
                })
            }),
        ));
    }
    runs
}

/// Runs the strategies in interleaved rounds (one run of each per round), so that
/// a slow phase of a shared machine penalises all of them alike instead of the one
/// that happened to run then. Returns each strategy's samples (time per pass) and
/// last answer.
fn interleaved_rounds(ctx: &Context, runs: &[Run]) -> Vec<(Vec<Duration>, Answer)> {
    let bar = ctx.steps(
        (PLAN.warmup + PLAN.repetitions) as u64,
        "exercice 1 : mesures",
    );
    let mut samples = vec![Vec::new(); runs.len()];
    let mut answers = vec![None; runs.len()];
    for round in 0..PLAN.warmup + PLAN.repetitions {
        for (i, (_, _, run)) in runs.iter().enumerate() {
            let start = std::time::Instant::now();
            let a = std::hint::black_box(run());
            if round >= PLAN.warmup {
                samples[i].push(start.elapsed() / PASSES);
            }
            answers[i] = Some(a);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    samples
        .into_iter()
        .zip(answers)
        .map(|(samples, answer)| (samples, answer.expect("at least one round")))
        .collect()
}

/// Times the pipeline as a loop, as an iterator chain and with rayon on each worker
/// count; every answer is checked against the loop's. Returns the measurements and
/// the rows of the timing table.
fn time_pipelines(
    ctx: &Context,
    big: &[Transaction],
) -> Result<(Vec<Measurement>, Vec<Vec<String>>)> {
    let expected = (
        super::pipeline_loop(big, CATEGORY, MIN_CENTS),
        super::summary(big),
    );
    let pools: Vec<(usize, rayon::ThreadPool)> = ctx
        .workers
        .iter()
        .map(|&w| (w, crate::workloads::pool(w)))
        .collect();
    let runs = pipeline_runs(big, &pools);
    let size = big.len() as u64;
    let out: Vec<Measurement> = runs
        .iter()
        .zip(interleaved_rounds(ctx, &runs))
        .map(|((strategy, workers, _), (samples, answer))| {
            Measurement::new(
                "ex1-pipeline",
                strategy,
                *workers,
                size,
                &measure::Timings { samples },
                json!(answer.0),
                answer == expected,
                None,
            )
        })
        .collect();
    if let Some(bad) = out.iter().find(|m| !m.ok) {
        return Err(crate::Error::WrongAnswer {
            what: format!("exercice 1 / {}", bad.strategy),
            expected: expected.0.to_string(),
            got: bad.answer.to_string(),
        });
    }
    let base = out[0].seconds;
    let rows = out
        .iter()
        .map(|m| {
            vec![
                label(&m.strategy, m.workers),
                m.workers.to_string(),
                fr::seconds(m.seconds),
                format!("{} – {}", fr::seconds(m.min), fr::seconds(m.max)),
                fr::ratio(base / m.seconds),
            ]
        })
        .collect();
    Ok((out, rows))
}

/// The sentence that reads the timing table: loop against iterators, and the best
/// rayon speedup, with a warning when the machine was visibly busy.
fn read_timings(m: &[Measurement]) -> String {
    let (Some(lp), Some(it)) = (m.first(), m.get(1)) else {
        return String::new();
    };
    let gap = 100.0 * (it.seconds / lp.seconds - 1.0);
    let mut s = format!(
        "Boucle for et chaîne d'itérateurs : {} contre {} par passage, écart de {} % ",
        fr::seconds(lp.seconds),
        fr::seconds(it.seconds),
        format!("{gap:+.0}").replace('-', "−")
    );
    s.push_str(if gap.abs() <= 15.0 {
        "(le bruit de mesure) : le compilateur produit le même code, l'abstraction ne coûte rien."
    } else {
        "; le compilateur produit pourtant le même code : l'écart vient d'une machine occupée          (voyez min – max), relancez pour le voir disparaître."
    });
    if let Some(best) = m
        .iter()
        .filter(|x| x.strategy == "rayon" && x.workers > 1)
        .max_by(|a, b| b.seconds.total_cmp(&a.seconds))
    {
        let speedup = lp.seconds / best.seconds;
        s.push_str(&format!(
            " Rayon ×{} : accélération {} par rapport à la boucle.",
            best.workers,
            fr::ratio(speedup)
        ));
        if speedup < 1.3 {
            s.push_str(
                " C'est peu : si d'autres programmes occupent les cœurs (voyez la charge avec \
                 `uptime`), le second worker attend son tour ; sur des cœurs libres, le même \
                 code peut approcher × 2.",
            );
        }
    }
    s
}

/// The summary of question 1.3 written as a `for` loop, for the timing comparison.
fn loop_summary(rows: &[Transaction]) -> super::Summary {
    let mut s = super::Summary::default();
    for t in rows {
        s = s.absorb(t.revenue_cents());
    }
    s
}

/// The table comparing `f64` sums grouped in different orders with the integer
/// cents sum, and a sentence that says what it shows.
fn float_vs_cents(ctx: &Context, big: &[Transaction]) -> (Vec<Vec<String>>, String) {
    let seq = super::revenue_sum_f64_seq(big);
    let cents = super::summary(big).total_cents;
    let mut rows = Vec::new();
    let mut differ = 0;
    let mut widest = 0.0f64;
    let mut push = |name: String, x: f64, c: i64| {
        let gap = if x == seq {
            "0".to_string()
        } else {
            differ += 1;
            widest = widest.max((x - seq).abs());
            fr::comma(format!("{:+.1e} €", x - seq))
        };
        rows.push(vec![name, fr::full(x), gap, fr::euros(c)]);
    };
    push("séquentiel, de gauche à droite".into(), seq, cents);
    for parts in [2, 8] {
        let x = super::revenue_sum_f64_blocks(big, parts);
        let c: i64 = big
            .chunks(big.len().div_ceil(parts).max(1))
            .map(|b| super::summary(b).total_cents)
            .sum();
        push(format!("{parts} blocs additionnés ensuite"), x, c);
    }
    for &w in ctx.workers.iter().filter(|&&w| w > 1) {
        let pool = crate::workloads::pool(w);
        for run in 1..=2 {
            let (x, c) = pool.install(|| {
                (
                    super::revenue_sum_f64_par(big),
                    super::summary_par(big).total_cents,
                )
            });
            push(format!("rayon ×{w}, essai {run}"), x, c);
        }
    }
    let n = rows.len() - 1;
    let note = format!(
        "{differ} sommes flottantes sur {n} diffèrent de la somme séquentielle dans les derniers \
         chiffres (écart maximal {} €, dû aux arrondis, qui dépendent de l'ordre des additions) ; \
         les {} totaux en centimes entiers sont tous identiques : l'addition entière est \
         associative, c'est pourquoi on compte l'argent en centimes.",
        fr::comma(format!("{widest:.1e}")),
        n + 1
    );
    (rows, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_money() {
        assert_eq!(euros(123_456_789), "1\u{202f}234\u{202f}567,89 €");
        assert_eq!(euros(5), "0,05 €");
        assert_eq!(euros(-100), "-1,00 €");
    }

    #[test]
    fn demo_runs_on_a_small_table_and_writes_its_files() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::transactions::generate(&dir.path().join("transactions.csv"), 500, |_| {})
            .unwrap();
        let out = dir.path().join("out");
        let ctx = crate::context::Context::quiet(dir.path(), &out);
        let s = demo(&ctx).unwrap();
        assert!(s.markdown.contains("centimes"));
        assert!(
            !s.markdown.contains("premières ventes"),
            "a small file is timed whole"
        );
        for f in [
            "ex1_categories.csv",
            "ex1_temps.csv",
            "ex1_temps.png",
            "ex1_categories.svg",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let csv = std::fs::read_to_string(out.join("ex1_temps.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + 2 + 2, "{csv}");
        assert!(!csv.contains("false"), "{csv}");
    }

    /// A big file is timed on its first [`TIMED_ROWS`] rows, and the screen says so
    /// (on the 1 M-row set the exercise took more than ten minutes).
    #[test]
    fn a_big_file_is_timed_on_a_bounded_sample() {
        let dir = tempfile::tempdir().unwrap();
        let rows = TIMED_ROWS as u64 + 2_000;
        crate::data::transactions::generate(&dir.path().join("transactions.csv"), rows, |_| {})
            .unwrap();
        let out = dir.path().join("out");
        let ctx = crate::context::Context::quiet(dir.path(), &out);
        let s = demo(&ctx).unwrap();
        assert!(
            s.markdown.contains("10\u{202f}000 premières ventes")
                || s.markdown.contains("10 000 premières ventes"),
            "{}",
            s.markdown
        );
        let csv = std::fs::read_to_string(out.join("ex1_temps.csv")).unwrap();
        let size = (TIMED_ROWS * REPEAT).to_string();
        assert!(csv.lines().skip(1).all(|l| l.contains(&size)), "{csv}");
    }
}
