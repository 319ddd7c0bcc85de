//! Helpers shared by the integration tests of the `tp4` command (the model is
//! ripgrep's `tests/util.rs`): one builder for the real binary, the shipped data,
//! temporary folders, and the check that no process is left behind.
//!
//! Each test file includes it with `mod common;` and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
