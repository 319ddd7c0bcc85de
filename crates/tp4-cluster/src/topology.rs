//! Who takes part in a run: the processes, their addresses, the worker threads of
//! each, and the hostfile that lists them.
//!
//! Timely numbers workers globally: process `p` runs workers `p*T .. (p+1)*T` when
//! each process has `T` threads. Every worker reads its own part of the input and
//! reduces the keys that the hash sends to it.

use std::path::Path;
use tp4::{Error, Result};

/// The shape of a run, as seen by one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Index of this process (0-based); process 0 gathers and prints the results.
    pub process: usize,
    /// Worker threads per process (the same on every process).
    pub threads: usize,
    /// `host:port` of every process, in process order (one entry per process).
    pub addresses: Vec<String>,
}

impl Topology {
    /// Number of processes.
    pub fn processes(&self) -> usize {
        self.addresses.len().max(1)
    }

    /// Total number of workers (processes × threads).
    pub fn peers(&self) -> usize {
        self.processes() * self.threads
    }

    /// The process that runs global worker `worker`.
    pub fn process_of(&self, worker: usize) -> usize {
        worker / self.threads.max(1)
    }

    /// Checks the numbers, with a French message for each mistake.
    pub fn validate(&self) -> Result<()> {
        if self.threads == 0 || self.threads > 64 {
            return Err(Error::InvalidParameter(format!(
                "--threads {} : choisissez entre 1 et 64 threads par processus",
                self.threads
            )));
        }
        if self.addresses.is_empty() || self.addresses.len() > 64 {
            return Err(Error::InvalidParameter(format!(
                "{} processus : choisissez entre 1 et 64 processus",
                self.addresses.len()
            )));
        }
        if self.process >= self.addresses.len() {
            return Err(Error::InvalidParameter(format!(
                "--process {} : il n'y a que {} processus (numérotés de 0 à {})",
                self.process,
                self.addresses.len(),
                self.addresses.len() - 1
            )));
        }
        Ok(())
    }
}

/// Reads a hostfile: one `host:port` per process, in process order; blank lines and
/// lines starting with `#` are ignored.
///
/// The file must be a regular file of at most [`MAX_HOSTFILE_BYTES`] bytes
/// ([`tp4::output::read_small_file`]): `/dev/zero` or `/dev/urandom` given by
/// mistake is refused at once instead of being read into memory without end.
pub fn read_hostfile(path: &Path) -> Result<Vec<String>> {
    let text = tp4::output::read_small_file(path, MAX_HOSTFILE_BYTES, "le fichier d'hôtes")?;
    parse_hostfile(path, &text)
}

/// Largest hostfile read: 1 MB holds tens of thousands of `host:port` lines.
pub const MAX_HOSTFILE_BYTES: u64 = 1 << 20;

/// Parses the text of a hostfile (see [`read_hostfile`]); `path` locates errors.
pub fn parse_hostfile(path: &Path, text: &str) -> Result<Vec<String>> {
    let mut addresses = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| Error::Malformed {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            field: "hôte:port".into(),
            message,
        };
        let (host, port) = line.rsplit_once(':').ok_or_else(|| {
            bad(format!(
                "« {line} » n'a pas de port : écrivez une adresse par ligne, par exemple 192.168.1.10:2101"
            ))
        })?;
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad(format!("nom d'hôte invalide dans « {line} »")));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => {
                return Err(bad(format!(
                    "port invalide « {port} » (attendu : un nombre entre 1 et 65535)"
                )))
            }
        }
        if addresses.iter().any(|a| a == line) {
            return Err(bad(format!(
                "l'adresse « {line} » apparaît deux fois : chaque processus a son propre port"
            )));
        }
        addresses.push(line.to_string());
    }
    if addresses.is_empty() {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            line: 1,
            field: "hôte:port".into(),
            message:
                "le fichier d'hôtes ne contient aucune adresse (une ligne hôte:port par processus)"
                    .into(),
        });
    }
    Ok(addresses)
}

/// Finds `n` free TCP ports on 127.0.0.1 (binds port 0, notes the port the system
/// chose, releases it). The ports stay free in practice until the workers bind them.
pub fn free_loopback_addresses(n: usize) -> Result<Vec<String>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::Network(format!("aucun port libre sur 127.0.0.1 : {e}")))?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.to_string())
                .map_err(|e| Error::Network(format!("aucun port libre sur 127.0.0.1 : {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfile_lines_comments_and_errors() {
        let p = Path::new("hotes.txt");
        let ok = parse_hostfile(
            p,
            "# trois machines\nnoeud1:2101\n\n10.0.0.2:2101\n  h3:9000  \n",
        )
        .unwrap();
        assert_eq!(ok, vec!["noeud1:2101", "10.0.0.2:2101", "h3:9000"]);
        let e = parse_hostfile(p, "a:1\nsansport\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ligne 2") && e.contains("sansport"), "{e}");
        let e = parse_hostfile(p, "a:http\n").unwrap_err().to_string();
        assert!(e.contains("ligne 1") && e.contains("http"), "{e}");
        let e = parse_hostfile(p, "a:1\na:1\n").unwrap_err().to_string();
        assert!(e.contains("deux fois"), "{e}");
        assert!(parse_hostfile(p, "# rien\n").is_err());
    }

    #[test]
    fn workers_belong_to_processes() {
        let t = Topology {
            process: 1,
            threads: 2,
            addresses: vec!["a:1".into(), "b:2".into(), "c:3".into()],
        };
        t.validate().unwrap();
        assert_eq!(t.peers(), 6);
        assert_eq!(
            (0..6).map(|w| t.process_of(w)).collect::<Vec<_>>(),
            [0, 0, 1, 1, 2, 2]
        );
        let bad = Topology { process: 3, ..t };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--process 3"));
        let addrs = free_loopback_addresses(3).unwrap();
        assert_eq!(addrs.len(), 3);
        assert!(addrs.iter().all(|a| a.starts_with("127.0.0.1:")));
    }
}
