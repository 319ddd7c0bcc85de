//! Splitting a file into byte ranges that start and end on line boundaries.
//!
//! This is how parallel readers divide a file without reading it twice: worker `i`
//! takes the nominal range `[i*len/n, (i+1)*len/n)`, then moves both ends forward to
//! just after the next `\n`. Every line then belongs to exactly one range (the one
//! in which it starts), whatever the number of workers. The same idea is used by
//! Hadoop's input splits and by the distributed version of the lab (`tp4 cluster`).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

/// Splits `path` into `n` ranges of roughly equal size, aligned on line starts.
/// `skip_header` excludes the blank lines at the start of the file and the first
/// non-blank line (a CSV header, as `workloads.md` v3 places it: blank lines, empty
/// or only spaces and tabs, may come before it) from every range. Empty ranges are
/// possible when the file has fewer lines than `n`.
pub fn line_ranges(path: &Path, n: usize, skip_header: bool) -> Result<Vec<Range<u64>>> {
    let start = if skip_header {
        after_first_non_blank_line(path)?
    } else {
        0
    };
    line_ranges_from(path, n, start)
}

/// The offset just after the first line that is not blank (a UTF-8 byte-order mark
/// at the start, the LF and the CR of a CRLF set aside; blank = only spaces and
/// tabs), or the file's length if every line is blank.
pub fn after_first_non_blank_line(path: &Path) -> Result<u64> {
    Ok(first_non_blank_line(path, |_, _| Ok(()))?.end)
}

/// Where [`first_non_blank_line`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstLine {
    /// The content of the first line that is not blank (line end and, on the first
    /// line, byte-order mark removed); `None` if every line of the file is blank.
    pub content: Option<Vec<u8>>,
    /// The 1-based number of the last line read: that line's, or the number of lines
    /// of an all-blank file (0 for an empty file).
    pub line: u64,
    /// The offset just after that line's line end (the file's length if none).
    pub end: u64,
}

/// The one scan of the blank lines that may come before a file's first line (the
/// CSV header, as `workloads.md` v3 places it): reads `path` line by line, skipping a
/// UTF-8 byte-order mark at its start, and stops after the first line that is not
/// blank (blank = empty or only spaces and tabs, once the LF and the CR of a CRLF are
/// set aside). `visit` sees the content and line number of every line read, blank or
/// not, and may refuse one (the header's reader refuses a lone CR there). Both the
/// header's reader (`transactions::header`) and the range splitter
/// ([`line_ranges`]) use it, so they agree on where the rows start.
pub fn first_non_blank_line(
    path: &Path,
    mut visit: impl FnMut(&[u8], u64) -> Result<()>,
) -> Result<FirstLine> {
    let file = File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut raw = Vec::new();
    let (mut offset, mut line_no) = (0u64, 0u64);
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| Error::io("lecture de", path, e))?;
        if n == 0 {
            return Ok(FirstLine {
                content: None,
                line: line_no,
                end: offset,
            });
        }
        line_no += 1;
        let mut line = raw
            .strip_suffix(b"\n")
            .map_or(&raw[..], |l| l.strip_suffix(b"\r").unwrap_or(l));
        if offset == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        offset += n as u64;
        visit(line, line_no)?;
        if !line.iter().all(|&b| b == b' ' || b == b'\t') {
            return Ok(FirstLine {
                content: Some(line.to_vec()),
                line: line_no,
                end: offset,
            });
        }
    }
}

/// Splits the bytes of `path` from `start` (a line start) to its end into `n` ranges
/// of roughly equal size, aligned on line starts.
pub fn line_ranges_from(path: &Path, n: usize, start: u64) -> Result<Vec<Range<u64>>> {
    let n = n.max(1);
    let mut file = File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("lecture de", path, e))?
        .len();
    let start = start.min(len);
    let mut bounds = Vec::with_capacity(n + 1);
    bounds.push(start);
    for i in 1..n {
        let nominal = start + (len - start) * i as u64 / n as u64;
        // A line that starts exactly at `nominal` belongs to this new range, so look
        // for the newline that ends the line containing byte `nominal - 1`.
        let b = if nominal == 0 {
            0
        } else {
            next_line_start(&mut file, nominal - 1, len, path)?
        };
        let prev = *bounds.last().expect("bounds is never empty");
        bounds.push(b.max(prev));
    }
    bounds.push(len);
    Ok(bounds.windows(2).map(|w| w[0]..w[1]).collect())
}

/// [`line_ranges`] for bytes already in memory (a mapped file): `n` ranges of roughly
/// equal size, each moved forward to just after the next `\n`, found with memchr.
pub fn line_ranges_of(bytes: &[u8], n: usize) -> Vec<Range<usize>> {
    let n = n.max(1);
    let mut bounds = Vec::with_capacity(n + 1);
    bounds.push(0);
    for i in 1..n {
        let nominal = bytes.len() * i / n;
        let prev = *bounds.last().expect("bounds is never empty");
        let b = match nominal {
            0 => 0,
            _ => memchr::memchr(b'\n', &bytes[nominal - 1..]).map_or(bytes.len(), |p| nominal + p),
        };
        bounds.push(b.max(prev));
    }
    bounds.push(bytes.len());
    bounds.windows(2).map(|w| w[0]..w[1]).collect()
}

/// Offset of the first byte after the first `\n` at or after `from` (or `len`).
fn next_line_start(file: &mut File, from: u64, len: u64, path: &Path) -> Result<u64> {
    if from >= len {
        return Ok(len);
    }
    file.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut skipped = Vec::new();
    let n = reader
        .read_until(b'\n', &mut skipped)
        .map_err(|e| Error::io("lecture de", path, e))?;
    Ok(from + n as u64)
}

/// Reads the bytes of `range` from `path` in blocks of about `block` bytes that end
/// on a line boundary, calling `f` on each block. Memory stays at one block whatever
/// the size of the range.
pub fn for_each_block(
    path: &Path,
    range: Range<u64>,
    block: usize,
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let mut file = File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    file.seek(SeekFrom::Start(range.start))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let mut remaining = range.end.saturating_sub(range.start);
    let mut buf = vec![0u8; block.max(1024)];
    let mut filled = 0usize;
    while remaining > 0 || filled > 0 {
        let want = (buf.len() - filled).min(remaining as usize);
        let got = if want > 0 {
            file.read(&mut buf[filled..filled + want])
                .map_err(|e| Error::io("lecture de", path, e))?
        } else {
            0
        };
        remaining -= got as u64;
        filled += got;
        let at_end = remaining == 0 || got == 0 && want > 0;
        // Hand over everything up to the last newline; keep the partial line.
        let cut = if at_end {
            filled
        } else {
            match buf[..filled].iter().rposition(|&b| b == b'\n') {
                Some(p) => p + 1,
                None => {
                    // A line longer than the buffer: grow it and read on.
                    buf.resize(buf.len() * 2, 0);
                    continue;
                }
            }
        };
        f(&buf[..cut])?;
        buf.copy_within(cut..filled, 0);
        filled -= cut;
        if at_end {
            if filled > 0 {
                f(&buf[..filled])?;
            }
            break;
        }
    }
    Ok(())
}

/// The error to report when a reader that split a file into `ranges` (in file
/// order) and read them at once failed with `e`: the first error of the file, found
/// by reading the ranges again in order with `read`, or `e` itself when every range
/// reads without error (a worker killed or crashed, not a bad line).
///
/// Why: parallel readers (rayon's `try_reduce`, OS processes that a supervisor
/// stops at the first failure) return whichever error came first in time, which may
/// be from a later range than the file's first bad line (a smaller range, a less
/// loaded core). Every path of the lab names the same line (workloads.md v3): the
/// first one a text editor shows. Reading again costs nothing on a good file: it
/// runs only after a failure.
pub fn first_error<T, E>(
    e: E,
    ranges: &[Range<u64>],
    read: impl Fn(Range<u64>) -> std::result::Result<T, E>,
) -> E {
    ranges
        .iter()
        .find_map(|r| read(r.clone()).err())
        .unwrap_or(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    #[test]
    fn in_memory_ranges_match_the_file_ranges() {
        let text = "un\ndeux trois\n\nquatre\ncinq six sept\nhuit";
        let f = file_with(text);
        for n in 1..12 {
            let from_file: Vec<Range<usize>> = line_ranges(f.path(), n, false)
                .unwrap()
                .into_iter()
                .map(|r| r.start as usize..r.end as usize)
                .collect();
            assert_eq!(line_ranges_of(text.as_bytes(), n), from_file, "n = {n}");
        }
        assert_eq!(line_ranges_of(b"", 3), vec![0..0, 0..0, 0..0]);
    }

    fn lines_of(path: &Path, ranges: &[Range<u64>], block: usize) -> Vec<String> {
        let mut out = Vec::new();
        for r in ranges {
            for_each_block(path, r.clone(), block, |b| {
                out.extend(
                    std::str::from_utf8(b)
                        .unwrap()
                        .lines()
                        .map(|s| s.to_string()),
                );
                Ok(())
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn every_line_in_exactly_one_range() {
        let content: String = (0..1000)
            .map(|i| format!("ligne-{i}-{}\n", "x".repeat(i % 37)))
            .collect();
        let f = file_with(&format!("entete\n{content}"));
        let expected: Vec<String> = content.lines().map(String::from).collect();
        for n in [1, 2, 3, 7, 64, 5000] {
            let ranges = line_ranges(f.path(), n, true).unwrap();
            assert_eq!(ranges.len(), n);
            assert_eq!(lines_of(f.path(), &ranges, 1024), expected, "n = {n}");
        }
    }

    #[test]
    fn last_line_without_newline_is_kept() {
        let f = file_with("a b\nc d\ne f");
        let ranges = line_ranges(f.path(), 2, false).unwrap();
        assert_eq!(lines_of(f.path(), &ranges, 1024), vec!["a b", "c d", "e f"]);
    }

    /// On random starts of files (byte-order mark, blank lines of spaces, tabs, CRLF,
    /// then a line or none), the scan stops just after the first line that is not
    /// blank, sees every line before it, and the header's reader (which uses it)
    /// puts the rows at the same offset as the range splitter.
    #[test]
    fn the_first_non_blank_line_is_where_the_header_ends() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let blanks = ["\n", "  \n", "\t\r\n", " \t \n", "\r\n"];
        let header = crate::data::transactions::HEADER;
        for case in 0..200 {
            let mut text = String::new();
            if next(3) == 0 {
                text.push('\u{feff}');
            }
            let blank_lines = next(4);
            for _ in 0..blank_lines {
                text.push_str(blanks[next(blanks.len() as u64) as usize]);
            }
            let with_header = case % 5 != 0;
            let expected_end = if with_header {
                text.push_str(&format!("{}{header}\r\n", " ".repeat(next(2) as usize)));
                text.len() as u64
            } else {
                text.len() as u64
            };
            text.push_str(["1,d,Paris,sport,1.5,2\n", ""][next(2) as usize]);
            let f = file_with(&text);
            let mut seen = Vec::new();
            let first = first_non_blank_line(f.path(), |_, line| {
                seen.push(line);
                Ok(())
            })
            .unwrap();
            assert_eq!(after_first_non_blank_line(f.path()).unwrap(), first.end);
            assert_eq!(seen, (1..=first.line).collect::<Vec<_>>(), "{text:?}");
            if !with_header
                && text
                    .lines()
                    .all(|l| l.trim_matches([' ', '\t', '\r', '\u{feff}']).is_empty())
            {
                assert_eq!(
                    (first.content, first.end),
                    (None, text.len() as u64),
                    "{text:?}"
                );
                continue;
            }
            assert_eq!(first.line, blank_lines + 1, "{text:?}");
            if with_header {
                assert_eq!(first.end, expected_end, "{text:?}");
                let head = crate::data::transactions::header(f.path()).unwrap();
                assert_eq!(
                    (head.rows_start, head.line),
                    (first.end, first.line),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn long_lines_grow_the_buffer() {
        let long = "y".repeat(5000);
        let f = file_with(&format!("{long}\n{long}\n"));
        let ranges = line_ranges(f.path(), 1, false).unwrap();
        assert_eq!(lines_of(f.path(), &ranges, 1024), vec![long.clone(), long]);
    }
}
