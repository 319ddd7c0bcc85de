//! The jobs run over worker processes: W1 (primes), W2 (pi), W4 (group-by), W7
//! (word count) split into one share per process, W5 (a stream of records through a
//! pipe), and the start-up cost of a process. Each builds its [`Job`]s, runs them with
//! [`run_workers`] and decodes what the workers wrote; the worker side is
//! [`super::worker`].

use super::supervisor::{run_workers, Job};
use super::DEFAULT_TIMEOUT;
use crate::data::chunks;
use crate::error::{Error, Result};
use crate::workloads::{groupby, ipc, pi, wordcount};
use std::io::Write;
use std::path::Path;
use std::process::ChildStdin;
use std::time::Instant;

/// Parses the text a worker wrote on stdout.
fn parse_output<T: std::str::FromStr>(bytes: &[u8], what: &str) -> Result<T> {
    let text = String::from_utf8_lossy(bytes);
    text.trim().parse().map_err(|_| {
        Error::Process(format!(
            "réponse illisible d'un processus de travail ({what}) : « {} »",
            text.trim()
        ))
    })
}

/// W1 with `workers` processes, one contiguous range of `0..n` each (static chunking,
/// like [`crate::workloads::primes::count_threads`]).
pub fn count_primes(n: u64, workers: usize) -> Result<u64> {
    let w = workers.max(1) as u64;
    let jobs = (0..w)
        .map(|i| {
            Job::new([
                "primes".to_string(),
                (n * i / w).to_string(),
                (n * (i + 1) / w).to_string(),
            ])
        })
        .collect();
    run_workers(jobs, DEFAULT_TIMEOUT)?
        .iter()
        .map(|o| parse_output::<u64>(o, "nombre de premiers"))
        .sum()
}

/// W2 with `workers` processes, stream `i` for process `i`: the same estimate as
/// [`pi::estimate_threads`] with the same worker count.
pub fn estimate_pi(samples: u64, workers: usize) -> Result<f64> {
    let w = workers.max(1);
    let jobs = (0..w)
        .map(|i| {
            Job::new([
                "pi".to_string(),
                i.to_string(),
                pi::share(samples, w, i).to_string(),
            ])
        })
        .collect();
    let hits: u64 = run_workers(jobs, DEFAULT_TIMEOUT)?
        .iter()
        .map(|o| parse_output::<u64>(o, "points dans le disque"))
        .sum::<Result<u64>>()?;
    Ok(pi::estimate(hits, samples))
}

/// W4 with `workers` processes, one line-aligned byte range of the file each; the
/// partial totals come back as one line of numbers and are merged here.
pub fn groupby(path: &Path, workers: usize) -> Result<groupby::GroupBy> {
    groupby::check_header(path)?;
    let ranges = chunks::line_ranges(path, workers.max(1), true)?;
    let jobs = ranges
        .iter()
        .map(|r| Job::new(range_args("groupby", path, r)))
        .collect();
    run_workers(jobs, DEFAULT_TIMEOUT)
        .map_err(|e| chunks::first_error(e, &ranges, |r| groupby::aggregate_range(path, r)))?
        .iter()
        .map(|o| decode_groupby(o))
        .try_fold(groupby::GroupBy::default(), |a, b| Ok(a.merge(b?)))
        .and_then(|g| groupby::non_empty(path, g))
}

/// W7 with `workers` processes, one line-aligned byte range each; each child sends
/// its whole word table back (map + combine in the child, reduce here).
pub fn wordcount(path: &Path, workers: usize) -> Result<wordcount::WordCount> {
    let ranges = chunks::line_ranges(path, workers.max(1), false)?;
    let jobs = ranges
        .iter()
        .map(|r| Job::new(range_args("wordcount", path, r)))
        .collect();
    run_workers(jobs, DEFAULT_TIMEOUT)
        .map_err(|e| chunks::first_error(e, &ranges, |r| wordcount::count_range(path, r)))?
        .iter()
        .map(|o| decode_wordcount(o))
        .try_fold(wordcount::WordCount::default(), |a, b| Ok(a.merge(b?)))
}

fn range_args(task: &str, path: &Path, r: &std::ops::Range<u64>) -> Vec<String> {
    vec![
        task.into(),
        path.to_string_lossy().into_owned(),
        r.start.to_string(),
        r.end.to_string(),
    ]
}

/// One line: the totals by name ([`groupby::GroupBy::encode`]).
pub(crate) fn encode_groupby(g: &groupby::GroupBy) -> String {
    g.encode() + "\n"
}

fn decode_groupby(bytes: &[u8]) -> Result<groupby::GroupBy> {
    groupby::GroupBy::decode(bytes.trim_ascii()).ok_or_else(|| {
        let text = String::from_utf8_lossy(bytes);
        Error::Process(format!(
            "réponse illisible d'un processus (groupby) : « {} »",
            crate::data::transactions::shown(text.trim())
        ))
    })
}

/// First line the total, then one line `count word` per distinct word.
pub(crate) fn encode_wordcount(
    wc: &wordcount::WordCount,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(out, "{}", wc.total)?;
    for (w, c) in &wc.counts {
        write!(out, "{c} ")?;
        out.write_all(w)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn decode_wordcount(bytes: &[u8]) -> Result<wordcount::WordCount> {
    let bad = || Error::Process("réponse illisible d'un processus (wordcount)".into());
    let mut lines = bytes.split(|&b| b == b'\n');
    let total: u64 = std::str::from_utf8(lines.next().ok_or_else(bad)?)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let mut wc = wordcount::WordCount {
        total,
        ..Default::default()
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let sp = line.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let c: u64 = std::str::from_utf8(&line[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        wc.counts.insert(line[sp + 1..].into(), c);
    }
    Ok(wc)
}

/// W5 between two processes: this process produces the K records and writes them on
/// the child's stdin in frames of `batch` records (`batch = 1`: one message per
/// record, one `write` system call each); the child sums the values and answers
/// with the sum. `crash_after` makes the child crash after that many records (to
/// show how the parent detects it).
///
/// Frame format (little-endian): `u32` record count, then per record `u64` id and
/// `f64` value; a frame of 0 records ends the stream.
pub fn pipe_sum(k: u64, batch: usize, crash_after: Option<u64>) -> Result<f64> {
    let mut args = vec!["ipc-sum".to_string()];
    if let Some(c) = crash_after {
        args.push("--crash-after".into());
        args.push(c.to_string());
    }
    let batch = batch.max(1);
    let job = Job {
        args,
        input: Some(Box::new(move |stdin: &mut ChildStdin| {
            let mut frame = Vec::with_capacity(4 + 16 * batch);
            let mut failed = None;
            ipc::produce_batches(k, batch, |records| {
                frame.clear();
                frame.extend_from_slice(&(records.len() as u32).to_le_bytes());
                for r in &records {
                    frame.extend_from_slice(&r.id.to_le_bytes());
                    frame.extend_from_slice(&r.value.to_le_bytes());
                }
                match stdin.write_all(&frame) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
            stdin.write_all(&0u32.to_le_bytes())
        })),
    };
    let out = run_workers(vec![job], DEFAULT_TIMEOUT)?;
    let text = String::from_utf8_lossy(&out[0]);
    u64::from_str_radix(text.trim(), 16)
        .map(f64::from_bits)
        .map_err(|_| {
            Error::Process(format!(
                "le processus consommateur n'a pas renvoyé de somme (sortie « {} ») : il s'est \
                 sans doute arrêté au milieu du flux",
                text.trim()
            ))
        })
}

/// Cost of starting a worker process and waiting for it (`tp4 __worker pid`), median
/// over `reps` starts, in seconds; compare with [`thread_start_cost`].
pub fn process_start_cost(reps: usize) -> Result<f64> {
    let mut samples = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let out = run_workers(vec![Job::new(["pid"])], DEFAULT_TIMEOUT)?;
        samples.push(t.elapsed().as_secs_f64());
        parse_output::<u32>(&out[0], "pid")?;
    }
    Ok(crate::measure::median(&samples))
}

/// Cost of starting a thread and joining it, median over `reps`, in seconds.
pub fn thread_start_cost(reps: usize) -> f64 {
    let samples: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            std::thread::spawn(std::process::id)
                .join()
                .expect("an empty thread cannot panic");
            t.elapsed().as_secs_f64()
        })
        .collect();
    crate::measure::median(&samples)
}

/// Starts one worker that prints its process id and returns that id (a process of
/// its own: the id differs from ours).
pub fn child_pid() -> Result<u32> {
    let out = run_workers(vec![Job::new(["pid"])], DEFAULT_TIMEOUT)?;
    parse_output(&out[0], "pid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procs::{consume_frames, EXE_ENV};

    #[test]
    fn groupby_and_wordcount_round_trip_through_text() {
        let mut g = groupby::GroupBy::default();
        g.add("Lyon", "sport", 12_345);
        g.add("Saint-Étienne", "thé", 1);
        assert_eq!(decode_groupby(encode_groupby(&g).as_bytes()).unwrap(), g);
        assert!(decode_groupby(b"1 2 3").is_err());
        let mut wc = wordcount::WordCount::default();
        wc.add_text(b"le chat et le chien\n");
        let mut buf = Vec::new();
        encode_wordcount(&wc, &mut buf).unwrap();
        assert_eq!(decode_wordcount(&buf).unwrap(), wc);
    }

    fn frames(k: u64, batch: usize, with_end: bool) -> Vec<u8> {
        let mut v = Vec::new();
        ipc::produce_batches(k, batch, |rs| {
            v.extend_from_slice(&(rs.len() as u32).to_le_bytes());
            for r in rs {
                v.extend_from_slice(&r.id.to_le_bytes());
                v.extend_from_slice(&r.value.to_le_bytes());
            }
            true
        });
        if with_end {
            v.extend_from_slice(&0u32.to_le_bytes());
        }
        v
    }

    #[test]
    fn frames_sum_exactly_and_a_cut_stream_is_an_error() {
        for batch in [1, 7, 1024] {
            let sum = consume_frames(&frames(5_000, batch, true)[..], None).unwrap();
            assert_eq!(sum, ipc::producer_sum(5_000));
        }
        let msg = consume_frames(&frames(100, 10, false)[..], None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("après 100 enregistrements"), "{msg}");
    }

    #[test]
    fn unit_tests_cannot_start_workers_and_say_why() {
        // The test binary is not `tp4`: without TP4_EXE, a clear French error.
        if std::env::var_os(EXE_ENV).is_none() {
            let msg = count_primes(100, 2).unwrap_err().to_string();
            assert!(
                msg.contains("TP4_EXE") && msg.contains("cargo build"),
                "{msg}"
            );
        }
    }
}
