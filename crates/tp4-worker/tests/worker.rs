//! `tp4-worker` answers like `tp4 __worker`: the same tasks, the same output.

use std::process::Command;

fn worker(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tp4-worker"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn runs_worker_tasks_with_or_without_the_worker_word() {
    for args in [
        &["__worker", "primes", "0", "100"][..],
        &["primes", "0", "100"][..],
    ] {
        let out = worker(args);
        assert!(out.status.success(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "25");
    }
}

#[test]
fn answers_version_and_reports_errors_in_french() {
    let out = worker(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tp4-worker "));
    let out = worker(&["__worker", "primes", "zéro", "100"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("n'est pas un"));
}
