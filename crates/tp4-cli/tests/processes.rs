//! Real OS processes: the process strategies start the built `tp4` binary as workers
//! (`TP4_EXE`). Checked here: the answers equal the sequential ones, a child that
//! crashes or is killed mid-stream is reported in French, a child that hangs is
//! stopped by the timeout, and no process is ever left behind (/proc is inspected).

mod common;

use common::{assert_no_children, children, shipped_data};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tp4::procs::{self, Job};
use tp4::run::{self, Case, Inputs};
use tp4::workloads::{self, ipc, pi, primes, Workload};

/// Tests run one at a time: each checks that it leaves no child behind, which
/// another test's live children would blur.
static SERIAL: Mutex<()> = Mutex::new(());

fn setup() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var(procs::EXE_ENV, common::TP4);
    guard
}

/// Pids of the `tp4 __worker` children of this test process.
fn tp4_workers() -> Vec<u32> {
    children()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.windows(8).any(|w| w == b"__worker"))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn process_strategies_find_the_sequential_answers() {
    let _g = setup();
    assert_eq!(
        procs::count_primes(50_000, 3).unwrap(),
        primes::reference_count(50_000)
    );
    assert_eq!(
        procs::estimate_pi(300_000, 2).unwrap(),
        pi::estimate_threads(300_000, 2),
        "one stream per worker: same estimate as threads with the same worker count"
    );
    for batch in [1, 1024] {
        assert_eq!(
            procs::pipe_sum(20_000, batch, None).unwrap(),
            ipc::producer_sum(20_000)
        );
    }
    assert_eq!(procs::pipe_sum(0, 1, None).unwrap(), 0.0);
    let data = shipped_data();
    let csv = data.join("transactions.csv");
    let corpus = data.join("corpus.txt");
    for w in [1, 2, 3] {
        assert_eq!(
            procs::groupby(&csv, w).unwrap(),
            workloads::groupby::seq(&csv).unwrap()
        );
    }
    assert_eq!(
        procs::wordcount(&corpus, 2).unwrap(),
        workloads::wordcount::seq(&corpus).unwrap()
    );
    let pid = procs::child_pid().unwrap();
    assert_ne!(pid, std::process::id());
    assert!(tp4_workers().is_empty());
}

#[test]
fn every_process_strategy_of_run_case_is_checked_ok() {
    let _g = setup();
    let data = shipped_data();
    let mut inputs = Inputs::from_data_dir(&data);
    let plan = tp4::measure::Plan {
        warmup: 0,
        repetitions: 1,
    };
    let mut seen = 0;
    for w in Workload::ALL {
        let size = match w {
            Workload::Primes => 30_000,
            Workload::Pi => 100_000,
            Workload::Ipc => 5_000,
            _ => 0,
        };
        for s in w.strategies().iter().filter(|s| run::uses_processes(s)) {
            let case = Case {
                workload: w,
                strategy: s.to_string(),
                workers: 2,
                size,
            };
            let m = run::run_case(&case, plan, &mut inputs).unwrap();
            assert!(m.ok, "{m:?}");
            seen += 1;
        }
    }
    assert_eq!(
        seen, 6,
        "processes for W1, W2, W4, W7 and pipe, pipe-lots for W5"
    );
}

#[test]
fn a_child_crashing_mid_stream_is_reported_and_nothing_is_left() {
    let _g = setup();
    let start = Instant::now();
    let err = procs::pipe_sum(200_000, 1, Some(1_000))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s'est arrêté anormalement") && err.contains("code de sortie 101"),
        "{err}"
    );
    assert!(err.contains("panne simulée après 1000"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_no_children();
}

#[test]
fn a_killed_child_is_reported_and_the_others_are_stopped() {
    let _g = setup();
    // Three workers on a long computation; kill one of them from outside.
    let handle = std::thread::spawn(|| procs::count_primes(400_000_000, 3));
    let deadline = Instant::now() + Duration::from_secs(20);
    let victim = loop {
        let w = tp4_workers();
        if w.len() == 3 {
            break w[1];
        }
        assert!(Instant::now() < deadline, "workers never started");
        std::thread::sleep(Duration::from_millis(5));
    };
    let status = std::process::Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let err = handle.join().unwrap().unwrap_err().to_string();
    assert!(
        err.contains("signal 9") && err.contains("arrêtés et attendus"),
        "{err}"
    );
    assert_no_children();
}

#[test]
fn a_hanging_child_is_stopped_by_the_timeout() {
    let _g = setup();
    let start = Instant::now();
    let jobs = vec![Job::new(["sleep", "60000"]), Job::new(["pid"])];
    let err = procs::run_workers(jobs, Duration::from_millis(300))
        .unwrap_err()
        .to_string();
    assert!(err.contains("délai dépassé"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_no_children();
}

#[test]
fn a_bad_worker_task_is_a_french_error() {
    let _g = setup();
    let err = procs::run_workers(vec![Job::new(["magie"])], Duration::from_secs(30))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("code de sortie 1") && err.contains("tâche inconnue « magie »"),
        "{err}"
    );
}

#[test]
fn exercise_4_process_checkers_accept_the_references_and_catch_zombies() {
    let _g = setup();
    use tp4::ex4::verif;
    // The lab's own process machinery, as a student's answer would use it (the
    // exercise's references are private to the library).
    let v = verif::q6_primes_processes(tp4::procs::count_primes);
    assert!(v.passed(), "{v}");
    let v = verif::q7_child_pid(tp4::procs::child_pid);
    assert!(v.passed(), "{v}");
    // Started but never waited for: a zombie, rejected.
    let leaked = Mutex::new(Vec::new());
    let v = verif::q7_child_pid(|| {
        let child = std::process::Command::new(common::TP4)
            .args(["__worker", "pid"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let pid = child.id();
        leaked.lock().unwrap().push(child);
        Ok(pid)
    });
    assert!(!v.passed() && v.to_string().contains("zombie"), "{v}");
    for mut c in leaked.into_inner().unwrap() {
        c.wait().unwrap();
    }
    assert_no_children();
}

#[test]
fn exercise_5_pipe_checker_accepts_the_real_pipe() {
    let _g = setup();
    let v = tp4::ex5::verif::q6_pipe(tp4::procs::pipe_sum);
    assert!(v.passed(), "{v}");
    assert_no_children();
}
