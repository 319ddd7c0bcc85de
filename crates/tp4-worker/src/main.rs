//! `tp4-worker`: the worker process of the lab, and nothing else. The processes that
//! `tp4::procs` starts run `EXE __worker TASK ARGS...`; the full `tp4` command serves,
//! but it also compiles clap and the timely cluster. This binary depends on the `tp4`
//! library only, so the notebook can build it quickly the first time it needs worker
//! processes (exercise 4).
//!
//! Accepted command lines: `tp4-worker __worker TASK ARGS...`, `tp4-worker TASK
//! ARGS...` and `tp4-worker --version`.

use std::process::ExitCode;

/// Runs the task named on the command line and reports errors in French on stderr.
fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("tp4-worker {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some(tp4::procs::WORKER_COMMAND) {
        args.remove(0);
    }
    match tp4::procs::worker_main(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tp4-worker : {e}");
            ExitCode::FAILURE
        }
    }
}
