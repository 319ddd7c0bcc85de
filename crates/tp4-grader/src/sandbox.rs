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
//! Without root, only the process group, the limits (`RLIMIT_NPROC` excepted: it
//! would count the teacher's own processes) and the throwaway directory apply;
//! `docs/correction.md` says what that leaves open.

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
    /// The limits in one French sentence.
    pub fn describe(&self) -> String {
        format!(
            "{} s de temps réel et {} s de CPU par question, {} Mio de mémoire (espace d'adressage), \
             {} Mio par fichier écrit, {} processus et threads",
            self.wall.as_secs(),
            self.cpu_seconds,
            self.memory_bytes >> 20,
            self.file_bytes >> 20,
            self.processes
        )
    }
}

/// How strongly runs are isolated on this machine.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// Namespaces (network, mounts) and a dedicated uid: only when root and the
    /// kernel allows it (probed once by [`Isolation::probe`]).
    pub full: bool,
    /// The uid the code runs as (when `full`).
    pub uid: u32,
    /// Folders hidden from the code (class folder, grading folder, output folder).
    pub hidden: Vec<PathBuf>,
    /// Why isolation is partial, in French (empty when full).
    pub note: String,
}

/// The uid student code runs as when the grader is root: not a user of the system,
/// owns no file.
pub const SANDBOX_UID: u32 = 64_917;

impl Isolation {
    /// Probes what this machine allows: full isolation when root and a child can
    /// create its own network and mount namespaces.
    pub fn probe(hidden: Vec<PathBuf>) -> Isolation {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let mut iso = Isolation {
            full: false,
            uid: SANDBOX_UID,
            hidden,
            note: String::new(),
        };
        if !root {
            iso.note = "la correction ne tourne pas en root : pas d'espace de noms réseau ni \
                        d'utilisateur dédié, le code des élèves peut lire ce que vous pouvez lire \
                        et ouvrir des connexions"
                .into();
            return iso;
        }
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
        match cmd.status() {
            Ok(s) if s.success() => iso.full = true,
            Ok(_) | Err(_) => {
                iso.note = "le noyau refuse les espaces de noms (unshare) : pas d'isolation du \
                            réseau ni des fichiers ; lancez la correction en root sur une machine \
                            (ou un conteneur --privileged) qui les permet"
                    .into()
            }
        }
        iso
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

/// Sets the limits of the calling process (async-signal-safe).
fn set_limits(l: &Limits, nproc: bool) -> std::io::Result<()> {
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
    if nproc {
        set(libc::RLIMIT_NPROC, l.processes)?;
    }
    Ok(())
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The child's side of a fully isolated run: namespaces, mounts, limits, uid, then
/// `fexecve` of the student's program. Only async-signal-safe calls.
fn enter_sandbox(p: &Prepared, l: &Limits, uid: u32) -> std::io::Result<()> {
    // SAFETY: plain system calls on pointers to NUL-terminated strings prepared
    // before fork; the argv/envp arrays are NULL-terminated.
    unsafe {
        let fd = libc::open(p.binary.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
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
        // The throwaway working directory lives in the fresh /tmp.
        check(libc::mkdir(p.workdir.as_ptr(), 0o700))?;
        check(libc::chown(p.workdir.as_ptr(), uid, uid))?;
        check(libc::chdir(p.workdir.as_ptr()))?;
        set_limits(l, true)?;
        check(libc::setgroups(0, std::ptr::null()))?;
        check(libc::setgid(uid))?;
        check(libc::setuid(uid))?;
        libc::fexecve(fd, p.argv.as_ptr(), p.envp.as_ptr());
        Err(std::io::Error::last_os_error())
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
    if iso.full {
        let mut prepared = Prepared {
            binary: cstr(binary),
            hidden: iso.hidden.iter().map(|p| cstr(p)).collect(),
            scratch: ["/tmp", "/dev/shm", "/var/tmp"]
                .iter()
                .map(|p| cstr(Path::new(p)))
                .collect(),
            workdir: cstr(Path::new("/tmp/copie")),
            prog_args: [cstr(Path::new("copie")), cstr(Path::new(question))].into(),
            env: env
                .iter()
                .map(|(k, v)| CString::new(format!("{k}={v}")).unwrap_or_default())
                .chain([CString::new("HOME=/tmp/copie").unwrap_or_default()])
                .collect(),
            argv: Vec::new(),
            envp: Vec::new(),
        };
        prepared.argv = prepared.prog_args.iter().map(|a| a.as_ptr()).collect();
        prepared.argv.push(std::ptr::null());
        prepared.envp = prepared.env.iter().map(|a| a.as_ptr()).collect();
        prepared.envp.push(std::ptr::null());
        let limits = limits.clone();
        let uid = iso.uid;
        cmd.current_dir("/");
        // SAFETY: enter_sandbox only makes async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(move || enter_sandbox(&prepared, &limits, uid));
        }
    } else {
        let limits = limits.clone();
        cmd.current_dir(scratch_parent.path())
            .env("HOME", scratch_parent.path());
        // SAFETY: set_limits only calls setrlimit.
        unsafe {
            cmd.pre_exec(move || set_limits(&limits, false));
        }
    }
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
    if iso.full {
        for _ in 0..20 {
            if processes_of(iso.uid) == 0 {
                break;
            }
            kill_uid(iso.uid);
        }
    }
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
