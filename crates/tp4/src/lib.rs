//! # tp4 — fondamentaux du calcul parallèle et distribué
//!
//! The engine of the lab "TP4" (course *Traitement de Données Massives*), rebuilt in
//! Rust. The `tp4` command and the notebook are thin layers over this crate.
//!
//! Map of the lab, one module per idea, by layer: a module imports only from the
//! layers above its own.
//!
//! **1. Foundation** (imports nothing of the lab)
//!
//! | module | what it holds |
//! |---|---|
//! | [`error`] | the error type, with French messages that say how to fix the problem |
//! | [`fr`] | every French number format: decimal comma, thousands, euros, seconds, bytes, percent, plurals |
//! | [`alloc`] | the tracking global allocator: peak heap memory of a piece of code |
//! | [`cpu`] | what the processor can do: vector level detected once, `TP4_SIMD`, tokens that prove the features, cache sizes |
//! | [`progress`] | progress bars on stderr |
//! | [`output`] | atomic writes, CSV, JSON lines, terminal and Markdown tables, the report |
//! | [`plot`] | line and bar charts with plotters, as PNG and SVG (inline in the notebook) |
//! | [`measure`] | timing with warm-up and repetitions (the one median), the result record (CSV row / JSON line) |
//! | [`models`] | Amdahl and Gustafson laws, fitting the serial fraction to measured speedups |
//! | [`machine`] | CPUs really usable (affinity, cgroup quota), cgroup parsers, memory, free disk, load average |
//!
//! **2. Inputs and workloads**
//!
//! | module | what it holds |
//! |---|---|
//! | [`data`] | the input files (transactions.csv, corpus.txt): deterministic generators, readers, line-aligned byte ranges |
//! | [`workloads`] | the kernels W1–W7 of `workloads.md`, sequential and parallel, as leaves |
//! | [`procs`] | real OS processes: `tp4` starts copies of itself as workers (W1, W2, W4, W7, W5 over a pipe), no orphan, no hang |
//! | [`run`] | cases, inputs, pools and `run_case`, which measures a case and fails on a wrong answer |
//!
//! **3. Runs and reports**
//!
//! | module | what it holds |
//! |---|---|
//! | [`context`] | where the data and outputs are, the worker counts, quiet or not |
//! | [`results`] | speedup, efficiency, result tables and the speedup plot |
//! | [`environment`] | `tp4 env`: the report over [`machine`] and the lab's folders |
//! | [`bench`] | `tp4 bench`: W1–W7 with every strategy, checked answers, table, CSV, JSON lines, plots, speed targets |
//!
//! **4. Teaching material**
//!
//! | module | what it holds |
//! |---|---|
//! | [`verif`] | checkers: a student answer against the reference, with a French verdict; panic capture, deadlines |
//! | [`exercises`] | the registry `exercises::ALL` of the exercises below, each a folder of the same shape |
//! | [`warmup`] | the warm-up question of the notebook (is n prime?), with its checker |
//! | [`ex1`] | exercise 1: filter, map, reduce on transactions.csv, rayon fold + reduce |
//! | [`ex2`] | exercise 2: closures, `Fn`/`FnMut`/`FnOnce`, higher-order functions, memoize |
//! | [`ex3`] | exercise 3: custom iterators, laziness, adapters, streaming a file with measured memory |
//! | [`ex4`] | exercise 4: threads, real processes, static chunking vs work stealing, Amdahl, Send/Sync |
//! | [`ex5`] | exercise 5: channels, backpressure, worker pool, pipeline, pipe between processes, shared state |
//! | [`ex6`] | exercise 6: executor and task handles, failures and timeouts, tokio on W6, cancellation, task graph |
//! | [`ex7`] | exercise 7: benchmark method, granularity, false sharing, data layout, memory, Amdahl/Gustafson |
//!
//! **5. Drivers**
//!
//! | module | what it holds |
//! |---|---|
//! | [`lab`] | the whole lab, headless: what `cargo run --release` runs |
//! | [`notebook`] | the notebook `tp4.ipynb`: student and corrected versions generated from one source |

// Foundation.
pub mod alloc;
pub mod cpu;
pub mod error;
pub mod fr;
pub mod machine;
pub mod measure;
pub mod models;
pub mod output;
pub mod plot;
pub mod progress;
// Inputs and workloads.
pub mod data;
pub mod procs;
pub mod run;
pub mod workloads;
// Runs and reports.
pub mod bench;
pub mod context;
pub mod environment;
pub mod results;
// Teaching material.
pub mod exercises;
pub mod verif;
// Drivers.
pub mod lab;
pub mod notebook;

pub use error::{Error, Result};
pub use exercises::{ex1, ex2, ex3, ex4, ex5, ex6, ex7, warmup};

// The unit tests run with the tracking allocator, so that memory measurements are
// tested for real.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: alloc::TrackingAllocator = alloc::TrackingAllocator;
