//! The local launcher: starts the N processes of a run, watches them, and makes
//! sure that the run ends, whatever happens, with every child killed and reaped.
//!
//! Timely has no recovery: if one process dies, the others wait for it forever (or
//! abort when a socket closes). So the launcher watches every child and ends the
//! whole run as soon as one of them
//! - exits with an error, a panic (abort) or a signal,
//! - never starts (no heartbeat within the start-up delay),
//! - freezes (no heartbeat for the silence delay),
//! - lags behind: every other process reported the end of its map step and has
//!   waited for it longer than the lag delay and ten times its own map step,
//! - or when the whole run exceeds its total delay.
//!
//! It then kills every child still alive (SIGKILL works even on a stopped process),
//! waits for each one (no zombie), and returns a French error naming the process
//! at fault with the last lines it wrote on its error output. A guard kills and
//! reaps the children on every other way out too. Conversely, each supervised
//! child exits when its standard input (a pipe from the launcher) closes, so even a
//! launcher killed with SIGKILL leaves nothing behind.

use crate::protocol::{Line, RunSummary, LOST_CONNECTION};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tp4::fr::seconds_plain;
use tp4::procs::{read_lines, watch, Children, Event, Stop, Stream};
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
    /// A process whose map step is still running when every other one finished
    /// its own this long ago (and ten times its own map step ago) lags behind.
    pub lag: Duration,
}

/// How many times their own map step the other processes wait for one that lags
/// behind (beyond [`Limits::lag`]).
pub const LAG_FACTOR: f64 = 10.0;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            startup: Duration::from_secs(20),
            silence: Duration::from_secs(5),
            total: Duration::from_secs(600),
            lag: Duration::from_secs(30),
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

impl LaunchReport {
    /// The time of the run itself, launch included and process 0's verification
    /// excluded: [`LaunchReport::wall_seconds`] minus
    /// [`RunSummary::verification_seconds`] (the check runs on process 0 after the
    /// dataflow, before the process exits, and is reported apart).
    pub fn run_seconds(&self) -> f64 {
        (self.wall_seconds - self.summary.verification_seconds.unwrap_or(0.0)).max(0.0)
    }
}

/// Longest line of a child relayed or kept, in characters (longer ones are cut,
/// saying how long they were): what is shown stays proportionate to the answer,
/// never to the input.
const LINE_CHARS: usize = 2000;

/// How many lines of each child's error output are kept for the error message.
const STDERR_TAIL: usize = 20;
/// After a failure, how long the other processes get to stop on their own.
const GRACE: Duration = Duration::from_millis(400);

/// Why a process made the run fail.
struct Fault {
    process: usize,
    what: String,
}

/// What the launcher knows of its children from what they wrote.
struct Watch {
    /// Relay process 0's report on our standard output.
    relay: bool,
    /// When each child last gave a sign of life (`None`: never).
    last_seen: Vec<Option<Instant>>,
    /// When each child reported the end of its map step, and how long its longest
    /// map step took in seconds (`None`: not yet).
    mapped: Vec<Option<(Instant, f64)>>,
    /// The last lines of each child's error output.
    stderr_tail: Vec<VecDeque<String>>,
    /// Process 0's summary (JSON), once it gave it.
    summary: Option<String>,
    /// Wire bytes reported so far, all processes together.
    wire_bytes: u64,
}

impl Watch {
    /// Nothing heard yet from `n` children.
    fn new(n: usize, relay: bool) -> Self {
        Watch {
            relay,
            last_seen: vec![None; n],
            mapped: vec![None; n],
            stderr_tail: vec![VecDeque::new(); n],
            summary: None,
            wire_bytes: 0,
        }
    }

    /// Takes one event into account (a line of a child; the end of a stream says
    /// nothing more than the child's exit, which the supervisor sees).
    fn handle(&mut self, ev: Event) {
        let Event::Line {
            child: i,
            stream,
            bytes,
        } = ev
        else {
            return;
        };
        let mut line = String::from_utf8_lossy(&bytes).into_owned();
        while line.ends_with(['\n', '\r']) {
            line.pop();
        }
        // A report or error line is shown to a person: one word of the input (a
        // 100 MB "word") must not make it 100 MB long. The result line is JSON
        // read by this program, never shown as it is: it is not cut.
        let shown = |l: String| {
            if l.len() > LINE_CHARS {
                tp4::fr::cut(&l, LINE_CHARS)
            } else {
                l
            }
        };
        match stream {
            Stream::Stdout => {
                self.last_seen[i] = Some(Instant::now());
                match Line::parse(line) {
                    Line::Alive => {}
                    Line::Text(l) => {
                        if self.relay && i == 0 {
                            println!("{}", shown(l));
                            let _ = std::io::stdout().flush();
                        }
                    }
                    Line::Result(json) => self.summary = Some(json),
                    Line::Done(b) => self.wire_bytes += b,
                    Line::Mapped(seconds) => self.mapped[i] = Some((Instant::now(), seconds)),
                }
            }
            Stream::Stderr => {
                let tail = &mut self.stderr_tail[i];
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(shown(line));
            }
        }
    }

    /// A child still running that never started or froze (the total delay is the
    /// supervisor's deadline).
    fn check_silences(&self, limits: &Limits, started: Instant, kids: &Children) -> Option<Fault> {
        let now = Instant::now();
        for (i, seen) in self.last_seen.iter().enumerate() {
            if kids.status(i).is_some() {
                continue;
            }
            match *seen {
                None if now - started > limits.startup => {
                    return Some(Fault {
                        process: i,
                        what: format!(
                            "n'a pas démarré : aucun signe de vie après {} s",
                            seconds_plain(limits.startup)
                        ),
                    })
                }
                Some(t) if now - t > limits.silence => {
                    return Some(Fault {
                        process: i,
                        what: format!(
                            "ne répond plus depuis {} s (gelé, arrêté ou surchargé)",
                            seconds_plain(limits.silence)
                        ),
                    })
                }
                _ => {}
            }
        }
        None
    }

    /// A child still running whose map step lags behind: every other process has
    /// finished its own, the last of them more than [`Limits::lag`] and
    /// [`LAG_FACTOR`] times the longest of their map steps ago. Names the first
    /// such process, the others late with it, and how long they were waited for.
    fn check_lag(&self, limits: &Limits, kids: &Children) -> Option<Fault> {
        let late: Vec<usize> = (0..self.mapped.len())
            .filter(|&i| self.mapped[i].is_none())
            .collect();
        let done: Vec<(Instant, f64)> = self.mapped.iter().flatten().copied().collect();
        let (&first, _) = late.split_first()?;
        if done.is_empty() || late.iter().any(|&i| kids.status(i).is_some()) {
            return None;
        }
        let last = done.iter().map(|d| d.0).max()?;
        let longest = done.iter().map(|d| d.1).fold(0.0, f64::max);
        let bound = limits
            .lag
            .max(Duration::from_secs_f64(LAG_FACTOR * longest));
        let waited = last.elapsed();
        if waited <= bound {
            return None;
        }
        let others: Vec<usize> = (0..self.mapped.len())
            .filter(|i| !late.contains(i))
            .collect();
        let also = if late.len() > 1 {
            format!(" (ainsi que {})", processes(&late[1..]))
        } else {
            String::new()
        };
        Some(Fault {
            process: first,
            what: format!(
                "est en retard{also} : il n'a pas fini de lire sa part (étape map) alors que \
                 {} {} fini la leur en {} s au plus et l'attend{} depuis {} s (limite : {} s, \
                 le plus grand de --delai-retard et de {LAG_FACTOR} fois leur lecture) ; \
                 disque ou machine plus lents, ou processus bloqué",
                processes(&others),
                if others.len() > 1 { "ont" } else { "a" },
                tp4::fr::decimal(longest, 3),
                if others.len() > 1 { "ent" } else { "" },
                tp4::fr::decimal(waited.as_secs_f64(), 1),
                tp4::fr::decimal(bound.as_secs_f64(), 1),
            ),
        })
    }

    /// Whether process `i` only died because it lost its connection to another one.
    fn lost_connection(&self, i: usize) -> bool {
        self.stderr_tail[i]
            .iter()
            .any(|l| l.contains(LOST_CONNECTION))
    }
}

/// "le processus 2", "les processus 0 et 2", "les processus 0, 1 et 3".
fn processes(list: &[usize]) -> String {
    let names: Vec<String> = list.iter().map(usize::to_string).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => format!("le processus {last}"),
        Some((last, rest)) => format!("les processus {} et {last}", rest.join(", ")),
    }
}

/// Describes an exit status in French (the wording of the process tools of `tp4`).
fn describe(status: &ExitStatus) -> String {
    format!("s'est terminé : {}", tp4::procs::describe_status(status))
}

/// Starts the processes of `plan`, watches them to the end, returns the figures of
/// the run or a French error naming the process at fault. Every child is reaped
/// before this returns, in every case: the lab's process supervisor
/// ([`tp4::procs::Children`] and [`tp4::procs::watch`]) does the starting, the
/// reading, the killing and the reaping; this module adds what is particular to a
/// distributed run (heartbeats on stdout, the culprit among processes that lost their
/// connection to it, process 0's summary).
pub fn launch(plan: &LaunchPlan) -> Result<LaunchReport> {
    let n = plan.args.len();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<Event>();
    let mut kids = Children::new();
    // Kept open for the whole run: a supervised process exits when its stdin closes,
    // so even a launcher killed with SIGKILL leaves nothing behind.
    let _stdins = spawn_all(plan, &mut kids, &tx)?;
    drop(tx);
    let pids = kids.pids();
    if plan.relay {
        announce(&pids);
    }
    let state = RefCell::new(Watch::new(n, plan.relay));
    let silence: Cell<Option<Fault>> = Cell::new(None);
    let outcome = watch(
        &mut kids,
        &rx,
        2 * n,
        started + plan.limits.total,
        GRACE,
        |ev| {
            state.borrow_mut().handle(ev);
            Ok(())
        },
        |kids| {
            let found = {
                let w = state.borrow();
                w.check_silences(&plan.limits, started, kids)
                    .or_else(|| w.check_lag(&plan.limits, kids))
            };
            match found {
                Some(f) => {
                    let what = f.what.clone();
                    silence.set(Some(f));
                    Err(Error::Process(what))
                }
                None => Ok(()),
            }
        },
    );
    let wall_seconds = started.elapsed().as_secs_f64();
    let watch = state.into_inner();
    let fault = match outcome {
        Ok(()) => None,
        Err(Stop::Crashed(i, status)) => Some(Fault {
            process: i,
            what: describe(&status),
        }),
        Err(Stop::Timeout) => Some(Fault {
            // The one still mapping when the others had finished, if any.
            process: (0..n)
                .find(|&i| watch.mapped[i].is_none() && watch.mapped.iter().any(Option::is_some))
                .or_else(|| (0..n).find(|&i| kids.killed_by_us(i)))
                .unwrap_or(0),
            what: format!(
                "n'a pas fini dans le délai total de {} s",
                seconds_plain(plan.limits.total)
            ),
        }),
        Err(Stop::Failed(e)) => Some(silence.take().unwrap_or(Fault {
            process: 0,
            what: e.to_string(),
        })),
    };
    if let Some(f) = fault {
        return Err(fault_error(f, &kids, &watch, &pids));
    }
    let Some(json) = watch.summary else {
        return Err(Error::Process(
            "le processus 0 s'est terminé sans donner de résultat".into(),
        ));
    };
    let summary: RunSummary = serde_json::from_str(&json)
        .map_err(|e| Error::Process(format!("résultat illisible du processus 0 : {e}")))?;
    Ok(LaunchReport {
        wall_seconds,
        summary,
        wire_bytes: watch.wire_bytes,
        pids,
    })
}

/// Starts every process of `plan` with its two reader threads, and returns their
/// standard inputs (the caller keeps them open). On a failure to start one, the
/// error is returned and `kids` (dropped by the caller) kills and reaps the ones
/// already started.
fn spawn_all(
    plan: &LaunchPlan,
    kids: &mut Children,
    tx: &mpsc::Sender<Event>,
) -> Result<Vec<Option<ChildStdin>>> {
    let mut stdins = Vec::new();
    for (i, args) in plan.args.iter().enumerate() {
        let mut cmd = Command::new(&plan.program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &plan.env {
            cmd.env(k, v);
        }
        kids.spawn(format!("processus {i}"), &mut cmd)
            .map_err(|e| {
                Error::Process(format!(
                "le processus {i} n'a pas pu être lancé ({}) : {e}\n  → tous les processus déjà \
                 lancés ont été arrêtés",
                plan.program.display()
            ))
            })?;
        let child = kids.child_mut(i);
        stdins.push(child.stdin.take());
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        read_lines(out, i, Stream::Stdout, tx.clone());
        read_lines(err, i, Stream::Stderr, tx.clone());
    }
    Ok(stdins)
}

/// Prints the launch line with the pid of every process (the tests read it).
fn announce(pids: &[u32]) {
    let list: Vec<String> = pids
        .iter()
        .enumerate()
        .map(|(i, p)| format!("processus {i} : pid {p}"))
        .collect();
    eprintln!(
        "Lancement de {} processus ({}).",
        pids.len(),
        list.join(", ")
    );
}

/// The French error of a failed run: the process at fault, its last error lines,
/// and what to do.
fn fault_error(mut f: Fault, kids: &Children, watch: &Watch, pids: &[u32]) -> Error {
    let n = pids.len();
    // Processes that died only because they lost a connection to the culprit
    // are not the cause: name one that failed on its own if there is one.
    if watch.lost_connection(f.process) {
        if let Some(j) = (0..n).find(|&j| {
            !kids.killed_by_us(j)
                && !watch.lost_connection(j)
                && kids.status(j).is_some_and(|s| !s.success())
        }) {
            f = Fault {
                process: j,
                what: describe(&kids.status(j).expect("checked above")),
            };
        }
    }
    let mut msg = format!(
        "le processus {} (pid {}) {}.",
        f.process, pids[f.process], f.what
    );
    let tail = &watch.stderr_tail[f.process];
    if !tail.is_empty() {
        msg.push_str("\n  Ses derniers messages d'erreur :");
        for l in tail {
            msg.push_str(&format!("\n    {l}"));
        }
    }
    // A process that stopped with its own French error (exit code 1: bad data, a
    // full disk, a wrong option) already says what to fix; running the same command
    // again cannot help, so the advice does not suggest it.
    let own_error = !kids.killed_by_us(f.process)
        && kids.status(f.process).is_some_and(|s| s.code() == Some(1))
        && !tail.is_empty();
    msg.push_str(&format!(
        "\n  → le calcul distribué ne peut pas continuer sans ce processus et ne reprend \
         pas seul : les {n} processus ont été arrêtés (aucun ne reste en mémoire) ; {}",
        if own_error {
            "corrigez ce que dit son message ci-dessus (fichier, ligne, option), puis \
             lancez à nouveau la commande."
        } else {
            "corrigez la cause (processus tué, gelé ou trop lent : voir ci-dessus) et \
             relancez la commande."
        }
    ));
    Error::Process(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_lists_read_as_french() {
        assert_eq!(processes(&[2]), "le processus 2");
        assert_eq!(processes(&[0, 2]), "les processus 0 et 2");
        assert_eq!(processes(&[0, 1, 3]), "les processus 0, 1 et 3");
    }

    /// Finding 7 of issue 24: a child's line holding one huge word is cut, on
    /// stdout (relayed report) and in the kept error lines, saying its length.
    #[test]
    fn a_huge_line_of_a_child_is_cut_saying_how_long_it_was() {
        let mut w = Watch::new(1, false);
        let huge = format!("mot {}\n", "x".repeat(5_000_000));
        w.handle(Event::Line {
            child: 0,
            stream: Stream::Stderr,
            bytes: huge.clone().into_bytes(),
        });
        let kept = &w.stderr_tail[0][0];
        assert!(kept.chars().count() < LINE_CHARS + 40, "{}", kept.len());
        assert!(
            kept.ends_with("004 caractères)"),
            "{}",
            &kept[kept.len() - 40..]
        );
        w.handle(Event::Line {
            child: 0,
            stream: Stream::Stderr,
            bytes: b"court\n".to_vec(),
        });
        assert_eq!(w.stderr_tail[0][1], "court");
    }
}
