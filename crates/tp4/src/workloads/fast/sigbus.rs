//! A guard against the one way a memory-mapped input can kill the process: another
//! program shortens the file while it is read. A read of a mapped page that now lies
//! past the end of the file raises `SIGBUS`, whose default action kills the process
//! with no message (exit 135). ripgrep accepts that risk; this lab does not, since a
//! student who regenerates the data while a benchmark runs would see a bare crash.
//!
//! The technique (the one of LMDB's and the JVM's mapped readers): a process-wide
//! `SIGBUS` handler, installed once with `sigaction` (`SA_SIGINFO`), and a fixed
//! table of the live mappings. When the faulting address lies inside a registered
//! mapping, the handler maps an anonymous page of zeros over the faulting page
//! (`mmap` with `MAP_FIXED`), marks the mapping as hit and returns: the read that
//! faulted is restarted and reads zeros. The reader then asks its [`Guard`] whether
//! it was hit, and turns that into a French error naming the file
//! ([`crate::error::Error::FileChanged`]). A fault at any other address is not
//! ours: it is handed to the handler that was there before (Rust's stack-overflow
//! handler), or to the default action, so a real bug still stops the process.
//!
//! The handler only reads atomics and calls `mmap`, a plain system call; the table
//! has [`SLOTS`] entries: a mapping that finds no free slot is read unguarded (never
//! the case in this program, which maps at most one file per kernel).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

/// Live mappings the handler can protect at the same time.
pub const SLOTS: usize = 64;

/// One registered mapping: its address range, and whether a page of it faulted.
struct Slot {
    /// Claimed by a live [`Guard`].
    used: AtomicBool,
    /// First byte of the mapping.
    start: AtomicUsize,
    /// Length in bytes; 0 while the slot is being filled or emptied.
    len: AtomicUsize,
    /// A read past the file's end was answered with zeros.
    hit: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // the initial value of each slot
const EMPTY: Slot = Slot {
    used: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    hit: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static INSTALL: Once = Once::new();
/// The page size, read once at installation (the handler cannot call `sysconf`).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

#[cfg(unix)]
static PREVIOUS: std::sync::OnceLock<libc::sigaction> = std::sync::OnceLock::new();

/// The registration of one live mapping: while it lives, a `SIGBUS` in its range
/// is answered with zeros instead of killing the process. Dropping it unregisters
/// the range (before the mapping itself is unmapped).
#[derive(Debug)]
pub struct Guard {
    slot: Option<usize>,
}

impl Guard {
    /// Whether a read of the mapping went past the end of the file (the file was
    /// shortened while mapped): the bytes read there were zeros, not the file's.
    pub fn truncated(&self) -> bool {
        self.slot
            .is_some_and(|i| TABLE[i].hit.load(Ordering::Acquire))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            TABLE[i].len.store(0, Ordering::Release);
            TABLE[i].start.store(0, Ordering::Relaxed);
            TABLE[i].hit.store(false, Ordering::Relaxed);
            TABLE[i].used.store(false, Ordering::Release);
        }
    }
}

/// Registers the mapping of `len` bytes at `start` (installing the handler on the
/// first call). An empty mapping, a full table or a handler that cannot be
/// installed give a guard that protects nothing (the previous behaviour).
pub fn register(start: *const u8, len: usize) -> Guard {
    if len == 0 || !install() {
        return Guard { slot: None };
    }
    for (i, s) in TABLE.iter().enumerate() {
        if s.used
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            s.hit.store(false, Ordering::Relaxed);
            s.start.store(start as usize, Ordering::Relaxed);
            s.len.store(len, Ordering::Release);
            return Guard { slot: Some(i) };
        }
    }
    Guard { slot: None }
}

/// Installs the handler once; `false` where it could not be (not Unix, or
/// `sigaction` failed).
fn install() -> bool {
    #[cfg(unix)]
    {
        INSTALL.call_once(|| {
            // SAFETY: sysconf has no precondition; sigaction is given a zeroed
            // struct filled with a valid handler, an empty mask and SA_SIGINFO.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                    let _ = PREVIOUS.set(previous);
                }
            }
        });
        PREVIOUS.get().is_some()
    }
    #[cfg(not(unix))]
    {
        let _ = (&INSTALL, &PAGE);
        false
    }
}

/// The `SIGBUS` handler: zeros over a faulting page of a registered mapping, else
/// the previous handler or the default action (the process stops as before).
#[cfg(unix)]
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for s in &TABLE {
        let len = s.len.load(Ordering::Acquire);
        let start = s.start.load(Ordering::Relaxed);
        if len != 0 && addr >= start && addr - start < len {
            let at = addr & !(page - 1);
            // SAFETY: the page lies inside a live private read-only mapping of a
            // file, registered by its owner; replacing it by zeros changes only the
            // bytes that mapping reads, which its owner then reports as invalid.
            let p = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                s.hit.store(true, Ordering::Release);
                return;
            }
        }
    }
    chain(sig, info, ctx);
}

/// Hands a fault that is not ours to the handler installed before this one, or
/// restores the default action so that the faulting read, restarted, stops the
/// process with `SIGBUS` as it would have without this module.
#[cfg(unix)]
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let previous = PREVIOUS.get();
    let handler = previous.map_or(libc::SIG_DFL, |p| p.sa_sigaction);
    if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
        let siginfo = previous.is_some_and(|p| p.sa_flags & libc::SA_SIGINFO != 0);
        // SAFETY: the previous action's handler, called with the arguments the
        // kernel gave us, in the form its flags declare.
        unsafe {
            if siginfo {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(handler);
                f(sig, info, ctx);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                f(sig);
            }
        }
        return;
    }
    // SAFETY: a zeroed sigaction with SIG_DFL is the default action.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut());
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_read_past_a_shortened_file_gives_zeros_and_marks_the_guard() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let page = 4096;
        std::fs::write(&path, vec![7u8; 4 * page]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a test mapping of a file this test owns.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let guard = register(map.as_ptr(), map.len());
        assert_eq!(map[3 * page], 7);
        assert!(!guard.truncated());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(page as u64)
            .unwrap();
        // The first page is still the file's; the others are past its end.
        assert_eq!(std::hint::black_box(&map[..])[10], 7);
        let sum: u64 = std::hint::black_box(&map[..])[page..]
            .iter()
            .map(|&b| b as u64)
            .sum();
        assert_eq!(sum, 0);
        assert!(guard.truncated());
        drop(guard);
        drop(map);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"x").unwrap();
    }

    #[test]
    fn slots_are_reused_and_a_new_guard_starts_clean() {
        let data = [1u8; 16];
        let guards: Vec<Guard> = (0..SLOTS).map(|_| register(data.as_ptr(), 16)).collect();
        let extra = register(data.as_ptr(), 16);
        drop(guards);
        let again = register(data.as_ptr(), 16);
        assert!(again.slot.is_some());
        assert!(!again.truncated() && !extra.truncated());
    }
}
