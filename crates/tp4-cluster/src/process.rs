//! One process of a run: connect to the others, start the worker threads on the
//! dataflow, wait for them, and (on process 0) turn the gathered pairs into the
//! answer.

use crate::dataflow::{self, Gathered, Input, ShuffleStats};
use crate::jobs::Answer;
use crate::network::{self, Handshake};
use crate::topology::Topology;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tp4::{Error, Result};

/// What one process reports at the end of a run.
#[derive(Debug, Clone)]
pub struct ProcessOutcome {
    /// The answer and statistics (process 0 only).
    pub answer: Option<(Answer, Vec<ShuffleStats>)>,
    /// Bytes timely wrote on this process's sockets (data + progress messages).
    pub wire_bytes: u64,
    /// Seconds from the start of the connections to the end of the dataflow.
    pub seconds: f64,
}

/// Runs this process's part of the run described by `topology` and `input`.
/// `connect_deadline` bounds the wait for the other processes.
pub fn run(
    topology: &Topology,
    input: &Input,
    connect_deadline: Duration,
) -> Result<ProcessOutcome> {
    topology.validate()?;
    let started = Instant::now();
    let hello = Handshake {
        processes: topology.processes() as u32,
        threads: topology.threads as u32,
        job: input.job.code(),
        local_partition: u32::from(input.local_partition),
    };
    let net = network::connect(topology, hello, connect_deadline)?;
    let wire = std::sync::Arc::clone(&net.wire_bytes);
    let (topo, inp) = (topology.clone(), input.clone());
    let guards = timely::execute::execute_from(
        net.builders,
        net.guard,
        timely::WorkerConfig::default(),
        move |worker| dataflow::run(worker, &topo, &inp),
    )
    .map_err(|e| Error::Process(format!("démarrage de timely : {e}")))?;
    let mut gathered: Option<Gathered> = None;
    for (thread, result) in guards.join().into_iter().enumerate() {
        match result {
            Ok(Some(g)) => gathered = Some(g),
            Ok(None) => {}
            Err(e) => {
                return Err(Error::Process(format!(
                    "le thread {thread} du processus {} a échoué : {e}",
                    topology.process
                )))
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let answer = match gathered {
        None => None,
        Some(g) => {
            if let Some(e) = g.stats.iter().find_map(|s| s.error.clone()) {
                return Err(Error::Other(e));
            }
            if g.stats.len() != topology.peers() {
                return Err(Error::Process(format!(
                    "{} travailleurs sur {} ont rendu compte : résultat incomplet",
                    g.stats.len(),
                    topology.peers()
                )));
            }
            Some((Answer::assemble(input.job, &g.pairs), g.stats))
        }
    };
    Ok(ProcessOutcome {
        answer,
        wire_bytes: wire.load(Ordering::Relaxed),
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Job;

    /// Runs `processes` processes as threads of this test, over real loopback TCP.
    fn run_cluster(
        job: Job,
        path: &std::path::Path,
        processes: usize,
        threads: usize,
    ) -> Vec<ProcessOutcome> {
        let addresses = crate::topology::free_loopback_addresses(processes).unwrap();
        let handles: Vec<_> = (0..processes)
            .map(|p| {
                let topology = Topology {
                    process: p,
                    threads,
                    addresses: addresses.clone(),
                };
                let input = Input {
                    job,
                    path: path.to_path_buf(),
                    local_partition: false,
                    fault: None,
                };
                std::thread::spawn(move || run(&topology, &input, Duration::from_secs(20)).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }

    #[test]
    fn same_answer_as_the_reference_for_1_2_3_processes() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus.txt");
        tp4::data::corpus::generate(&corpus, 1, |_| {}).unwrap();
        let csv = dir.path().join("transactions.csv");
        tp4::data::transactions::generate(&csv, 3_000, |_| {}).unwrap();
        for (job, path) in [(Job::WordCount, &corpus), (Job::GroupBy, &csv)] {
            let reference = Answer::reference(job, path).unwrap();
            for (processes, threads) in [(1, 1), (1, 2), (2, 1), (3, 1), (2, 2)] {
                let outcomes = run_cluster(job, path, processes, threads);
                let (answer, stats) = outcomes[0].answer.clone().expect("process 0 answers");
                assert_eq!(answer, reference, "{} {processes}×{threads}", job.name());
                assert!(outcomes[1..].iter().all(|o| o.answer.is_none()));
                assert_eq!(stats.len(), processes * threads);
                let remote: u64 = stats.iter().map(|s| s.remote_bytes).sum();
                let wire: u64 = outcomes.iter().map(|o| o.wire_bytes).sum();
                if processes == 1 {
                    assert_eq!((remote, wire), (0, 0));
                } else {
                    // The payload crossed the network, inside timely's messages.
                    assert!(remote > 0 && wire > remote, "{remote} {wire}");
                }
            }
        }
    }

    #[test]
    fn a_bad_row_fails_the_whole_run_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("transactions.csv");
        tp4::data::transactions::generate(&csv, 500, |_| {}).unwrap();
        let mut text = std::fs::read_to_string(&csv).unwrap();
        text.push_str("501,2024-01-01,Paris,sport,12.3x,1\n");
        std::fs::write(&csv, text).unwrap();
        let topology = Topology {
            process: 0,
            threads: 2,
            addresses: vec!["127.0.0.1:1".into()],
        };
        let input = Input {
            job: Job::GroupBy,
            path: csv,
            local_partition: false,
            fault: None,
        };
        let err = run(&topology, &input, Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ligne 502") && err.contains("12.3x"), "{err}");
    }
}
