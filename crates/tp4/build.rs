//! Records, at build time, the compiler version and the versions of the main crates
//! (from the workspace's Cargo.lock), so that `tp4 env` can report them.

use std::path::Path;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "rustc (version inconnue)".into());
    println!("cargo:rustc-env=TP4_RUSTC_VERSION={version}");

    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let content = std::fs::read_to_string(&lock).unwrap_or_default();
    let wanted = [
        "rayon",
        "crossbeam",
        "tokio",
        "csv",
        "serde",
        "plotters",
        "sysinfo",
        "indicatif",
        "clap",
    ];
    let mut found = Vec::new();
    let mut name = None;
    for line in content.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if wanted.contains(&n.as_str())
                && !found.iter().any(|(k, _): &(String, String)| *k == n)
            {
                found.push((n, v.trim_matches('"').to_string()));
            }
        }
    }
    found.sort_by_key(|(k, _)| wanted.iter().position(|w| w == k));
    let list: Vec<String> = found.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("cargo:rustc-env=TP4_CRATE_VERSIONS={}", list.join(";"));
}
