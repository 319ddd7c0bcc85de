//! Micro-benchmarks of the optimisation ladders of exercise 7 (`cargo bench --bench
//! fast`), with divan: every rung of W1 primes, W2 pi, W4 groupby and W7 wordcount at
//! small sizes, and the word splitter of `tp4::data::words` on ASCII and non-ASCII
//! text. The rung names are listed here (divan's arguments are constants) and checked
//! against each workload's `ladder()` before anything runs, so a rung added to a
//! ladder and not here stops the benchmarks with its name. The full-size figures of the ladder come
//! from the `timings` tests of `tp4::workloads::fast` (see `docs/optimisation.md`).

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use std::path::PathBuf;
use tp4::workloads::fast::{groupby, pi, primes, wordcount};

fn main() {
    let listed = [
        (names(primes::ladder()), PRIMES),
        (names(pi::ladder()), PI),
        (names(groupby::ladder()), GROUPBY),
        (names(wordcount::ladder()), WORDCOUNT),
    ];
    for (ladder, here) in listed {
        assert_eq!(
            ladder, here,
            "benches/fast.rs must list every rung of the ladder"
        );
    }
    divan::main();
}

const PRIMES: &[&str] = &["u64", "u32", "inverse", "lanes", "optimise"];
const PI: &[&str] = &["f64", "split", "lanes", "avx2", "32bits", "optimise"];
const GROUPBY: &[&str] = &[
    "reference",
    "bytes",
    "packed",
    "simd",
    "swar",
    "lignes",
    "avx2",
    "optimise",
];
const WORDCOUNT: &[&str] = &[
    "plain", "packed", "simd", "table", "bits", "cases", "sse", "mmap", "optimise",
];

/// The names of a ladder's rungs, in order.
fn names<K>(ladder: Vec<tp4::workloads::fast::Rung<K>>) -> Vec<&'static str> {
    ladder.iter().map(|r| r.name).collect()
}

/// The rung called `name` of a ladder.
fn rung<K: Copy>(ladder: Vec<tp4::workloads::fast::Rung<K>>, name: &str) -> K {
    ladder
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no rung {name}"))
        .run
}

/// W1: every rung counting the primes below 200 000 (2 workers for `optimise`).
#[divan::bench(args = PRIMES)]
fn w1_primes(bencher: Bencher, name: &str) {
    let run = rung(primes::ladder(), name);
    bencher
        .counter(ItemsCount::new(200_000usize))
        .bench(|| run(black_box(200_000), 2));
}

/// W2: every rung drawing 1 000 000 points.
#[divan::bench(args = PI)]
fn w2_pi(bencher: Bencher, name: &str) {
    let run = rung(pi::ladder(), name);
    bencher
        .counter(ItemsCount::new(1_000_000usize))
        .bench(|| run(black_box(1_000_000), 2));
}

/// A data directory generated once for the file-reading benchmarks.
fn data_dir() -> &'static PathBuf {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        tp4::data::generate_files(dir.path(), 20_000, 2, false).unwrap();
        let path = dir.path().to_path_buf();
        (dir, path)
    })
    .1
}

/// W4: every rung over a 20 000-row transactions.csv (about 0.9 MB, page cache).
#[divan::bench(args = GROUPBY)]
fn w4_groupby(bencher: Bencher, name: &str) {
    let run = rung(groupby::ladder(), name);
    let path = data_dir().join(tp4::data::TRANSACTIONS_FILE);
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    bencher
        .counter(BytesCount::new(bytes))
        .bench(|| run(black_box(&path), 2).unwrap());
}

/// W7: every rung over a 2 MB corpus.txt (page cache).
#[divan::bench(args = WORDCOUNT)]
fn w7_wordcount(bencher: Bencher, name: &str) {
    let run = rung(wordcount::ladder(), name);
    let path = data_dir().join(tp4::data::CORPUS_FILE);
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    bencher
        .counter(BytesCount::new(bytes))
        .bench(|| run(black_box(&path), 2).unwrap());
}

/// W7's hot loop alone over 1 MB: the SIMD separators and the open-addressing table,
/// words walked by a scan state (`table`, rung 4) or read off start and end masks
/// (`bits`, rung 5).
#[divan::bench(args = ["table", "bits"])]
fn w7_table_add_text(bencher: Bencher, walk: &str) {
    let mut text = Vec::new();
    tp4::data::corpus::write_text(&mut text, 1_000_000, |_| {}).unwrap();
    let add = match walk {
        "table" => wordcount::Table::add_text,
        _ => wordcount::Table::add_text_bits,
    };
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let mut t = wordcount::Table::default();
        add(&mut t, black_box(&text));
        t
    });
}

/// The same hot loop with the compact table (32-bit counts, three quarters full):
/// scalar keys (`cases`, rung 6) or keys in SSE registers (`sse`, rungs 7 to 9).
#[divan::bench(args = ["cases", "sse"])]
fn w7_compact_add_text(bencher: Bencher, walk: &str) {
    let mut text = Vec::new();
    tp4::data::corpus::write_text(&mut text, 1_000_000, |_| {}).unwrap();
    let add = match walk {
        "cases" => wordcount::Compact::add_text,
        _ => wordcount::Compact::add_text_sse,
    };
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let mut t = wordcount::Compact::default();
        add(&mut t, black_box(&text));
        t
    });
}

/// The word splitter on 1 MB of the ASCII corpus, and on the same text with every
/// space turned into a no-break space (U+00A0) and an accent on every word.
#[divan::bench(args = ["ascii", "unicode"])]
fn words_split(bencher: Bencher, kind: &str) {
    let mut text = Vec::new();
    tp4::data::corpus::write_text(&mut text, 1_000_000, |_| {}).unwrap();
    if kind == "unicode" {
        text = String::from_utf8(text)
            .unwrap()
            .replace(' ', "é\u{a0}")
            .into_bytes();
    }
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| tp4::data::words::count(black_box(&text)));
}
