//! The generator of the differential test: random `transactions.csv` and `corpus.txt`
//! files drawn from the grammar of `workloads.md` v3, each with the answer it must
//! give (the generator knows every value it wrote, whatever the syntax it chose), and
//! targeted mutations that break one rule at one known line.
//!
//! The syntax varies where the grammar allows it: byte-order mark, LF or CRLF (mixed),
//! final line end or not, blank and whitespace-only lines anywhere (before the header
//! too), spaces and tabs around fields and inside quotes, quoted fields with commas and
//! `""`, signs and one or two decimals, names of 1 to 70 bytes (around the 8, 16, 32
//! and 64 bytes of the SWAR and SIMD windows) in ASCII, accents, CJK and emoji, with a
//! no-break space, an ideographic space or a control character at their edges (part of
//! the name), 1 to 2 000 distinct names, files of 0 to about 400 kB (past the fast
//! rungs' 128 KiB blocks and across the parallel readers' ranges).

use std::collections::BTreeMap;

/// A small, well-known generator (SplitMix64): the same seed gives the same file.
pub struct Rng(u64);

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One element of a slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// What a generated file must give.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// This answer (the W4 or W7 answer JSON of `workloads.md`).
    Answer(serde_json::Value),
    /// A refusal naming this line (a broken rule).
    ErrorAt(u64),
    /// A refusal saying that a total is too large.
    TotalTooLarge,
    /// A file with a header and no row: "que l'en-tête".
    NoRows,
}

/// A generated file: its bytes, what it must give, and the rule a mutation broke.
pub struct Case {
    /// The bytes of the file.
    pub bytes: Vec<u8>,
    /// The expected outcome.
    pub expect: Expect,
    /// What the exercises' loader (`transactions::stream`) must give: `expect`, except
    /// on a file where a sale's revenue (amount × quantity) does not fit in 64 bits,
    /// which the exercises refuse at its line and W4 (amounts only) accepts.
    pub exercises: Expect,
    /// The mutation applied ("" for a valid file).
    pub mutation: &'static str,
}

/// Characters names are drawn from: ASCII, accents, CJK, emoji, a comma and a quote
/// (which force quoting), and interior spaces.
const NAME_CHARS: &[&str] = &[
    "a", "b", "e", "P", "z", "-", "'", "é", "É", "ç", "ü", "京", "東", "🎉", "ß", " ", ",", "\"",
    "0", "7",
];

/// Characters that may stand at a name's edge and are NOT trimmed by the grammar.
const KEPT_EDGES: &[&str] = &["\u{a0}", "\u{3000}", "\u{0B}", "\u{0C}", "\u{2003}"];

/// A random name of about `len` bytes (at least 1 character, never starting or
/// ending with a space or tab).
fn name(rng: &mut Rng, len: usize) -> String {
    let mut s = String::new();
    while s.len() < len.max(1) {
        s.push_str(rng.pick(NAME_CHARS));
    }
    let s = s.trim_matches([' ', '\t']).to_string();
    let mut s = if s.is_empty() { "x".to_string() } else { s };
    if rng.one_in(12) {
        s.insert_str(0, rng.pick(KEPT_EDGES));
    }
    if rng.one_in(12) {
        s.push_str(rng.pick(KEPT_EDGES));
    }
    s
}

/// A name length, often around the SWAR and SIMD widths.
fn name_len(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 1 + rng.below(12) as usize,
        1 => rng.pick(&[7, 8, 9, 15, 16, 17, 31, 32, 33]),
        2 => rng.pick(&[63, 64, 65]),
        _ => 4 + rng.below(10) as usize,
    }
}

/// Spaces and tabs to put around a field (often none).
fn pad(rng: &mut Rng) -> &'static str {
    if rng.one_in(4) {
        rng.pick(&[" ", "\t", "  ", " \t "])
    } else {
        ""
    }
}

/// A field's value written as the grammar allows: padded, quoted (always when it
/// holds a comma or a quote), `""` for a quote, spaces inside the quotes.
fn field(rng: &mut Rng, value: &str) -> String {
    let must_quote = value.contains([',', '"']);
    if must_quote || rng.one_in(6) {
        format!(
            "{}\"{}{}{}\"{}",
            pad(rng),
            pad(rng),
            value.replace('"', "\"\""),
            pad(rng),
            pad(rng)
        )
    } else {
        format!("{}{value}{}", pad(rng), pad(rng))
    }
}

/// An amount: its text and its cents (at most 12 digits before the point, so that
/// no sum of a generated file overflows).
fn amount(rng: &mut Rng) -> (String, i64) {
    let digits = match rng.below(10) {
        0 => 1 + rng.below(12) as u32,
        _ => 1 + rng.below(4) as u32,
    };
    let whole = rng.below(10u64.pow(digits));
    let whole_text = if rng.one_in(20) {
        format!("00{whole}")
    } else {
        whole.to_string()
    };
    let (frac_text, frac) = match rng.below(3) {
        0 => (String::new(), 0),
        1 => {
            let d = rng.below(10);
            (format!(".{d}"), d * 10)
        }
        _ => {
            let d = rng.below(100);
            (format!(".{d:02}"), d)
        }
    };
    let cents = (whole * 100 + frac) as i64;
    match rng.below(6) {
        0 => (format!("-{whole_text}{frac_text}"), -cents),
        1 => (format!("+{whole_text}{frac_text}"), cents),
        _ => (format!("{whole_text}{frac_text}"), cents),
    }
}

/// One row's values.
struct Row {
    city: String,
    category: String,
    cents: i64,
}

/// The W4 answer of `workloads.md` for these rows.
fn groupby_answer(rows: &[Row]) -> serde_json::Value {
    let mut cats: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
    let mut cities: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows {
        let c = cats.entry(&r.category).or_default();
        c.0 += r.cents;
        c.1 += 1;
        *cities.entry(&r.city).or_default() += r.cents;
    }
    let mut top: Vec<(&str, i64)> = cities.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
    top.truncate(3);
    serde_json::json!({
        "total_cents": rows.iter().map(|r| r.cents).sum::<i64>(),
        "categories": cats.iter().map(|(k, v)| serde_json::json!([k, v.0, v.1])).collect::<Vec<_>>(),
        "top_cities": top.iter().map(|(k, v)| serde_json::json!([k, v])).collect::<Vec<_>>(),
    })
}

/// Mutations of a row line, each breaking one rule of the grammar (the rule's name,
/// the mutated line).
fn mutate_row(rng: &mut Rng, fields: &mut [String; 6]) -> &'static str {
    match rng.below(14) {
        0 => {
            fields[2] = "\"Pa\"ris\"".into();
            "guillemet mal placé"
        }
        1 => {
            fields[3] = "ca\"t".into();
            "guillemet dans un champ sans guillemets"
        }
        2 => {
            fields[2] = "\"Paris".into();
            "guillemet non fermé"
        }
        3 => {
            fields[0] = rng
                .pick(&["-3", "+3", "3a", "", " ", "99999999999999999999", "1.0"])
                .to_string();
            "identifiant invalide"
        }
        4 => {
            fields[5] = rng
                .pick(&["1.5", "-1", "", "4294967296", "+2", "un"])
                .to_string();
            "quantité invalide"
        }
        5 => {
            fields[4] = rng
                .pick(&[
                    ".5", "5.", "1e3", "1.005", "", "--1", "12 34", "1,50", "\"1,50\"", "- 1",
                ])
                .to_string();
            "montant invalide"
        }
        6 => {
            fields[4] = rng
                .pick(&[
                    "92233720368547758.08",
                    "-92233720368547758.09",
                    "100000000000000000000",
                ])
                .to_string();
            "montant trop grand"
        }
        7 => {
            let i = 1 + rng.below(3) as usize;
            fields[i] = rng.pick(&["", "  ", "\"\"", "\" \""]).to_string();
            "champ vide"
        }
        8 => {
            fields[2] = format!("{},x", fields[2]);
            "7 champs"
        }
        9 => {
            fields[5] = String::new();
            fields[4] = format!("{},{}", fields[4], "1");
            "7 champs (montant et quantité)"
        }
        10 => {
            fields[1] = format!("{}\r{}", fields[1], "x");
            "CR seul"
        }
        11 => {
            fields[3] = format!("{} \"b\"", fields[3].trim());
            "texte avant un guillemet"
        }
        12 => {
            fields[2] = "\"a\" b".into();
            "texte après un guillemet fermant"
        }
        _ => {
            fields[2] = format!("\"{}\"x", "y".repeat(rng.below(70) as usize));
            "guillemet mal placé (long)"
        }
    }
}

/// A random `transactions.csv`; with probability about 1/2 one mutation.
pub fn transactions(rng: &mut Rng) -> Case {
    let crlf_file = rng.one_in(3);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let blank = |rng: &mut Rng| rng.pick(&["", " ", "\t", " \t "]).to_string().into_bytes();
    if rng.one_in(5) {
        for _ in 0..1 + rng.below(2) {
            lines.push(blank(rng));
        }
    }
    let header: Vec<String> = ["id", "date", "city", "category", "amount", "quantity"]
        .iter()
        .map(|h| field(rng, h))
        .collect();
    lines.push(header.join(",").into_bytes());
    let header_line = lines.len();
    let n_rows = match rng.below(20) {
        0 => 0,
        1 => 2_000 + rng.below(6_000),
        2..=7 => 20 + rng.below(300),
        _ => 1 + rng.below(20),
    };
    let n_names = match rng.below(6) {
        0 => 1,
        1 => 2 + rng.below(3),
        2 => 50 + rng.below(2_000),
        _ => 5 + rng.below(30),
    } as usize;
    let pool: Vec<String> = (0..n_names)
        .map(|_| {
            let len = name_len(rng);
            name(rng, len)
        })
        .collect();
    let plain_names = rng.one_in(2);
    let mut rows = Vec::new();
    let mut row_lines = Vec::new();
    for i in 0..n_rows {
        if rng.one_in(25) {
            lines.push(blank(rng));
        }
        let (city, category) = if plain_names {
            (
                rng.pick(&["Paris", "Lyon", "Le Havre", "Nice"]).to_string(),
                rng.pick(&["sport", "livres", "maison"]).to_string(),
            )
        } else {
            (
                pool[rng.below(pool.len() as u64) as usize].clone(),
                pool[rng.below(pool.len() as u64) as usize].clone(),
            )
        };
        let (amount_text, cents) = amount(rng);
        let date = if rng.one_in(10) {
            let len = name_len(rng);
            name(rng, len)
        } else {
            format!("2024-0{}-1{}", 1 + rng.below(9), rng.below(10))
        };
        let fields = [
            (i + 1).to_string(),
            date,
            city.clone(),
            category.clone(),
            amount_text,
            (rng.below(11)).to_string(),
        ];
        let mut text: Vec<String> = fields.iter().map(|f| field(rng, f)).collect();
        if plain_names && !fields[1].contains([',', '"']) && rng.below(4) != 0 {
            text = fields.to_vec();
        }
        row_lines.push((lines.len(), fields));
        lines.push(text.join(",").into_bytes());
        rows.push(Row {
            city,
            category,
            cents,
        });
    }
    let mut expect = match n_rows {
        0 => Expect::NoRows,
        _ => Expect::Answer(groupby_answer(&rows)),
    };
    let mut mutation = "";
    let mut extra_cr_at = None;
    let mut exercises = None;
    if rng.one_in(2) {
        let (m, e, cr) = mutate_file(rng, &mut lines, &row_lines, header_line);
        mutation = m;
        expect = e;
        extra_cr_at = cr;
        if let Expect::ErrorAt(first) = expect {
            if second_fault(rng, &mut lines, &row_lines, first) {
                mutation = "deux lignes fausses";
            }
        }
    } else if !rows.is_empty() && rng.one_in(6) {
        let (e, x) = revenue_overflow(rng, &mut lines, &row_lines, &mut rows);
        expect = e;
        exercises = Some(x);
        mutation = "montant × quantité trop grand";
    }
    Case {
        bytes: assemble(rng, &lines, extra_cr_at, crlf_file),
        exercises: exercises.unwrap_or_else(|| expect.clone()),
        expect,
        mutation,
    }
}

/// The bytes of a transactions file from its lines: sometimes a BOM, LF or CRLF line
/// ends (the file's choice, CRLF now and then anyway), a lone CR after line
/// `extra_cr_at`, and the last line end sometimes left out.
fn assemble(
    rng: &mut Rng,
    lines: &[Vec<u8>],
    extra_cr_at: Option<usize>,
    crlf_file: bool,
) -> Vec<u8> {
    let mut bytes = Vec::new();
    if rng.one_in(6) {
        bytes.extend_from_slice("\u{feff}".as_bytes());
    }
    let last = lines.len();
    for (i, line) in lines.iter().enumerate() {
        bytes.extend_from_slice(line);
        if extra_cr_at == Some(i) {
            bytes.push(b'\r');
            continue;
        }
        if i + 1 < last || rng.below(5) != 0 {
            if crlf_file || rng.one_in(20) {
                bytes.push(b'\r');
            }
            bytes.push(b'\n');
        }
    }
    bytes
}

/// A sale whose amount fits and whose revenue does not: W4 (which sums amounts)
/// answers, the exercises (which multiply by the quantity) refuse that line as too
/// large (workloads.md v3 rule 7: "a product that does not fit"). Returns what W4
/// and what the exercises must give.
fn revenue_overflow(
    rng: &mut Rng,
    lines: &mut [Vec<u8>],
    row_lines: &[(usize, [String; 6])],
    rows: &mut [Row],
) -> (Expect, Expect) {
    let j = rng.below(rows.len() as u64) as usize;
    let (at, mut fields) = row_lines[j].clone();
    // Between 4.7e18 and 8.7e18 cents: fits alone (and in W4's totals, the other
    // rows being small), overflows once multiplied by 2 or more.
    let cents = 4_700_000_000_000_000_000 + rng.below(4_000_000_000_000_000_000) as i64;
    fields[1] = "2024-01-01".into();
    fields[2] = "Débordement".into();
    fields[3] = "énorme".into();
    fields[4] = format!("{}.{:02}", cents / 100, cents % 100);
    fields[5] = (2 + rng.below(9)).to_string();
    lines[at] = fields.join(",").into_bytes();
    rows[j] = Row {
        city: fields[2].clone(),
        category: fields[3].clone(),
        cents,
    };
    (
        Expect::Answer(groupby_answer(rows)),
        Expect::ErrorAt(at as u64 + 1),
    )
}

/// Sometimes (one file in two) breaks a second row below line `first`: every path
/// must still name the first one, however the file is shared out (ranges, workers,
/// processes). Whether it did.
fn second_fault(
    rng: &mut Rng,
    lines: &mut [Vec<u8>],
    row_lines: &[(usize, [String; 6])],
    first: u64,
) -> bool {
    let later: Vec<_> = row_lines
        .iter()
        .filter(|(at, _)| *at as u64 >= first)
        .collect();
    if later.is_empty() || !rng.one_in(2) {
        return false;
    }
    let (at, mut fields) = later[rng.below(later.len() as u64) as usize].clone();
    mutate_row(rng, &mut fields);
    lines[at] = fields.join(",").into_bytes();
    true
}

/// One mutation of a whole file (a row rule, invalid UTF-8, an overflowing total, a
/// classic Mac line end, or the header): its name, what the file must then give,
/// and the line that must end with a lone CR, if any.
fn mutate_file(
    rng: &mut Rng,
    lines: &mut [Vec<u8>],
    row_lines: &[(usize, [String; 6])],
    header_line: usize,
) -> (&'static str, Expect, Option<usize>) {
    match rng.below(8) {
        0..=4 if !row_lines.is_empty() => {
            let (at, fields) = row_lines[rng.below(row_lines.len() as u64) as usize].clone();
            let mut fields = fields;
            let mutation = mutate_row(rng, &mut fields);
            lines[at] = fields.join(",").into_bytes();
            (mutation, Expect::ErrorAt(at as u64 + 1), None)
        }
        5 if !row_lines.is_empty() => {
            // Invalid UTF-8 somewhere in a row.
            let (at, _) = row_lines[rng.below(row_lines.len() as u64) as usize];
            let pos = rng.below(lines[at].len() as u64 + 1) as usize;
            let pos = (0..=pos)
                .rev()
                .find(|&p| p == lines[at].len() || lines[at][p] < 0x80 || lines[at][p] >= 0xC0)
                .unwrap_or(0);
            let bad: &[u8] = rng.pick(&[&b"\xff"[..], b"\xc3(", b"\x80", b"\xe2\x80"]);
            lines[at].splice(pos..pos, bad.iter().copied());
            ("UTF-8 invalide", Expect::ErrorAt(at as u64 + 1), None)
        }
        6 if row_lines.len() >= 2 => {
            // Two huge amounts in one category and one city: the totals overflow.
            let k = rng.below(row_lines.len() as u64 - 1) as usize;
            for j in [k, k + 1] {
                let (at, fields) = row_lines[j].clone();
                let mut fields = fields;
                fields[1] = "2024-01-01".into();
                fields[2] = "Débordement".into();
                fields[3] = "énorme".into();
                fields[4] = "50000000000000000.00".into();
                // Quantity 1: the revenue is the amount, so the exercises' loader
                // also refuses at the second row, for the same total.
                fields[5] = "1".into();
                lines[at] = fields.join(",").into_bytes();
            }
            ("total trop grand", Expect::TotalTooLarge, None)
        }
        7 if !row_lines.is_empty() => {
            // A classic Mac line end: the CR ends this line, no LF.
            let (at, _) = row_lines[rng.below(row_lines.len() as u64) as usize];
            (
                "fin de ligne CR seule",
                Expect::ErrorAt(at as u64 + 1),
                Some(at),
            )
        }
        _ => {
            // The header: wrong case, a missing column, or a quote left open.
            let bad = rng.pick(&[
                "id,date,City,category,amount,quantity",
                "id,date,city,category,amount",
                "id,\"date,city,category,amount,quantity",
                "id;date;city;category;amount;quantity",
            ]);
            lines[header_line - 1] = bad.as_bytes().to_vec();
            ("en-tête", Expect::ErrorAt(header_line as u64), None)
        }
    }
}

/// Words of the corpus: ASCII, accents, CJK, emoji, the four information separators
/// (U+001C–U+001F: not white space), and lengths around 15 and 16 bytes (the packed
/// keys) and 64 bytes (the SIMD windows).
const WORDS: &[&str] = &[
    "le",
    "été",
    "à",
    "Noël",
    "東京",
    "🎉",
    "a\u{1C}b",
    "x\u{1F}",
    "mot",
    "l'été",
    "123456789012345",
    "1234567890123456",
    "12345678901234567",
    "ß",
    "x\u{FEFF}",
];

/// Every Unicode White_Space character (and CRLF and a lone CR, which are too).
const SEPARATORS: &[&str] = &[
    " ", " ", " ", "\t", "\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}",
    "\u{2000}", "\u{2005}", "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
    "  ", "\n\n",
];

/// The W7 answer of `workloads.md` (total, distinct, top 10) and every count.
pub fn wordcount_answer(words: &[String]) -> (serde_json::Value, BTreeMap<String, u64>) {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for w in words {
        *counts.entry(w.clone()).or_default() += 1;
    }
    let mut top: Vec<(&String, &u64)> = counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
    top.truncate(10);
    let answer = serde_json::json!({
        "total": words.len(),
        "distinct": counts.len(),
        "top": top.iter().map(|(w, c)| serde_json::json!([w, c])).collect::<Vec<_>>(),
    });
    (answer, counts)
}

/// A random `corpus.txt` and its words; with probability about 1/3 one invalid
/// UTF-8 sequence at a known line.
pub fn corpus(rng: &mut Rng) -> (Case, BTreeMap<String, u64>) {
    let n = match rng.below(10) {
        0 => 0,
        1 => 20_000 + rng.below(40_000),
        _ => 1 + rng.below(400),
    };
    let mut words = Vec::new();
    let mut text = String::new();
    if rng.one_in(6) {
        text.push('\u{feff}');
    }
    if rng.one_in(4) {
        text.push_str(rng.pick(SEPARATORS));
    }
    let long = "w".repeat(50 + rng.below(30) as usize);
    for i in 0..n {
        let w = match rng.below(30) {
            0 => long.clone(),
            1 => format!("{}{}", rng.pick(WORDS), rng.pick(WORDS)),
            _ => rng.pick(WORDS).to_string(),
        };
        text.push_str(&w);
        words.push(w);
        if i + 1 < n || rng.one_in(2) {
            text.push_str(rng.pick(SEPARATORS));
        }
    }
    let (answer, counts) = wordcount_answer(&words);
    let mut bytes = text.into_bytes();
    let mut expect = Expect::Answer(answer);
    let mut mutation = "";
    if rng.one_in(3) {
        let mut pos = rng.below(bytes.len() as u64 + 1) as usize;
        while pos < bytes.len() && (0x80..0xC0).contains(&bytes[pos]) {
            pos += 1;
        }
        let bad: &[u8] = rng.pick(&[&b"\xff"[..], b"\xc3(", b"\x80", b"\xe2\x80 "]);
        let line = 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count() as u64;
        bytes.splice(pos..pos, bad.iter().copied());
        mutation = "UTF-8 invalide";
        expect = Expect::ErrorAt(line);
        // Sometimes a second bad byte further down: the first one is still named.
        if rng.one_in(2) && pos + bad.len() < bytes.len() {
            let mut later =
                pos + bad.len() + rng.below((bytes.len() - pos - bad.len()) as u64) as usize;
            while later < bytes.len() && (0x80..0xC0).contains(&bytes[later]) {
                later += 1;
            }
            bytes.insert(later, 0xff);
            mutation = "UTF-8 invalide deux fois";
        }
    }
    (
        Case {
            bytes,
            exercises: expect.clone(),
            expect,
            mutation,
        },
        counts,
    )
}
