//! Exercise 7, the COST of a parallel or distributed run (question 7.7).
//!
//! McSherry, Isard and Murray, *Scalability! But at what COST?* (HotOS 2015): the
//! COST of a system ("Configuration that Outperforms a Single Thread") is the
//! number of cores it needs before it beats a good single-threaded program on the
//! same input. A speedup curve measured against the system's own one-core run says
//! nothing about it: a slow system scales well. This module holds the reference
//! `cost`, the checker [`q7_cost`] (cases drawn at check time, so no constant
//! passes it; the ✅ judges the function, and the live measurement of this machine
//! that follows it carries a « ⚠ Mesure peu fiable » note when its timings cannot
//! decide the machine's COST), and [`measure_threads`], the lab's own measurement
//! (one thread of `optimise` against `optimise` on more threads), used by the
//! demonstration and the notebook.

use crate::verif::{check_cases, Verdict};
use std::fmt;
use std::path::Path;

/// The COST of a set of measured configurations: the smallest number of workers
/// among the configurations `(workers, seconds)` whose time is strictly below
/// `single_thread` seconds; `None` ("non atteint") when none is.
pub(crate) fn cost(single_thread: f64, configs: &[(usize, f64)]) -> Option<usize> {
    configs
        .iter()
        .filter(|(_, t)| *t < single_thread)
        .map(|(w, _)| *w)
        .min()
}

/// The French lesson of the section, for the demonstration and the report.
pub const LESSON: &str = "COST (McSherry, Isard et Murray, « Scalability! But at what COST? », \
HotOS 2015) : le nombre de cœurs dont un système parallèle ou distribué a besoin pour battre \
UN SEUL thread d'un bon programme séquentiel sur la même entrée. Une courbe d'accélération \
mesurée contre le système lui-même sur un cœur ne dit rien de cela : un système lent \
« passe bien à l'échelle ». Pour plusieurs systèmes publiés, le COST était de plusieurs \
centaines de cœurs, ou « non atteint ». Distribuer ne paie que lorsque les données ou le \
travail ne tiennent pas sur une machine : sinon, lancement des processus, connexions et \
échange coûtent plus que ce que les cœurs ajoutés rapportent.";

/// One measurement of the lab: one thread of `optimise`, and `optimise` on each
/// number of threads, each the median of several runs, with their spreads.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadCost {
    /// Median time of one thread, in seconds.
    pub single_thread: f64,
    /// `(threads, median seconds)` for each thread count measured.
    pub configs: Vec<(usize, f64)>,
    /// The largest relative spread `(max - min) / median` of the series measured.
    pub spread: f64,
    /// Cores this process may use.
    pub cores: usize,
}

impl ThreadCost {
    /// Whether these timings can decide a COST: every series within 20 % spread,
    /// and at least 2 usable cores for the configurations of 2 threads or more.
    pub fn reliable(&self) -> bool {
        self.spread <= 0.20 && self.cores >= 2
    }
}

/// Times W7 `optimise` on `corpus`: one thread, then each count of `threads`, each
/// `runs` times after a warm-up, interleaved (one run of each in turn) so that the
/// load of a shared machine hits them all alike.
pub fn measure_threads(corpus: &Path, threads: &[usize], runs: usize) -> crate::Result<ThreadCost> {
    use crate::workloads::fast::wordcount::optimise;
    let counts: Vec<usize> = std::iter::once(1).chain(threads.iter().copied()).collect();
    for &w in &counts {
        std::hint::black_box(optimise(corpus, w)?);
    }
    let mut times = vec![Vec::new(); counts.len()];
    for _ in 0..runs.max(1) {
        for (i, &w) in counts.iter().enumerate() {
            let t = std::time::Instant::now();
            std::hint::black_box(optimise(corpus, w)?);
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    let spread = times
        .iter()
        .map(|t| super::relative_spread(t))
        .fold(0.0, f64::max);
    Ok(ThreadCost {
        single_thread: super::median(&times[0]),
        configs: counts[1..]
            .iter()
            .zip(&times[1..])
            .map(|(&w, t)| (w, super::median(t)))
            .collect(),
        spread,
        cores: crate::machine::usable_cpus(),
    })
}

/// The verdict of question 7.7: the answer's correctness, then what it says of
/// this machine's measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct CostVerdict {
    /// Correctness of the student's function on the fixed and drawn cases.
    pub verdict: Verdict,
    /// The measurement of this machine, when the function is right.
    pub measured: Option<ThreadCost>,
    /// The student's COST on that measurement.
    pub student_cost: Option<usize>,
}

impl CostVerdict {
    /// Whether the function is right (the measurement may still be undecided).
    pub fn answer_right(&self) -> bool {
        self.verdict.passed()
    }

    /// Whether the measurement of this machine decides the COST.
    pub fn decided(&self) -> bool {
        self.measured.as_ref().is_some_and(ThreadCost::reliable)
    }

    /// Prints the verdict (for a notebook cell) and returns it.
    pub fn show(self) -> CostVerdict {
        println!("{self}");
        self
    }
}

impl fmt::Display for CostVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(m) = &self.measured else {
            return write!(f, "{}", self.verdict);
        };
        let found = match self.student_cost {
            Some(n) => format!("COST = {}", crate::fr::count(n as u64, "thread", "threads")),
            None => "COST non atteint".to_string(),
        };
        let table: Vec<String> = m
            .configs
            .iter()
            .map(|(w, t)| format!("{w} threads : {}", crate::fr::seconds(*t)))
            .collect();
        let figures = format!(
            "1 thread : {} ; {} → {found}",
            crate::fr::seconds(m.single_thread),
            table.join(" ; ")
        );
        if m.reliable() {
            write!(
                f,
                "✅ Question {} : réussie ({}). Mesuré sur cette machine (W7 optimise) : {figures}.",
                self.verdict.question,
                crate::fr::count(self.verdict.cases_passed as u64, "cas vérifié", "cas vérifiés")
            )
        } else {
            // The answer (the function) is decided on drawn cases; only the
            // demonstration on this machine is not: the note says so beside the ✅.
            write!(
                f,
                "✅ Question {} : réussie ({}).\n⚠ Mesure peu fiable : la mesure de cette \
                 machine ne permet pas de conclure (dispersion {} des temps, {} : {figures}). \
                 Relancez la cellule quand la machine est moins chargée pour voir son COST.",
                self.verdict.question,
                crate::fr::count(
                    self.verdict.cases_passed as u64,
                    "cas vérifié",
                    "cas vérifiés"
                ),
                crate::fr::percent(m.spread, 0),
                crate::fr::count(m.cores as u64, "cœur utilisable", "cœurs utilisables"),
            )
        }
    }
}

/// One case of question 7.7: the time of one thread, the configurations.
type Case = (f64, Vec<(usize, f64)>);

/// The cases of question 7.7: fixed edge cases, then `drawn` random ones from
/// `seed` (the checker draws its seed from the clock: a constant cannot pass).
fn cases(seed: u64, drawn: usize) -> Vec<(String, Case)> {
    let mut cases: Vec<(String, Case)> = vec![
        ("aucune configuration".into(), (1.0, vec![])),
        (
            "aucune ne bat le thread unique".into(),
            (0.07, vec![(1, 0.5), (2, 0.4), (4, 0.3)]),
        ),
        (
            "la première bat déjà".into(),
            (0.5, vec![(1, 0.4), (2, 0.2)]),
        ),
        (
            "égalité : ne bat pas".into(),
            (0.3, vec![(2, 0.3), (8, 0.1)]),
        ),
        (
            "dans le désordre".into(),
            (1.0, vec![(16, 0.2), (4, 0.9), (8, 0.5), (2, 1.5)]),
        ),
        (
            "plus de travailleurs plus lents".into(),
            (1.0, vec![(2, 0.8), (64, 3.0), (128, 5.0)]),
        ),
    ];
    // A number in 0..n, from the checks' generator.
    let mut draw = crate::verif::work::Draw::from_seed(seed);
    let mut next = move |n: u64| draw.range(0, n - 1);
    for i in 0..drawn {
        let single = (1 + next(1000)) as f64 * 1e-3;
        let configs = (0..next(7))
            .map(|_| {
                let w = 1 + next(256) as usize;
                (w, (1 + next(2000)) as f64 * 1e-3)
            })
            .collect();
        cases.push((format!("cas tiré n° {}", i + 1), (single, configs)));
    }
    cases
}

/// Question 7.7: `student(single_thread, configs)` must return the COST of the
/// configurations `(workers, seconds)` against one thread of `single_thread`
/// seconds (the smallest number of workers strictly faster; `None` if none). The
/// cases are drawn at check time; then, if the function is right, it is applied to
/// a measurement of this machine (`corpus`: a W7 text file), shown with a
/// « ⚠ Mesure peu fiable » note when the timings are too scattered to decide.
pub fn q7_cost(
    student: impl Fn(f64, &[(usize, f64)]) -> Option<usize>,
    corpus: &Path,
) -> CostVerdict {
    check_with_seed(student, corpus, crate::verif::work::draw_seed())
}

/// [`q7_cost`] with a given seed (the tests).
fn check_with_seed(
    student: impl Fn(f64, &[(usize, f64)]) -> Option<usize>,
    corpus: &Path,
    seed: u64,
) -> CostVerdict {
    let verdict = check_cases(
        "7.7 COST",
        "relisez la définition : seules les configurations qui BATTENT le thread unique \
         comptent (une égalité ne le bat pas), et le COST est la plus petite d'entre elles \
         en travailleurs ; sans aucune, c'est « non atteint ». La documentation \
         d'`Iterator` a de quoi garder certains éléments et prendre le plus petit",
        cases(seed, 200),
        |(single, configs)| cost(*single, configs),
        |(single, configs)| student(*single, configs),
        |a, b| a == b,
    );
    if !verdict.passed() {
        return CostVerdict {
            verdict,
            measured: None,
            student_cost: None,
        };
    }
    let threads = [2, crate::machine::usable_cpus().max(2)];
    let threads: &[usize] = if threads[0] == threads[1] {
        &threads[..1]
    } else {
        &threads
    };
    match measure_threads(corpus, threads, 5) {
        Ok(m) => CostVerdict {
            student_cost: student(m.single_thread, &m.configs),
            measured: Some(m),
            verdict,
        },
        Err(e) => CostVerdict {
            verdict: Verdict::failed(
                &verdict.question,
                verdict.cases_passed,
                "mesure de cette machine",
                format!("le corpus {} lisible", corpus.display()),
                e.to_string(),
                "générez les données (`tp4 donnees`) ou donnez le chemin d'un corpus.txt",
            ),
            measured: None,
            student_cost: None,
        },
    }
}

/// Part 8 of the demonstration (`tp4 exercice 7`): the lesson, then one thread of
/// W7 `optimise` against 2 to `workers` threads on the lab's corpus, the ratios, the
/// COST, and where the cluster's own COST is measured.
pub(crate) fn demo_step(
    ctx: &crate::context::Context,
    section: &mut crate::output::Section,
    workers: usize,
) -> crate::Result<()> {
    use crate::fr;
    let corpus = crate::data::corpus_path(&ctx.data)?;
    let threads: Vec<usize> = (2..=workers.max(2)).collect();
    let m = measure_threads(&corpus, &threads, 5)?;
    section.say("### 8. Le COST : battre un seul thread");
    section.say(LESSON);
    let mut rows = vec![vec![
        "1 thread (référence)".to_string(),
        fr::seconds(m.single_thread),
        fr::ratio(1.0),
    ]];
    rows.extend(m.configs.iter().map(|(w, t)| {
        vec![
            format!("{w} threads"),
            fr::seconds(*t),
            fr::ratio(t / m.single_thread),
        ]
    }));
    section.table(
        "W7 optimise sur corpus.txt (médiane de 5, mesures entrelacées)",
        &["configuration", "temps", "÷ 1 thread"],
        1,
        rows,
    );
    let verdict = match cost(m.single_thread, &m.configs) {
        Some(n) => format!("COST des threads sur cette machine : {n}."),
        None => "COST des threads : non atteint sur cette machine.".to_string(),
    };
    section.say(if m.reliable() {
        verdict
    } else {
        format!(
            "{verdict} ⚠ Mesure peu fiable (dispersion {}, {}) : relancez sur une machine \
             moins chargée.",
            fr::percent(m.spread, 0),
            fr::count(m.cores as u64, "cœur utilisable", "cœurs utilisables")
        )
    });
    section.say(
        "Le même calcul sur plusieurs processus : `tp4 cluster mesure` donne le temps d'un \
         thread d'optimise, le rapport de chaque configuration du cluster à ce temps, et le \
         COST du cluster (docs/cluster.md, section « Le COST »).",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verif::Status;

    fn corpus() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        crate::data::corpus::generate(&path, 1, |_| {}).unwrap();
        (dir, path)
    }

    #[test]
    fn demo_step_prints_the_table_and_the_cost() {
        let (dir, _path) = corpus();
        let ctx = crate::context::Context::quiet(dir.path(), &dir.path().join("sortie"));
        let mut section = crate::output::Section::new("ex7");
        demo_step(&ctx, &mut section, 2).unwrap();
        let md = &section.markdown;
        assert!(
            md.contains("### 8. Le COST") && md.contains("HotOS 2015"),
            "{md}"
        );
        assert!(md.contains("2 threads") && md.contains("COST"), "{md}");
    }

    #[test]
    fn reference_cost() {
        assert_eq!(cost(1.0, &[]), None);
        assert_eq!(cost(0.3, &[(2, 0.3), (8, 0.1)]), Some(8));
        assert_eq!(cost(1.0, &[(16, 0.2), (4, 0.9), (2, 1.5)]), Some(4));
    }

    #[test]
    fn right_answer_passes_and_constants_fail_on_drawn_cases() {
        let (_dir, path) = corpus();
        let right = |s: f64, c: &[(usize, f64)]| c.iter().filter(|x| x.1 < s).map(|x| x.0).min();
        let v = check_with_seed(right, &path, 42);
        assert!(v.answer_right(), "{v}");
        let m = v.measured.as_ref().unwrap();
        assert_eq!(v.student_cost, cost(m.single_thread, &m.configs));
        let text = v.to_string();
        assert!(text.starts_with('✅'), "{text}");
        assert_eq!(text.contains("⚠ Mesure peu fiable"), !v.decided(), "{text}");
        // Constants and near-misses fail, whatever the seed.
        for seed in [1, 7, 123_456_789] {
            for wrong in [
                &(|_: f64, _: &[(usize, f64)]| None)
                    as &dyn Fn(f64, &[(usize, f64)]) -> Option<usize>,
                &|_, _| Some(2),
                &|s, c| c.iter().filter(|x| x.1 <= s).map(|x| x.0).min(),
                &|s, c| c.iter().find(|x| x.1 < s).map(|x| x.0),
            ] {
                let v = check_with_seed(wrong, &path, seed);
                assert!(!v.answer_right() && v.to_string().starts_with('❌'), "{v}");
            }
        }
    }

    #[test]
    fn scattered_timings_carry_a_warning_note() {
        let verdict = Verdict::new("7.7 COST", 206, Status::Passed);
        let measured = ThreadCost {
            single_thread: 0.07,
            configs: vec![(2, 0.04)],
            spread: 0.6,
            cores: 2,
        };
        let v = CostVerdict {
            verdict: verdict.clone(),
            measured: Some(measured.clone()),
            student_cost: Some(2),
        };
        assert!(v.answer_right() && !v.decided());
        let text = v.to_string();
        assert!(
            text.starts_with('✅') && text.contains("⚠ Mesure peu fiable") && text.contains("60 %"),
            "{text}"
        );
        let v = CostVerdict {
            measured: Some(ThreadCost {
                spread: 0.05,
                ..measured.clone()
            }),
            ..v
        };
        assert!(v.decided() && v.to_string().starts_with('✅'), "{v}");
        let one_core = ThreadCost {
            spread: 0.05,
            cores: 1,
            ..measured
        };
        assert!(!one_core.reliable());
    }
}
