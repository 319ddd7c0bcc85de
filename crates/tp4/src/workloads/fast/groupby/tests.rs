//! Tests of the groupby ladder: every rung against the plain kernel and the
//! reference reader, on edge cases and generated files.

use super::names::SPARSE;
use super::*;
use std::collections::BTreeMap;

fn write(dir: &tempfile::TempDir, text: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join("transactions.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Rung 7's exact block reader at `level`, as a block function.
fn exact_at(level: Level) -> BlockFn<simd::LoadedNames> {
    match level {
        Level::Scalar => |a, b| avx2::add_block_exact_at(Level::Scalar, a, b),
        Level::Sse2 => |a, b| avx2::add_block_exact_at(Level::Sse2, a, b),
        Level::Avx2 => |a, b| avx2::add_block_exact_at(Level::Avx2, a, b),
        Level::Avx512 => |a, b| avx2::add_block_exact_at(Level::Avx512, a, b),
    }
}

/// Every rung, on 1 and 3 workers, then rungs 7 and 8 (`avx2`, `optimise`) at
/// every vector level of this machine ([`crate::cpu::available`]).
fn every_rung(path: &Path) -> Vec<(String, Result<Totals>)> {
    let mut out = Vec::new();
    for rung in ladder() {
        for workers in [1, 3] {
            out.push((
                format!("{} w={workers}", rung.name),
                (rung.run)(path, workers),
            ));
        }
    }
    for level in crate::cpu::available() {
        out.push((
            format!("avx2 @{level}"),
            seq_exact::<simd::LoadedNames>(path, SMALL_BLOCK, exact_at(level)),
        ));
        out.push((
            format!("optimise w=2 @{level}"),
            optimise_at(level, path, 2),
        ));
    }
    out
}

#[test]
fn short_fields_with_spaces_are_trimmed() {
    // Lines under 64 bytes (rung 6's one-window path) whose names and amounts
    // have spaces or tabs on either side, among clean lines.
    let dir = tempfile::tempdir().unwrap();
    let pads = ["", " ", "\t", "  ", " \t"];
    let mut text = format!("{HEADER}\n");
    for i in 0..2_000usize {
        let p = |k: usize| pads[(i / 5usize.pow(k as u32)) % 5];
        let city = ["Lyon", "Nice", "Pau"][i % 3];
        let cat = ["sport", "jeux"][i % 2];
        text += &format!(
            "{i},d,{}{city}{},{}{cat}{},{}{}.{:02}{},1\n",
            p(0),
            p(1),
            p(2),
            p(3),
            p(1),
            i % 90,
            i % 100,
            p(0)
        );
    }
    let path = write(&dir, text.as_bytes());
    let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
    assert_eq!((expected.cities.len(), expected.categories.len()), (3, 2));
    for (name, got) in every_rung(&path) {
        assert_eq!(got.unwrap(), expected, "{name}");
    }
}

/// Rungs 6 and 7 read one 64-byte window per line and rung 7 needs 96 bytes left
/// in the block: lines of 20 to 110 bytes (the date field padded), names of 1 to 18
/// bytes (16 is the longest keyed by a load), amounts of every length the fast
/// parser takes and some it gives back, signs, CRLF on some lines, files of every
/// size around the ends of a block, with and without a final line end.
#[test]
fn line_lengths_around_the_window_match_the_plain_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for i in 0..3_000usize {
        let id = "7".repeat(1 + i % 19);
        let date = format!("2024-01-01{}", "x".repeat(i * 7 % 50));
        let city = "abcdefghijklmnopqr"[..1 + i % 18].to_string();
        let cat = [
            "x",
            "sport",
            "électronique",
            "0123456789abcdef",
            "catégorie-longue",
        ][i % 5];
        let cents = (i as i64 * 104_729) % 10_000_000 - 2_000_000;
        let amount = match i % 7 {
            0 => format!("+{}.{:02}", cents.abs() / 100, cents.abs() % 100),
            1 => format!("{}", cents / 100),
            2 => format!("{}.{}", cents / 100, (cents.abs() % 100) / 10),
            _ => amount_text(i as i64 * 6, cents),
        };
        let end = if i % 11 == 0 { "\r\n" } else { "\n" };
        text += &format!("{id},{date},{city},{cat},{amount},3{end}");
    }
    let full = text.into_bytes();
    let mut cuts = vec![full.len(), full.len() - 1];
    for from in [95, 96, 97, 200, 140_000] {
        // The line end at or after `from` bytes of data: cut after it, or before.
        let from = HEADER.len() + 1 + from;
        let nl = from + memchr(b'\n', &full[from..]).unwrap();
        cuts.extend([nl + 1, nl]);
    }
    for cut in cuts {
        let path = write(&dir, &full[..cut]);
        let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap(), expected, "{name}, {cut} bytes");
        }
    }
}

#[test]
fn generated_file_matches_the_plain_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    crate::data::transactions::generate(&path, 5_000, |_| {}).unwrap();
    let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
    assert_eq!((expected.categories.len(), expected.cities.len()), (8, 20));
    for (name, got) in every_rung(&path) {
        assert_eq!(got.unwrap(), expected, "{name}");
    }
}

/// An amount of `cents` written in one of the shapes a file may use (chosen by
/// `id`): two decimals, none, one, a `+` sign, spaces around, 7 digits before the
/// point.
fn amount_text(id: i64, cents: i64) -> String {
    let (sign, a) = (if cents < 0 { "-" } else { "" }, cents.abs());
    match id % 6 {
        1 if a % 100 == 0 => format!("{sign}{}", a / 100),
        2 if a % 10 == 0 => format!("{sign}{}.{}", a / 100, a % 100 / 10),
        3 if cents > 0 => format!("+{}.{:02}", a / 100, a % 100),
        4 => format!(" {sign}{}.{:02}\t", a / 100, a % 100),
        _ => format!("{sign}{}.{:02}", a / 100, a % 100),
    }
}

/// A teacher's own file as a spreadsheet exports it, and its totals: 50 other
/// cities (accents, one longer than 16 bytes; with `quotes`, commas and quotes in
/// a name and quoted fields), 12 other categories, BOM, CRLF, spaces around
/// fields, blank lines, refunds, amounts of every shape, no final line end.
fn teacher_file(quotes: bool, rows: i64) -> (String, Totals) {
    let cities: Vec<String> = (0..50)
        .map(|i| match i {
            0 => "Besançon".to_string(),
            1 => "Saint-Étienne-du-Rouvray-sur-Mer".to_string(),
            2 if quotes => "Ville, \"la\" belle".to_string(),
            2 => "V".to_string(),
            3 => "Clermont-Ferrand".to_string(),
            _ => format!("Cité-{i}-é"),
        })
        .collect();
    let categories: Vec<String> = (0..12).map(|i| format!("catégorie ñ{i}")).collect();
    let mut text = "\u{feff}id,date,city,category,amount,quantity\r\n".to_string();
    let mut cat_totals: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    let mut city_totals: BTreeMap<String, i64> = BTreeMap::new();
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for id in 1..=rows {
        let city = &cities[(id * 7 % 50) as usize];
        let cat = &categories[(id * 5 % 12) as usize];
        let mut cents = (id * 7919 % 100_000) - 20_000;
        if id % 97 == 0 {
            cents += 123_456_700;
        }
        let amount = amount_text(id, cents);
        let city_field = match quotes && (city.contains([',', '"']) || id % 3 == 0) {
            true => quoted(city),
            false => city.clone(),
        };
        let cat_field = match id % 4 {
            0 => format!("  {cat} "),
            _ => cat.clone(),
        };
        let amount_field = match quotes && id % 5 == 0 {
            true => quoted(&amount),
            false => amount,
        };
        text.push_str(&format!(
            "{id},2024-01-01,{city_field},{cat_field},{amount_field},1\r\n"
        ));
        if id % 500 == 0 {
            text.push_str("\r\n");
        }
        let e = cat_totals.entry(cat.clone()).or_default();
        e.0 += cents;
        e.1 += 1;
        *city_totals.entry(city.clone()).or_default() += cents;
    }
    text.push_str("9999999,2024-01-01,Besançon,catégorie ñ0,-0.5,1");
    cat_totals.get_mut("catégorie ñ0").unwrap().0 -= 50;
    cat_totals.get_mut("catégorie ñ0").unwrap().1 += 1;
    *city_totals.get_mut("Besançon").unwrap() -= 50;
    let expected = Totals {
        categories: cat_totals
            .into_iter()
            .map(|(n, (c, r))| (n, c, r))
            .collect(),
        cities: city_totals.into_iter().collect(),
    };
    (text, expected)
}

/// A teacher's file (50 other cities, 12 other categories), with and without
/// quotes (a block without any takes the SIMD path of rungs 4 to 6), larger than
/// several blocks: every rung equals the plain kernel and the expected totals.
#[test]
fn other_names_quotes_bom_crlf_and_refunds() {
    for quotes in [true, false] {
        let (text, expected) = teacher_file(quotes, 7_000);
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, text.as_bytes());
        let plain = crate::workloads::groupby::seq(&path).unwrap();
        assert_eq!(Totals::from_groupby(&plain), expected, "quotes: {quotes}");
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap(), expected, "{name}, quotes: {quotes}");
        }
        assert_eq!((expected.categories.len(), expected.cities.len()), (12, 50));
        assert_eq!(expected.rows(), 7_001);
        assert_eq!(expected.top_cities(3).len(), 3);
    }
}

#[test]
fn small_files_and_few_cities() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("{HEADER}\n");
    let path = write(&dir, header.as_bytes());
    for (name, got) in every_rung(&path) {
        let err = got.unwrap_err().to_string();
        assert!(err.contains("que l'en-tête"), "{name}: {err}");
    }
    let path = write(
        &dir,
        format!("{header}1,2024-01-01,Lyon,sport,12.3,1").as_bytes(),
    );
    for (name, got) in every_rung(&path) {
        let t = got.unwrap();
        assert_eq!(t.top_cities(3), vec![("Lyon".to_string(), 1230)], "{name}");
        assert_eq!(t.categories, vec![("sport".to_string(), 1230, 1)], "{name}");
    }
}

#[test]
fn small_name_tables_keep_every_name_home() {
    use crate::data::transactions::{CATEGORIES, CITIES};
    for names in [&CITIES[..], &CATEGORIES[..]] {
        let mut t = simd::LoadedNames::default();
        for n in names {
            t.index(n.as_bytes());
        }
        for n in names {
            let (lo, hi) = simd::pack_copied(n.as_bytes());
            let home = t.slots[t.home(lo, hi, n.len() as u32 + 1)];
            assert!(
                (home.0, home.1) == (lo, hi),
                "{n} is not in its home slot ({} slots)",
                t.slots.len()
            );
        }
    }
    // Many names: the table stops doubling for displaced names at SPARSE slots.
    let mut t = simd::LoadedNames::default();
    for i in 0..3000 {
        assert_eq!(t.index(format!("ville{i}").as_bytes()), i);
    }
    assert_eq!(t.slots.len(), SPARSE * 2);
    for i in (0..3000).step_by(7) {
        assert_eq!(t.index(format!("ville{i}").as_bytes()), i);
    }
}

#[test]
fn the_first_bad_line_is_reported_whatever_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for i in 2..=30_000 {
        let amount = match i {
            12_345 => "1.234".to_string(), // the first bad line
            25_000 => "x".to_string(),     // a later one, in another range
            _ => format!("{}.{:02}", i % 500, i % 100),
        };
        text += &format!("{i},2024-01-01,Lyon,sport,{amount},1\n");
    }
    let path = write(&dir, text.as_bytes());
    for workers in [1, 2, 3, 8] {
        let msg = optimise(&path, workers).unwrap_err().to_string();
        assert!(
            msg.contains("ligne 12345") && msg.contains("1.234"),
            "{workers}: {msg}"
        );
    }
}

#[test]
fn malformed_files_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 6] = [
        ("", "en-tête", "en-tête"),
        ("id,date,ville\n", "en-tête", "ville"),
        (
            "HEADER\n1,d,Lyon,sport,1.00,1\n2,d,Lyon,sport,1.234,1\n",
            "amount",
            "1.234",
        ),
        (
            "HEADER\n1,d,Lyon,sport,1.00,1\n\n2,d,Lyon,sport\n",
            "ligne 4",
            "champs",
        ),
        ("HEADER\r\n1,d,Lyon,sport,1.00,1,extra\r\n", "ligne 2", "6"),
        // The plain kernel's words: "1 champ", not "1 champs".
        (
            "HEADER\n1,d,Lyon,sport,1.00,1\nabc\n",
            "ligne 3",
            "1 champ au lieu de 6",
        ),
    ];
    for (text, want1, want2) in cases {
        let path = write(&dir, text.replace("HEADER", HEADER).as_bytes());
        for (name, got) in every_rung(&path) {
            let msg = got.unwrap_err().to_string();
            assert!(msg.contains(want1) && msg.contains(want2), "{name}: {msg}");
        }
    }
    let path = write(
        &dir,
        format!("{HEADER}\n1,d,\"Lyon,sport,1.00,1\n").as_bytes(),
    );
    let msg = seq::<PackedNames>(&path).unwrap_err().to_string();
    assert!(
        msg.contains("ligne 2") && msg.contains("guillemet"),
        "{msg}"
    );
}

/// Random files from bytes that matter to the readers (digits, separators, point,
/// signs, spaces, tabs, CR, quotes, a non-ASCII letter), line lengths around the
/// 64-byte window: rungs 2 to 8 agree with each other (same totals, or the same
/// located error) and, when they find no error, with the plain kernel wherever it
/// accepts the file too.
#[test]
fn random_files_give_the_same_answer_or_error_in_every_fast_rung() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for case in 0..60 {
        let mut text = format!("{HEADER}\n");
        for id in 0..200 + next(300) {
            let noisy = case % 3 == 0 && next(40) == 0;
            if noisy {
                let alphabet = b"0123456789,,,..--+  \t\r\"\"ab\xc3\xa9\n";
                let bytes: Vec<u8> = (0..next(90))
                    .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                    .collect();
                text += &String::from_utf8_lossy(&bytes);
                text.push('\n');
                continue;
            }
            let city =
                ["Lyon", "Saint-Étienne", "Clermont-Ferrand", "V", " Pau "][next(5) as usize];
            let cat = ["sport", "jeux", "\"maison\"", "catégorie-de-plus-de-16"][next(4) as usize];
            let cents = next(20_000_000) as i64 - 5_000_000;
            let amount = amount_text(next(7) as i64, cents);
            let date = "2024-01-01x".repeat(1 + next(5) as usize);
            let end = ["\n", "\r\n"][next(2) as usize];
            text += &format!("{id},{date},{city},{cat},{amount},1{end}");
        }
        if next(2) == 0 {
            text.pop();
        }
        let path = write(&dir, text.as_bytes());
        let results: Vec<(String, std::result::Result<Totals, String>)> = every_rung(&path)
            .into_iter()
            .filter(|(name, _)| !name.starts_with("reference"))
            .map(|(name, r)| (name, r.map_err(|e| e.to_string())))
            .collect();
        let first = &results[0].1;
        for (name, r) in &results {
            assert_eq!(r, first, "case {case}, {name}");
        }
        if let (Ok(t), Ok(plain)) = (first, crate::workloads::groupby::seq(&path)) {
            assert_eq!(*t, Totals::from_groupby(&plain), "case {case}");
        }
    }
}

/// A file saved with classic Mac line ends (a lone CR) was summed by the plain
/// kernel (the csv crate takes CR as a line end) and refused by every reader that
/// cuts at LF with a misleading "no row" error: now every path refuses it with
/// the same message, which says how to convert it; CRLF stays accepted.
#[test]
fn lone_cr_line_ends_are_refused_by_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}\r1,2024-01-01,Lyon,sport,1.00,1\r2,d,Nice,jeux,2.00,1\r");
    let path = write(&dir, text.as_bytes());
    let plain = crate::workloads::groupby::seq(&path)
        .unwrap_err()
        .to_string();
    assert!(
        plain.contains("ligne 1") && plain.contains("CR seul") && plain.contains("tr '"),
        "{plain}"
    );
    let rayon = crate::workloads::groupby::rayon(&path, 2).unwrap_err();
    assert_eq!(rayon.to_string(), plain);
    for (name, got) in every_rung(&path) {
        assert_eq!(got.unwrap_err().to_string(), plain, "{name}");
    }
    let path = write(&dir, text.replace('\r', "\r\n").as_bytes());
    assert_eq!(crate::workloads::groupby::seq(&path).unwrap().rows(), 2);
    for (name, got) in every_rung(&path) {
        assert_eq!(got.unwrap().rows(), 2, "{name}");
    }
}

/// A bad row after many good ones (inside the 64-byte windows of rung 6, after
/// several blocks): every rung names its line and field.
#[test]
fn errors_deep_in_a_file_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let good = |id: usize| format!("{id},2024-01-01,Lyon,sport,{id}.25,1\n");
    for (bad, field, shown) in [
        ("7,2024-01-01,Lyon,sport,1.2x,1\n", "amount", "1.2x"),
        ("7,2024-01-01,Lyon,sport,1.00,1,8\n", "ligne", "6"),
        ("7,2024-01-01,Lyon,sport\n", "ligne", "champs"),
        ("7,2024-01-01,,sport,1.00,1\n", "city", "vide"),
    ] {
        let mut text = format!("{HEADER}\n");
        text.extend((1..=4_000).map(good));
        text.push_str(bad);
        text.extend((1..=100).map(good));
        let path = write(&dir, text.as_bytes());
        for (name, got) in every_rung(&path) {
            let msg = got.unwrap_err().to_string();
            assert!(
                msg.contains("ligne 4002") && msg.contains(field) && msg.contains(shown),
                "{name}: {msg}"
            );
        }
    }
}

#[test]
fn amounts_and_quotes_parse_exactly() {
    assert_eq!(parse_cents(b"-12.34"), Some(-1234));
    assert_eq!(parse_cents(b"-0.5"), Some(-50));
    assert_eq!(parse_cents(b"7"), Some(700));
    assert_eq!(parse_cents(b"1.234"), None);
    assert_eq!(parse_cents(b"--1"), None);
    assert_eq!(parse_cents(b"-"), None);
    let f = split_quoted(br#" "a,""b""" , c ,"", d"#).unwrap();
    assert_eq!(
        f,
        vec![
            b"a,\"b\"".to_vec(),
            b"c".to_vec(),
            b"".to_vec(),
            b"d".to_vec()
        ]
    );
}

/// Quiet-run timings on the transactions of `TP4_OPT_DATA` (release only:
/// `TP4_OPT_DATA=/tmp/opt-data cargo test --release -p tp4 --lib
/// fast::groupby::tests::timings -- --ignored --nocapture`).
#[test]
#[ignore]
fn timings() {
    let dir = std::env::var("TP4_OPT_DATA").unwrap_or_else(|_| "data".into());
    let path = Path::new(&dir).join(crate::data::TRANSACTIONS_FILE);
    let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
    for rung in ladder() {
        let (wall, cpu) = super::super::time_rung(
            || (rung.run)(&path, 2).unwrap(),
            |v| assert_eq!(*v, expected),
        );
        println!(
            "W4 {:10} wall {wall:.4} s, thread CPU {cpu:.4} s",
            rung.name
        );
    }
}

#[test]
fn ranges_merge_into_the_whole_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    crate::data::transactions::generate(&path, 3_000, |_| {}).unwrap();
    let start = check_header(&path).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    let ranges = chunks::line_ranges_from(&path, 3, start).unwrap();
    let acc = ranges
        .into_iter()
        .map(|r| optimise_range(&path, r).unwrap())
        .reduce(Acc::merge)
        .unwrap();
    let whole = optimise_range(&path, start..len).unwrap();
    assert_eq!(
        acc.checked_totals(&path).unwrap(),
        whole.checked_totals(&path).unwrap()
    );
}

#[test]
fn generated_files_are_plain_to_the_fast_path() {
    let mut text = Vec::new();
    crate::data::transactions::write_rows(&mut text, 5_000, |_| {}).unwrap();
    let body = &text[HEADER.len() + 1..];
    assert_eq!(plain_block(body), Some(5_000));
    // Each rule, at every offset of the 64-byte masks.
    let row = b"12,2024-01-01,Le Havre,sport,-12.5,3\n";
    for pad in 0..70 {
        let mut ok = b"\n".repeat(pad);
        ok.extend_from_slice(row);
        assert_eq!(plain_block(&ok), Some(1), "{pad}");
        let crlf = [&b"\r\n".repeat(pad)[..], b"1,d,c,k,1,1\r\n"].concat();
        assert_eq!(plain_block(&crlf), Some(1), "{pad}");
        for bad in [
            &b"12,2024-01-01,Le Havre ,sport,-12.5,3\n"[..],
            b"12,2024-01-01, Le Havre,sport,-12.5,3\n",
            b"12,2024-01-01,\"Le Havre\",sport,-12.5,3\n",
            b"12,2024-01-01,Le\tHavre,sport,-12.5,3\n",
            b"12,2024-01-01,Le\rHavre,sport,-12.5,3\n",
            b"12,,Le Havre,sport,-12.5,3\n",
            b",2024-01-01,Le Havre,sport,-12.5,3\n",
            b"12,2024-01-01,Le Havre,sport,-12.5,\n",
            b"12,2024-01-01,Le Havre,sport,-12.5,3,\n",
            b"12,2024-01-01,Le Havre,sport,+12.5,3\n",
            b"12,2024-01-01,Le Havre,sport,1234567890,3\n",
            b"12,2024-01-01,Le Havre,sport,12.,3\n",
            b"-12,2024-01-01,Le Havre,sport,12,3\n",
            b"12,2024-01-01,Le Havre,sport,12,3a\n",
            b"12,2024-01-01,Le Havre,sport,12\n",
            b" \n",
            b"12,2024-01-01,Le Havre,sport,12,3\r",
            b"12,2024-01-01,Le Havre,sport,12,3 ",
            b"12,2024-01-01,Le \xff,sport,12,3\n",
        ] {
            let mut text = b"\n".repeat(pad);
            text.extend_from_slice(bad);
            assert_eq!(
                plain_block(&text),
                None,
                "{pad} {:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
