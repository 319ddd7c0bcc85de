//! The environment check (`tp4 env`): a report over the facts of
//! [`crate::machine`] (CPUs really usable, memory, cgroup limits) and of the lab's
//! folders (are the data files there, can the output folder be written), with the
//! fix for each problem found. It also says what the processor can do for the
//! lab's kernels ([`crate::cpu`]): its vector units, the level in use, and its
//! cache sizes, with whether W3's array fits in the last-level cache.

use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

// The machine facts lived here before they moved to `machine`; these paths keep
// working for callers written against the old place.
pub use crate::machine::{
    affinity_cpus, cgroup_cpu_quota, cgroup_memory_limit, combine_usable, default_worker_counts,
    free_disk_bytes, logical_cpus, usable_cpus, CpuQuota,
};

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
    /// The vector level of the processor ([`crate::cpu::detected`]).
    pub simd_detected: crate::cpu::Level,
    /// The vector level the lab uses ([`crate::cpu::level`], `TP4_SIMD` applied).
    pub simd_level: crate::cpu::Level,
    /// The data cache sizes ([`crate::cpu::caches`]).
    pub caches: crate::cpu::Caches,
    /// Bytes of W3's array at the size of workloads.md (M f64 values).
    pub w3_bytes: u64,
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
        let message = e.to_string();
        problems.push(Problem {
            what: message.lines().next().unwrap_or_default().to_string(),
            fix: message
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
        simd_detected: crate::cpu::detected(),
        simd_level: crate::cpu::level(),
        caches: crate::cpu::caches(),
        w3_bytes: crate::workloads::Workload::Sumsq.default_size() * 8,
        problems,
    }
}

/// The French lines of `tp4 env` about the vector units and the caches.
fn simd_and_caches(r: &EnvReport) -> Vec<String> {
    use crate::alloc::human_bytes;
    use crate::cpu::Level;
    let units = match r.simd_detected {
        Level::Scalar => "aucune utilisée (processeur non x86-64, ou tp4 compilé avec `sans-simd`)",
        Level::Sse2 => "SSE2 (128 bits)",
        Level::Avx2 => "SSE2, AVX2 + FMA, BMI1/BMI2, POPCNT, LZCNT (256 bits)",
        Level::Avx512 => "SSE2, AVX2 + FMA, BMI1/BMI2, POPCNT, LZCNT, AVX-512 (512 bits)",
    };
    let mut lines = vec![
        format!("  Unités vectorielles : {units}"),
        format!(
            "  Niveau utilisé      : {}{}",
            r.simd_level.name(),
            if r.simd_level < r.simd_detected {
                format!(
                    " (abaissé par {}, le processeur sait faire {})",
                    crate::cpu::ENV_VAR,
                    r.simd_detected.name()
                )
            } else {
                format!(
                    "   ({}=scalaire|sse2|avx2 pour l'abaisser)",
                    crate::cpu::ENV_VAR
                )
            }
        ),
    ];
    let size = |s: Option<u64>| s.map_or("inconnu".to_string(), human_bytes);
    lines.push(format!(
        "  Caches              : L1d {}, L2 {}, L3 {}",
        size(r.caches.l1d),
        size(r.caches.l2),
        size(r.caches.l3)
    ));
    let w3 = human_bytes(r.w3_bytes);
    lines.push(match r.caches.last_level() {
        Some(llc) if r.w3_bytes <= llc => format!(
            "  Tableau de W3 ({w3}) : tient dans le dernier cache ({}) : \
             W3 y est limité par le calcul plus que par la mémoire",
            human_bytes(llc)
        ),
        Some(llc) => format!(
            "  Tableau de W3 ({w3}) : ne tient pas dans le dernier cache ({}) : \
             W3 lit la mémoire principale",
            human_bytes(llc)
        ),
        None => format!("  Tableau de W3 ({w3}) : taille du dernier cache inconnue"),
    });
    lines
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
            Some(CpuQuota::Cpus(c)) => format!("{} CPU", crate::fr::decimal(c, 2)),
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
        writeln!(f, "Vectorisation et caches")?;
        for line in simd_and_caches(self) {
            writeln!(f, "{line}")?;
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
    use crate::cpu::{Caches, Level};

    #[test]
    fn the_report_says_the_level_the_caches_and_where_w3_fits() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = inspect(dir.path(), dir.path());
        assert_eq!(r.w3_bytes, 400_000_000);
        assert_eq!(r.simd_level, crate::cpu::level());
        r.simd_detected = Level::Avx512;
        r.simd_level = Level::Sse2;
        r.caches = Caches {
            l1d: Some(48 << 10),
            l2: Some(2 << 20),
            l3: Some(480 << 20),
        };
        let text = r.to_string();
        assert!(text.contains("AVX-512 (512 bits)"), "{text}");
        assert!(
            text.contains("Niveau utilisé      : sse2 (abaissé par TP4_SIMD"),
            "{text}"
        );
        assert!(text.contains("L1d 49 ko, L2 2,1 Mo, L3 503,3 Mo"), "{text}");
        assert!(
            text.contains("tient dans le dernier cache (503,3 Mo)"),
            "{text}"
        );
        r.caches.l3 = Some(32 << 20);
        assert!(r
            .to_string()
            .contains("ne tient pas dans le dernier cache (33,6 Mo)"));
        r.caches = Caches::default();
        assert!(r.to_string().contains("taille du dernier cache inconnue"));
    }
}
