//! The machine the lab runs on, as measured from inside: the CPUs this process may
//! really use, its memory limit, the free disk space of a folder, and how busy the
//! machine is now (load average). Pure facts, no report: [`crate::environment`]
//! builds `tp4 env` over them, and [`crate::data`] checks free space with them.
//!
//! Python's `multiprocessing.cpu_count()` returns the number of logical CPUs of the
//! host, even inside a Docker container limited to 2 CPUs with `--cpus 2`: a pool
//! sized on it oversubscribes the container. The lab computes the CPUs it may use
//! as the minimum of the affinity mask (`taskset`, `--cpuset-cpus`) and of the
//! cgroup CPU quota (`--cpus`, `deploy.resources.limits.cpus`, cgroup v2 `cpu.max`
//! or v1 `cpu.cfs_quota_us / cpu.cfs_period_us`), rounded up, and sizes every pool
//! on that figure ([`usable_cpus`]). A measured speedup means little on a machine
//! whose cores other programs keep busy, so measurements say so next to their
//! figures ([`load_note`]).
//!
//! The cgroup parsers are pure functions over the files' text, tested on fixtures
//! without `/sys`.

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

/// Free bytes on the file system holding `dir` (or its closest existing ancestor),
/// asked of that very file system (`statvfs`), so that a small tmpfs or a mounted
/// volume is seen as it is, not as the disk of `/`.
pub fn free_disk_bytes(dir: &Path) -> Option<u64> {
    let existing = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .unwrap_or(Path::new("."));
    statvfs_available(existing)
}

#[cfg(unix)]
// `f_bavail` and `f_frsize` are u64 here but u32 on some targets.
#[allow(clippy::useless_conversion)]
fn statvfs_available(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of
    // the right type; it is read only when the call succeeded.
    let st = unsafe {
        if libc::statvfs(c.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    Some(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

#[cfg(not(unix))]
fn statvfs_available(path: &Path) -> Option<u64> {
    let abs = std::fs::canonicalize(path).ok()?;
    sysinfo::Disks::new_with_refreshed_list()
        .iter()
        .filter(|d| abs.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

/// The load average of the last minute (`/proc/loadavg`), if the system gives it.
pub fn load_average() -> Option<f64> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first field of `/proc/loadavg` ("0.52 0.58 0.59 1/467 12345").
pub fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// A warning when other programs keep the CPUs busy (load average of the last
/// minute above the usable CPUs): the measured speedups are then too low.
pub fn load_note(usable: usize) -> String {
    match load_average() {
        Some(l) if l > usable as f64 => format!(
            " Attention : la charge de la machine (load average {}) dépasse ses {usable} CPU : \
             d'autres programmes prennent des cœurs et les accélérations mesurées sont \
             plus faibles que sur une machine au repos.",
            crate::fr::decimal(l, 1)
        ),
        _ => String::new(),
    }
}

/// Relative spread of repeated timings, `(max − min) / median`, above which a
/// measurement is not to be trusted.
pub const MAX_SPREAD: f64 = 0.3;

/// Why a measurement cannot be believed, from what was seen: the repetitions of
/// one timing, the load average, the usable CPUs and the speedup measured with 2
/// workers (below 1 means the machine was busy). Pure, for tests; see
/// [`reliability_note`] for the live version. Each reason is a French sentence.
pub fn reliability_issues(
    repetitions: &[f64],
    load: Option<f64>,
    usable: usize,
    speedup_two_workers: Option<f64>,
) -> Vec<String> {
    let mut issues = Vec::new();
    if repetitions.len() >= 2 {
        let med = crate::measure::median(repetitions);
        let (lo, hi) = repetitions
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if med > 0.0 && (hi - lo) / med > MAX_SPREAD {
            issues.push(format!(
                "les répétitions varient de {} autour de la médiane",
                crate::fr::percent((hi - lo) / med, 0)
            ));
        }
    }
    if let Some(l) = load.filter(|&l| l > usable as f64) {
        issues.push(format!(
            "la charge de la machine ({}) dépasse ses {usable} CPU utilisables",
            crate::fr::decimal(l, 1)
        ));
    }
    if let Some(s) = speedup_two_workers.filter(|&s| s < 1.0) {
        issues.push(format!(
            "avec 2 workers, le calcul est plus lent qu'avec 1 (accélération {})",
            crate::fr::decimal(s, 2)
        ));
    }
    issues
}

/// A French note to print next to a figure when the measurement is unreliable
/// (empty when it looks fine): what was seen and what to do.
pub fn reliability_note(repetitions: &[f64], speedup_two_workers: Option<f64>) -> String {
    let issues = reliability_issues(
        repetitions,
        load_average(),
        usable_cpus(),
        speedup_two_workers,
    );
    if issues.is_empty() {
        return String::new();
    }
    format!(
        "⚠ Mesure peu fiable : {}. Les chiffres ci-dessus ne montrent pas ce que la leçon \
         annonce : fermez les autres programmes (ou attendez que la machine soit calme) puis \
         relancez la cellule.",
        issues.join(" ; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreliable_measurements_are_named() {
        assert!(reliability_issues(&[1.0, 1.02, 0.99], Some(0.5), 2, Some(1.8)).is_empty());
        let issues = reliability_issues(&[1.0, 2.0, 1.1], Some(3.5), 2, Some(0.74));
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert!(issues[1].contains("3,5"), "{issues:?}");
        assert!(issues[2].contains("0,74"), "{issues:?}");
        assert!(reliability_issues(&[], None, 2, None).is_empty());
    }

    #[test]
    fn loadavg_is_its_first_field() {
        assert_eq!(parse_loadavg("0.52 0.58 0.59 1/467 12345\n"), Some(0.52));
        assert_eq!(parse_loadavg(""), None);
        assert_eq!(parse_loadavg("x y"), None);
    }

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
