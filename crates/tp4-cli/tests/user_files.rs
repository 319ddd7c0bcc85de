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

/// (city, category, amount as written, cents, quantity). W4 sums the amounts; the
/// revenue of exercises 1 and 2 is amount × quantity.
const SALES: [(&str, &str, &str, i64, i64); 7] = [
    ("Saint-Étienne", "thé, café", "10.00", 1000, 1),
    ("paris", "jardin", "-2.50", -250, 1),
    ("Saint-Étienne", "jardin", "5", 500, 3),
    ("paris", "thé, café", "13.5", 1350, 2),
    ("paris", "jardin", "0.10", 10, 1),
    ("Saint-Étienne", "Jardin", "1.00", 100, 1),
    ("paris", "jardin", "-0.40", -40, 1),
];

/// The corpus: NBSP, tabs, CRLF, blank lines, accented words, no final newline.
const CORPUS: &str = "été\u{a0}à la\tmer\r\n\r\nl'été  été\u{2003}mer\n\n\tà\u{a0}bientôt été";

/// The spreadsheet export of [`SALES`]: BOM, quoted fields, CRLF, no final newline.
fn transactions_text() -> String {
    let mut s = String::from("\u{feff}id,date,city,category,amount,quantity");
    for (i, (city, cat, amount, _, quantity)) in SALES.iter().enumerate() {
        s.push_str(&format!(
            "\r\n{},2024-01-0{},\"{city}\",\"{cat}\", {amount} ,{quantity}",
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
    for (city, cat, _, cents, _) in SALES {
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
    // Exercise 2 sums the sales in `u64`: a refund once overflowed in a debug build.
    for n in ["1", "2", "3", "5", "6"] {
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
    // No result CSV of 0 bytes, without its header row, as the trial found.
    let empty: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() == 0))
        .map(|e| e.file_name())
        .collect();
    assert!(empty.is_empty(), "empty files written: {empty:?}");
}

/// Cents written as the lab prints small amounts: `-2,50 €`.
fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02} €", c / 100, c % 100)
}

/// The data rows of a CSV file written by the lab, each split into its first field,
/// the middle (unquoted) and its last `tail` fields (numbers, never quoted).
fn csv_rows(path: &Path, tail: usize) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields: Vec<String> = line.rsplitn(tail + 1, ',').map(String::from).collect();
            fields.reverse();
            let head = fields[0].trim_matches('"').replace("\"\"", "\"");
            fields[0] = head;
            fields
        })
        .collect()
}

/// `"name amount"` for each `[name, cents, …]` of a reference list, as the
/// exercises print them in a sentence, joined by commas.
fn named_amounts(list: &Value) -> String {
    let items: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c[0].as_str().unwrap(),
                euros(c[1].as_i64().unwrap())
            )
        })
        .collect();
    items.join(", ")
}

/// The revenue (amount × quantity) of exercises 1 and 2, in the shape of the W4
/// answer: per category `[name, cents, rows]` in name order, then the cities by
/// revenue (ties alphabetical).
fn revenue_reference() -> Value {
    let mut cats: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
    let mut cities: BTreeMap<&str, i64> = BTreeMap::new();
    for (city, cat, _, cents, quantity) in SALES {
        let c = cats.entry(cat).or_default();
        c.0 += cents * quantity;
        c.1 += 1;
        *cities.entry(city).or_default() += cents * quantity;
    }
    let mut top: Vec<(&str, i64)> = cities.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    json!({
        "total_cents": SALES.iter().map(|s| s.3 * s.4).sum::<i64>(),
        "categories": cats.iter().map(|(k, v)| json!([k, v.0, v.1])).collect::<Vec<_>>(),
        "top_cities": top.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

/// Exercises 1 and 2 (their CSV files): revenue and rows per category (any order),
/// then the cities by revenue (only two: never padded).
fn check_exercise_files(out: &Path) {
    let g = revenue_reference();
    let mut cats: Vec<Value> = csv_rows(&out.join("ex1_categories.csv"), 2)
        .into_iter()
        .map(|f| {
            json!([
                f[0],
                f[1].parse::<i64>().unwrap(),
                f[2].parse::<u64>().unwrap()
            ])
        })
        .collect();
    cats.sort_by_key(|c| c[0].as_str().unwrap().to_owned());
    assert_eq!(Value::from(cats), g["categories"]);
    let top: Vec<Value> = csv_rows(&out.join("ex2_top_villes.csv"), 1)
        .into_iter()
        .map(|f| {
            let (_rank, city) = f[0].split_once(',').unwrap();
            json!([city.trim_matches('"'), f[1].parse::<i64>().unwrap()])
        })
        .collect();
    assert_eq!(Value::from(top), g["top_cities"]);
}

/// Exercise 3 (3.4, ex3_memoire.csv): lines and words of the corpus, and of 16
/// joined copies (a copy without a final newline must not merge with the next).
fn check_exercise_3_counts(out: &Path, w: &Value) {
    let mem = std::fs::read_to_string(out.join("ex3_memoire.csv")).unwrap();
    let rows: Vec<Vec<&str>> = mem
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let lines = CORPUS.lines().count();
    let words = w["total"].as_u64().unwrap() as usize;
    let first = [CORPUS.len(), lines, words].map(|n| n.to_string());
    assert_eq!(rows[0][1..4], first, "{mem}");
    let last = [16 * CORPUS.len(), 16 * lines, 16 * words].map(|n| n.to_string());
    assert_eq!(rows.last().unwrap()[1..4], last, "{mem}");
}

/// The lines of rapport.md giving totals of the user's sales: exercise 1 (1.3),
/// exercise 5 (5.5, the pipeline's totals per category in name order) and
/// exercise 6 (6.6, the task graph's top cities). Exercise 1 gives revenues
/// (amount × quantity), exercises 5 and 6 the amounts of W4.
fn check_report_totals(report: &str, g: &Value) {
    let cents: Vec<i64> = SALES.iter().map(|s| s.3 * s.4).collect();
    let total: i64 = cents.iter().sum();
    let min = *cents.iter().min().unwrap();
    let max = *cents.iter().max().unwrap();
    for line in [
        format!("| 1.3 reduce | nombre de lignes | {} |", SALES.len()),
        format!(
            "| 1.3 reduce | chiffre d'affaires total | {} |",
            euros(total)
        ),
        format!("| 1.3 reduce | plus petite ligne | {} |", euros(min)),
        format!("| 1.3 reduce | plus grande ligne | {} |", euros(max)),
        format!(
            ": {}. ✓ mêmes totaux au centime que W4",
            named_amounts(&g["categories"])
        ),
        format!(
            "3 premières villes {} ; ✓ mêmes totaux que W4.",
            named_amounts(&g["top_cities"])
        ),
    ] {
        assert!(report.contains(&line), "{line} not in rapport.md");
    }
}

/// Exercise 3 in rapport.md: the rare word (3.5) is rare in the corpus; letters are
/// characters, not bytes (3.3 trigrams, 3.6 word lengths): `été` is one trigram of
/// 3 letters, never a broken `�t�`.
fn check_exercise_3_text(report: &str) {
    let rare = report.split("le mot rare « ").nth(1).unwrap();
    let rare = &rare[..rare.find(" »").unwrap()];
    let count = CORPUS
        .split(char::is_whitespace)
        .filter(|x| *x == rare)
        .count();
    assert_eq!(count, 1, "rare word « {rare} »");
    assert!(
        !report.contains('\u{fffd}'),
        "broken characters in rapport.md"
    );
    let mut trigrams: BTreeMap<String, u64> = BTreeMap::new();
    for word in CORPUS.split(char::is_whitespace) {
        let letters: Vec<char> = word.chars().collect();
        for t in letters.windows(3) {
            *trigrams.entry(t.iter().collect()).or_default() += 1;
        }
    }
    let mut trigrams: Vec<(String, u64)> = trigrams.into_iter().collect();
    trigrams.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let windows = &report[report.find("| rang | bigramme").unwrap()..];
    for (rank, (t, n)) in trigrams.iter().take(5).enumerate() {
        let row = format!("| {} | ", rank + 1);
        let line = windows.lines().find(|l| l.starts_with(&row)).unwrap();
        assert!(line.ends_with(&format!(" | {t} ({n}) |")), "{line}");
    }
    let lengths: Vec<usize> = CORPUS
        .lines()
        .next()
        .unwrap()
        .split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().count())
        .collect();
    let lengths = format!("Longueurs des mots de la 1re ligne {lengths:?}");
    assert!(report.contains(&lengths), "{lengths} not in rapport.md");
}

/// resultats.json: every case is checked right; W4/W7 lines measured on the user's
/// own files (their size is the file's) hold the reference answers. Returns how
/// many lines were on the user's files.
fn check_results(out: &Path, g: &Value, w: &Value) -> usize {
    let results = std::fs::read_to_string(out.join("resultats.json")).unwrap();
    let mut on_user_files = 0;
    for l in &json_lines(results.as_bytes()) {
        assert_eq!(l["ok"], true, "{l}");
        let (reference, size) = match l["workload"].as_str().unwrap() {
            "groupby" => (g, SALES.len()),
            "wordcount" => (w, CORPUS.len()),
            _ => continue,
        };
        if l["size"] != size {
            continue; // measured on generated files, for speed
        }
        on_user_files += 1;
        if l["answer"].is_object() {
            assert_eq!(&l["answer"], reference, "{l}");
        } else {
            // The `optimise` strategy of W4 still gave its total alone.
            assert_eq!(l["answer"], reference["total_cents"], "{l}");
        }
    }
    on_user_files
}

/// The main job (`tp4 --data D --output O`, no subcommand) on the user's files: the
/// exercises' answers it writes (ex1_categories.csv, ex2_top_villes.csv,
/// ex3_memoire.csv and the lines of rapport.md about the user's sales and corpus)
/// equal the reference, and every measured case is checked right. W4/W7 lines of
/// resultats.json on the user's own files hold the reference answers; lines on
/// generated `bench/` files, if the main job measures speed there, need only be `ok`.
#[test]
fn the_main_job_on_the_users_files_gives_the_reference_answers() {
    let data = user_data(&transactions_text());
    let out = temp_dir();
    let o = tp4_in(data.path(), out.path()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (g, w) = (groupby_reference(), wordcount_reference());
    check_exercise_files(out.path());
    check_exercise_3_counts(out.path(), &w);
    let report = std::fs::read_to_string(out.path().join("rapport.md")).unwrap();
    check_report_totals(&report, &g);
    check_exercise_3_text(&report);
    let n = check_results(out.path(), &g, &w);
    eprintln!("{n} W4/W7 lines of resultats.json measured on the user's files");
}

#[test]
fn more_than_two_decimals_are_refused_in_every_path() {
    // `1.005` was refused by W4 and accepted, rounded to 1,00, by exercise 1.
    let data = user_data("id,date,city,category,amount,quantity\n1,2024-01-01,Paris,sport,1.00,1\n2,2024-01-01,Paris,sport,1.005,1\n");
    let out = temp_dir();
    let runs: [&[&str]; 6] = [
        &["bench", "groupby", "--fichiers-de-data", "--json"],
        &["cluster", "groupby"],
        &["exercice", "1"],
        &["exercice", "5"],
        &["exercice", "6"],
        &[],
    ];
    for args in runs {
        let o = tp4_in(data.path(), out.path()).args(args).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("ligne 3") && err.contains("« amount »") && err.contains("« 1.005 »"),
            "{args:?}: {err}"
        );
        assert!(!common::stdout(&o).contains("mêmes totaux"), "{args:?}");
    }
}

/// `tp4 bench ARGS` with one sequential run of one worker: the answers, not the speed.
fn bench_seq_once(data: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    tp4_in(data, out)
        .arg("bench")
        .args(args)
        .args([
            "--strategies",
            "seq",
            "--workers",
            "1",
            "--repetitions",
            "1",
        ])
        .output()
        .unwrap()
}

#[test]
fn names_are_trimmed_unquoted_and_keep_their_case() {
    // ` Paris ` and `"Paris"` are the city `Paris`; `paris` is another one.
    let data = user_data(
        "id,date,city,category,amount,quantity\n1,2024-01-01, Paris ,sport,1.00,1\n\
         2,2024-01-01,\"Paris\",sport,2.00,1\n3,2024-01-01,Paris,sport,3.00,1\n\
         4,2024-01-01,paris,sport,4.00,1\n",
    );
    let out = temp_dir();
    let o = bench_seq_once(
        data.path(),
        out.path(),
        &["groupby", "--fichiers-de-data", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line = &json_lines(&o.stdout)[0];
    assert_eq!(
        line["answer"],
        json!({"total_cents": 1000, "categories": [["sport", 1000, 4]],
               "top_cities": [["Paris", 600], ["paris", 400]]})
    );
}

#[test]
fn bench_says_when_it_measures_generated_files() {
    // `bench` silently measured files it generated under `<data>/bench/`.
    let data = user_data(&transactions_text());
    let out = temp_dir();
    let o = bench_seq_once(data.path(), out.path(), &["groupby", "--taille", "1000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = common::text(&o);
    let bench = data.path().join("bench");
    assert!(
        all.contains("mesurés sur des fichiers générés dans")
            && all.contains(&bench.display().to_string())
            && all.contains("--fichiers-de-data"),
        "{all}"
    );
}
