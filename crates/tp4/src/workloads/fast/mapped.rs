//! The parallel skeleton of the top rungs of W4 and W7: the file mapped into memory
//! (`mmap`, the memmap2 crate, as ripgrep does), cut into many line-aligned ranges
//! that the workers take one at a time from a shared counter, each worker folding its
//! ranges into its own accumulator, the accumulators merged at the end.
//!
//! Why each piece (measured on this 2-core machine, see the W4 and W7 modules):
//! - mapped, not read: `read` copies the file from the page cache into a buffer
//!   (12 % of W7's time, 20 % of W4's under `perf`); a mapping reads it in place;
//! - many ranges (32 per worker) handed out by a counter: a worker slowed down by
//!   another program on its core takes fewer of them, and they all finish together;
//! - the calling thread is one of the workers: no pool to start, no thread waiting;
//! - each range's pages released by the worker that counted them ([`release`]):
//!   tearing a 100 MB mapping down took 8.5 ms in one `munmap` at the end, alone on
//!   one core; released range by range, that work is shared by the workers.

use crate::data::chunks;
use crate::error::{Error, Result};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Ranges per worker: enough that the workers finish together, few enough that each
/// costs nothing but a `memchr` for its line end and one `madvise`.
pub const RANGES_PER_WORKER: usize = 32;

/// A file mapped read-only into memory, guarded against a change during the read
/// ([`super::sigbus`]): it reads as a byte slice; [`Mapped::check`], called once
/// the bytes are used, says whether they were the file's.
///
/// What the mapped readers assume (documented for users in
/// `docs/fichiers-projetes.md`): nobody writes the file while it is read. If
/// another program shortens it, the pages past its new end read as zeros (instead
/// of the `SIGBUS` that would kill the process) and `check` reports the file as
/// truncated; if it is rewritten in place, its size or modification time differ
/// at the end and `check` reports it too. Either way the caller returns
/// [`Error::FileChanged`], exit 1, never a signal death.
#[derive(Debug)]
pub struct Mapped {
    // Field order matters: the guard is unregistered before the mapping goes.
    guard: super::sigbus::Guard,
    map: memmap2::Mmap,
    file: std::fs::File,
    path: std::path::PathBuf,
    /// Size and modification time when mapped.
    stamp: (u64, Option<std::time::SystemTime>),
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Mapped {
    /// [`Error::FileChanged`] if the file was shortened while mapped (a page past
    /// its end was read) or if its size or modification time changed since it was
    /// mapped; `Ok` when the bytes read were the file's.
    pub fn check(&self) -> Result<()> {
        let how = if self.guard.truncated() {
            Some("tronqué")
        } else {
            match self.file.metadata() {
                Ok(m) if stamp(&m) != self.stamp => Some(if m.len() < self.stamp.0 {
                    "tronqué"
                } else {
                    "réécrit : taille ou date modifiée"
                }),
                Ok(_) => None,
                Err(e) => return Err(Error::io("lecture de", &self.path, e)),
            }
        };
        match how {
            Some(how) => Err(Error::FileChanged {
                path: self.path.clone(),
                how: how.to_string(),
            }),
            None => Ok(()),
        }
    }
}

/// Size and modification time of a file's metadata.
fn stamp(m: &std::fs::Metadata) -> (u64, Option<std::time::SystemTime>) {
    (m.len(), m.modified().ok())
}

/// A read-only view of the whole file, guarded against a change during the read
/// (see [`Mapped`]), with a French error (memmap2 maps an empty file as an empty
/// slice).
pub fn map(path: &Path) -> Result<Mapped> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let before = file
        .metadata()
        .map_err(|e| Error::io("lecture de", path, e))?;
    // SAFETY: the map is read-only and private to this value. If another program
    // shortens the file while it is read, the SIGBUS of a read past its end is
    // caught by the guard registered below (zeros read, the change reported by
    // `check`); the mapping is private, so no write of ours reaches the file.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io("lecture de", path, e))?;
    let guard = super::sigbus::register(map.as_ptr(), map.len());
    Ok(Mapped {
        guard,
        map,
        file,
        path: path.to_path_buf(),
        stamp: stamp(&before),
    })
}

/// Drops this process's view of the whole pages of `range` in `map` (`madvise`
/// `MADV_DONTNEED`), once they are counted: the file stays in the page cache, only
/// the page-table entries go. Timed on W7 (2 workers, 100 MB), the final `munmap`
/// took 8.5 ms of a 90 ms run; released range by range, the run is 3 to 5 ms faster
/// (median of 21 runs, interleaved, three times). Pages shared with the next range
/// are kept. Without `madvise` (not Unix), nothing is done.
pub fn release(map: &Mapped, range: Range<usize>) {
    #[cfg(unix)]
    {
        const PAGE: usize = 4096;
        let (start, end) = (range.start.next_multiple_of(PAGE), range.end / PAGE * PAGE);
        if start < end {
            // SAFETY: the map is a private, read-only view of a file: after
            // `MADV_DONTNEED`, a read of these pages maps the file's bytes again, so
            // no reader ever sees other bytes. Failing only costs the saving.
            let _ = unsafe {
                map.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }
    #[cfg(not(unix))]
    let _ = (map, range);
}

/// The smallest mapping whose ranges [`over_ranges`] releases as it goes. Each
/// `madvise` of a process with several threads interrupts the other cores to flush
/// their address translations (`smp_call_function_many_cond`, 5 % of W7's samples
/// under `perf` on the 1 MB corpus, 2 workers), while unmapping a small mapping at
/// the end costs little.
pub const RELEASE_FROM: usize = 16 << 20;

/// Folds the bytes of `map` from `start` on, cut into line-aligned ranges, on
/// `workers` threads (the calling thread is one of them): each worker starts from
/// `init()`, calls `work(&mut acc, range)` for each range it takes, then releases
/// the range's pages (mappings of [`RELEASE_FROM`] bytes or more); the accumulators
/// are merged by `merge`.
///
/// The file is checked once the workers are done ([`Mapped::check`]): a change
/// during the read is the error returned, before any error of `work` (which may
/// come from the zeros read past a shortened file's end).
///
/// On an error, the workers take no further range, and the error returned is the one
/// of the earliest range that failed: ranges are handed out in file order, so every
/// earlier range was already taken and is finished; the error is the same whatever
/// the number of workers (for W4, the first bad line of the file).
pub fn over_ranges<A: Send>(
    map: &Mapped,
    start: usize,
    workers: usize,
    init: impl Fn() -> A + Sync,
    work: impl Fn(&mut A, Range<usize>) -> Result<()> + Sync,
    merge: impl Fn(A, A) -> A,
) -> Result<A> {
    let workers = workers.max(1);
    let start = start.min(map.len());
    let ranges: Vec<Range<usize>> =
        chunks::line_ranges_of(&map[start..], workers * RANGES_PER_WORKER)
            .into_iter()
            .map(|r| r.start + start..r.end + start)
            .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failed: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let worker = || {
        let mut acc = init();
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(r) = ranges.get(i) else { break };
            if let Err(e) = work(&mut acc, r.clone()) {
                stop.store(true, Ordering::Relaxed);
                let mut first = failed.lock().unwrap_or_else(|p| p.into_inner());
                if first.as_ref().is_none_or(|(j, _)| i < *j) {
                    *first = Some((i, e));
                }
                break;
            }
            if map.len() >= RELEASE_FROM {
                release(map, r.clone());
            }
        }
        acc
    };
    let accs: Vec<A> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..workers).map(|_| scope.spawn(worker)).collect();
        let mine = worker();
        let mut accs: Vec<A> = others
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        accs.push(mine);
        accs
    });
    // A file changed during the read explains any other error (zeros read).
    map.check()?;
    if let Some((_, e)) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(accs.into_iter().reduce(merge).unwrap_or_else(init))
}

/// Cuts `bytes` (whole lines) into blocks of about `size` bytes that end on a line
/// end. W4 parses a range block by block because its one-window-per-line reader
/// hands the rest of a block to a slower reader after a line of 64 bytes or more:
/// a block bounds how much one odd line slows down.
pub fn line_blocks(bytes: &[u8], size: usize) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let end = match bytes.get(pos + size..) {
            Some(rest) => memchr::memchr(b'\n', rest).map_or(bytes.len(), |p| pos + size + p + 1),
            None => bytes.len(),
        };
        let block = (pos, &bytes[pos..end]);
        pos = end;
        Some(block)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(bytes: &[u8]) -> (tempfile::TempDir, Mapped) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, bytes).unwrap();
        let map = map(&path).unwrap();
        (dir, map)
    }

    #[test]
    fn released_pages_read_back_the_file() {
        let bytes: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("w{i}\n").into_bytes())
            .collect();
        let (_dir, text) = mapped(&bytes);
        assert!(text[..] == bytes[..]);
        // A range with whole pages inside and ragged ends, then one with none.
        release(&text, 1000..bytes.len() - 3000);
        release(&text, 5..4000);
        assert!(text[..] == bytes[..], "the file's bytes after release");
    }

    #[test]
    fn every_line_is_folded_once_after_start() {
        let bytes: Vec<u8> = (0..30_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let (_dir, text) = mapped(&bytes);
        let start = 6; // after "0\n1\n2\n"
        for workers in [1, 2, 3, 8] {
            let sum = over_ranges(
                &text,
                start,
                workers,
                || 0u64,
                |acc, r| {
                    for line in text[r].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        *acc += std::str::from_utf8(line).unwrap().parse::<u64>().unwrap();
                    }
                    Ok(())
                },
                |a, b| a + b,
            )
            .unwrap();
            assert_eq!(sum, (3..30_000u64).sum::<u64>(), "workers = {workers}");
        }
        let (_dir, empty) = mapped(b"");
        let add = |acc: &mut usize, r: Range<usize>| {
            *acc += r.len();
            Ok(())
        };
        let n = over_ranges(&empty, 0, 2, || 0, add, |a, b| a + b);
        assert_eq!(n.unwrap(), 0);
    }

    #[test]
    fn the_earliest_failing_range_gives_the_error() {
        let bytes: Vec<u8> = (0..30_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let (_dir, text) = mapped(&bytes);
        for workers in [1, 2, 4] {
            let err = over_ranges(
                &text,
                0,
                workers,
                || (),
                |_, r| {
                    // Every range from a third of the file on fails, naming its start.
                    match r.start > bytes.len() / 3 {
                        true => Err(Error::InvalidParameter(r.start.to_string())),
                        false => Ok(()),
                    }
                },
                |_, _| (),
            )
            .unwrap_err();
            let ranges = chunks::line_ranges_of(&bytes, workers * RANGES_PER_WORKER);
            let first = ranges.iter().find(|r| r.start > bytes.len() / 3).unwrap();
            assert!(err.to_string().contains(&first.start.to_string()), "{err}");
        }
    }

    /// Lines `0\n1\n…` of about `bytes` bytes; their count.
    fn numbered_lines(bytes: usize) -> (Vec<u8>, u64) {
        let mut text = Vec::with_capacity(bytes + 16);
        let mut n = 0u64;
        while text.len() < bytes {
            text.extend_from_slice(format!("{n}\n").as_bytes());
            n += 1;
        }
        (text, n)
    }

    fn count_lines(
        text: &Mapped,
        workers: usize,
        on_range: &(dyn Fn(usize) + Sync),
    ) -> Result<u64> {
        over_ranges(
            text,
            0,
            workers,
            || 0u64,
            |acc, r| {
                on_range(r.start);
                *acc += memchr::memchr_iter(b'\n', &text[r]).count() as u64;
                Ok(())
            },
            |a, b| a + b,
        )
    }

    /// The property of finding 1 of issue 24: a file shortened while its mapping is
    /// read (at random moments, to random lengths, from the reading worker itself or
    /// from another thread) gives the French error naming the file, never SIGBUS
    /// (which would stop this test process), never a wrong count.
    #[test]
    fn a_file_shortened_during_the_read_is_an_error_not_a_signal() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(24);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lignes.txt");
        let (bytes, lines) = numbered_lines(3 << 20);
        let (mut changed, mut whole) = (0, 0);
        for round in 0..40 {
            std::fs::write(&path, &bytes).unwrap();
            let text = map(&path).unwrap();
            let cut = rng.random_range(0..bytes.len() as u64);
            let shorten = || {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_len(cut).unwrap();
            };
            let got = if round % 2 == 0 {
                // From a worker, when it takes a chosen range.
                let at = rng.random_range(0..bytes.len());
                let done = AtomicBool::new(false);
                count_lines(&text, 2, &|start| {
                    if start >= at && !done.swap(true, Ordering::SeqCst) {
                        shorten();
                    }
                })
            } else {
                // From another thread, after a random delay.
                let delay = std::time::Duration::from_micros(rng.random_range(0..3000));
                std::thread::scope(|s| {
                    s.spawn(|| {
                        std::thread::sleep(delay);
                        shorten();
                    });
                    count_lines(&text, 2, &|_| {})
                })
            };
            match got {
                Ok(n) => {
                    assert_eq!(n, lines, "round {round}: a count must be the whole file's");
                    whole += 1;
                }
                Err(e) => {
                    let msg = e.to_string();
                    assert!(
                        matches!(e, Error::FileChanged { .. }),
                        "round {round}: {msg}"
                    );
                    assert!(msg.contains(&path.display().to_string()), "{msg}");
                    assert!(msg.contains("a changé pendant la lecture"), "{msg}");
                    changed += 1;
                }
            }
        }
        assert!(
            changed >= 20,
            "changes seen: {changed}, whole counts: {whole}"
        );
    }

    #[test]
    fn a_file_rewritten_in_place_is_reported_by_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, b"abc\n").unwrap();
        let text = map(&path).unwrap();
        assert!(text.check().is_ok());
        std::fs::write(&path, b"abcdefgh\n").unwrap();
        let err = text.check().unwrap_err().to_string();
        assert!(err.contains("réécrit") && err.contains("f.txt"), "{err}");
    }

    #[test]
    fn line_blocks_cover_the_bytes_on_line_ends() {
        let bytes = b"aa\nbbbb\nc\ndddddd\ne";
        for size in [1, 2, 4, 100] {
            let blocks: Vec<(usize, &[u8])> = line_blocks(bytes, size).collect();
            let joined: Vec<u8> = blocks.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            assert_eq!(joined, bytes);
            for (at, b) in &blocks[..blocks.len() - 1] {
                assert!(b.ends_with(b"\n") && b.len() >= size.min(b.len()));
                assert_eq!(&bytes[*at..*at + b.len()], *b);
            }
        }
        assert_eq!(line_blocks(b"", 4).count(), 0);
    }
}
