//! The environment check (`tp4 env`): how many CPUs this process may really use,
//! how much memory it may take, and whether the data and output folders work.
//!
//! Python's `multiprocessing.cpu_count()` returns the number of logical CPUs of the
//! host, even inside a Docker container limited to 2 CPUs with `--cpus 2`: a pool
//! sized on it oversubscribes the container. The lab computes the CPUs it may use
//! as the minimum of the affinity mask (`taskset`, `--cpuset-cpus`) and of the
//! cgroup CPU quota (`--cpus`, `deploy.resources.limits.cpus`, cgroup v2 `cpu.max`
//! or v1 `cpu.cfs_quota_us / cpu.cfs_period_us`), rounded up, and sizes every pool
//! on that figure ([`usable_cpus`]).

use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// A CPU quota read from a cgroup: `quota / period` CPUs, or no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuQuota {
    /// No limit is set.
    Unlimited,
    /// At most this many CPUs' worth of time (may be fractional, e.g. 1.5).
    Cpus(f64),
}

/// Parses cgroup v2 `cpu.max` ("200000 100000" → 2 CPUs, "max 100000" → no limit).
pub fn parse_cpu_max(content: &str) -> Option<CpuQuota> {
    let mut it = content.split_whitespace();
    let quota = it.next()?;
    let period: f64 = it.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    if quota == "max" {
        return Some(CpuQuota::Unlimited);
    }
    let quota: f64 = quota.parse().ok()?;
    (period > 0.0 && quota > 0.0).then(|| CpuQuota::Cpus(quota / period))
}

/// Parses cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1 = no limit).
pub fn parse_cfs(quota_us: &str, period_us: &str) -> Option<CpuQuota> {
    let quota: i64 = quota_us.trim().parse().ok()?;
    let period: i64 = period_us.trim().parse().ok()?;
    if quota < 0 {
        return Some(CpuQuota::Unlimited);
    }
    (period > 0 && quota > 0).then(|| CpuQuota::Cpus(quota as f64 / period as f64))
}

/// Parses a cgroup memory limit: v2 `memory.max` ("max" = no limit) or v1
/// `memory.limit_in_bytes` (a huge value near `i64::MAX` = no limit).
pub fn parse_memory_limit(content: &str) -> Option<Option<u64>> {
    let s = content.trim();
    if s == "max" {
        return Some(None);
    }
    let v: u64 = s.parse().ok()?;
    // v1 writes "no limit" as the largest page-aligned i64.
    Some((v < (1u64 << 62)).then_some(v))
}

/// Parses a CPU list such as "0-3,6,8-9" (the format of `Cpus_allowed_list`) into a
/// count of CPUs.
pub fn parse_cpu_list(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                n += b.checked_sub(a)? + 1;
            }
            None => {
                part.trim().parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    (n > 0).then_some(n)
}

/// CPUs in this process's affinity mask (`Cpus_allowed_list` of `/proc/self/status`).
pub fn affinity_cpus() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with("Cpus_allowed_list:"))?;
    parse_cpu_list(line.split_once(':')?.1)
}

/// The directories of this process's cgroup, innermost first, for v2 (unified) and
/// v1 (one per controller).
fn cgroup_dirs(controller_v1: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let Ok(content) = std::fs::read_to_string("/proc/self/cgroup") else {
        return dirs;
    };
    for line in content.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let base = if controllers.is_empty() {
            PathBuf::from("/sys/fs/cgroup")
        } else if controllers.split(',').any(|c| c == controller_v1) {
            let named = PathBuf::from("/sys/fs/cgroup").join(controllers);
            if named.is_dir() {
                named
            } else {
                PathBuf::from("/sys/fs/cgroup").join(controller_v1)
            }
        } else {
            continue;
        };
        // Walk from the process's own cgroup up to the root: a limit on any ancestor
        // applies. Inside a container the path is often "/" already.
        let mut p = Some(Path::new(path.trim_start_matches('/')));
        while let Some(rel) = p {
            dirs.push(base.join(rel));
            p = rel.parent();
        }
    }
    dirs
}

/// The tightest CPU quota of this process's cgroups (v2 and v1), if any is readable.
pub fn cgroup_cpu_quota() -> Option<CpuQuota> {
    let mut best: Option<CpuQuota> = None;
    let mut consider = |q: CpuQuota| {
        best = Some(match (best, q) {
            (Some(CpuQuota::Cpus(a)), CpuQuota::Cpus(b)) => CpuQuota::Cpus(a.min(b)),
            (Some(CpuQuota::Cpus(a)), CpuQuota::Unlimited) => CpuQuota::Cpus(a),
            (_, q) => q,
        })
    };
    for dir in cgroup_dirs("cpu") {
        if let Some(q) = std::fs::read_to_string(dir.join("cpu.max"))
            .ok()
            .and_then(|c| parse_cpu_max(&c))
        {
            consider(q);
        }
        if let (Ok(q), Ok(p)) = (
            std::fs::read_to_string(dir.join("cpu.cfs_quota_us")),
            std::fs::read_to_string(dir.join("cpu.cfs_period_us")),
        ) {
            if let Some(q) = parse_cfs(&q, &p) {
                consider(q);
            }
        }
    }
    best
}

/// The tightest memory limit of this process's cgroups: `Some(None)` when cgroups
/// are readable and set no limit, `None` when none could be read.
pub fn cgroup_memory_limit() -> Option<Option<u64>> {
    let mut found = None;
    for dir in cgroup_dirs("memory") {
        for file in ["memory.max", "memory.limit_in_bytes"] {
            if let Some(limit) = std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|c| parse_memory_limit(&c))
            {
                found = Some(match (found.flatten(), limit) {
                    (Some(a), Some(b)) => Some(u64::min(a, b)),
                    (a, b) => a.or(b),
                });
            }
        }
    }
    found
}

/// Usable CPUs from the affinity count and the quota: the minimum of both, the
/// quota rounded up (1.5 CPUs of quota still lets 2 threads make progress).
pub fn combine_usable(affinity: usize, quota: Option<CpuQuota>) -> usize {
    let by_quota = match quota {
        Some(CpuQuota::Cpus(c)) => (c.ceil() as usize).max(1),
        _ => usize::MAX,
    };
    affinity.min(by_quota).max(1)
}

/// The number of CPUs this process may use: what every pool of the lab defaults to.
pub fn usable_cpus() -> usize {
    let affinity = affinity_cpus().unwrap_or_else(logical_cpus);
    combine_usable(affinity, cgroup_cpu_quota())
}

/// Logical CPUs of the machine (what `nproc --all` and Python's `cpu_count()` show).
pub fn logical_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| parse_cpu_list(&s))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The default list of worker counts for an experiment: 1, 2, ..., usable CPUs, and
/// at least [1, 2] so that a demonstration shows an effect on any machine.
pub fn default_worker_counts() -> Vec<usize> {
    (1..=usable_cpus().max(2)).collect()
}

/// Free bytes on the file system holding `dir` (or its closest existing ancestor).
pub fn free_disk_bytes(dir: &Path) -> Option<u64> {
    let disks = sysinfo::Disks::new_with_refreshed_list();
    let abs = std::fs::canonicalize(
        dir.ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new(".")),
    )
    .ok()?;
    disks
        .iter()
        .filter(|d| abs.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

/// A problem found by the environment check, with the fix to apply.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What is wrong (French).
    pub what: String,
    /// How to fix it (French).
    pub fix: String,
}

/// Everything `tp4 env` reports.
#[derive(Debug, Clone)]
pub struct EnvReport {
    /// Logical CPUs of the host (Python's `multiprocessing.cpu_count()`).
    pub logical_cpus: usize,
    /// Physical cores, when the OS tells.
    pub physical_cores: Option<usize>,
    /// CPUs in the affinity mask.
    pub affinity_cpus: Option<usize>,
    /// Cgroup CPU quota.
    pub cpu_quota: Option<CpuQuota>,
    /// What Rust's `std::thread::available_parallelism()` says (it also reads the
    /// affinity mask and cgroup quotas).
    pub std_available_parallelism: usize,
    /// CPUs the lab uses: [`usable_cpus`].
    pub usable_cpus: usize,
    /// Total memory of the host in bytes.
    pub total_memory: u64,
    /// Available memory of the host in bytes.
    pub available_memory: u64,
    /// Cgroup memory limit (`Some(None)`: cgroup readable, no limit).
    pub memory_limit: Option<Option<u64>>,
    /// OS name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// `rustc --version` of the compiler that built the lab.
    pub rustc: String,
    /// Versions of the main crates, as `(name, version)`.
    pub crates: Vec<(String, String)>,
    /// The data directory and whether it is readable with its files.
    pub data_dir: PathBuf,
    /// The output directory.
    pub output_dir: PathBuf,
    /// Problems found, each with its fix; empty when all is well.
    pub problems: Vec<Problem>,
}

/// Versions of the main crates, recorded from Cargo.lock when the lab was built.
pub fn crate_versions() -> Vec<(String, String)> {
    env!("TP4_CRATE_VERSIONS")
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Inspects the machine and the two folders of the lab.
pub fn inspect(data_dir: &Path, output_dir: &Path) -> EnvReport {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    let mut problems = Vec::new();
    check_data_dir(data_dir, &mut problems);
    if let Err(e) = crate::output::ensure_writable_dir(output_dir) {
        problems.push(Problem {
            what: format!(
                "le dossier de sortie {} n'est pas accessible en écriture",
                output_dir.display()
            ),
            fix: e
                .to_string()
                .lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches(['→', ' '])
                .to_string(),
        });
    }
    let memory_limit = cgroup_memory_limit();
    let available = sys.available_memory();
    let effective = match memory_limit.flatten() {
        Some(limit) => limit.min(available),
        None => available,
    };
    if effective < 512 * 1024 * 1024 {
        problems.push(Problem {
            what: format!(
                "mémoire disponible faible : {}",
                crate::alloc::human_bytes(effective)
            ),
            fix:
                "fermez d'autres programmes ou augmentez la limite mémoire du conteneur \
                  (`deploy.resources.limits.memory` dans docker-compose.yml, ou `docker run -m 4g`)"
                    .into(),
        });
    }
    EnvReport {
        logical_cpus: logical_cpus(),
        physical_cores: sysinfo::System::physical_core_count(),
        affinity_cpus: affinity_cpus(),
        cpu_quota: cgroup_cpu_quota(),
        std_available_parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
        usable_cpus: usable_cpus(),
        total_memory: sys.total_memory(),
        available_memory: available,
        memory_limit,
        os: sysinfo::System::long_os_version().unwrap_or_else(|| std::env::consts::OS.into()),
        kernel: sysinfo::System::kernel_version().unwrap_or_else(|| "inconnu".into()),
        rustc: env!("TP4_RUSTC_VERSION").to_string(),
        crates: crate_versions(),
        data_dir: data_dir.to_path_buf(),
        output_dir: output_dir.to_path_buf(),
        problems,
    }
}

fn check_data_dir(data_dir: &Path, problems: &mut Vec<Problem>) {
    if !data_dir.is_dir() {
        problems.push(Problem {
            what: format!("le dossier de données {} n'existe pas", data_dir.display()),
            fix: format!(
                "lancez tp4 depuis la racine du dépôt, indiquez le dossier avec `--data DIR`, \
                 ou créez les fichiers avec `tp4 --data {} donnees`",
                data_dir.display()
            ),
        });
        return;
    }
    for name in [crate::data::TRANSACTIONS_FILE, crate::data::CORPUS_FILE] {
        let path = data_dir.join(name);
        match std::fs::File::open(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => problems.push(Problem {
                what: format!("fichier manquant : {}", path.display()),
                fix: format!(
                    "générez-le avec `tp4 --data {} donnees --lignes 10000 --mo 1`",
                    data_dir.display()
                ),
            }),
            Err(e) => problems.push(Problem {
                what: format!("{} n'est pas lisible : {e}", path.display()),
                fix:
                    "vérifiez les droits (`ls -l data/`) ; dans Docker, lancez le conteneur avec \
                      `-u $(id -u):$(id -g)` pour que les volumes appartiennent à votre utilisateur"
                        .into(),
            }),
        }
    }
}

impl EnvReport {
    /// Fails with the list of problems, for `tp4 env`'s exit code.
    pub fn ensure_ok(&self) -> Result<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Other(format!(
                "{} problème(s) dans l'environnement, voir ci-dessus",
                self.problems.len()
            )))
        }
    }

    /// A short summary of the CPUs and memory, for the head of the lab's report.
    pub fn summary(&self) -> String {
        format!(
            "{} CPU utilisables (logiques : {}, cœurs physiques : {}), mémoire disponible {} sur {}, {}",
            self.usable_cpus,
            self.logical_cpus,
            self.physical_cores.map_or("?".into(), |c| c.to_string()),
            crate::alloc::human_bytes(self.available_memory),
            crate::alloc::human_bytes(self.total_memory),
            self.rustc
        )
    }
}

impl fmt::Display for EnvReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::alloc::human_bytes;
        writeln!(f, "Environnement du TP4")?;
        writeln!(
            f,
            "  Système          : {} (noyau {})",
            self.os, self.kernel
        )?;
        writeln!(f, "  Compilateur      : {}", self.rustc)?;
        writeln!(f, "Processeurs")?;
        writeln!(
            f,
            "  CPU logiques de la machine           : {}   (ce que renvoie multiprocessing.cpu_count() en Python)",
            self.logical_cpus
        )?;
        writeln!(
            f,
            "  Cœurs physiques                      : {}",
            self.physical_cores
                .map_or("inconnu".into(), |c| c.to_string())
        )?;
        writeln!(
            f,
            "  CPU autorisés (masque d'affinité)    : {}",
            self.affinity_cpus
                .map_or("illisible".into(), |c| c.to_string())
        )?;
        let quota = match self.cpu_quota {
            None => "aucun cgroup lisible".to_string(),
            Some(CpuQuota::Unlimited) => "aucune limite".to_string(),
            Some(CpuQuota::Cpus(c)) => format!("{c:.2} CPU").replace('.', ","),
        };
        writeln!(f, "  Quota CPU du cgroup (--cpus)         : {quota}")?;
        writeln!(
            f,
            "  std::thread::available_parallelism() : {}",
            self.std_available_parallelism
        )?;
        writeln!(
            f,
            "  → CPU utilisables par tp4            : {}   (c'est ce chiffre que le TP utilise pour ses pools)",
            self.usable_cpus
        )?;
        if self.usable_cpus < self.logical_cpus {
            writeln!(
                f,
                "    Attention : cpu_count() annoncerait {} CPU, mais ce processus n'en a que {} ; \
                 un pool de {} processus se partagerait {} CPU.",
                self.logical_cpus, self.usable_cpus, self.logical_cpus, self.usable_cpus
            )?;
        }
        writeln!(f, "Mémoire")?;
        writeln!(f, "  Totale     : {}", human_bytes(self.total_memory))?;
        writeln!(f, "  Disponible : {}", human_bytes(self.available_memory))?;
        let limit = match self.memory_limit {
            None => "aucun cgroup lisible".to_string(),
            Some(None) => "aucune limite".to_string(),
            Some(Some(b)) => human_bytes(b),
        };
        writeln!(f, "  Limite du cgroup : {limit}")?;
        writeln!(f, "Bibliothèques")?;
        let crates: Vec<String> = self
            .crates
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(f, "  {}", crates.join(", "))?;
        writeln!(f, "Dossiers")?;
        writeln!(f, "  Données : {}", self.data_dir.display())?;
        writeln!(f, "  Sorties : {}", self.output_dir.display())?;
        if self.problems.is_empty() {
            writeln!(f, "Tout est prêt.")?;
        } else {
            writeln!(f, "Problèmes détectés")?;
            for p in &self.problems {
                writeln!(f, "  ✗ {}\n    → {}", p.what, p.fix)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_cpu_max() {
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(CpuQuota::Cpus(2.0)));
        assert_eq!(parse_cpu_max("150000 100000"), Some(CpuQuota::Cpus(1.5)));
        assert_eq!(parse_cpu_max("max 100000\n"), Some(CpuQuota::Unlimited));
        assert_eq!(parse_cpu_max("garbage"), None);
    }

    #[test]
    fn cgroup_v1_cfs() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), Some(CpuQuota::Unlimited));
        assert_eq!(parse_cfs("50000", "100000"), Some(CpuQuota::Cpus(0.5)));
        assert_eq!(parse_cfs("400000", "100000"), Some(CpuQuota::Cpus(4.0)));
    }

    #[test]
    fn cgroup_memory() {
        assert_eq!(parse_memory_limit("max\n"), Some(None));
        assert_eq!(
            parse_memory_limit("4294967296\n"),
            Some(Some(4_294_967_296))
        );
        assert_eq!(parse_memory_limit("9223372036854771712"), Some(None));
        assert_eq!(parse_memory_limit("x"), None);
    }

    #[test]
    fn cpu_lists_and_combination() {
        assert_eq!(parse_cpu_list("0-3,6,8-9\n"), Some(7));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(combine_usable(8, Some(CpuQuota::Cpus(2.0))), 2);
        assert_eq!(combine_usable(8, Some(CpuQuota::Cpus(1.5))), 2);
        assert_eq!(combine_usable(2, Some(CpuQuota::Unlimited)), 2);
        assert_eq!(combine_usable(4, None), 4);
        assert_eq!(combine_usable(4, Some(CpuQuota::Cpus(0.2))), 1);
    }

    #[test]
    fn usable_agrees_with_std_on_this_machine() {
        // std reads the same affinity mask and quotas, but rounds a fractional quota
        // down where the lab rounds it up: the lab's figure is std's or one more.
        let std_n = std::thread::available_parallelism().unwrap().get();
        let usable = usable_cpus();
        assert!(
            usable == std_n || usable == std_n + 1,
            "tp4 {usable}, std {std_n}"
        );
        assert!(usable <= logical_cpus());
    }
}
