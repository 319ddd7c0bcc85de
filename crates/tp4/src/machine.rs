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
//! figures ([`load_note`], and [`Evidence`], which also reads the spread of the
//! repetitions, the speedups and the expected gaps of a figure).
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

/// Timings shorter than this (seconds) are left out of the spread: a run of a few
/// microseconds varies by half from thread start-up alone, whatever the machine.
pub const MIN_SPREAD_SECONDS: f64 = 1e-3;

/// How far from 1 a speedup measured with one worker may be: one worker runs the
/// same work as the sequential program, so a larger gap is noise, not a result.
pub const ONE_WORKER_TOLERANCE: f64 = 0.15;

/// A gap the lesson expects between two measurements of one figure: the slow case
/// should take at least `expected` times the fast one (packed counters against
/// padded ones, tiny tasks against the best task size...).
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// What is compared, in French ("compteurs voisins / alignés").
    pub what: String,
    /// The measured ratio, slow time over fast time.
    pub ratio: f64,
    /// The smallest ratio that shows the effect.
    pub expected: f64,
}

/// What was measured for one figure, gathered to judge whether the figure can be
/// believed: repeated timings, speedups against the number of workers, a fitted
/// serial fraction and the gaps the lesson expects. On a busy or small machine the
/// live figures contradict the lesson; [`Evidence::note`] then says so next to the
/// figure, and what to do. Filled with the chaining methods below, from the demos
/// and from the notebook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Sets of repeated timings of one same computation, in seconds (those under
    /// [`MIN_SPREAD_SECONDS`] are not judged).
    pub repetitions: Vec<Vec<f64>>,
    /// Measured speedups `(workers, speedup)`, against one worker or sequential.
    pub speedups: Vec<(f64, f64)>,
    /// A serial fraction fitted on the speedups, with the range it should fall in.
    pub serial_fit: Option<(f64, std::ops::RangeInclusive<f64>)>,
    /// Gaps the lesson expects between measurements.
    pub gaps: Vec<Gap>,
}

impl Evidence {
    /// Empty evidence (no measurement, nothing to say).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds repeated timings in seconds.
    pub fn seconds(&mut self, repetitions: &[f64]) -> &mut Self {
        self.repetitions.push(repetitions.to_vec());
        self
    }

    /// Adds the repetitions of a [`crate::measure::time`] call.
    pub fn timings(&mut self, t: &crate::measure::Timings) -> &mut Self {
        let secs: Vec<f64> = t.samples.iter().map(|d| d.as_secs_f64()).collect();
        self.seconds(&secs)
    }

    /// Adds a measurement of the shared runner (its fastest, median and slowest run).
    pub fn measurement(&mut self, m: &crate::measure::Measurement) -> &mut Self {
        if m.runs >= 2 {
            self.seconds(&[m.min, m.seconds, m.max]);
        }
        self
    }

    /// Adds a measured speedup on `workers` workers.
    pub fn speedup(&mut self, workers: f64, speedup: f64) -> &mut Self {
        self.speedups.push((workers, speedup));
        self
    }

    /// Adds a fitted serial fraction and the range a quiet machine gives.
    pub fn serial_fit(
        &mut self,
        fitted: f64,
        plausible: std::ops::RangeInclusive<f64>,
    ) -> &mut Self {
        self.serial_fit = Some((fitted, plausible));
        self
    }

    /// Adds a gap the lesson expects: `slow / fast` should reach `expected`.
    pub fn gap(
        &mut self,
        what: impl Into<String>,
        slow: f64,
        fast: f64,
        expected: f64,
    ) -> &mut Self {
        self.gaps.push(Gap {
            what: what.into(),
            ratio: slow / fast,
            expected,
        });
        self
    }

    /// Why the figure cannot be believed, given the load average and the usable
    /// CPUs (pure, for tests): one French phrase per reason, none when it looks fine.
    pub fn issues(&self, load: Option<f64>, usable: usize) -> Vec<String> {
        let mut issues = Vec::new();
        if let Some(spread) = self
            .repetitions
            .iter()
            .filter(|r| r.len() >= 2 && crate::measure::median(r) >= MIN_SPREAD_SECONDS)
            .map(|r| spread(r))
            .filter(|s| *s > MAX_SPREAD)
            .max_by(f64::total_cmp)
        {
            issues.push(format!(
                "des répétitions d'une même mesure varient de {} autour de leur médiane \
                 (au-delà de {}, la machine faisait autre chose)",
                crate::fr::percent(spread, 0),
                crate::fr::percent(MAX_SPREAD, 0)
            ));
        }
        if let Some(l) = load.filter(|&l| l > usable as f64) {
            issues.push(format!(
                "la charge de la machine (load average {}) dépasse ses {usable} CPU \
                 utilisables : d'autres programmes prennent des cœurs",
                crate::fr::decimal(l, 1)
            ));
        }
        issues.extend(self.speedup_issues(usable));
        if let Some((s, range)) = self.serial_fit.as_ref().filter(|(s, r)| !r.contains(s)) {
            issues.push(format!(
                "la fraction séquentielle estimée ({}) sort de l'intervalle attendu [{} ; {}]",
                crate::fr::decimal(*s, 2),
                crate::fr::decimal(*range.start(), 2),
                crate::fr::decimal(*range.end(), 2)
            ));
        }
        for g in self
            .gaps
            .iter()
            .filter(|g| g.ratio.is_nan() || g.ratio < g.expected)
        {
            issues.push(format!(
                "{} : écart mesuré ×{}, la leçon en attend au moins ×{}",
                g.what,
                crate::fr::ratio(g.ratio),
                crate::fr::ratio(g.expected)
            ));
        }
        issues
    }

    /// The speedup reasons: a single usable CPU, a one-worker speedup far from 1,
    /// a slowdown with several workers the machine has.
    fn speedup_issues(&self, usable: usize) -> Vec<String> {
        let mut issues = Vec::new();
        if usable < 2 && self.speedups.iter().any(|&(p, _)| p >= 2.0) {
            issues.push(
                "cette machine n'a qu'un CPU utilisable : plusieurs workers s'y partagent un \
                 seul cœur et aucune accélération n'est possible"
                    .to_string(),
            );
            return issues;
        }
        if let Some(&(_, s)) = self
            .speedups
            .iter()
            .filter(|&&(p, s)| p == 1.0 && (s - 1.0).abs() > ONE_WORKER_TOLERANCE)
            .max_by(|a, b| (a.1 - 1.0).abs().total_cmp(&(b.1 - 1.0).abs()))
        {
            issues.push(format!(
                "avec 1 worker l'accélération devrait valoir 1, elle vaut {} : le temps a \
                 changé d'une mesure à l'autre",
                crate::fr::ratio(s)
            ));
        }
        if let Some(&(p, s)) = self
            .speedups
            .iter()
            .filter(|&&(p, s)| p >= 2.0 && p <= usable as f64 && s < 1.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
        {
            issues.push(format!(
                "avec {p} workers le calcul est plus lent qu'avec 1 (accélération {})",
                crate::fr::ratio(s)
            ));
        }
        issues
    }

    /// The note to print next to the figure for this load and these CPUs: empty
    /// when the measurement looks fine (pure, for tests).
    pub fn note_for(&self, load: Option<f64>, usable: usize) -> String {
        let issues = self.issues(load, usable);
        if issues.is_empty() {
            return String::new();
        }
        format!(
            "⚠ Mesure peu fiable : {}. Ces chiffres peuvent contredire la leçon : fermez les autres programmes (ou attendez que la machine soit calme), puis \
             relancez la mesure (la cellule, ou la commande).",
            issues.join(" ; ")
        )
    }

    /// The note for this machine now (load average, usable CPUs): empty when the
    /// measurement looks fine.
    pub fn note(&self) -> String {
        self.note_for(load_average(), usable_cpus())
    }

    /// Prints the note (with a blank line before it) when there is one: what a
    /// notebook cell calls after its figure.
    pub fn print_note(&self) {
        let note = self.note();
        if !note.is_empty() {
            println!("\n{note}");
        }
    }
}

/// A chart title marked when its figure is unreliable (`note` not empty), so that
/// the PNG, seen on its own, warns too.
pub fn flag_title(title: String, note: &str) -> String {
    if note.is_empty() {
        title
    } else {
        format!("{title} — mesure peu fiable")
    }
}

/// Relative spread `(max − min) / median` of repeated timings (0 for fewer than 2).
pub fn spread(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let med = crate::measure::median(xs);
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if med > 0.0 {
        (hi - lo) / med
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliable_measurements_have_no_note() {
        let mut ev = Evidence::new();
        ev.seconds(&[1.0, 1.02, 0.99])
            .speedup(1.0, 1.03)
            .speedup(2.0, 1.8)
            .serial_fit(0.1, 0.0..=0.3)
            .gap("compteurs voisins / alignés", 3.0, 1.0, 1.5);
        assert!(
            ev.issues(Some(0.5), 2).is_empty(),
            "{:?}",
            ev.issues(Some(0.5), 2)
        );
        assert_eq!(ev.note_for(Some(0.5), 2), "");
        assert_eq!(flag_title("t".into(), ""), "t");
        assert_eq!(flag_title("t".into(), "⚠"), "t — mesure peu fiable");
        assert!(Evidence::new().issues(None, 2).is_empty());
        // Microseconds vary by half from thread start-up alone: not judged.
        let mut tiny = Evidence::new();
        tiny.seconds(&[1e-5, 2e-5, 1.1e-5]);
        assert!(tiny.issues(None, 2).is_empty());
        // More workers than CPUs may be slower: not a sign of a busy machine.
        let mut over = Evidence::new();
        over.speedup(4.0, 0.9);
        assert!(over.issues(None, 2).is_empty());
    }

    #[test]
    fn unreliable_measurements_are_named_with_what_to_do() {
        // The figures of the issue: speedup 0,74 at 2 workers, s fitted 1,00 for 0,25,
        // 1,22 with 1 worker, a flat granularity curve, a busy machine.
        let mut ev = Evidence::new();
        ev.seconds(&[1.0, 2.0, 1.1])
            .speedup(1.0, 1.22)
            .speedup(2.0, 0.74)
            .serial_fit(1.0, 0.1..=0.4)
            .gap("tâches d'un nombre / meilleure taille", 1.05, 1.0, 1.3);
        let issues = ev.issues(Some(3.5), 2);
        assert_eq!(issues.len(), 6, "{issues:?}");
        assert!(issues[0].contains("91 %"), "{issues:?}");
        assert!(issues[1].contains("3,5"), "{issues:?}");
        assert!(issues[2].contains("1,22"), "{issues:?}");
        assert!(
            issues[3].contains("0,74") && issues[3].contains("2 workers"),
            "{issues:?}"
        );
        assert!(
            issues[4].contains("1,00") && issues[4].contains("0,40"),
            "{issues:?}"
        );
        assert!(
            issues[5].contains("×1,05") && issues[5].contains("×1,30"),
            "{issues:?}"
        );
        let note = ev.note_for(Some(3.5), 2);
        assert!(note.starts_with("⚠ Mesure peu fiable"), "{note}");
        assert!(note.contains("fermez les autres programmes") && note.contains("relancez"));
        // A NaN ratio (a zero time) is not a shown effect either.
        let mut nan = Evidence::new();
        nan.gap("x", 0.0, 0.0, 1.5);
        assert_eq!(nan.issues(None, 2).len(), 1);
    }

    #[test]
    fn a_single_cpu_is_named_instead_of_slowdowns() {
        let mut ev = Evidence::new();
        ev.speedup(1.0, 1.0).speedup(2.0, 0.8);
        let issues = ev.issues(Some(0.2), 1);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].contains("qu'un CPU"), "{issues:?}");
    }

    #[test]
    fn spread_of_repetitions() {
        assert_eq!(spread(&[]), 0.0);
        assert_eq!(spread(&[2.0]), 0.0);
        assert!((spread(&[1.0, 2.0, 3.0]) - 1.0).abs() < 1e-12);
        let m = crate::measure::Measurement {
            runs: 3,
            min: 1.0,
            seconds: 1.1,
            max: 2.0,
            ..crate::measure::Measurement::new(
                "primes",
                "seq",
                1,
                10,
                &crate::measure::Timings { samples: vec![] },
                0.into(),
                true,
                None,
            )
        };
        let mut ev = Evidence::new();
        ev.measurement(&m);
        assert_eq!(ev.repetitions, vec![vec![1.0, 1.1, 2.0]]);
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
