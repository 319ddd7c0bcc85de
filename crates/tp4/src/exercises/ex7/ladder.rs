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

/// How long the plain kernel runs (its answer is the one every rung must give) before
/// the rungs are timed: the processor raises its clock only after tens of
/// milliseconds of work, and a rung timed on a cold core looks slower than it is.
const WARM: std::time::Duration =
    std::time::Duration::from_millis(if cfg!(debug_assertions) { 0 } else { 100 });

/// Runs `f` again and again for at least [`WARM`] (at least once) and returns its
/// last answer: the expected answer of a ladder, computed on a warm core.
fn warm<T>(mut f: impl FnMut() -> T) -> T {
    let start = std::time::Instant::now();
    loop {
        let v = f();
        if start.elapsed() >= WARM {
            return v;
        }
        drop(std::hint::black_box(v));
    }
}

/// The median of a ladder's first rung, the plain kernel of the exercises that every
/// ladder starts from: the speed-ups are measured against it, in the same series.
fn first(rows: &[Row]) -> f64 {
    rows.first().map_or(f64::NAN, |r| r.seconds)
}

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

/// The ladder of one workload: its rows, the first being the plain sequential
/// kernel, whose median ([`first`]) is the reference of the speed-up column.
struct Ladder {
    id: &'static str,
    name: &'static str,
    size: String,
    rows: Vec<Row>,
}

/// Measures the five ladders on `workers` workers.
fn ladders(ctx: &Context, workers: usize) -> Result<Vec<Ladder>> {
    let (n, s) = (LADDER_PRIMES, LADDER_POINTS);
    let expected = warm(|| primes::count_seq(n));
    let w1 = measure_rungs(
        "W1",
        &fast::primes::ladder(),
        |k| Ok(k(n, workers)),
        |v| *v == expected,
    )?;
    warm(|| pi::estimate_seq(s));
    let w2 = measure_rungs(
        "W2",
        &fast::pi::ladder(),
        |k| Ok(k(s, workers)),
        |v| pi::is_ok(*v, s),
    )?;
    let m = LADDER_VALUES;
    let xs = sumsq::fill(m as usize);
    warm(|| sumsq::sum_seq(&xs));
    let w3 = measure_rungs(
        "W3",
        &fast::sumsq::ladder(),
        |k| Ok(k(&xs, workers)),
        |v| sumsq::is_ok(*v, m),
    )?;
    drop(xs);
    let tx = crate::data::transactions_path(&ctx.data)?;
    let g = warm(|| groupby::seq(&tx));
    let totals = fast::groupby::Totals::from_groupby(&g?);
    let w4 = measure_rungs(
        "W4",
        &fast::groupby::ladder(),
        |k| k(&tx, workers),
        |v| *v == totals,
    )?;
    let corpus = crate::data::corpus_path(&ctx.data)?;
    let c = warm(|| wordcount::seq(&corpus));
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
            rows: w1,
        },
        Ladder {
            id: "W2",
            name: "pi",
            size: format!("S = {}", fr::thousands(s)),
            rows: w2,
        },
        Ladder {
            id: "W3",
            name: "sumsq",
            size: format!("M = {}", fr::thousands(m)),
            rows: w3,
        },
        Ladder {
            id: "W4",
            name: "groupby",
            size: format!("{} lignes", fr::thousands(totals.rows())),
            rows: w4,
        },
        Ladder {
            id: "W7",
            name: "wordcount",
            size: fr::bytes(bytes),
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
        let baseline = first(&l.rows);
        let rows = l
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.name.to_string(),
                    fr::seconds(r.seconds),
                    fr::ratio(baseline / r.seconds),
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
            "{} {} ({}) — référence des accélérations, le noyau séquentiel simple (premier barreau) : {} — niveau vectoriel du processeur : {}",
            l.id,
            l.name,
            l.size,
            fr::seconds(baseline),
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

/// One rung of W7's ladder measured live for question 7.8: its name, what it changes,
/// why it helps, the median of its runs and their relative spread.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRung {
    /// The rung's name (`plain`, `packed`… `optimise`).
    pub name: String,
    /// What changed from the rung below (French).
    pub changed: String,
    /// Why it is faster (French).
    pub why: String,
    /// Median of the runs, in seconds.
    pub seconds: f64,
    /// `(max - min) / median` of the runs.
    pub spread: f64,
}

/// Measures every rung of W7's ladder on `corpus` (`workers` threads for the
/// parallel rung): one warm-up of each, then `runs` rounds where each rung runs once
/// in turn (interleaved, so that the load of a shared machine hits every rung
/// alike). Every answer is compared with the plain sequential count.
pub fn measure_w7(corpus: &std::path::Path, workers: usize, runs: usize) -> Result<Vec<LiveRung>> {
    let rungs = fast::wordcount::ladder();
    let expected = wordcount::seq(corpus)?;
    let mut times = vec![Vec::new(); rungs.len()];
    for round in 0..=runs.max(1) {
        for (r, samples) in rungs.iter().zip(&mut times) {
            let t = std::time::Instant::now();
            let got = (r.run)(corpus, workers)?;
            let seconds = t.elapsed().as_secs_f64();
            if got != expected {
                return Err(Error::WrongAnswer {
                    what: format!("échelle d'optimisation W7, barreau « {} »", r.name),
                    expected: "la réponse du noyau séquentiel simple".into(),
                    got: format!("{} mots", got.total),
                });
            }
            // Round 0 is the warm-up.
            if round > 0 {
                samples.push(seconds);
            }
        }
    }
    Ok(rungs
        .iter()
        .zip(times)
        .map(|(r, t)| LiveRung {
            name: r.name.to_string(),
            changed: r.changed.to_string(),
            why: r.why.to_string(),
            seconds: super::median(&t),
            spread: super::relative_spread(&t),
        })
        .collect())
}

/// The measured rungs as a terminal table (wrapped to the width): rung, median,
/// step over the rung below, speedup over the first rung, what changed.
pub fn rungs_table(rungs: &[LiveRung]) -> String {
    let first = rungs.first().map_or(f64::NAN, |r| r.seconds);
    let rows = rungs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let step = if i == 0 {
                "—".to_string()
            } else {
                fr::ratio(rungs[i - 1].seconds / r.seconds)
            };
            vec![
                r.name.clone(),
                fr::seconds(r.seconds),
                step,
                fr::ratio(first / r.seconds),
                r.changed.clone(),
            ]
        })
        .collect();
    crate::output::table_numbers(
        &[
            "barreau",
            "médiane",
            "pas",
            "depuis « plain »",
            "ce qui change",
        ],
        &[1, 2, 3],
        rows,
    )
}

/// The reference of question 7.8: the rung (from the second one) whose step over
/// the rung just below, `previous seconds / its seconds`, is the largest (the first
/// such rung on a tie); `None` with fewer than two rungs.
pub(crate) fn biggest_step(rungs: &[(String, f64)]) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for w in rungs.windows(2) {
        let step = w[0].1 / w[1].1;
        if best.is_none_or(|(b, _)| step > b) {
            best = Some((step, &w[1].0));
        }
    }
    best.map(|(_, name)| name.to_string())
}

/// One case of question 7.8: `(rung name, seconds)` in ladder order.
type StepCase = Vec<(String, f64)>;

/// The cases of question 7.8: fixed edge cases, then `drawn` random ladders from
/// `seed` (drawn at check time: no constant passes), built so that the biggest step
/// is neither the rung with the largest drop in seconds nor the fastest rung as a
/// rule.
fn step_cases(seed: u64, drawn: usize) -> Vec<(String, StepCase)> {
    let named =
        |v: &[(&str, f64)]| -> StepCase { v.iter().map(|(n, t)| (n.to_string(), *t)).collect() };
    let mut cases = vec![
        ("aucun barreau".to_string(), vec![]),
        ("un seul barreau".into(), named(&[("plain", 1.0)])),
        (
            "le pas, pas la baisse en secondes".into(),
            named(&[("plain", 10.0), ("a", 6.0), ("b", 1.0), ("c", 0.1)]),
        ),
        (
            "un barreau plus lent que le précédent".into(),
            named(&[("plain", 1.0), ("a", 2.0), ("b", 1.5)]),
        ),
        (
            "égalité : le premier".into(),
            named(&[("plain", 8.0), ("a", 4.0), ("b", 2.0)]),
        ),
        (
            "le plus rapide n'est pas le plus grand pas".into(),
            named(&[("plain", 1.0), ("a", 0.2), ("b", 0.15), ("c", 0.1)]),
        ),
    ];
    // A number in 0..n, from the checks' generator.
    let mut draw = crate::verif::work::Draw::from_seed(seed);
    let mut next = move |n: u64| draw.range(0, n - 1);
    for i in 0..drawn {
        let mut t = (1 + next(1000)) as f64 * 1e-3;
        let ladder = (0..2 + next(8))
            .map(|k| {
                let name = format!("barreau{k}");
                if k > 0 {
                    // Steps between ×0.7 (slower) and ×4.
                    t /= 0.7 + next(3300) as f64 * 1e-3;
                }
                (name, t)
            })
            .collect();
        cases.push((format!("échelle tirée n° {}", i + 1), ladder));
    }
    cases
}

/// The verdict of question 7.8: the function's correctness, then what it says of
/// the ladder measured on this machine.
#[derive(Debug, Clone)]
pub struct StepVerdict {
    /// Correctness of the student's function on the fixed and drawn cases.
    pub verdict: crate::verif::Verdict,
    /// The ladder measured here, when the function is right.
    pub measured: Vec<LiveRung>,
    /// The student's answer on that measurement.
    pub student_step: Option<String>,
}

impl StepVerdict {
    /// Whether the measured timings are steady enough to name a biggest step: every
    /// rung's runs within 25 % of their median.
    pub fn decided(&self) -> bool {
        !self.measured.is_empty() && self.measured.iter().all(|r| r.spread <= 0.25)
    }

    /// Prints the verdict (for a notebook cell) and returns it.
    pub fn show(self) -> StepVerdict {
        println!("{self}");
        self
    }
}

impl std::fmt::Display for StepVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.verdict)?;
        if self.measured.is_empty() {
            return Ok(());
        }
        let found = match &self.student_step {
            Some(n) => format!("votre fonction désigne « {n} »"),
            None => "votre fonction ne désigne aucun barreau".to_string(),
        };
        write!(
            f,
            "\nSur cette machine ({}), W7 sur le corpus :\n{}\n{found}.",
            crate::cpu::level().name(),
            rungs_table(&self.measured)
        )?;
        if !self.decided() {
            let worst = self.measured.iter().map(|r| r.spread).fold(0.0, f64::max);
            write!(
                f,
                "\n⚠ Mesure peu fiable : la dispersion des temps atteint {} ; le plus grand \
                 pas de cette mesure peut changer d'un passage à l'autre. Relancez la \
                 cellule quand la machine est moins chargée.",
                fr::percent(worst, 0)
            )?;
        }
        Ok(())
    }
}

/// Question 7.8: `student(rungs)` must name the rung whose step over the rung just
/// below (previous time / its time) is the largest, `None` with fewer than two
/// rungs. The cases are drawn at check time; then, if the function is right, W7's
/// ladder is measured on `corpus` (a few seconds at most on the shipped 1 MB file)
/// and the function applied to it, with a « ⚠ Mesure peu fiable » note when the
/// timings are too scattered.
pub fn q8_biggest_step(
    student: impl Fn(&[(String, f64)]) -> Option<String>,
    corpus: &std::path::Path,
) -> StepVerdict {
    step_with_seed(student, corpus, crate::verif::work::draw_seed())
}

/// [`q8_biggest_step`] with a given seed (the tests).
fn step_with_seed(
    student: impl Fn(&[(String, f64)]) -> Option<String>,
    corpus: &std::path::Path,
    seed: u64,
) -> StepVerdict {
    let verdict = crate::verif::check_cases(
        "7.8 plus grand pas",
        "pour chaque barreau à partir du deuxième, le pas est le temps du barreau \
         précédent divisé par le sien (`windows(2)`) ; gardez le plus grand (le premier \
         en cas d'égalité), pas la plus grande baisse en secondes ni le plus rapide ; \
         moins de deux barreaux : None",
        step_cases(seed, 200),
        |rungs| biggest_step(rungs),
        |rungs| student(rungs),
        |a, b| a == b,
    );
    if !verdict.passed() {
        return StepVerdict {
            verdict,
            measured: Vec::new(),
            student_step: None,
        };
    }
    match measure_w7(corpus, crate::machine::usable_cpus().clamp(1, 2), 5) {
        Ok(measured) => {
            let pairs: Vec<(String, f64)> = measured
                .iter()
                .map(|r| (r.name.clone(), r.seconds))
                .collect();
            StepVerdict {
                student_step: student(&pairs),
                measured,
                verdict,
            }
        }
        Err(e) => StepVerdict {
            verdict: crate::verif::Verdict::new(
                &verdict.question,
                verdict.cases_passed,
                crate::verif::Status::Failed(crate::verif::Failure {
                    case: "mesure de cette machine".into(),
                    expected: format!("le corpus {} lisible", corpus.display()),
                    got: e.to_string(),
                    hint: "générez les données (`tp4 donnees`) ou donnez le chemin d'un \
                           corpus.txt"
                        .into(),
                }),
            ),
            measured: Vec::new(),
            student_step: None,
        },
    }
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

    /// A student's answer to question 7.8.
    type Answer = dyn Fn(&[(String, f64)]) -> Option<String>;

    fn corpus() -> std::path::PathBuf {
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/corpus.txt"
        ))
        .into()
    }

    #[test]
    fn the_step_question_passes_the_reference_and_measures_the_ladder() {
        let v = step_with_seed(biggest_step, &corpus(), 42);
        assert!(v.verdict.passed(), "{v}");
        assert_eq!(v.measured.len(), fast::wordcount::ladder().len());
        assert_eq!(
            v.student_step,
            biggest_step(
                &v.measured
                    .iter()
                    .map(|r| (r.name.clone(), r.seconds))
                    .collect::<Vec<_>>()
            )
        );
        let text = v.to_string();
        assert!(text.contains("✅") && text.contains("optimise"), "{text}");
    }

    #[test]
    fn wrong_answers_to_the_step_question_fail_on_drawn_cases() {
        let last = |r: &[(String, f64)]| r.last().filter(|_| r.len() > 1).map(|x| x.0.clone());
        let fastest = |r: &[(String, f64)]| {
            r.iter()
                .skip(1)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|x| x.0.clone())
        };
        let biggest_drop = |r: &[(String, f64)]| {
            r.windows(2)
                .max_by(|a, b| (a[0].1 - a[1].1).total_cmp(&(b[0].1 - b[1].1)))
                .map(|w| w[1].0.clone())
        };
        let last_on_tie = |r: &[(String, f64)]| {
            r.windows(2)
                .max_by(|a, b| (a[0].1 / a[1].1).total_cmp(&(b[0].1 / b[1].1)))
                .map(|w| w[1].0.clone())
        };
        let constant = |_: &[(String, f64)]| Some("barreau1".to_string());
        for seed in [1u64, 2, 3, 99, 12345] {
            let cases = step_cases(seed, 200);
            let wrongs: [(&str, &Answer); 5] = [
                ("last", &last),
                ("fastest", &fastest),
                ("drop", &biggest_drop),
                ("tie", &last_on_tie),
                ("constant", &constant),
            ];
            for (name, wrong) in wrongs {
                assert!(
                    cases.iter().any(|(_, c)| wrong(c) != biggest_step(c)),
                    "{name} passes seed {seed}"
                );
            }
            // The drawn cases alone catch the answers that are not ties.
            for (name, wrong) in &wrongs[..3] {
                assert!(
                    cases[6..].iter().any(|(_, c)| wrong(c) != biggest_step(c)),
                    "{name} passes the drawn cases of seed {seed}"
                );
            }
        }
        let v = step_with_seed(constant, &corpus(), 7);
        assert!(!v.verdict.passed() && v.measured.is_empty(), "{v}");
    }
}
