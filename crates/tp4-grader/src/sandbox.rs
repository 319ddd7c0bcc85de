//! Runs one question of a student's program in its own child process, as untrusted
//! code: a wall-clock timeout (the whole process group is killed), resource limits
//! (`RLIMIT_CPU`, `RLIMIT_AS`, `RLIMIT_NPROC`, `RLIMIT_FSIZE`), a throwaway working
//! directory, and, when the grader runs as root, a new network namespace (no network
//! at all), a new mount namespace where the class folder, the grading folders and
//! the output folder are hidden under empty read-only mounts and `/tmp` is a fresh
//! small tmpfs, and a dedicated unprivileged uid (no file of the teacher's is
//! writable, the hidden folders are not even visible). After each run every process
//! of that uid is killed: nothing is left behind.
//!
//! Without root (or with `TP4_CORRIGER_ISOLATION=partielle`, the seam the tests use
//! to take this path as root), the limits still apply (`RLIMIT_NPROC` set to the
//! teacher's own task count plus the allowance, since it counts every task of the
//! uid), the process group is killed, the grader is the "subreaper" of the runs so
//! that a process that left its group is re-parented to it and killed too, and the
//! working directory is a throwaway one; no namespace, no uid switch.
//!
//! As root on a kernel (or in a container) that refuses namespaces, the runs still
//! take the dedicated uid (with its own `RLIMIT_NPROC`, and every process of the
//! uid killed after each run): only the namespaces are missing, never does student
//! code run as root. `TP4_CORRIGER_ISOLATION=sans-espaces` takes this path on a
//! machine that allows namespaces (the tests). [`decide`] makes the choice and
//! says in French what is missing and what holds; `docs/correction.md` says the
//! same.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Per-question limits (said in each student's feedback).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Wall-clock time of one question.
    pub wall: Duration,
    /// CPU time of one question (all threads), seconds.
    pub cpu_seconds: u64,
    /// Address space of the process, bytes.
    pub memory_bytes: u64,
    /// Processes and threads of the sandbox uid (root only).
    pub processes: u64,
    /// Largest file the code may write, bytes.
    pub file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(60),
            cpu_seconds: 120,
            memory_bytes: 4 << 30,
            processes: 256,
            file_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// The limits in one French sentence. Without the dedicated uid the code runs
    /// under the teacher's, whose own tasks count against the process limit: the
    /// limit is then said to come on top of them.
    pub fn describe(&self, dedicated_uid: bool) -> String {
        format!(
            "{} s de temps réel et {} s de CPU par question, {} Mio de mémoire (espace d'adressage), \
             {} Mio par fichier écrit, {} processus et threads{}",
            self.wall.as_secs(),
            self.cpu_seconds,
            self.memory_bytes >> 20,
            self.file_bytes >> 20,
            self.processes,
            if dedicated_uid { "" } else { " en plus des vôtres" }
        )
    }
}

/// How strongly runs are isolated on this machine.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// Namespaces (network, mounts) and a dedicated uid: only when root and the
    /// kernel allows it (probed once by [`Isolation::probe`]).
    pub full: bool,
    /// Whether the code runs as the dedicated uid [`Isolation::uid`]: whenever the
    /// grader is root (with or without namespaces), unless the seam asks for the
    /// unprivileged path.
    pub switch_uid: bool,
    /// The uid the code runs as (when `switch_uid`).
    pub uid: u32,
    /// Folders hidden from the code (class folder, grading folder, output folder).
    pub hidden: Vec<PathBuf>,
    /// Paths the code must still reach (the lab's data, the worker program): a
    /// scratch folder (`/tmp`, `/dev/shm`, `/var/tmp`) that holds one of them is not
    /// covered by a fresh tmpfs, or a repository cloned under `/tmp` would lose its
    /// `data/` in every run.
    pub visible: Vec<PathBuf>,
    /// Why isolation is partial, in French (empty when full).
    pub note: String,
}

/// The uid student code runs as when the grader is root: not a user of the system,
/// owns no file.
pub const SANDBOX_UID: u32 = 64_917;

/// The environment variable that makes the grader behave as if it were not root
/// (`TP4_CORRIGER_ISOLATION=partielle`): the path every unprivileged teacher takes,
/// exercised by the tests on a machine where they run as root.
pub const ISOLATION_ENV: &str = "TP4_CORRIGER_ISOLATION";

/// What is missing without root (French), as said in the warning and in
/// `docs/correction.md`.
pub const MISSING_WITHOUT_ROOT: [&str; 3] = [
    "pas d'espace de noms réseau (le code des élèves peut ouvrir des connexions)",
    "pas d'espace de noms de montage (il peut lire tout ce que vous pouvez lire, les autres \
     copies comprises, et écrire là où vous pouvez écrire)",
    "pas d'utilisateur dédié (il tourne sous votre uid)",
];

/// What is missing as root on a kernel that refuses namespaces (French).
pub const MISSING_WITHOUT_NAMESPACES: [&str; 2] = [
    "pas d'espace de noms réseau (le code des élèves peut ouvrir des connexions)",
    "pas d'espace de noms de montage (il peut lire ce que tout utilisateur peut lire, \
     les copies lisibles par tous comprises : retirez-leur ce droit avec \
     chmod -R go-rwx sur le dossier des copies)",
];

/// What still holds as root on a kernel that refuses namespaces (French).
pub const KEPT_WITHOUT_NAMESPACES: [&str; 4] = [
    "un utilisateur dédié, sans droits ni fichiers, jamais root",
    "les limites de chaque question (temps réel, CPU, mémoire, taille des fichiers, \
     nombre de processus et threads de l'utilisateur dédié)",
    "tous les processus de l'utilisateur dédié tués après chaque question",
    "un dossier de travail jetable, effacé après chaque question",
];

/// What still holds without root (French).
pub const KEPT_WITHOUT_ROOT: [&str; 4] = [
    "les limites de chaque question (temps réel, CPU, mémoire, taille des fichiers, nombre \
     de processus et threads en plus des vôtres)",
    "le groupe de processus tué après chaque question",
    "les processus détachés (setsid) récupérés et tués",
    "un dossier de travail jetable, effacé après chaque question",
];

/// Whether the seam [`ISOLATION_ENV`] asks for the unprivileged path (`partielle`):
/// no namespace and no uid switch, even as root.
fn asks_unprivileged(seam: Option<&str>) -> bool {
    seam.is_some_and(|v| v.trim() == "partielle")
}

/// Whether runs get namespaces and a dedicated uid, decided from whether the grader
/// is root, whether the seam asks for the unprivileged path, and (only then asked)
/// whether the kernel lets a child unshare its network and mount namespaces.
/// Returns `(full, note)`, the note empty when full.
pub fn decide(
    root: bool,
    seam: Option<&str>,
    unshare_works: impl FnOnce() -> bool,
) -> (bool, String) {
    let forced = asks_unprivileged(seam);
    let no_namespaces = seam.is_some_and(|v| v.trim() == "sans-espaces");
    if !root || forced {
        let why = if root {
            format!("{ISOLATION_ENV}=partielle demande le chemin sans root")
        } else {
            "la correction ne tourne pas en root".to_string()
        };
        return (
            false,
            format!(
                "{why} : {} ; restent {}. Pour une isolation complète, lancez la correction \
                 en root (sudo, ou dans le conteneur du TP lancé avec -u 0 --privileged)",
                MISSING_WITHOUT_ROOT.join(", "),
                KEPT_WITHOUT_ROOT.join(", ")
            ),
        );
    }
    if !no_namespaces && unshare_works() {
        return (true, String::new());
    }
    let why = if no_namespaces {
        format!("{ISOLATION_ENV}=sans-espaces demande le chemin sans espaces de noms")
    } else {
        "le noyau refuse les espaces de noms (unshare)".to_string()
    };
    (
        false,
        format!(
            "{why} : {} ; restent {}. Pour une isolation complète, lancez la correction en \
             root sur une machine (ou dans un conteneur --privileged) qui les permet",
            MISSING_WITHOUT_NAMESPACES.join(", "),
            KEPT_WITHOUT_NAMESPACES.join(", ")
        ),
    )
}

impl Isolation {
    /// Probes what this machine allows: full isolation when root (and not asked to
    /// behave otherwise by [`ISOLATION_ENV`]) and a child can create its own network
    /// and mount namespaces.
    pub fn probe(hidden: Vec<PathBuf>, visible: Vec<PathBuf>) -> Isolation {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let seam = std::env::var(ISOLATION_ENV).ok();
        let (full, note) = decide(root, seam.as_deref(), || {
            let mut cmd = Command::new("/bin/true");
            // SAFETY: only async-signal-safe calls (unshare) in the child.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            matches!(cmd.status(), Ok(s) if s.success())
        });
        Isolation {
            full,
            switch_uid: root && !asks_unprivileged(seam.as_deref()),
            uid: SANDBOX_UID,
            hidden,
            visible,
            note,
        }
    }
}

/// What a run gave.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Standard output (the first MiB).
    pub stdout: String,
    /// Standard error (the first MiB).
    pub stderr: String,
    /// How it ended (`None` when it could not be waited for).
    pub status: Option<ExitStatus>,
    /// Whether the wall-clock limit killed it.
    pub timed_out: bool,
    /// Wall-clock time.
    pub elapsed: Duration,
}

const OUTPUT_CAP: usize = 1 << 20;

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn reader(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if kept.len() < OUTPUT_CAP {
                kept.extend_from_slice(&buf[..n.min(OUTPUT_CAP - kept.len())]);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

/// Everything the child needs, prepared before `fork` (no allocation after it).
struct Prepared {
    binary: CString,
    hidden: Vec<CString>,
    scratch: Vec<CString>,
    workdir: CString,
    prog_args: Vec<CString>,
    env: Vec<CString>,
    /// NULL-terminated pointer arrays into `prog_args` and `env`.
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

// SAFETY: the raw pointers point into the CStrings owned by the same struct, which
// are never mutated; the child reads them after fork.
unsafe impl Send for Prepared {}
// SAFETY: as above, read-only.
unsafe impl Sync for Prepared {}

/// Sets the limits of the calling process (async-signal-safe); `nproc` is the
/// `RLIMIT_NPROC` to set, if any (it counts every task of the real uid).
fn set_limits(l: &Limits, nproc: Option<u64>) -> std::io::Result<()> {
    let set = |what, v: u64| {
        let r = libc::rlimit {
            rlim_cur: v as libc::rlim_t,
            rlim_max: v as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid pointer.
        if unsafe { libc::setrlimit(what, &r) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    set(libc::RLIMIT_CPU, l.cpu_seconds)?;
    set(libc::RLIMIT_AS, l.memory_bytes)?;
    set(libc::RLIMIT_FSIZE, l.file_bytes)?;
    set(libc::RLIMIT_CORE, 0)?;
    if let Some(n) = nproc {
        set(libc::RLIMIT_NPROC, n)?;
    }
    Ok(())
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The child's side of a run as the dedicated uid: namespaces and mounts (when
/// `namespaces`), the working directory, limits, uid, then `fexecve` of the
/// student's program (opened as root first: the uid needs no path to it). Only
/// async-signal-safe calls.
fn enter_sandbox(p: &Prepared, l: &Limits, uid: u32, namespaces: bool) -> std::io::Result<()> {
    // SAFETY: plain system calls on pointers to NUL-terminated strings prepared
    // before fork; the argv/envp arrays are NULL-terminated.
    unsafe {
        let fd = libc::open(p.binary.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if namespaces {
            enter_namespaces(p)?;
        }
        // The throwaway working directory: in the fresh /tmp with namespaces, else in
        // the grader's throwaway folder.
        check(libc::mkdir(p.workdir.as_ptr(), 0o700))?;
        check(libc::chown(p.workdir.as_ptr(), uid, uid))?;
        check(libc::chdir(p.workdir.as_ptr()))?;
        set_limits(l, Some(l.processes))?;
        check(libc::setgroups(0, std::ptr::null()))?;
        check(libc::setgid(uid))?;
        check(libc::setuid(uid))?;
        libc::fexecve(fd, p.argv.as_ptr(), p.envp.as_ptr());
        Err(std::io::Error::last_os_error())
    }
}

/// New network and mount namespaces, the hidden folders under empty read-only
/// mounts, fresh small tmpfs for the scratch folders. Only async-signal-safe calls.
fn enter_namespaces(p: &Prepared) -> std::io::Result<()> {
    // SAFETY: plain system calls on pointers to NUL-terminated strings prepared
    // before fork.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET))?;
        let none = c"none".as_ptr();
        let tmpfs = c"tmpfs".as_ptr();
        check(libc::mount(
            none,
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        let flags = libc::MS_NOSUID | libc::MS_NODEV;
        for dir in &p.hidden {
            let r = libc::mount(
                tmpfs,
                dir.as_ptr(),
                tmpfs,
                flags | libc::MS_RDONLY | libc::MS_NOEXEC,
                c"size=4k,mode=000".as_ptr().cast(),
            );
            if r != 0 && *libc::__errno_location() != libc::ENOENT {
                return Err(std::io::Error::last_os_error());
            }
        }
        for dir in &p.scratch {
            let r = libc::mount(
                tmpfs,
                dir.as_ptr(),
                tmpfs,
                flags,
                c"size=64m,mode=1777".as_ptr().cast(),
            );
            if r != 0 && *libc::__errno_location() != libc::ENOENT {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

/// Kills every process of `uid` (from a forked child that takes that uid, since
/// `kill(-1)` reaches exactly the processes of the caller's uid), until none is left.
fn kill_uid(uid: u32) {
    // SAFETY: the forked child calls only async-signal-safe functions then _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::setgid(uid) != 0 || libc::setuid(uid) != 0 {
                libc::_exit(1);
            }
            for _ in 0..50 {
                if libc::kill(-1, libc::SIGKILL) != 0 {
                    libc::_exit(0);
                }
                libc::usleep(2000);
            }
            libc::_exit(0);
        } else if pid > 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// The processes of `uid` still alive (zombies excluded), from `/proc`.
pub fn processes_of(uid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            let uid_line = s.lines().find(|l| l.starts_with("Uid:"));
            let zombie = s
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'));
            !zombie
                && uid_line.is_some_and(|l| l.split_whitespace().nth(1) == Some(&uid.to_string()))
        })
        .count()
}

/// The tasks (processes and threads, zombies included: the kernel counts them until
/// they are reaped) whose real uid is `uid`, from `/proc`. Without root,
/// `RLIMIT_NPROC` counts the teacher's own tasks too: the limit set is this count
/// plus [`Limits::processes`].
pub fn tasks_of(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let uid = uid.to_string();
    dir.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .is_some_and(|l| l.split_whitespace().nth(1) == Some(uid.as_str()))
        })
        .map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// The pids whose parent is this process, from `/proc`.
fn children_of_self() -> Vec<i32> {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<i32>().ok()?;
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            let ppid = status.lines().find_map(|l| l.strip_prefix("PPid:"))?;
            (ppid.trim() == me).then_some(pid)
        })
        .collect()
}

/// Makes this process the "subreaper" of its descendants: a process the student's
/// code detached (`setsid`, its own process group) and whose parent died is
/// re-parented here instead of to init, where [`sweep_orphans`] finds it.
fn become_subreaper() {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Kills and reaps every child of this process not in `before` (the orphans a run
/// left, re-parented here), round after round (killing one re-parents its own
/// children here), for at most about two seconds.
fn sweep_orphans(before: &[i32]) {
    let start = Instant::now();
    loop {
        let orphans: Vec<i32> = children_of_self()
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if orphans.is_empty() || start.elapsed() > Duration::from_secs(2) {
            return;
        }
        for &pid in &orphans {
            // SAFETY: kill and waitpid of our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(pid, &mut status, libc::WNOHANG);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `binary question` under the limits, with `nonce` on its stdin and `env` as
/// its whole environment.
pub fn run(
    binary: &Path,
    question: &str,
    nonce: &str,
    env: &[(String, String)],
    limits: &Limits,
    iso: &Isolation,
) -> std::io::Result<RunOutput> {
    let scratch_parent = tempfile_dir()?;
    let mut cmd = Command::new(binary);
    cmd.arg(question)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if iso.switch_uid {
        // The scratch folders that get a fresh tmpfs: those holding nothing the
        // code must reach.
        let scratch: Vec<&Path> = ["/tmp", "/dev/shm", "/var/tmp"]
            .iter()
            .map(Path::new)
            .filter(|d| iso.full && !iso.visible.iter().any(|v| v.starts_with(d)))
            .collect();
        // With a fresh /tmp the working directory is in it; otherwise in the
        // throwaway folder (which the uid must be able to cross).
        let workdir = if scratch.contains(&Path::new("/tmp")) {
            PathBuf::from("/tmp/copie")
        } else {
            std::fs::set_permissions(
                scratch_parent.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o711),
            )?;
            scratch_parent.path().join("copie")
        };
        let mut prepared = Prepared {
            binary: cstr(binary),
            hidden: iso.hidden.iter().map(|p| cstr(p)).collect(),
            scratch: scratch.iter().map(|p| cstr(p)).collect(),
            workdir: cstr(&workdir),
            prog_args: [cstr(Path::new("copie")), cstr(Path::new(question))].into(),
            env: env
                .iter()
                .map(|(k, v)| CString::new(format!("{k}={v}")).unwrap_or_default())
                .chain([CString::new(format!("HOME={}", workdir.display())).unwrap_or_default()])
                .collect(),
            argv: Vec::new(),
            envp: Vec::new(),
        };
        prepared.argv = prepared.prog_args.iter().map(|a| a.as_ptr()).collect();
        prepared.argv.push(std::ptr::null());
        prepared.envp = prepared.env.iter().map(|a| a.as_ptr()).collect();
        prepared.envp.push(std::ptr::null());
        let limits = limits.clone();
        let (uid, namespaces) = (iso.uid, iso.full);
        cmd.current_dir("/");
        // SAFETY: enter_sandbox only makes async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(move || enter_sandbox(&prepared, &limits, uid, namespaces));
        }
    } else {
        let limits = limits.clone();
        become_subreaper();
        // SAFETY: getuid has no preconditions.
        let nproc = tasks_of(unsafe { libc::getuid() }) + limits.processes;
        cmd.current_dir(scratch_parent.path())
            .env("HOME", scratch_parent.path());
        // SAFETY: set_limits only calls setrlimit.
        unsafe {
            cmd.pre_exec(move || set_limits(&limits, Some(nproc)));
        }
    }
    let children_before = children_of_self();
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pgid = child.id() as i32;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{nonce}");
    }
    let out = reader(child.stdout.take().expect("piped stdout"));
    let err = reader(child.stderr.take().expect("piped stderr"));
    let mut timed_out = false;
    let status = loop {
        match child.try_wait()? {
            Some(s) => break Some(s),
            None if start.elapsed() >= limits.wall => {
                timed_out = true;
                // SAFETY: kill of the child's own process group.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                break child.wait().ok();
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let elapsed = start.elapsed();
    // Whatever the program left running goes too: its group, then (root) its uid.
    // SAFETY: kill of the child's own process group.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    // Killed processes may be zombies for a moment (kill still reaches them):
    // rounds until `/proc` shows no live process of the uid.
    if iso.switch_uid {
        for _ in 0..20 {
            if processes_of(iso.uid) == 0 {
                break;
            }
            kill_uid(iso.uid);
        }
    }
    // Without root, what left the group was re-parented here (subreaper): killed and
    // reaped too. Harmless (nothing new) otherwise.
    sweep_orphans(&children_before);
    let join = |h: std::thread::JoinHandle<String>| {
        let t0 = Instant::now();
        while !h.is_finished() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        match h.is_finished() {
            true => h.join().unwrap_or_default(),
            false => String::from("(sortie encore ouverte par un processus échappé)"),
        }
    };
    Ok(RunOutput {
        stdout: join(out),
        stderr: join(err),
        status,
        timed_out,
        elapsed,
    })
}

/// A fresh throwaway directory (used as the working directory without root).
fn tempfile_dir() -> std::io::Result<TempDir> {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let p = std::env::temp_dir().join(format!("tp4-corriger-{:016x}", h.finish()));
    std::fs::create_dir_all(&p)?;
    Ok(TempDir(p))
}

struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A random nonce for the marker lines.
pub fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_of_isolation_and_its_french_note() {
        let works = || true;
        assert_eq!(decide(true, None, works), (true, String::new()));
        // Every way to the partial path says what is missing and what holds.
        for (root, seam, unshare) in [
            (false, None, true),
            (false, Some("partielle"), true),
            (false, Some("sans-espaces"), true),
            (true, Some("partielle"), true),
        ] {
            let (full, note) = decide(root, seam, || unshare);
            assert!(!full, "{root} {seam:?} {unshare}");
            for part in MISSING_WITHOUT_ROOT.iter().chain(&KEPT_WITHOUT_ROOT) {
                assert!(note.contains(part), "{note}");
            }
            assert!(note.contains("root"), "{note}");
        }
        // Root on a kernel that refuses namespaces (or the seam that says so): the
        // note names what is missing and the dedicated uid among what holds.
        for (seam, unshare) in [
            (None, false),
            (Some("autre"), false),
            (Some("sans-espaces"), true),
        ] {
            let (full, note) = decide(true, seam, || unshare);
            assert!(!full, "{seam:?} {unshare}");
            for part in MISSING_WITHOUT_NAMESPACES
                .iter()
                .chain(&KEPT_WITHOUT_NAMESPACES)
            {
                assert!(note.contains(part), "{note}");
            }
            assert!(!note.contains(MISSING_WITHOUT_ROOT[2]), "{note}");
        }
        // Not root: the kernel is not even asked.
        let (full, _) = decide(false, None, || panic!("unshare probed without root"));
        assert!(!full);
        // Any other value of the seam leaves the choice to the machine.
        assert!(decide(true, Some("complète"), || true).0);
    }

    fn processes_with(arg: &str) -> usize {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .filter(|c| String::from_utf8_lossy(c).contains(arg))
            .count()
    }

    /// The unprivileged path against hostile programs (shell scripts run as the
    /// "student binary"): one test, so that no other run of this binary shares the
    /// orphan sweep or the killing of the dedicated uid's processes.
    #[test]
    fn without_namespaces_the_limits_the_group_kill_and_the_sweep_still_hold() {
        // The unprivileged path, then (when the tests run as root) the path of root
        // on a kernel that refuses namespaces: the dedicated uid, never root.
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        hostile_scripts(false);
        if root {
            hostile_scripts(true);
            a_visible_folder_under_tmp_is_not_covered_by_the_fresh_tmp();
        }
    }

    /// One pass of hostile shell scripts on the path without namespaces, as the
    /// grader's uid or (`switch_uid`) as the dedicated one.
    fn hostile_scripts(switch_uid: bool) {
        let dir = tempfile::tempdir().unwrap();
        // The scripts must be readable by the dedicated uid.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let iso = Isolation {
            full: false,
            switch_uid,
            uid: SANDBOX_UID,
            hidden: Vec::new(),
            visible: Vec::new(),
            note: String::new(),
        };
        let limits = Limits {
            wall: Duration::from_secs(2),
            cpu_seconds: 7,
            memory_bytes: 96 << 20,
            processes: 40,
            file_bytes: 1 << 20,
        };
        let env = [("PATH".to_string(), "/usr/bin:/bin".to_string())];
        let run_script = |name: &str, script: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, script).unwrap();
            run(
                Path::new("/bin/sh"),
                path.to_str().unwrap(),
                "nonce",
                &env,
                &limits,
                &iso,
            )
            .unwrap()
        };
        // The limits as the program sees them, its uid; the working directory is
        // thrown away.
        let out = run_script("limites.sh", "pwd\nid -u\ncat /proc/self/limits\n");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let workdir = PathBuf::from(lines[0]);
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        let expected_uid = if switch_uid { SANDBOX_UID } else { me };
        assert_eq!(
            lines.get(1),
            Some(&expected_uid.to_string().as_str()),
            "{out:?}"
        );
        assert!(!workdir.exists(), "{workdir:?} left behind");
        let limit = |what: &str| -> String {
            let l = lines.iter().find(|l| l.starts_with(what)).unwrap();
            l[what.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(limit("Max cpu time"), "7");
        assert_eq!(limit("Max address space"), (96u64 << 20).to_string());
        assert_eq!(limit("Max file size"), (1u64 << 20).to_string());
        assert_eq!(limit("Max core file size"), "0");
        let nproc: u64 = limit("Max processes").parse().unwrap();
        if switch_uid {
            // The dedicated uid has its own count: the allowance alone.
            assert_eq!(nproc, 40);
        } else {
            let mine = tasks_of(me);
            assert!(
                nproc >= 40 && nproc <= mine + 40 + 16,
                "RLIMIT_NPROC {nproc}, {mine} tasks of uid {me}"
            );
        }

        // An infinite loop: killed at the wall-clock limit.
        let out = run_script("boucle.sh", "while :; do :; done\n");
        assert!(
            out.timed_out && out.elapsed < Duration::from_secs(5),
            "{out:?}"
        );

        // A huge file: stopped at the file-size limit.
        let out = run_script(
            "gros.sh",
            "head -c 50000000 /dev/zero > gros.bin\nls -l gros.bin\n",
        );
        let size: u64 = out
            .stdout
            .split_whitespace()
            .nth(4)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        assert!(size <= 1 << 20, "{out:?}");

        // Runaway memory: the allocation fails at the address-space limit.
        let out = run_script(
            "memoire.sh",
            "x=$(head -c 200000000 /dev/zero | tr '\\0' a)\necho survived ${#x}\n",
        );
        assert!(!out.stdout.contains("survived 200000000"), "{out:?}");

        // A fork bomb, processes in the group, one in its own session, one that
        // outlives its parent: the count is capped (not for root, whom the kernel
        // exempts from RLIMIT_NPROC), and nothing is left afterwards.
        let out = run_script(
            "fourche.sh",
            "setsid sleep 55.5 &\n(sleep 44.4 &) \nn=0\nfor i in $(seq 300); do sleep 33.3 & n=$((n+1)); done 2>/dev/null\njobs -p | wc -l\n",
        );
        let spawned: usize = out
            .stdout
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        if me != 0 || switch_uid {
            assert!(spawned < 300, "fork bomb not capped: {out:?}");
        }
        for arg in ["55.5", "44.4", "33.3"] {
            assert_eq!(
                processes_with(&format!("sleep\0{arg}")),
                0,
                "sleep {arg} left"
            );
        }
        // Nothing is left to reap either (no zombie of the grader).
        assert!(children_of_self().is_empty());
    }

    /// With full isolation, a file of the lab under `/tmp` (a repository cloned
    /// there) stays readable when its folder is among the visible paths, and is
    /// covered by the fresh `/tmp` otherwise (root only: where namespaces exist).
    /// Called from the one test of runs (a run kills every process of the uid).
    fn a_visible_folder_under_tmp_is_not_covered_by_the_fresh_tmp() {
        let dir = tempfile::tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let data = dir.path().join("donnees.txt");
        std::fs::write(&data, "visible\n").unwrap();
        let script = dir.path().join("lire.sh");
        std::fs::write(&script, format!("cat {}\n", data.display())).unwrap();
        let run_with = |visible: Vec<PathBuf>| {
            let iso = Isolation::probe(Vec::new(), visible);
            assert!(iso.full, "{}", iso.note);
            run(
                Path::new("/bin/sh"),
                script.to_str().unwrap(),
                "nonce",
                &[("PATH".to_string(), "/usr/bin:/bin".to_string())],
                &Limits::default(),
                &iso,
            )
            .unwrap()
        };
        let out = run_with(vec![dir.path().to_path_buf()]);
        assert_eq!(out.stdout, "visible\n", "{out:?}");
        let out = run_with(Vec::new());
        assert_eq!(out.stdout, "", "{out:?}");
    }
}
