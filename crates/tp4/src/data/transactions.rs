//! `transactions.csv`: the sales table of the lab (workloads.md), its generator and
//! its reader.
//!
//! Format: header `id,date,city,category,amount,quantity`, then one row per sale:
//! `id` 1..R, a date of 2024, one of 20 French cities, one of 8 categories, an amount
//! with two decimals in [1.00, 500.00) and a quantity in 1..=10. Rows are drawn from
//! one seeded xoshiro256++ stream, so the file is the same byte for byte on every
//! machine, and the first R rows of a bigger file are the file of R rows.
//!
//! # Reading: one grammar, one reader for the whole lab
//! A teacher's own file is read exactly as `workloads.md` v3 says ("transactions.csv,
//! exactly"; `docs/formats.md` explains it in French), by every path of the lab (W4
//! kernels, processes, the main job, the cluster, exercises, and the fast rungs for
//! any line they cannot prove plain) through [`header`], [`line_content`] and
//! [`parse_line`]. The csv crate cannot express "trim, then unquote, then trim", so
//! the reader is hand-written; it implements this grammar:
//! 1. bytes: UTF-8, a byte-order mark at the start skipped, invalid UTF-8 refused
//!    naming its line;
//! 2. lines end at LF or CRLF (the last one may have none); a CR not followed by LF,
//!    anywhere, is refused ([`lone_cr`]); lines are numbered physically from 1, blank
//!    ones included, as a text editor shows them;
//! 3. blank lines (empty, or only spaces and tabs) are skipped wherever they stand;
//! 4. a field is trimmed of spaces and tabs (U+0020, U+0009, nothing else), then
//!    unquoted if it starts with `"` (`""` stands for `"`, commas inside are data, only
//!    spaces and tabs may follow the closing quote, a quote inside an unquoted field
//!    or an unclosed quote is refused), then trimmed again;
//! 5. the first non-blank line is the header, exactly
//!    `id,date,city,category,amount,quantity` (the message shows what differs);
//! 6. a row has 6 fields: `id` and `quantity` decimal digits (u64, u32), `date`,
//!    `city`, `category` non-empty (names kept byte for byte, case included),
//!    `amount` an optional sign, digits, optionally a point and one or two digits,
//!    read into integer cents ([`parse_amount`]);
//! 7. amounts and totals are checked 64-bit integers: one that does not fit is
//!    refused as "trop grand", never wrapped;
//! 8. a file with a header and no row is refused ([`no_rows`]).
//!
//! Every error names the file, the line and the field, in French, and quotes the
//! value cut to about 80 characters.

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
    /// Unit price in euros, two decimals, in [1.00, 500.00) in the generated file
    /// (any amount the grammar accepts in a teacher's file). Kept in `f64` for the
    /// questions about floating point; exact sums use [`Transaction::amount_cents`].
    pub amount: f64,
    /// Number of units sold, 1..=10.
    pub quantity: u32,
    /// The amount in integer cents as read from the file: exact, whereas `amount`
    /// (`cents / 100` in `f64`) is not beyond 2^53 cents. Private so that it always
    /// agrees with `amount`: rows come from the reader or from [`Transaction::new`].
    pub(crate) cents: i64,
}

impl Transaction {
    /// A sale from its fields, the amount in integer cents (`amount` is derived from
    /// it): the constructor for rows that do not come from a file.
    pub fn new(id: u64, date: &str, city: &str, category: &str, cents: i64, quantity: u32) -> Self {
        Transaction {
            id,
            date: date.to_string(),
            city: city.to_string(),
            category: category.to_string(),
            amount: cents as f64 / 100.0,
            quantity,
            cents,
        }
    }

    /// The amount in integer cents: exact, so that sums do not depend on the order
    /// in which they are done (unlike sums of `f64`).
    pub fn amount_cents(&self) -> i64 {
        self.cents
    }

    /// The line revenue `amount × quantity`, in euros.
    pub fn revenue(&self) -> f64 {
        self.amount * f64::from(self.quantity)
    }

    /// The line revenue in integer cents. Every row the reader accepts fits (the
    /// reader refuses a product that does not, see [`SumBound`]); a hand-made row
    /// whose product does not fit is a programming error and panics rather than wrap.
    pub fn revenue_cents(&self) -> i64 {
        self.checked_revenue_cents()
            .expect("montant × quantité hors des entiers de 64 bits (ligne faite à la main)")
    }

    /// The line revenue in integer cents, `None` when it does not fit in 64 bits.
    pub fn checked_revenue_cents(&self) -> Option<i64> {
        self.cents.checked_mul(i64::from(self.quantity))
    }
}

/// The bound that keeps every money sum of the exercises exact: the sum of the
/// sales' revenues and the sum of the refunds' revenues (each revenue counted as
/// `|cents| × max(quantity, 1)`, so that it bounds the amount too) both fit in 64
/// bits. Any total the exercises compute over these rows (revenues or amounts, of
/// any subset, added in any order, in any number of threads) then lies between the
/// two sums at every step: it can never overflow, so students' plain `+` and `sum`
/// are exact. The reader ([`stream`], [`load`]) refuses the line at which one of the
/// two sums stops fitting ("trop grand", workloads.md v3 rule 7); W4's own paths
/// check their totals themselves. The fields are private: a bound starts empty
/// ([`Default`]) and grows only by [`SumBound::add`], so its two sums are always
/// those of rows that were counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SumBound {
    /// Sum of the positive revenues so far.
    sales: i64,
    /// Sum of the negative revenues (refunds) so far, ≤ 0.
    refunds: i64,
}

/// What made a row break the [`SumBound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundError {
    /// `amount × quantity` itself does not fit.
    Product,
    /// The sum of the sales' revenues no longer fits.
    Sales,
    /// The sum of the refunds' revenues no longer fits.
    Refunds,
}

impl SumBound {
    /// Sum of the sales' revenues counted so far (`|cents| × max(quantity, 1)` of
    /// each row with a positive or zero amount), ≥ 0.
    pub fn sales(&self) -> i64 {
        self.sales
    }

    /// Sum of the refunds' revenues counted so far (rows with a negative amount),
    /// ≤ 0.
    pub fn refunds(&self) -> i64 {
        self.refunds
    }

    /// Counts one more row, or says which sum would no longer fit (the bound is
    /// then unchanged).
    pub fn add(&mut self, t: &Transaction) -> std::result::Result<(), BoundError> {
        let weight = t
            .cents
            .checked_mul(i64::from(t.quantity.max(1)))
            .ok_or(BoundError::Product)?;
        if weight >= 0 {
            self.sales = self.sales.checked_add(weight).ok_or(BoundError::Sales)?;
        } else {
            self.refunds = self
                .refunds
                .checked_add(weight)
                .ok_or(BoundError::Refunds)?;
        }
        Ok(())
    }

    /// The bound of `rows`, or the index of the first row that breaks it.
    pub fn of(rows: &[Transaction]) -> std::result::Result<SumBound, (usize, BoundError)> {
        let mut bound = SumBound::default();
        for (i, t) in rows.iter().enumerate() {
            bound.add(t).map_err(|e| (i, e))?;
        }
        Ok(bound)
    }

    /// Whether the same rows repeated `times` times still keep the bound (for the
    /// demonstrations that replicate a table to time it).
    pub fn fits_times(&self, times: u64) -> bool {
        let times = i64::try_from(times).unwrap_or(i64::MAX);
        self.sales.checked_mul(times).is_some() && self.refunds.checked_mul(times).is_some()
    }

    /// The French message of `error` for the row `t`.
    pub fn message(error: BoundError, t: &Transaction) -> String {
        const MAX: &str = "92233720368547758.07";
        match error {
            BoundError::Product => format!(
                "montant × quantité trop grand : {} × {} ne tient pas en centimes dans un \
                 entier signé de 64 bits (au plus {MAX} en valeur absolue) ; le TP calcule \
                 le chiffre d'affaires d'une vente en centimes exacts et refuse plutôt que \
                 de donner un total faux",
                crate::fr::euros(t.cents),
                t.quantity
            ),
            BoundError::Sales | BoundError::Refunds => format!(
                "total trop grand : avec cette ligne, la somme des chiffres d'affaires \
                 (montant × quantité) des {} dépasse {MAX} (le plus grand nombre de \
                 centimes qu'un entier signé de 64 bits peut tenir) ; les exercices \
                 additionnent ces montants en centimes exacts et refusent plutôt que de \
                 donner un total faux",
                if error == BoundError::Sales {
                    "ventes"
                } else {
                    "remboursements (montants négatifs)"
                }
            ),
        }
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
    /// `date` field, as written (trimmed, unquoted).
    pub date: &'a str,
    /// `city` field, trimmed and unquoted (case kept).
    pub city: &'a str,
    /// `category` field, trimmed and unquoted (case kept).
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
            cents: self.cents,
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

/// Names of the six columns, in order (the header's fields).
const COLUMNS: [&str; 6] = ["id", "date", "city", "category", "amount", "quantity"];

/// The column name of field `i` (from 0), or "ligne" past the sixth.
fn column(i: usize) -> &'static str {
    COLUMNS.get(i).copied().unwrap_or("ligne")
}

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not of the form `[-+]digits[.d[d]]`.
    Form,
    /// Of the right form, but more cents than a 64-bit signed integer holds.
    TooLarge,
}

/// Parses an amount into integer cents without going through `f64`: an optional
/// sign, one or more digits, then optionally a point and one or two digits (`12`,
/// `-5.5`, `+499.99`). `.5`, `5.`, `1e3`, `1,50` and three decimals are refused
/// ([`AmountError::Form`]), never rounded; an amount whose cents do not fit in an
/// `i64` is [`AmountError::TooLarge`].
pub fn parse_amount(s: &[u8]) -> std::result::Result<i64, AmountError> {
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &[][..]),
    };
    let has_point = int.len() < s.len();
    if int.is_empty()
        || !int.iter().all(u8::is_ascii_digit)
        || !frac.iter().all(u8::is_ascii_digit)
        || frac.len() > 2
        || has_point && frac.is_empty()
    {
        return Err(AmountError::Form);
    }
    // Leading zeros never overflow; any other digit beyond the 19th does.
    let mut whole: u128 = 0;
    for &d in int {
        whole = whole * 10 + u128::from(d - b'0');
        if whole > u128::from(u64::MAX) {
            return Err(AmountError::TooLarge);
        }
    }
    let mut cents = whole * 100;
    for i in 0..2 {
        let d = frac.get(i).map_or(0, |&d| u128::from(d - b'0'));
        cents += d * if i == 0 { 10 } else { 1 };
    }
    let limit = if negative {
        1u128 << 63
    } else {
        (1u128 << 63) - 1
    };
    if cents > limit {
        return Err(AmountError::TooLarge);
    }
    Ok(if negative {
        (cents as i128).wrapping_neg() as i64
    } else {
        cents as i64
    })
}

/// [`parse_amount`] for text, `None` when refused (either reason).
pub fn parse_cents(s: &str) -> Option<i64> {
    parse_amount(s.as_bytes()).ok()
}

/// Parses a non-empty run of decimal digits (no sign) that fits in a `T`.
fn parse_digits<T: TryFrom<u64>>(s: &str) -> std::result::Result<T, bool> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    let v: u64 = s.parse().map_err(|_| true)?;
    T::try_from(v).map_err(|_| true)
}

/// The message of an integer field that is not digits (`too_large == false`) or
/// does not fit.
fn integer_error(
    field: &'static str,
    what: &str,
    value: &str,
    max: u64,
    too_large: bool,
) -> RowError {
    let message = if too_large {
        format!("{what} trop grand « {} » (au plus {max})", shown(value))
    } else {
        format!(
            "{what} invalide « {} » (attendu : des chiffres décimaux, sans signe ni espace, \
             comme 42)",
            shown(value)
        )
    };
    RowError::new(field, message)
}

/// The message of a total that no longer fits in 64 bits.
pub fn total_too_large(what: &str) -> String {
    format!(
        "total trop grand : la somme des montants {what} dépasse \
         92233720368547758.07 (le plus grand nombre de centimes qu'un entier signé de \
         64 bits peut tenir) ; le TP refuse plutôt que de donner un total faux"
    )
}

/// Checks and converts the six fields of a row (already unquoted and trimmed), as
/// `workloads.md` v3 ("transactions.csv, exactly", step 6) says.
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
    let id = parse_digits::<u64>(fields[0])
        .map_err(|big| integer_error("id", "identifiant", fields[0], u64::MAX, big))?;
    for (i, name, what) in [
        (1, "date", "date"),
        (2, "city", "ville"),
        (3, "category", "catégorie"),
    ] {
        if fields[i].is_empty() {
            return Err(RowError::new(name, format!("{what} vide")));
        }
    }
    let cents = parse_amount(fields[4].as_bytes()).map_err(|e| {
        let message = match e {
            AmountError::Form => format!(
                "montant invalide « {} » (attendu : un signe facultatif, des chiffres, puis \
                 éventuellement un point et une ou deux décimales, comme 12, 12.3, -12.34 \
                 ou +5 ; pas de virgule décimale ni d'exposant)",
                shown(fields[4])
            ),
            AmountError::TooLarge => format!(
                "montant trop grand « {} » : en centimes, il ne tient pas dans un entier \
                 signé de 64 bits (au plus 92233720368547758.07 en valeur absolue)",
                shown(fields[4])
            ),
        };
        RowError::new("amount", message)
    })?;
    let quantity = parse_digits::<u32>(fields[5]).map_err(|big| {
        integer_error("quantity", "quantité", fields[5], u64::from(u32::MAX), big)
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

/// Whether a byte is one of the two characters the grammar trims (space, tab).
#[inline]
fn is_pad(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether a line (without its line end) is blank: empty or only spaces and tabs.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| is_pad(b))
}

/// The content of a physical line given with its line end (`raw` as cut after each
/// LF): the LF removed, then the CR of a CRLF. A CR not followed by LF (a last line
/// ending in CR) stays in the content, where [`parse_line`] refuses it.
#[inline]
pub fn line_content(raw: &[u8]) -> &[u8] {
    match raw.strip_suffix(b"\n") {
        Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
        None => raw,
    }
}

/// The refusal of a lone CR (classic Mac line ends, or a stray CR inside a line).
pub fn lone_cr() -> RowError {
    RowError::new(
        "ligne",
        "retour chariot (CR) seul, sans saut de ligne (LF) après lui : le TP lit les fins de \
         ligne LF ou CRLF (un CR seul est la fin de ligne de l'ancien format Mac) ; \
         réenregistrez le fichier en « CSV UTF-8 » depuis le tableur, ou convertissez-le \
         avec `tr '\\r' '\\n' < ancien.csv > transactions.csv`"
            .into(),
    )
}

/// Where a field's value lies: in the line itself, or (when it held `""`) in the
/// buffer of unescaped values.
#[derive(Debug, Clone, Copy, Default)]
enum Span {
    #[default]
    Empty,
    Line(usize, usize),
    Buf(usize, usize),
}

/// Trims spaces and tabs off `b[start..end]`.
fn trim_span(b: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && is_pad(b[start]) {
        start += 1;
    }
    while end > start && is_pad(b[end - 1]) {
        end -= 1;
    }
    (start, end)
}

/// Splits one line (valid UTF-8, without its line end) into fields, step 4 of the
/// grammar: trim spaces and tabs, unquote (`""` for `"`, commas inside kept), trim
/// again. Calls `push(index, span)` for each field; returns the number of fields.
/// Unescaped values are appended to `buf`.
fn split_spans(
    b: &[u8],
    buf: &mut String,
    mut push: impl FnMut(usize, Span),
) -> std::result::Result<usize, RowError> {
    let n = b.len();
    let mut i = 0;
    let mut count = 0;
    loop {
        while i < n && is_pad(b[i]) {
            i += 1;
        }
        let span = if i < n && b[i] == b'"' {
            let open = i;
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            let close = loop {
                match memchr::memchr(b'"', &b[j..]) {
                    None => {
                        return Err(RowError::new(
                            column(count),
                            format!(
                                "guillemet ouvrant sans guillemet fermant « {} » : une valeur \
                                 entre guillemets doit se fermer sur la même ligne (une ligne \
                                 du fichier = une vente)",
                                shown(&String::from_utf8_lossy(&b[open..]))
                            ),
                        ));
                    }
                    Some(p) if b.get(j + p + 1) == Some(&b'"') => {
                        escaped = true;
                        j += p + 2;
                    }
                    Some(p) => break j + p,
                }
            };
            i = close + 1;
            while i < n && is_pad(b[i]) {
                i += 1;
            }
            if i < n && b[i] != b',' {
                let end = memchr::memchr(b',', &b[i..]).map_or(n, |p| i + p);
                return Err(RowError::new(
                    column(count),
                    format!(
                        "guillemet mal placé dans « {} » : après le guillemet fermant, seuls \
                         des espaces peuvent précéder la virgule ; pour un guillemet dans la \
                         valeur, mettez toute la valeur entre guillemets et doublez-le (\"\")",
                        shown(&String::from_utf8_lossy(&b[open..end]))
                    ),
                ));
            }
            if escaped {
                let from = buf.len();
                let raw = std::str::from_utf8(&b[start..close]).expect("checked UTF-8");
                buf.push_str(&raw.replace("\"\"", "\""));
                let (s, e) = trim_span(buf.as_bytes(), from, buf.len());
                Span::Buf(s, e)
            } else {
                let (s, e) = trim_span(b, start, close);
                Span::Line(s, e)
            }
        } else {
            let end = memchr::memchr(b',', &b[i..]).map_or(n, |p| i + p);
            if memchr::memchr(b'"', &b[i..end]).is_some() {
                return Err(RowError::new(
                    column(count),
                    format!(
                        "guillemet dans un champ sans guillemets « {} » : mettez toute la \
                         valeur entre guillemets et doublez le guillemet (\"\")",
                        shown(&String::from_utf8_lossy(&b[i..end]))
                    ),
                ));
            }
            let (s, e) = trim_span(b, i, end);
            i = end;
            Span::Line(s, e)
        };
        push(count, span);
        count += 1;
        if i < n {
            i += 1; // the comma
        } else {
            return Ok(count);
        }
    }
}

/// The text of a span.
fn span_str<'a>(line: &'a str, buf: &'a str, span: Span) -> &'a str {
    match span {
        Span::Empty => "",
        Span::Line(s, e) => &line[s..e],
        Span::Buf(s, e) => &buf[s..e],
    }
}

/// Checks the bytes of one line (without its line end): UTF-8 and no CR.
fn line_text(line: &[u8]) -> std::result::Result<&str, RowError> {
    if memchr::memchr(b'\r', line).is_some() {
        return Err(lone_cr());
    }
    std::str::from_utf8(line).map_err(|e| {
        RowError::new(
            "ligne",
            format!(
                "texte qui n'est pas de l'UTF-8 (octet 0x{:02X} à la colonne {}) : \
                 réenregistrez le fichier en « CSV UTF-8 »",
                line[e.valid_up_to()],
                e.valid_up_to() + 1
            ),
        )
    })
}

/// Splits one line (without its line end, see [`line_content`]) into its trimmed,
/// unquoted fields (for the header and for tools that show fields). Refuses a lone
/// CR, invalid UTF-8 and malformed quotes.
pub fn split_line(line: &[u8]) -> std::result::Result<Vec<String>, RowError> {
    let text = line_text(line)?;
    let mut buf = String::new();
    let mut spans = Vec::new();
    split_spans(line, &mut buf, |_, s| spans.push(s))?;
    Ok(spans
        .into_iter()
        .map(|s| span_str(text, &buf, s).to_string())
        .collect())
}

/// Parses one data line of the file (without its line end, see [`line_content`]),
/// exactly as `workloads.md` v3 says: the one row reader of the whole lab (seq,
/// rayon, processes, cluster, exercises, and the fast rungs for any line they cannot
/// prove plain). Returns `Ok(None)` for a blank line. `buf` keeps the values that
/// held `""` (reused from line to line, cleared here).
pub fn parse_line<'a>(
    line: &'a [u8],
    buf: &'a mut String,
) -> std::result::Result<Option<Row<'a>>, RowError> {
    if is_blank(line) {
        return Ok(None);
    }
    let text = line_text(line)?;
    buf.clear();
    let mut spans = [Span::Empty; 6];
    let count = split_spans(line, buf, |i, s| {
        if i < 6 {
            spans[i] = s;
        }
    })?;
    let buf: &'a str = buf;
    if count != 6 {
        return Err(RowError::new(
            "ligne",
            format!(
                "{} au lieu de 6 (format : {HEADER})",
                crate::fr::count(count as u64, "champ", "champs")
            ),
        ));
    }
    let fields = spans.map(|s| span_str(text, buf, s));
    parse_fields(&fields).map(Some)
}

/// Checks a header given as its fields (trimmed, unquoted), found on line `line`; the
/// message shows what differs (byte-order mark, spaces, case, order) with invisible
/// characters made visible.
pub fn check_header_fields(path: &Path, line: u64, found: &[&str]) -> Result<()> {
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
        line,
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

/// Where the rows of a file start: what [`header`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Byte offset just after the header line's line end: the first byte of the rows.
    pub rows_start: u64,
    /// Line number of the header (1 unless blank lines come first).
    pub line: u64,
}

/// Finds and checks the header: skips a byte-order mark and the blank lines before
/// it (refusing a lone CR or invalid UTF-8 there, naming the line), checks the first
/// non-blank line's fields, and says where the rows start. Every reader of the lab
/// starts with it, the parallel ones before they cut the rows into ranges.
pub fn header(path: &Path) -> Result<Header> {
    let first =
        crate::data::chunks::first_non_blank_line(path, |content, line| {
            match memchr::memchr(b'\r', content) {
                Some(_) => Err(lone_cr().at(path, line)),
                None => Ok(()),
            }
        })?;
    let line = first.line;
    let Some(content) = first.content else {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            line: line.max(1),
            field: "en-tête".into(),
            message: format!("fichier vide : il faut au moins l'en-tête « {HEADER} » et une vente"),
        });
    };
    let fields = split_line(&content).map_err(|mut e| {
        e.field = "en-tête";
        e.at(path, line)
    })?;
    let found: Vec<&str> = fields.iter().map(String::as_str).collect();
    check_header_fields(path, line, &found)?;
    Ok(Header {
        rows_start: first.end,
        line,
    })
}

/// Reads every row of a transactions file with the lab's reader ([`header`] then
/// [`parse_line`] on each physical line), calling `f` on each with its line number
/// (no allocation per row); `f` may refuse a row (a total that overflows). A file
/// with a header and no row is an error ([`no_rows`]). Returns the number of rows.
pub fn try_for_each_row(
    path: &Path,
    mut f: impl FnMut(&Row<'_>) -> std::result::Result<(), RowError>,
) -> Result<u64> {
    use std::io::{BufRead, Seek};
    let head = header(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    file.seek(std::io::SeekFrom::Start(head.rows_start))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut raw = Vec::new();
    let mut buf = String::new();
    let mut line_no = head.line;
    let mut rows = 0;
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| Error::io("lecture de", path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        match parse_line(line_content(&raw), &mut buf) {
            Ok(Some(row)) => {
                f(&row).map_err(|e| e.at(path, line_no))?;
                rows += 1;
            }
            Ok(None) => {}
            Err(e) => return Err(e.at(path, line_no)),
        }
    }
    if rows == 0 {
        return Err(no_rows(path));
    }
    Ok(rows)
}

/// [`try_for_each_row`] with a callback that accepts every row.
pub fn for_each_row(path: &Path, mut f: impl FnMut(&Row<'_>)) -> Result<u64> {
    try_for_each_row(path, |row| {
        f(row);
        Ok(())
    })
}

/// Streams the rows of a transactions file, one [`Transaction`] at a time: memory
/// stays constant whatever the size of the file. A malformed row yields an
/// [`Error::Malformed`] naming the file, the line and the field; a file with a header
/// and no row yields [`no_rows`]; a row that breaks the [`SumBound`] (its revenue, or
/// the sum of the revenues so far, does not fit in 64 bits) yields a "trop grand"
/// error at its line, so that every sum the exercises do over the rows is exact.
pub fn stream(path: &Path) -> Result<impl Iterator<Item = Result<Transaction>>> {
    use std::io::{BufRead, Seek};
    let head = header(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("lecture de", path, e))?;
    file.seek(std::io::SeekFrom::Start(head.rows_start))
        .map_err(|e| Error::io("lecture de", path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let path = path.to_path_buf();
    let mut raw = Vec::new();
    let mut buf = String::new();
    let mut line_no = head.line;
    let mut rows = 0u64;
    let mut bound = SumBound::default();
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        while !done {
            raw.clear();
            let n = match reader.read_until(b'\n', &mut raw) {
                Ok(n) => n,
                Err(e) => {
                    done = true;
                    return Some(Err(Error::io("lecture de", &path, e)));
                }
            };
            if n == 0 {
                done = true;
                return (rows == 0).then(|| Err(no_rows(&path)));
            }
            line_no += 1;
            match parse_line(line_content(&raw), &mut buf) {
                Ok(Some(row)) => {
                    rows += 1;
                    let t = row.to_transaction();
                    if let Err(e) = bound.add(&t) {
                        done = true;
                        let message = SumBound::message(e, &t);
                        return Some(Err(RowError::new("amount", message).at(&path, line_no)));
                    }
                    return Some(Ok(t));
                }
                Ok(None) => {}
                Err(e) => {
                    done = true;
                    return Some(Err(e.at(&path, line_no)));
                }
            }
        }
        None
    }))
}

/// Loads every row of a transactions file into memory.
pub fn load(path: &Path) -> Result<Vec<Transaction>> {
    stream(path)?.collect()
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
        let mut buf = String::new();
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

    /// Random tables, small amounts or amounts near the 64-bit limit: the bound's
    /// two sums are those of the counted rows (computed in 128 bits), the first row
    /// whose product or prefix sum leaves 64 bits is the one refused, with its
    /// reason, and `fits_times` agrees with the 128-bit products.
    #[test]
    fn sum_bound_is_the_sums_of_its_rows() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x9E37_79B9_7F4A_7C15);
        let mut next = move |n: u64| rng.random_range(0..n);
        let mut refused = std::collections::BTreeSet::new();
        for _ in 0..400 {
            let huge = next(3) == 0;
            let rows: Vec<Transaction> = (0..next(30))
                .map(|i| {
                    let size = if huge { i64::MAX as u64 / 4 } else { 1_000_000 };
                    let cents = next(size) as i64 * if next(3) == 0 { -1 } else { 1 };
                    Transaction::new(i, "2024-01-01", "Paris", "sport", cents, next(11) as u32)
                })
                .collect();
            let (mut sales, mut refunds) = (0i128, 0i128);
            let mut expected = Ok(());
            for (i, t) in rows.iter().enumerate() {
                let weight = i128::from(t.cents) * i128::from(t.quantity.max(1));
                let fits = |x: i128| i64::try_from(x).is_ok();
                let error = if !fits(weight) {
                    Some(BoundError::Product)
                } else if weight >= 0 && !fits(sales + weight) {
                    Some(BoundError::Sales)
                } else if weight < 0 && !fits(refunds + weight) {
                    Some(BoundError::Refunds)
                } else {
                    None
                };
                if let Some(e) = error {
                    expected = Err((i, e));
                    break;
                }
                if weight >= 0 {
                    sales += weight;
                } else {
                    refunds += weight;
                }
            }
            if let Err((_, e)) = expected {
                refused.insert(format!("{e:?}"));
            }
            match (SumBound::of(&rows), expected) {
                (Ok(bound), Ok(())) => {
                    assert_eq!(i128::from(bound.sales()), sales);
                    assert_eq!(i128::from(bound.refunds()), refunds);
                    assert!(bound.sales() >= 0 && bound.refunds() <= 0);
                    for times in [0u64, 1, 2, 7, 1 << 20, u64::MAX] {
                        let k = i128::from(i64::try_from(times).unwrap_or(i64::MAX));
                        let fits =
                            i64::try_from(sales * k).is_ok() && i64::try_from(refunds * k).is_ok();
                        assert_eq!(bound.fits_times(times), fits, "{sales} {refunds} {times}");
                    }
                }
                (got, want) => assert_eq!(got.map(|_| ()), want, "{rows:?}"),
            }
        }
        // The drawn tables reach each of the three refusals.
        assert_eq!(refused.len(), 3, "{refused:?}");
    }
}
