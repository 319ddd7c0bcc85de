//! The local launcher: starts the N processes of a run, watches them, and makes
//! sure that the run ends, whatever happens, with every child killed and reaped.
//!
//! Timely has no recovery: if one process dies, the others wait for it forever (or
//! abort when a socket closes). So the launcher watches every child and ends the
//! whole run as soon as one of them
//! - exits with an error, a panic (abort) or a signal,
//! - never starts (no heartbeat within the start-up delay),
//! - freezes (no heartbeat for the silence delay),
//! - or when the whole run exceeds its total delay.
//!
//! It then kills every child still alive (SIGKILL works even on a stopped process),
//! waits for each one (no zombie), and returns a French error naming the process
//! at fault with the last lines it wrote on its error output. A guard kills and
//! reaps the children on every other way out too. Conversely, each supervised
//! child exits when its standard input (a pipe from the launcher) closes, so even a
//! launcher killed with SIGKILL leaves nothing behind.

use crate::worker::{RunSummary, DONE_PREFIX, HEARTBEAT, RESULT_PREFIX};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tp4::{Error, Result};

/// The delays after which the launcher gives up on a process.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A process that has not sent its first heartbeat after this long never started.
    pub startup: Duration,
    /// A started process silent for this long is frozen.
    pub silence: Duration,
    /// The whole run may not take longer than this.
    pub total: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            startup: Duration::from_secs(20),
            silence: Duration::from_secs(5),
            total: Duration::from_secs(600),
        }
    }
}

/// What to start.
pub struct LaunchPlan {
    /// The program of every process (the `tp4` binary itself).
    pub program: PathBuf,
    /// The arguments of each process (one list per process, in process order).
    pub args: Vec<Vec<OsString>>,
    /// Extra environment variables for the children.
    pub env: Vec<(String, String)>,
    /// The delays.
    pub limits: Limits,
    /// Print process 0's report and the launch line (off when measuring).
    pub relay: bool,
}

/// What a successful run returns.
#[derive(Debug, Clone)]
pub struct LaunchReport {
    /// Wall time from the first spawn to the last exit, in seconds.
    pub wall_seconds: f64,
    /// The figures of process 0.
    pub summary: RunSummary,
    /// Bytes timely wrote on the sockets of all processes together.
    pub wire_bytes: u64,
    /// The process ids of the children (all reaped).
    pub pids: Vec<u32>,
}

/// Something a child said, read by a reader thread.
enum Event {
    Alive(usize),
    Line(usize, String),
    Result(usize, String),
    Done(usize, u64),
    Stderr(usize, String),
}

/// The children, killed and reaped when dropped.
struct Children {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    reaped: Vec<Option<ExitStatus>>,
    killed_by_us: Vec<bool>,
}

impl Children {
    /// Kills every child not yet reaped, then waits for all of them.
    fn kill_and_reap(&mut self) {
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.reaped[i].is_none() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.reaped[i] = Some(status);
                    continue;
                }
                self.killed_by_us[i] = true;
                let _ = c.kill();
            }
        }
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.reaped[i].is_none() {
                self.reaped[i] = c.wait().ok();
            }
        }
        self.stdins.iter_mut().for_each(|s| drop(s.take()));
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Why a process made the run fail.
struct Fault {
    process: usize,
    what: String,
}

/// A duration in seconds, French style ("2", "1,5").
pub fn seconds_fr(d: Duration) -> String {
    tp4::fr::seconds_plain(d)
}

/// Describes an exit status in French (the wording of the process tools of `tp4`).
fn describe(status: &ExitStatus) -> String {
    format!("s'est terminé : {}", tp4::procs::describe_status(status))
}

/// Starts the processes of `plan`, watches them to the end, returns the figures of
/// the run or a French error naming the process at fault. Every child is reaped
/// before this returns, in every case.
pub fn launch(plan: &LaunchPlan) -> Result<LaunchReport> {
    let n = plan.args.len();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<Event>();
    let mut kids = Children {
        children: Vec::with_capacity(n),
        stdins: Vec::with_capacity(n),
        reaped: vec![None; n],
        killed_by_us: vec![false; n],
    };
    let mut readers = Vec::new();
    for (i, args) in plan.args.iter().enumerate() {
        let mut cmd = Command::new(&plan.program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &plan.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            Error::Other(format!(
                "le processus {i} n'a pas pu être lancé ({}) : {e}\n  → tous les processus déjà \
                 lancés ont été arrêtés",
                plan.program.display()
            ))
        })?;
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        kids.stdins.push(child.stdin.take());
        kids.children.push(child);
        let t = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                let ev = if line == HEARTBEAT {
                    Event::Alive(i)
                } else if let Some(json) = line.strip_prefix(RESULT_PREFIX) {
                    Event::Result(i, json.to_string())
                } else if let Some(b) = line.strip_prefix(DONE_PREFIX) {
                    Event::Done(i, b.trim().parse().unwrap_or(0))
                } else {
                    Event::Line(i, line)
                };
                if t.send(ev).is_err() {
                    break;
                }
            }
        }));
        let t = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                if t.send(Event::Stderr(i, line)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let pids: Vec<u32> = kids.children.iter().map(Child::id).collect();
    if plan.relay {
        let list: Vec<String> = pids
            .iter()
            .enumerate()
            .map(|(i, p)| format!("processus {i} : pid {p}"))
            .collect();
        eprintln!("Lancement de {n} processus ({}).", list.join(", "));
    }

    let mut last_seen: Vec<Option<Instant>> = vec![None; n];
    let mut stderr_tail: Vec<VecDeque<String>> = vec![VecDeque::new(); n];
    let mut summary: Option<String> = None;
    let mut wire_bytes = 0u64;
    let mut fault: Option<Fault> = None;
    let handle = |ev: Event,
                  last_seen: &mut Vec<Option<Instant>>,
                  stderr_tail: &mut Vec<VecDeque<String>>,
                  summary: &mut Option<String>,
                  wire_bytes: &mut u64| match ev {
        Event::Alive(i) => last_seen[i] = Some(Instant::now()),
        Event::Line(i, l) => {
            last_seen[i] = Some(Instant::now());
            if plan.relay && i == 0 {
                println!("{l}");
                let _ = std::io::stdout().flush();
            }
        }
        Event::Result(i, json) => {
            last_seen[i] = Some(Instant::now());
            *summary = Some(json);
        }
        Event::Done(i, b) => {
            last_seen[i] = Some(Instant::now());
            *wire_bytes += b;
        }
        Event::Stderr(i, l) => {
            let tail = &mut stderr_tail[i];
            if tail.len() == 20 {
                tail.pop_front();
            }
            tail.push_back(l);
        }
    };

    while fault.is_none() {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            handle(
                ev,
                &mut last_seen,
                &mut stderr_tail,
                &mut summary,
                &mut wire_bytes,
            );
        }
        // Exits: a failure ends the run at once.
        for i in 0..n {
            if kids.reaped[i].is_none() {
                match kids.children[i].try_wait() {
                    Ok(Some(status)) => {
                        kids.reaped[i] = Some(status);
                        if !status.success() && fault.is_none() {
                            fault = Some(Fault {
                                process: i,
                                what: describe(&status),
                            });
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        fault = Some(Fault {
                            process: i,
                            what: format!("ne peut plus être surveillé : {e}"),
                        })
                    }
                }
            }
        }
        if fault.is_some() || kids.reaped.iter().all(Option::is_some) {
            break;
        }
        // Silences: never started, frozen, too long.
        let now = Instant::now();
        for (i, seen) in last_seen.iter().enumerate() {
            if kids.reaped[i].is_some() || fault.is_some() {
                continue;
            }
            match *seen {
                None if now - started > plan.limits.startup => {
                    fault = Some(Fault {
                        process: i,
                        what: format!(
                            "n'a pas démarré : aucun signe de vie après {} s",
                            seconds_fr(plan.limits.startup)
                        ),
                    })
                }
                Some(t) if now - t > plan.limits.silence => {
                    fault = Some(Fault {
                        process: i,
                        what: format!(
                            "ne répond plus depuis {} s (gelé, arrêté ou surchargé)",
                            seconds_fr(plan.limits.silence)
                        ),
                    })
                }
                _ => {}
            }
        }
        if fault.is_none() && now - started > plan.limits.total {
            let slowest = (0..n).find(|&i| kids.reaped[i].is_none()).unwrap_or(0);
            fault = Some(Fault {
                process: slowest,
                what: format!(
                    "n'a pas fini dans le délai total de {} s",
                    seconds_fr(plan.limits.total)
                ),
            });
        }
    }

    // End of the run. After a failure, give the other processes a moment to stop
    // on their own (they usually abort when their connection to the culprit
    // closes), so that only the ones really stuck are counted as killed by us.
    if fault.is_some() {
        let grace = Instant::now() + Duration::from_millis(400);
        while Instant::now() < grace && kids.reaped.iter().any(Option::is_none) {
            for (i, c) in kids.children.iter_mut().enumerate() {
                if kids.reaped[i].is_none() {
                    if let Ok(Some(status)) = c.try_wait() {
                        kids.reaped[i] = Some(status);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Kill what is left, reap everyone, read what they wrote.
    kids.kill_and_reap();
    let wall_seconds = started.elapsed().as_secs_f64();
    let drain_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < drain_until {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(ev) => handle(
                ev,
                &mut last_seen,
                &mut stderr_tail,
                &mut summary,
                &mut wire_bytes,
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    for r in readers {
        if r.is_finished() {
            let _ = r.join();
        }
    }

    if let Some(mut f) = fault {
        // Processes that died only because they lost a connection to the culprit
        // are not the cause: name one that failed on its own if there is one.
        let cascade = |i: usize| {
            stderr_tail[i]
                .iter()
                .any(|l| l.contains("connexion perdue"))
        };
        if cascade(f.process) {
            if let Some(j) = (0..n).find(|&j| {
                !kids.killed_by_us[j] && !cascade(j) && kids.reaped[j].is_some_and(|s| !s.success())
            }) {
                f = Fault {
                    process: j,
                    what: describe(&kids.reaped[j].expect("checked above")),
                };
            }
        }
        let mut msg = format!(
            "le processus {} (pid {}) {}.",
            f.process, pids[f.process], f.what
        );
        if !stderr_tail[f.process].is_empty() {
            msg.push_str("\n  Ses derniers messages d'erreur :");
            for l in &stderr_tail[f.process] {
                msg.push_str(&format!("\n    {l}"));
            }
        }
        msg.push_str(&format!(
            "\n  → le calcul distribué ne peut pas continuer sans ce processus et ne reprend \
             pas seul : les {n} processus ont été arrêtés (aucun ne reste en mémoire) ; \
             corrigez la cause et relancez la commande."
        ));
        return Err(Error::Other(msg));
    }
    let Some(json) = summary else {
        return Err(Error::Other(
            "le processus 0 s'est terminé sans donner de résultat".into(),
        ));
    };
    let summary: RunSummary = serde_json::from_str(&json)
        .map_err(|e| Error::Other(format!("résultat illisible du processus 0 : {e}")))?;
    Ok(LaunchReport {
        wall_seconds,
        summary,
        wire_bytes,
        pids,
    })
}
