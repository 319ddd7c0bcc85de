//! Exercise 5 — Communication entre processus : queues et pipes. Channels between
//! threads (std `mpsc`, crossbeam), ending a consumer cleanly, backpressure with a
//! bounded channel, a hand-made worker pool, a pipeline of stages, a real pipe
//! between two OS processes, and shared state three ways.
//!
//! One public function per question, each the reference answer; the checkers are in
//! [`verif`] (`ex5::verif::qN_...`). [`demo`](demo::demo) is what `tp4 exercice 5`
//! runs, one function per step. The thread and pipe versions of W5 are those of
//! [`crate::workloads::ipc`] and [`crate::procs::pipe_sum`], the strategies
//! `tp4 bench` measures.

pub mod demo;
pub mod verif;

pub use crate::verif::deadline::run_with_deadline;
pub use demo::demo;

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 5 — Communication entre processus : queues et pipes";

use crate::data::transactions;
use crate::error::{Error, Result};
use crate::workloads::{self, groupby};
use crossbeam::channel;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The value producer `p` sends as its `i`-th message.
fn produced(p: usize, per_producer: u64, i: u64) -> u64 {
    p as u64 * per_producer + i
}

/// Q5.1 — Producer/consumer over `std::sync::mpsc` with several producers (cloned
/// `Sender`s): producer `p` sends `p·K + i` for `i` in `0..K`. The consumer's loop
/// `for v in rx` ends by itself once every `Sender` is dropped, the original one
/// included: no "poison pill" is needed. Returns (messages received, their sum).
pub(crate) fn producers_consumer(producers: usize, per_producer: u64) -> (u64, u64) {
    let (tx, rx) = mpsc::channel::<u64>();
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per_producer {
                    tx.send(produced(p, per_producer, i))
                        .expect("the consumer hung up");
                }
            })
        })
        .collect();
    drop(tx); // otherwise the consumer would wait for this sender forever
    let (mut count, mut sum) = (0, 0);
    for v in rx {
        count += 1;
        sum += v;
    }
    for h in handles {
        h.join().expect("a producer panicked");
    }
    (count, sum)
}

/// Q5.2 — The same with an explicit sentinel (Python's "poison pill"): each
/// producer ends with `None`, and the consumer stops after one `None` per producer —
/// not at the first one, which would lose the messages of the others.
pub(crate) fn sentinel_consumer(producers: usize, per_producer: u64) -> (u64, u64) {
    let (tx, rx) = mpsc::channel::<Option<u64>>();
    std::thread::scope(|s| {
        for p in 0..producers {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per_producer {
                    tx.send(Some(produced(p, per_producer, i)))
                        .expect("the consumer hung up");
                }
                tx.send(None).expect("the consumer hung up");
            });
        }
        let (mut count, mut sum, mut done) = (0, 0, 0);
        while done < producers {
            match rx.recv().expect("a producer vanished without its sentinel") {
                Some(v) => {
                    count += 1;
                    sum += v;
                }
                None => done += 1,
            }
        }
        (count, sum)
    })
}

/// Q5.3 — A bounded channel: how many of `items` messages does `sync_channel(capacity)`
/// accept, with nobody receiving, before a send would block? (`try_send` reports
/// `Full` instead of blocking.) With an unbounded channel the producer never waits,
/// and a slow consumer lets the queue grow without limit.
pub(crate) fn accepted_before_full(capacity: usize, items: usize) -> usize {
    let (tx, _rx) = mpsc::sync_channel::<usize>(capacity);
    (0..items).take_while(|&i| tx.try_send(i).is_ok()).count()
}

/// What [`backpressure`] measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backpressure {
    /// Time the producer spent blocked in `send`.
    pub producer_blocked: Duration,
    /// Wall time of the whole exchange.
    pub total: Duration,
    /// Messages received.
    pub received: usize,
}

/// Q5.3 (measure) — Backpressure: a producer sends `items` messages as fast as it
/// can over a channel of `capacity` (`None`: unbounded) to a consumer that takes
/// `consumer_delay` per message; measures how long the producer was blocked.
pub(crate) fn backpressure(
    capacity: Option<usize>,
    items: usize,
    consumer_delay: Duration,
) -> Backpressure {
    let (tx, rx) = match capacity {
        Some(c) => channel::bounded::<usize>(c),
        None => channel::unbounded::<usize>(),
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut blocked = Duration::ZERO;
            for i in 0..items {
                let t = Instant::now();
                tx.send(i).expect("the consumer hung up");
                blocked += t.elapsed();
            }
            blocked
        });
        let mut received = 0;
        for _ in rx {
            std::thread::sleep(consumer_delay);
            received += 1;
        }
        Backpressure {
            producer_blocked: producer.join().expect("the producer panicked"),
            total: start.elapsed(),
            received,
        }
    })
}

/// Q5.4 — A hand-made worker pool: `workers` threads take `(id, job)` pairs from one
/// shared crossbeam MPMC channel, send `(id, f(job))` on a results channel; the
/// results arrive in completion order and are put back in job order by id.
pub(crate) fn worker_pool<T: Send, R: Send>(
    jobs: Vec<T>,
    workers: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let n = jobs.len();
    let (job_tx, job_rx) = channel::unbounded::<(usize, T)>();
    let (res_tx, res_rx) = channel::unbounded::<(usize, R)>();
    for job in jobs.into_iter().enumerate() {
        job_tx.send(job).expect("the job channel is open");
    }
    drop(job_tx); // workers stop when the queue is empty and closed
    let f = &f;
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            let (job_rx, res_tx) = (job_rx.clone(), res_tx.clone());
            s.spawn(move || {
                for (id, job) in job_rx {
                    if res_tx.send((id, f(job))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        let mut slots: Vec<Option<R>> = (0..n).map(|_| None).collect();
        for (id, r) in res_rx {
            slots[id] = Some(r);
        }
        slots
            .into_iter()
            .map(|r| r.expect("every job gives one result"))
            .collect()
    })
}

/// The job of the worker-pool demo and checker: the number of primes below `x`
/// (uneven cost, so results complete out of order).
pub fn pool_job(x: u64) -> u64 {
    workloads::primes::count_seq(x)
}

/// Total amount in cents per category, by name (the categories of the file).
pub type CategoryCents = std::collections::BTreeMap<String, i64>;

/// Q5.5 — A pipeline of three stages connected by bounded channels, each on its
/// own thread: read lines of transactions.csv (batches of 1024) → parse the
/// category and the amount in cents (the lab's row reader,
/// [`transactions::parse_line`]) → aggregate per category. Returns the total amount
/// in cents per category: the same answer as W4 ([`groupby::seq`]) and exercise 1.
/// A bad line is an error naming its line; a file without rows says so.
pub(crate) fn pipeline_totals(path: &Path) -> Result<CategoryCents> {
    let head = transactions::header(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(head.rows_start))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let (line_tx, line_rx) = channel::bounded::<Vec<(u64, Vec<u8>)>>(16);
    let (row_tx, row_rx) = channel::bounded::<Vec<(String, i64)>>(16);
    std::thread::scope(|s| {
        let reader = s.spawn(move || -> Result<()> {
            use std::io::BufRead;
            let mut reader = std::io::BufReader::new(file);
            let mut batch = Vec::with_capacity(1024);
            // Physical line numbers, from the header's.
            let mut line_no = head.line;
            loop {
                let mut raw = Vec::new();
                let n = reader
                    .read_until(b'\n', &mut raw)
                    .map_err(|e| Error::io("lecture de", path, e))?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                batch.push((line_no, raw));
                if batch.len() == 1024 && line_tx.send(std::mem::take(&mut batch)).is_err() {
                    return Ok(()); // a later stage stopped on an error
                }
            }
            let _ = line_tx.send(batch);
            Ok(())
        });
        let parser = s.spawn(move || -> Result<()> {
            let mut buf = String::new();
            for batch in line_rx {
                let mut rows = Vec::with_capacity(batch.len());
                for (line_no, raw) in batch {
                    let text = transactions::line_content(&raw);
                    match transactions::parse_line(text, &mut buf) {
                        Ok(Some(row)) => rows.push((row.category.to_string(), row.cents)),
                        Ok(None) => {}
                        Err(e) => return Err(e.at(path, line_no)),
                    }
                }
                if row_tx.send(rows).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        });
        let mut totals = CategoryCents::new();
        let mut overflow = false;
        for rows in row_rx {
            for (c, cents) in rows {
                let t = totals.entry(c).or_default();
                match t.checked_add(cents) {
                    Some(v) => *t = v,
                    None => overflow = true,
                }
            }
        }
        // Report the first stage that failed (the parser's error explains the line).
        parser.join().expect("the parser panicked")?;
        reader.join().expect("the reader panicked")?;
        if overflow {
            return Err(Error::Other(format!(
                "{} : {}",
                path.display(),
                transactions::total_too_large("d'une catégorie")
            )));
        }
        if totals.is_empty() {
            return Err(transactions::no_rows(path));
        }
        Ok(totals)
    })
}

/// Q5.6 — W5 through a real pipe between two OS processes: the parent produces the
/// K records and writes them in frames of `batch` records on the child's stdin
/// (`batch = 1`: one message per record); the child (`tp4 __worker ipc-sum`) sums
/// them and answers with the sum on its stdout. With `crash_after = Some(n)` the
/// child crashes after n records: the parent must report an error, not hang and not
/// return a partial sum.
pub(crate) fn pipe_sum(k: u64, batch: usize, crash_after: Option<u64>) -> Result<f64> {
    crate::procs::pipe_sum(k, batch, crash_after)
}

/// Q5.7a — Shared state with a lock: `threads` threads each add 1 to an
/// `Arc<Mutex<u64>>` `per_thread` times. Exact, but every increment takes the lock:
/// with several threads, they queue for it (contention).
pub(crate) fn count_mutex(threads: usize, per_thread: u64) -> u64 {
    let counter = Arc::new(Mutex::new(0u64));
    std::thread::scope(|s| {
        for _ in 0..threads {
            let c = Arc::clone(&counter);
            s.spawn(move || {
                for _ in 0..per_thread {
                    *c.lock().expect("poisoned lock") += 1;
                }
            });
        }
    });
    let total = *counter.lock().expect("poisoned lock");
    total
}

/// Q5.7b — Shared state with an atomic: `fetch_add` on an `AtomicU64`, no lock, but
/// the cache line holding the counter still travels between cores.
pub(crate) fn count_atomic(threads: usize, per_thread: u64) -> u64 {
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    counter.into_inner()
}

/// Q5.7c — Message passing instead of sharing: each thread counts on its own and
/// sends its partial count once; the receiver adds them up ("do not communicate by
/// sharing memory, share memory by communicating").
pub(crate) fn count_messages(threads: usize, per_thread: u64) -> u64 {
    let (tx, rx) = mpsc::channel::<u64>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            s.spawn(move || {
                let mut local = 0u64;
                for _ in 0..per_thread {
                    local = std::hint::black_box(local + 1);
                }
                tx.send(local).expect("the receiver hung up");
            });
        }
    });
    drop(tx);
    rx.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::data::transactions::HEADER;

    #[test]
    fn pipeline_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            format!("{HEADER}\n1,2024-01-01,Paris,sport,1.00,1\n2,2024-01-01,Paris,jeux,1.005,1\n"),
        )
        .unwrap();
        let msg = pipeline_totals(&p).unwrap_err().to_string();
        assert!(msg.contains("ligne 3") && msg.contains("1.005"), "{msg}");
        let b = backpressure(Some(2), 10, Duration::from_millis(1));
        assert_eq!(b.received, 10);
        assert!(b.producer_blocked <= b.total);
    }
}
