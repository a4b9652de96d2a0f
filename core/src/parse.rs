//! A strict JSON parser (RFC 8259) that builds [`Value`]s directly and keeps every number's
//! text exactly as read.
//!
//! serde's data model hands a number to `deserialize_any` as an `f64`, which rounds
//! `123456789012345678901234567890` and forgets the `0` of `12345.670`; this parser never
//! converts a number, it checks it against the grammar and keeps the text.
//!
//! Strictness: whitespace is space, tab, line feed and carriage return only; strings hold no
//! raw control characters; escapes are the eight of RFC 8259 and `\uXXXX`, a surrogate only as
//! a high-low pair; the input MUST be UTF-8; nothing but whitespace may follow the value; and
//! containers nest at most [`MAX_DEPTH`] deep. A duplicate key in an object keeps the last
//! value, as serde_json does.
//!
//! Errors ([`SyntaxError`]) give the line and column and what was expected, never any of the
//! input's text: a record may hold personal data anywhere.
//!
//! Speed: the input is checked as UTF-8 once (the standard library's validator), a string's
//! end is found eight bytes at a time, and keys and short strings are built inline
//! (compact_str, up to 24 bytes) without allocating.

use std::fmt;

use crate::value::{Map, Number, Text, Value, scan_number};

/// How deep arrays and objects may nest, the outermost one counting as 1: the same limit as
/// the sonic-rs parser this one replaced (its serde path refuses a 255th level), so a record
/// accepted before is accepted now.
pub const MAX_DEPTH: usize = 254;

/// Why the input is not JSON: where (line and column, from 1; columns count characters) and
/// what was wrong. Holds no text of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line of the problem, from 1.
    pub line: u32,
    /// Column of the problem in characters, from 1.
    pub column: u32,
    /// What was wrong.
    pub problem: SyntaxProblem,
}

/// What made the input invalid JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxProblem {
    /// The input ends inside a value.
    Truncated,
    /// Something other than a value where a value must be.
    ExpectedValue,
    /// An object key is not a string.
    ExpectedKey,
    /// A key is not followed by `:`.
    ExpectedColon,
    /// An array element is followed by something other than `,` or `]`.
    ExpectedCommaOrBracket,
    /// An object entry is followed by something other than `,` or `}`.
    ExpectedCommaOrBrace,
    /// A number that breaks the grammar (a leading zero, a `.` or exponent without digits).
    InvalidNumber,
    /// A backslash escape that JSON does not define.
    InvalidEscape,
    /// A `\u` escape that is not four hex digits, or a surrogate that is not half of a pair.
    InvalidUnicodeEscape,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than whitespace after the value.
    TrailingCharacters,
}

impl SyntaxProblem {
    /// The problem in words.
    pub fn as_str(self) -> &'static str {
        match self {
            SyntaxProblem::Truncated => "the input ends inside a value",
            SyntaxProblem::ExpectedValue => "expected a value",
            SyntaxProblem::ExpectedKey => "expected a key (a string)",
            SyntaxProblem::ExpectedColon => "expected `:` after a key",
            SyntaxProblem::ExpectedCommaOrBracket => "expected `,` or `]`",
            SyntaxProblem::ExpectedCommaOrBrace => "expected `,` or `}`",
            SyntaxProblem::InvalidNumber => "invalid number",
            SyntaxProblem::InvalidEscape => "invalid escape in a string",
            SyntaxProblem::InvalidUnicodeEscape => {
                "invalid \\u escape (four hex digits; surrogates only as a pair)"
            }
            SyntaxProblem::ControlCharacter => "a control character in a string",
            SyntaxProblem::InvalidUtf8 => "the input is not UTF-8",
            SyntaxProblem::TooDeep => "arrays and objects nested more than 254 deep",
            SyntaxProblem::TrailingCharacters => "characters after the value",
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A JSON Lines caller names the line itself; a one-line input says only the column.
        if self.line == 1 {
            write!(
                f,
                "invalid JSON at column {}: {}",
                self.column,
                self.problem.as_str()
            )
        } else {
            write!(
                f,
                "invalid JSON at line {}, column {}: {}",
                self.line,
                self.column,
                self.problem.as_str()
            )
        }
    }
}

impl std::error::Error for SyntaxError {}

/// Parses one JSON value (with optional whitespace around it).
pub fn parse_value(bytes: &[u8]) -> Result<Value, SyntaxError> {
    let mut p = Parser::new(bytes)?;
    p.skip_whitespace();
    let v = p.value()?;
    p.finish()?;
    Ok(v)
}

/// Parses a JSON document whose top level is expected to be an object, returning its entries
/// in input order with duplicates kept (the caller decides what a duplicate means); `None`
/// when the document is valid JSON but not an object. Nested objects keep the last of
/// duplicate keys, as [`parse_value`] does.
pub(crate) fn parse_object_entries(
    bytes: &[u8],
) -> Result<Option<Vec<(Text, Value)>>, SyntaxError> {
    let mut p = Parser::new(bytes)?;
    p.skip_whitespace();
    if p.peek() != Some(b'{') {
        p.value()?;
        p.finish()?;
        return Ok(None);
    }
    let mut entries = Vec::with_capacity(12);
    p.object_with(|k, v| entries.push((k, v)))?;
    p.finish()?;
    Ok(Some(entries))
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Reused for strings with escapes.
    scratch: String,
}

impl<'a> Parser<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, SyntaxError> {
        let src = std::str::from_utf8(bytes)
            .map_err(|e| error_at(bytes, e.valid_up_to(), SyntaxProblem::InvalidUtf8))?;
        Ok(Self {
            src,
            bytes,
            pos: 0,
            depth: 0,
            scratch: String::new(),
        })
    }

    fn error(&self, at: usize, problem: SyntaxProblem) -> SyntaxError {
        let problem = if at >= self.bytes.len() && problem != SyntaxProblem::TrailingCharacters {
            SyntaxProblem::Truncated
        } else {
            problem
        };
        error_at(self.bytes, at, problem)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn finish(&mut self) -> Result<(), SyntaxError> {
        self.skip_whitespace();
        if self.pos < self.bytes.len() {
            return Err(self.error(self.pos, SyntaxProblem::TrailingCharacters));
        }
        Ok(())
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'{') => {
                let mut map = Map::with_capacity(8);
                let mut seen = 0u64;
                self.object_with(|k, v| map.insert_parsed(&mut seen, k, v))?;
                Ok(Value::Object(map))
            }
            Some(b'[') => self.array(),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                let end = scan_number(self.bytes, start)
                    .map_err(|at| self.error(at, SyntaxProblem::InvalidNumber))?;
                self.pos = end;
                Ok(Value::Number(Number::from_checked(&self.src[start..end])))
            }
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            _ => Err(self.error(self.pos, SyntaxProblem::ExpectedValue)),
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, SyntaxError> {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(w) if w == word => {
                self.pos = end;
                Ok(v)
            }
            _ => {
                // Point at the first byte that differs.
                let same = self.bytes[self.pos..]
                    .iter()
                    .zip(word)
                    .take_while(|(a, b)| a == b)
                    .count();
                Err(self.error(self.pos + same, SyntaxProblem::ExpectedValue))
            }
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.pos, SyntaxProblem::TooDeep));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(self.pos, SyntaxProblem::ExpectedCommaOrBracket)),
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    /// Parses the object at `pos`, handing each entry to `entry` in order.
    fn object_with(&mut self, mut entry: impl FnMut(Text, Value)) -> Result<(), SyntaxError> {
        self.enter()?;
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error(self.pos, SyntaxProblem::ExpectedKey));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error(self.pos, SyntaxProblem::ExpectedColon));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            entry(key, value);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(self.pos, SyntaxProblem::ExpectedCommaOrBrace)),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// The string at `pos` (which is `"`), unescaped.
    fn string(&mut self) -> Result<Text, SyntaxError> {
        let start = self.pos + 1;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                // `start` and `end` sit next to ASCII quotes: both are character boundaries.
                Ok(Text::from(&self.src[start..end]))
            }
            Some(b'\\') => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                scratch.push_str(&self.src[start..end]);
                self.pos = end;
                let result = self.escaped_string(&mut scratch);
                let text = result.map(|()| Text::from(scratch.as_str()));
                self.scratch = scratch;
                text
            }
            Some(_) => Err(self.error(end, SyntaxProblem::ControlCharacter)),
            None => Err(self.error(end, SyntaxProblem::Truncated)),
        }
    }

    /// The rest of a string from the backslash at `pos`, appended to `out`.
    fn escaped_string(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        loop {
            // At a backslash, a quote or a control character.
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let at = self.pos;
                    let short = match self.bytes.get(at + 1) {
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'/') => Some('/'),
                        Some(b'b') => Some('\u{8}'),
                        Some(b'f') => Some('\u{c}'),
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        Some(b'u') => None,
                        _ => return Err(self.error(at + 1, SyntaxProblem::InvalidEscape)),
                    };
                    self.pos = at + 2;
                    match short {
                        Some(c) => out.push(c),
                        None => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                    }
                }
                Some(_) => return Err(self.error(self.pos, SyntaxProblem::ControlCharacter)),
                None => return Err(self.error(self.pos, SyntaxProblem::Truncated)),
            }
            let start = self.pos;
            let end = find_special(self.bytes, start);
            out.push_str(&self.src[start..end]);
            self.pos = end;
        }
    }

    /// The character of the `\u` escape whose four hex digits start at `pos`; for a high
    /// surrogate, the pair. Leaves `pos` after the last hex digit.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.error(self.pos, SyntaxProblem::InvalidUnicodeEscape));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error(self.pos - 4, SyntaxProblem::InvalidUnicodeEscape));
                }
                0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error(self.pos - 4, SyntaxProblem::InvalidUnicodeEscape));
            }
            c => u32::from(c),
        };
        char::from_u32(code)
            .ok_or_else(|| self.error(self.pos, SyntaxProblem::InvalidUnicodeEscape))
    }

    fn hex4(&mut self) -> Result<u16, SyntaxError> {
        let mut n: u16 = 0;
        for i in 0..4 {
            let digit = match self.bytes.get(self.pos + i) {
                Some(&b @ b'0'..=b'9') => b - b'0',
                Some(&b @ b'a'..=b'f') => b - b'a' + 10,
                Some(&b @ b'A'..=b'F') => b - b'A' + 10,
                _ => {
                    return Err(self.error(self.pos + i, SyntaxProblem::InvalidUnicodeEscape));
                }
            };
            n = n << 4 | u16::from(digit);
        }
        self.pos += 4;
        Ok(n)
    }
}

/// The offset of the first `"`, `\` or control character at or after `i` (or the length),
/// eight bytes at a time (SWAR: the "has a zero byte / has a byte less than n" word tricks).
/// A borrow can mark bytes above a true match, never below it, so the lowest mark is exact.
#[inline]
fn find_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let marks = (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
            | has_zero(w ^ (ONES * u64::from(b'"')))
            | has_zero(w ^ (ONES * u64::from(b'\\')));
        if marks != 0 {
            return i + (marks.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b < 0x20 || b == b'"' || b == b'\\' {
            return i;
        }
        i += 1;
    }
    i
}

/// A [`SyntaxError`] at byte offset `at`: line from 1, column in characters from 1.
fn error_at(bytes: &[u8], at: usize, problem: SyntaxProblem) -> SyntaxError {
    let before = &bytes[..at.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    // Count characters, not bytes: every byte but a UTF-8 continuation byte starts one.
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    SyntaxError {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        problem,
    }
}
