//! `transactions.csv`: the sales table of the lab (workloads.md), its generator and
//! its reader.
//!
//! Format: header `id,date,city,category,amount,quantity`, then one row per sale:
//! `id` 1..R, a date of 2024, one of 20 French cities, one of 8 categories, an amount
//! with two decimals in [1.00, 500.00) and a quantity in 1..=10. Rows are drawn from
//! one seeded xoshiro256++ stream, so the file is the same byte for byte on every
//! machine, and the first R rows of a bigger file are the file of R rows.
//!
//! # Reading: one reader for the whole lab
//! A teacher's own file is read as a spreadsheet user expects (`workloads.md`, "Users'
//! own files"), by every path of the lab (W4 kernels, processes, the main job, the
//! cluster, exercises) through [`reader_builder`], [`parse_line`] and [`parse_fields`]:
//! - a UTF-8 byte-order mark at the start is skipped;
//! - fields may be quoted as in RFC 4180 (`"Paris"`, commas inside quotes, `""` for a
//!   quote), but a line end inside quotes is refused: one line is one sale (the
//!   parallel readers cut the file on line ends);
//! - CRLF or LF line ends; empty lines are skipped;
//! - fields are trimmed of surrounding spaces and tabs; names keep their case
//!   (`paris` and `Paris` are two cities) and may be any UTF-8, any number of them;
//! - the header must be `id,date,city,category,amount,quantity` (after trimming); the
//!   message shows what differs (case, spaces, order) with invisible characters
//!   escaped;
//! - `amount` is read into integer cents: an optional sign (refunds are negative),
//!   digits, at most two decimals after a point; `1.005` is refused, never rounded;
//!   `id` and `quantity` are non-negative integers;
//! - a file with a header and no row is an error that says so ([`no_rows`]);
//! - every error names the file, the line and the field, in French, and quotes the
//!   value cut to about 80 characters.

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

/// The reading rules of every transactions file of the lab, in one place (see the
/// module doc): the csv crate configured once.
pub fn reader_builder() -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.buffer_capacity(1 << 16)
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true);
    b
}

/// Longest value quoted in an error message, in characters.
const SHOWN_CHARS: usize = 80;

/// A value as shown in an error message: invisible characters escaped, cut to about
/// 80 characters.
pub fn shown(value: &str) -> String {
    let escaped: String = value.escape_debug().collect();
    if escaped.chars().count() > SHOWN_CHARS {
        let cut: String = escaped.chars().take(SHOWN_CHARS).collect();
        format!("{cut}… ({} caractères)", value.chars().count())
    } else {
        escaped
    }
}

/// One row of a transactions file, borrowed from the line it was read from: what
/// every reader of the lab (W4 kernels, exercises, the cluster) extracts from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// `id` field.
    pub id: u64,
    /// `date` field, as written.
    pub date: &'a str,
    /// `city` field, trimmed (case kept).
    pub city: &'a str,
    /// `category` field, trimmed (case kept).
    pub category: &'a str,
    /// `amount` in integer cents (negative for a refund).
    pub cents: i64,
    /// `quantity` field.
    pub quantity: u32,
}

impl Row<'_> {
    /// The owned [`Transaction`] of this row.
    pub fn to_transaction(&self) -> Transaction {
        Transaction {
            id: self.id,
            date: self.date.to_string(),
            city: self.city.to_string(),
            category: self.category.to_string(),
            amount: self.cents as f64 / 100.0,
            quantity: self.quantity,
        }
    }
}

/// What is wrong with a row: the field name and the French message (no path, no line:
/// the caller adds them with [`RowError::at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Name of the faulty field, or "ligne".
    pub field: &'static str,
    /// What is wrong and what was expected.
    pub message: String,
}

impl RowError {
    fn new(field: &'static str, message: String) -> RowError {
        RowError { field, message }
    }

    /// The located error of the lab.
    pub fn at(self, path: &Path, line: u64) -> Error {
        Error::Malformed {
            path: path.to_path_buf(),
            line,
            field: self.field.into(),
            message: self.message,
        }
    }
}

/// Parses an amount into integer cents without going through `f64`: an optional
/// sign, digits, then optionally a point and one or two decimals (`12`, `-5.5`,
/// `499.99`). More than two decimals is refused (`None`), never rounded.
pub fn parse_cents(s: &str) -> Option<i64> {
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || frac.len() > 2 || !digits(int) || !digits(frac) {
        return None;
    }
    if s.contains('.') && frac.is_empty() {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let mut f = 0;
    for i in 0..2 {
        f = f * 10 + frac.as_bytes().get(i).map_or(0, |&d| i64::from(d - b'0'));
    }
    let v = whole.checked_mul(100)?.checked_add(f)?;
    Some(if negative { -v } else { v })
}

/// Checks and converts the six fields of a row (already unquoted and trimmed).
pub fn parse_fields<'a>(fields: &[&'a str]) -> std::result::Result<Row<'a>, RowError> {
    if fields.len() != 6 {
        return Err(RowError::new(
            "ligne",
            format!(
                "{} au lieu de 6 (format : {HEADER})",
                crate::fr::count(fields.len() as u64, "champ", "champs")
            ),
        ));
    }
    if let Some(f) = fields.iter().find(|f| f.contains(['\n', '\r'])) {
        return Err(RowError::new(
            "ligne",
            format!(
                "fin de ligne à l'intérieur d'un champ entre guillemets « {} » : une ligne \
                 du fichier doit contenir une vente entière",
                shown(f)
            ),
        ));
    }
    let id = fields[0].parse().map_err(|_| {
        RowError::new(
            "id",
            format!(
                "identifiant invalide « {} » (attendu : un entier positif)",
                shown(fields[0])
            ),
        )
    })?;
    for (i, name, what) in [(2, "city", "ville"), (3, "category", "catégorie")] {
        if fields[i].is_empty() {
            return Err(RowError::new(name, format!("{what} vide")));
        }
    }
    let cents = parse_cents(fields[4]).ok_or_else(|| {
        RowError::new(
            "amount",
            format!(
                "montant invalide « {} » (attendu : un nombre avec au plus deux décimales \
                 après un point, comme 12.34 ou -5.00)",
                shown(fields[4])
            ),
        )
    })?;
    let quantity = fields[5].parse().map_err(|_| {
        RowError::new(
            "quantity",
            format!(
                "quantité invalide « {} » (attendu : un entier positif)",
                shown(fields[5])
            ),
        )
    })?;
    Ok(Row {
        id,
        date: fields[1],
        city: fields[2],
        category: fields[3],
        cents,
        quantity,
    })
}

/// Trims spaces and tabs around a field.
fn trim(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Parses one line of the file (without its line end) as the csv reader of
/// [`reader_builder`] would, for the readers that cut the file into byte ranges (the
/// parallel kernels, processes and cluster nodes). Returns `Ok(None)` for a blank
/// line. A line without a quote is split on commas directly; a line with one goes
/// through the csv crate. `buf` keeps the unquoted fields of such a line.
pub fn parse_line<'a>(
    line: &'a [u8],
    buf: &'a mut csv::StringRecord,
) -> std::result::Result<Option<Row<'a>>, RowError> {
    if line.is_empty() {
        return Ok(None);
    }
    let text = std::str::from_utf8(line)
        .map_err(|_| RowError::new("ligne", "texte qui n'est pas de l'UTF-8".into()))?;
    let mut fields = [""; 7];
    let mut n = 0;
    if !line.contains(&b'"') {
        for f in text.split(',').take(7) {
            fields[n] = trim(f);
            n += 1;
        }
        return parse_fields(&fields[..n]).map(Some);
    }
    let mut reader = reader_builder().has_headers(false).from_reader(line);
    match reader.read_record(buf) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => return Err(RowError::new("ligne", e.to_string())),
    }
    let record: &'a csv::StringRecord = buf;
    for f in record.iter().take(7) {
        fields[n] = f;
        n += 1;
    }
    parse_fields(&fields[..n]).map(Some)
}

/// Checks a header given as its trimmed fields; the message shows what differs
/// (byte-order mark, spaces, case, order) with invisible characters made visible.
pub fn check_header_fields(path: &Path, found: &[&str]) -> Result<()> {
    let expected: Vec<&str> = HEADER.split(',').collect();
    if found == expected.as_slice() {
        return Ok(());
    }
    let mut diffs = Vec::new();
    if found.len() != expected.len() {
        diffs.push(format!(
            "{} au lieu de 6",
            crate::fr::count(found.len() as u64, "colonne", "colonnes")
        ));
    }
    for (i, (f, e)) in found.iter().zip(&expected).enumerate() {
        if f != e {
            let hint = if f.eq_ignore_ascii_case(e) {
                " (majuscules)"
            } else if f.trim_start_matches('\u{feff}') == *e {
                " (marque d'ordre des octets en double)"
            } else {
                ""
            };
            diffs.push(format!(
                "colonne {} : « {} » au lieu de « {e} »{hint}",
                i + 1,
                shown(f)
            ));
        }
    }
    Err(Error::Malformed {
        path: path.to_path_buf(),
        line: 1,
        field: "en-tête".into(),
        message: format!(
            "en-tête attendu « {HEADER} », trouvé « {} » — {}",
            shown(&found.join(",")),
            diffs.join(" ; ")
        ),
    })
}

/// The error of a file that holds its header and no row: every path says so rather
/// than reporting totals of zero.
pub fn no_rows(path: &Path) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line: 2,
        field: "ligne".into(),
        message: "aucune vente après l'en-tête : le fichier ne contient que l'en-tête".into(),
    }
}

/// Refuses a file whose lines end with a lone CR (the line end of classic Mac OS,
/// still offered by some spreadsheets as "CSV Macintosh"): the csv crate would read
/// its rows, but the readers that cut the file at its LF bytes (parallel kernels,
/// processes, cluster, the optimisation ladder) would see a single line. Looks at the
/// end of the header line only (one read of the first 4 KiB).
pub fn check_line_ends(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let end = head.iter().position(|&b| b == b'\r' || b == b'\n');
    match end {
        Some(i) if head[i] == b'\r' && head.get(i + 1).is_some_and(|&b| b != b'\n') => {
            Err(Error::Malformed {
                path: path.to_path_buf(),
                line: 1,
                field: "en-tête".into(),
                message: "les lignes finissent par un CR seul (ancien format Mac) : le TP lit \
                          les fins de ligne LF ou CRLF ; réenregistrez le fichier en « CSV \
                          UTF-8 » depuis le tableur, ou convertissez-le avec \
                          `tr '\\r' '\\n' < ancien.csv > transactions.csv`"
                    .into(),
            })
        }
        _ => Ok(()),
    }
}

/// Opens a transactions file with the lab's reader and checks its header (and that
/// its lines do not end with a lone CR, see [`check_line_ends`]).
pub fn open(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    check_line_ends(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = reader_builder().from_reader(file);
    let headers = reader.headers().map_err(|e| csv_error(path, e))?;
    let found: Vec<&str> = headers.iter().collect();
    check_header_fields(path, &found)?;
    Ok(reader)
}

/// Reads every row of a transactions file with the lab's reader, calling `f` on each
/// (no allocation per row). A file with a header and no row is an error
/// ([`no_rows`]). Returns the number of rows.
pub fn for_each_row(path: &Path, mut f: impl FnMut(&Row<'_>)) -> Result<u64> {
    let mut reader = open(path)?;
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields: Vec<&str> = record.iter().collect();
                let row = parse_fields(&fields).map_err(|e| e.at(path, line))?;
                f(&row);
                rows += 1;
            }
            Err(e) => return Err(csv_error(path, e)),
        }
    }
    if rows == 0 {
        return Err(no_rows(path));
    }
    Ok(rows)
}

/// Streams the rows of a transactions file, one [`Transaction`] at a time: memory
/// stays constant whatever the size of the file. A malformed row yields an
/// [`Error::Malformed`] naming the file, the line and the field; a file with a header
/// and no row yields [`no_rows`].
pub fn stream(path: &Path) -> Result<impl Iterator<Item = Result<Transaction>>> {
    let reader = open(path)?;
    let path = path.to_path_buf();
    let mut rows = 0u64;
    let mut done = false;
    let mut records = reader.into_records();
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        match records.next() {
            None => {
                done = true;
                (rows == 0).then(|| Err(no_rows(&path)))
            }
            Some(Err(e)) => {
                done = true;
                Some(Err(csv_error(&path, e)))
            }
            Some(Ok(record)) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields: Vec<&str> = record.iter().collect();
                rows += 1;
                let row = parse_fields(&fields).map(|r| r.to_transaction());
                if row.is_err() {
                    done = true;
                }
                Some(row.map_err(|e| e.at(&path, line)))
            }
        }
    }))
}

/// Loads every row of a transactions file into memory.
pub fn load(path: &Path) -> Result<Vec<Transaction>> {
    stream(path)?.collect()
}

/// Turns a csv error into a French [`Error::Malformed`] naming the line.
fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(1);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "texte qui n'est pas de l'UTF-8".to_string(),
        _ => e.to_string(),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("lecture de", path, io),
        _ => Error::Malformed {
            path: path.to_path_buf(),
            line,
            field: "ligne".into(),
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

    fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn spreadsheet_exports_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "\u{feff}id,date,city,category,amount,quantity\r\n\
             1,2024-01-01,\"Saint-Étienne\",\"a, b\",-5.00,1\r\n\r\n\
             2, 2024-01-02 , paris ,sport,12.5,2",
        );
        let rows = load(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].city, "Saint-Étienne");
        assert_eq!(rows[0].category, "a, b");
        assert_eq!(rows[0].amount_cents(), -500);
        assert_eq!(rows[1].city, "paris");
        assert_eq!(rows[1].amount_cents(), 1250);
        let mut buf = csv::StringRecord::new();
        let line = "1,2024-01-01,\"Saint-Étienne\",\"a, b\",-5.00,1";
        let row = parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        assert_eq!(
            (row.city, row.category, row.cents),
            ("Saint-Étienne", "a, b", -500)
        );
    }

    #[test]
    fn amounts_are_exact_cents_or_refused() {
        assert_eq!(parse_cents("123.45"), Some(12_345));
        assert_eq!(parse_cents("1.5"), Some(150));
        assert_eq!(parse_cents("7"), Some(700));
        assert_eq!(parse_cents("-5.00"), Some(-500));
        assert_eq!(parse_cents("1.005"), None);
        assert_eq!(parse_cents("1."), None);
        assert_eq!(parse_cents("abc"), None);
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            &format!("{HEADER}\n1,2024-01-01,Paris,sport,1.005,3\n"),
        );
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("ligne 2") && err.contains("amount") && err.contains("1.005"),
            "{err}"
        );
    }

    #[test]
    fn header_only_and_header_differences_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, &format!("{HEADER}\r\n"));
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("que l'en-tête"), "{err}");
        let path = write(&dir, "id,date,City,category,amount,quantity\n1,a,b,c,1,1\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("« City » au lieu de « city » (majuscules)"),
            "{err}"
        );
        let long = "x".repeat(500);
        let path = write(&dir, &format!("{HEADER}\n1,a,b,c,{long},1\n"));
        let err = load(&path).unwrap_err().to_string();
        assert!(err.len() < 400 && err.contains("500 caractères"), "{err}");
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
