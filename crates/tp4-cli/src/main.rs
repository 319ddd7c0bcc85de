//! `tp4`: the command of the lab. Thin glue over the `tp4` library: it parses the
//! command line (help in French), installs the tracking allocator, calls the library
//! and turns errors into French messages and exit codes.

mod cli;
mod cluster_cli;
mod grade_cli;

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: tp4::alloc::TrackingAllocator = tp4::alloc::TrackingAllocator;

fn main() -> ExitCode {
    tp4::output::quiet_on_closed_stdout();
    tp4::output::remove_temp_files_on_interrupt();
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => return cli::report_usage_error(e),
    };
    // A bad `TP4_SIMD` (the vector level cap) is refused before any work.
    if let Err(e) = tp4::cpu::check_env() {
        eprintln!("erreur : {e}");
        return ExitCode::from(2);
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("erreur : {e}");
            ExitCode::from(1)
        }
    }
}
