//! Turning measurements into what a student reads: speedup and efficiency against
//! the sequential baseline, French tables (terminal and Markdown), and the speedup
//! plot. Shared by the default run of the lab and by `tp4 bench`.

use crate::alloc::human_bytes;
use crate::error::Result;
use crate::measure::{human_ratio, human_seconds, Measurement};
use crate::plot::{LineChart, Series};
use std::path::{Path, PathBuf};

/// The baseline time of a workload: its `seq` run (the first strategy measured if
/// there is none, as for W5 which always has two threads).
pub fn baseline(all: &[Measurement], workload: &str) -> Option<f64> {
    let same = || all.iter().filter(move |m| m.workload == workload);
    same()
        .find(|m| m.strategy == "seq")
        .or_else(|| same().next())
        .map(|m| m.seconds)
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
            let base = baseline(all, &m.workload);
            let (speedup, efficiency) = match base {
                // Efficiency only means something for a parallel strategy working
                // on a divisible problem (not W5's producer/consumer pair).
                Some(b)
                    if m.seconds > 0.0
                        && (crate::run::is_sequential(&m.strategy) || m.workload == "ipc") =>
                {
                    (human_ratio(b / m.seconds), "—".into())
                }
                Some(b) if m.seconds > 0.0 => (
                    human_ratio(b / m.seconds),
                    format!("{:.0} %", 100.0 * b / m.seconds / m.workers as f64),
                ),
                _ => ("—".into(), "—".into()),
            };
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
        let Some(base) = baseline(all, w) else {
            continue;
        };
        let mut points: Vec<(f64, f64)> = all
            .iter()
            .filter(|m| m.workload == w && m.strategy == strategy)
            .map(|m| (m.workers as f64, base / m.seconds))
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
        let dir = tempfile::tempdir().unwrap();
        let files = speedup_plot(&all, "rayon", &["primes"], "t", dir.path(), "s").unwrap();
        assert!(files.iter().all(|f| f.is_file()));
    }
}
