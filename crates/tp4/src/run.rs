//! Running the reference workloads: one [`Case`] (workload × strategy × worker
//! count × size) is dispatched to its kernel in [`crate::workloads`] (threads, rayon
//! pools) or to real processes ([`crate::procs`]), timed with the measurement plan
//! and checked against the expected answer. The default run of the lab, `tp4 bench`
//! and the exercises all go through [`run_case`], so a strategy is written once.
//!
//! Every run's answer is checked, warm-up included (`time_checked`): a file that
//! changes during a 1000-run measurement is caught at the run where it changed,
//! which stops the case at once. [`measure_case`] returns a wrong answer as a
//! measurement with `ok: false` (the benchmark reports it and goes on);
//! [`run_case`] returns an error on a wrong answer ([`Error::WrongAnswer`]): no
//! caller can report the timing of a wrong computation by forgetting to look at a
//! flag (like rayon-demo's sieve, which checks its answer inside the measuring
//! function).
//!
//! Answers (the `answer` of the JSON lines): W4 and W7 give their whole answer as in
//! `workloads.md` ([`groupby::GroupBy::answer_json`],
//! [`wordcount::WordCount::answer_json`]); the others a number, except W3's
//! `bandwidth` strategy, the memory-read reference W3 is judged against: it sums the
//! values, not their squares, so its answer is `{"bandwidth_reference_sum": …,
//! "w3_answer": false}`, never a bare number that could pass for a W3 answer.

use crate::error::{Error, Result};
use crate::measure::{self, Measurement, Plan, Timings};
use crate::workloads::{fast, groupby, io, ipc, pi, primes, sumsq, wordcount, Workload};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A rayon pool of exactly `workers` threads (defined with the kernels, which run in
/// it; re-exported here beside the other pieces of a run).
pub use crate::workloads::pool;

/// Whether a strategy starts OS processes (copies of `tp4`, see [`crate::procs`]):
/// those need the `tp4` executable (`TP4_EXE` outside of it).
pub fn uses_processes(strategy: &str) -> bool {
    strategy == "processes" || strategy.starts_with("pipe")
}

/// The strategies of `w` that can run in this program: all of them in the `tp4`
/// binary; without the OS-process ones where no `tp4` executable is known (unit
/// tests, a notebook without `TP4_EXE`).
pub fn runnable_strategies(w: Workload) -> Vec<&'static str> {
    let processes_ok = crate::procs::exe_path().is_ok();
    w.strategies()
        .iter()
        .copied()
        .filter(|s| processes_ok || !uses_processes(s))
        .collect()
}

/// Whether a strategy runs on one worker whatever is asked.
pub fn is_sequential(strategy: &str) -> bool {
    strategy.starts_with("seq")
}

/// What a case needs besides its parameters: where the data files are, and a cache
/// of the sequential answers that parallel answers are compared with.
#[derive(Debug, Default)]
pub struct Inputs {
    /// `transactions.csv` (W4).
    pub transactions: Option<PathBuf>,
    /// `corpus.txt` (W7).
    pub corpus: Option<PathBuf>,
    groupby_reference: Option<(PathBuf, groupby::GroupBy)>,
    wordcount_reference: Option<(PathBuf, wordcount::WordCount)>,
    sumsq_array: Option<Vec<f64>>,
}

impl Inputs {
    /// Inputs reading the data files of `data_dir` (checked when a case needs them).
    pub fn from_data_dir(data_dir: &Path) -> Inputs {
        Inputs {
            transactions: Some(data_dir.join(crate::data::TRANSACTIONS_FILE)),
            corpus: Some(data_dir.join(crate::data::CORPUS_FILE)),
            ..Default::default()
        }
    }

    /// Inputs reading the given files: W4 `transactions`, W7 `corpus` (the main job's
    /// speed measurements read generated files of `<data>/bench/` this way).
    pub fn from_files(transactions: PathBuf, corpus: PathBuf) -> Inputs {
        Inputs {
            transactions: Some(transactions),
            corpus: Some(corpus),
            ..Default::default()
        }
    }

    fn transactions(&self) -> Result<PathBuf> {
        existing(&self.transactions, crate::data::TRANSACTIONS_FILE)
    }

    fn corpus(&self) -> Result<PathBuf> {
        existing(&self.corpus, crate::data::CORPUS_FILE)
    }

    /// The sequential group-by of the transactions file, computed once.
    pub fn groupby_reference(&mut self) -> Result<groupby::GroupBy> {
        let path = self.transactions()?;
        match &self.groupby_reference {
            Some((p, g)) if *p == path => Ok(g.clone()),
            _ => {
                let g = groupby::seq(&path)?;
                self.groupby_reference = Some((path, g.clone()));
                Ok(g)
            }
        }
    }

    /// The sequential word count of the corpus, computed once.
    pub fn wordcount_reference(&mut self) -> Result<wordcount::WordCount> {
        let path = self.corpus()?;
        match &self.wordcount_reference {
            Some((p, w)) if *p == path => Ok(w.clone()),
            _ => {
                let w = wordcount::seq(&path)?;
                self.wordcount_reference = Some((path, w.clone()));
                Ok(w)
            }
        }
    }

    fn sumsq_array(&mut self, m: usize) -> &[f64] {
        if self.sumsq_array.as_ref().map(Vec::len) != Some(m) {
            self.sumsq_array = None; // free the old array before filling a new one
            self.sumsq_array = Some(sumsq::fill(m));
        }
        self.sumsq_array.as_deref().expect("just filled")
    }
}

/// The path if the file exists, else the error that tells how to generate it.
fn existing(path: &Option<PathBuf>, default_name: &str) -> Result<PathBuf> {
    let p = path.clone().unwrap_or_else(|| PathBuf::from(default_name));
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::MissingData { path: p })
    }
}

/// One measurement to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The workload.
    pub workload: Workload,
    /// The strategy (one of [`Workload::strategies`]).
    pub strategy: String,
    /// Workers (threads, processes, or C for W6).
    pub workers: usize,
    /// Size (N, S, M, K, T; ignored for W4 and W7, which read their file).
    pub size: u64,
}

/// What one workload's runner measured, before the answer check turns it into a
/// [`Measurement`] or an error.
struct Outcome {
    timings: Timings,
    answer: Value,
    /// `None` when the answer is right, else the expected answer in French.
    wrong: Option<String>,
    peak: Option<u64>,
    /// The workers recorded (2 for W5: a producer and a consumer).
    workers: usize,
    /// The size recorded (rows for W4, corpus bytes for W7).
    size: u64,
    /// Median process CPU seconds of the timed runs, where measured (W6).
    cpu: Option<f64>,
    /// The run (1-based, warm-up included) that gave the wrong answer, of how many
    /// planned, where every run is checked (W4, W7).
    wrong_run: Option<(usize, usize)>,
}

impl Outcome {
    fn new(timings: Timings, answer: Value, peak: Option<u64>, workers: usize, size: u64) -> Self {
        Outcome {
            timings,
            answer,
            wrong: None,
            peak,
            workers,
            size,
            cpu: None,
            wrong_run: None,
        }
    }

    /// Records the expected answer when `ok` is false.
    fn check(mut self, ok: bool, expected: impl FnOnce() -> String) -> Self {
        if !ok {
            self.wrong = Some(expected());
        }
        self
    }
}

/// Runs one case with `plan`, checks its answer and returns the measurement. A wrong
/// answer is an [`Error::WrongAnswer`], never a timing; an unknown strategy, a
/// missing data file or a failed worker process are errors too.
pub fn run_case(case: &Case, plan: Plan, inputs: &mut Inputs) -> Result<Measurement> {
    let (m, wrong) = measure_case(case, plan, inputs)?;
    match wrong {
        Some(e) => Err(e),
        None => Ok(m),
    }
}

/// Like [`run_case`], but a wrong answer is a measurement too: it is returned with
/// `ok: false`, beside the [`Error::WrongAnswer`] that names the case, so that
/// `tp4 bench` can report every case and fail at the end. Errors that leave no
/// answer at all (a file missing or changed during the read, a process that
/// failed) are still errors.
pub fn measure_case(
    case: &Case,
    plan: Plan,
    inputs: &mut Inputs,
) -> Result<(Measurement, Option<Error>)> {
    let strategy = case.strategy.as_str();
    if !case.workload.strategies().contains(&strategy) {
        return Err(Error::InvalidParameter(format!(
            "stratégie inconnue « {strategy} » pour {} ; choix possibles : {}",
            case.workload.name(),
            case.workload.strategies().join(", ")
        )));
    }
    let w = if is_sequential(strategy) {
        1
    } else {
        case.workers.max(1)
    };
    let n = case.size;
    let outcome = match case.workload {
        Workload::Primes => run_primes(strategy, n, w, plan)?,
        Workload::Pi => run_pi(strategy, n, w, plan)?,
        Workload::Sumsq => run_sumsq(strategy, n, w, plan, inputs)?,
        Workload::Groupby => run_groupby(strategy, w, plan, inputs)?,
        Workload::Ipc => run_ipc(strategy, n, plan)?,
        Workload::Io => run_io(strategy, n, w, plan)?,
        Workload::Wordcount => run_wordcount(strategy, w, plan, inputs)?,
    };
    Ok(checked(case, outcome))
}

/// The measurement, and the error naming the case when its answer is wrong (the
/// answer in the error cut to [`crate::fr::ANSWER_CHARS`] characters: a W7 answer
/// holds the whole vocabulary).
fn checked(case: &Case, o: Outcome) -> (Measurement, Option<Error>) {
    let wrong = o.wrong.map(|expected| Error::WrongAnswer {
        what: format!(
            "{} {} / {} ×{}{}",
            case.workload.id(),
            case.workload.name(),
            case.strategy,
            o.workers,
            o.wrong_run
                .map(|(i, of)| format!(" (passage {i} sur {of}, échauffement compris)"))
                .unwrap_or_default()
        ),
        expected,
        got: crate::fr::cut(&o.answer.to_string(), crate::fr::ANSWER_CHARS),
    });
    let m = Measurement {
        cpu_seconds: o.cpu,
        ..Measurement::new(
            case.workload.name(),
            &case.strategy,
            o.workers,
            o.size,
            &o.timings,
            o.answer,
            wrong.is_none(),
            o.peak,
        )
    };
    (m, wrong)
}

/// What [`time_checked`] returns: the timings, the answer, the peak heap and the
/// wrong run (1-based, of how many planned), if any.
type Checked<T> = (Timings, T, Option<u64>, Option<(usize, usize)>);

/// Runs `f` as `plan` says (warm-up, then timed runs), checking the answer of every
/// run, warm-up included, with `ok` (outside the timing): the first error or the
/// first wrong answer stops the runs at once. Returns the timings of the runs made,
/// the answer (the first wrong one, else the last), the peak heap and, for a wrong
/// answer, which run gave it (1-based) out of how many planned. A file that changes
/// during a 1000-run benchmark is thus reported at the run where it changed, not
/// only if it is still changed at the last run.
fn time_checked<T>(
    plan: Plan,
    mut f: impl FnMut() -> Result<T>,
    ok: impl Fn(&T) -> bool,
) -> Result<Checked<T>> {
    let total = plan.warmup + plan.repetitions.max(1);
    let mut samples = Vec::with_capacity(plan.repetitions.max(1));
    let mut peak: Option<u64> = None;
    let mut last = None;
    for i in 0..total {
        let start = std::time::Instant::now();
        let (v, p) = crate::alloc::measure_peak(&mut f);
        let elapsed = start.elapsed();
        let v = std::hint::black_box(v?);
        if i >= plan.warmup {
            samples.push(elapsed);
            peak = match (peak, p) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        if !ok(&v) {
            if samples.is_empty() {
                samples.push(elapsed);
            }
            return Ok((Timings { samples }, v, peak, Some((i + 1, total))));
        }
        last = Some(v);
    }
    let last = last.expect("at least one run");
    Ok((Timings { samples }, last, peak, None))
}

/// W1: primes below `n`, checked against the count of workloads.md (or a sieve).
fn run_primes(strategy: &str, n: u64, w: usize, plan: Plan) -> Result<Outcome> {
    // Computed after the first run (a sieve up to N takes as long as a run): the
    // workers start at once, as before every run was checked.
    let reference = std::cell::OnceCell::new();
    let expected = || {
        *reference.get_or_init(|| {
            if n == 2_000_000 {
                primes::PRIMES_BELOW_2M
            } else {
                primes::reference_count(n)
            }
        })
    };
    let (t, v, p, wrong_run) = time_checked(
        plan,
        || match strategy {
            "seq" => Ok(primes::count_seq(n)),
            "threads" => Ok(primes::count_threads(n, w)),
            "processes" => crate::procs::count_primes(n, w),
            fast::STRATEGY => Ok(fast::primes::optimise(n, w)),
            _ => Ok(pool(w).install(|| primes::count_rayon(n))),
        },
        |v| *v == expected(),
    )?;
    let o = Outcome::new(t, json!(v), p, w, n);
    Ok(Outcome {
        wrong_run,
        ..o.check(wrong_run.is_none(), || expected().to_string())
    })
}

/// W2: Monte Carlo π, checked against the tolerance of workloads.md.
fn run_pi(strategy: &str, n: u64, w: usize, plan: Plan) -> Result<Outcome> {
    let (t, v, p, wrong_run) = time_checked(
        plan,
        || match strategy {
            "seq" => Ok(pi::estimate_seq(n)),
            "threads" => Ok(pi::estimate_threads(n, w)),
            "processes" => crate::procs::estimate_pi(n, w),
            fast::STRATEGY => Ok(fast::pi::optimise(n, w)),
            _ => Ok(pool(w).install(|| pi::estimate_rayon(n, w))),
        },
        |v| pi::is_ok(*v, n),
    )?;
    let o = Outcome::new(t, json!(v), p, w, n);
    Ok(Outcome {
        wrong_run,
        ..o.check(wrong_run.is_none(), || {
            format!("π dans la tolérance de workloads.md pour {n} points")
        })
    })
}

/// W3: sum of squares of an array of `m` values (filled once, outside the timing).
fn run_sumsq(strategy: &str, m: u64, w: usize, plan: Plan, inputs: &mut Inputs) -> Result<Outcome> {
    let xs = inputs.sumsq_array(m as usize);
    let rayon_pool = pool(w);
    let ok = |v: &f64| {
        if strategy == "bandwidth" {
            sumsq::is_ok_plain(*v, m)
        } else {
            sumsq::is_ok(*v, m)
        }
    };
    let checked = time_checked(
        plan,
        || {
            Ok(match strategy {
                "seq" => sumsq::sum_seq(xs),
                "seq-simd" => sumsq::sum_lanes(xs),
                // The memory-read baseline W3 is judged against (a plain sum).
                "bandwidth" => rayon_pool.install(|| sumsq::read_bandwidth(xs)),
                // The top rung of exercise 7's W3 ladder (its pool is built inside).
                fast::STRATEGY => fast::sumsq::optimise(xs, w),
                _ => rayon_pool.install(|| sumsq::sum_rayon(xs)),
            })
        },
        ok,
    );
    let (t, v, p, wrong_run) = checked?;
    // The bandwidth strategy sums the values (not their squares): its answer is
    // labelled so that no one reads it as a W3 answer.
    let answer = if strategy == "bandwidth" {
        json!({"bandwidth_reference_sum": v, "w3_answer": false})
    } else {
        json!(v)
    };
    Ok(Outcome {
        wrong_run,
        ..Outcome::new(t, answer, p, w, m).check(wrong_run.is_none(), || {
            format!("la somme de référence de workloads.md pour M = {m}")
        })
    })
}

/// W4: group-by of transactions.csv, compared with the sequential group-by.
fn run_groupby(strategy: &str, w: usize, plan: Plan, inputs: &mut Inputs) -> Result<Outcome> {
    let reference = inputs.groupby_reference()?;
    let path = inputs.transactions()?;
    if strategy == fast::STRATEGY {
        return run_groupby_optimise(&path, &reference, w, plan);
    }
    let (t, g, p, wrong_run) = time_checked(
        plan,
        || match strategy {
            "seq" => groupby::seq(&path),
            "rayon" => pool(w).install(|| groupby::rayon(&path, w)),
            _ => crate::procs::groupby(&path, w),
        },
        |g| *g == reference,
    )?;
    let outcome = Outcome::new(t, g.answer_json(), p, w, g.rows());
    Ok(Outcome {
        wrong_run,
        ..outcome.check(wrong_run.is_none(), || {
            format!(
                "le group-by séquentiel (total {} centimes)",
                reference.total_cents()
            )
        })
    })
}

/// W4 with the top rung of the ladder ([`fast::groupby::optimise`]), whose totals
/// (any names) are compared with the plain sequential group-by's.
fn run_groupby_optimise(
    path: &Path,
    reference: &groupby::GroupBy,
    w: usize,
    plan: Plan,
) -> Result<Outcome> {
    let expected = fast::groupby::Totals::from_groupby(reference);
    let (t, g, p, wrong_run) = time_checked(
        plan,
        || fast::groupby::optimise(path, w),
        |g| *g == expected,
    )?;
    let outcome = Outcome::new(t, g.answer_json(), p, w, g.rows());
    Ok(Outcome {
        wrong_run,
        ..outcome.check(wrong_run.is_none(), || {
            format!(
                "le group-by séquentiel (total {} centimes)",
                reference.total_cents()
            )
        })
    })
}

/// W5: K records from a producer to a consumer (threads or two processes); the
/// answer is the consumer's sum, which must equal the producer's bit for bit.
fn run_ipc(strategy: &str, k: u64, plan: Plan) -> Result<Outcome> {
    let f: fn(u64) -> Result<f64> = match strategy {
        "mpsc" => |k| Ok(ipc::mpsc_per_record(k)),
        "mpsc-lots" => |k| Ok(ipc::mpsc_batched(k, ipc::BATCH)),
        "crossbeam" => |k| Ok(ipc::crossbeam_per_record(k)),
        "crossbeam-lots" => |k| Ok(ipc::crossbeam_batched(k, ipc::BATCH)),
        "pipe" => |k| crate::procs::pipe_sum(k, 1, None),
        _ => |k| crate::procs::pipe_sum(k, ipc::BATCH, None),
    };
    let expected = ipc::producer_sum(k);
    let (t, v, p, wrong_run) = time_checked(plan, || f(k), |v| *v == expected)?;
    let o = Outcome::new(t, json!(v), p, 2, k);
    Ok(Outcome {
        wrong_run,
        ..o.check(wrong_run.is_none(), || expected.to_string())
    })
}

/// W6: T tasks that each wait 10 ms, with `c` of them at a time. The process CPU
/// time of each run is read inside the timing, beside its wall time: waiting should
/// cost almost none (`cpu_seconds` of the JSON line, the median of the timed runs).
fn run_io(strategy: &str, t: u64, c: usize, plan: Plan) -> Result<Outcome> {
    let run: fn(u64, usize) -> u64 = match strategy {
        "seq" => |t, _| io::seq(t),
        "threads" => io::threads,
        _ => io::tokio,
    };
    let mut cpu = Vec::new();
    let expected = io::expected_sum(t);
    let checked = time_checked(
        plan,
        || {
            let before = measure::process_cpu_time();
            let v = run(t, c);
            cpu.push((measure::process_cpu_time() - before).as_secs_f64());
            Ok(v)
        },
        |v| *v == expected,
    );
    let (timings, v, p, wrong_run) = checked?;
    let timed = &cpu[cpu.len().saturating_sub(timings.samples.len())..];
    let mut o = Outcome::new(timings, json!(v), p, c, t);
    o.cpu = Some(measure::median(timed));
    o.wrong_run = wrong_run;
    Ok(o.check(wrong_run.is_none(), || expected.to_string()))
}

/// W7: word count of corpus.txt, compared with the sequential count; the size
/// recorded is the corpus's bytes.
fn run_wordcount(strategy: &str, w: usize, plan: Plan, inputs: &mut Inputs) -> Result<Outcome> {
    let reference = inputs.wordcount_reference()?;
    let path = inputs.corpus()?;
    let (t, r, p, wrong_run) = time_checked(
        plan,
        || match strategy {
            "seq" => wordcount::seq(&path),
            "rayon" => pool(w).install(|| wordcount::rayon(&path, w)),
            fast::STRATEGY => fast::wordcount::optimise(&path, w),
            _ => crate::procs::wordcount(&path, w),
        },
        |r| *r == reference,
    )?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let outcome = Outcome::new(t, r.answer_json(), p, w, bytes);
    Ok(Outcome {
        wrong_run,
        ..outcome.check(wrong_run.is_none(), || {
            format!("le comptage séquentiel ({} mots)", reference.total)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONCE: Plan = Plan {
        warmup: 0,
        repetitions: 1,
    };

    fn data_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::data::transactions::generate(
            &dir.path().join(crate::data::TRANSACTIONS_FILE),
            3_000,
            |_| {},
        )
        .unwrap();
        crate::data::corpus::generate(&dir.path().join(crate::data::CORPUS_FILE), 1, |_| {})
            .unwrap();
        dir
    }

    #[test]
    fn every_strategy_of_every_workload_is_checked_ok() {
        let dir = data_dir();
        let mut inputs = Inputs::from_data_dir(dir.path());
        for w in Workload::ALL {
            let size = match w {
                Workload::Primes => 20_000,
                Workload::Pi => 100_000,
                Workload::Sumsq => 10_000,
                Workload::Ipc => 5_000,
                Workload::Io => 20,
                _ => 0,
            };
            // Process strategies need the `tp4` binary: tested in tp4-cli/tests.
            for s in w.strategies().iter().filter(|s| !uses_processes(s)) {
                let case = Case {
                    workload: w,
                    strategy: s.to_string(),
                    workers: 2,
                    size,
                };
                let m = run_case(&case, ONCE, &mut inputs).unwrap();
                assert!(m.ok, "{m:?}");
                assert_eq!(m.runs, 1);
            }
        }
    }

    /// W6 records its CPU time beside its wall time (`cpu_seconds` of the JSON line);
    /// the other workloads keep the JSON line of workloads.md unchanged.
    #[test]
    fn w6_records_its_cpu_time_and_others_do_not() {
        let mut inputs = Inputs::default();
        let case = |workload, strategy: &str, size| Case {
            workload,
            strategy: strategy.into(),
            workers: 10,
            size,
        };
        let io = run_case(&case(Workload::Io, "tokio", 50), ONCE, &mut inputs).unwrap();
        let cpu = io.cpu_seconds.expect("W6 measures its CPU time");
        assert!(cpu >= 0.0 && io.json_line().contains("\"cpu_seconds\":"));
        let primes = run_case(&case(Workload::Primes, "seq", 1000), ONCE, &mut inputs).unwrap();
        assert!(primes.cpu_seconds.is_none() && !primes.json_line().contains("cpu_seconds"));
    }

    #[test]
    fn optimise_is_checked_ok_on_w1_w2_w3_w4_w7() {
        let dir = data_dir();
        let mut inputs = Inputs::from_data_dir(dir.path());
        for (workload, size) in [
            (Workload::Primes, 30_000),
            (Workload::Pi, 200_000),
            (Workload::Sumsq, 100_003),
            (Workload::Groupby, 0),
            (Workload::Wordcount, 0),
        ] {
            assert!(workload.strategies().contains(&fast::STRATEGY));
            let case = Case {
                workload,
                strategy: fast::STRATEGY.into(),
                workers: 2,
                size,
            };
            let m = run_case(&case, ONCE, &mut inputs).unwrap();
            assert!(m.ok && m.workers == 2, "{m:?}");
        }
    }

    #[test]
    fn optimise_w4_line_has_the_whole_answer_of_the_seq_line() {
        let dir = data_dir();
        let mut inputs = Inputs::from_data_dir(dir.path());
        let answer = |strategy: &str, inputs: &mut Inputs| {
            let case = Case {
                workload: Workload::Groupby,
                strategy: strategy.into(),
                workers: 2,
                size: 0,
            };
            run_case(&case, ONCE, inputs).unwrap().answer
        };
        let seq = answer("seq", &mut inputs);
        assert!(seq["categories"].is_array() && seq["top_cities"].is_array());
        assert_eq!(answer(fast::STRATEGY, &mut inputs), seq);
    }

    #[test]
    fn a_wrong_answer_is_an_error_not_a_timing() {
        // Poison the cached reference: the right group-by now differs from it, as a
        // wrong parallel answer would differ from the right reference.
        let dir = data_dir();
        let mut inputs = Inputs::from_data_dir(dir.path());
        let path = inputs.transactions().unwrap();
        inputs.groupby_reference = Some((path, groupby::GroupBy::default()));
        for strategy in ["seq", "rayon"] {
            let case = Case {
                workload: Workload::Groupby,
                strategy: strategy.into(),
                workers: 2,
                size: 0,
            };
            match run_case(&case, ONCE, &mut inputs) {
                Err(Error::WrongAnswer { what, expected, .. }) => {
                    assert!(what.contains("W4") && what.contains(strategy), "{what}");
                    assert!(expected.contains("group-by séquentiel"), "{expected}");
                }
                other => panic!("a wrong answer must be an error, got {other:?}"),
            }
        }
    }

    /// Finding 2 of issue 24: every run's answer is checked, warm-up included; the
    /// first wrong one stops the runs and is the answer reported, whichever run it
    /// is (a change in the middle of a long benchmark, reverted before the end).
    #[test]
    fn every_run_is_checked_and_the_first_wrong_one_stops_the_runs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for _ in 0..200 {
            let plan = Plan {
                warmup: rng.random_range(0..3),
                repetitions: rng.random_range(1..40),
            };
            let total = plan.warmup + plan.repetitions;
            let bad = rng.random_range(0..total + 5); // ≥ total: every run right
            let mut calls = 0;
            let (t, v, _, wrong) = time_checked(
                plan,
                || {
                    calls += 1;
                    Ok(if calls - 1 == bad { 99 } else { 1 })
                },
                |v| *v == 1,
            )
            .unwrap();
            if bad < total {
                assert_eq!((v, wrong, calls), (99, Some((bad + 1, total)), bad + 1));
                assert!(!t.samples.is_empty());
            } else {
                assert_eq!((v, wrong, calls), (1, None, total));
                assert_eq!(t.samples.len(), plan.repetitions);
            }
        }
        // An error stops the runs too, and is returned.
        let mut calls = 0;
        let r = time_checked(
            Plan {
                warmup: 1,
                repetitions: 10,
            },
            || {
                calls += 1;
                if calls == 3 {
                    Err(Error::Other("panne".into()))
                } else {
                    Ok(1)
                }
            },
            |_| true,
        );
        assert!(r.is_err() && calls == 3);
    }

    /// A wrong answer is a measurement with `ok: false` for `measure_case` (the
    /// benchmark reports it and goes on), and names the run that gave it.
    #[test]
    fn measure_case_reports_a_wrong_answer_as_a_measurement() {
        let dir = data_dir();
        let mut inputs = Inputs::from_data_dir(dir.path());
        let path = inputs.transactions().unwrap();
        inputs.groupby_reference = Some((path, groupby::GroupBy::default()));
        let case = Case {
            workload: Workload::Groupby,
            strategy: fast::STRATEGY.into(),
            workers: 2,
            size: 0,
        };
        let plan = Plan {
            warmup: 1,
            repetitions: 50,
        };
        let (m, wrong) = measure_case(&case, plan, &mut inputs).unwrap();
        assert!(!m.ok);
        let e = wrong.unwrap().to_string();
        assert!(e.contains("passage 1 sur 51"), "{e}");
    }

    #[test]
    fn unknown_strategy_and_missing_file_are_clear_errors() {
        let mut inputs = Inputs::from_data_dir(Path::new("/nonexistent"));
        let case = Case {
            workload: Workload::Primes,
            strategy: "magic".into(),
            workers: 2,
            size: 10,
        };
        assert!(run_case(&case, ONCE, &mut inputs)
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let case = Case {
            workload: Workload::Groupby,
            strategy: "seq".into(),
            workers: 1,
            size: 0,
        };
        let msg = run_case(&case, ONCE, &mut inputs).unwrap_err().to_string();
        // The folder itself is missing: the message points to the repository's
        // data folder and `--data` (generating would not help).
        assert!(
            msg.contains("transactions.csv") && msg.contains("--data"),
            "{msg}"
        );
    }
}
