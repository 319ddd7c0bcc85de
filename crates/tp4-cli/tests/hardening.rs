//! Integration tests of issue 13 (hostile-user hardening), each running the real
//! `tp4` binary: no worker outlives its parent, a frozen or killed worker stops
//! `bench` within seconds with a French message, a closed stdout ends quietly.

mod common;

use common::{
    assert_no_process_left, finish, live_children_of, run_in, signal, temp_names, tp4_in, wait_for,
    while_alive, Start,
};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Starts a long `bench` of W1 with 2 process workers and waits for both workers
/// (the caller waits for the returned child).
#[allow(clippy::zombie_processes)]
fn long_bench(dir: &std::path::Path) -> (Child, Vec<u32>) {
    let child = tp4_in(&dir.join("d"), &dir.join("o"))
        .args([
            "bench",
            "primes",
            "--strategies",
            "processes",
            "--workers",
            "2",
        ])
        .args(["--taille", "1000000000", "--repetitions", "5"])
        .start(Stdio::piped(), Stdio::piped());
    wait_for(
        Duration::from_secs(30),
        "the 2 workers never started",
        || live_children_of(child.id()).len() == 2,
    );
    let workers = live_children_of(child.id());
    (child, workers)
}

fn parent_killed_by(sig: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, workers) = long_bench(dir.path());
    signal(child.id(), sig);
    let _ = child.wait();
    // No worker outlives its parent by more than a moment (assert waits ≤ 3 s).
    assert_no_process_left(&workers);
}

#[test]
fn workers_die_with_a_parent_killed_by_sigkill() {
    parent_killed_by("-KILL");
}

#[test]
fn workers_die_with_a_parent_stopped_by_sigterm() {
    parent_killed_by("-TERM");
}

#[test]
fn a_killed_worker_stops_bench_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (child, workers) = long_bench(dir.path());
    signal(workers[0], "-KILL");
    let (code, err, took) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("signal 9") && err.contains("n°0"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_no_process_left(&workers);
}

#[test]
fn a_frozen_worker_stops_bench_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (child, workers) = long_bench(dir.path());
    signal(workers[1], "-STOP");
    let (code, err, took) = finish(child, Duration::from_secs(30));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("ne répond plus") && err.contains("n°1"),
        "{err}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_no_process_left(&workers);
}

/// Runs `tp4 args…`, reads two lines of its stdout then closes it (`| head -2`).
fn closed_stdout(args: &[&str]) {
    use std::io::BufRead;
    let data = common::small_data();
    let out = common::temp_dir();
    let mut child = tp4_in(data.path(), out.path())
        .args(args)
        .start(Stdio::piped(), Stdio::piped());
    {
        let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..2 {
            r.read_line(&mut line).unwrap();
        }
    } // the reader leaves, as `head -2` does
    let (code, err, _) = finish(child, Duration::from_secs(300));
    assert!(
        matches!(code, Some(0) | Some(141)),
        "{args:?}: {code:?} {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    // Finding 5 of issue 24: neither the lock nor a staging folder stays behind.
    assert_eq!(temp_names(out.path()), Vec::<String>::new(), "{args:?}");
    assert!(!out.path().join(".tp4-verrou").exists(), "{args:?}");
}

#[test]
fn a_closed_stdout_ends_an_exercise_quietly() {
    closed_stdout(&["exercice", "4"]);
}

#[test]
fn a_closed_stdout_ends_the_cluster_quietly() {
    closed_stdout(&["cluster", "wordcount", "--processus", "2"]);
}

/// Waits (at most `limit_s` seconds) until `child` has a temporary file in `dir`,
/// lets it write for 300 ms, sends it `sig` and checks that it ended on that signal
/// (exit 130 or 143).
fn interrupt_once_a_temp_file_shows(child: Child, dir: &std::path::Path, sig: &str, limit_s: u64) {
    wait_for(
        Duration::from_secs(limit_s),
        "no temp file appeared",
        || !temp_names(dir).is_empty(),
    );
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id(), sig);
    let (code, err, _) = finish(child, Duration::from_secs(20));
    assert!(matches!(code, Some(130) | Some(143)), "{code:?} {err}");
}

#[test]
fn an_interrupted_donnees_leaves_no_temp_file_and_the_old_set_whole() {
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("corpus.txt"), "ancien\n").unwrap();
    std::fs::write(data.join("transactions.csv"), "ancien\n").unwrap();
    for sig in ["-INT", "-TERM"] {
        let child = tp4_in(&data, &dir.path().join("o"))
            .args([
                "donnees",
                "--lignes",
                "30000000",
                "--mo",
                "200",
                "--remplacer",
            ])
            .start(Stdio::null(), Stdio::piped());
        interrupt_once_a_temp_file_shows(child, &data, sig, 30);
        assert!(temp_names(&data).is_empty(), "{:?}", temp_names(&data));
        assert_eq!(
            std::fs::read_to_string(data.join("corpus.txt")).unwrap(),
            "ancien\n"
        );
        assert_eq!(
            std::fs::read_to_string(data.join("transactions.csv")).unwrap(),
            "ancien\n"
        );
    }
}

#[test]
fn stale_temp_files_are_removed_at_the_next_run() {
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(data.join("bench")).unwrap();
    for p in [
        data.join(".tp4-vieux.tmp"),
        data.join("bench/.tp4-vieux.tmp"),
    ] {
        std::fs::write(&p, "x").unwrap();
        let status = std::process::Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(&p)
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::write(data.join(".tp4-recent.tmp"), "x").unwrap();
    let _ = tp4_in(&data, &dir.path().join("o"))
        .arg("env")
        .output()
        .unwrap();
    assert_eq!(temp_names(&data), vec![".tp4-recent.tmp".to_string()]);
    assert!(temp_names(&data.join("bench")).is_empty());
}

#[test]
fn a_second_run_on_one_output_folder_is_refused_and_a_stale_lock_taken_over() {
    let data = common::small_data();
    let dir = common::temp_dir();
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let lock = out.join(".tp4-verrou");
    std::fs::write(&lock, "999999999\n").unwrap(); // left by a dead run
    let first = tp4_in(data.path(), &out).start(Stdio::null(), Stdio::null());
    // The stale lock is taken over: the new run's pid is in it.
    let pid = first.id().to_string();
    wait_for_lock(&out, first.id());
    let second = run_in(data.path(), &out, &[]);
    signal(first.id(), "-KILL");
    let (_, _, _) = finish(first, Duration::from_secs(10));
    let err = common::stderr(&second);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains("déjà utilisé") && err.contains(&pid), "{err}");
}

#[test]
fn absurd_cluster_sizes_are_refused_in_french() {
    let data = common::small_data();
    let out = common::temp_dir();
    for args in [
        &["cluster", "mesure", "--repetitions", "1000000"][..],
        &["cluster", "mesure", "--repetitions", "0"][..],
        &[
            "cluster",
            "wordcount",
            "--processus",
            "64",
            "--threads",
            "64",
        ][..],
    ] {
        let start = Instant::now();
        let o = run_in(data.path(), out.path(), args);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("--repetitions") || err.contains("--processus"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(10), "{args:?}");
    }
}

/// Starts the main job on `out` and returns once it is measuring (its staging
/// folder exists, plus a moment), with that folder's path.
fn main_run_under_way(
    data: &std::path::Path,
    out: &std::path::Path,
    stderr: Stdio,
) -> (Child, std::path::PathBuf) {
    let child = tp4_in(data, out).start(Stdio::null(), stderr);
    let staging = out.join(format!(".tp4-tp-{}.tmp", child.id()));
    wait_for(
        Duration::from_secs(120),
        "the run never started its staging folder",
        || staging.exists(),
    );
    std::thread::sleep(Duration::from_millis(1500)); // measuring by now
    (child, staging)
}

#[test]
fn an_interrupted_or_failed_main_run_leaves_the_previous_results_whole() {
    let data = common::small_data();
    let dir = common::temp_dir();
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    // The files of an earlier run.
    let earlier = [
        "rapport.md",
        "resultats.csv",
        "resultats.json",
        "ex1_temps.csv",
    ];
    for name in earlier {
        std::fs::write(out.join(name), format!("ancien {name}\n")).unwrap();
    }
    let unchanged = |out: &std::path::Path| {
        for name in earlier {
            assert_eq!(
                std::fs::read_to_string(out.join(name)).unwrap(),
                format!("ancien {name}\n"),
                "{name} was changed by a run that did not complete"
            );
        }
        let left: Vec<String> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !earlier.contains(&n.as_str()))
            .collect();
        assert!(
            left.is_empty(),
            "files left by the interrupted run: {left:?}"
        );
    };
    // Interrupted (Ctrl-C) while it measures.
    let (child, _) = main_run_under_way(data.path(), &out, Stdio::piped());
    signal(child.id(), "-INT");
    let (code, err, _) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "{err}");
    unchanged(&out);
    // Killed with SIGKILL: nothing can clean up, but the old files are still whole
    // (the staging folder stays until a later run removes it as stale).
    let (child, staging) = main_run_under_way(data.path(), &out, Stdio::null());
    signal(child.id(), "-KILL");
    let _ = finish(child, Duration::from_secs(20));
    for name in earlier {
        assert_eq!(
            std::fs::read_to_string(out.join(name)).unwrap(),
            format!("ancien {name}\n")
        );
    }
    assert!(
        staging.exists(),
        "SIGKILL cannot clean up: the folder stays until the next run"
    );
}

#[test]
fn ctrl_c_during_exercise_7_leaves_no_scratch_folder() {
    let data = common::small_data();
    let dir = common::temp_dir();
    let out = dir.path().join("o");
    let child = tp4_in(data.path(), &out)
        .args(["exercice", "7"])
        .start(Stdio::null(), Stdio::piped());
    // The step that generates growing files works in a scratch folder of the
    // output folder (before: a `/tmp/.tmpXXXX` folder that Ctrl-C left behind).
    let scratch = out.join(format!(".tp4-ex7-{}.tmp", child.id()));
    wait_for(
        Duration::from_secs(240),
        "the scratch folder never appeared",
        || scratch.exists(),
    );
    signal(child.id(), "-INT");
    let (code, err, _) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "{err}");
    assert!(temp_names(&out).is_empty(), "{:?}", temp_names(&out));
}

#[test]
fn a_closed_stdout_ends_the_main_job_quietly() {
    closed_stdout(&[]);
}

#[test]
fn workers_die_with_a_parent_interrupted_by_sigint() {
    // A notebook kernel interrupt or Ctrl-C on the parent alone.
    parent_killed_by("-INT");
}

#[test]
fn a_corpus_without_a_final_newline_is_normal_input() {
    // The trial's repro: `head -c -1 data/corpus.txt > D/corpus.txt`. Exercise 3
    // compared line-by-line reading with joined copies read whole, and the last
    // line of one copy merged with the first of the next: "réponse fausse", exit 1.
    let dir = common::temp_dir();
    let shipped = common::shipped_data();
    let corpus = std::fs::read(shipped.join("corpus.txt")).unwrap();
    assert_eq!(corpus.last(), Some(&b'\n'));
    std::fs::write(dir.path().join("corpus.txt"), &corpus[..corpus.len() - 1]).unwrap();
    common::copy_shipped("transactions.csv", dir.path());
    let out = dir.path().join("o");
    let o = run_in(dir.path(), &out, &["exercice", "3"]);
    assert!(o.status.success(), "{}", common::text(&o));
    // Every joined copy keeps its lines: k copies hold k times the lines.
    let lines = corpus.iter().filter(|&&b| b == b'\n').count();
    let csv = std::fs::read_to_string(out.join("ex3_memoire.csv")).unwrap();
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let copies = f[0]
            .strip_prefix("corpus.txt × ")
            .map_or(1, |k| k.split(' ').next().unwrap().parse().unwrap());
        assert_eq!(f[2], (copies * lines).to_string(), "{row}");
    }
}

#[test]
fn an_interrupted_bench_generation_leaves_no_temp_file() {
    // `bench` generates its files into `<data>/bench/`: an interrupt used to leave
    // hidden multi-GB `.tp4-*.tmp` files there that no later run removed.
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    for name in ["transactions.csv", "corpus.txt"] {
        std::fs::copy(common::shipped_data().join(name), data.join(name)).unwrap();
    }
    for sig in ["-INT", "-TERM"] {
        let child = tp4_in(&data, &dir.path().join("o"))
            .args(["bench", "wordcount", "--taille", "300"])
            .args(["--strategies", "seq", "--workers", "1"])
            .start(Stdio::null(), Stdio::piped());
        let bench = data.join("bench");
        interrupt_once_a_temp_file_shows(child, &bench, sig, 60);
        assert!(temp_names(&bench).is_empty(), "{:?}", temp_names(&bench));
        assert!(
            !bench.join("corpus-300mo.txt").exists(),
            "a half corpus was kept"
        );
    }
}

#[test]
fn exercise_3_reads_whole_only_up_to_its_cap() {
    // 16 joined copies of the 100 MB corpus were read whole: 1.83 GB peak. A 17 MB
    // corpus is the smallest whose 16 copies pass the cap (256 MiB).
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        common::shipped_data().join("transactions.csv"),
        data.join("transactions.csv"),
    )
    .unwrap();
    tp4::data::corpus::generate(&data.join("corpus.txt"), 17, |_| {}).unwrap();
    let out = dir.path().join("o");
    let o = run_in(&data, &out, &["exercice", "3"]);
    let all = common::text(&o);
    assert!(o.status.success(), "{all}");
    assert!(
        all.contains("lecture entière limitée à")
            && all.contains("× 16 de corpus.txt non mesurées"),
        "the cap is not said on screen: {all}"
    );
    let cap = tp4::ex3::WHOLE_READ_CAP;
    let csv = std::fs::read_to_string(out.join("ex3_memoire.csv")).unwrap();
    assert!(!csv.contains("× 16"), "{csv}");
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        assert!(f[1].parse::<u64>().unwrap() <= cap, "{row}");
        if let Ok(peak) = f[5].parse::<u64>() {
            assert!(peak <= cap, "whole-read peak over the cap: {row}");
        }
    }
}

/// Waits until the main job started on `out` holds its lock (pid in the file).
fn wait_for_lock(out: &std::path::Path, pid: u32) {
    let lock = out.join(".tp4-verrou");
    wait_for(
        Duration::from_secs(30),
        "the main job never took its lock",
        || {
            std::fs::read_to_string(&lock)
                .unwrap_or_default()
                .split(' ')
                .next()
                == Some(pid.to_string().as_str())
        },
    );
}

/// Finding 6 of issue 24: every command that writes into the output folder takes
/// its lock, so none writes into a folder a running main job holds.
#[test]
fn every_command_writing_into_the_output_folder_respects_the_lock() {
    let data = common::small_data();
    let dir = common::temp_dir();
    let out = dir.path().join("o");
    let main = tp4_in(data.path(), &out).start(Stdio::null(), Stdio::null());
    wait_for_lock(&out, main.id());
    let commands: [&[&str]; 5] = [
        &["bench", "primes", "--taille", "1000", "--repetitions", "1"],
        &["exercice", "1"],
        &["cluster", "wordcount", "--processus", "1"],
        &["cluster", "groupby", "--processus", "1"],
        &["cluster", "mesure", "--repetitions", "1"],
    ];
    let results: Vec<_> = commands
        .iter()
        .map(|args| (args, run_in(data.path(), &out, args)))
        .collect();
    signal(main.id(), "-KILL");
    let _ = finish(main, Duration::from_secs(10));
    for (args, o) in results {
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("déjà utilisé"), "{args:?}: {err}");
    }
}

/// Finding 4 of issue 24: a lock naming a live process that is not the tp4 run
/// which wrote it (pid 1, this test's pid, a pid with another start time) is
/// stale: the run takes it over, and no message ever advises `kill 1`.
#[test]
fn a_lock_naming_another_live_process_is_stale() {
    let dir = common::temp_dir();
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let me = std::process::id();
    for holder in [
        "1".to_string(),
        format!("{me}"),
        format!("{me} 1 tp4"),
        "1 1 tp4".into(),
    ] {
        std::fs::write(out.join(".tp4-verrou"), &holder).unwrap();
        let o = run_in(
            &dir.path().join("d"),
            &out,
            &["bench", "primes", "--taille", "1000", "--repetitions", "1"],
        );
        let all = common::text(&o);
        assert_eq!(o.status.code(), Some(0), "{holder:?}: {all}");
        assert!(!all.contains("kill"), "{holder:?}: {all}");
        assert!(!out.join(".tp4-verrou").exists(), "{holder:?}");
    }
}

/// Finding 9 of issue 24: a worker program that starts children of its own (here
/// a script that starts `sleep`) has its whole process group killed with it, on
/// both paths: the worker that fails, and the one killed because the other failed.
#[test]
fn the_processes_a_worker_started_die_with_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::temp_dir();
    let pids = dir.path().join("pids");
    let first = dir.path().join("premier");
    let script = dir.path().join("worker.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 1000 &\necho $! >> {pids}\nif mkdir {first} 2>/dev/null; then \
             sleep 0.5; exit 3; fi\nwait\n",
            pids = pids.display(),
            first = first.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = tp4_in(&dir.path().join("d"), &dir.path().join("o"))
        .env("TP4_EXE", &script)
        .args([
            "bench",
            "primes",
            "--strategies",
            "processes",
            "--workers",
            "2",
        ])
        .args(["--taille", "100000", "--repetitions", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o));
    let started: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(started.len(), 2, "{started:?}");
    assert_no_process_left(&started);
}

/// Finding 1 of issue 24, with the real binary: the transactions file is shortened
/// and restored again and again while `bench` reads it mapped (`optimise`, 1000
/// repetitions). The run ends with a French error (exit 1), never with SIGBUS.
#[test]
fn a_file_shortened_during_bench_is_an_error_not_a_bus_error() {
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let csv = data.join("transactions.csv");
    tp4::data::transactions::generate(&csv, 100_000, |_| {}).unwrap();
    tp4::data::corpus::generate(&data.join("corpus.txt"), 1, |_| {}).unwrap();
    let whole = std::fs::read(&csv).unwrap();
    let child = tp4_in(&data, &dir.path().join("o"))
        .args([
            "bench",
            "groupby",
            "--fichiers-de-data",
            "--strategies",
            "optimise",
        ])
        .args(["--workers", "2", "--repetitions", "1000", "--json"])
        .start(Stdio::piped(), Stdio::piped());
    // The first change once the bench has started its runs (each run maps the file
    // anew; a debug build takes a while to get there).
    std::thread::sleep(Duration::from_millis(400));
    while_alive(child.id(), Duration::from_secs(120), |round| {
        std::thread::sleep(Duration::from_millis(30 + round % 7 * 20));
        let f = std::fs::OpenOptions::new().write(true).open(&csv).unwrap();
        f.set_len(whole.len() as u64 / (2 + round % 5)).unwrap();
        std::thread::sleep(Duration::from_millis(20 + round % 3 * 15));
        std::fs::write(&csv, &whole).unwrap();
    });
    let (code, err, _) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(1), "{err}");
    // A run that maps the file while it is shortened (and not restored before the
    // run ends) reads a file whose last line is cut: the located error of that line
    // is then the right answer for the bytes read ("1 champ" when it was cut
    // after its first field).
    assert!(
        err.contains("a changé pendant la lecture")
            || err.contains("réponse fausse")
            || err.contains("champs au lieu de 6")
            || err.contains("1 champ au lieu de 6"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Finding 2 of issue 24 and the bench item of issue 22: one amount of the file
/// changes back and forth while `bench` measures two strategies with 1000
/// repetitions. Every run's answer is checked: a case that meets the change stops
/// at that run with `"ok": false`, the other strategy is still measured and
/// reported, and the run ends with exit code 1 and the list of failures.
#[test]
fn bench_checks_every_run_reports_every_case_and_fails_at_the_end() {
    let dir = common::temp_dir();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let csv = data.join("transactions.csv");
    tp4::data::transactions::generate(&csv, 3_000, |_| {}).unwrap();
    tp4::data::corpus::generate(&data.join("corpus.txt"), 1, |_| {}).unwrap();
    let whole = std::fs::read(&csv).unwrap();
    // The last digit of the first row's amount (same length: only the answer changes).
    let row = whole.iter().position(|&b| b == b'\n').unwrap() + 1;
    let line_end = row + whole[row..].iter().position(|&b| b == b'\n').unwrap();
    let commas: Vec<usize> = (row..line_end).filter(|&i| whole[i] == b',').collect();
    let digit = commas[4] - 1;
    let other = if whole[digit] == b'1' { b'2' } else { b'1' };
    // One byte rewritten in place: the file never looks short or empty.
    let put = |b: u8| {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&csv).unwrap();
        f.seek(std::io::SeekFrom::Start(digit as u64)).unwrap();
        f.write_all(&[b]).unwrap();
    };
    let child = tp4_in(&data, &dir.path().join("o"))
        .args([
            "bench",
            "groupby",
            "--fichiers-de-data",
            "--strategies",
            "seq,rayon",
        ])
        .args(["--workers", "2", "--repetitions", "1000", "--json"])
        .start(Stdio::piped(), Stdio::piped());
    while_alive(child.id(), Duration::from_secs(240), |round| {
        std::thread::sleep(Duration::from_millis(40));
        put(if round % 2 == 0 { other } else { whole[digit] });
    });
    put(whole[digit]);
    let out = {
        let mut child = child;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut s).unwrap();
        (s, finish(child, Duration::from_secs(10)))
    };
    let (stdout, (code, err, _)) = out;
    assert_eq!(code, Some(1), "{stdout}\n{err}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let strategies: Vec<&str> = lines
        .iter()
        .map(|l| l["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(strategies, ["seq", "rayon"], "{stdout}\n{err}");
    assert!(lines.iter().any(|l| l["ok"] == false), "{stdout}");
    assert!(
        err.contains("réponse fausse") && err.contains("passage"),
        "{err}"
    );
    assert!(err.contains("banc d'essai : "), "{err}");
    let json = std::fs::read_to_string(dir.path().join("o/bench.json")).unwrap();
    assert_eq!(json.lines().count(), 2, "{json}");
}
