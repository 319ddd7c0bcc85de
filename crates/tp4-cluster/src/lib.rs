//! # tp4-cluster — le calcul distribué du TP
//!
//! W7 wordcount and W4 groupby as map/shuffle/reduce on timely dataflow, across
//! several OS processes and hosts. Kept out of the `tp4` library so that the crate
//! the notebook loads stays light; the `tp4` binary exposes it as `tp4 cluster`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`hash`] | the fixed FNV-1a hash that routes each key to its reducer |
//! | [`topology`] | processes, threads, addresses, the hostfile, free loopback ports |
//! | [`jobs`] | map + combine and final assembly of W7 and W4 (reusing `tp4::workloads`) |
//! | [`network`] | connecting processes with a deadline and a handshake, bytes on the wire |
//! | [`dataflow`] | the timely operators: read/map/combine, shuffle, reduce, gather |
//! | [`process`] | one process of a run: connect, run the workers, assemble the answer |
//! | [`worker`] | the `tp4 cluster` process mode: heartbeat, panic hook, printing, files |
//! | [`launcher`] | starts N processes, watches them, kills and reaps them all on failure |
//! | [`measure`] | 1, 2, 3 processes × 1, 2 threads: times, bytes, speedups, plot |

pub mod dataflow;
pub mod hash;
pub mod jobs;
pub mod launcher;
pub mod measure;
pub mod network;
pub mod process;
pub mod topology;
pub mod worker;

pub use jobs::{Answer, Job};
pub use topology::Topology;
