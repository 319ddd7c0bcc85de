//! # tp4-cluster — le calcul distribué du TP
//!
//! W7 wordcount and W4 groupby as map/shuffle/reduce on timely dataflow, across
//! several OS processes and hosts. Kept out of the `tp4` library so that the crate
//! the notebook loads stays light; the `tp4` binary exposes it as `tp4 cluster`.
//!
//! The modules, from the leaves up (a module imports only modules above it in this
//! list; the test `module_graph_has_no_cycle` reads the sources to keep it true):
//!
//! | module | what it holds |
//! |---|---|
//! | [`hash`] | the fixed FNV-1a hash that routes each key to its reducer |
//! | [`topology`] | processes, threads, addresses, the hostfile, free loopback ports |
//! | [`phases`] | where the time goes: launch, connect, map, shuffle, reduce, gather |
//! | [`progress`] | how many of this process's workers finished their map step |
//! | [`fastmap`] | the map step with the lab's fastest kernels (W7, W4), exact |
//! | [`protocol`] | what launcher and workers say: `@tp4` lines, heartbeat, run summary |
//! | [`jobs`] | map + combine (through [`fastmap`]) and final assembly of W7 and W4 |
//! | [`network`] | connecting processes with a deadline and a handshake, bytes on the wire |
//! | [`dataflow`] | the timely operators: read/map/combine, shuffle, reduce, gather |
//! | [`process`] | one process of a run: connect, run the workers, assemble the answer |
//! | [`worker`] | the `tp4 cluster` process mode: heartbeat, panic hook, printing, files |
//! | [`launcher`] | starts N processes, watches them, kills and reaps them all on failure |
//! | [`benchmark`] | 1, 2, 3 processes × 1, 2 threads: times, bytes, speedups, plot |

pub mod benchmark;
pub mod dataflow;
pub mod fastmap;
pub mod hash;
pub mod jobs;
pub mod launcher;
pub mod network;
pub mod phases;
pub mod process;
pub mod progress;
pub mod protocol;
pub mod topology;
pub mod worker;

pub use jobs::{Answer, Job};
pub use protocol::RunSummary;
pub use topology::Topology;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The `crate::X` modules each module of this crate imports, read from its source.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let used: BTreeSet<String> = text
                .split("crate::")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|m| !m.is_empty() && *m != name)
                .collect();
            graph.insert(name, used);
        }
        graph
    }

    #[test]
    fn module_graph_has_no_cycle() {
        let graph = imports();
        assert!(graph.contains_key("protocol") && graph.contains_key("launcher"));
        // Depth-first search; a module met again while on the stack closes a cycle.
        fn visit(
            m: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            stack: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if done.contains(m) {
                return;
            }
            if let Some(at) = stack.iter().position(|s| s == m) {
                panic!("import cycle: {} → {m}", stack[at..].join(" → "));
            }
            stack.push(m.to_string());
            for next in graph.get(m).into_iter().flatten() {
                visit(next, graph, stack, done);
            }
            stack.pop();
            done.insert(m.to_string());
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
        // The launcher and the workers meet only in the protocol.
        assert!(!graph["launcher"].contains("worker"), "{graph:?}");
        assert!(!graph["worker"].contains("launcher"), "{graph:?}");
    }
}
