//! What the notebook runs live in exercise 1, before the questions: an overview of
//! the loaded table and the timing of the filtered sum written three ways. These
//! functions run the library's own answers, which are private to the crate so that
//! a notebook cannot hand them in as its own; they return text and times only,
//! never a value a checker would accept.

use super::{pipeline_iter, pipeline_loop, pipeline_par, summary, Transaction};
use crate::fr;
use crate::measure::{time, Plan, Timings};

/// French lines on the table: total revenue, mean per row, and the "sport" sales of
/// at least 450 € (how many, and the first ids).
pub fn overview(rows: &[Transaction]) -> String {
    let s = summary(rows);
    let sport = super::filter_ids(rows, "sport", 450.0);
    format!(
        "Chiffre d'affaires total : {} ; moyenne par ligne : {}\n\
         Ventes « sport » d'au moins 450 € : {} (ids {:?}…)",
        fr::euros(s.total_cents),
        fr::euros((s.mean_euros().unwrap_or(0.0) * 100.0).round() as i64),
        sport.len(),
        &sport[..sport.len().min(5)]
    )
}

/// The filtered sum of the "sport" sales of at least 100 € timed live.
#[derive(Debug, Clone)]
pub struct PipelineTimings {
    /// The total, already in French euros (the same for every version).
    pub total: String,
    /// One entry per version: its label (`boucle for`, `itérateurs`, `rayon ×p`) and
    /// its timings.
    pub runs: Vec<(String, Timings)>,
}

/// Times the filtered sum of exercise 1.6 written with a `for` loop, with a chain
/// `filter → map → sum`, and with `par_iter` in a rayon pool of each count of
/// `workers` (one pool per count, built outside the timing). Panics if two versions
/// disagree, which would be a bug of the library.
pub fn pipeline_timings(rows: &[Transaction], workers: &[usize], plan: Plan) -> PipelineTimings {
    const MIN_CENTS: i64 = 10_000;
    let (t_loop, a) = time(plan, || pipeline_loop(rows, "sport", MIN_CENTS));
    let (t_iter, b) = time(plan, || pipeline_iter(rows, "sport", MIN_CENTS));
    assert_eq!(a, b, "la boucle et la chaîne doivent donner le même total");
    let mut runs = vec![
        ("boucle for".to_string(), t_loop),
        ("itérateurs".to_string(), t_iter),
    ];
    for &p in workers {
        let pool = crate::workloads::pool(p);
        let (t, c) = time(plan, || {
            pool.install(|| pipeline_par(rows, "sport", MIN_CENTS))
        });
        assert_eq!(a, c, "la version parallèle doit donner le même total");
        runs.push((format!("rayon ×{p}"), t));
    }
    PipelineTimings {
        total: fr::euros(a),
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::samples::sample_rows;

    #[test]
    fn overview_and_timings_agree_with_the_references() {
        let rows = sample_rows(500, 3);
        let text = overview(&rows);
        assert!(text.starts_with("Chiffre d'affaires total"), "{text}");
        assert!(
            text.contains(&fr::euros(summary(&rows).total_cents)),
            "{text}"
        );
        let plan = Plan {
            warmup: 0,
            repetitions: 1,
        };
        let t = pipeline_timings(&rows, &[1, 2], plan);
        let labels: Vec<&str> = t.runs.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["boucle for", "itérateurs", "rayon ×1", "rayon ×2"]);
        assert_eq!(t.total, fr::euros(pipeline_loop(&rows, "sport", 10_000)));
    }
}
