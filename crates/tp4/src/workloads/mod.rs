//! The reference workloads W1–W7 of `../shared/workloads.md`: the common yardstick
//! of the lab. Each has a sequential version and parallel versions; each returns its
//! answer so that it is checked on every run.
//!
//! The kernels are leaves: they import nothing from the runner ([`crate::run`]),
//! the processes ([`crate::procs`]) or the benchmark. [`crate::run::run_case`]
//! dispatches one workload × strategy × worker count to them, measures it and
//! checks its answer.

pub mod fast;
pub mod groupby;
pub mod io;
pub mod ipc;
pub mod pi;
pub mod primes;
pub mod sumsq;
pub mod wordcount;

use crate::error::{Error, Result};

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
            // `optimise`: the top rung of exercise 7's ladder (`fast`, issue 15).
            Workload::Primes | Workload::Pi => {
                &["seq", "threads", "rayon", "processes", fast::STRATEGY]
            }
            Workload::Sumsq => &["seq", "seq-simd", "rayon", "bandwidth", fast::STRATEGY],
            Workload::Groupby | Workload::Wordcount => {
                &["seq", "rayon", "processes", fast::STRATEGY]
            }
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

/// A rayon pool of exactly `workers` threads: each experiment builds its own, so that
/// the worker count is the one asked for, not the global pool's.
pub fn pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .expect("cannot build a rayon pool")
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
    fn a_pool_has_the_threads_asked_for() {
        assert_eq!(pool(3).current_num_threads(), 3);
        assert_eq!(pool(0).current_num_threads(), 1);
    }
}
