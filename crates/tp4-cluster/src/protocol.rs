//! What the launcher and the processes it supervises say to each other, in one
//! place: both sides import this module, and neither imports the other.
//!
//! A supervised process writes ordinary lines (its report, relayed by the launcher
//! for process 0) and, mixed with them, lines that start with `@tp4 `:
//! - [`HEARTBEAT`] every [`HEARTBEAT_PERIOD`]: "I am alive";
//! - [`MAPPED_PREFIX`] followed by its longest map step in seconds, once all its
//!   workers finished their map step (the launcher names a process that lags
//!   behind the others);
//! - [`DONE_PREFIX`] followed by the bytes timely wrote on its sockets;
//! - on process 0, [`RESULT_PREFIX`] followed by its [`RunSummary`] in JSON.
//!
//! Its error output is free French text; the launcher keeps its last lines for the
//! error message, and recognises [`LOST_CONNECTION`] to tell a process that failed
//! on its own from one that only lost its connection to the culprit.

use crate::phases::WorkerPhases;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The heartbeat line of a supervised process.
pub const HEARTBEAT: &str = "@tp4 vivant";
/// How often a supervised process prints [`HEARTBEAT`] (well under the launcher's
/// default silence delay of 5 s).
pub const HEARTBEAT_PERIOD: Duration = Duration::from_millis(200);
/// Prefix of the line where process 0 gives the launcher its [`RunSummary`] (JSON).
pub const RESULT_PREFIX: &str = "@tp4 resultat ";
/// Prefix of the line where a process says that all its workers finished their map
/// step, followed by the longest of those steps in seconds.
pub const MAPPED_PREFIX: &str = "@tp4 map-fini ";
/// Prefix of the line where every process gives the launcher its wire bytes.
pub const DONE_PREFIX: &str = "@tp4 fin ";
/// Words of the error line of a process that lost its connection to another one
/// (a consequence of another process's failure, not a cause).
pub const LOST_CONNECTION: &str = "connexion perdue";
/// Environment variable that simulates a failure, for the tests of the launcher and
/// of hostfile runs (`jamais` only under a launcher):
/// `I:jamais` (process I never starts), `I:panique` (process I panics while
/// reading), `I:lent:MS` (process I waits MS milliseconds before reading), `I:faux`
/// (process I changes the first value it maps: a wrong answer, for the
/// verification).
pub const FAULT_VARIABLE: &str = "TP4_CLUSTER_FAUTE";
/// Exit code of a supervised process whose launcher disappeared (stdin closed).
pub const EXIT_LAUNCHER_GONE: i32 = 3;

/// One line of a supervised process's standard output, as the launcher reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// [`HEARTBEAT`].
    Alive,
    /// [`RESULT_PREFIX`] and the JSON of a [`RunSummary`].
    Result(String),
    /// [`DONE_PREFIX`] and the bytes timely wrote (0 if unreadable).
    Done(u64),
    /// [`MAPPED_PREFIX`] and the longest map step of the process, in seconds.
    Mapped(f64),
    /// Anything else: the process's report.
    Text(String),
}

impl Line {
    /// Reads one output line.
    pub fn parse(line: String) -> Line {
        if line == HEARTBEAT {
            Line::Alive
        } else if let Some(json) = line.strip_prefix(RESULT_PREFIX) {
            Line::Result(json.to_string())
        } else if let Some(s) = line.strip_prefix(MAPPED_PREFIX) {
            Line::Mapped(s.trim().parse().unwrap_or(0.0))
        } else if let Some(bytes) = line.strip_prefix(DONE_PREFIX) {
            Line::Done(bytes.trim().parse().unwrap_or(0))
        } else {
            Line::Text(line)
        }
    }
}

/// The line that reports the wire bytes of a process.
pub fn done_line(wire_bytes: u64) -> String {
    format!("{DONE_PREFIX}{wire_bytes}")
}

/// The line that says that all the workers of a process finished their map step,
/// the longest in `seconds`.
pub fn mapped_line(seconds: f64) -> String {
    format!("{MAPPED_PREFIX}{seconds}")
}

/// The line that gives the launcher the summary of process 0.
pub fn result_line(summary: &RunSummary) -> String {
    let json = serde_json::to_string(summary).expect("a summary always serialises");
    format!("{RESULT_PREFIX}{json}")
}

/// The figures of a run, as process 0 reports them (to the launcher, and in
/// `cluster_<calcul>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// `wordcount` or `groupby`.
    pub job: String,
    /// Number of processes.
    pub processes: usize,
    /// Threads per process.
    pub threads: usize,
    /// Seconds of process 0 from its first connection to the end of the dataflow.
    pub seconds: f64,
    /// Total words (wordcount) or rows (groupby).
    pub total: u64,
    /// Distinct words (wordcount) or groups (groupby).
    pub distinct: u64,
    /// Top 10 words, or top 3 cities (name, count or cents).
    pub top: Vec<(String, i64)>,
    /// Pairs sent into the shuffle by all workers (after their combiners).
    pub pairs: u64,
    /// Of those, pairs that went to another process.
    pub remote_pairs: u64,
    /// Serialised bytes of those remote pairs (our counter on the exchange).
    pub remote_bytes: u64,
    /// Bytes timely wrote on the sockets of process 0.
    pub wire_bytes_process0: u64,
    /// `Some(true)` if checked equal to the single-machine reference, `None` if
    /// not checkable (each process read its own partition).
    pub verified: Option<bool>,
    /// Seconds process 0 spent checking the answer (after the run, apart from
    /// [`RunSummary::seconds`]); `None` when it did not check.
    #[serde(default)]
    pub verification_seconds: Option<f64>,
    /// Where the time went, per worker (launch, connections, map, shuffle, reduce,
    /// gather).
    #[serde(default)]
    pub phases: Vec<WorkerPhases>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let s = RunSummary {
            job: "wordcount".into(),
            processes: 2,
            threads: 1,
            seconds: 0.5,
            total: 6,
            distinct: 5,
            top: vec![("a".into(), 2)],
            pairs: 7,
            remote_pairs: 3,
            remote_bytes: 90,
            wire_bytes_process0: 400,
            verified: Some(true),
            verification_seconds: Some(0.125),
            phases: vec![WorkerPhases {
                map: 0.25,
                ..Default::default()
            }],
        };
        let Line::Result(json) = Line::parse(result_line(&s)) else {
            panic!("not a result line");
        };
        assert_eq!(serde_json::from_str::<RunSummary>(&json).unwrap(), s);
        assert_eq!(Line::parse(done_line(1234)), Line::Done(1234));
        assert_eq!(Line::parse(mapped_line(0.25)), Line::Mapped(0.25));
        assert_eq!(Line::parse(HEARTBEAT.into()), Line::Alive);
        assert_eq!(
            Line::parse("Mots : 6".into()),
            Line::Text("Mots : 6".into())
        );
    }
}
