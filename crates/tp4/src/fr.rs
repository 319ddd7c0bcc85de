//! French number formats, in one place: every figure a student reads (a duration,
//! a ratio, a byte size, an amount in euros, a count) goes through this module, so
//! that the decimal comma, the thousands separator and the units are the same in the
//! terminal, the report, the plots and the notebook.
//!
//! Conventions: decimal comma (`1,97`), narrow no-break space (U+202F) between
//! groups of three digits (`12 345`), SI units in French (`o`, `ko`, `Mo`, `Go`;
//! `s`, `ms`, `µs`), euros as `1 234,56 €`.

use std::time::Duration;

/// The thousands separator: a narrow no-break space, as French typography wants.
pub const THOUSANDS_SEPARATOR: char = '\u{202f}';

/// `x` with `digits` decimals and a decimal comma: `decimal(1.5, 2)` is `"1,50"`.
pub fn decimal(x: f64, digits: usize) -> String {
    comma(format!("{x:.digits$}"))
}

/// Replaces the decimal point of an already formatted number by a comma (for
/// formats `decimal` does not cover, such as `{:+.1e}` or `{:?}`).
pub fn comma(formatted: String) -> String {
    formatted.replace('.', ",")
}

/// A float with all its significant digits (shortest exact representation) and a
/// decimal comma: `0.1 + 0.2` is `"0,30000000000000004"`.
pub fn full(x: f64) -> String {
    comma(format!("{x:?}"))
}

/// A percentage of a fraction: `percent(0.987, 1)` is `"98,7 %"`.
pub fn percent(fraction: f64, digits: usize) -> String {
    format!("{} %", decimal(100.0 * fraction, digits))
}

/// An integer with French thousands separators: `12 345` (narrow no-break spaces).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(THOUSANDS_SEPARATOR);
        }
        out.push(ch);
    }
    out
}

/// A signed integer with French thousands separators: `-12 345`.
pub fn thousands_signed(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", thousands(n.unsigned_abs()))
}

/// Cents as French euros: `1 234 567,89 €`, `-0,50 €` (exact: integer cents).
pub fn euros(cents: i64) -> String {
    format!("{} €", euros_plain(cents))
}

/// Cents as a French decimal amount without the currency sign nor thousands
/// separators, for CSV files read by a spreadsheet: `1234,56`, `-0,50`.
pub fn euros_plain_ungrouped(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", c / 100, c % 100)
}

/// Cents as a French decimal amount with thousands separators, without `€`.
pub fn euros_plain(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", thousands(c / 100), c % 100)
}

/// Seconds for a table: `"1,234 s"`, `"12,3 ms"`, `"850 µs"`.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{} s", decimal(s, 3))
    } else if s >= 1e-3 {
        format!("{} ms", decimal(s * 1e3, 1))
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// A duration for a table (same format as [`seconds`]).
pub fn duration(d: Duration) -> String {
    seconds(d.as_secs_f64())
}

/// A duration in whole or decimal seconds, as a user would type it: `"2"`, `"1,5"`.
pub fn seconds_plain(d: Duration) -> String {
    comma(d.as_secs_f64().to_string())
}

/// A ratio (speedup, factor) with two decimals: `"1,97"`.
pub fn ratio(x: f64) -> String {
    decimal(x, 2)
}

/// A number of bytes for a student: `"1,23 Go"`, `"12,3 Mo"`, `"850 ko"`, `"96 o"`.
pub fn bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{} Go", decimal(b / 1e9, 2))
    } else if b >= 1e6 {
        format!("{} Mo", decimal(b / 1e6, 1))
    } else if b >= 1e3 {
        format!("{:.0} ko", b / 1e3)
    } else {
        format!("{bytes} o")
    }
}

/// A count and its noun, with French plural agreement: `count(1, "ligne", "lignes")`
/// is `"1 ligne"`, `count(0, …)` is `"0 ligne"` (French singular for 0 and 1).
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    let noun = if n <= 1 { singular } else { plural };
    format!("{} {noun}", thousands(n))
}

/// Characters of an answer shown in a message (a W7 answer holds every word of the
/// corpus: shown whole, one wrong answer could fill a terminal).
pub const ANSWER_CHARS: usize = 300;

/// Characters of a name or a word shown in a table or a message.
pub const NAME_CHARS: usize = 60;

/// `text` cut for display to at most `max` characters (on a character boundary),
/// saying how long it was: `"abcdefghij…" (1 234 567 caractères)`. Shorter texts
/// are returned as they are. What a user reads stays proportionate to what they
/// asked, never to the size of their input.
pub fn cut(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}… ({})", count(n as u64, "caractère", "caractères"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_texts_and_says_how_long_long_ones_were() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("été", 2), "ét… (3 caractères)");
        let long = "x".repeat(100_000);
        let shown = cut(&long, 10);
        assert!(shown.starts_with("xxxxxxxxxx…") && shown.ends_with("000 caractères)"));
        assert!(shown.chars().count() < 40, "{shown}");
    }

    #[test]
    fn decimal_comma_and_groups() {
        assert_eq!(decimal(1.5, 2), "1,50");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands_signed(-1234), "-1\u{202f}234");
        assert_eq!(full(0.1 + 0.2), "0,30000000000000004");
        assert_eq!(percent(0.987, 1), "98,7 %");
    }

    #[test]
    fn euros_keep_the_sign_of_small_negative_amounts() {
        assert_eq!(euros(123_456_789), "1\u{202f}234\u{202f}567,89 €");
        assert_eq!(euros(-50), "-0,50 €");
        assert_eq!(euros_plain_ungrouped(-50), "-0,50");
        assert_eq!(euros_plain_ungrouped(-12_345), "-123,45");
        assert_eq!(euros_plain(0), "0,00");
    }

    #[test]
    fn units() {
        assert_eq!(seconds(1.2345), "1,234 s");
        assert_eq!(seconds(0.0123), "12,3 ms");
        assert_eq!(seconds(0.00085), "850 µs");
        assert_eq!(seconds_plain(Duration::from_millis(1500)), "1,5");
        assert_eq!(bytes(96), "96 o");
        assert_eq!(bytes(850_000), "850 ko");
        assert_eq!(bytes(12_300_000), "12,3 Mo");
        assert_eq!(bytes(1_230_000_000), "1,23 Go");
    }

    #[test]
    fn plural_agreement() {
        assert_eq!(count(0, "ligne", "lignes"), "0 ligne");
        assert_eq!(count(1, "ligne", "lignes"), "1 ligne");
        assert_eq!(count(2, "ligne", "lignes"), "2 lignes");
        assert_eq!(count(12_000, "ligne", "lignes"), "12\u{202f}000 lignes");
    }
}
