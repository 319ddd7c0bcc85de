//! Splits the Rust text of a notebook cell into its top-level pieces: items (`fn`,
//! `struct`, `use`, …, with the name they define) and statements (`let`, blocks,
//! expressions). The evcxr kernel accepts both at the top of a cell; a generated
//! crate must put items at module level and statements inside a function, so the
//! grader needs to tell them apart.
//!
//! The splitter is lexical, not a parser: it skips comments, strings (raw ones too),
//! character literals and lifetimes, and tracks bracket depth. A piece ends at a `;`
//! at depth 0, or at a `}` closing depth 0 when the piece is an item or when the
//! next word starts an item. A student's text that the splitter cuts wrongly can
//! only cost that student's answer (it will not compile), never the teacher's code.

/// What a top-level piece of a cell is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceKind {
    /// An item; `name` is what it defines (`fn f` → `f`), empty for `impl` blocks
    /// and glob imports.
    Item {
        /// The keyword: `fn`, `struct`, `use`, `impl`, …
        keyword: String,
        /// The name defined, or "".
        name: String,
    },
    /// A `let` statement.
    Let,
    /// Any other statement or expression (blocks, macro calls, evcxr `:` commands).
    Statement,
}

/// One top-level piece of a cell, with its text exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Item, `let` or other statement.
    pub kind: PieceKind,
    /// The text, comments and attributes in front included.
    pub text: String,
}

impl Piece {
    /// The name this piece defines (empty when none).
    pub fn name(&self) -> &str {
        match &self.kind {
            PieceKind::Item { name, .. } => name,
            _ => "",
        }
    }
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "impl",
    "trait",
    "mod",
    "use",
    "const",
    "static",
    "type",
    "extern",
    "macro_rules!",
];

/// Skips a comment, string or char literal starting at `i`; returns the index after
/// it, or `None` when `i` does not start one.
fn skip_literal(b: &[u8], i: usize) -> Option<usize> {
    let n = b.len();
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    match at(i) {
        b'/' if at(i + 1) == b'/' => {
            let mut k = i;
            while k < n && b[k] != b'\n' {
                k += 1;
            }
            Some(k)
        }
        b'/' if at(i + 1) == b'*' => {
            let (mut k, mut depth) = (i + 2, 1);
            while k < n && depth > 0 {
                if at(k) == b'/' && at(k + 1) == b'*' {
                    depth += 1;
                    k += 2;
                } else if at(k) == b'*' && at(k + 1) == b'/' {
                    depth -= 1;
                    k += 2;
                } else {
                    k += 1;
                }
            }
            Some(k)
        }
        b'r' | b'b' if !is_ident(at(i.wrapping_sub(1))) || i == 0 => {
            // r"..", r#".."#, br".."
            let mut k = i + 1;
            if at(i) == b'b' && at(k) == b'r' {
                k += 1;
            } else if at(i) == b'b' {
                return None;
            }
            let mut hashes = 0;
            while at(k) == b'#' {
                hashes += 1;
                k += 1;
            }
            if at(k) != b'"' {
                return None;
            }
            k += 1;
            loop {
                if k >= n {
                    return Some(n);
                }
                if b[k] == b'"' && (0..hashes).all(|h| at(k + 1 + h) == b'#') {
                    return Some(k + 1 + hashes);
                }
                k += 1;
            }
        }
        b'"' => {
            let mut k = i + 1;
            while k < n && b[k] != b'"' {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            Some((k + 1).min(n))
        }
        b'\'' => {
            // A char literal ('a', '\n', '\u{..}', 'é') or a lifetime ('a).
            if at(i + 1) == b'\\' {
                let mut k = i + 2;
                while k < n && b[k] != b'\'' {
                    k += 1;
                }
                return Some((k + 1).min(n));
            }
            // One UTF-8 char then a quote: a literal; otherwise a lifetime.
            let len = utf8_len(at(i + 1));
            if at(i + 1 + len) == b'\'' {
                Some(i + 2 + len)
            } else {
                Some(i + 1)
            }
        }
        _ => None,
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The code of a piece with leading comments, attributes and visibility removed:
/// where its first keyword is.
fn head(text: &str) -> String {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if let Some(k) = skip_literal(b, i).filter(|_| b[i] == b'/') {
            i = k;
            continue;
        }
        if b.get(i) == Some(&b'#') {
            // An attribute: skip to its closing bracket.
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'[' => depth += 1,
                    b']' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            continue;
        }
        break;
    }
    let mut rest = &text[i.min(text.len())..];
    for prefix in [
        "pub(crate)",
        "pub(super)",
        "pub",
        "async",
        "unsafe",
        "const fn",
        "extern \"C\"",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            if prefix == "const fn" {
                rest = &rest[6..];
                break;
            }
            if r.starts_with(|c: char| c.is_whitespace()) {
                rest = r.trim_start();
            }
        }
    }
    rest.to_string()
}

/// Classifies a piece from its text.
fn classify(text: &str) -> PieceKind {
    let h = head(text);
    let word: String = h
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '!')
        .collect();
    if word == "let" {
        return PieceKind::Let;
    }
    if !ITEM_KEYWORDS.contains(&word.as_str()) {
        return PieceKind::Statement;
    }
    let after = h[word.len()..].trim_start();
    let name: String = match word.as_str() {
        "impl" | "extern" => String::new(),
        "use" => {
            // The last path segment (or the alias): `use a::b as c;` → c.
            let body = after.trim_end().trim_end_matches(';').trim();
            if body.contains('{') || body.ends_with('*') {
                String::new()
            } else if let Some((_, alias)) = body.rsplit_once(" as ") {
                alias.trim().to_string()
            } else {
                body.rsplit("::").next().unwrap_or("").trim().to_string()
            }
        }
        _ => after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    };
    PieceKind::Item {
        keyword: word,
        name,
    }
}

/// Whether the code at `i` starts an item (used to end a statement at its `}`).
fn starts_item(text: &str) -> bool {
    matches!(classify(text), PieceKind::Item { .. }) || text.trim_start().starts_with("#[")
}

/// Splits a cell into its top-level pieces. Whitespace-only leftovers are dropped;
/// an unterminated last piece (an expression without `;`) is kept as a statement.
pub fn split(cell: &str) -> Vec<Piece> {
    let b = cell.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i, mut depth) = (0usize, 0usize, 0i32);
    let push = |from: usize, to: usize, pieces: &mut Vec<Piece>| {
        let text = cell[from..to].trim_matches('\n').to_string();
        if !strip_comments(&text).trim().is_empty() {
            pieces.push(Piece {
                kind: classify(&text),
                text,
            });
        }
    };
    while i < b.len() {
        // evcxr commands (`:dep …`) are one line each.
        if depth == 0 && cell[start..i].trim().is_empty() && b[i] == b':' {
            let end = cell[i..].find('\n').map_or(b.len(), |k| i + k);
            push(start, end, &mut pieces);
            start = end;
            i = end;
            continue;
        }
        if let Some(k) = skip_literal(b, i) {
            i = k.max(i + 1);
            continue;
        }
        match b[i] {
            b'{' | b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    let so_far = &cell[start..=i];
                    let kind = classify(so_far);
                    let is_item = matches!(kind, PieceKind::Item { .. });
                    let next = &cell[i + 1..];
                    let next_trim = next.trim_start();
                    let ends = if is_item {
                        // `struct S { .. }` ends here; `const X: T = S { .. };` goes on.
                        !matches!(&kind, PieceKind::Item { keyword, .. }
                            if ["const", "static", "use", "type"].contains(&keyword.as_str()))
                    } else {
                        !next_trim.starts_with(';')
                            && !next_trim.starts_with('.')
                            && !next_trim.starts_with("else")
                            && !next_trim.starts_with('?')
                            && (starts_item(next_trim)
                                || next_trim.starts_with('{')
                                || next_trim.starts_with("let ")
                                || next_trim.is_empty())
                    };
                    if ends {
                        push(start, i + 1, &mut pieces);
                        start = i + 1;
                    }
                }
            }
            b';' if depth == 0 => {
                push(start, i + 1, &mut pieces);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push(start, b.len(), &mut pieces);
    pieces
}

/// The text with `//` and `/* */` comments removed (strings kept).
pub fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if let Some(k) = skip_literal(b, i) {
            if b[i] == b'/' {
                out.push_str(&text[copied..i]);
                copied = k;
            }
            i = k.max(i + 1);
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cell: &str) -> Vec<(String, String)> {
        split(cell)
            .into_iter()
            .map(|p| {
                let k = match &p.kind {
                    PieceKind::Item { keyword, .. } => keyword.clone(),
                    PieceKind::Let => "let".into(),
                    PieceKind::Statement => "stmt".into(),
                };
                (k, p.name().to_string())
            })
            .collect()
    }

    #[test]
    fn items_statements_and_names() {
        let cell = "use std::path::PathBuf;\nuse tp4::plot::{A, B};\n// c'est un commentaire { avec accolade\nfn f(x: [u8; 3]) -> &'static str {\n    let s = \"}\";\n    let c = '}';\n    s\n}\n#[derive(Debug)]\npub struct S { a: u8 }\nstruct T;\nimpl S { fn g(&self) {} }\nlet data = PathBuf::from(\"x\");\n{\n    println!(\"{}\", r#\"}\"#);\n};\nconst N: usize = { 3 };\ntp4::check(f).show();\nfor i in 0..3 { }\nfn h() {}\n:dep rayon = \"1\"";
        let got = kinds(cell);
        let want: Vec<(&str, &str)> = vec![
            ("use", "PathBuf"),
            ("use", ""),
            ("fn", "f"),
            ("struct", "S"),
            ("struct", "T"),
            ("impl", ""),
            ("let", ""),
            ("stmt", ""),
            ("const", "N"),
            ("stmt", ""),
            ("stmt", ""),
            ("fn", "h"),
            ("stmt", ""),
        ];
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want, "{:#?}", split(cell));
    }

    #[test]
    fn comments_are_stripped_but_strings_kept() {
        assert_eq!(strip_comments("a // b\n/* c */d \"//e\""), "a \nd \"//e\"");
    }

    #[test]
    fn random_concatenations_split_back_into_their_parts() {
        // Any sequence of well-formed pieces splits back into the same sequence.
        let parts = [
            "fn a() -> u8 { if true { 1 } else { 2 } }",
            "let x = vec![1, 2, 3];",
            "{ let y = '{'; println!(\"{y}\"); };",
            "struct P { x: f64 }",
            "impl P { fn n(&self) -> f64 { self.x } }",
            "use rayon::prelude::*;",
            "tp4::ex1::verif::q(a).show();",
            "fn b<'a>(s: &'a str) -> &'a str { s }",
        ];
        let mut seed = 7u64;
        for _ in 0..200 {
            let mut chosen = Vec::new();
            for _ in 0..6 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                chosen.push(parts[(seed >> 33) as usize % parts.len()]);
            }
            let cell = chosen.join("\n");
            let got: Vec<String> = split(&cell).into_iter().map(|p| p.text).collect();
            assert_eq!(got, chosen, "{cell}");
        }
    }
}
