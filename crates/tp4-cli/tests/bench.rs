//! Integration tests of `tp4 bench`: the `--json` mode prints JSON lines only, and
//! bad options are refused in French before any work.

mod common;

use common::tp4;

#[test]
fn json_mode_prints_only_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = tp4()
        .args(["--data"])
        .arg(dir.path())
        .arg("--output")
        .arg(dir.path().join("out"))
        .args([
            "bench",
            "primes",
            "--strategies",
            "seq,rayon",
            "--workers",
            "1,2",
            "--taille",
            "100000",
            "--repetitions",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let mut seen = Vec::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line: {line:?} ({e})"));
        assert_eq!(v["workload"], "primes");
        assert_eq!(v["size"], 100_000);
        assert_eq!(v["answer"], 9_592);
        assert_eq!(v["ok"], true);
        assert_eq!(v["runs"], 1);
        assert!(v["seconds"].as_f64().unwrap() > 0.0);
        assert!(v["peak_heap_bytes"].is_u64());
        seen.push((
            v["strategy"].as_str().unwrap().to_string(),
            v["workers"].as_u64().unwrap(),
        ));
    }
    assert_eq!(
        seen,
        vec![("seq".into(), 1), ("rayon".into(), 1), ("rayon".into(), 2)]
    );
    assert!(dir.path().join("out/bench.csv").is_file());
}

#[test]
fn bad_options_are_refused_in_french() {
    for (args, needle) in [
        (vec!["bench", "tri"], "charge inconnue « tri »"),
        (
            vec!["bench", "primes", "--strategies", "magie"],
            "stratégie inconnue « magie »",
        ),
        (vec!["bench", "primes", "--workers", "0"], "0 workers"),
        (vec!["bench", "primes", "--taille", "0"], "--taille 0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = tp4()
            .arg("--output")
            .arg(dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
        // Nothing was measured or written.
        assert!(!dir.path().join("bench.csv").exists());
    }
}
