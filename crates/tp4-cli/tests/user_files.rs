//! A teacher's own files (issue 12): hand-written `transactions.csv` and `corpus.txt`
//! as a spreadsheet or an editor saves them (byte-order mark, quotes, CRLF, accented
//! and other names, refunds, ties, two cities only, no final newline, NBSP and tabs)
//! go through every path of the real binary, and every path gives the answers of a
//! simple reference written here.

mod common;

use common::{stderr, temp_dir, tp4_in};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// (city, category, amount as written, cents).
const SALES: [(&str, &str, &str, i64); 7] = [
    ("Saint-Étienne", "thé, café", "10.00", 1000),
    ("paris", "jardin", "-2.50", -250),
    ("Saint-Étienne", "jardin", "5", 500),
    ("paris", "thé, café", "13.5", 1350),
    ("paris", "jardin", "0.10", 10),
    ("Saint-Étienne", "Jardin", "1.00", 100),
    ("paris", "jardin", "-0.40", -40),
];

/// The corpus: NBSP, tabs, CRLF, blank lines, accented words, no final newline.
const CORPUS: &str = "été\u{a0}à la\tmer\r\n\r\nl'été  été\u{2003}mer\n\n\tà\u{a0}bientôt été";

/// The spreadsheet export of [`SALES`]: BOM, quoted fields, CRLF, no final newline.
fn transactions_text() -> String {
    let mut s = String::from("\u{feff}id,date,city,category,amount,quantity");
    for (i, (city, cat, amount, _)) in SALES.iter().enumerate() {
        s.push_str(&format!(
            "\r\n{},2024-01-0{},\"{city}\",\"{cat}\", {amount} ,1",
            i + 1,
            i + 1
        ));
    }
    s
}

/// The reference W4 answer of workloads.md, from [`SALES`].
fn groupby_reference() -> Value {
    let mut cats: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
    let mut cities: BTreeMap<&str, i64> = BTreeMap::new();
    for (city, cat, _, cents) in SALES {
        let c = cats.entry(cat).or_default();
        c.0 += cents;
        c.1 += 1;
        *cities.entry(city).or_default() += cents;
    }
    let mut top: Vec<(&str, i64)> = cities.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    json!({
        "total_cents": SALES.iter().map(|s| s.3).sum::<i64>(),
        "categories": cats.iter().map(|(k, v)| json!([k, v.0, v.1])).collect::<Vec<_>>(),
        "top_cities": top.iter().take(3).map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

/// The reference W7 answer: Python's `str.split()`, ties alphabetical by bytes.
fn wordcount_reference() -> Value {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for w in CORPUS.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        *counts.entry(w).or_default() += 1;
    }
    let mut top: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
    json!({
        "total": counts.values().sum::<u64>(),
        "distinct": counts.len(),
        "top": top.iter().take(10).map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

fn user_data(transactions: &str) -> tempfile::TempDir {
    let d = temp_dir();
    std::fs::write(d.path().join("transactions.csv"), transactions).unwrap();
    std::fs::write(d.path().join("corpus.txt"), CORPUS).unwrap();
    d
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(out: &Path, job: &str) -> Value {
    let text = std::fs::read_to_string(out.join(format!("cluster_{job}.json"))).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

#[test]
fn bench_on_the_users_files_gives_the_reference_answers() {
    let data = user_data(&transactions_text());
    let out = temp_dir();
    let o = tp4_in(data.path(), out.path())
        .args([
            "bench",
            "groupby",
            "wordcount",
            "--fichiers-de-data",
            "--json",
        ])
        .args(["--strategies", "seq,rayon,processes", "--workers", "1,2"])
        .args(["--repetitions", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = json_lines(&o.stdout);
    assert!(lines.len() >= 4, "{lines:?}");
    for l in &lines {
        let expected = match l["workload"].as_str().unwrap() {
            "groupby" => groupby_reference(),
            _ => wordcount_reference(),
        };
        assert_eq!(l["answer"], expected, "{l}");
        assert_eq!(l["ok"], true);
    }
    assert!(!data.path().join("bench").exists(), "no generated files");
}

#[test]
fn cluster_on_the_users_files_gives_the_reference_answers() {
    let data = user_data(&transactions_text());
    let out = temp_dir();
    for job in ["groupby", "wordcount"] {
        let o = tp4_in(data.path(), out.path())
            .args(["cluster", job, "--processus", "2"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{job}: {}", stderr(&o));
    }
    let g = groupby_reference();
    let s = summary(out.path(), "groupby");
    assert_eq!(s["total"], SALES.len());
    assert_eq!(s["distinct"], g["categories"].as_array().unwrap().len());
    assert_eq!(s["top"], g["top_cities"]);
    let w = wordcount_reference();
    let s = summary(out.path(), "wordcount");
    assert_eq!(
        (&s["total"], &s["distinct"], &s["top"]),
        (&w["total"], &w["distinct"], &w["top"])
    );
}

#[test]
fn exercises_read_the_users_files() {
    let data = user_data(&transactions_text());
    let out = temp_dir();
    for n in ["1", "3", "5", "6"] {
        let o = tp4_in(data.path(), out.path())
            .args(["exercice", n])
            .output()
            .unwrap();
        assert!(o.status.success(), "exercice {n}: {}", stderr(&o));
    }
}

#[test]
fn a_header_without_rows_is_said_in_every_path() {
    let data = user_data("id,date,city,category,amount,quantity\r\n");
    let out = temp_dir();
    let runs: [&[&str]; 3] = [
        &[
            "bench",
            "groupby",
            "--fichiers-de-data",
            "--json",
            "--repetitions",
            "1",
        ],
        &["cluster", "groupby"],
        &["exercice", "1"],
    ];
    for args in runs {
        let o = tp4_in(data.path(), out.path()).args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?}");
        assert!(
            stderr(&o).contains("que l'en-tête"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}
