//! Peak heap memory, measured by a tracking global allocator: the counterpart of
//! Python's `memory-profiler`.
//!
//! [`TrackingAllocator`] wraps the system allocator and keeps two atomic counters:
//! the bytes currently allocated and the highest value reached since the last
//! [`reset_peak`]. A program opts in by installing it:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: tp4::alloc::TrackingAllocator = tp4::alloc::TrackingAllocator;
//! ```
//!
//! The `tp4` binary does so. Without it, [`measure_peak`] returns `None` rather than
//! a wrong figure.
//!
//! Cost: one relaxed `fetch_add`/`fetch_sub` per allocation and deallocation, plus a
//! `fetch_max` only when a new peak is reached; no lock. Measured on the lab's 2-core
//! machine (November 2026) with `cargo bench -p tp4 --bench kernels --bench alloc_system
//! -- alloc` (a 64-byte allocate/free pair, one thread, median of divan's samples):
//! 14.5 to 16.6 ns with the tracker against 9 to 12.6 ns for the system allocator
//! alone, so 3 to 5 ns added per pair (the two atomic read-modify-writes). Code that
//! allocates in its hot loop is slowed by up to a third; the
//! lab's workloads allocate outside their hot loops and are not affected measurably.
//!
//! The counters are global: a measurement sees the allocations of every thread of
//! the process, which is what we want for a parallel workload, but two measurements
//! running at the same time see each other's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts the bytes in use and their peak.
pub struct TrackingAllocator;

#[inline]
fn grew(size: usize) {
    let now = CURRENT.fetch_add(size, Relaxed) + size;
    if now > PEAK.load(Relaxed) {
        PEAK.fetch_max(now, Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the same arguments;
// the counters do not affect the memory handed out.
unsafe impl GlobalAlloc for TrackingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` (a layout of non-zero size) is
        // passed on unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`, the caller's contract is passed on unchanged.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with
        // `layout` (the caller's contract), so `System` may free it.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` comes from `System` with `layout` and `new_size` is valid
        // (the caller's contract), passed on unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

/// Whether the tracking allocator is the global allocator of this process.
///
/// Detected by allocating once and looking whether the counter moved.
pub fn is_installed() -> bool {
    if INSTALLED.load(Relaxed) {
        return true;
    }
    let before = PEAK.load(Relaxed).max(CURRENT.load(Relaxed));
    let probe = std::hint::black_box(vec![0u8; 1 << 20]);
    let moved = CURRENT.load(Relaxed) >= (1 << 20) || PEAK.load(Relaxed) > before;
    drop(probe);
    if moved {
        INSTALLED.store(true, Relaxed);
    }
    moved
}

/// Bytes of heap currently allocated (0 if the tracker is not installed).
pub fn current_bytes() -> usize {
    CURRENT.load(Relaxed)
}

/// Starts a new peak measurement from the current usage.
pub fn reset_peak() {
    PEAK.store(CURRENT.load(Relaxed), Relaxed);
}

/// Highest heap usage since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Relaxed)
}

/// Runs `f` and returns its result with the peak of heap bytes it added on top of
/// what was allocated before it started (`None` if the tracker is not installed).
pub fn measure_peak<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    if !is_installed() {
        return (f(), None);
    }
    let base = current_bytes();
    reset_peak();
    let out = f();
    let peak = peak_bytes().saturating_sub(base) as u64;
    (out, Some(peak))
}

/// Formats a number of bytes for a student: "12,3 Mo", "850 ko", "96 o".
pub fn human_bytes(bytes: u64) -> String {
    crate::fr::bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_sees_a_temporary_buffer() {
        // The unit tests of this crate run with the tracker installed (see lib.rs).
        assert!(is_installed());
        let ((), peak) = measure_peak(|| {
            let v = std::hint::black_box(vec![1u8; 8 << 20]);
            drop(v);
        });
        let peak = peak.expect("tracker installed");
        assert!(peak >= 8 << 20, "peak {peak}");
    }

    #[test]
    fn human_bytes_uses_french_units() {
        assert_eq!(human_bytes(12_345_678), "12,3 Mo");
        assert_eq!(human_bytes(850_000), "850 ko");
        assert_eq!(human_bytes(96), "96 o");
    }
}
