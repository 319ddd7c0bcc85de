//! Measuring the cluster: 1, 2, 3 processes × 1, 2 threads per process, each run
//! several times through the launcher; wall time (median), bytes exchanged, speedup
//! against the single process with one thread; a table, a CSV and a plot.
//!
//! The wall time is what a user waits for: starting the processes, connecting
//! them, reading, shuffling, reducing, gathering, writing. On a machine with few
//! cores the workers of all processes share the same cores, and the conclusion
//! printed with the table says so.
//!
//! Beside them, the COST of the cluster (McSherry, Isard and Murray, *Scalability!
//! But at what COST?*, HotOS 2015): the same file counted by ONE thread of the lab's
//! best single-machine kernel (`optimise` with one worker), each configuration's
//! time divided by that one, and the smallest number of workers (processes ×
//! threads) that beats it, or "non atteint".
//!
//! (Called `benchmark`, not `measure`, so that it is not mistaken for `tp4::measure`,
//! whose median it uses.)

use crate::jobs::Job;
use crate::launcher::LaunchReport;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tp4::fr;
use tp4::measure::median;
use tp4::output::Section;
use tp4::plot::{LineChart, Series};
use tp4::{Error, Result};

/// The configurations measured: (processes, threads per process).
pub const CONFIGURATIONS: [(usize, usize); 6] = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)];

/// The columns of the French table (terminal and report).
const HEADERS: [&str; 11] = [
    "processus",
    "threads",
    "travailleurs",
    "temps mur (médiane)",
    "min – max",
    "processus 0",
    "paires échangées",
    "données échangées",
    "octets réseau",
    "accélération",
    "÷ 1 thread optimise",
];

/// One measured configuration (a CSV row of `cluster_mesures_<calcul>.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Number of processes.
    pub processus: usize,
    /// Threads per process.
    pub threads: usize,
    /// Median wall time of the whole run, in seconds.
    pub secondes: f64,
    /// Fastest run.
    pub min: f64,
    /// Slowest run.
    pub max: f64,
    /// Median time of process 0 inside the run (connections + dataflow).
    pub secondes_processus0: f64,
    /// Pairs that went to another process.
    pub paires_distantes: u64,
    /// Their serialised size (our counter on the exchange).
    pub octets_donnees: u64,
    /// Bytes timely wrote on all sockets (data + progress messages + headers).
    pub octets_reseau: u64,
    /// Wall-time speedup against 1 process × 1 thread.
    pub acceleration: f64,
    /// Workers of the configuration (processes × threads).
    pub travailleurs: usize,
    /// The wall time divided by the time of one thread of `optimise` on the same
    /// file (below 1: the configuration beats one good thread).
    pub rapport_1_thread: f64,
}

/// One thread of the lab's best single-machine kernel on the same file: the yardstick
/// of the COST.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SingleThread {
    /// Median time of `optimise` with one worker, in seconds.
    pub seconds: f64,
    /// Runs measured.
    pub runs: usize,
}

/// Times one thread of `optimise` (W7 or W4) on `path`: one warm-up run, then
/// `runs` runs; returns every time, in seconds.
pub fn time_single_thread(job: Job, path: &Path, runs: usize) -> Result<Vec<f64>> {
    let once = || -> Result<f64> {
        let t = Instant::now();
        match job {
            Job::WordCount => {
                std::hint::black_box(tp4::workloads::fast::wordcount::optimise(path, 1)?);
            }
            Job::GroupBy => {
                std::hint::black_box(tp4::workloads::fast::groupby::optimise(path, 1)?);
            }
        }
        Ok(t.elapsed().as_secs_f64())
    };
    once()?;
    (0..runs.max(1)).map(|_| once()).collect()
}

/// The COST: the smallest number of workers whose median wall time beats one
/// thread, or `None` ("non atteint").
pub fn cost(points: &[Point]) -> Option<usize> {
    points
        .iter()
        .filter(|p| p.rapport_1_thread < 1.0)
        .map(|p| p.travailleurs)
        .min()
}

/// What must be equal between two runs: total, distinct keys, top list.
type Fingerprint = (u64, u64, Vec<(String, i64)>);

/// Measures every configuration of [`CONFIGURATIONS`] `repetitions` times with
/// `launch_one(processes, threads)`, checks that every run gives the same answer,
/// prints the French table and conclusion, writes the CSV and the plot into
/// `output`, and returns the section of the report.
pub fn run(
    job: Job,
    input: &Path,
    repetitions: usize,
    output: &Path,
    launch_one: impl FnMut(usize, usize) -> Result<LaunchReport>,
) -> Result<Section> {
    // One thread of `optimise`, measured before and after the configurations (the
    // load of a shared machine drifts): the median of both batches.
    let runs = repetitions.clamp(3, 15);
    eprintln!("Mesure : un seul thread d'optimise, {runs} fois avant et après…");
    let mut singles = time_single_thread(job, input, runs)?;
    let mut points = measure_all(job, repetitions.max(1), launch_one)?;
    singles.extend(time_single_thread(job, input, runs)?);
    let single = SingleThread {
        seconds: median(&singles),
        runs: singles.len(),
    };
    for p in &mut points {
        p.rapport_1_thread = p.secondes / single.seconds;
    }
    let rows = table_rows(&points);
    let conclusion = conclusion(&points, tp4::machine::usable_cpus(), Some(single));
    let title = format!("tp4 cluster {} : mesures", job.name());
    println!("── {title} ──");
    println!("{}", tp4::output::table(&HEADERS, 2, rows.clone()));
    println!("{conclusion}");

    let mut section = Section::new(title);
    let csv = output.join(format!("cluster_mesures_{}.csv", job.name()));
    tp4::output::write_csv(&csv, &points)?;
    section.file(csv);
    for f in plot(job, &points, output)? {
        section.file(f);
    }
    section.text(tp4::output::markdown_table(&HEADERS, 0, &rows));
    section.text(&conclusion);
    Ok(section)
}

/// Runs every configuration `repetitions` times; fails if a run finds another
/// answer than the first one. The speedups are against the first configuration.
fn measure_all(
    job: Job,
    repetitions: usize,
    mut launch_one: impl FnMut(usize, usize) -> Result<LaunchReport>,
) -> Result<Vec<Point>> {
    let mut points: Vec<Point> = Vec::new();
    let mut first_answer: Option<Fingerprint> = None;
    for (processes, threads) in CONFIGURATIONS {
        eprintln!(
            "Mesure : {processes} processus × {}, {repetitions} fois…",
            tp4::fr::count(threads as u64, "thread", "threads")
        );
        let mut reports = Vec::with_capacity(repetitions);
        for _ in 0..repetitions {
            let r = launch_one(processes, threads)?;
            let answer = (r.summary.total, r.summary.distinct, r.summary.top.clone());
            match &first_answer {
                None => first_answer = Some(answer),
                Some(a) if *a != answer => {
                    return Err(Error::WrongAnswer {
                        what: format!("{} sur {processes} processus × {threads}", job.name()),
                        expected: format!("{a:?}"),
                        got: format!("{answer:?}"),
                    })
                }
                Some(_) => {}
            }
            reports.push(r);
        }
        points.push(point(processes, threads, &reports));
    }
    let base = points[0].secondes;
    for p in &mut points {
        p.acceleration = base / p.secondes;
    }
    Ok(points)
}

/// The point of one configuration from its runs (speedup not yet known).
fn point(processes: usize, threads: usize, reports: &[LaunchReport]) -> Point {
    let walls: Vec<f64> = reports.iter().map(LaunchReport::run_seconds).collect();
    let inside: Vec<f64> = reports.iter().map(|r| r.summary.seconds).collect();
    let last = reports.last().expect("at least one repetition");
    Point {
        processus: processes,
        threads,
        secondes: median(&walls),
        min: walls.iter().copied().fold(f64::INFINITY, f64::min),
        max: walls.iter().copied().fold(0.0, f64::max),
        secondes_processus0: median(&inside),
        paires_distantes: last.summary.remote_pairs,
        octets_donnees: last.summary.remote_bytes,
        octets_reseau: last.wire_bytes,
        acceleration: f64::NAN,
        travailleurs: processes * threads,
        rapport_1_thread: f64::NAN,
    }
}

/// The rows of the French table, one per configuration.
fn table_rows(points: &[Point]) -> Vec<Vec<String>> {
    points
        .iter()
        .map(|p| {
            vec![
                p.processus.to_string(),
                p.threads.to_string(),
                p.travailleurs.to_string(),
                fr::seconds(p.secondes),
                format!("{} – {}", fr::seconds(p.min), fr::seconds(p.max)),
                fr::seconds(p.secondes_processus0),
                p.paires_distantes.to_string(),
                fr::bytes(p.octets_donnees),
                fr::bytes(p.octets_reseau),
                fr::ratio(p.acceleration),
                fr::ratio(p.rapport_1_thread),
            ]
        })
        .collect()
}

/// The speedup plot, one curve per thread count, with the machine's ceiling;
/// returns the files written (PNG and SVG).
fn plot(job: Job, points: &[Point], output: &Path) -> Result<Vec<PathBuf>> {
    let cores = tp4::machine::usable_cpus() as f64;
    let mut series: Vec<Series> = [1usize, 2]
        .iter()
        .map(|&t| {
            Series::measured(
                format!(
                    "{} par processus",
                    tp4::fr::count(t as u64, "thread", "threads")
                ),
                points
                    .iter()
                    .filter(|p| p.threads == t)
                    .map(|p| (p.processus as f64, p.acceleration))
                    .collect(),
            )
        })
        .collect();
    series.push(Series::model(
        format!("plafond de la machine ({cores} cœurs)"),
        vec![(1.0, cores), (3.0, cores)],
    ));
    let chart = LineChart {
        title: format!(
            "tp4 cluster {} : accélération selon le nombre de processus",
            job.name()
        ),
        x_label: "nombre de processus".into(),
        y_label: "accélération (référence : 1 processus × 1 thread)".into(),
        series,
        log_x: false,
    };
    chart.save(output, &format!("cluster_acceleration_{}", job.name()))
}

/// The teacher's reading of the measurements, in French: the best configuration
/// (flagged when its speedup exceeds the usable cores: a measurement disturbed by
/// the load), the COST against one thread of `optimise` when it was measured, and
/// why the machine limits the speedup.
pub fn conclusion(points: &[Point], cores: usize, single: Option<SingleThread>) -> String {
    let best = points
        .iter()
        .max_by(|a, b| a.acceleration.total_cmp(&b.acceleration));
    let mut s = String::new();
    if let Some(b) = best {
        s.push_str(&format!(
            "Meilleure configuration : {} processus × {}, accélération {}",
            b.processus,
            fr::count(b.threads as u64, "thread", "threads"),
            fr::ratio(b.acceleration)
        ));
        if b.acceleration > cores as f64 {
            s.push_str(&format!(
                " — plus que les {} : mesure peu fiable (la machine était chargée pendant \
                 la configuration de référence), relancez avec plus de --repetitions",
                fr::count(cores as u64, "cœur utilisable", "cœurs utilisables")
            ));
        }
        s.push_str(".\n");
    }
    if let Some(one) = single {
        s.push_str(&format!(
            "Un seul thread du meilleur noyau du TP (optimise, 1 worker, même fichier, \
             médiane de {} mesures) : {}. ",
            one.runs,
            fr::seconds(one.seconds)
        ));
        match cost(points) {
            Some(n) => s.push_str(&format!(
                "COST = {} : c'est le plus petit nombre de travailleurs (processus × \
                 threads) dont le calcul distribué bat ce thread unique.\n",
                n
            )),
            None => s.push_str(
                "COST : non atteint — aucune configuration du cluster ne bat ce thread unique \
                 sur cette machine (lancement, connexions et échange coûtent plus que le \
                 travail partagé).\n",
            ),
        }
    }
    s.push_str(&format!(
        "Cette machine n'a que {} : {} au total \
         (processus × threads) l'occupent déjà entièrement. Au-delà, les travailleurs de tous \
         les processus se partagent les mêmes cœurs : plus de {cores} processus ne peuvent pas \
         aller plus vite ici, et chaque processus en plus ajoute son démarrage, ses connexions \
         TCP et sa part d'échange. Un cluster accélère parce que chaque machine ajoutée apporte \
         ses propres cœurs (voir docs/cluster.md pour lancer sur plusieurs machines).\n",
        fr::count(cores as u64, "cœur utilisable", "cœurs utilisables"),
        fr::count(cores as u64, "travailleur", "travailleurs"),
    ));
    if best.is_some_and(|b| b.acceleration < 1.2) {
        s.push_str(
            "Ici, le calcul lui-même est trop court : le lancement des processus et l'échange \
             coûtent autant que le travail partagé. Essayez un corpus plus gros : \
             `tp4 --data /tmp/gros donnees --mo 500` puis `tp4 --data /tmp/gros cluster mesure`.\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(processus: usize, threads: usize, acceleration: f64) -> Point {
        Point {
            processus,
            threads,
            secondes: 1.0 / acceleration,
            min: 0.0,
            max: 0.0,
            secondes_processus0: 0.0,
            paires_distantes: 0,
            octets_donnees: 0,
            octets_reseau: 0,
            acceleration,
            travailleurs: processus * threads,
            rapport_1_thread: 0.5 / acceleration,
        }
    }

    #[test]
    fn conclusion_names_the_cores_and_the_best() {
        let pts = vec![point(1, 1, 1.0), point(2, 1, 1.8), point(3, 1, 1.6)];
        let c = conclusion(&pts, 2, None);
        assert!(
            c.contains("2 processus × 1 thread, accélération 1,80"),
            "{c}"
        );
        assert!(
            c.contains("plus de 2 processus ne peuvent pas aller plus vite"),
            "{c}"
        );
        assert!(!c.contains("trop court"));
        let c = conclusion(&[point(1, 1, 1.0), point(2, 1, 0.5)], 2, None);
        assert!(c.contains("trop court"), "{c}");
        assert!(!c.contains("COST") && !c.contains("peu fiable"), "{c}");
    }

    #[test]
    fn cost_is_the_fewest_workers_that_beat_one_thread() {
        let single = SingleThread {
            seconds: 0.1,
            runs: 6,
        };
        let with = |ratios: [f64; 3]| {
            let mut pts = vec![point(1, 1, 1.0), point(2, 1, 1.5), point(2, 2, 1.9)];
            for (p, r) in pts.iter_mut().zip(ratios) {
                p.rapport_1_thread = r;
            }
            pts
        };
        let pts = with([1.4, 0.9, 0.6]);
        assert_eq!(cost(&pts), Some(2));
        let c = conclusion(&pts, 2, Some(single));
        assert!(c.contains("COST = 2") && c.contains("100,0 ms"), "{c}");
        let pts = with([3.0, 1.2, 1.1]);
        assert_eq!(cost(&pts), None);
        assert!(conclusion(&pts, 2, Some(single)).contains("COST : non atteint"));
        // A speedup above the usable cores is flagged, not celebrated.
        let pts = vec![point(1, 1, 1.0), point(3, 1, 3.3)];
        let c = conclusion(&pts, 2, Some(single));
        assert!(
            c.contains("accélération 3,30 — plus que les 2 cœurs utilisables : mesure peu fiable"),
            "{c}"
        );
        assert!(!conclusion(&pts, 4, None).contains("peu fiable"));
    }

    fn report(processes: usize, threads: usize, total: u64) -> LaunchReport {
        LaunchReport {
            wall_seconds: 0.1 / (processes * threads) as f64,
            summary: crate::protocol::RunSummary {
                job: "wordcount".into(),
                processes,
                threads,
                seconds: 0.05,
                total,
                distinct: 3,
                top: vec![("a".into(), 2)],
                pairs: 10,
                remote_pairs: 4 * (processes as u64 - 1),
                remote_bytes: 100 * (processes as u64 - 1),
                wire_bytes_process0: 0,
                verified: None,
                verification_seconds: None,
                phases: Vec::new(),
            },
            wire_bytes: 150 * (processes as u64 - 1),
            pids: vec![],
        }
    }

    #[test]
    fn run_writes_csv_and_plot_and_checks_answers() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = Vec::new();
        let corpus = dir.path().join("corpus.txt");
        std::fs::write(&corpus, "b a c\na b\n").unwrap();
        let section = run(Job::WordCount, &corpus, 2, dir.path(), |p, t| {
            calls.push((p, t));
            Ok(report(p, t, 6))
        })
        .unwrap();
        assert_eq!(calls.len(), 12);
        let csv =
            std::fs::read_to_string(dir.path().join("cluster_mesures_wordcount.csv")).unwrap();
        assert_eq!(csv.lines().count(), 7, "{csv}");
        assert!(
            csv.lines().nth(4).unwrap().starts_with("2,2,0.025,"),
            "{csv}"
        );
        for ext in ["png", "svg"] {
            assert!(dir
                .path()
                .join(format!("cluster_acceleration_wordcount.{ext}"))
                .exists());
        }
        assert!(section.markdown.contains("ne peuvent pas aller plus vite"));
        // A configuration that finds another answer stops the measurement.
        let err = run(Job::WordCount, &corpus, 1, dir.path(), |p, t| {
            Ok(report(p, t, p as u64))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("réponse fausse"), "{err}");
    }
}
