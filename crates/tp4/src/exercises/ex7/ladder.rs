//! Exercise 7, part "L'échelle d'optimisation" (issue 15): every rung of the ladders
//! of [`crate::workloads::fast`] for W1, W2, W3, W4 and W7, measured live (median of
//! a few runs), each answer checked against the plain sequential kernel (W3: against
//! the closed form), shown as a table (rung, time, speedup over the plain sequential
//! kernel, what changed, why it helps; the caption names the processor's vector
//! level, [`crate::cpu::level`]) and one bar chart per workload
//! (`ex7_echelle_<charge>.png/svg`).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::fr;
use crate::measure::{time, Plan};
use crate::output::Section;
use crate::plot::BarChart;
use crate::workloads::fast::{self, Rung};
use crate::workloads::{groupby, pi, primes, sumsq, wordcount};

/// Divides the computed sizes by 10 in a debug build (tests), as the other parts do.
const SCALE: u64 = if cfg!(debug_assertions) { 10 } else { 1 };
/// N of W1 for the ladder (a tenth of workloads.md's: the whole part stays short).
pub const LADDER_PRIMES: u64 = 200_000 / SCALE;
/// S of W2 for the ladder.
pub const LADDER_POINTS: u64 = 2_000_000 / SCALE;
/// M of W3 for the ladder (40 MB, a tenth of workloads.md's array).
pub const LADDER_VALUES: u64 = 5_000_000 / SCALE;
/// Warm-up and repetitions of each rung (median of 3; one run in a debug build,
/// where the timings mean little and the tests only check the answers).
const PLAN: Plan = if cfg!(debug_assertions) {
    Plan {
        warmup: 0,
        repetitions: 1,
    }
} else {
    Plan {
        warmup: 1,
        repetitions: 3,
    }
};

/// One measured rung: name, median seconds, what changed, why it helps.
struct Row {
    name: &'static str,
    seconds: f64,
    repetitions: Vec<f64>,
    changed: &'static str,
    why: &'static str,
}

/// Times every rung of `rungs` with `run`, checking each answer with `ok` (`what`
/// names the workload in the error of a wrong answer).
fn measure_rungs<K: Copy, T: std::fmt::Debug>(
    what: &str,
    rungs: &[Rung<K>],
    mut run: impl FnMut(K) -> Result<T>,
    ok: impl Fn(&T) -> bool,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in rungs {
        let mut result = None;
        let (t, _) = time(PLAN, || result = Some(run(r.run)));
        let v = result.expect("at least one run")?;
        if !ok(&v) {
            return Err(Error::WrongAnswer {
                what: format!("échelle d'optimisation {what}, barreau « {} »", r.name),
                expected: "la réponse du noyau séquentiel simple".into(),
                got: format!("{v:?}"),
            });
        }
        rows.push(Row {
            name: r.name,
            seconds: t.median(),
            repetitions: t.samples.iter().map(|d| d.as_secs_f64()).collect(),
            changed: r.changed,
            why: r.why,
        });
    }
    Ok(rows)
}

/// The ladder of one workload: its rows and the plain sequential kernel's median.
struct Ladder {
    id: &'static str,
    name: &'static str,
    size: String,
    baseline: f64,
    rows: Vec<Row>,
}

/// Measures the five ladders on `workers` workers.
fn ladders(ctx: &Context, workers: usize) -> Result<Vec<Ladder>> {
    let (n, s) = (LADDER_PRIMES, LADDER_POINTS);
    let (t1, expected) = time(PLAN, || primes::count_seq(n));
    let w1 = measure_rungs(
        "W1",
        &fast::primes::ladder(),
        |k| Ok(k(n, workers)),
        |v| *v == expected,
    )?;
    let (t2, _) = time(PLAN, || pi::estimate_seq(s));
    let w2 = measure_rungs(
        "W2",
        &fast::pi::ladder(),
        |k| Ok(k(s, workers)),
        |v| pi::is_ok(*v, s),
    )?;
    let m = LADDER_VALUES;
    let xs = sumsq::fill(m as usize);
    let (t3, _) = time(PLAN, || sumsq::sum_seq(&xs));
    let w3 = measure_rungs(
        "W3",
        &fast::sumsq::ladder(),
        |k| Ok(k(&xs, workers)),
        |v| sumsq::is_ok(*v, m),
    )?;
    drop(xs);
    let tx = crate::data::transactions_path(&ctx.data)?;
    let (t4, g) = time(PLAN, || groupby::seq(&tx));
    let totals = fast::groupby::Totals::from_groupby(&g?);
    let w4 = measure_rungs(
        "W4",
        &fast::groupby::ladder(),
        |k| k(&tx, workers),
        |v| *v == totals,
    )?;
    let corpus = crate::data::corpus_path(&ctx.data)?;
    let (t7, c) = time(PLAN, || wordcount::seq(&corpus));
    let counts = c?;
    let w7 = measure_rungs(
        "W7",
        &fast::wordcount::ladder(),
        |k| k(&corpus, workers),
        |v| *v == counts,
    )?;
    let bytes = std::fs::metadata(&corpus).map(|m| m.len()).unwrap_or(0);
    Ok(vec![
        Ladder {
            id: "W1",
            name: "primes",
            size: format!("N = {}", fr::thousands(n)),
            baseline: t1.median(),
            rows: w1,
        },
        Ladder {
            id: "W2",
            name: "pi",
            size: format!("S = {}", fr::thousands(s)),
            baseline: t2.median(),
            rows: w2,
        },
        Ladder {
            id: "W3",
            name: "sumsq",
            size: format!("M = {}", fr::thousands(m)),
            baseline: t3.median(),
            rows: w3,
        },
        Ladder {
            id: "W4",
            name: "groupby",
            size: format!("{} lignes", fr::thousands(totals.rows())),
            baseline: t4.median(),
            rows: w4,
        },
        Ladder {
            id: "W7",
            name: "wordcount",
            size: fr::bytes(bytes),
            baseline: t7.median(),
            rows: w7,
        },
    ])
}

/// Part 7 — the optimisation ladder: one table and one bar chart per workload.
pub fn ladder(ctx: &Context, section: &mut Section, workers: usize) -> Result<()> {
    section.say("### 7. L'échelle d'optimisation");
    section.say(format!(
        "Chaque barreau est un noyau réel, mesuré ici (médiane de {} après un \
         échauffement), dont la réponse est comparée à celle du noyau séquentiel simple des \
         exercices (W3 : à la forme close). Le dernier barreau, « {} », est la stratégie \
         du même nom de `tp4 bench` ({workers} workers). Les barreaux vectoriels prennent \
         les instructions que le processeur offre, détectées à l'exécution : ici « {} ». La machine est partagée : les rapports varient d'un passage à \
         l'autre, l'ordre des barreaux beaucoup moins. Les tailles sont réduites pour que \
         l'exercice reste court : W1 va jusqu'à N = {}, W2 tire S = {} points (moins \
         d'une milliseconde au dernier barreau), W3 somme M = {} valeurs et W4, W7 lisent les fichiers du dossier \
         de données (au plus 1 Mo pour les fichiers livrés). À ces tailles, les coûts fixes (démarrer les threads, \
         projeter le fichier en mémoire, agrandir la table) pèsent autant que le travail, \
         et le barreau parallèle peut y être plus lent que le précédent ; `tp4 bench pi \
         sumsq groupby wordcount` les mesure aux tailles de workloads.md (20 000 000 de \
         points, 50 000 000 de valeurs, 44 Mo, 100 Mo).",
        fr::count(PLAN.repetitions as u64, "mesure", "mesures"),
        fast::STRATEGY,
        crate::cpu::level().name(),
        fr::thousands(LADDER_PRIMES),
        fr::thousands(LADDER_POINTS),
        fr::thousands(LADDER_VALUES),
    ));
    // One reliability note for the five ladders, after the last chart.
    let mut ev = crate::machine::Evidence::new();
    for l in ladders(ctx, workers)? {
        let rows = l
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.name.to_string(),
                    fr::seconds(r.seconds),
                    fr::ratio(l.baseline / r.seconds),
                    r.changed.to_string(),
                    r.why.to_string(),
                ]
            })
            .collect();
        let headers = [
            "barreau",
            "médiane",
            "accélération",
            "ce qui change",
            "pourquoi c'est plus rapide",
        ];
        let caption = format!(
            "{} {} ({}) — noyau séquentiel simple : {} — niveau vectoriel du processeur : {}",
            l.id,
            l.name,
            l.size,
            fr::seconds(l.baseline),
            crate::cpu::level().name(),
        );
        // The two numbers are right-aligned, the three texts left-aligned.
        section.table_numbers(&caption, &headers, &[1, 2], rows);
        let stem = format!("ex7_echelle_{}", l.name);
        BarChart {
            title: format!("Échelle d'optimisation : {} {} ({})", l.id, l.name, l.size),
            y_label: "temps médian (ms)".into(),
            bars: l
                .rows
                .iter()
                .map(|r| (r.name.to_string(), r.seconds * 1e3))
                .collect(),
        }
        .save(&ctx.output, &stem)
        .map(|files| section.add_files(files))?;
        section.image(
            &format!("Échelle d'optimisation {}", l.id),
            &format!("{stem}.png"),
        );
        l.rows.iter().for_each(|r| {
            ev.seconds(&r.repetitions);
        });
    }
    section.say_note(&ev.note());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_runs_on_the_shipped_data_with_right_answers() {
        let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"));
        let out = tempfile::tempdir().unwrap();
        let ctx = Context::quiet(data, out.path());
        let mut section = Section::new("test");
        ladder(&ctx, &mut section, 2).unwrap();
        for name in ["primes", "pi", "sumsq", "groupby", "wordcount"] {
            for ext in ["png", "svg"] {
                let f = format!("ex7_echelle_{name}.{ext}");
                assert!(out.path().join(&f).is_file(), "{f}");
            }
        }
        let md = &section.markdown;
        assert!(md.contains("L'échelle d'optimisation"), "{md}");
        assert!(
            md.contains(fast::STRATEGY) && md.contains("inverse"),
            "{md}"
        );
        assert!(md.contains("W3 sumsq") && md.contains("| fma |"), "{md}");
        assert!(md.contains(crate::cpu::level().name()), "{md}");
    }
}
