//! The reference workloads W1–W7 of `../shared/workloads.md`: the common yardstick
//! of the lab. Each has a sequential version and parallel versions; each returns its
//! answer so that it is checked on every run.
//!
//! [`run_case`] runs one workload × strategy × worker count with the measurement
//! plan, checks the answer and returns a [`Measurement`]: the default run of the
//! lab and `tp4 bench` both go through it, so a strategy is written once.

pub mod fast;
pub mod groupby;
pub mod io;
pub mod ipc;
pub mod pi;
pub mod primes;
pub mod sumsq;
pub mod wordcount;

use crate::error::{Error, Result};
use crate::measure::{self, Measurement, Plan};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The seven workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// W1: count primes by trial division.
    Primes,
    /// W2: Monte Carlo π.
    Pi,
    /// W3: sum of squares of an array (memory-bound).
    Sumsq,
    /// W4: group-by over transactions.csv.
    Groupby,
    /// W5: messages between a producer and a consumer.
    Ipc,
    /// W6: many waiting tasks (simulated I/O).
    Io,
    /// W7: word count over corpus.txt.
    Wordcount,
}

impl Workload {
    /// All workloads, W1 to W7.
    pub const ALL: [Workload; 7] = [
        Workload::Primes,
        Workload::Pi,
        Workload::Sumsq,
        Workload::Groupby,
        Workload::Ipc,
        Workload::Io,
        Workload::Wordcount,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Primes => "primes",
            Workload::Pi => "pi",
            Workload::Sumsq => "sumsq",
            Workload::Groupby => "groupby",
            Workload::Ipc => "ipc",
            Workload::Io => "io",
            Workload::Wordcount => "wordcount",
        }
    }

    /// The id of workloads.md ("W1"...).
    pub fn id(self) -> &'static str {
        match self {
            Workload::Primes => "W1",
            Workload::Pi => "W2",
            Workload::Sumsq => "W3",
            Workload::Groupby => "W4",
            Workload::Ipc => "W5",
            Workload::Io => "W6",
            Workload::Wordcount => "W7",
        }
    }

    /// What it does, in French.
    pub fn description(self) -> &'static str {
        match self {
            Workload::Primes => {
                "nombres premiers < N par divisions successives (calcul, coût inégal)"
            }
            Workload::Pi => {
                "estimation de π par Monte-Carlo (calcul, un flux aléatoire par worker)"
            }
            Workload::Sumsq => "somme des carrés d'un tableau (limité par la mémoire)",
            Workload::Groupby => "agrégation par catégorie et par ville de transactions.csv",
            Workload::Ipc => "messages d'un producteur vers un consommateur",
            Workload::Io => "tâches qui attendent 10 ms (entrées-sorties simulées)",
            Workload::Wordcount => "fréquences des mots de corpus.txt",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Result<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == name)
            .ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "charge inconnue « {name} » ; choix possibles : {}",
                    Workload::ALL.map(|w| w.name()).join(", ")
                ))
            })
    }

    /// The default size of workloads.md (N, S, M, rows, K, T; corpus megabytes for W7).
    pub fn default_size(self) -> u64 {
        match self {
            Workload::Primes => 2_000_000,
            Workload::Pi => 20_000_000,
            Workload::Sumsq => 50_000_000,
            Workload::Groupby => crate::data::DEFAULT_ROWS,
            Workload::Ipc => 1_000_000,
            Workload::Io => 1_000,
            Workload::Wordcount => crate::data::DEFAULT_CORPUS_MB,
        }
    }

    /// The strategies implemented in this module for the workload.
    pub fn strategies(self) -> &'static [&'static str] {
        match self {
            Workload::Primes | Workload::Pi => &["seq", "threads", "rayon", "processes"],
            Workload::Sumsq => &["seq", "seq-simd", "rayon", "bandwidth"],
            Workload::Groupby | Workload::Wordcount => &["seq", "rayon", "processes"],
            Workload::Ipc => &[
                "mpsc",
                "mpsc-lots",
                "crossbeam",
                "crossbeam-lots",
                "pipe",
                "pipe-lots",
            ],
            Workload::Io => &["seq", "threads", "tokio"],
        }
    }
}

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

/// A rayon pool of exactly `workers` threads: each experiment builds its own, so that
/// the worker count is the one asked for, not the global pool's.
pub fn pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .expect("cannot build a rayon pool")
}

/// Runs one case with `plan`, checks its answer and returns the measurement. A wrong
/// answer is an error, never a timing.
pub fn run_case(case: &Case, plan: Plan, inputs: &mut Inputs) -> Result<Measurement> {
    let w = if is_sequential(&case.strategy) {
        1
    } else {
        case.workers.max(1)
    };
    let n = case.size;
    let strategy = case.strategy.as_str();
    let unknown = || {
        Error::InvalidParameter(format!(
            "stratégie inconnue « {strategy} » pour {} ; choix possibles : {}",
            case.workload.name(),
            case.workload.strategies().join(", ")
        ))
    };
    let (timings, answer, ok, peak, size) = match case.workload {
        Workload::Primes => {
            if !case.workload.strategies().contains(&strategy) {
                return Err(unknown());
            }
            let mut failed = None;
            let (t, v, p) = measure::time_with_memory(plan, || match strategy {
                "seq" => primes::count_seq(n),
                "threads" => primes::count_threads(n, w),
                "processes" => crate::procs::count_primes(n, w).unwrap_or_else(|e| {
                    failed = Some(e);
                    u64::MAX
                }),
                _ => pool(w).install(|| primes::count_rayon(n)),
            });
            if let Some(e) = failed {
                return Err(e);
            }
            let expected = if n == 2_000_000 {
                primes::PRIMES_BELOW_2M
            } else {
                primes::reference_count(n)
            };
            (t, json!(v), v == expected, p, n)
        }
        Workload::Pi => {
            if !case.workload.strategies().contains(&strategy) {
                return Err(unknown());
            }
            let mut failed = None;
            let (t, v, p) = measure::time_with_memory(plan, || match strategy {
                "seq" => pi::estimate_seq(n),
                "threads" => pi::estimate_threads(n, w),
                "processes" => crate::procs::estimate_pi(n, w).unwrap_or_else(|e| {
                    failed = Some(e);
                    f64::NAN
                }),
                _ => pool(w).install(|| pi::estimate_rayon(n, w)),
            });
            if let Some(e) = failed {
                return Err(e);
            }
            (t, json!(v), pi::is_ok(v, n), p, n)
        }
        Workload::Sumsq => {
            if !Workload::Sumsq.strategies().contains(&strategy) {
                return Err(unknown());
            }
            let xs = inputs.sumsq_array(n as usize);
            let rayon_pool = pool(w);
            let (t, v, p) = measure::time_with_memory(plan, || match strategy {
                "seq" => sumsq::sum_seq(xs),
                "seq-simd" => sumsq::sum_lanes(xs),
                // The memory-read baseline W3 is judged against (a plain sum).
                "bandwidth" => rayon_pool.install(|| sumsq::read_bandwidth(xs)),
                _ => rayon_pool.install(|| sumsq::sum_rayon(xs)),
            });
            let ok = if strategy == "bandwidth" {
                sumsq::is_ok_plain(v, n)
            } else {
                sumsq::is_ok(v, n)
            };
            (t, json!(v), ok, p, n)
        }
        Workload::Groupby => {
            let reference = inputs.groupby_reference()?;
            let path = inputs.transactions()?;
            let mut result = Ok(groupby::GroupBy::default());
            let (t, v, p) = measure::time_with_memory(plan, || {
                result = match strategy {
                    "seq" => groupby::seq(&path),
                    "rayon" => pool(w).install(|| groupby::rayon(&path, w)),
                    "processes" => crate::procs::groupby(&path, w),
                    _ => Err(unknown()),
                };
                result.as_ref().map(|g| g.total_cents()).unwrap_or(-1)
            });
            let g = result?;
            (t, json!(v), g == reference, p, g.rows())
        }
        Workload::Ipc => {
            let f: fn(u64) -> Result<f64> = match strategy {
                "mpsc" => |k| Ok(ipc::mpsc_per_record(k)),
                "mpsc-lots" => |k| Ok(ipc::mpsc_batched(k, ipc::BATCH)),
                "crossbeam" => |k| Ok(ipc::crossbeam_per_record(k)),
                "crossbeam-lots" => |k| Ok(ipc::crossbeam_batched(k, ipc::BATCH)),
                "pipe" => |k| crate::procs::pipe_sum(k, 1, None),
                "pipe-lots" => |k| crate::procs::pipe_sum(k, ipc::BATCH, None),
                _ => return Err(unknown()),
            };
            let expected = ipc::producer_sum(n);
            let mut result = Ok(0.0);
            let (t, _, p) = measure::time_with_memory(plan, || {
                result = f(n);
            });
            let v = result?;
            return Ok(Measurement::new(
                "ipc",
                strategy,
                2,
                n,
                &t,
                json!(v),
                v == expected,
                p,
            ));
        }
        Workload::Io => {
            let (t, v, p) = match strategy {
                "seq" => measure::time_with_memory(plan, || io::seq(n)),
                "threads" => measure::time_with_memory(plan, || io::threads(n, w)),
                "tokio" => measure::time_with_memory(plan, || io::tokio(n, w)),
                _ => return Err(unknown()),
            };
            (t, json!(v), v == io::expected_sum(n), p, n)
        }
        Workload::Wordcount => {
            let reference = inputs.wordcount_reference()?;
            let path = inputs.corpus()?;
            let mut result = Ok(wordcount::WordCount::default());
            let (t, v, p) = measure::time_with_memory(plan, || {
                result = match strategy {
                    "seq" => wordcount::seq(&path),
                    "rayon" => pool(w).install(|| wordcount::rayon(&path, w)),
                    "processes" => crate::procs::wordcount(&path, w),
                    _ => Err(unknown()),
                };
                result.as_ref().map(|r| r.total).unwrap_or(0)
            });
            let r = result?;
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            (t, json!(v), r == reference, p, bytes)
        }
    };
    Ok(Measurement::new(
        case.workload.name(),
        strategy,
        w,
        size,
        &timings,
        answer,
        ok,
        peak,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()).unwrap(), w);
        }
        let msg = Workload::parse("tri").unwrap_err().to_string();
        assert!(msg.contains("tri") && msg.contains("primes"), "{msg}");
    }

    #[test]
    fn every_strategy_of_every_workload_is_checked_ok() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::transactions::generate(
            &dir.path().join(crate::data::TRANSACTIONS_FILE),
            3_000,
            |_| {},
        )
        .unwrap();
        crate::data::corpus::generate(&dir.path().join(crate::data::CORPUS_FILE), 1, |_| {})
            .unwrap();
        let mut inputs = Inputs::from_data_dir(dir.path());
        let plan = Plan {
            warmup: 0,
            repetitions: 1,
        };
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
                let m = run_case(&case, plan, &mut inputs).unwrap();
                assert!(m.ok, "{m:?}");
                assert_eq!(m.runs, 1);
            }
        }
    }

    #[test]
    fn unknown_strategy_and_missing_file_are_clear_errors() {
        let mut inputs = Inputs::from_data_dir(Path::new("/nonexistent"));
        let plan = Plan {
            warmup: 0,
            repetitions: 1,
        };
        let case = Case {
            workload: Workload::Primes,
            strategy: "magic".into(),
            workers: 2,
            size: 10,
        };
        assert!(run_case(&case, plan, &mut inputs)
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let case = Case {
            workload: Workload::Groupby,
            strategy: "seq".into(),
            workers: 1,
            size: 0,
        };
        let msg = run_case(&case, plan, &mut inputs).unwrap_err().to_string();
        assert!(
            msg.contains("transactions.csv") && msg.contains("donnees"),
            "{msg}"
        );
    }
}
