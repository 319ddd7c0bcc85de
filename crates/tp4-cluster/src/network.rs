//! Connecting the processes of a run and handing the sockets to timely.
//!
//! Timely can open the connections itself, but it retries forever, prints in English
//! on stdout and gives no deadline. We open them here instead, with the same layout
//! (process `i` connects to every process `j < i` and accepts every `j > i`), a
//! deadline and French errors naming the missing process, and a handshake that
//! checks that both sides run the same job with the same shape. The connected
//! sockets then go to `initialize_networking_from_sockets`, timely's own entry point
//! for this. The listener is closed as soon as every peer is connected.
//!
//! The bytes timely writes on each socket (data and progress messages, headers
//! included) are counted through its communication log.

use crate::topology::Topology;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::logging::{CommunicationEvent, CommunicationSetup};
use timely::communication::{AllocatorBuilder, Hooks};
use timely::logging_core::Logger;
use tp4::{Error, Result};

/// Magic bytes that open the handshake.
const MAGIC: &[u8; 4] = b"TP4C";

/// What two processes must agree on before they exchange data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// Number of processes.
    pub processes: u32,
    /// Worker threads per process.
    pub threads: u32,
    /// The job (see `Job::code`).
    pub job: u32,
    /// 1 if each process reads its own local partition.
    pub local_partition: u32,
}

impl Handshake {
    fn encode(&self, from: u32) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..4].copy_from_slice(MAGIC);
        for (i, v) in [
            from,
            self.processes,
            self.threads,
            self.job,
            self.local_partition,
        ]
        .into_iter()
        .enumerate()
        {
            b[4 + 4 * i..8 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8; 24]) -> Option<(u32, Handshake)> {
        if &b[..4] != MAGIC {
            return None;
        }
        let f = |i: usize| u32::from_le_bytes(b[4 + 4 * i..8 + 4 * i].try_into().unwrap());
        Some((
            f(0),
            Handshake {
                processes: f(1),
                threads: f(2),
                job: f(3),
                local_partition: f(4),
            },
        ))
    }
}

/// The communication layer of one process, ready for `timely::execute_from`.
pub struct Network {
    /// One allocator builder per local worker thread.
    pub builders: Vec<AllocatorBuilder>,
    /// Keeps the network threads alive; dropping it joins them.
    pub guard: Box<dyn std::any::Any + Send>,
    /// Bytes written by timely on the sockets of this process (complete once
    /// `guard` has been dropped).
    pub wire_bytes: Arc<AtomicU64>,
}

/// Connects this process to the others (or builds a purely local layer when alone),
/// giving up after `deadline` with an error naming the process that did not answer.
pub fn connect(topology: &Topology, hello: Handshake, deadline: Duration) -> Result<Network> {
    topology.validate()?;
    let wire_bytes = Arc::new(AtomicU64::new(0));
    let hooks = counting_hooks(Arc::clone(&wire_bytes));
    let locals = ProcessBuilder::new_typed_vector(topology.threads, hooks.refill.clone(), None);
    if topology.processes() == 1 {
        return Ok(Network {
            builders: locals.into_iter().map(AllocatorBuilder::Process).collect(),
            guard: Box::new(()),
            wire_bytes,
        });
    }
    let sockets = open_sockets(topology, hello, deadline)?;
    let (builders, guard) = initialize_networking_from_sockets(
        locals,
        sockets,
        topology.process,
        topology.threads,
        hooks,
    )
    .map_err(|e| Error::Network(format!("démarrage des fils réseau de timely : {e}")))?;
    Ok(Network {
        builders: builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        guard: Box::new(guard),
        wire_bytes,
    })
}

/// Timely hooks whose communication log adds the size of every message sent.
fn counting_hooks(counter: Arc<AtomicU64>) -> Hooks {
    let log_fn = Arc::new(move |setup: CommunicationSetup| {
        if !setup.sender {
            return None;
        }
        let counter = Arc::clone(&counter);
        Some(Logger::new(
            Instant::now(),
            Duration::ZERO,
            move |_time, events: &mut Option<Vec<(Duration, CommunicationEvent)>>| {
                for (_, event) in events.iter().flatten() {
                    if let CommunicationEvent::Message(m) = event {
                        if m.is_send {
                            counter.fetch_add(m.header.required_bytes() as u64, Ordering::Relaxed);
                        }
                    }
                }
            },
        ))
    });
    Hooks {
        log_fn,
        ..Hooks::default()
    }
}

/// Opens one socket per other process (`None` at our own index).
fn open_sockets(
    topology: &Topology,
    hello: Handshake,
    deadline: Duration,
) -> Result<Vec<Option<TcpStream>>> {
    let me = topology.process;
    let n = topology.processes();
    let started = Instant::now();
    // Bind first, so that the processes after us can connect while we connect to
    // the ones before us.
    let listener = if me + 1 < n {
        let addr = &topology.addresses[me];
        let l = TcpListener::bind(addr.as_str()).map_err(|e| {
            Error::Network(format!(
                "le processus {me} ne peut pas écouter sur {addr} : {e}\n  → port déjà pris, \
                 ou adresse qui n'est pas celle de cette machine : corrigez la ligne {} du \
                 fichier d'hôtes",
                me + 1
            ))
        })?;
        l.set_nonblocking(true)
            .map_err(|e| Error::Network(format!("écoute sur {addr} : {e}")))?;
        Some(l)
    } else {
        None
    };
    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    for (j, socket) in sockets.iter_mut().enumerate().take(me) {
        *socket = Some(connect_to(topology, j, hello, started, deadline)?);
    }
    if let Some(listener) = listener {
        accept_all(topology, &listener, hello, &mut sockets, started, deadline)?;
    }
    Ok(sockets)
}

/// Connects to process `j`, retrying until the deadline, and shakes hands.
fn connect_to(
    topology: &Topology,
    j: usize,
    hello: Handshake,
    started: Instant,
    deadline: Duration,
) -> Result<TcpStream> {
    let addr = &topology.addresses[j];
    let me = topology.process;
    let mut last_error = String::from("pas de réponse");
    while started.elapsed() < deadline {
        match resolve(addr).and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1))) {
            Ok(mut s) => {
                let _ = s.set_nodelay(true);
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut ack = [0u8; 1];
                let shook = s
                    .write_all(&hello.encode(me as u32))
                    .and_then(|_| s.read_exact(&mut ack));
                match shook {
                    Ok(()) if ack[0] == 1 => {
                        s.set_read_timeout(None).ok();
                        return Ok(s);
                    }
                    Ok(()) => {
                        return Err(Error::Network(format!(
                            "le processus {j} ({addr}) refuse le processus {me} : ils n'ont pas \
                             le même calcul, le même nombre de processus ou de threads\n  → \
                             lancez-les tous avec les mêmes options et le même fichier d'hôtes"
                        )))
                    }
                    Err(e) => last_error = e.to_string(),
                }
            }
            Err(e) => last_error = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(Error::Network(format!(
        "le processus {me} n'a pas pu joindre le processus {j} ({addr}) en {} s : {last_error}\n  \
         → le processus {j} est-il lancé (avec --process {j}) ? l'adresse est-elle joignable \
         (pare-feu) ? Relancez tous les processus.",
        tp4::fr::seconds_plain(deadline)
    )))
}

fn resolve(addr: &str) -> std::io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("adresse inconnue « {addr} »")))
}

/// Accepts the processes after us until all have connected or the deadline passes.
fn accept_all(
    topology: &Topology,
    listener: &TcpListener,
    hello: Handshake,
    sockets: &mut [Option<TcpStream>],
    started: Instant,
    deadline: Duration,
) -> Result<()> {
    let me = topology.process;
    let n = sockets.len();
    while sockets[me + 1..].iter().any(Option::is_none) {
        if started.elapsed() >= deadline {
            let missing: Vec<String> = (me + 1..n)
                .filter(|&j| sockets[j].is_none())
                .map(|j| format!("{j} ({})", topology.addresses[j]))
                .collect();
            return Err(Error::Network(format!(
                "le processus {me} attend toujours le(s) processus {} après {} s\n  → sont-ils \
                 lancés avec le même fichier d'hôtes ? Relancez tous les processus.",
                missing.join(", "),
                tp4::fr::seconds_plain(deadline)
            )));
        }
        match listener.accept() {
            Ok((mut s, _peer)) => {
                s.set_nonblocking(false).ok();
                let _ = s.set_nodelay(true);
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut buf = [0u8; 24];
                if s.read_exact(&mut buf).is_err() {
                    continue; // not one of ours (a port scan, a dead peer): ignore it
                }
                let Some((from, theirs)) = Handshake::decode(&buf) else {
                    continue;
                };
                let from = from as usize;
                if theirs != hello || from <= me || from >= n {
                    let _ = s.write_all(&[0]);
                    return Err(Error::Network(format!(
                        "le processus {from} ne fait pas le même calcul que le processus {me} \
                         ({theirs:?} au lieu de {hello:?})\n  → lancez tous les processus avec \
                         les mêmes options et le même fichier d'hôtes"
                    )));
                }
                s.write_all(&[1])
                    .map_err(|e| Error::Network(format!("poignée de main avec {from} : {e}")))?;
                s.set_read_timeout(None).ok();
                sockets[from] = Some(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                return Err(Error::Network(format!(
                    "accept sur le processus {me} : {e}"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_round_trip() {
        let h = Handshake {
            processes: 3,
            threads: 2,
            job: 7,
            local_partition: 0,
        };
        assert_eq!(Handshake::decode(&h.encode(2)), Some((2, h)));
        let mut bad = h.encode(1);
        bad[0] = b'X';
        assert_eq!(Handshake::decode(&bad), None);
    }

    #[test]
    fn processes_of_different_shapes_refuse_each_other() {
        let addresses = crate::topology::free_loopback_addresses(2).unwrap();
        let hello = |threads| Handshake {
            processes: 2,
            threads,
            job: 7,
            local_partition: 0,
        };
        let spawn = |process: usize, threads: usize| {
            let t = Topology {
                process,
                threads,
                addresses: addresses.clone(),
            };
            std::thread::spawn(move || {
                connect(&t, hello(threads as u32), Duration::from_secs(5))
                    .err()
                    .map(|e| e.to_string())
            })
        };
        let (p0, p1) = (spawn(0, 1), spawn(1, 2));
        let e0 = p0.join().unwrap().expect("process 0 must refuse");
        let e1 = p1.join().unwrap().expect("process 1 must be refused");
        assert!(e0.contains("ne fait pas le même calcul"), "{e0}");
        assert!(e1.contains("refuse le processus 1"), "{e1}");
    }

    #[test]
    fn a_missing_process_is_named_before_the_deadline() {
        let addresses = crate::topology::free_loopback_addresses(2).unwrap();
        let t = Topology {
            process: 1,
            threads: 1,
            addresses,
        };
        let h = Handshake {
            processes: 2,
            threads: 1,
            job: 7,
            local_partition: 0,
        };
        let start = Instant::now();
        let err = match connect(&t, h, Duration::from_millis(600)) {
            Ok(_) => panic!("process 0 does not exist, the connection must fail"),
            Err(e) => e.to_string(),
        };
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(
            err.contains("processus 0") && err.contains("joindre"),
            "{err}"
        );
    }
}
