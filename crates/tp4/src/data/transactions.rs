//! `transactions.csv`: the sales table of the lab (workloads.md), its generator and
//! its reader.
//!
//! Format: header `id,date,city,category,amount,quantity`, then one row per sale:
//! `id` 1..R, a date of 2024, one of 20 French cities, one of 8 categories, an amount
//! with two decimals in [1.00, 500.00) and a quantity in 1..=10. Rows are drawn from
//! one seeded xoshiro256++ stream, so the file is the same byte for byte on every
//! machine, and the first R rows of a bigger file are the file of R rows.

use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The header line of the file.
pub const HEADER: &str = "id,date,city,category,amount,quantity";

/// Seed of the generator: changing it changes every shipped answer.
pub const SEED: u64 = 0x7470_345f_7472_616e; // "tp4_tran"

/// The 20 cities, in the order of workloads.md.
pub const CITIES: [&str; 20] = [
    "Paris",
    "Marseille",
    "Lyon",
    "Toulouse",
    "Nice",
    "Nantes",
    "Montpellier",
    "Strasbourg",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Toulon",
    "Saint-Etienne",
    "Le Havre",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nimes",
    "Clermont-Ferrand",
];

/// The 8 product categories, in the order of workloads.md.
pub const CATEGORIES: [&str; 8] = [
    "alimentation",
    "electronique",
    "vetements",
    "maison",
    "sport",
    "livres",
    "beaute",
    "jouets",
];

/// One sale: a row of `transactions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Row number, from 1.
    pub id: u64,
    /// Date of the sale, `YYYY-MM-DD`, within 2024.
    pub date: String,
    /// City of the shop.
    pub city: String,
    /// Product category.
    pub category: String,
    /// Unit price in euros, two decimals, in [1.00, 500.00).
    pub amount: f64,
    /// Number of units sold, 1..=10.
    pub quantity: u32,
}

impl Transaction {
    /// The amount in integer cents: exact, so that sums do not depend on the order
    /// in which they are done (unlike sums of `f64`).
    pub fn amount_cents(&self) -> i64 {
        (self.amount * 100.0).round() as i64
    }

    /// The line revenue `amount × quantity`, in euros.
    pub fn revenue(&self) -> f64 {
        self.amount * f64::from(self.quantity)
    }

    /// The line revenue in integer cents.
    pub fn revenue_cents(&self) -> i64 {
        self.amount_cents() * i64::from(self.quantity)
    }
}

/// Days in each month of 2024 (a leap year).
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Turns a day of 2024 (0..366) into `(month, day)`, both from 1.
fn month_day(mut day_of_year: u32) -> (u32, u32) {
    for (m, &len) in MONTH_DAYS.iter().enumerate() {
        if day_of_year < len {
            return (m as u32 + 1, day_of_year + 1);
        }
        day_of_year -= len;
    }
    (12, 31)
}

/// Writes the `rows` rows of the table (with its header) to `out`, calling
/// `progress` with the number of rows written every 10_000 rows.
pub fn write_rows(
    out: &mut impl Write,
    rows: u64,
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    writeln!(out, "{HEADER}")?;
    for id in 1..=rows {
        let (month, day) = month_day(rng.random_range(0..366));
        let city = CITIES[rng.random_range(0..CITIES.len())];
        let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let cents: u32 = rng.random_range(100..50_000);
        let quantity: u32 = rng.random_range(1..=10);
        writeln!(
            out,
            "{id},2024-{month:02}-{day:02},{city},{category},{}.{:02},{quantity}",
            cents / 100,
            cents % 100
        )?;
        if id % 10_000 == 0 {
            progress(id);
        }
    }
    progress(rows);
    Ok(())
}

/// Approximate size in bytes of a file of `rows` rows (for disk checks and progress).
pub fn estimated_bytes(rows: u64) -> u64 {
    40 + rows * 47
}

/// Generates `transactions.csv` with `rows` rows at `path`, atomically.
pub fn generate(path: &Path, rows: u64, progress: impl FnMut(u64)) -> Result<()> {
    crate::output::write_atomic(path, |w| write_rows(w, rows, progress))
}

/// Streams the rows of a transactions file, one [`Transaction`] at a time: memory
/// stays constant whatever the size of the file. A malformed row yields an
/// [`Error::Malformed`] naming the file, the line and the field.
pub fn stream(path: &Path) -> Result<impl Iterator<Item = Result<Transaction>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 16)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, e, None))?
        .clone();
    if headers.iter().collect::<Vec<_>>().join(",") != HEADER {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            line: 1,
            field: "en-tête".into(),
            message: format!(
                "en-tête attendu « {HEADER} », trouvé « {} »",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        });
    }
    let path = path.to_path_buf();
    Ok(reader
        .into_deserialize::<Transaction>()
        .map(move |row| row.map_err(|e| csv_error(&path, e, Some(&headers)))))
}

/// Loads every row of a transactions file into memory.
pub fn load(path: &Path) -> Result<Vec<Transaction>> {
    stream(path)?.collect()
}

/// Turns a csv error into a French [`Error::Malformed`] with line and field name.
fn csv_error(path: &Path, e: csv::Error, headers: Option<&csv::StringRecord>) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let (field, message) = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err
                .field()
                .and_then(|i| headers.and_then(|h| h.get(i as usize)))
                .unwrap_or("ligne")
                .to_string();
            (field, format!("valeur invalide ({})", err.kind()))
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            "ligne".to_string(),
            format!("{len} champs au lieu de {expected_len} (format : {HEADER})"),
        ),
        csv::ErrorKind::Utf8 { .. } => {
            ("ligne".to_string(), "texte qui n'est pas de l'UTF-8".into())
        }
        _ => ("ligne".to_string(), e.to_string()),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("lecture de", path, io),
        _ => Error::Malformed {
            path: path.to_path_buf(),
            line,
            field,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_2024() {
        assert_eq!(month_day(0), (1, 1));
        assert_eq!(month_day(59), (2, 29));
        assert_eq!(month_day(365), (12, 31));
    }

    #[test]
    fn generated_rows_parse_back_and_respect_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        generate(&path, 2_000, |_| {}).unwrap();
        let rows = load(&path).unwrap();
        assert_eq!(rows.len(), 2_000);
        for (i, t) in rows.iter().enumerate() {
            assert_eq!(t.id, i as u64 + 1);
            assert!(t.date.starts_with("2024-"));
            assert!(CITIES.contains(&t.city.as_str()));
            assert!(CATEGORIES.contains(&t.category.as_str()));
            assert!((100..50_000).contains(&t.amount_cents()));
            assert!((1..=10).contains(&t.quantity));
        }
    }

    #[test]
    fn prefix_property() {
        let mut small = Vec::new();
        let mut big = Vec::new();
        write_rows(&mut small, 100, |_| {}).unwrap();
        write_rows(&mut big, 1_000, |_| {}).unwrap();
        assert!(big.starts_with(&small));
    }

    #[test]
    fn malformed_row_names_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            format!(
                "{HEADER}\n1,2024-01-01,Paris,sport,12.50,3\n2,2024-01-02,Lyon,sport,douze,3\n"
            ),
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("ligne 3"), "{err}");
        assert!(err.contains("amount"), "{err}");
    }

    #[test]
    fn wrong_header_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let err = load(&path).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("ligne 1") && err.contains("en-tête"), "{err}");
    }
}
