//! The parent side of worker processes: start children under a guard that kills and
//! reaps them on every path ([`Children`]), read their stdout and stderr on threads
//! that send one [`Event`] per line, and [`watch`] them until they are done, stopping
//! everything at the first failure, at the deadline, or when the caller's tick hook
//! (the heartbeat check) says a child went silent. [`run_workers`] puts the steps
//! together for the lab's jobs.

use super::{exe_path, WORKER_COMMAND};
use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// The line a worker writes on stderr every [`HEARTBEAT_EVERY`] to say it is alive.
pub const HEARTBEAT: &str = "tp4:pouls";

/// How often a worker writes its heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);

/// How long a worker may stay silent (no heartbeat, no output) before it is declared
/// frozen and the group is stopped.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(5);

/// How often [`watch`] checks the children when no line arrives.
const TICK: Duration = Duration::from_millis(50);

/// What writes a child's stdin.
pub type Feeder = Box<dyn FnOnce(&mut ChildStdin) -> std::io::Result<()> + Send>;

/// One worker to start: its task arguments and, optionally, what to write on its
/// stdin (run on a thread of its own while the child runs).
pub struct Job {
    /// Arguments after `__worker` (task name first).
    pub args: Vec<String>,
    /// Writes the child's input; the pipe is closed when it returns.
    pub input: Option<Feeder>,
}

impl Job {
    /// A job without input.
    pub fn new(args: impl IntoIterator<Item = impl Into<String>>) -> Job {
        Job {
            args: args.into_iter().map(Into::into).collect(),
            input: None,
        }
    }
}

/// The children of one group, each with a label for messages. Kills (if still
/// running) and waits for every child when dropped: the guarantee that no path leaves
/// a process behind.
#[derive(Default)]
pub struct Children {
    procs: Vec<Child>,
    labels: Vec<String>,
    ended: Vec<Option<ExitStatus>>,
    killed: Vec<bool>,
}

impl Children {
    /// An empty group.
    pub fn new() -> Children {
        Children::default()
    }

    /// Starts `cmd` as child number `len()`; on Linux the child is killed by the
    /// kernel if this thread's process dies (`PR_SET_PDEATHSIG`), so that no worker
    /// outlives a parent killed by any signal, SIGKILL included.
    ///
    /// Each child leads its own process group (`setpgid(0, 0)`): killing a child
    /// kills its group ([`kill_group`]), so the processes a worker started itself (a
    /// script that runs `sleep`, say) go with it instead of running on, orphaned.
    pub fn spawn(&mut self, label: impl Into<String>, cmd: &mut Command) -> Result<usize> {
        die_with_parent(cmd);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(cmd, 0);
        let label = label.into();
        let child = cmd.spawn().map_err(|e| {
            Error::Process(format!(
                "impossible de démarrer le processus de travail « {label} » : {e}"
            ))
        })?;
        if let Ok(mut groups) = GROUPS.lock() {
            groups.push(child.id());
        }
        crate::output::run_before_abrupt_exit(kill_all_groups);
        self.procs.push(child);
        self.labels.push(label);
        self.ended.push(None);
        self.killed.push(false);
        Ok(self.procs.len() - 1)
    }

    /// Number of children started.
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// True when no child was started.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// The label of child `i`, for messages.
    pub fn label(&self, i: usize) -> &str {
        &self.labels[i]
    }

    /// The process ids of the children.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(Child::id).collect()
    }

    /// The child itself (to take its pipes).
    pub fn child_mut(&mut self, i: usize) -> &mut Child {
        &mut self.procs[i]
    }

    /// How child `i` ended, if it has been reaped.
    pub fn status(&self, i: usize) -> Option<ExitStatus> {
        self.ended[i]
    }

    /// True when child `i` was still running when [`Children::kill_all`] killed it
    /// (it did not end on its own).
    pub fn killed_by_us(&self, i: usize) -> bool {
        self.killed[i]
    }

    /// True when every child has ended and been reaped.
    pub fn all_ended(&self) -> bool {
        self.ended.iter().all(Option::is_some)
    }

    /// Reaps the children that have exited; returns the first one that failed
    /// (non-zero code or signal), with its status.
    pub fn poll(&mut self) -> Option<(usize, ExitStatus)> {
        let mut failed = None;
        for (i, c) in self.procs.iter_mut().enumerate() {
            if self.ended[i].is_none() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.ended[i] = Some(status);
                    if !status.success() && failed.is_none() {
                        failed = Some((i, status));
                    }
                }
            }
        }
        failed
    }

    /// Sends SIGKILL to every child still running (a child that already exited is
    /// reaped instead, so that its own status is kept and it is not counted as
    /// killed).
    pub fn kill_all(&mut self) {
        for (i, c) in self.procs.iter_mut().enumerate() {
            if self.ended[i].is_none() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.ended[i] = Some(status);
                } else {
                    self.killed[i] = true;
                    kill_group(c.id());
                    let _ = c.kill();
                }
            }
        }
    }

    /// Waits for every child (call after [`Children::kill_all`] or once all ended).
    pub fn reap_all(&mut self) {
        for (i, c) in self.procs.iter_mut().enumerate() {
            if self.ended[i].is_none() {
                if let Ok(s) = c.wait() {
                    self.ended[i] = Some(s);
                }
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_all();
        self.reap_all();
        // A child that ended on its own may have left processes of its group
        // behind: they go too, and the groups are forgotten.
        for c in &self.procs {
            kill_group(c.id());
        }
        if let Ok(mut groups) = GROUPS.lock() {
            groups.retain(|g| !self.procs.iter().any(|c| c.id() == *g));
        }
    }
}

/// The process groups of the live children of this process (one per child, led by
/// it), for [`kill_all_groups`].
static GROUPS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Sends SIGKILL to the process group led by `pid` (a child and every process it
/// started that stayed in its group). Nothing happens where the group is already
/// empty.
pub fn kill_group(pid: u32) {
    #[cfg(unix)]
    // SAFETY: killpg with a positive group id; a group that no longer exists
    // gives ESRCH, ignored.
    unsafe {
        if pid > 1 {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Kills the process groups of every live child: for the exits that drop nothing
/// (the interrupt handler), where `PR_SET_PDEATHSIG` would kill the children but
/// not what they started.
pub fn kill_all_groups() {
    if let Ok(groups) = GROUPS.lock() {
        for &g in groups.iter() {
            kill_group(g);
        }
    }
}

/// Asks the kernel to kill the child when its parent dies (Linux), and makes the
/// child exit at once if the parent already died before that request took effect.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) run between fork
    // and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

/// Which output of a child a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The child's stdout (its result).
    Stdout,
    /// The child's stderr (heartbeat and messages).
    Stderr,
}

/// What a helper thread reports about one child.
#[derive(Debug)]
pub enum Event {
    /// One line (with its `\n` if any) read from a child.
    Line {
        /// Child number.
        child: usize,
        /// Which output.
        stream: Stream,
        /// The bytes of the line.
        bytes: Vec<u8>,
    },
    /// An output of a child was closed (`error` if reading it failed).
    Closed {
        /// Child number.
        child: usize,
        /// Which output.
        stream: Stream,
        /// The read error, if the stream did not end normally.
        error: Option<std::io::Error>,
    },
    /// The thread feeding a child's stdin finished.
    InputDone {
        /// Child number.
        child: usize,
        /// How writing went.
        result: std::io::Result<()>,
    },
}

/// Starts a thread that sends each line of `from` as an event, then `Closed`.
pub fn read_lines(
    from: impl Read + Send + 'static,
    child: usize,
    stream: Stream,
    tx: Sender<Event>,
) {
    std::thread::spawn(move || {
        let mut r = BufReader::with_capacity(1 << 16, from);
        let error = loop {
            let mut bytes = Vec::new();
            match r.read_until(b'\n', &mut bytes) {
                Ok(0) => break None,
                Ok(_) => {
                    if tx
                        .send(Event::Line {
                            child,
                            stream,
                            bytes,
                        })
                        .is_err()
                    {
                        break None;
                    }
                }
                Err(e) => break Some(e),
            }
        };
        let _ = tx.send(Event::Closed {
            child,
            stream,
            error,
        });
    });
}

/// Why [`watch`] stopped a group before its end.
#[derive(Debug)]
pub enum Stop {
    /// A child ended with an error code or a signal.
    Crashed(usize, ExitStatus),
    /// The deadline passed.
    Timeout,
    /// A hook reported an error (silence, unreadable output...).
    Failed(Error),
}

/// Watches a group until every child has ended and `streams` streams are closed.
/// `on_event` gets every event; `on_tick` runs at least every 50 ms (the heartbeat
/// check). At the first failure the other children get `grace` to end on their own
/// (the processes of a distributed run abort when they lose the culprit: those are
/// then not counted as killed), every child still running is killed, the remaining
/// events are drained into `on_event` (so the last stderr lines are known), and the
/// reason is returned.
pub fn watch(
    children: &mut Children,
    rx: &Receiver<Event>,
    mut streams: usize,
    deadline: Instant,
    grace: Duration,
    mut on_event: impl FnMut(Event) -> Result<()>,
    mut on_tick: impl FnMut(&Children) -> Result<()>,
) -> std::result::Result<(), Stop> {
    let stop = loop {
        if let Some((i, status)) = children.poll() {
            break Stop::Crashed(i, status);
        }
        if streams == 0 && children.all_ended() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            break Stop::Timeout;
        }
        match rx.recv_timeout(TICK) {
            Ok(e) => {
                if matches!(e, Event::Closed { .. }) {
                    streams = streams.saturating_sub(1);
                }
                if let Err(e) = on_event(e) {
                    break Stop::Failed(e);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => streams = 0,
        }
        if let Err(e) = on_tick(children) {
            break Stop::Failed(e);
        }
    };
    let grace_end = Instant::now() + grace;
    while Instant::now() < grace_end && !children.all_ended() {
        children.poll();
        std::thread::sleep(Duration::from_millis(20));
    }
    children.kill_all();
    let until = Instant::now() + Duration::from_secs(2);
    while streams > 0 && Instant::now() < until {
        match rx.recv_timeout(TICK) {
            Ok(e) => {
                if matches!(e, Event::Closed { .. }) {
                    streams -= 1;
                }
                let _ = on_event(e);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    children.reap_all();
    Err(stop)
}

/// How a child ended, in French.
pub fn describe_status(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                6 => " (SIGABRT : abandon après une panique ou une connexion perdue)",
                9 => " (SIGKILL : tué)",
                11 => " (SIGSEGV : erreur mémoire)",
                15 => " (SIGTERM : arrêté)",
                _ => "",
            };
            return format!("tué par le signal {sig}{name}");
        }
    }
    match status.code() {
        Some(c) => format!("code de sortie {c}"),
        None => "fin inconnue".into(),
    }
}

/// The message of a child's stderr: what follows "panicked at" for a panic, else
/// the last non-empty line (the `erreur : ...` of `tp4`).
fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines();
    if lines.any(|l| l.contains("panicked at")) {
        if let Some(msg) = lines.next() {
            return format!("panique : {}", msg.trim());
        }
    }
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("note:"))
        .unwrap_or("(rien sur stderr)")
        .trim()
        .to_string()
}

/// What [`run_workers`] collects about each child while it runs.
struct Collected {
    stdouts: Vec<Vec<u8>>,
    stderrs: Vec<Vec<u8>>,
    input_errors: Vec<Option<std::io::Error>>,
    last_sign: Vec<Instant>,
    stdout_open: Vec<bool>,
}

impl Collected {
    fn new(n: usize) -> Collected {
        Collected {
            stdouts: vec![Vec::new(); n],
            stderrs: vec![Vec::new(); n],
            input_errors: (0..n).map(|_| None).collect(),
            last_sign: vec![Instant::now(); n],
            stdout_open: vec![true; n],
        }
    }

    /// Records one event; a read error on a child's stdout is a failure.
    fn record(&mut self, e: Event, children_labels: &[String]) -> Result<()> {
        match e {
            Event::Line {
                child,
                stream,
                bytes,
            } => {
                self.last_sign[child] = Instant::now();
                match stream {
                    Stream::Stdout => self.stdouts[child].extend_from_slice(&bytes),
                    Stream::Stderr if bytes.trim_ascii() == HEARTBEAT.as_bytes() => {}
                    Stream::Stderr => self.stderrs[child].extend_from_slice(&bytes),
                }
            }
            Event::Closed {
                child,
                stream,
                error,
            } => {
                if stream == Stream::Stdout {
                    self.stdout_open[child] = false;
                }
                if let (Stream::Stdout, Some(e)) = (stream, error) {
                    return Err(Error::Process(format!(
                        "lecture de la sortie du processus de travail n°{child} ({}) : {e}",
                        children_labels[child]
                    )));
                }
            }
            Event::InputDone { child, result } => self.input_errors[child] = result.err(),
        }
        Ok(())
    }

    /// Fails if a running child has been silent longer than [`SILENCE_LIMIT`].
    fn check_silence(&self, children: &Children) -> Result<()> {
        for i in 0..children.len() {
            let quiet = self.last_sign[i].elapsed();
            if children.status(i).is_none() && self.stdout_open[i] && quiet > SILENCE_LIMIT {
                return Err(Error::Process(format!(
                    "le processus de travail n°{i} ({}, pid {}) ne répond plus depuis {} \
                     (figé ou suspendu, par exemple par SIGSTOP) ; tous les processus du \
                     groupe ont été arrêtés (kill) et attendus",
                    children.label(i),
                    children.pids()[i],
                    crate::measure::human_seconds(quiet.as_secs_f64())
                )));
            }
        }
        Ok(())
    }
}

/// Starts one child per job; returns the group and the number of streams to read.
fn start(jobs: Vec<Job>, tx: &Sender<Event>) -> Result<(Children, usize)> {
    let exe = exe_path()?;
    let mut children = Children::new();
    let mut streams = 0;
    for job in jobs {
        let mut cmd = Command::new(&exe);
        cmd.arg(WORKER_COMMAND)
            .args(&job.args)
            .stdin(if job.input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("RUST_BACKTRACE", "0");
        let i = children.spawn(job.args.join(" "), &mut cmd)?;
        let child = children.child_mut(i);
        read_lines(
            child.stdout.take().expect("stdout is piped"),
            i,
            Stream::Stdout,
            tx.clone(),
        );
        read_lines(
            child.stderr.take().expect("stderr is piped"),
            i,
            Stream::Stderr,
            tx.clone(),
        );
        streams += 2;
        if let Some(feed) = job.input {
            let mut stdin = child.stdin.take().expect("stdin is piped");
            let tx_in = tx.clone();
            std::thread::spawn(move || {
                let result = feed(&mut stdin);
                drop(stdin); // end of input for the child
                let _ = tx_in.send(Event::InputDone { child: i, result });
            });
        }
    }
    Ok((children, streams))
}

/// Starts one `tp4 __worker` child per job, all at once, and returns what each wrote
/// on stdout, in job order. A child that fails stops the others at once; one that
/// stays silent for [`SILENCE_LIMIT`] too; after `timeout` every child is killed.
/// Every child is waited for on every path.
pub fn run_workers(jobs: Vec<Job>, timeout: Duration) -> Result<Vec<Vec<u8>>> {
    let (tx, rx) = mpsc::channel::<Event>();
    let (mut children, streams) = start(jobs, &tx)?;
    drop(tx);
    let labels: Vec<String> = (0..children.len())
        .map(|i| children.label(i).to_string())
        .collect();
    let mut got = Collected::new(children.len());
    let deadline = Instant::now() + timeout;
    let outcome = {
        let got = std::cell::RefCell::new(&mut got);
        watch(
            &mut children,
            &rx,
            streams,
            deadline,
            Duration::ZERO,
            |e| got.borrow_mut().record(e, &labels),
            |c| got.borrow().check_silence(c),
        )
    };
    match outcome {
        Ok(()) => {}
        Err(Stop::Crashed(i, status)) => {
            return Err(crashed(i, &labels[i], &status, &got.stderrs[i]))
        }
        Err(Stop::Timeout) => {
            return Err(Error::Process(format!(
                "délai dépassé : les processus de travail n'ont pas fini en {} ; \
                 ils ont été arrêtés (kill) et attendus",
                crate::measure::human_seconds(timeout.as_secs_f64())
            )))
        }
        Err(Stop::Failed(e)) => return Err(e),
    }
    for (i, e) in got.input_errors.iter().enumerate() {
        if let Some(e) = e {
            return Err(Error::Process(format!(
                "le processus de travail n°{i} ({}) a fermé son entrée avant la fin du flux : {e}",
                labels[i]
            )));
        }
    }
    Ok(got.stdouts)
}

/// The error of a child that ended badly.
fn crashed(i: usize, label: &str, status: &ExitStatus, stderr: &[u8]) -> Error {
    Error::Process(format!(
        "le processus de travail n°{i} ({label}) s'est arrêté anormalement : {} ; son dernier \
         message : « {} » — ses résultats sont perdus et tous les processus du groupe ont été \
         arrêtés et attendus",
        describe_status(status),
        last_line(stderr)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_described_in_french() {
        let ok = std::process::Command::new("true").status().unwrap();
        assert_eq!(describe_status(&ok), "code de sortie 0");
    }

    #[test]
    fn the_last_stderr_line_is_the_message() {
        assert_eq!(last_line(b"a\nerreur : b\n\n"), "erreur : b");
        assert_eq!(last_line(b""), "(rien sur stderr)");
    }
}
