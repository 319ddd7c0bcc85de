//! `tp4 cluster` on three hosts with their own addresses: three network namespaces
//! made by the test, each with a veth pair to a bridge (no address outside the
//! namespaces, addresses 10.213.0.1–3 that exist only inside them), a hostfile naming
//! them and one `tp4 cluster wordcount --process I` per namespace. A full run must
//! match the reference; then one host's link is cut mid-run and every process must
//! end with a clear French message, none left. Skipped (and passing) where
//! namespaces cannot be made (not root, no `ip`).

mod common;

use common::{assert_no_process_left, small_data};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `ip args…`; true on success.
fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The namespaces, veths and bridge of one test; deleted when dropped.
struct Net {
    names: Vec<String>,
    veths: Vec<String>,
    bridge: String,
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &self.names {
            ip(&["netns", "del", n]); // also deletes its end of the veth pair
        }
        for v in &self.veths {
            ip(&["link", "del", v]);
        }
        ip(&["link", "del", &self.bridge]);
    }
}

/// Makes three namespaces on a bridge, or says why not.
fn make_net() -> Result<Net, String> {
    let tag = std::process::id() % 100_000;
    let mut net = Net {
        names: Vec::new(),
        veths: Vec::new(),
        bridge: format!("t4b{tag}"),
    };
    let ok = ip(&["link", "add", &net.bridge, "type", "bridge"])
        && ip(&["link", "set", &net.bridge, "up"]);
    if !ok {
        return Err(format!("impossible de créer le pont {}", net.bridge));
    }
    for k in 0..3 {
        let ns = format!("tp4n{tag}x{k}");
        let veth = format!("t4v{tag}x{k}");
        if !ip(&["netns", "add", &ns]) {
            return Err(format!("`ip netns add {ns}` refusé"));
        }
        net.names.push(ns.clone());
        let addr = format!("10.213.0.{}/24", k + 1);
        let steps: [&[&str]; 7] = [
            &[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ],
            &["link", "set", &veth, "master", &net.bridge],
            &["link", "set", &veth, "up"],
            &[
                "netns", "exec", &ns, "ip", "addr", "add", &addr, "dev", "eth0",
            ],
            &["netns", "exec", &ns, "ip", "link", "set", "eth0", "up"],
            &["netns", "exec", &ns, "ip", "link", "set", "lo", "up"],
            &["netns", "exec", &ns, "true"],
        ];
        net.veths.push(veth.clone());
        for s in steps {
            if !ip(s) {
                return Err(format!("`ip {}` refusé", s.join(" ")));
            }
        }
    }
    Ok(net)
}

/// Starts `tp4 cluster wordcount --process k` inside namespace `k`, with the
/// launcher tests' fault variable set to `fault` (empty: none).
fn start(net: &Net, k: usize, data: &Path, out: &Path, hosts: &Path, fault: &str) -> Child {
    Command::new("ip")
        .env(tp4_cluster::protocol::FAULT_VARIABLE, fault)
        .args(["netns", "exec", &net.names[k], common::TP4])
        .arg("--data")
        .arg(data)
        .arg("--output")
        .arg(out.join(format!("hote{k}")))
        .args([
            "cluster",
            "wordcount",
            "--threads",
            "1",
            "--delai-silence",
            "3",
        ])
        .args(["--delai", "20", "--hostfile"])
        .arg(hosts)
        .args(["--process", &k.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn cluster_on_three_namespaced_hosts_and_a_cut_link() {
    if Command::new("ip").arg("-V").output().is_err() {
        eprintln!("test ignoré : la commande `ip` (iproute2) est absente");
        return;
    }
    let net = match make_net() {
        Ok(n) => n,
        Err(why) => {
            eprintln!("test ignoré : espaces de noms réseau impossibles ici ({why})");
            return;
        }
    };
    let data = small_data();
    let out = common::temp_dir();
    let hosts = out.path().join("hotes.txt");
    std::fs::write(
        &hosts,
        "10.213.0.1:7213\n10.213.0.2:7213\n10.213.0.3:7213\n",
    )
    .unwrap();

    // A full run across the three hosts.
    let procs: Vec<Child> = (0..3)
        .map(|k| start(&net, k, data.path(), out.path(), &hosts, ""))
        .collect();
    let outs: Vec<_> = procs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let text0 = String::from_utf8_lossy(&outs[0].stdout).into_owned();
    for o in &outs {
        assert!(
            o.status.success(),
            "{text0}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(text0.contains("3 processus"), "{text0}");
    assert!(
        text0.contains("identique au calcul exact sur une seule machine"),
        "{text0}"
    );

    // Host 2's link cut while the run is under way: host 2 waits 8 s before
    // reading its share (the fault variable of the launcher tests), so the run is
    // still going 1.5 s after the start however fast the machine is.
    let procs: Vec<Child> = (0..3)
        .map(|k| start(&net, k, data.path(), out.path(), &hosts, "2:lent:8000"))
        .collect();
    let pids: Vec<u32> = procs.iter().map(Child::id).collect();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(ip(&["link", "set", &net.veths[2], "down"]));
    let started = Instant::now();
    let outs: Vec<_> = procs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let err0 = String::from_utf8_lossy(&outs[0].stderr).into_owned();
    assert!(started.elapsed() < Duration::from_secs(35), "{err0}");
    // Process 0 says why: its connection to host 2 was lost, or host 2 stayed
    // silent past the delays (which one comes first depends on TCP's timers).
    assert!(
        err0.contains("délai") || err0.contains("gel") || err0.contains("connexion perdue"),
        "{err0}"
    );
    assert!(!outs[0].status.success(), "process 0 must fail: {err0}");
    assert!(err0.contains("erreur"), "{err0}");
    assert!(!err0.contains("panicked"), "{err0}");
    assert_no_process_left(&pids);
}
