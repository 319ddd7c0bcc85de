//! W5 ipc: a producer sends K records `(id, value)` to a consumer that sums the
//! values. What is measured is the cost of communication itself: the work per
//! message is one addition. Sending one record per message pays the channel's
//! synchronisation K times; sending batches pays it K / batch times.
//!
//! This module holds the thread versions (std `mpsc` and crossbeam channels); the
//! version between two OS processes over a pipe lives with the process tools.

use crossbeam::channel;
use std::sync::mpsc;

/// One message of W5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// 0..K-1.
    pub id: u64,
    /// (id mod 1000) / 1000.
    pub value: f64,
}

/// Record number `id`.
#[inline]
pub fn record(id: u64) -> Record {
    Record {
        id,
        value: (id % 1000) as f64 / 1000.0,
    }
}

/// The producer's sum, summed in id order: what the consumer must find.
pub fn producer_sum(k: u64) -> f64 {
    (0..k).map(|id| record(id).value).sum()
}

/// Default batch size of the batched variants.
pub const BATCH: usize = 1024;

/// std `mpsc`, one record per message.
pub fn mpsc_per_record(k: u64) -> f64 {
    let (tx, rx) = mpsc::channel::<Record>();
    std::thread::scope(|s| {
        s.spawn(move || {
            for id in 0..k {
                tx.send(record(id)).expect("the consumer hung up");
            }
        });
        rx.iter().map(|r| r.value).sum()
    })
}

/// std `mpsc`, batches of `batch` records per message.
pub fn mpsc_batched(k: u64, batch: usize) -> f64 {
    let (tx, rx) = mpsc::channel::<Vec<Record>>();
    std::thread::scope(|s| {
        s.spawn(move || produce_batches(k, batch, |b| tx.send(b).is_ok()));
        rx.iter().flat_map(|b| b.into_iter().map(|r| r.value)).sum()
    })
}

/// crossbeam bounded channel (capacity 1024), one record per message.
pub fn crossbeam_per_record(k: u64) -> f64 {
    let (tx, rx) = channel::bounded::<Record>(1024);
    std::thread::scope(|s| {
        s.spawn(move || {
            for id in 0..k {
                tx.send(record(id)).expect("the consumer hung up");
            }
        });
        rx.iter().map(|r| r.value).sum()
    })
}

/// crossbeam bounded channel (capacity 16), batches of `batch` records.
pub fn crossbeam_batched(k: u64, batch: usize) -> f64 {
    let (tx, rx) = channel::bounded::<Vec<Record>>(16);
    std::thread::scope(|s| {
        s.spawn(move || produce_batches(k, batch, |b| tx.send(b).is_ok()));
        rx.iter().flat_map(|b| b.into_iter().map(|r| r.value)).sum()
    })
}

/// Calls `send` with consecutive batches of records until all K are sent or `send`
/// returns false (the consumer is gone).
pub fn produce_batches(k: u64, batch: usize, mut send: impl FnMut(Vec<Record>) -> bool) {
    let batch = batch.max(1) as u64;
    let mut id = 0;
    while id < k {
        let end = (id + batch).min(k);
        if !send((id..end).map(record).collect()) {
            return;
        }
        id = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_finds_the_producer_sum_exactly() {
        for k in [0, 1, 1000, 12_345] {
            let expected = producer_sum(k);
            assert_eq!(mpsc_per_record(k), expected);
            assert_eq!(mpsc_batched(k, 100), expected);
            assert_eq!(crossbeam_per_record(k), expected);
            assert_eq!(crossbeam_batched(k, 7), expected);
        }
    }
}
