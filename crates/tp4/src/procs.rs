//! Real OS processes, the counterpart of Python's `multiprocessing.Process` / `Pool`:
//! the program starts copies of itself (`tp4 __worker TASK ARGS...`), each computes
//! its share (a range of numbers, a stream of points, a byte range of a file) and
//! sends its result back over its stdout pipe. Processes share no memory: what goes
//! between them is bytes through a pipe, which is why their start-up and their
//! communication cost more than with threads.
//!
//! Safety rules kept on every path, errors and panics included: every child started
//! is killed if still running and always waited for (no orphan, no zombie); a child
//! that stops with an error or a signal is reported with a clear French message
//! (which worker, how it ended, the last line it wrote on stderr); a global timeout
//! kills everything rather than hang.
//!
//! The executable started is `TP4_EXE` if set (tests and the notebook point it at the
//! built `tp4` binary), else the current executable when it is `tp4` itself.

use crate::data::chunks;
use crate::error::{Error, Result};
use crate::workloads::{groupby, ipc, pi, primes, wordcount};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The hidden subcommand that turns `tp4` into a worker.
pub const WORKER_COMMAND: &str = "__worker";

/// The environment variable naming the `tp4` executable to start as workers.
pub const EXE_ENV: &str = "TP4_EXE";

/// How long a group of workers may run before everything is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The `tp4` executable to start: `TP4_EXE`, else the current executable if its name
/// is `tp4` (a test binary or the notebook kernel cannot serve as a worker).
pub fn exe_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(EXE_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(Error::InvalidParameter(format!(
            "{EXE_ENV}={} ne désigne pas un fichier exécutable\n  → construisez la commande avec \
             `cargo build --release` puis `export {EXE_ENV}=$PWD/target/release/tp4`",
            p.display()
        )));
    }
    let current = std::env::current_exe()
        .map_err(|e| Error::Other(format!("chemin de l'exécutable courant introuvable : {e}")))?;
    let stem = current
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() == Some("tp4") {
        Ok(current)
    } else {
        Err(Error::InvalidParameter(format!(
            "les processus de travail sont des copies de la commande `tp4`, mais ce programme \
             est {}\n  → construisez-la (`cargo build --release`) et indiquez son chemin : \
             `export {EXE_ENV}=$PWD/target/release/tp4` (dans le notebook : \
             `std::env::set_var(\"{EXE_ENV}\", \"…/target/release/tp4\")`)",
            current.display()
        )))
    }
}

/// What writes a child's stdin.
pub type Feeder = Box<dyn FnOnce(&mut ChildStdin) -> std::io::Result<()> + Send>;

/// One worker to start: its task arguments and, optionally, what to write on its
/// stdin (run on a thread of its own while the child runs).
pub struct Job {
    /// Arguments after `__worker` (task name first).
    pub args: Vec<String>,
    /// Writes the child's input; the pipe is closed when it returns.
    pub input: Option<Feeder>,
}

impl Job {
    /// A job without input.
    pub fn new(args: impl IntoIterator<Item = impl Into<String>>) -> Job {
        Job {
            args: args.into_iter().map(Into::into).collect(),
            input: None,
        }
    }
}

/// Kills (if still running) and waits for every child it holds when dropped: the
/// guarantee that no path leaves a process behind.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            if let Ok(None) = c.try_wait() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// What a helper thread reports about one child.
enum Event {
    Stdout(usize, std::io::Result<Vec<u8>>),
    Stderr(usize, Vec<u8>),
    Stdin(usize, std::io::Result<()>),
}

/// How a child ended, in French.
pub fn describe_status(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                6 => " (SIGABRT : abandon après une panique ou une connexion perdue)",
                9 => " (SIGKILL : tué)",
                11 => " (SIGSEGV : erreur mémoire)",
                15 => " (SIGTERM : arrêté)",
                _ => "",
            };
            return format!("tué par le signal {sig}{name}");
        }
    }
    match status.code() {
        Some(c) => format!("code de sortie {c}"),
        None => "fin inconnue".into(),
    }
}

/// The message of a child's stderr: what follows "panicked at" for a panic, else
/// the last non-empty line (the `erreur : ...` of `tp4`).
fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines();
    if lines.any(|l| l.contains("panicked at")) {
        if let Some(msg) = lines.next() {
            return format!("panique : {}", msg.trim());
        }
    }
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("note:"))
        .unwrap_or("(rien sur stderr)")
        .trim()
        .to_string()
}

/// Starts one `tp4 __worker` child per job, all at once, and returns what each wrote
/// on stdout, in job order. The first child that fails stops the others; after
/// `timeout` every child is killed. Every child is waited for on every path.
pub fn run_workers(jobs: Vec<Job>, timeout: Duration) -> Result<Vec<Vec<u8>>> {
    let exe = exe_path()?;
    let deadline = Instant::now() + timeout;
    let n = jobs.len();
    let mut children = Children(Vec::with_capacity(n));
    let mut inputs = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for job in jobs {
        let child = Command::new(&exe)
            .arg(WORKER_COMMAND)
            .args(&job.args)
            .stdin(if job.input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("RUST_BACKTRACE", "0")
            .spawn()
            .map_err(|e| {
                Error::Other(format!(
                    "impossible de démarrer le processus de travail {} : {e}",
                    exe.display()
                ))
            })?;
        children.0.push(child);
        labels.push(job.args.join(" "));
        inputs.push(job.input);
    }

    let (tx, rx) = mpsc::channel::<Event>();
    let mut expected = 0;
    let mut stdouts: Vec<Option<Vec<u8>>> = vec![None; n];
    let mut stderrs: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut stdin_errors: Vec<Option<std::io::Error>> = (0..n).map(|_| None).collect();
    let mut failure: Option<Error> = None;
    let mut crashed_child: Option<(usize, ExitStatus)> = None;

    std::thread::scope(|s| {
        for (i, (child, input)) in children.0.iter_mut().zip(inputs).enumerate() {
            let mut out = child.stdout.take().expect("stdout is piped");
            let tx_out = tx.clone();
            s.spawn(move || {
                let mut buf = Vec::new();
                let r = out.read_to_end(&mut buf).map(|_| buf);
                let _ = tx_out.send(Event::Stdout(i, r));
            });
            let mut err = child.stderr.take().expect("stderr is piped");
            let tx_err = tx.clone();
            s.spawn(move || {
                let mut buf = Vec::new();
                let _ = err.read_to_end(&mut buf);
                let _ = tx_err.send(Event::Stderr(i, buf));
            });
            expected += 2;
            if let Some(feed) = input {
                let mut stdin = child.stdin.take().expect("stdin is piped");
                let tx_in = tx.clone();
                s.spawn(move || {
                    let r = feed(&mut stdin);
                    drop(stdin); // end of input for the child
                    let _ = tx_in.send(Event::Stdin(i, r));
                });
                expected += 1;
            }
        }
        drop(tx);

        let mut received = 0;
        while received < expected {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match rx.recv_timeout(left) {
                Ok(e) => e,
                Err(_) => {
                    failure = Some(Error::Other(format!(
                        "délai dépassé : les processus de travail n'ont pas fini en {} ; \
                         ils ont été arrêtés (kill) et attendus",
                        crate::measure::human_seconds(timeout.as_secs_f64())
                    )));
                    break;
                }
            };
            received += 1;
            match event {
                Event::Stdout(i, Ok(bytes)) => {
                    stdouts[i] = Some(bytes);
                    // Its stdout is closed: the child is ending. See how, so that a
                    // crash stops the group at once instead of after the others.
                    let until = Instant::now() + Duration::from_millis(200);
                    while Instant::now() < until {
                        match children.0[i].try_wait() {
                            Ok(Some(status)) => {
                                if !status.success() {
                                    crashed_child = Some((i, status));
                                }
                                break;
                            }
                            Ok(None) => std::thread::sleep(Duration::from_micros(200)),
                            Err(_) => break,
                        }
                    }
                }
                Event::Stdout(i, Err(e)) => {
                    failure = Some(Error::Other(format!(
                        "lecture de la sortie du processus de travail n°{i} ({}) : {e}",
                        labels[i]
                    )));
                }
                Event::Stderr(i, bytes) => stderrs[i] = bytes,
                Event::Stdin(i, r) => stdin_errors[i] = r.err(),
            }
            if failure.is_some() || crashed_child.is_some() {
                break;
            }
        }
        // Stop whatever still runs, so that the helper threads see their pipes close
        // and the scope can end.
        if failure.is_some() || crashed_child.is_some() {
            for c in &mut children.0 {
                let _ = c.kill();
            }
        }
    });
    // Collect what the helper threads reported after the loop stopped.
    for event in rx.try_iter() {
        if let Event::Stderr(i, bytes) = event {
            stderrs[i] = bytes;
        }
    }
    if let Some((i, status)) = crashed_child {
        return Err(crashed(i, &labels[i], &status, &stderrs[i]));
    }
    if let Some(f) = failure {
        return Err(f);
    }

    // Every pipe is closed: wait for each child (bounded by the deadline).
    for i in 0..n {
        let status = loop {
            match children.0[i].try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(None) => {
                    return Err(Error::Other(format!(
                        "délai dépassé : le processus de travail n°{i} ({}) ne s'est pas terminé ; \
                         il a été arrêté (kill)",
                        labels[i]
                    )))
                }
                Err(e) => return Err(Error::Other(format!("attente du processus n°{i} : {e}"))),
            }
        };
        if !status.success() {
            return Err(crashed(i, &labels[i], &status, &stderrs[i]));
        }
        if let Some(e) = &stdin_errors[i] {
            return Err(Error::Other(format!(
                "le processus de travail n°{i} ({}) a fermé son entrée avant la fin du flux : {e}",
                labels[i]
            )));
        }
    }
    Ok(stdouts.into_iter().map(Option::unwrap_or_default).collect())
}

/// The error of a child that ended badly.
fn crashed(i: usize, label: &str, status: &ExitStatus, stderr: &[u8]) -> Error {
    Error::Other(format!(
        "le processus de travail n°{i} ({label}) s'est arrêté anormalement : {} ; son dernier \
         message : « {} » — ses résultats sont perdus et tous les processus du groupe ont été \
         arrêtés et attendus",
        describe_status(status),
        last_line(stderr)
    ))
}

/// Parses the text a worker wrote on stdout.
fn parse_output<T: std::str::FromStr>(bytes: &[u8], what: &str) -> Result<T> {
    let text = String::from_utf8_lossy(bytes);
    text.trim().parse().map_err(|_| {
        Error::Other(format!(
            "réponse illisible d'un processus de travail ({what}) : « {} »",
            text.trim()
        ))
    })
}

/// W1 with `workers` processes, one contiguous range of `0..n` each (static chunking,
/// like [`primes::count_threads`]).
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
    run_workers(jobs, DEFAULT_TIMEOUT)?
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
    run_workers(jobs, DEFAULT_TIMEOUT)?
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
fn encode_groupby(g: &groupby::GroupBy) -> String {
    g.encode() + "\n"
}

fn decode_groupby(bytes: &[u8]) -> Result<groupby::GroupBy> {
    groupby::GroupBy::decode(bytes.trim_ascii()).ok_or_else(|| {
        let text = String::from_utf8_lossy(bytes);
        Error::Other(format!(
            "réponse illisible d'un processus (groupby) : « {} »",
            crate::data::transactions::shown(text.trim())
        ))
    })
}

/// First line the total, then one line `count word` per distinct word.
fn encode_wordcount(wc: &wordcount::WordCount, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}", wc.total)?;
    for (w, c) in &wc.counts {
        write!(out, "{c} ")?;
        out.write_all(w)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn decode_wordcount(bytes: &[u8]) -> Result<wordcount::WordCount> {
    let bad = || Error::Other("réponse illisible d'un processus (wordcount)".into());
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
            Error::Other(format!(
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

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T> {
    let v = args.get(i).ok_or_else(|| {
        Error::InvalidParameter(format!("{WORKER_COMMAND} : argument manquant « {what} »"))
    })?;
    v.parse().map_err(|_| {
        Error::InvalidParameter(format!(
            "{WORKER_COMMAND} : « {v} » n'est pas un {what} valide"
        ))
    })
}

/// The entry point of a worker process (`tp4 __worker TASK ARGS...`): computes its
/// share and writes the result on stdout. Tasks: `primes LO HI`, `pi INDEX POINTS`,
/// `groupby FILE START END`, `wordcount FILE START END`, `ipc-sum [--crash-after N]`
/// (reads frames on stdin), `pid`, `sleep MS`.
pub fn worker_main(args: &[String]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let w = |e: std::io::Error| Error::Other(format!("écriture vers le processus parent : {e}"));
    let task = args.first().map(String::as_str).unwrap_or("");
    match task {
        "primes" => {
            let c = primes::count_range(arg(args, 1, "début")?, arg(args, 2, "fin")?);
            writeln!(out, "{c}").map_err(w)?;
        }
        "pi" => {
            let h = pi::hits(
                arg(args, 1, "numéro de flux")?,
                arg(args, 2, "nombre de points")?,
            );
            writeln!(out, "{h}").map_err(w)?;
        }
        "groupby" | "wordcount" => {
            let path = PathBuf::from(arg::<String>(args, 1, "fichier")?);
            let range = arg(args, 2, "début")?..arg(args, 3, "fin")?;
            if task == "groupby" {
                let g = groupby::aggregate_range(&path, range)?;
                out.write_all(encode_groupby(&g).as_bytes()).map_err(w)?;
            } else {
                let wc = wordcount::count_range(&path, range)?;
                encode_wordcount(&wc, &mut out).map_err(w)?;
            }
        }
        "ipc-sum" => {
            let crash_after: Option<u64> = match args.get(1).map(String::as_str) {
                Some("--crash-after") => Some(arg(args, 2, "nombre d'enregistrements")?),
                _ => None,
            };
            let sum = consume_frames(std::io::stdin().lock(), crash_after)?;
            writeln!(out, "{:016x}", sum.to_bits()).map_err(w)?;
        }
        "pid" => writeln!(out, "{}", std::process::id()).map_err(w)?,
        "sleep" => std::thread::sleep(Duration::from_millis(arg(args, 1, "durée en ms")?)),
        other => {
            return Err(Error::InvalidParameter(format!(
                "{WORKER_COMMAND} : tâche inconnue « {other} » (primes, pi, groupby, wordcount, \
                 ipc-sum, pid, sleep)"
            )))
        }
    }
    out.flush().map_err(w)
}

/// The consumer side of [`pipe_sum`]: reads frames until the end frame and sums the
/// values in id order; a stream that ends without its end frame, or whose ids are not
/// consecutive, is an error.
pub fn consume_frames(input: impl Read, crash_after: Option<u64>) -> Result<f64> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    let (mut sum, mut next_id) = (0.0, 0u64);
    let cut = |next_id: u64| {
        move |e: std::io::Error| {
            Error::Other(format!(
                "flux interrompu après {next_id} enregistrements, sans la trame de fin : {e}"
            ))
        }
    };
    loop {
        let mut head = [0u8; 4];
        r.read_exact(&mut head).map_err(cut(next_id))?;
        let count = u32::from_le_bytes(head);
        if count == 0 {
            return Ok(sum);
        }
        for _ in 0..count {
            let mut rec = [0u8; 16];
            r.read_exact(&mut rec).map_err(cut(next_id))?;
            let id = u64::from_le_bytes(rec[..8].try_into().expect("8 bytes"));
            let value = f64::from_le_bytes(rec[8..].try_into().expect("8 bytes"));
            if id != next_id {
                return Err(Error::Other(format!(
                    "trame corrompue : enregistrement {id} reçu, {next_id} attendu"
                )));
            }
            if crash_after == Some(next_id) {
                panic!("panne simulée après {next_id} enregistrements");
            }
            sum += value;
            next_id += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn statuses_are_described_in_french() {
        let ok = std::process::Command::new("true").status().unwrap();
        assert_eq!(describe_status(&ok), "code de sortie 0");
    }
}
