//! W4 groupby: stream `transactions.csv` and compute, per category, the total amount
//! and the row count, then the 3 cities with the largest total amount.
//!
//! Amounts are summed in integer cents: exact, so every implementation (sequential,
//! parallel, distributed) finds the same totals whatever the order of the additions.
//! Categories and cities are the names found in the file (any UTF-8, any number of
//! them, case kept), read by the lab's one reader ([`crate::data::transactions`]).
//! While a part of the file is read, names are interned once in a small hash map
//! keyed by bytes (a name already seen costs one lookup, no allocation); the parts
//! are merged by name at the end.

use crate::data::chunks;
use crate::data::transactions::{self, Row, RowError};
use crate::error::Result;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;

/// Per-category and per-city totals of a transactions file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupBy {
    /// Per category present in the file: (total in cents, rows), sorted by name.
    pub categories: BTreeMap<String, (i64, u64)>,
    /// Per city present in the file: total in cents, sorted by name.
    pub cities: BTreeMap<String, i64>,
    /// The first total that no longer fitted in an `i64` while adding or merging
    /// (its French description), if any: [`GroupBy::checked`] turns it into the
    /// "trop grand" error. The sums are checked, never wrapped.
    pub overflow: Option<String>,
}

impl GroupBy {
    /// Adds one row (checked sums: an overflow is recorded in [`GroupBy::overflow`]).
    pub fn add(&mut self, city: &str, category: &str, cents: i64) {
        let c = self.categories.entry(category.to_string()).or_default();
        add_checked(
            &mut c.0,
            cents,
            &mut self.overflow,
            "de la catégorie",
            category,
        );
        c.1 += 1;
        let t = self.cities.entry(city.to_string()).or_default();
        add_checked(t, cents, &mut self.overflow, "de la ville", city);
    }

    /// Merges the totals of another part of the file (the reduce step; checked sums).
    pub fn merge(mut self, other: GroupBy) -> GroupBy {
        if self.overflow.is_none() {
            self.overflow = other.overflow;
        }
        for (name, (cents, rows)) in other.categories {
            let c = self.categories.entry(name.clone()).or_default();
            add_checked(
                &mut c.0,
                cents,
                &mut self.overflow,
                "de la catégorie",
                &name,
            );
            c.1 += rows;
        }
        for (name, cents) in other.cities {
            let t = self.cities.entry(name.clone()).or_default();
            add_checked(t, cents, &mut self.overflow, "de la ville", &name);
        }
        self
    }

    /// These totals, or the "trop grand" error of the first total (or of the sum of
    /// all amounts) that did not fit in 64 bits.
    pub fn checked(self, path: &Path) -> Result<GroupBy> {
        let mut overflow = self.overflow.clone();
        if overflow.is_none()
            && self
                .categories
                .values()
                .try_fold(0i64, |a, c| a.checked_add(c.0))
                .is_none()
        {
            overflow = Some(transactions::total_too_large("de tout le fichier"));
        }
        match overflow {
            None => Ok(self),
            Some(message) => Err(crate::error::Error::Other(format!(
                "{} : {message}",
                path.display()
            ))),
        }
    }

    /// Rows read.
    pub fn rows(&self) -> u64 {
        self.categories.values().map(|c| c.1).sum()
    }

    /// Sum of all amounts, in cents (saturated if it does not fit: [`GroupBy::checked`]
    /// refuses such totals first).
    pub fn total_cents(&self) -> i64 {
        self.categories
            .values()
            .fold(0i64, |a, c| a.saturating_add(c.0))
    }

    /// The `n` cities with the largest total (ties: alphabetical by bytes); only
    /// cities of the file, so fewer than `n` when the file has fewer.
    pub fn top_cities(&self, n: usize) -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = self.cities.iter().map(|(k, &c)| (k.clone(), c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
        v.truncate(n);
        v
    }

    /// The per-category rows `(category, cents, rows)`, sorted by name.
    pub fn categories(&self) -> Vec<(String, i64, u64)> {
        self.categories
            .iter()
            .map(|(k, &(c, r))| (k.clone(), c, r))
            .collect()
    }

    /// The whole answer as in `workloads.md`: `{"total_cents", "categories":
    /// [[name, cents, rows]…], "top_cities": [[name, cents]…]}` (top 3).
    pub fn answer_json(&self) -> serde_json::Value {
        serde_json::json!({
            "total_cents": self.total_cents(),
            "categories": self.categories(),
            "top_cities": self.top_cities(3),
        })
    }

    /// One line of text for a worker process to send back: JSON of both maps.
    pub fn encode(&self) -> String {
        serde_json::json!({"categories": self.categories, "cities": self.cities}).to_string()
    }

    /// Reads back [`GroupBy::encode`]; `None` if the text is not such a line.
    pub fn decode(text: &[u8]) -> Option<GroupBy> {
        #[derive(serde::Deserialize)]
        struct Wire {
            categories: BTreeMap<String, (i64, u64)>,
            cities: BTreeMap<String, i64>,
        }
        let w: Wire = serde_json::from_slice(text).ok()?;
        Some(GroupBy {
            categories: w.categories,
            cities: w.cities,
            overflow: None,
        })
    }
}

/// Totals of one part of the file with names interned by bytes: the hot accumulator
/// of the range readers, turned into a [`GroupBy`] once per part.
#[derive(Debug, Default)]
struct Acc {
    categories: FxHashMap<Box<str>, (i64, u64)>,
    cities: FxHashMap<Box<str>, i64>,
}

impl Acc {
    /// Adds one row; refuses it when a total no longer fits in 64 bits.
    #[inline]
    fn add(&mut self, row: &Row<'_>) -> std::result::Result<(), RowError> {
        let too_large = |what: &str, name: &str| RowError {
            field: "amount",
            message: transactions::total_too_large(&format!(
                "{what} « {} »",
                transactions::shown(name)
            )),
        };
        match self.categories.get_mut(row.category) {
            Some(c) => {
                c.0 =
                    c.0.checked_add(row.cents)
                        .ok_or_else(|| too_large("de la catégorie", row.category))?;
                c.1 += 1;
            }
            None => {
                self.categories.insert(row.category.into(), (row.cents, 1));
            }
        }
        match self.cities.get_mut(row.city) {
            Some(c) => {
                *c = c
                    .checked_add(row.cents)
                    .ok_or_else(|| too_large("de la ville", row.city))?;
            }
            None => {
                self.cities.insert(row.city.into(), row.cents);
            }
        }
        Ok(())
    }

    fn into_groupby(self) -> GroupBy {
        GroupBy {
            categories: self
                .categories
                .into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect(),
            cities: self
                .cities
                .into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect(),
            overflow: None,
        }
    }
}

/// Adds `cents` to `total`, recording the first overflow in `overflow` (the total is
/// then left as it was).
fn add_checked(total: &mut i64, cents: i64, overflow: &mut Option<String>, what: &str, name: &str) {
    match total.checked_add(cents) {
        Some(t) => *total = t,
        None => {
            if overflow.is_none() {
                *overflow = Some(transactions::total_too_large(&format!(
                    "{what} « {} »",
                    transactions::shown(name)
                )));
            }
        }
    }
}

/// Parses an amount "123.45" into cents without going through `f64` (the lab's rule:
/// [`transactions::parse_cents`]).
pub fn parse_cents(s: &[u8]) -> Option<i64> {
    transactions::parse_cents(std::str::from_utf8(s).ok()?)
}

/// Sequential streaming with the lab's csv reader (one reused record).
pub fn seq(path: &Path) -> Result<GroupBy> {
    let mut acc = Acc::default();
    transactions::try_for_each_row(path, |row| acc.add(row))?;
    acc.into_groupby().checked(path)
}

/// Aggregates one CSV row (without its line end) into `g`; returns `false`, leaving
/// `g` unchanged, if the row is malformed (a blank line is accepted and adds
/// nothing). The `cargo bench` micro-benchmarks use it.
pub fn add_line(g: &mut GroupBy, line: &[u8]) -> bool {
    let mut buf = String::new();
    match transactions::parse_line(line, &mut buf) {
        Ok(Some(row)) => {
            g.add(row.city, row.category, row.cents);
            true
        }
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Aggregates the rows of one line-aligned byte range of the file with the lab's
/// reader ([`transactions::parse_line`]): what each parallel worker (thread, process
/// or cluster node) does with its share of the rows, the map + combine step. Exact on
/// its own for any range that starts after the header ([`transactions::header`]) and
/// on a line start: errors name the line counted from the start of the file.
pub fn aggregate_range(path: &Path, range: std::ops::Range<u64>) -> Result<GroupBy> {
    let mut acc = Acc::default();
    let mut buf = String::new();
    let mut offset = range.start;
    chunks::for_each_block(path, range, 1 << 20, |block| {
        for raw in block.split_inclusive(|&b| b == b'\n') {
            let result = match transactions::parse_line(transactions::line_content(raw), &mut buf) {
                Ok(Some(row)) => acc.add(&row),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                // Rare path: find the line number for the message.
                return Err(e.at(path, line_number_at(path, offset)?));
            }
            offset += raw.len() as u64;
        }
        Ok(())
    })?;
    Ok(acc.into_groupby())
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

/// The byte ranges of the rows of a transactions file for `n` parallel readers:
/// the header found and checked ([`transactions::header`], which skips the blank
/// lines before it), then the rest cut on line starts ([`chunks::line_ranges`]).
pub fn row_ranges(path: &Path, n: usize) -> Result<Vec<std::ops::Range<u64>>> {
    let head = transactions::header(path)?;
    chunks::line_ranges_from(path, n, head.rows_start)
}

/// Parallel with rayon over byte ranges of the file split on line boundaries (4
/// ranges per worker for balance); run it inside a pool of `workers` threads.
pub fn rayon(path: &Path, workers: usize) -> Result<GroupBy> {
    let ranges = row_ranges(path, workers.max(1) * 4)?;
    let g = ranges
        .clone()
        .into_par_iter()
        .map(|r| aggregate_range(path, r))
        .try_reduce(GroupBy::default, |a, b| Ok(a.merge(b)))
        .map_err(|e| chunks::first_error(e, &ranges, |r| aggregate_range(path, r)))?;
    non_empty(path, g)
}

/// The totals, or the error of a file with a header and no row
/// ([`transactions::no_rows`]), or the "trop grand" error of a total that did not fit
/// ([`GroupBy::checked`]): for the readers that merge parts of the file.
pub fn non_empty(path: &Path, g: GroupBy) -> Result<GroupBy> {
    if g.rows() == 0 {
        Err(transactions::no_rows(path))
    } else {
        g.checked(path)
    }
}

/// Checks the header of a transactions file with the lab's reader
/// ([`transactions::header`]: byte-order mark, blank lines before it, quotes and
/// spaces as everywhere else).
pub fn check_header(path: &Path) -> Result<()> {
    transactions::header(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::transactions::HEADER;

    #[test]
    fn seq_and_rayon_agree_with_a_float_free_reference() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        crate::data::transactions::generate(&path, 5_000, |_| {}).unwrap();
        let rows = crate::data::transactions::load(&path).unwrap();
        let mut expected = GroupBy::default();
        for t in &rows {
            expected.add(&t.city, &t.category, t.amount_cents());
        }
        assert_eq!(seq(&path).unwrap(), expected);
        for w in [1, 2, 3] {
            assert_eq!(rayon(&path, w).unwrap(), expected);
        }
        assert_eq!(expected.rows(), 5_000);
        assert_eq!(expected.top_cities(3).len(), 3);
        assert_eq!(
            GroupBy::decode(expected.encode().as_bytes()),
            Some(expected)
        );
    }

    #[test]
    fn users_names_refunds_and_no_padding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "\u{feff}id,date,city,category,amount,quantity\r\n\
             1,2024-01-01,\"Saint-Étienne\",jardin,10.00,1\r\n\
             2,2024-01-01,paris,jardin,-2.50,1\r\n\
             3,2024-01-01, Saint-Étienne ,\"thé, café\",1.5,1",
        )
        .unwrap();
        for g in [seq(&path).unwrap(), rayon(&path, 2).unwrap()] {
            assert_eq!(g.total_cents(), 900);
            assert_eq!(
                g.top_cities(3),
                vec![
                    ("Saint-Étienne".to_string(), 1150),
                    ("paris".to_string(), -250)
                ]
            );
            assert_eq!(
                g.categories(),
                vec![
                    ("jardin".to_string(), 750, 2),
                    ("thé, café".to_string(), 150, 1)
                ]
            );
        }
    }

    #[test]
    fn add_line_parses_one_row() {
        let mut g = GroupBy::default();
        assert!(add_line(&mut g, b"1,2024-01-01,Lyon,sport,12.34,2"));
        assert_eq!(g.total_cents(), 1234);
        assert!(!add_line(&mut g, b"1,2024-01-01,Lyon,sport,12.34"));
        assert!(add_line(&mut g, b"1,2024-01-01,Atlantis,sport,1.00,1"));
        assert_eq!(g.rows(), 2);
    }

    #[test]
    fn bad_rows_and_empty_files_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            format!(
                "{HEADER}\n1,2024-01-01,Paris,sport,1.00,1\n2,2024-01-01,Paris,sport,1.005,1\n"
            ),
        )
        .unwrap();
        for err in [seq(&path).unwrap_err(), rayon(&path, 2).unwrap_err()] {
            let msg = err.to_string();
            assert!(
                msg.contains("ligne 3") && msg.contains("amount") && msg.contains("1.005"),
                "{msg}"
            );
        }
        std::fs::write(&path, format!("{HEADER}\n")).unwrap();
        for err in [seq(&path).unwrap_err(), rayon(&path, 2).unwrap_err()] {
            assert!(err.to_string().contains("que l'en-tête"), "{err}");
        }
    }
}
