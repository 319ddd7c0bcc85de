//! Rung 2 (`bytes`), the hand-written line reader: line ends and commas found with
//! memchr, fields trimmed, amounts parsed to cents; a line holding a quote goes through
//! a small RFC 4180 splitter. Every faster rung falls back to it (or to the reference)
//! for the lines it does not handle itself.

// The ladder's shared items (names, totals, readers) are the parent module's.
use super::*;

/// A field without its surrounding spaces and tabs.
#[inline(always)]
pub(super) fn trim(f: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = f.iter().position(|b| !is_space(b)).unwrap_or(f.len());
    let end = f
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &f[start..end]
}

/// Parses an amount "-123.45", "7", "1.5" into cents (at most two decimals) without
/// going through `f64`.
pub fn parse_cents(s: &[u8]) -> Option<i64> {
    // The lab's one rule (sign included): the plain kernel's parser.
    crate::workloads::groupby::parse_cents(s)
}

/// The error of a row that does not have 6 fields.
pub(super) fn field_count_error(n: usize) -> RowError {
    // The plain kernel's words ("1 champ", "2 champs"); the split stops counting
    // after the seventh field.
    let count = match n {
        0..=6 => crate::fr::count(n as u64, "champ", "champs"),
        _ => "plus de 6 champs".to_string(),
    };
    RowError {
        field: "ligne",
        message: format!("{count} au lieu de 6 (format : {HEADER})"),
    }
}

/// Aggregates a row given as its 6 untrimmed fields.
#[inline(always)]
pub(super) fn add_row<N: Names>(
    acc: &mut Acc<N>,
    fields: &[&[u8]; 6],
) -> std::result::Result<(), RowError> {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let amount = trim(fields[4]);
    let cents = parse_cents(amount).ok_or_else(|| RowError {
        field: "amount",
        message: format!(
            "montant invalide « {} » (attendu : 12.34 ou -12.34, au plus deux décimales)",
            show(amount)
        ),
    })?;
    let (city, category) = (trim(fields[2]), trim(fields[3]));
    for (name, field, what) in [(city, "city", "ville"), (category, "category", "catégorie")] {
        if name.is_empty() {
            return Err(RowError {
                field,
                message: format!("{what} vide"),
            });
        }
    }
    acc.add(city, category, cents, 1);
    Ok(())
}

/// Splits a line without quotes on its commas into `out`; returns the number of
/// fields (7 for "more than 6").
#[inline(always)]
pub(super) fn split_plain<'a>(line: &'a [u8], out: &mut [&'a [u8]; 6]) -> usize {
    let mut n = 0;
    let mut start = 0;
    while let Some(c) = memchr(b',', &line[start..]) {
        if n == 5 {
            return 7;
        }
        out[n] = &line[start..start + c];
        n += 1;
        start += c + 1;
    }
    out[n] = &line[start..];
    n + 1
}

/// Splits a line holding quotes into its fields, RFC 4180: a field that starts (after
/// spaces) with `"` runs to the next lone `"`, `""` inside stands for `"`, commas
/// inside are data. Fields are trimmed, after unquoting too.
pub(super) fn split_quoted(line: &[u8]) -> std::result::Result<Vec<Vec<u8>>, RowError> {
    let bad = |message: &str| RowError {
        field: "ligne",
        message: message.to_string(),
    };
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        let mut field = Vec::new();
        if line.get(i) == Some(&b'"') {
            i += 1;
            loop {
                let q = memchr(b'"', &line[i..])
                    .ok_or_else(|| bad("guillemet non fermé (un champ entre guillemets ne peut pas contenir de fin de ligne)"))?;
                field.extend_from_slice(&line[i..i + q]);
                i += q + 1;
                if line.get(i) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
            while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
                i += 1;
            }
            if i < line.len() && line[i] != b',' {
                return Err(bad(
                    "texte après un guillemet fermant (écrire \"\" pour un guillemet)",
                ));
            }
            field = trim(&field).to_vec();
        } else {
            let end = memchr(b',', &line[i..]).map_or(line.len(), |e| i + e);
            field.extend_from_slice(trim(&line[i..end]));
            i = end;
        }
        fields.push(field);
        if i >= line.len() {
            return Ok(fields);
        }
        i += 1; // the comma
    }
}

/// Aggregates a line holding a quote (the rare path).
#[inline(never)]
pub(super) fn add_quoted_line<N: Names>(
    acc: &mut Acc<N>,
    line: &[u8],
) -> std::result::Result<(), RowError> {
    let fields = split_quoted(line)?;
    if fields.len() != 6 {
        return Err(field_count_error(fields.len()));
    }
    let f: [&[u8]; 6] = std::array::from_fn(|i| &fields[i][..]);
    add_row(acc, &f)
}

/// Aggregates one line (without its `\n`); blank lines are skipped. `may_quote` says
/// whether the block holds a quote at all.
#[inline(always)]
pub(super) fn add_line<N: Names>(
    acc: &mut Acc<N>,
    line: &[u8],
    may_quote: bool,
) -> std::result::Result<(), RowError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if may_quote && memchr(b'"', line).is_some() {
        return add_quoted_line(acc, line);
    }
    let mut f = [&b""[..]; 6];
    match split_plain(line, &mut f) {
        6 => add_row(acc, &f),
        1 if trim(f[0]).is_empty() => Ok(()),
        n => Err(field_count_error(n)),
    }
}

/// Aggregates the lines of a block; on error, the offset of the bad line in the block.
pub(super) fn add_block<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
) -> std::result::Result<(), (usize, RowError)> {
    let may_quote = memchr(b'"', block).is_some();
    let mut pos = 0;
    for nl in memchr::memchr_iter(b'\n', block) {
        add_line(acc, &block[pos..nl], may_quote).map_err(|e| (pos, e))?;
        pos = nl + 1;
    }
    if pos < block.len() {
        add_line(acc, &block[pos..], may_quote).map_err(|e| (pos, e))?;
    }
    Ok(())
}
