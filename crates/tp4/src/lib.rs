//! # tp4 — fondamentaux du calcul parallèle et distribué
//!
//! The engine of the lab "TP4" (course *Traitement de Données Massives*), rebuilt in
//! Rust. The `tp4` command and the notebook are thin layers over this crate.
//!
//! Map of the lab, one module per idea:
//!
//! | module | what it holds |
//! |---|---|
//! | [`data`] | the input files (transactions.csv, corpus.txt): deterministic generators, readers, line-aligned byte ranges |
//! | [`workloads`] | the reference workloads W1–W7 of `workloads.md`, sequential and parallel, with their answer checks |
//! | [`measure`] | timing with warm-up and repetitions (median, min, max), the result record (CSV row / JSON line) |
//! | [`models`] | Amdahl and Gustafson laws, fitting the serial fraction to measured speedups |
//! | [`alloc`] | the tracking global allocator: peak heap memory of a piece of code |
//! | [`results`] | speedup, efficiency, result tables and the speedup plot |
//! | [`plot`] | line and bar charts with plotters, as PNG and SVG (inline in the notebook) |
//! | [`output`] | atomic writes, CSV, JSON lines, terminal and Markdown tables, the report |
//! | [`environment`] | CPUs really usable (affinity, cgroup quota), memory, versions, folder checks |
//! | [`procs`] | real OS processes: `tp4` starts copies of itself as workers (W1, W2, W4, W7, W5 over a pipe), no orphan, no hang |
//! | [`progress`] | progress bars on stderr |
//! | [`bench`] | `tp4 bench`: W1–W7 with every strategy, checked answers, table, CSV, JSON lines, plots, speed targets |
//! | [`lab`] | the whole lab, headless: what `cargo run --release` runs |
//! | [`ex4`] | exercise 4: threads, real processes, static chunking vs work stealing, Amdahl, Send/Sync |
//! | [`ex5`] | exercise 5: channels, backpressure, worker pool, pipeline, pipe between processes, shared state |
//! | [`ex6`] | exercise 6: executor and task handles, failures and timeouts, tokio on W6, cancellation, blocking pitfall, task graph |
//! | [`ex7`] | exercise 7: benchmark method, granularity, false sharing, data layout, memory, Amdahl/Gustafson (reference, checkers, demo) |
//! | [`notebook`] | the notebook `tp4.ipynb`: student and corrected versions generated from one source |
//! | [`exercises`] | the list of exercise demonstrations |
//! | [`verif`] | checkers: a student answer against the reference, with a French verdict |
//! | [`warmup`] | the warm-up question of the notebook (is n prime?), with its checker |
//! | [`ex1`] | exercise 1: filter, map, reduce on transactions.csv, rayon fold + reduce (answers, checkers, demo) |
//! | [`ex2`] | exercise 2: closures, `Fn`/`FnMut`/`FnOnce`, higher-order functions, memoize (answers, checkers, demo) |
//! | [`ex3`] | exercise 3: custom iterators, laziness, adapters, streaming a file with measured memory (answers, checkers, demo) |
//! | [`error`] | the error type, with French messages that say how to fix the problem |

pub mod alloc;
pub mod bench;
pub mod context;
pub mod data;
pub mod environment;
pub mod error;
pub mod exercises;
pub mod fr;
pub mod lab;
pub mod machine;
pub mod measure;
pub mod models;
pub mod notebook;
pub mod output;
pub mod plot;
pub mod procs;
pub mod progress;
pub mod results;
pub mod run;
pub mod verif;
pub mod workloads;

pub use error::{Error, Result};
pub use exercises::{ex1, ex2, ex3, ex4, ex5, ex6, ex7, warmup};

// The unit tests run with the tracking allocator, so that memory measurements are
// tested for real.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: alloc::TrackingAllocator = alloc::TrackingAllocator;
