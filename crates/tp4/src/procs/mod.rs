//! Real OS processes, the counterpart of Python's `multiprocessing.Process` / `Pool`:
//! the program starts copies of itself (`tp4 __worker TASK ARGS...`), each computes
//! its share (a range of numbers, a stream of points, a byte range of a file) and
//! sends its result back over its stdout pipe. Processes share no memory: what goes
//! between them is bytes through a pipe, which is why their start-up and their
//! communication cost more than with threads.
//!
//! Three parts: [`supervisor`] starts the children and watches them (reader threads,
//! kill-and-reap guard, deadline, heartbeat), [`worker`] is the `tp4 __worker` side,
//! [`tasks`] holds the jobs (W1, W2, W4, W5, W7 split over processes).
//!
//! Safety rules kept on every path, errors and panics included: every child started
//! is killed if still running and always waited for (no orphan, no zombie); a child
//! dies with its parent whatever signal killed the parent (`PR_SET_PDEATHSIG`); a
//! child that stops with an error or a signal is reported at once with a clear French
//! message (which worker, how it ended, the last line it wrote on stderr); a child
//! that stops sending its heartbeat (frozen, stopped) is reported within seconds; a
//! global timeout kills everything rather than hang.
//!
//! The executable started is `TP4_EXE` if set (tests and the notebook point it at the
//! built `tp4` binary), else the current executable when it is `tp4` itself.

pub mod supervisor;
pub mod tasks;
pub mod worker;

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

pub use supervisor::{
    describe_status, read_lines, run_workers, watch, Children, Event, Feeder, Job, Stop, Stream,
};
pub use tasks::{
    child_pid, count_primes, estimate_pi, groupby, pipe_sum, process_start_cost, thread_start_cost,
    wordcount,
};
pub use worker::{consume_frames, worker_main};

/// The hidden subcommand that turns `tp4` into a worker.
pub const WORKER_COMMAND: &str = "__worker";

/// The environment variable naming the `tp4` executable to start as workers.
pub const EXE_ENV: &str = "TP4_EXE";

/// How long a group of workers may run before everything is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The `tp4` executable to start: `TP4_EXE`, else the current executable if its name
/// is `tp4` (a test binary or the notebook kernel cannot serve as a worker).
pub fn exe_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(EXE_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(Error::InvalidParameter(format!(
            "{EXE_ENV}={} ne désigne pas un fichier exécutable\n  → construisez la commande avec \
             `cargo build --release` puis `export {EXE_ENV}=$PWD/target/release/tp4`",
            p.display()
        )));
    }
    let current = std::env::current_exe()
        .map_err(|e| Error::Process(format!("chemin de l'exécutable courant introuvable : {e}")))?;
    let stem = current
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    if matches!(stem.as_deref(), Some("tp4" | "tp4-worker")) {
        Ok(current)
    } else {
        Err(Error::InvalidParameter(format!(
            "les processus de travail sont des copies de la commande `tp4`, mais ce programme \
             est {}\n  → construisez-la (`cargo build --release`) et indiquez son chemin : \
             `export {EXE_ENV}=$PWD/target/release/tp4` (dans le notebook : \
             `std::env::set_var(\"{EXE_ENV}\", \"…/target/release/tp4\")`)",
            current.display()
        )))
    }
}
