//! Turning measurements into what a student reads: speedup and efficiency against
//! the sequential baseline, French tables (terminal and Markdown), and the speedup
//! plot. Shared by the default run of the lab and by `tp4 bench`.

use crate::alloc::human_bytes;
use crate::error::Result;
use crate::measure::{human_ratio, human_seconds, Measurement};
use crate::plot::{LineChart, Series};
use std::path::{Path, PathBuf};

/// The baseline time of a workload: its `seq` run (the first strategy measured if
/// there is none, as for W5 which always has two threads). All sizes together: use
/// [`gains`] for the lab's rule, which compares within one size.
pub fn baseline(all: &[Measurement], workload: &str) -> Option<f64> {
    let same = || all.iter().filter(move |m| m.workload == workload);
    same()
        .find(|m| m.strategy == "seq")
        .or_else(|| same().next())
        .map(|m| m.seconds)
}

/// Speedup and efficiency of one measurement, by the lab's one rule (see [`gains`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gains {
    /// Baseline time / time; `None` without a baseline.
    pub speedup: Option<f64>,
    /// Speedup / workers; `None` for a sequential strategy, for W5 (whose two
    /// threads are not "workers" sharing a divisible problem) and without a baseline.
    pub efficiency: Option<f64>,
}

/// The lab's one rule for speedup and efficiency, used by every table, CSV file and
/// plot: a measurement is compared with the `seq` measurement of the same workload
/// and the same size; W5 (`ipc`), which has no sequential version, is compared with
/// its first strategy measured at that size. A group without a baseline (W6 at
/// T = 100 000, measured without `seq`) shows no speedup.
pub fn gains(all: &[Measurement], m: &Measurement) -> Gains {
    let group = || {
        all.iter()
            .filter(move |o| o.workload == m.workload && o.size == m.size)
    };
    let base = group()
        .find(|o| o.strategy == "seq")
        .or_else(|| {
            if m.workload == "ipc" {
                group().next()
            } else {
                None
            }
        })
        .map(|o| o.seconds);
    let speedup = base.filter(|_| m.seconds > 0.0).map(|b| b / m.seconds);
    let divisible = !crate::run::is_sequential(&m.strategy) && m.workload != "ipc";
    Gains {
        speedup,
        efficiency: speedup.filter(|_| divisible).map(|s| s / m.workers as f64),
    }
}

/// Headers of the results table.
pub const HEADERS: [&str; 10] = [
    "charge",
    "stratégie",
    "workers",
    "taille",
    "médiane",
    "min – max",
    "accélération",
    "efficacité",
    "tas max",
    "réponse",
];

/// One table row per measurement, with speedup and efficiency against the baseline.
pub fn rows(all: &[Measurement]) -> Vec<Vec<String>> {
    all.iter()
        .map(|m| {
            let g = gains(all, m);
            let speedup = g.speedup.map_or("—".into(), human_ratio);
            let efficiency = g
                .efficiency
                .map_or("—".into(), |e| format!("{:.0} %", 100.0 * e));
            vec![
                m.workload.clone(),
                m.strategy.clone(),
                m.workers.to_string(),
                m.size.to_string(),
                human_seconds(m.seconds),
                format!("{} – {}", human_seconds(m.min), human_seconds(m.max)),
                speedup,
                efficiency,
                m.peak_heap_bytes.map_or("—".into(), human_bytes),
                if m.ok {
                    "✓ juste".into()
                } else {
                    "✗ FAUSSE".into()
                },
            ]
        })
        .collect()
}

/// The table for the terminal.
pub fn terminal_table(all: &[Measurement]) -> String {
    crate::output::table(&HEADERS, 2, rows(all))
}

/// The table for `rapport.md`.
pub fn markdown_table(all: &[Measurement]) -> String {
    crate::output::markdown_table(&HEADERS, 2, &rows(all))
}

/// Speedup against workers for one strategy of several workloads, with the ideal
/// line y = x, written as `stem.png` and `stem.svg` in `dir`.
pub fn speedup_plot(
    all: &[Measurement],
    strategy: &str,
    workloads: &[&str],
    title: &str,
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    let mut series = Vec::new();
    let mut max_workers = 1;
    for &w in workloads {
        let mut points: Vec<(f64, f64)> = all
            .iter()
            .filter(|m| m.workload == w && m.strategy == strategy)
            .filter_map(|m| Some((m.workers as f64, gains(all, m).speedup?)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(&(x, _)) = points.last() {
            max_workers = max_workers.max(x as usize);
            series.push(Series::measured(w, points));
        }
    }
    series.push(Series::model(
        "idéal (accélération = workers)",
        (1..=max_workers).map(|x| (x as f64, x as f64)).collect(),
    ));
    LineChart {
        title: title.into(),
        x_label: "nombre de workers".into(),
        y_label: "accélération (temps séquentiel / temps)".into(),
        series,
        log_x: false,
    }
    .save(dir, stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Timings;
    use std::time::Duration;

    fn m(workload: &str, strategy: &str, workers: usize, ms: u64) -> Measurement {
        let t = Timings {
            samples: vec![Duration::from_millis(ms)],
        };
        Measurement::new(workload, strategy, workers, 1, &t, 0.into(), true, None)
    }

    #[test]
    fn speedup_and_efficiency_against_seq() {
        let all = vec![
            m("primes", "seq", 1, 100),
            m("primes", "rayon", 2, 50),
            m("ipc", "mpsc", 2, 30),
        ];
        let r = rows(&all);
        assert_eq!(r[1][6], "2,00");
        assert_eq!(r[1][7], "100 %");
        assert_eq!(r[2][6], "1,00");
        assert_eq!(r[2][7], "—");
    }

    #[test]
    fn gains_compare_within_one_size_and_never_without_a_baseline() {
        let mut big = m("io", "tokio", 100, 40);
        big.size = 100_000;
        let all = vec![
            m("primes", "seq", 1, 100),
            m("primes", "rayon", 2, 50),
            m("io", "seq", 1, 400),
            m("io", "tokio", 10, 40),
            big,
        ];
        let g = |i: usize| gains(&all, &all[i]);
        assert_eq!(g(0).speedup, Some(1.0));
        assert_eq!(g(0).efficiency, None);
        assert_eq!(g(1).speedup, Some(2.0));
        assert_eq!(g(1).efficiency, Some(1.0));
        assert_eq!(g(3).speedup, Some(10.0));
        // W6 at another size has no seq of its own: no speedup, no efficiency.
        assert_eq!(
            g(4),
            Gains {
                speedup: None,
                efficiency: None
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let files = speedup_plot(&all, "rayon", &["primes"], "t", dir.path(), "s").unwrap();
        assert!(files.iter().all(|f| f.is_file()));
    }
}
