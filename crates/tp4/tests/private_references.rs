//! The library's answers to the notebook's questions are private to the crate
//! (issue 11): a notebook that calls `tp4::ex1::filter_ids(...)` instead of writing
//! the filter gets a compile error, not a ✅ (the `compile_fail,E0603` examples of
//! each `exN::verif` module show it). This test reads every exercise's `mod.rs` and
//! lists its public items: each must be one of the tools the notebook hands the
//! student, named below with the reason it is public. A new public function in an
//! exercise fails here until someone decides it is a tool and not an answer.

use std::collections::BTreeSet;
use std::path::Path;

/// The public items of each exercise, and why a student may call them.
const TOOLS: &[(&str, &[&str])] = &[
    // Reading the data, the row type, the accumulators the questions return, and a
    // bigger table for timing.
    (
        "ex1",
        &["TITLE", "load", "Summary", "GroupTotal", "replicate"],
    ),
    // The boxed step type of question 2.2's signature.
    ("ex2", &["TITLE", "Step"]),
    // The laziness trace and file readers of the demo cells, the statistics type
    // that question 3.4 fills.
    (
        "ex3",
        &[
            "TITLE",
            "laziness_trace",
            "TextStats",
            "read_text",
            "lines_of_files",
            "WHOLE_READ_CAP",
        ],
    ),
    ("ex4", &["TITLE", "CpuCounts", "cpu_counts"]),
    // The job of the worker pool (5.4) and the type 5.5 returns.
    ("ex5", &["TITLE", "pool_job", "CategoryCents"]),
    // The executor the questions of 6.1–6.2 use, the tasks and result types of their
    // signatures, and the stall probe of 6.5.
    (
        "ex6",
        &[
            "TITLE",
            "Outcome",
            "Executor",
            "TaskHandle",
            "FallibleTask",
            "sample_tasks",
            "Stall",
            "ticks_during",
            "Span",
            "GraphRun",
            "GRAPH_NODES",
        ],
    ),
    // Statistics of the measurement method, the record types of 7.4's signature and
    // the Amdahl workload of the last cell.
    (
        "ex7",
        &[
            "TITLE",
            "mean",
            "relative_spread",
            "Record8",
            "PointsAos",
            "PointsSoa",
            "amdahl_hits",
        ],
    ),
];

/// The names of the top-level `pub` items (not `pub(crate)`, not `pub mod`/`pub use`)
/// of a module file.
fn public_items(source: &str) -> BTreeSet<String> {
    let kinds = [
        "fn ",
        "async fn ",
        "struct ",
        "enum ",
        "trait ",
        "type ",
        "const ",
        "static ",
    ];
    source
        .lines()
        .filter_map(|l| l.strip_prefix("pub "))
        .filter_map(|rest| kinds.iter().find_map(|k| rest.strip_prefix(k)))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn exercises_expose_tools_never_their_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/exercises");
    // Every exercise of the registry `exercises::ALL` is read: a new exercise without
    // a TOOLS entry fails here, it cannot escape the check.
    for e in tp4::exercises::ALL.iter() {
        let ex = format!("ex{}", e.number);
        let Some((_, tools)) = TOOLS.iter().find(|(name, _)| *name == ex) else {
            panic!(
                "{ex} is in exercises::ALL but not in TOOLS: list the public items a \
                 student may call (or none)"
            );
        };
        let source = std::fs::read_to_string(root.join(&ex).join("mod.rs")).unwrap();
        let public = public_items(&source);
        let allowed: BTreeSet<String> = tools.iter().map(|s| s.to_string()).collect();
        let extra: Vec<&String> = public.difference(&allowed).collect();
        assert!(
            extra.is_empty(),
            "{ex}: public items that may be answers to a question: {extra:?} — make them \
             pub(crate) (the CLI demos and checkers still reach them), or add them to \
             TOOLS with the reason a student may call them"
        );
    }
}

#[test]
fn every_tools_entry_is_an_exercise_of_the_registry() {
    for (ex, _) in TOOLS {
        assert!(
            tp4::exercises::ALL
                .iter()
                .any(|e| format!("ex{}", e.number) == *ex),
            "{ex} in TOOLS is not in exercises::ALL"
        );
    }
}

#[test]
fn the_reader_sees_private_items() {
    let src = "pub fn tool() {}\npub(crate) fn answer() {}\npub struct T;\npub mod verif;\n";
    let got: Vec<String> = public_items(src).into_iter().collect();
    assert_eq!(got, ["T", "tool"]);
}
