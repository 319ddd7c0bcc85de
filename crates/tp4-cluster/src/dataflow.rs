//! The map/shuffle/reduce dataflow, one timely operator per step.
//!
//! ```text
//!  every worker                                  worker 0
//!  ┌────────────────────┐   ┌──────────┐   ┌──────────┐   ┌──────────────┐
//!  │ read + map +       │──▶│ shuffle  │──▶│ reduce   │──▶│ gather       │
//!  │ combine (its range)│   │ hash(key)│   │ when the │   │ (exchange    │
//!  └────────────────────┘   │ → worker │   │ input is │   │  to worker 0)│
//!            │              └──────────┘   │ complete │   └──────────────┘
//!            │                                  └──▶ stats (counters and times of
//!            └── counters ─────────────────────────▶ the worker) ──▶ gather stats
//! ```
//!
//! Timely runs the same dataflow on every worker of every process. A worker only
//! knows that its input is complete when the *frontier* of its input is empty: no
//! worker anywhere can still send it data. That is the moment the reducer emits its
//! totals, exactly once. Nothing is retried: if a process disappears the run fails
//! (see the launcher) and is started again.

use crate::hash::{destination, FnvMap};
use crate::jobs::{combine, too_large, Job, Key, Value};
use crate::phases::{self, WorkerPhases, LAUNCH_VARIABLE};
use crate::progress;
use crate::topology::Topology;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::Operator;
use timely::dataflow::{Scope, Stream};
use timely::worker::Worker;

/// A pair on its way to its reducer: destination worker, key, value.
pub type Routed = (u32, Key, Value);

/// What each worker reports about its part of the shuffle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShuffleStats {
    /// The global index of the worker.
    pub worker: u32,
    /// Pairs it sent into the shuffle (after its combiner).
    pub pairs: u64,
    /// Of those, pairs sent to a worker of another process (they cross the network).
    pub remote_pairs: u64,
    /// Serialised size of the remote pairs, in bytes (our own count of the payload
    /// of the exchange: key length + key + two 8-byte numbers + destination).
    pub remote_bytes: u64,
    /// The error met while reading its range, if any (French message).
    pub error: Option<String>,
    /// Where its time went.
    pub phases: WorkerPhases,
}

/// What worker 0 holds at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// One reduced pair per key.
    pub pairs: Vec<(Key, Value)>,
    /// One record per worker.
    pub stats: Vec<ShuffleStats>,
}

/// Where a worker's input comes from.
#[derive(Debug, Clone)]
pub struct Input {
    /// The job.
    pub job: Job,
    /// The input file on this host.
    pub path: PathBuf,
    /// `false`: every process sees the same file, which is split among all the
    /// workers of the run. `true`: the file is this host's own partition, split
    /// among the threads of this process only.
    pub local_partition: bool,
    /// Test hook: a failure to simulate in this process (see [`Fault`]).
    pub fault: Option<Fault>,
}

/// A failure simulated on purpose, to test that the launcher ends the run cleanly
/// (set through the `TP4_CLUSTER_FAUTE` variable, see `protocol::FAULT_VARIABLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The workers of the process wait this long before reading their range.
    Slow(Duration),
    /// A worker of the process panics in the middle of the dataflow.
    Panic,
    /// Every worker of the process flips the lowest bit of the first value it maps:
    /// the run ends normally with a wrong answer, which the verification of process 0 must
    /// catch.
    Wrong,
}

/// Size of a pair as bincode writes it (what timely serialises between processes).
fn encoded_size(key: &Key) -> u64 {
    4 + 8 + key.len() as u64 + 16
}

/// Where a worker stands in the run.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// Its global index.
    index: usize,
    /// All the workers of the run.
    peers: usize,
    /// Worker threads per process.
    threads: usize,
    /// The process it belongs to.
    process: usize,
}

/// What the operators of one worker write down as the run goes (they all run on
/// the worker's thread): its counters and times, and the instants that separate the
/// phases (seconds since the process started its run).
#[derive(Debug, Default)]
struct Notes {
    stats: ShuffleStats,
    map_end: f64,
    reduce_busy: f64,
    reduce_end: f64,
}

/// The notes of a worker, shared by its operators.
type Shared = Rc<RefCell<Notes>>;

/// Builds and runs the dataflow on one worker; returns the gathered results on
/// worker 0 and `None` elsewhere.
pub fn run(worker: &mut Worker, topology: &Topology, input: &Input) -> Option<Gathered> {
    let started = phases::since_start();
    let index = worker.index();
    let place = Place {
        index,
        peers: worker.peers(),
        threads: topology.threads,
        process: topology.process_of(index),
    };
    let notes: Shared = Rc::new(RefCell::new(Notes {
        stats: ShuffleStats {
            worker: index as u32,
            phases: WorkerPhases {
                worker: index as u32,
                process: place.process as u32,
                launch: phases::launch_seconds(std::env::var(LAUNCH_VARIABLE).ok().as_deref()),
                connect: started,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }));
    let gathered = Rc::new(RefCell::new(Gathered::default()));
    worker.dataflow::<u64, _, _>(|scope| {
        let mapped = read_map_combine(scope, input.clone(), place, Rc::clone(&notes));
        let reduced = shuffle_and_reduce(mapped, input.path.clone(), Rc::clone(&notes));
        let stats = report_stats(reduced.clone(), Rc::clone(&notes));
        gather(reduced, stats, &gathered);
    });
    // Run until every operator of every worker has finished.
    while worker.has_dataflows() {
        worker.step_or_park(None);
    }
    if index == 0 {
        let mut g = gathered.take();
        g.stats.sort_by_key(|s| s.worker);
        let now = phases::since_start();
        if let Some(mine) = g.stats.iter_mut().find(|s| s.worker == 0) {
            mine.phases.gather = Some((now - notes.borrow().reduce_end).max(0.0));
            mine.phases.total = now;
        }
        Some(g)
    } else {
        None
    }
}

/// Step 1, READ + MAP + COMBINE. A source operator: at its first activation the
/// worker reads its own byte range of the input (cut on line boundaries by
/// `line_ranges`) with the fast kernels of [`crate::fastmap`], counts it locally
/// (the combiner: one pair per distinct key), tags every pair with the worker that
/// will reduce it (fixed FNV-1a hash of the key bytes), counts those that leave the
/// process, emits them all, and drops its capability: "I will send nothing more".
fn read_map_combine<'s>(
    scope: Scope<'s, u64>,
    input: Input,
    place: Place,
    notes: Shared,
) -> Stream<'s, u64, Vec<Routed>> {
    source::<_, CapacityContainerBuilder<Vec<Routed>>, _, _>(
        scope,
        "lecture+map+combinaison",
        move |capability, _info| {
            let mut capability = Some(capability);
            move |output| {
                let Some(cap) = capability.take() else { return };
                let started_map = phases::since_start();
                match input.fault {
                    Some(Fault::Slow(d)) => std::thread::sleep(d),
                    Some(Fault::Panic) => {
                        panic!("panne simulée pendant la lecture (TP4_CLUSTER_FAUTE)")
                    }
                    Some(Fault::Wrong) | None => {}
                }
                let begin = phases::since_start();
                let mut n = notes.borrow_mut();
                match read_my_range(&input, place.index, place.peers, place.threads) {
                    Ok(mut pairs) => {
                        if let (Some(Fault::Wrong), Some(first)) = (input.fault, pairs.first_mut())
                        {
                            first.1[0] ^= 1;
                        }
                        let mut session = output.session(&cap);
                        for (key, value) in pairs {
                            let to = destination(&key, place.peers);
                            n.stats.pairs += 1;
                            if to / place.threads != place.process {
                                n.stats.remote_pairs += 1;
                                n.stats.remote_bytes += encoded_size(&key);
                            }
                            session.give((to as u32, key, value));
                        }
                    }
                    Err(e) => n.stats.error = Some(e.to_string()),
                }
                n.map_end = phases::since_start();
                n.stats.phases.map = n.map_end - begin;
                // The simulated slow read counts as map time: the process is late.
                progress::map_done(n.map_end - started_map);
            }
        },
    )
}

/// Steps 2 and 3, SHUFFLE + REDUCE. The Exchange pact moves every pair to the
/// worker named in its first field (through channels inside a process, through TCP
/// between processes). The reducer adds the values of each key as they arrive, and
/// emits its totals only when its input frontier is empty, i.e. when every worker of
/// every process has finished mapping. It notes the time it spent adding and when
/// its input was complete. Its sums are checked: a total that does not fit in 64
/// bits (partials that fit, whose sum does not) becomes the worker's error, the
/// French "trop grand" message of `path`, which fails the run.
fn shuffle_and_reduce<'s>(
    mapped: Stream<'s, u64, Vec<Routed>>,
    path: PathBuf,
    notes: Shared,
) -> Stream<'s, u64, Vec<(Key, Value)>> {
    mapped.unary_frontier::<CapacityContainerBuilder<Vec<(Key, Value)>>, _, _, _>(
        Exchange::new(|pair: &Routed| u64::from(pair.0)),
        "réduction par clé",
        |capability, _info| {
            let mut capability = Some(capability);
            let mut totals: FnvMap<Key, Value> = FnvMap::default();
            let mut overflow: Option<String> = None;
            move |(input, frontier), output| {
                let begin = phases::since_start();
                input.for_each(|_time, data| {
                    for (_, key, value) in data.drain(..) {
                        match totals.get_mut(&key) {
                            Some(total) => {
                                if !combine(total, value) && overflow.is_none() {
                                    overflow = Some(too_large(&path, &key));
                                }
                            }
                            None => {
                                totals.insert(key, value);
                            }
                        }
                    }
                });
                let mut n = notes.borrow_mut();
                if n.stats.error.is_none() {
                    n.stats.error = overflow.take();
                }
                let complete = phases::since_start();
                n.reduce_busy += complete - begin;
                if frontier.is_empty() {
                    if let Some(cap) = capability.take() {
                        let mut session = output.session(&cap);
                        for pair in totals.drain() {
                            session.give(pair);
                        }
                        drop(session);
                        let end = phases::since_start();
                        let waited = complete - n.map_end - n.reduce_busy;
                        n.reduce_busy += end - complete;
                        n.reduce_end = end;
                        n.stats.phases.shuffle = waited.max(0.0);
                        n.stats.phases.reduce = n.reduce_busy;
                    }
                }
            }
        },
    )
}

/// Step 3b, STATISTICS. Once the reducer of this worker has handed its totals on
/// (its output frontier is empty, so its notes are final), emits the worker's
/// counters and times, with the reading error if any.
fn report_stats<'s>(
    reduced: Stream<'s, u64, Vec<(Key, Value)>>,
    notes: Shared,
) -> Stream<'s, u64, Vec<ShuffleStats>> {
    reduced.unary_frontier::<CapacityContainerBuilder<Vec<ShuffleStats>>, _, _, _>(
        Pipeline,
        "bilan du travailleur",
        move |capability, _info| {
            let mut capability = Some(capability);
            move |(input, frontier), output| {
                input.for_each(|_time, _data| {});
                if frontier.is_empty() {
                    if let Some(cap) = capability.take() {
                        let mut n = notes.borrow_mut();
                        n.stats.phases.total = phases::since_start();
                        output.session(&cap).give(n.stats.clone());
                    }
                }
            }
        },
    )
}

/// Step 4, GATHER. Every reduced pair and every statistics record goes to worker 0,
/// which keeps them in `gathered`; the other workers' sinks receive nothing.
fn gather(
    reduced: Stream<'_, u64, Vec<(Key, Value)>>,
    stats: Stream<'_, u64, Vec<ShuffleStats>>,
    gathered: &Rc<RefCell<Gathered>>,
) {
    let (pairs_sink, stats_sink) = (Rc::clone(gathered), Rc::clone(gathered));
    reduced.sink(
        Exchange::new(|_: &(Key, Value)| 0),
        "rassemblement vers le travailleur 0",
        move |(input, _frontier)| {
            input.for_each(|_time, data| pairs_sink.borrow_mut().pairs.append(data));
        },
    );
    stats.sink(
        Exchange::new(|_: &ShuffleStats| 0),
        "rassemblement des compteurs",
        move |(input, _frontier)| {
            input.for_each(|_time, data| stats_sink.borrow_mut().stats.append(data));
        },
    );
}

/// The byte range of the input that worker `index` (of `peers`) reads, then its
/// mapped and combined pairs.
fn read_my_range(
    input: &Input,
    index: usize,
    peers: usize,
    threads: usize,
) -> tp4::Result<Vec<(Key, Value)>> {
    let (parts, part) = if input.local_partition {
        (threads, index % threads)
    } else {
        (peers, index)
    };
    input.job.check_input(&input.path)?;
    let ranges = tp4::data::chunks::line_ranges(&input.path, parts, input.job.has_header())?;
    input.job.map_range(&input.path, ranges[part].clone())
}
