//! The `tp4 __worker TASK ARGS...` side: computes one share and writes it on stdout,
//! while a thread writes a heartbeat line on stderr so that the parent notices a
//! frozen or stopped worker within seconds. The kernel kills a worker whose parent
//! died (set up by [`super::supervisor::Children::spawn`]).

use super::supervisor::{HEARTBEAT, HEARTBEAT_EVERY};
use super::tasks::{encode_groupby, encode_wordcount};
use super::WORKER_COMMAND;
use crate::error::{Error, Result};
use crate::workloads::{groupby, pi, primes, wordcount};
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Starts the thread that writes [`HEARTBEAT`] on stderr every [`HEARTBEAT_EVERY`];
/// it stops (and the worker exits) when stderr is closed, i.e. the parent is gone.
fn start_heartbeat() {
    std::thread::spawn(|| loop {
        if writeln!(std::io::stderr(), "{HEARTBEAT}").is_err() {
            std::process::exit(1);
        }
        std::thread::sleep(HEARTBEAT_EVERY);
    });
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
    start_heartbeat();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let w = |e: std::io::Error| Error::Process(format!("écriture vers le processus parent : {e}"));
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

/// The consumer side of [`super::tasks::pipe_sum`]: reads frames until the end frame and sums the
/// values in id order; a stream that ends without its end frame, or whose ids are not
/// consecutive, is an error.
pub fn consume_frames(input: impl Read, crash_after: Option<u64>) -> Result<f64> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    let (mut sum, mut next_id) = (0.0, 0u64);
    let cut = |next_id: u64| {
        move |e: std::io::Error| {
            Error::Process(format!(
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
                return Err(Error::Process(format!(
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
