//! Helpers shared by the integration tests of the `tp4` command (the model is
//! ripgrep's `tests/util.rs`): one builder for the real binary, the shipped data,
//! temporary folders, and the check that no process is left behind.
//!
//! Each test file includes it with `mod common;` and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The `tp4` binary built by Cargo for these tests.
pub const TP4: &str = env!("CARGO_BIN_EXE_tp4");

/// A command running the real `tp4` binary, without the `TP4_DATA` / `TP4_OUTPUT`
/// of the caller's environment (a test says which folders it uses).
pub fn tp4() -> Command {
    let mut c = Command::new(TP4);
    c.env_remove("TP4_DATA").env_remove("TP4_OUTPUT");
    c
}

/// [`tp4`] with `--data data --output output`.
pub fn tp4_in(data: &Path, output: &Path) -> Command {
    let mut c = tp4();
    c.arg("--data").arg(data).arg("--output").arg(output);
    c
}

/// Runs `tp4 args…` to the end.
pub fn run(args: &[&str]) -> Output {
    tp4().args(args).output().expect("cannot run tp4")
}

/// Runs `tp4 --data data --output output args…` to the end.
pub fn run_in(data: &Path, output: &Path, args: &[&str]) -> Output {
    tp4_in(data, output)
        .args(args)
        .output()
        .expect("cannot run tp4")
}

/// Starting a `tp4` command without waiting for it: `.start(stdout, stderr)` at the
/// end of a [`tp4`] or [`tp4_in`] builder (the caller then polls it with
/// [`wait_for`], [`while_alive`], and ends it with [`finish`] or [`wait_at_most`]).
pub trait Start {
    /// Starts the command with these standard output and error.
    fn start(&mut self, stdout: Stdio, stderr: Stdio) -> Child;
}

impl Start for Command {
    fn start(&mut self, stdout: Stdio, stderr: Stdio) -> Child {
        self.stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("cannot start tp4")
    }
}

/// The standard output of a finished command, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The error output of a finished command, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both outputs of a finished command, standard output first.
pub fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// The error output of a command that must have stopped with a French error (exit
/// code 1); fails the test, showing both outputs, otherwise.
pub fn error_of(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    stderr(o)
}

/// Fails the test if the command printed a Rust panic instead of a French error.
pub fn assert_no_panic(o: &Output) {
    let all = text(o);
    assert!(!all.contains("panicked"), "{all}");
}

/// The root of the repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The data folder shipped with the repository (`data/`).
pub fn shipped_data() -> PathBuf {
    repo().join("data")
}

/// A fresh temporary folder (for outputs or generated data), removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary folder")
}

/// A temporary data folder with a 1 MB corpus and 3 000 transactions (fast to
/// compute on, big enough to be split among several processes).
pub fn small_data() -> tempfile::TempDir {
    let dir = temp_dir();
    tp4::data::corpus::generate(&dir.path().join("corpus.txt"), 1, |_| {}).unwrap();
    tp4::data::transactions::generate(&dir.path().join("transactions.csv"), 3_000, |_| {}).unwrap();
    dir
}

/// `n` ports of 127.0.0.1 that were free a moment ago.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect()
}

/// Sends a signal (`-KILL`, `-STOP`…) to a process with the `kill` command.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(sig).arg(pid.to_string()).status();
}

/// True while `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

/// Fails the test if one of `pids` is still alive 3 s from now (and kills it, so
/// that a failed test leaves nothing behind either).
pub fn assert_no_process_left(pids: &[u32]) {
    let until = Instant::now() + Duration::from_secs(3);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    for &p in &left {
        signal(p, "-KILL");
    }
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

/// Pids of the live (or zombie) children of this test process, from /proc.
pub fn children() -> Vec<u32> {
    children_of(std::process::id())
}

/// Pids of the live (or zombie) children of `parent`, from /proc.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command name in parentheses: state, ppid, ...
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        if ppid == parent {
            found.push(pid);
        }
    }
    found
}

/// Fails the test if this test process still has a child (live or zombie).
pub fn assert_no_children() {
    let left = children();
    assert!(left.is_empty(), "children left: {left:?}");
}

/// Pids of the live (not zombie) children of `parent`.
pub fn live_children_of(parent: u32) -> Vec<u32> {
    children_of(parent)
        .into_iter()
        .filter(|&pid| alive(pid))
        .collect()
}

/// Polls `done` every 20 ms until it holds; fails the test, saying `what` never
/// happened, after `limit`.
pub fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "{what} (waited {limit:?})");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Calls `step` with its round number (0, 1, 2…) again and again while process
/// `pid` is alive, for at most `limit`: the changes a test makes under a running
/// command (`step` sleeps as long as it needs between them).
pub fn while_alive(pid: u32, limit: Duration, mut step: impl FnMut(u64)) {
    let until = Instant::now() + limit;
    let mut round = 0;
    while alive(pid) && Instant::now() < until {
        step(round);
        round += 1;
    }
}

/// Waits for `child` to end, at most `limit`: its exit status, or `None` after
/// killing and reaping it when it did not end in time (the caller fails the test,
/// after cleaning up what else it started).
pub fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("cannot wait for tp4") {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` (started with piped outputs) to end, at most `limit`, and
/// returns its exit code, its error output and how long it took; fails the test
/// if it did not end in time.
pub fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    if wait_at_most(&mut child, limit).is_none() {
        panic!("tp4 did not end within {limit:?}");
    }
    let out = child.wait_with_output().expect("cannot read tp4's outputs");
    (out.status.code(), stderr(&out), start.elapsed())
}

/// Names in `dir` starting with `.tp4-` (the temporary files of atomic writes, the
/// lock of the output folder).
pub fn temp_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".tp4-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The name and bytes of every file of a folder, sorted by name (to see that a
/// command changed nothing).
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    all.sort();
    all
}

/// Copies the shipped file `name` of `data/` into `dir`.
pub fn copy_shipped(name: &str, dir: &Path) {
    std::fs::copy(shipped_data().join(name), dir.join(name)).unwrap();
}

/// The summary that `tp4 cluster JOB` wrote into `output` (`cluster_JOB.json`).
pub fn cluster_summary(output: &Path, job: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(output.join(format!("cluster_{job}.json"))).unwrap();
    serde_json::from_str(text.trim()).unwrap()
}
