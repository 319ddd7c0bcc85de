//! The running totals of the groupby ladder ([`Acc`]): per category and per city,
//! summed unchecked while no total can overflow (a bound kept per block) and checked
//! otherwise, merged by name across workers; and the malformed-row error ([`RowError`]).

// The ladder's shared items (names, totals, readers) are the parent module's.
use super::*;

/// Running totals of part of a file, names interned by `N`.
#[derive(Debug, Default)]
pub struct Acc<N: Names> {
    pub(super) categories: N,
    pub(super) cities: N,
    pub(super) category_cents: Vec<i64>,
    pub(super) category_rows: Vec<u64>,
    pub(super) city_cents: Vec<i64>,
    /// Rows added by the unchecked fast path, each of less than [`PLAIN_CENTS`] cents
    /// in absolute value: while `plain_rows × PLAIN_CENTS + checked_abs` stays under
    /// 2^63, no running total can have left the `i64` range (see [`Acc::unchecked_fits`]).
    pub(super) plain_rows: u64,
    /// The sum of the absolute amounts added by the checked path (saturated).
    pub(super) checked_abs: u64,
    /// Set when a checked sum (the reference path, or [`Acc::merge`]) did not fit.
    pub(super) overflow: bool,
}

impl<N: Names> Acc<N> {
    /// Adds `rows` rows totalling `cents` to a city and a category.
    #[inline(always)]
    pub(super) fn add(&mut self, city: &[u8], category: &[u8], cents: i64, rows: u64) {
        let c = self.categories.index(category);
        let t = self.cities.index(city);
        self.add_indexed(c, t, cents, rows);
    }

    /// Adds `rows` rows totalling `cents` to the category and city of these indices
    /// (a new index is the next one).
    #[inline(always)]
    pub(super) fn add_indexed(&mut self, c: usize, t: usize, cents: i64, rows: u64) {
        if c == self.category_cents.len() {
            self.category_cents.push(0);
            self.category_rows.push(0);
        }
        self.category_cents[c] += cents;
        self.category_rows[c] += rows;
        if t == self.city_cents.len() {
            self.city_cents.push(0);
        }
        self.city_cents[t] += cents;
    }

    /// Adds one row with checked sums (the reference path); refuses it when a total
    /// no longer fits in 64 bits.
    pub(super) fn add_checked(
        &mut self,
        city: &[u8],
        category: &[u8],
        cents: i64,
    ) -> std::result::Result<(), RowError> {
        let c = self.categories.index(category);
        let t = self.cities.index(city);
        self.add_indexed(c, t, 0, 1);
        self.checked_abs = self.checked_abs.saturating_add(cents.unsigned_abs());
        let too_large = |what: &str, name: &[u8]| RowError {
            field: "amount",
            message: crate::data::transactions::total_too_large(&format!(
                "{what} « {} »",
                crate::data::transactions::shown(&String::from_utf8_lossy(name))
            )),
        };
        self.category_cents[c] = self.category_cents[c]
            .checked_add(cents)
            .ok_or_else(|| too_large("de la catégorie", category))?;
        self.city_cents[t] = self.city_cents[t]
            .checked_add(cents)
            .ok_or_else(|| too_large("de la ville", city))?;
        Ok(())
    }

    /// Whether `rows` more rows may be added by the unchecked fast path: while every
    /// row added so far, fast or checked, and these, sum to less than 2^63 in absolute
    /// value, no running total can leave the `i64` range, whatever the order of the
    /// adds, so the unchecked sums are the reference's checked ones (which then never
    /// refuse). Past that, every row must take the checked path, in file order.
    #[inline]
    pub(super) fn unchecked_fits(&self, rows: u64) -> bool {
        let bound = u128::from(self.plain_rows + rows) * u128::from(PLAIN_CENTS)
            + u128::from(self.checked_abs);
        bound < 1 << 63
    }

    /// Merges the totals of another part of the file, by name (the reduce step). The
    /// sums are checked: one that does not fit marks the result, and
    /// [`Acc::checked_totals`] refuses it.
    pub fn merge(mut self, other: Acc<N>) -> Acc<N> {
        let mut overflow = self.overflow || other.overflow;
        for (i, name) in other.categories.names().iter().enumerate() {
            let c = self.categories.index(name);
            if c == self.category_cents.len() {
                self.category_cents.push(0);
                self.category_rows.push(0);
            }
            match self.category_cents[c].checked_add(other.category_cents[i]) {
                Some(v) => self.category_cents[c] = v,
                None => overflow = true,
            }
            self.category_rows[c] += other.category_rows[i];
        }
        for (i, name) in other.cities.names().iter().enumerate() {
            let t = self.cities.index(name);
            if t == self.city_cents.len() {
                self.city_cents.push(0);
            }
            match self.city_cents[t].checked_add(other.city_cents[i]) {
                Some(v) => self.city_cents[t] = v,
                None => overflow = true,
            }
        }
        self.plain_rows += other.plain_rows;
        self.checked_abs = self.checked_abs.saturating_add(other.checked_abs);
        self.overflow = overflow;
        self
    }

    /// The totals of a whole file, exactly as the lab's reader would give them: a
    /// file without rows is refused ([`crate::data::transactions::no_rows`]), and so
    /// is a total (per name, or of the whole file) that does not fit in 64 bits.
    pub fn checked_totals(self, path: &Path) -> Result<Totals> {
        if self.category_rows.iter().sum::<u64>() == 0 {
            return Err(crate::data::transactions::no_rows(path));
        }
        let whole = self
            .category_cents
            .iter()
            .try_fold(0i64, |a, &c| a.checked_add(c));
        if self.overflow || whole.is_none() {
            let what = if self.overflow {
                "d'un nom"
            } else {
                "de tout le fichier"
            };
            return Err(Error::Other(format!(
                "{} : {}",
                path.display(),
                crate::data::transactions::total_too_large(what)
            )));
        }
        Ok(self.totals())
    }

    /// The totals, names sorted by bytes.
    pub fn totals(self) -> Totals {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut categories: Vec<(&[u8], i64, u64)> = self
            .categories
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (&n[..], self.category_cents[i], self.category_rows[i]))
            .collect();
        categories.sort_by(|a, b| a.0.cmp(b.0));
        let mut cities: Vec<(&[u8], i64)> = self
            .cities
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (&n[..], self.city_cents[i]))
            .collect();
        cities.sort_by(|a, b| a.0.cmp(b.0));
        Totals {
            categories: categories
                .into_iter()
                .map(|(n, c, r)| (text(n), c, r))
                .collect(),
            cities: cities.into_iter().map(|(n, c)| (text(n), c)).collect(),
        }
    }
}

/// A malformed row, before it is located in the file.
#[derive(Debug)]
pub struct RowError {
    pub(super) field: &'static str,
    pub(super) message: String,
}

/// The French error of a malformed row at `line`.
pub(super) fn malformed(path: &Path, line: u64, e: RowError) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line,
        field: e.field.into(),
        message: e.message,
    }
}
