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

use crate::protocol::{Line, RunSummary, LOST_CONNECTION};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tp4::fr::seconds_plain;
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
    /// A line of its standard output.
    Out(usize, Line),
    /// A line of its error output.
    Err(usize, String),
}

/// How many lines of each child's error output are kept for the error message.
const STDERR_TAIL: usize = 20;
/// How often the launcher looks at its children when they say nothing.
const POLL: Duration = Duration::from_millis(50);
/// After a failure, how long the other processes get to stop on their own.
const GRACE: Duration = Duration::from_millis(400);
/// After the last exit, how long the launcher waits for the last lines.
const DRAIN: Duration = Duration::from_secs(2);

/// The children, killed and reaped when dropped.
struct Children {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    reaped: Vec<Option<ExitStatus>>,
    killed_by_us: Vec<bool>,
}

impl Children {
    /// Room for `n` children, none started yet.
    fn new(n: usize) -> Self {
        Children {
            children: Vec::with_capacity(n),
            stdins: Vec::with_capacity(n),
            reaped: vec![None; n],
            killed_by_us: vec![false; n],
        }
    }

    /// Whether every child has been reaped.
    fn all_reaped(&self) -> bool {
        self.reaped.iter().all(Option::is_some)
    }

    /// Reaps the children that have exited, without waiting.
    fn reap_exited(&mut self) {
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.reaped[i].is_none() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.reaped[i] = Some(status);
                }
            }
        }
    }

    /// Reaps the children that have exited; returns the first failure among them
    /// (an exit with an error, a signal, or a child that cannot be watched).
    fn check_exits(&mut self) -> Option<Fault> {
        let mut fault = None;
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.reaped[i].is_some() {
                continue;
            }
            match c.try_wait() {
                Ok(Some(status)) => {
                    self.reaped[i] = Some(status);
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
        fault
    }

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

/// What the launcher knows of its children from what they wrote.
struct Watch {
    /// Relay process 0's report on our standard output.
    relay: bool,
    /// When each child last gave a sign of life (`None`: never).
    last_seen: Vec<Option<Instant>>,
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
            stderr_tail: vec![VecDeque::new(); n],
            summary: None,
            wire_bytes: 0,
        }
    }

    /// Takes one event into account.
    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Out(i, line) => {
                self.last_seen[i] = Some(Instant::now());
                match line {
                    Line::Alive => {}
                    Line::Text(l) => {
                        if self.relay && i == 0 {
                            println!("{l}");
                            let _ = std::io::stdout().flush();
                        }
                    }
                    Line::Result(json) => self.summary = Some(json),
                    Line::Done(b) => self.wire_bytes += b,
                }
            }
            Event::Err(i, l) => {
                let tail = &mut self.stderr_tail[i];
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(l);
            }
        }
    }

    /// Reads what the children still have to say, for at most [`DRAIN`].
    fn drain(&mut self, rx: &mpsc::Receiver<Event>) {
        let until = Instant::now() + DRAIN;
        while Instant::now() < until {
            match rx.recv_timeout(POLL) {
                Ok(ev) => self.handle(ev),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// A child still running that never started, froze, or a run over its total
    /// delay.
    fn check_silences(
        &self,
        limits: &Limits,
        started: Instant,
        reaped: &[Option<ExitStatus>],
    ) -> Option<Fault> {
        let now = Instant::now();
        for (i, seen) in self.last_seen.iter().enumerate() {
            if reaped[i].is_some() {
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
        (now - started > limits.total).then(|| Fault {
            process: reaped.iter().position(Option::is_none).unwrap_or(0),
            what: format!(
                "n'a pas fini dans le délai total de {} s",
                seconds_plain(limits.total)
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
    let mut kids = Children::new(n);
    let readers = spawn_all(plan, &mut kids, &tx)?;
    drop(tx);
    let pids: Vec<u32> = kids.children.iter().map(Child::id).collect();
    if plan.relay {
        announce(&pids);
    }
    let mut watch = Watch::new(n, plan.relay);
    let fault = watch_until_done(plan, &mut kids, &rx, &mut watch, started);
    // End of the run. After a failure, give the other processes a moment to stop
    // on their own (they usually abort when their connection to the culprit
    // closes), so that only the ones really stuck are counted as killed by us.
    if fault.is_some() {
        let grace = Instant::now() + GRACE;
        while Instant::now() < grace && !kids.all_reaped() {
            kids.reap_exited();
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Kill what is left, reap everyone, read what they wrote.
    kids.kill_and_reap();
    let wall_seconds = started.elapsed().as_secs_f64();
    watch.drain(&rx);
    for r in readers {
        if r.is_finished() {
            let _ = r.join();
        }
    }
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

/// Starts every process of `plan` with its two reader threads. On a failure to
/// start one, the error is returned and `kids` (dropped by the caller) kills and
/// reaps the ones already started.
fn spawn_all(
    plan: &LaunchPlan,
    kids: &mut Children,
    tx: &mpsc::Sender<Event>,
) -> Result<Vec<JoinHandle<()>>> {
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
            Error::Process(format!(
                "le processus {i} n'a pas pu être lancé ({}) : {e}\n  → tous les processus déjà \
                 lancés ont été arrêtés",
                plan.program.display()
            ))
        })?;
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        kids.stdins.push(child.stdin.take());
        kids.children.push(child);
        readers.push(read_lines(out, tx.clone(), move |l| {
            Event::Out(i, Line::parse(l))
        }));
        readers.push(read_lines(err, tx.clone(), move |l| Event::Err(i, l)));
    }
    Ok(readers)
}

/// A thread that sends every line of `from` as an event, until either side closes.
fn read_lines(
    from: impl Read + Send + 'static,
    tx: mpsc::Sender<Event>,
    event: impl Fn(String) -> Event + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(|l| l.ok()) {
            if tx.send(event(line)).is_err() {
                break;
            }
        }
    })
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

/// Watches the children until they have all exited (`None`) or one of them makes
/// the run fail (its [`Fault`]).
fn watch_until_done(
    plan: &LaunchPlan,
    kids: &mut Children,
    rx: &mpsc::Receiver<Event>,
    watch: &mut Watch,
    started: Instant,
) -> Option<Fault> {
    loop {
        if let Ok(ev) = rx.recv_timeout(POLL) {
            watch.handle(ev);
        }
        // Exits: a failure ends the run at once.
        if let Some(f) = kids.check_exits() {
            return Some(f);
        }
        if kids.all_reaped() {
            return None;
        }
        // Silences: never started, frozen, too long.
        if let Some(f) = watch.check_silences(&plan.limits, started, &kids.reaped) {
            return Some(f);
        }
    }
}

/// The French error of a failed run: the process at fault, its last error lines,
/// and what to do.
fn fault_error(mut f: Fault, kids: &Children, watch: &Watch, pids: &[u32]) -> Error {
    let n = pids.len();
    // Processes that died only because they lost a connection to the culprit
    // are not the cause: name one that failed on its own if there is one.
    if watch.lost_connection(f.process) {
        if let Some(j) = (0..n).find(|&j| {
            !kids.killed_by_us[j]
                && !watch.lost_connection(j)
                && kids.reaped[j].is_some_and(|s| !s.success())
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
    let tail = &watch.stderr_tail[f.process];
    if !tail.is_empty() {
        msg.push_str("\n  Ses derniers messages d'erreur :");
        for l in tail {
            msg.push_str(&format!("\n    {l}"));
        }
    }
    msg.push_str(&format!(
        "\n  → le calcul distribué ne peut pas continuer sans ce processus et ne reprend \
         pas seul : les {n} processus ont été arrêtés (aucun ne reste en mémoire) ; \
         corrigez la cause et relancez la commande."
    ));
    Error::Process(msg)
}
