//! A JSON writer for records and values, without serde's per-field machinery.
//!
//! Serializing is most of the cost of a dry run's output; writing straight into a byte buffer
//! with a fast path for strings that need no escaping (nearly all) halves it. The output is
//! standard JSON, identical to serde_json's compact form (tested below).

use std::io::Write as _;

use crate::record::{Record, Subject};
use crate::value::{Map, Value};

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte needs escaping (a control character, `"` or `\\`), eight bytes at a time
/// (SWAR: the classic "has a zero byte / has a byte less than n" word tricks).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    #[inline(always)]
    fn word_needs_escape(w: u64) -> bool {
        let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        (below_space
            | has_zero(w ^ (ONES * u64::from(b'"')))
            | has_zero(w ^ (ONES * u64::from(b'\\'))))
            != 0
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let n = bytes.len();
    match n {
        // The last word overlaps the loop's: a byte checked twice is harmless.
        8.. => (0..n / 8).any(|i| word_needs_escape(word(8 * i))) || word_needs_escape(word(n - 8)),
        4..8 => word_needs_escape(u64::from(half(0)) | (u64::from(half(n - 4)) << 32)),
        _ => bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'),
    }
}

/// Appends `v` as compact JSON.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // The number's text exactly as it was read (checked against the JSON grammar then).
        Value::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(m) => write_map(out, m),
    }
}

/// Appends `m` as a compact JSON object.
pub fn write_map(out: &mut Vec<u8>, m: &Map) {
    out.push(b'{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

fn key(out: &mut Vec<u8>, first: &mut bool, k: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `r` as compact JSON, the same text as `serde_json::to_string(r)`, written faster.
pub fn record_to_string(r: &Record) -> String {
    let mut out = Vec::with_capacity(1024);
    write_record(&mut out, r);
    String::from_utf8(out).expect("the writer emits UTF-8 only")
}

/// Appends `r` as compact JSON, as its serde form would be.
pub fn write_record(out: &mut Vec<u8>, r: &Record) {
    let mut first = true;
    out.push(b'{');
    key(out, &mut first, "id");
    write_str(out, &r.id);
    key(out, &mut first, "object");
    write_str(out, r.object.as_str());
    key(out, &mut first, "tenant");
    write_str(out, &r.tenant);
    key(out, &mut first, "region");
    write_str(out, r.region.as_str());
    key(out, &mut first, "version");
    write!(out, "{}", r.version).expect("writing to a Vec cannot fail");
    if let Some(t) = &r.updated_at {
        key(out, &mut first, "updated_at");
        write_str(out, t);
    }
    if let Some(s) = &r.subject {
        key(out, &mut first, "subject");
        write_subject(out, s);
    }
    if !r.provenance.is_empty() {
        key(out, &mut first, "provenance");
        out.push(b'[');
        for (i, p) in r.provenance.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, p.as_str());
        }
        out.push(b']');
    }
    key(out, &mut first, "fields");
    write_map(out, &r.fields);
    out.push(b'}');
}

fn write_subject(out: &mut Vec<u8>, s: &Subject) {
    let mut first = true;
    out.push(b'{');
    if let Some(id) = &s.id {
        key(out, &mut first, "id");
        write_str(out, id);
    }
    if let Some(c) = &s.country {
        key(out, &mut first, "country");
        write_str(out, c);
    }
    if let Some(c) = s.consent {
        key(out, &mut first, "consent");
        write_str(out, c.as_str());
    }
    if let Some(e) = &s.consent_expires {
        key(out, &mut first, "consent_expires");
        write_str(out, e);
    }
    if let Some(b) = s.legal_basis {
        key(out, &mut first, "legal_basis");
        write_str(out, b.as_str());
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        let long = "x".repeat(40);
        let mut cases = vec![
            "plain",
            "quote \" and \\ back",
            "tab\tnew\nline\r",
            "\u{1}\u{8}\u{c}\u{1f}",
            "王晓东 ü €",
            "",
            "\u{7f}\u{80}é",
        ];
        let tails: Vec<String> = (0..20)
            .flat_map(|n| {
                ["\"", "\\", "\n", "\u{0}"].map(|c| format!("{}{c}{}", &long[..n], &long[..n % 7]))
            })
            .collect();
        cases.extend(tails.iter().map(String::as_str));
        for s in cases {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn records_write_exactly_as_serde_does() {
        let text = r#"{"id":"c-1","object":"contact","tenant":"t","region":"eu-frankfurt","version":3,"updated_at":"2026-01-01T00:00:00Z","subject":{"id":"s","country":"DE","consent":"granted","consent_expires":"2027-01-01T00:00:00Z","legal_basis":"contract"},"provenance":["CN","HK"],"fields":{"n":-12,"f":2.5,"big":18446744073709551615,"b":true,"z":null,"a":[1,{"x":"y\n"}],"s":"\"q\""}}"#;
        let r = Record::from_json(text.as_bytes()).unwrap();
        assert_eq!(record_to_string(&r), serde_json::to_string(&r).unwrap());
        let mut out = Vec::new();
        write_record(&mut out, &r);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&r).unwrap()
        );
        let bare = Record::from_json(
            br#"{"id":"c","object":"lead","tenant":"t","region":"cn-beijing","fields":{}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_record(&mut out, &bare);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&bare).unwrap()
        );
    }
}
