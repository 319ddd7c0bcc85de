//! Micro-benchmarks of the hot kernels of the lab (`cargo bench --bench kernels`), with
//! divan: the prime test of W1, the sums of W3, the CSV row parsing of W4, the word
//! scanning of W7, and an allocate/free pair through the tracking allocator of
//! `tp4::alloc`, installed here as in the `tp4` binary. `cargo bench --bench
//! alloc_system` times the same pair with the system allocator alone: the difference
//! is the cost of tracking. A regression in one of these kernels shows here first.

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use tp4::workloads::{groupby, primes, sumsq, wordcount};

#[global_allocator]
static ALLOC: tp4::alloc::TrackingAllocator = tp4::alloc::TrackingAllocator;

fn main() {
    divan::main();
}

/// W1: trial division over 10_000 numbers near one million (uneven cost).
#[divan::bench]
fn prime_test(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(10_000usize))
        .bench(|| primes::count_range(black_box(1_000_000), black_box(1_010_000)));
}

/// W3: the sum of squares of 1 Mi values, plain fold versus 8 lanes.
#[divan::bench(args = ["fold", "lanes"])]
fn sum_of_squares(bencher: Bencher, kind: &str) {
    let xs = sumsq::fill(1 << 20);
    bencher
        .counter(BytesCount::new(xs.len() * 8))
        .bench(|| match kind {
            "fold" => sumsq::sum_seq(black_box(&xs)),
            _ => sumsq::sum_lanes(black_box(&xs)),
        });
}

/// W4: parsing and aggregating CSV rows of transactions.csv.
#[divan::bench]
fn csv_rows(bencher: Bencher) {
    let mut text = Vec::new();
    tp4::data::transactions::write_rows(&mut text, 10_000, |_| {}).unwrap();
    let body_start = text.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body = &text[body_start..];
    bencher.counter(BytesCount::new(body.len())).bench(|| {
        let mut g = groupby::GroupBy::default();
        for line in black_box(body).split(|&b| b == b'\n') {
            if !line.is_empty() {
                assert!(groupby::add_line(&mut g, line));
            }
        }
        g
    });
}

/// W7: scanning and counting the words of 1 MB of corpus text.
#[divan::bench]
fn word_count(bencher: Bencher) {
    let mut text = Vec::new();
    tp4::data::corpus::write_text(&mut text, 1_000_000, |_| {}).unwrap();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let mut wc = wordcount::WordCount::default();
        wc.add_text(black_box(&text));
        wc
    });
}

/// An allocate/free pair of 64 bytes through the tracking allocator.
#[divan::bench]
fn alloc_free_64_tracked() -> Vec<u8> {
    let v: Vec<u8> = Vec::with_capacity(black_box(64));
    black_box(v)
}
