//! W4 groupby: stream `transactions.csv` and compute, per category, the total amount
//! and the row count, then the 3 cities with the largest total amount.
//!
//! Amounts are summed in integer cents: exact, so every implementation (sequential,
//! parallel, distributed) finds the same totals whatever the order of the additions.
//! Categories and cities are fixed lists, so the parallel version aggregates into
//! small arrays indexed by position and merges them at the end.

use crate::data::chunks;
use crate::data::transactions::{CATEGORIES, CITIES, HEADER};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::path::Path;

/// Per-category and per-city totals of a transactions file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupBy {
    /// Total amount in cents per category, in the order of [`CATEGORIES`].
    pub category_cents: [i64; 8],
    /// Row count per category, in the order of [`CATEGORIES`].
    pub category_rows: [u64; 8],
    /// Total amount in cents per city, in the order of [`CITIES`].
    pub city_cents: [i64; 20],
}

impl GroupBy {
    /// Adds one row.
    #[inline]
    pub fn add(&mut self, city: usize, category: usize, cents: i64) {
        self.category_cents[category] += cents;
        self.category_rows[category] += 1;
        self.city_cents[city] += cents;
    }

    /// Merges the totals of another part of the file (the reduce step).
    pub fn merge(mut self, other: GroupBy) -> GroupBy {
        for i in 0..8 {
            self.category_cents[i] += other.category_cents[i];
            self.category_rows[i] += other.category_rows[i];
        }
        for i in 0..20 {
            self.city_cents[i] += other.city_cents[i];
        }
        self
    }

    /// Rows read.
    pub fn rows(&self) -> u64 {
        self.category_rows.iter().sum()
    }

    /// Sum of all amounts, in cents.
    pub fn total_cents(&self) -> i64 {
        self.category_cents.iter().sum()
    }

    /// The `n` cities with the largest total (ties: alphabetical order).
    pub fn top_cities(&self, n: usize) -> Vec<(&'static str, i64)> {
        let mut v: Vec<(&'static str, i64)> = CITIES.iter().copied().zip(self.city_cents).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// The per-category rows `(category, cents, rows)`.
    pub fn categories(&self) -> Vec<(&'static str, i64, u64)> {
        (0..8)
            .map(|i| (CATEGORIES[i], self.category_cents[i], self.category_rows[i]))
            .collect()
    }
}

/// Parses an amount "123.45" into cents without going through `f64`.
pub fn parse_cents(s: &[u8]) -> Option<i64> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    if int.is_empty() || frac.len() > 2 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in int {
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let mut f = 0;
    for i in 0..2 {
        f = f * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
    }
    v.checked_mul(100)?.checked_add(f)
}

/// Position of a name in a fixed list.
fn index_of(list: &[&str], name: &[u8]) -> Option<usize> {
    list.iter().position(|c| c.as_bytes() == name)
}

/// A malformed field, located by line.
fn malformed(path: &Path, line: u64, field: &str, message: String) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line,
        field: field.into(),
        message,
    }
}

/// The first 7 fields of a row (7 so that a row with too many fields is noticed),
/// without allocating.
fn first_fields<'a>(it: impl Iterator<Item = &'a [u8]>) -> ([&'a [u8]; 7], usize) {
    let mut fields = [&b""[..]; 7];
    let mut n = 0;
    for f in it.take(7) {
        fields[n] = f;
        n += 1;
    }
    (fields, n)
}

/// Aggregates one row given as its fields; `line` locates errors.
fn add_fields(g: &mut GroupBy, path: &Path, line: u64, fields: &[&[u8]]) -> Result<()> {
    if fields.len() != 6 {
        return Err(malformed(
            path,
            line,
            "ligne",
            format!("{} champs au lieu de 6 (format : {HEADER})", fields.len()),
        ));
    }
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let city = index_of(&CITIES, fields[2]).ok_or_else(|| {
        malformed(
            path,
            line,
            "city",
            format!("ville inconnue « {} »", show(fields[2])),
        )
    })?;
    let category = index_of(&CATEGORIES, fields[3]).ok_or_else(|| {
        malformed(
            path,
            line,
            "category",
            format!("catégorie inconnue « {} »", show(fields[3])),
        )
    })?;
    let cents = parse_cents(fields[4]).ok_or_else(|| {
        malformed(
            path,
            line,
            "amount",
            format!("montant invalide « {} » (attendu : 12.34)", show(fields[4])),
        )
    })?;
    g.add(city, category, cents);
    Ok(())
}

/// Sequential streaming with the csv crate (one reused `ByteRecord`, no allocation
/// per row).
pub fn seq(path: &Path) -> Result<GroupBy> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 16)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| malformed(path, 1, "en-tête", e.to_string()))?;
    if !header.iter().eq(HEADER.split(',').map(str::as_bytes)) {
        return Err(malformed(
            path,
            1,
            "en-tête",
            format!("en-tête attendu « {HEADER} »"),
        ));
    }
    let mut g = GroupBy::default();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let (fields, n) = first_fields(record.iter());
                add_fields(&mut g, path, line, &fields[..n])?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let what = match e.kind() {
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("{len} champs au lieu de 6")
                    }
                    csv::ErrorKind::Io(io) => crate::error::french_io(io),
                    _ => e.to_string(),
                };
                return Err(malformed(
                    path,
                    line,
                    "ligne",
                    format!("{what} (format : {HEADER})"),
                ));
            }
        }
    }
    Ok(g)
}

/// Aggregates one CSV row (without its line end) into `g`; returns `false`, leaving
/// `g` unchanged, if the row is malformed. The hot kernel of [`rayon`] (and of the
/// `cargo bench` micro-benchmarks).
#[inline]
pub fn add_line(g: &mut GroupBy, line: &[u8]) -> bool {
    let (fields, n) = first_fields(line.split(|&b| b == b','));
    add_fields(g, Path::new(""), 0, &fields[..n]).is_ok()
}

/// Aggregates the rows of one byte range with a hand-written splitter: what each
/// parallel worker (thread, process or cluster node) does with its share of the file,
/// the map + combine step (call [`check_header`] first).
pub fn aggregate_range(path: &Path, range: std::ops::Range<u64>) -> Result<GroupBy> {
    let mut g = GroupBy::default();
    let start = range.start;
    let mut offset = start;
    chunks::for_each_block(path, range, 1 << 20, |block| {
        for raw in block.split_inclusive(|&b| b == b'\n') {
            let line = raw.strip_suffix(b"\n").unwrap_or(raw);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() && !add_line(&mut g, line) {
                // Rare path: find the line number for the message.
                let line_no = line_number_at(path, offset)?;
                let (fields, n) = first_fields(line.split(|&b| b == b','));
                add_fields(&mut g, path, line_no, &fields[..n])?;
            }
            offset += raw.len() as u64;
        }
        Ok(())
    })?;
    Ok(g)
}

/// The 1-based line number of the byte at `offset` (counts newlines before it).
fn line_number_at(path: &Path, offset: u64) -> Result<u64> {
    let mut newlines = 0u64;
    chunks::for_each_block(path, 0..offset, 1 << 20, |b| {
        newlines += b.iter().filter(|&&c| c == b'\n').count() as u64;
        Ok(())
    })?;
    Ok(newlines + 1)
}

/// Parallel with rayon over byte ranges of the file split on line boundaries (4
/// ranges per worker for balance); run it inside a pool of `workers` threads.
pub fn rayon(path: &Path, workers: usize) -> Result<GroupBy> {
    check_header(path)?;
    let ranges = chunks::line_ranges(path, workers.max(1) * 4, true)?;
    ranges
        .into_par_iter()
        .map(|r| aggregate_range(path, r))
        .try_reduce(GroupBy::default, |a, b| Ok(a.merge(b)))
}

/// Checks the header line of a transactions file.
pub fn check_header(path: &Path) -> Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let mut first = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut first)
        .map_err(|e| Error::io("lecture de", path, e))?;
    if first.trim_end() != HEADER {
        return Err(malformed(
            path,
            1,
            "en-tête",
            format!(
                "en-tête attendu « {HEADER} », trouvé « {} »",
                first.trim_end()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_parse_exactly() {
        assert_eq!(parse_cents(b"123.45"), Some(12_345));
        assert_eq!(parse_cents(b"1.5"), Some(150));
        assert_eq!(parse_cents(b"7"), Some(700));
        assert_eq!(parse_cents(b"1.234"), None);
        assert_eq!(parse_cents(b"-1.00"), None);
        assert_eq!(parse_cents(b"abc"), None);
    }

    #[test]
    fn seq_and_rayon_agree_with_a_float_free_reference() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        crate::data::transactions::generate(&path, 5_000, |_| {}).unwrap();
        let rows = crate::data::transactions::load(&path).unwrap();
        let mut expected = GroupBy::default();
        for t in &rows {
            let city = CITIES.iter().position(|c| *c == t.city).unwrap();
            let cat = CATEGORIES.iter().position(|c| *c == t.category).unwrap();
            expected.add(city, cat, t.amount_cents());
        }
        assert_eq!(seq(&path).unwrap(), expected);
        for w in [1, 2, 3] {
            assert_eq!(rayon(&path, w).unwrap(), expected);
        }
        assert_eq!(expected.rows(), 5_000);
        assert_eq!(expected.top_cities(3).len(), 3);
    }

    #[test]
    fn add_line_parses_one_row() {
        let mut g = GroupBy::default();
        assert!(add_line(&mut g, b"1,2024-01-01,Lyon,sport,12.34,2"));
        assert_eq!(g.total_cents(), 1234);
        assert!(!add_line(&mut g, b"1,2024-01-01,Lyon,sport,12.34"));
        assert!(!add_line(&mut g, b"1,2024-01-01,Atlantis,sport,1.00,1"));
        assert_eq!(g.rows(), 1);
    }

    #[test]
    fn bad_rows_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            format!("{HEADER}\n1,2024-01-01,Paris,sport,1.00,1\n2,2024-01-01,Paris,sport,1.0x,1\n"),
        )
        .unwrap();
        for err in [seq(&path).unwrap_err(), rayon(&path, 2).unwrap_err()] {
            let msg = err.to_string();
            assert!(
                msg.contains("ligne 3") && msg.contains("amount") && msg.contains("1.0x"),
                "{msg}"
            );
        }
        std::fs::write(
            &path,
            format!("{HEADER}\n1,2024-01-01,Atlantis,sport,1.00,1\n"),
        )
        .unwrap();
        let msg = rayon(&path, 1).unwrap_err().to_string();
        assert!(msg.contains("ligne 2") && msg.contains("Atlantis"), "{msg}");
    }
}
