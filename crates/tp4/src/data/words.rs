//! The word splitter of the lab: THE definition of a word for W7 wordcount,
//! exercise 3 and every other path that counts words (`workloads.md`, W7).
//!
//! A word is a maximal run of characters that are not Unicode `White_Space`, exactly
//! as Rust's [`char::is_whitespace`] decides: the ASCII tab, line feed, vertical tab
//! (U+000B), form feed, carriage return and space, then U+0085, U+00A0 (no-break
//! space), U+1680, U+2000–U+200A (en/em spaces…), U+2028, U+2029, U+202F, U+205F and
//! U+3000. Python's `str.split()` agrees except on U+001C–U+001F (the "information
//! separators"), which Python splits on and `White_Space` does not include: the lab
//! follows `char::is_whitespace`, so those four control characters are word bytes.
//!
//! The text is handled as bytes, never decoded as a whole:
//! - a byte below 0x80 is white space exactly when it is one of `\t \n \x0B \x0C \r`
//!   and space (one table lookup), so the ASCII corpus of the lab costs one load and
//!   one test per byte, the same as `u8::is_ascii_whitespace`;
//! - a byte ≥ 0x80 is looked at further only when it can start one of the multi-byte
//!   white spaces above (0xC2, 0xE1, 0xE2, 0xE3), and then only the next two bytes;
//! - bytes that are not valid UTF-8 are word bytes: a word is what lies between two
//!   complete, correctly encoded white-space characters, which is also what decoding
//!   with [`String::from_utf8_lossy`] then splitting on `char::is_whitespace` finds.
//!
//! Every multi-byte white space is made of bytes ≥ 0x80, so cutting a text right
//! after an ASCII white-space byte (a newline, for instance) never splits a character
//! nor a word: the line-aligned ranges of [`super::chunks`] are word-aligned too.

/// Class of a byte in [`CLASS`]: part of a word.
const WORD: u8 = 0;
/// Class of a byte in [`CLASS`]: an ASCII white space.
const WHITE: u8 = 1;
/// Class of a byte in [`CLASS`]: may start a multi-byte white space.
const LEAD: u8 = 2;

/// The class of every byte value.
const CLASS: [u8; 256] = {
    let mut t = [WORD; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => WHITE,
            0xC2 | 0xE1 | 0xE2 | 0xE3 => LEAD,
            _ => WORD,
        };
        b += 1;
    }
    t
};

/// Whether a byte below 0x80 is white space (`\t \n \x0B \x0C \r` and space). Bytes
/// ≥ 0x80 give `false`: see [`white_len`] for them.
#[inline(always)]
pub fn is_ascii_white(b: u8) -> bool {
    CLASS[b as usize] == WHITE
}

/// The length in bytes (1, 2 or 3) of the white-space character that starts at
/// `text[i]`, or 0 when `text[i]` does not start one. Panics if `i` is out of bounds.
#[inline(always)]
pub fn white_len(text: &[u8], i: usize) -> usize {
    match CLASS[text[i] as usize] {
        WORD => 0,
        WHITE => 1,
        _ => multi_byte_white(&text[i..]),
    }
}

/// The length of the multi-byte white space at the start of `s`, or 0.
#[inline]
fn multi_byte_white(s: &[u8]) -> usize {
    match s {
        [0xC2, 0x85 | 0xA0, ..] => 2, // U+0085, U+00A0
        [0xE1, 0x9A, 0x80, ..] => 3,  // U+1680
        [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF, ..] => 3, // U+2000–200A, 2028, 2029, 202F
        [0xE2, 0x81, 0x9F, ..] | [0xE3, 0x80, 0x80, ..] => 3, // U+205F, U+3000
        _ => 0,
    }
}

/// The words of `text`, in order (an iterator of byte slices, no allocation).
pub fn words(text: &[u8]) -> Words<'_> {
    Words { text, pos: 0 }
}

/// Calls `f` on each word of `text`, in order: the loop form of [`words`].
#[inline]
pub fn for_each_word(text: &[u8], mut f: impl FnMut(&[u8])) {
    for w in words(text) {
        f(w);
    }
}

/// Number of words of `text`.
pub fn count(text: &[u8]) -> usize {
    words(text).count()
}

/// Iterator over the words of a byte text, see [`words`].
#[derive(Debug, Clone)]
pub struct Words<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let text = self.text;
        let mut i = self.pos;
        // Skip the white space before the word.
        loop {
            if i >= text.len() {
                self.pos = i;
                return None;
            }
            match white_len(text, i) {
                0 => break,
                n => i += n,
            }
        }
        let start = i;
        while i < text.len() {
            let n = white_len(text, i);
            if n > 0 {
                self.pos = i + n;
                return Some(&text[start..i]);
            }
            i += 1;
        }
        self.pos = i;
        Some(&text[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&[u8]> {
        words(text.as_bytes()).collect()
    }

    /// The reference: decode, then split on `char::is_whitespace`.
    fn reference(text: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(text)
            .split(char::is_whitespace)
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn every_white_space_character_separates_and_only_those() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            let expected: Vec<&[u8]> = if c.is_whitespace() {
                vec![b"a", b"b"]
            } else {
                vec![text.as_bytes()]
            };
            assert_eq!(split(&text), expected, "U+{:04X}", c as u32);
        }
        assert_eq!(split("a\u{1F}b").len(), 1, "U+001F is not White_Space");
    }

    #[test]
    fn edge_cases() {
        assert!(split("").is_empty());
        assert!(split(" \t\n\u{a0}\u{3000}").is_empty());
        assert_eq!(split("mot"), vec![b"mot"]);
        assert_eq!(split("  deux\r\nmots"), vec![&b"deux"[..], b"mots"]);
        assert_eq!(
            split("été\u{2003}à\u{a0}x"),
            vec!["été".as_bytes(), "à".as_bytes(), b"x"]
        );
        // Invalid UTF-8 and truncated sequences are word bytes.
        let bytes = b"a\xC2 b\xE2\x80 c\xE2\x80\x8Ad \xff";
        let got: Vec<&[u8]> = words(bytes).collect();
        assert_eq!(got, vec![&b"a\xC2"[..], b"b\xE2\x80", b"c", b"d", b"\xff"]);
        assert_eq!(count(b"a b\x0Bc"), 3);
    }

    #[test]
    fn random_texts_match_the_decoded_reference() {
        let pieces: [&[u8]; 16] = [
            b"a",
            b"mot",
            b" ",
            b"\t",
            b"\n",
            b"\r\n",
            b"\x0B",
            b"\x1C",
            "é".as_bytes(),
            "\u{a0}".as_bytes(),
            "\u{2003}".as_bytes(),
            "\u{3000}".as_bytes(),
            "日本".as_bytes(),
            b"\xC2",
            b"\xE2\x80",
            b"\xff",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2_000 {
            let mut text = Vec::new();
            for _ in 0..(state % 24) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.extend_from_slice(pieces[(state >> 60) as usize]);
            }
            let got: Vec<String> = words(&text)
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            assert_eq!(got, reference(&text), "{text:?}");
        }
    }
}
