//! Measuring the cluster: 1, 2, 3 processes × 1, 2 threads per process, each run
//! several times through the launcher; wall time (median), bytes exchanged, speedup
//! against the single process with one thread; a table, a CSV and a plot.
//!
//! The wall time is what a user waits for: starting the processes, connecting
//! them, reading, shuffling, reducing, gathering, writing. On a machine with few
//! cores the workers of all processes share the same cores, and the conclusion
//! printed with the table says so.
//!
//! (Called `benchmark`, not `measure`, so that it is not mistaken for `tp4::measure`,
//! whose median it uses.)

use crate::jobs::Job;
use crate::launcher::LaunchReport;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tp4::fr;
use tp4::measure::median;
use tp4::output::Section;
use tp4::plot::{LineChart, Series};
use tp4::{Error, Result};

/// The configurations measured: (processes, threads per process).
pub const CONFIGURATIONS: [(usize, usize); 6] = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)];

/// The columns of the French table (terminal and report).
const HEADERS: [&str; 9] = [
    "processus",
    "threads",
    "temps mur (médiane)",
    "min – max",
    "processus 0",
    "paires échangées",
    "données échangées",
    "octets réseau",
    "accélération",
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
}

/// What must be equal between two runs: total, distinct keys, top list.
type Fingerprint = (u64, u64, Vec<(String, i64)>);

/// Measures every configuration of [`CONFIGURATIONS`] `repetitions` times with
/// `launch_one(processes, threads)`, checks that every run gives the same answer,
/// prints the French table and conclusion, writes the CSV and the plot into
/// `output`, and returns the section of the report.
pub fn run(
    job: Job,
    repetitions: usize,
    output: &Path,
    launch_one: impl FnMut(usize, usize) -> Result<LaunchReport>,
) -> Result<Section> {
    let points = measure_all(job, repetitions.max(1), launch_one)?;
    let rows = table_rows(&points);
    let conclusion = conclusion(&points, tp4::machine::usable_cpus());
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
    let walls: Vec<f64> = reports.iter().map(|r| r.wall_seconds).collect();
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
                fr::seconds(p.secondes),
                format!("{} – {}", fr::seconds(p.min), fr::seconds(p.max)),
                fr::seconds(p.secondes_processus0),
                p.paires_distantes.to_string(),
                fr::bytes(p.octets_donnees),
                fr::bytes(p.octets_reseau),
                fr::ratio(p.acceleration),
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

/// The teacher's reading of the measurements, in French.
pub fn conclusion(points: &[Point], cores: usize) -> String {
    let best = points
        .iter()
        .max_by(|a, b| a.acceleration.total_cmp(&b.acceleration));
    let mut s = String::new();
    if let Some(b) = best {
        s.push_str(&format!(
            "Meilleure configuration : {} processus × {}, accélération {}.\n",
            b.processus,
            fr::count(b.threads as u64, "thread", "threads"),
            fr::ratio(b.acceleration)
        ));
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
             `tp4 --data /tmp/gros donnees --mo 50` puis `tp4 --data /tmp/gros cluster mesure`.\n",
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
        }
    }

    #[test]
    fn conclusion_names_the_cores_and_the_best() {
        let pts = vec![point(1, 1, 1.0), point(2, 1, 1.8), point(3, 1, 1.6)];
        let c = conclusion(&pts, 2);
        assert!(
            c.contains("2 processus × 1 thread, accélération 1,80"),
            "{c}"
        );
        assert!(
            c.contains("plus de 2 processus ne peuvent pas aller plus vite"),
            "{c}"
        );
        assert!(!c.contains("trop court"));
        let c = conclusion(&[point(1, 1, 1.0), point(2, 1, 0.5)], 2);
        assert!(c.contains("trop court"), "{c}");
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
            },
            wire_bytes: 150 * (processes as u64 - 1),
            pids: vec![],
        }
    }

    #[test]
    fn run_writes_csv_and_plot_and_checks_answers() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = Vec::new();
        let section = run(Job::WordCount, 2, dir.path(), |p, t| {
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
        let err = run(Job::WordCount, 1, dir.path(), |p, t| {
            Ok(report(p, t, p as u64))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("réponse fausse"), "{err}");
    }
}
