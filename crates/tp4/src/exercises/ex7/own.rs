//! Exercise 7, "measure your own code": the student writes padded counters (7.3)
//! and chunked tasks (7.2), then sees them timed beside the reference, in a table
//! and a chart, with a note when the machine cannot show the effect.
//!
//! [`measure_counters`] times the student's counters against the packed and padded
//! references; [`measure_chunks`] times the student's chunked count against the
//! reference over a sweep of task sizes. The student's functions take a
//! [`Work`](crate::verif::work::Work) last (the checks of 7.2 and 7.3 observe it);
//! the measuring cells hand them `Work::unobserved()`, which records nothing and
//! gives the same values, so that the check's bookkeeping is not timed:
//! `measure_chunks(|n, taille| premiers_par_taches(n, taille, Work::unobserved()))`. A function still holding `todo!()`, a
//! wrong answer or a panic is never timed: the result says why, in French, and the
//! reference is shown alone.

use super::{count_packed, count_padded, count_primes_chunked};
use crate::fr;
use crate::machine::Evidence;
use crate::measure::{time, Plan, Timings};
use crate::plot::{BarChart, LineChart, Series};
use crate::workloads::primes;

/// Threads of [`measure_counters`] (two cores fight over one cache line).
pub const COUNTER_THREADS: usize = 2;
/// Increments per thread of [`measure_counters`].
pub const COUNTER_INCREMENTS: u64 = 5_000_000;
/// N of [`measure_chunks`] (primes below N).
pub const CHUNKS_N: u64 = 300_000;
/// Task sizes of [`measure_chunks`].
pub const CHUNK_SIZES: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 300_000];
/// One warm-up, median of three.
const PLAN: Plan = Plan {
    warmup: 1,
    repetitions: 3,
};

/// Runs the student's function once (checking its answer), then times it; a
/// `todo!()`, a wrong answer or a panic is the French reason it was not timed.
fn time_yours<T: PartialEq + std::fmt::Debug>(
    name: &str,
    question: &str,
    plan: Plan,
    expected: &T,
    mut f: impl FnMut() -> T,
) -> Result<Timings, String> {
    let not_timed = |why: String| format!("{why} : votre code n'est pas mesuré.");
    match crate::verif::run_quietly(&mut f) {
        Err(m) if crate::verif::is_todo(&m) => Err(not_timed(format!(
            "⏳ `{name}` n'est pas encore écrite (question {question}, encore todo!())"
        ))),
        Err(m) => Err(not_timed(format!("✗ `{name}` a paniqué (« {m} »)"))),
        Ok(got) if &got != expected => Err(not_timed(format!(
            "✗ `{name}` rend {got:?} au lieu de {expected:?} (voyez la vérification {question}) ; \
             mesurer un calcul faux n'apprend rien"
        ))),
        Ok(_) => crate::verif::run_quietly(|| time(plan, &mut f).0)
            .map_err(|m| not_timed(format!("✗ `{name}` a paniqué (« {m} »)"))),
    }
}

/// The student's padded counters timed beside the two references.
#[derive(Debug, Clone)]
pub struct OwnCounters {
    /// Threads, each incrementing its own counter.
    pub threads: usize,
    /// Increments per thread.
    pub per_thread: u64,
    /// Reference counters packed in one cache line ([`count_packed`]).
    pub packed: Timings,
    /// Reference padded counters ([`count_padded`]).
    pub padded: Timings,
    /// The student's counters, or why they were not timed.
    pub yours: Result<Timings, String>,
}

/// Times the student's `compteurs_alignes(threads, par_thread, travail: Work) -> u64`
/// (question 7.3) beside the packed and padded references, on [`COUNTER_THREADS`]
/// threads × [`COUNTER_INCREMENTS`] increments. `yours(threads, par_thread)` calls
/// it with `Work::unobserved()`:
/// `measure_counters(|t, p| compteurs_alignes(t, p, Work::unobserved()))`.
pub fn measure_counters(yours: impl Fn(usize, u64) -> u64) -> OwnCounters {
    measure_counters_with(yours, COUNTER_THREADS, COUNTER_INCREMENTS, PLAN)
}

/// [`measure_counters`] with chosen sizes and plan (the tests use small ones).
pub fn measure_counters_with(
    yours: impl Fn(usize, u64) -> u64,
    threads: usize,
    per_thread: u64,
    plan: Plan,
) -> OwnCounters {
    let total = threads as u64 * per_thread;
    let yours = time_yours("compteurs_alignes", "7.3", plan, &total, || {
        yours(threads, per_thread)
    });
    let (packed, a) = time(plan, || count_packed(threads, per_thread));
    let (padded, b) = time(plan, || count_padded(threads, per_thread));
    debug_assert_eq!((a, b), (total, total));
    OwnCounters {
        threads,
        per_thread,
        packed,
        padded,
        yours,
    }
}

impl OwnCounters {
    /// Nanoseconds per increment of a median time.
    fn per_increment(&self, seconds: f64) -> String {
        let n = self.threads as f64 * self.per_thread as f64;
        format!("{} ns", fr::decimal(seconds * 1e9 / n, 1))
    }

    /// The table and the comparison, in French.
    pub fn text(&self) -> String {
        let mut rows = vec![
            ("compteurs voisins (référence)", &self.packed),
            ("compteurs alignés (référence)", &self.padded),
        ];
        if let Ok(t) = &self.yours {
            rows.push(("vos compteurs_alignes", t));
        }
        let mut out = format!(
            "Faux partage, {} threads × {} incréments (médianes) :\n",
            self.threads,
            fr::thousands(self.per_thread)
        );
        for (label, t) in rows {
            out += &format!(
                "  {label:<31} {:>10}   {:>8} par incrément\n",
                fr::seconds(t.median()),
                self.per_increment(t.median())
            );
        }
        let reference = self.packed.median() / self.padded.median();
        match &self.yours {
            Err(why) => out += why,
            Ok(t) => {
                out += &format!(
                    "Vos compteurs sont ×{} plus rapides que les compteurs voisins (la référence \
                     alignée : ×{}).",
                    fr::ratio(self.packed.median() / t.median()),
                    fr::ratio(reference)
                );
                if t.median() > 1.5 * self.padded.median() {
                    out += " Votre version est nettement plus lente que la référence alignée : \
                            vos compteurs partagent-ils encore une ligne de cache (ou un verrou) ?";
                }
            }
        }
        out
    }

    /// What the figure rests on: the repetitions and the packed / padded gap the
    /// lesson expects.
    pub fn evidence(&self) -> Evidence {
        let mut ev = Evidence::new();
        ev.timings(&self.packed).timings(&self.padded).gap(
            "compteurs voisins / compteurs alignés (référence)",
            self.packed.median(),
            self.padded.median(),
            1.3,
        );
        if let Ok(t) = &self.yours {
            ev.timings(t);
        }
        ev
    }

    /// The bar chart (milliseconds; a logarithmic axis when the bars differ by
    /// orders of magnitude).
    pub fn chart(&self) -> BarChart {
        let mut bars = vec![
            (
                "voisins (référence)".to_string(),
                self.packed.median() * 1e3,
            ),
            (
                "alignés (référence)".to_string(),
                self.padded.median() * 1e3,
            ),
        ];
        if let Ok(t) = &self.yours {
            bars.push(("vos compteurs".into(), t.median() * 1e3));
        }
        BarChart {
            title: format!(
                "Vos compteurs alignés : {} threads × {} incréments",
                self.threads,
                fr::thousands(self.per_thread)
            ),
            y_label: "temps médian (ms)".into(),
            bars,
        }
    }

    /// Prints the table, the reliability note and the chart in a notebook cell.
    pub fn show(&self) {
        println!("{}", self.text());
        self.evidence().print_note();
        crate::plot::show_in_notebook(&self.chart().to_svg().expect("graphique"));
    }
}

/// The student's chunked count timed beside the reference over task sizes.
#[derive(Debug, Clone)]
pub struct OwnChunks {
    /// N (primes below N).
    pub n: u64,
    /// Threads of the pool both versions ran on.
    pub workers: usize,
    /// The sequential count, for the speedup.
    pub seq: Timings,
    /// The task sizes, each with the reference's timings.
    pub reference: Vec<(u64, Timings)>,
    /// The student's timings for each size, or why they were not timed.
    pub yours: Result<Vec<Timings>, String>,
}

/// Times the student's `premiers_par_taches(n, taille, travail: Work) -> u64`
/// (question 7.2) beside the reference [`count_primes_chunked`] for each of
/// [`CHUNK_SIZES`], on a pool of as many threads as the machine gives (at least 2).
/// `yours(n, taille)` calls it with `Work::unobserved()`:
/// `measure_chunks(|n, taille| premiers_par_taches(n, taille, Work::unobserved()))`.
pub fn measure_chunks(yours: impl Fn(u64, u64) -> u64 + Sync) -> OwnChunks {
    let workers = crate::machine::usable_cpus().max(2);
    measure_chunks_with(yours, CHUNKS_N, &CHUNK_SIZES, workers, PLAN)
}

/// [`measure_chunks`] with chosen sizes, pool and plan (the tests use small ones).
pub fn measure_chunks_with(
    yours: impl Fn(u64, u64) -> u64 + Sync,
    n: u64,
    sizes: &[u64],
    workers: usize,
    plan: Plan,
) -> OwnChunks {
    let pool = crate::workloads::pool(workers);
    let (seq, expected) = time(plan, || primes::count_seq(n));
    let reference = sizes
        .iter()
        .map(|&c| {
            (
                c,
                time(plan, || pool.install(|| count_primes_chunked(n, c))).0,
            )
        })
        .collect();
    let yours = sizes
        .iter()
        .map(|&c| {
            time_yours("premiers_par_taches", "7.2", plan, &expected, || {
                pool.install(|| yours(n, c))
            })
        })
        .collect();
    OwnChunks {
        n,
        workers,
        seq,
        reference,
        yours,
    }
}

impl OwnChunks {
    /// The table (one row per task size) and what to look at, in French.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Granularité, premiers < {} sur {} threads (séquentiel : {}) :\n  {:>8} {:>8} {:>11} {:>11} {:>14}\n",
            fr::thousands(self.n),
            self.workers,
            fr::seconds(self.seq.median()),
            "taille",
            "tâches",
            "référence",
            "vos tâches",
            "vous / réf."
        );
        for (i, (size, r)) in self.reference.iter().enumerate() {
            let (yours, ratio) = match &self.yours {
                Ok(t) => (
                    fr::seconds(t[i].median()),
                    format!("×{}", fr::ratio(t[i].median() / r.median())),
                ),
                Err(_) => ("—".into(), "—".into()),
            };
            out += &format!(
                "  {size:>8} {:>8} {:>11} {yours:>11} {ratio:>14}\n",
                self.n.div_ceil(*size),
                fr::seconds(r.median())
            );
        }
        match &self.yours {
            Err(why) => out += why,
            Ok(_) => {
                out += "Vos temps doivent suivre la même courbe que la référence : une seule \
                        tâche pour tout le calcul laisse les autres cœurs sans travail, et de \
                        toutes petites tâches ajoutent un coût de gestion."
            }
        }
        out
    }

    /// What the figure rests on: the repetitions, the best speedup, and the gap
    /// between the largest tasks and the best size.
    pub fn evidence(&self) -> Evidence {
        let mut ev = Evidence::new();
        ev.timings(&self.seq);
        for (_, t) in &self.reference {
            ev.timings(t);
        }
        let best = self
            .reference
            .iter()
            .map(|(_, t)| t.median())
            .fold(f64::INFINITY, f64::min);
        ev.speedup(self.workers as f64, self.seq.median() / best);
        // The largest tasks (a single one for N) leave workers idle.
        if let Some((size, largest)) = self.reference.last() {
            ev.gap(
                format!("tâches de {size} nombres / meilleure taille (référence)"),
                largest.median(),
                best,
                super::demo::GRANULARITY_GAP,
            );
        }
        ev
    }

    /// The curve of both versions against the task size (logarithmic x axis).
    pub fn chart(&self) -> LineChart {
        let points = |ts: Vec<f64>| -> Vec<(f64, f64)> {
            self.reference
                .iter()
                .zip(ts)
                .map(|((c, _), t)| (*c as f64, t * 1e3))
                .collect()
        };
        let mut series = vec![Series::measured(
            "référence (count_primes_chunked)",
            points(self.reference.iter().map(|(_, t)| t.median()).collect()),
        )];
        if let Ok(ts) = &self.yours {
            series.push(Series::measured(
                "vos premiers_par_taches",
                points(ts.iter().map(Timings::median).collect()),
            ));
        }
        LineChart {
            title: format!(
                "Vos tâches : premiers < {} sur {} threads",
                fr::thousands(self.n),
                self.workers
            ),
            x_label: "nombres par tâche (échelle logarithmique)".into(),
            y_label: "temps médian (ms)".into(),
            series,
            log_x: true,
        }
    }

    /// Prints the table, the reliability note and the chart in a notebook cell.
    pub fn show(&self) {
        println!("{}", self.text());
        self.evidence().print_note();
        crate::plot::show_in_notebook(&self.chart().to_svg().expect("graphique"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONCE: Plan = Plan {
        warmup: 0,
        repetitions: 1,
    };

    #[test]
    fn the_students_counters_are_timed_beside_the_references() {
        let m = measure_counters_with(count_padded, 2, 10_000, ONCE);
        let t = m.yours.as_ref().expect("a right answer is timed");
        assert_eq!(t.samples.len(), 1);
        let text = m.text();
        assert!(
            text.contains("vos compteurs_alignes") && text.contains("plus rapides"),
            "{text}"
        );
        assert_eq!(m.chart().bars.len(), 3);
        assert_eq!(m.evidence().gaps.len(), 1);
    }

    #[test]
    fn a_todo_a_wrong_answer_or_a_panic_is_not_timed() {
        let todo = measure_counters_with(|_, _| todo!(), 2, 1_000, ONCE);
        let why = todo.yours.unwrap_err();
        assert!(why.starts_with("⏳") && why.contains("7.3"), "{why}");
        let wrong = measure_counters_with(|t, p| t as u64 * p - 1, 2, 1_000, ONCE);
        let why = wrong.yours.as_ref().unwrap_err();
        assert!(why.contains("1999 au lieu de 2000"), "{why}");
        assert!(wrong.text().contains(why.as_str()));
        assert_eq!(wrong.chart().bars.len(), 2, "the references alone");
        let panic = measure_chunks_with(|_, _| panic!("boum"), 1_000, &[10, 100], 2, ONCE);
        let why = panic.yours.as_ref().unwrap_err();
        assert!(
            why.contains("boum") && why.contains("premiers_par_taches"),
            "{why}"
        );
        assert_eq!(panic.chart().series.len(), 1);
        assert!(panic.text().contains('—'));
    }

    #[test]
    fn the_students_chunks_are_timed_for_every_size() {
        let m = measure_chunks_with(count_primes_chunked, 5_000, &[1, 100, 5_000], 2, ONCE);
        assert_eq!(m.reference.len(), 3);
        assert_eq!(m.yours.as_ref().unwrap().len(), 3);
        let text = m.text();
        assert!(
            text.contains("5000") && text.contains("même courbe"),
            "{text}"
        );
        let chart = m.chart();
        assert_eq!(chart.series.len(), 2);
        assert_eq!(chart.series[1].points.len(), 3);
        let ev = m.evidence();
        assert_eq!((ev.speedups.len(), ev.gaps.len()), (1, 1));
    }
}
