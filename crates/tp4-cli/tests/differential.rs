//! The differential test of the lab's grammar (`workloads.md` v3, "transactions.csv,
//! exactly" and "corpus.txt, exactly"): random files drawn from the grammar, with
//! targeted mutations at every rule and at the SIMD/SWAR edges ([`gen`]), go through
//! every path that reads them, and every path must accept, refuse and answer as the
//! generator says: the same whole answer, or a refusal naming the same line.
//!
//! Paths: the plain kernels (`seq`), `rayon` and OS processes at 1, 2 and 3 workers,
//! every rung of both optimisation ladders (the parallel rung at 1, 2 and 3 workers),
//! exercise 1's loader, and `tp4 cluster groupby|wordcount --processus 2` (the real
//! binary) on one file in [`CLUSTER_EVERY`].
//!
//! The bounded run (in `cargo test`, so in `.ci/run`) checks [`CASES`] files of each
//! kind; `cargo test -p tp4-cli --test differential -- --ignored` runs the long one.
//! A failure prints its seed; `TP4_DIFF_SEED=<seed>` replays that one file, and
//! `TP4_DIFF_CASES=<n>` changes the number of files of a run.

mod common;
#[path = "differential/gen.rs"]
mod gen;

use gen::{Case, Expect, Rng};
use serde_json::Value;
use std::path::Path;
use tp4::error::Error;
use tp4::workloads::fast;

/// Files of each kind in the bounded run.
const CASES: u64 = 100;

/// Files of each kind in the long run (`--ignored`).
const LONG_CASES: u64 = 3_000;

/// One file in this many also goes through the cluster (two real processes each).
const CLUSTER_EVERY: u64 = 25;

/// What a path gave, in the generator's terms.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// An answer (W4 or W7 JSON of `workloads.md`).
    Answer(Value),
    /// A refusal naming this line.
    ErrorAt(u64),
    /// A refusal saying that a total is too large.
    TotalTooLarge,
    /// "que l'en-tête".
    NoRows,
    /// Any other error (always a failure here), with its message.
    Other(String),
}

impl Outcome {
    /// Whether this outcome is what the generator expects.
    fn matches(&self, expect: &Expect) -> bool {
        match (self, expect) {
            (Outcome::Answer(a), Expect::Answer(b)) => a == b,
            (Outcome::ErrorAt(a), Expect::ErrorAt(b)) => a == b,
            (Outcome::TotalTooLarge, Expect::TotalTooLarge) => true,
            (Outcome::NoRows, Expect::NoRows) => true,
            _ => false,
        }
    }

    /// The outcome of an error message.
    fn of_message(message: &str, line: Option<u64>) -> Outcome {
        if message.contains("total trop grand") {
            Outcome::TotalTooLarge
        } else if message.contains("que l'en-tête") {
            Outcome::NoRows
        } else if let Some(line) = line {
            Outcome::ErrorAt(line)
        } else {
            Outcome::Other(message.to_string())
        }
    }

    /// The outcome of a library call.
    fn of<T>(r: Result<T, Error>, answer: impl Fn(&T) -> Value) -> Outcome {
        match r {
            Ok(t) => Outcome::Answer(answer(&t)),
            Err(e) => {
                // A worker process's error comes back as its message.
                match &e {
                    Error::Malformed { line, .. } => {
                        Outcome::of_message(&e.to_string(), Some(*line))
                    }
                    _ => Outcome::of_stderr(&e.to_string()),
                }
            }
        }
    }

    /// The outcome of a run of the real binary that failed: the line is read from
    /// its French message (« …, ligne N, champ … »).
    fn of_stderr(stderr: &str) -> Outcome {
        let line = stderr.split(", ligne ").nth(1).and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|d| d.parse().ok())
        });
        Outcome::of_message(stderr, line)
    }
}

/// The tp4 binary serves as the worker of the processes strategy.
fn use_tp4_as_worker() {
    std::env::set_var(tp4::procs::EXE_ENV, common::TP4);
}

/// Runs `f` inside a rayon pool of `workers` threads.
fn in_pool<T: Send>(workers: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .expect("rayon pool")
        .install(f)
}

/// The summary of `tp4 cluster JOB` in the generator's terms: the W4 summary holds
/// rows, categories and top cities; the W7 one total, distinct and top words.
fn cluster(data: &Path, job: &str) -> (Outcome, Option<Value>) {
    let out = common::temp_dir();
    let o = common::tp4_in(data, out.path())
        .args(["cluster", job, "--processus", "2"])
        .output()
        .expect("tp4 cluster");
    common::assert_no_panic(&o);
    if !o.status.success() {
        return (Outcome::of_stderr(&common::stderr(&o)), None);
    }
    let text = std::fs::read_to_string(out.path().join(format!("cluster_{job}.json")))
        .expect("cluster summary");
    let v: Value = serde_json::from_str(&text).expect("cluster summary JSON");
    (Outcome::Answer(Value::Null), Some(v))
}

/// Checks every W4 path on one generated file; returns the failures.
fn check_transactions(seed: u64, with_cluster: bool) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let Case {
        bytes,
        expect,
        exercises,
        mutation,
    } = gen::transactions(&mut rng);
    let dir = common::temp_dir();
    let path = dir.path().join("transactions.csv");
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(dir.path().join("corpus.txt"), "un deux\n").unwrap();
    let mut results: Vec<(String, Outcome)> = Vec::new();
    let g = |g: &tp4::workloads::groupby::GroupBy| g.answer_json();
    let t = |t: &fast::groupby::Totals| t.answer_json();
    use tp4::workloads::groupby;
    results.push(("seq".into(), Outcome::of(groupby::seq(&path), g)));
    for w in [1, 2, 3] {
        let r = in_pool(w, || groupby::rayon(&path, w));
        results.push((format!("rayon/{w}"), Outcome::of(r, g)));
        let r = tp4::procs::tasks::groupby(&path, w);
        results.push((format!("processes/{w}"), Outcome::of(r, g)));
    }
    for rung in fast::groupby::ladder() {
        let workers: &[usize] = if rung.parallel { &[1, 2, 3] } else { &[1] };
        for &w in workers {
            let r = (rung.run)(&path, w);
            results.push((format!("rung {}/{w}", rung.name), Outcome::of(r, t)));
        }
    }
    // Exercise 1 loads the rows; their W4 totals are summed here (checked).
    let ex1 = tp4::exercises::ex1::load(&path).and_then(|rows| {
        let mut g = groupby::GroupBy::default();
        for r in rows {
            g.add(&r.city, &r.category, r.amount_cents());
        }
        g.checked(&path)
    });
    let ex1 = Outcome::of(ex1, g);
    let mut failures = Vec::new();
    for (name, outcome) in &results {
        if !outcome.matches(&expect) {
            failures.push(format!("{name}: {outcome:?}\n    attendu {expect:?}"));
        }
    }
    if !ex1.matches(&exercises) {
        failures.push(format!(
            "exercise 1 load: {ex1:?}\n    attendu {exercises:?}"
        ));
    }
    if with_cluster {
        let (outcome, summary) = cluster(dir.path(), "groupby");
        let ok = match (&expect, &summary) {
            (Expect::Answer(a), Some(s)) => {
                s["top"] == a["top_cities"]
                    && s["distinct"].as_u64() == a["categories"].as_array().map(|c| c.len() as u64)
            }
            (_, None) => outcome.matches(&expect),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "cluster groupby: {outcome:?} {summary:?}\n    attendu {expect:?}"
            ));
        }
    }
    failures
        .into_iter()
        .map(|f| {
            format!(
                "transactions, graine {seed} ({mutation:?}, {} octets) — {f}",
                bytes.len()
            )
        })
        .collect()
}

/// Checks every W7 path on one generated corpus; returns the failures.
fn check_corpus(seed: u64, with_cluster: bool) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let (case, counts) = gen::corpus(&mut rng);
    let Case {
        bytes,
        expect,
        mutation,
        ..
    } = case;
    let dir = common::temp_dir();
    let path = dir.path().join("corpus.txt");
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(
        dir.path().join("transactions.csv"),
        "id,date,city,category,amount,quantity\n1,d,a,b,1,1\n",
    )
    .unwrap();
    use tp4::workloads::wordcount::{self, WordCount};
    let w = |w: &WordCount| w.answer_json();
    let mut results: Vec<(String, Outcome)> = Vec::new();
    let seq = wordcount::seq(&path);
    if let (Ok(s), Expect::Answer(_)) = (&seq, &expect) {
        let got: std::collections::BTreeMap<String, u64> = s
            .counts
            .iter()
            .map(|(k, &v)| (String::from_utf8_lossy(k).into_owned(), v))
            .collect();
        if got != counts {
            results.push((
                "seq (every count)".into(),
                Outcome::Other("counts differ".into()),
            ));
        }
    }
    results.push(("seq".into(), Outcome::of(seq, w)));
    for n in [1, 2, 3] {
        let r = in_pool(n, || wordcount::rayon(&path, n));
        results.push((format!("rayon/{n}"), Outcome::of(r, w)));
        let r = tp4::procs::tasks::wordcount(&path, n);
        results.push((format!("processes/{n}"), Outcome::of(r, w)));
    }
    for rung in fast::wordcount::ladder() {
        let workers: &[usize] = if rung.parallel { &[1, 2, 3] } else { &[1] };
        for &n in workers {
            let r = (rung.run)(&path, n);
            results.push((format!("rung {}/{n}", rung.name), Outcome::of(r, w)));
        }
    }
    let mut failures = Vec::new();
    for (name, outcome) in &results {
        if !outcome.matches(&expect) {
            failures.push(format!("{name}: {outcome:?}\n    attendu {expect:?}"));
        }
    }
    if with_cluster {
        let (outcome, summary) = cluster(dir.path(), "wordcount");
        let ok = match (&expect, &summary) {
            (Expect::Answer(a), Some(s)) => {
                s["total"] == a["total"] && s["distinct"] == a["distinct"] && s["top"] == a["top"]
            }
            (_, None) => outcome.matches(&expect),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "cluster wordcount: {outcome:?} {summary:?}\n    attendu {expect:?}"
            ));
        }
    }
    failures
        .into_iter()
        .map(|f| {
            format!(
                "corpus, graine {seed} ({mutation:?}, {} octets) — {f}",
                bytes.len()
            )
        })
        .collect()
}

/// The seeds of a run: `TP4_DIFF_SEED` alone when set, else `cases` seeds (or
/// `TP4_DIFF_CASES`) from a fixed start (the run is the same on every machine).
fn seeds(start: u64, cases: u64) -> Vec<u64> {
    let number = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|s| s.trim().parse::<u64>().expect("a number"))
    };
    match number("TP4_DIFF_SEED") {
        Some(seed) => vec![seed],
        None => (start..start + number("TP4_DIFF_CASES").unwrap_or(cases)).collect(),
    }
}

/// Runs both kinds of files and fails with every failing seed.
fn run(start: u64, cases: u64) {
    use_tp4_as_worker();
    let mut failures = Vec::new();
    let mut kinds = [0u64; 2];
    for seed in seeds(start, cases) {
        let cluster = seed % CLUSTER_EVERY == 0;
        let f = check_transactions(seed, cluster);
        let c = check_corpus(seed, cluster);
        kinds[0] += 1;
        kinds[1] += 1;
        failures.extend(f);
        failures.extend(c);
    }
    assert!(kinds[0] > 0);
    assert!(
        failures.is_empty(),
        "{} échecs (rejouer un fichier : TP4_DIFF_SEED=<graine> cargo test -p tp4-cli --test \
         differential -- --include-ignored) :\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}

#[test]
fn every_path_reads_the_grammar_alike() {
    run(1, CASES);
}

#[test]
#[ignore = "long run: several minutes"]
fn every_path_reads_the_grammar_alike_long() {
    run(1_000_000, LONG_CASES);
}

/// The generator itself: it makes valid files, every mutation kind, and files past
/// the fast rungs' blocks.
#[test]
fn the_generator_covers_every_rule() {
    let mut mutations = std::collections::BTreeSet::new();
    let mut big = 0;
    let mut answers = 0;
    for seed in 0..600 {
        let case = gen::transactions(&mut Rng::new(seed));
        mutations.insert(case.mutation);
        big += usize::from(case.bytes.len() > 200_000);
        answers += usize::from(matches!(case.expect, Expect::Answer(_)));
    }
    assert!(mutations.len() >= 15, "{mutations:?}");
    assert!(big > 0 && answers > 100, "{big} {answers}");
}
