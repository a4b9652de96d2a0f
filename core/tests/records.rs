//! The record parser: numbers kept exactly, errors that never quote a value, validated
//! metadata, strict JSON (checked against serde_json on generated documents).

use dss_core::json::record_to_string;
use dss_core::parse::{MAX_DEPTH, SyntaxProblem, parse_value};
use dss_core::{Number, Record, RecordProblem, Value};
use proptest::prelude::*;

const HEAD: &str = r#""id":"c-1","object":"contact","tenant":"t","region":"eu-frankfurt""#;

fn record(fields: &str) -> String {
    format!(r#"{{{HEAD},"fields":{fields}}}"#)
}

fn error_of(json: &str) -> dss_core::RecordError {
    Record::from_json(json.as_bytes()).expect_err(json)
}

#[test]
fn numbers_keep_their_exact_text_through_parse_and_write() {
    for n in [
        "123456789012345678901234567890",
        "12345.670",
        "1e2",
        "-0",
        "1E+2",
        "0.1e-7",
        "-0.0",
        "18446744073709551616",
        "-9223372036854775809",
        "3",
        "-12",
        "2.5",
    ] {
        let json =
            format!(r#"{{{HEAD},"version":0,"fields":{{"amount":{n},"lines":[{{"q":{n}}}]}}}}"#);
        let r = Record::from_json(json.as_bytes()).unwrap();
        assert_eq!(r.fields.get("amount").unwrap().scalar_text().unwrap(), n);
        assert_eq!(record_to_string(&r), json, "the fast writer");
        assert_eq!(serde_json::to_string(&r).unwrap(), json, "serde");
    }
}

#[test]
fn number_api() {
    let n = Number::parse("12345.670").unwrap();
    assert_eq!(n.as_str(), "12345.670");
    assert_eq!(n.to_string(), "12345.670");
    assert_eq!(format!("{n:?}"), "<number>");
    assert_ne!(Number::parse("1e2"), Number::parse("100"));
    assert_eq!(Number::from(-7i64).as_str(), "-7");
    assert_eq!(Number::from(u64::MAX).as_u64(), Some(u64::MAX));
    assert_eq!(Number::from_f64(1e-7).unwrap().as_str(), "1e-7");
    assert_eq!(Number::from_f64(100.0).unwrap().as_str(), "100.0");
    assert!(Number::from_f64(f64::NAN).is_none());
    for bad in [
        "", "-", "01", "1.", ".5", "1e", "+1", "1e+", "0x10", "1 ", "NaN", "１",
    ] {
        assert!(Number::parse(bad).is_none(), "{bad}");
    }
    // serde: integers exactly, floats in the shortest round-trip form.
    let v: Value =
        serde_json::from_str(r#"[18446744073709551615,-5,0.30000000000000004,1e300]"#).unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        "[18446744073709551615,-5,0.30000000000000004,1e300]"
    );
}

/// Every value, key and enum name below is a marker placed where it does not belong; no
/// message may contain any of them.
#[test]
fn no_error_message_quotes_a_marker() {
    const M: &str = "MARKER_7f3a91";
    const N: &str = "8613812345678";
    let cases: Vec<String> = vec![
        format!(
            r#"{{"id":"c","object":"{M}","tenant":"t","region":"eu-frankfurt","fields":{{}}}}"#
        ),
        format!(r#"{{"id":"c","object":"contact","tenant":"t","region":"{M}","fields":{{}}}}"#),
        format!(r#"{{"id":"c","object":"contact","tenant":"t","region":{N},"fields":{{}}}}"#),
        format!(
            r#"{{"id":{N},"object":"contact","tenant":"t","region":"eu-frankfurt","fields":{{}}}}"#
        ),
        format!(
            r#"{{"id":"c","object":"contact","tenant":["{M}"],"region":"eu-frankfurt","fields":{{}}}}"#
        ),
        format!(r#"{{{HEAD},"version":"{M}","fields":{{}}}}"#),
        format!(r#"{{{HEAD},"version":-{N},"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"version":{N}.5,"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"updated_at":"{M}","fields":{{}}}}"#),
        format!(r#"{{{HEAD},"updated_at":{N},"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"provenance":["CN","HK","{M}"],"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"provenance":"{M}","fields":{{}}}}"#),
        format!(r#"{{{HEAD},"subject":"{M}","fields":{{}}}}"#),
        format!(r#"{{{HEAD},"fields":"{M}"}}"#),
        format!(r#"{{{HEAD},"fields":{N}}}"#),
        format!(r#"{{{HEAD},"{M}":1,"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"mobile_{N}":1,"fields":{{}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"{M}":"x"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"country":"{M}"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"country":"UK"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"consent":"{M}"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"legal_basis":"{M}"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"consent_expires":"{M}"}}}}"#),
        format!(
            r#"{{{HEAD},"fields":{{}},"subject":{{"consent_expires":"2025-02-29T00:00:00Z"}}}}"#
        ),
        format!(r#"{{{HEAD},"fields":{{}},"subject":{{"id":{N}}}}}"#),
        // Syntax errors right after, inside or instead of a marker.
        format!(r#"{{{HEAD},"fields":{{"{M}":"{M}" "x":1}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":"{M}\q"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":"{M}\ud800"}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":"{M}"#),
        format!(r#"{{{HEAD},"fields":{{"a":-{M}}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":{N}.}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":0{N}}}}}"#),
        format!(r#"{{{HEAD},"fields":{{"a":"{M}{}"}}}}"#, '\u{1}'),
        format!(r#"{{{HEAD},"fields":{{{M}:1}}}}"#),
        format!(r#"{{{HEAD},"fields":{{}}}} {M}"#),
        format!(r#"["{M}"]"#),
        format!(r#""{M}""#),
        format!(r#"{{"{M}":1}}"#),
    ];
    for json in &cases {
        let err = error_of(json);
        for shown in [err.to_string(), err.reason(), format!("{err:?}")] {
            assert!(
                !shown.contains("MARKER") && !shown.contains("7f3a91"),
                "{json}\n{shown}"
            );
            assert!(
                !shown.contains(N) && !shown.contains("3812345678"),
                "{json}\n{shown}"
            );
        }
        // The serde path (`serde_json::from_str::<Record>`) is just as quiet.
        if let Err(e) = serde_json::from_str::<Record>(json) {
            let shown = e.to_string();
            assert!(
                !shown.contains("MARKER") && !shown.contains(N),
                "{json}\n{shown}"
            );
        }
    }
    // Invalid UTF-8 inside a marker.
    let mut bytes = record(&format!(r#"{{"a":"{M}"}}"#)).into_bytes();
    let at = bytes.len() - 4;
    bytes[at] = 0xff;
    let err = Record::from_json(&bytes).unwrap_err().to_string();
    assert!(!err.contains("MARKER"), "{err}");
}

#[test]
fn errors_name_the_path_and_what_was_expected() {
    let err = error_of(&format!(
        r#"{{{HEAD},"provenance":["CN","HK","cn"],"fields":{{}}}}"#
    ));
    assert_eq!(err.path(), "provenance[2]");
    assert!(
        err.to_string()
            .starts_with("provenance[2]: expected a jurisdiction code"),
        "{err}"
    );
    let err = error_of(&format!(
        r#"{{{HEAD},"fields":{{}},"subject":{{"consent":"yes"}}}}"#
    ));
    assert_eq!(
        err.to_string(),
        "subject.consent: expected one of: granted, refused, withdrawn, pending"
    );
    let err = error_of(&format!(r#"{{{HEAD},"version":"3","fields":{{}}}}"#));
    assert_eq!(err.path(), "version");
    let err = error_of(&format!(r#"{{{HEAD}}}"#));
    assert_eq!(err.to_string(), "fields: missing (required)");
    let err = error_of(&format!(
        r#"{{{HEAD},"region":"cn-beijing","fields":{{}}}}"#
    ));
    assert_eq!(err.to_string(), "region: appears twice");
    let err = error_of(&record("{}").replace(r#""contact""#, r#""Price-List""#));
    assert!(
        err.to_string()
            .starts_with("object: expected a built-in object kind (lead, "),
        "{err}"
    );
    let err = error_of(r#"{"id":"c-1","object":"contact","#);
    assert!(
        matches!(err.problem(), RecordProblem::Syntax(e) if e.problem == SyntaxProblem::Truncated)
    );
    assert_eq!(
        err.to_string(),
        "invalid JSON at column 32: the input ends inside a value"
    );
    let err = error_of("{\n\"id\":\"c-1\",\n  \"object\" \"contact\"}");
    assert_eq!(
        err.to_string(),
        "invalid JSON at line 3, column 12: expected `:` after a key"
    );
    // Null for an optional key is the same as leaving it out.
    let r = Record::from_json(
        format!(
            r#"{{{HEAD},"updated_at":null,"subject":{{"country":null,"id":null}},"fields":{{}}}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(r.updated_at, None);
    assert_eq!(r.subject.unwrap().country, None);
}

#[test]
fn unknown_keys_are_named_only_when_they_look_like_field_names() {
    let named = |key: &str| {
        let err = error_of(&format!(r#"{{{HEAD},"{key}":1,"fields":{{}}}}"#));
        match err.problem() {
            RecordProblem::UnknownKey(k) => {
                let shown = err.to_string();
                assert_eq!(k.is_some(), shown.contains(&format!("`{key}`")), "{shown}");
                assert!(k.is_some() || shown.starts_with("an unknown key (expected one of: id,"));
                k.is_some()
            }
            p => panic!("{p:?}"),
        }
    };
    assert!(named("nme"));
    assert!(named("feilds"));
    assert!(named("_x"));
    assert!(named("custom_12345"));
    assert!(named(&"a".repeat(64)));
    assert!(!named(&"a".repeat(65)));
    assert!(!named("custom_123456"));
    assert!(!named("mobile_13812345678"));
    assert!(!named("de89370400440532013000"));
    assert!(!named("Name"));
    assert!(!named("1st"));
    assert!(!named("li.na@example.cn"));
    assert!(!named("li-na"));
    assert!(!named("王"));
    let err = error_of(&format!(
        r#"{{{HEAD},"fields":{{}},"subject":{{"cuntry":"DE"}}}}"#
    ));
    assert_eq!(err.path(), "subject");
    assert_eq!(
        err.to_string(),
        "subject: unknown key `cuntry` (expected one of: id, country, consent, consent_expires, legal_basis)"
    );
}

#[test]
fn metadata_is_validated() {
    let with_subject =
        |s: &str| record(r#"{}"#).replacen(r#""fields""#, &format!(r#""subject":{s},"fields""#), 1);
    let ok = |s: &str| Record::from_json(with_subject(s).as_bytes()).map(|_| ());
    ok(r#"{"country":"DE","consent_expires":"2028-02-29T23:59:60.5+08:00"}"#).unwrap();
    ok(r#"{"country":"XK"}"#).unwrap();
    for (subject, path) in [
        (r#"{"country":"de"}"#, "subject.country"),
        (r#"{"country":"UK"}"#, "subject.country"),
        (r#"{"country":"DEU"}"#, "subject.country"),
        (r#"{"country":49}"#, "subject.country"),
        (
            r#"{"consent_expires":"2027-02-29T00:00:00Z"}"#,
            "subject.consent_expires",
        ),
        (
            r#"{"consent_expires":"2027-01-01"}"#,
            "subject.consent_expires",
        ),
        (
            r#"{"consent_expires":"2027-01-01T24:00:00Z"}"#,
            "subject.consent_expires",
        ),
    ] {
        let err = ok(subject).unwrap_err();
        assert_eq!(err.path(), path, "{subject}");
    }
    let updated = |t: &str| {
        Record::from_json(format!(r#"{{{HEAD},"updated_at":"{t}","fields":{{}}}}"#).as_bytes())
    };
    assert!(updated("2024-02-29T00:00:00Z").is_ok());
    assert!(updated("2024-02-29t00:00:00z").is_ok());
    assert_eq!(
        updated("2100-02-29T00:00:00Z").unwrap_err().path(),
        "updated_at"
    );
    assert_eq!(
        updated("yesterday").unwrap_err().to_string(),
        "updated_at: expected an RFC 3339 date-time (e.g. 2026-01-01T00:00:00Z)"
    );
}

#[test]
fn strict_json() {
    let problem = |bytes: &[u8]| parse_value(bytes).unwrap_err().problem;
    assert_eq!(problem(b"\"\xff\""), SyntaxProblem::InvalidUtf8);
    assert_eq!(problem(b"\"\xc3\""), SyntaxProblem::InvalidUtf8);
    assert_eq!(
        problem(b"\"\xed\xa0\x80\""),
        SyntaxProblem::InvalidUtf8,
        "an encoded surrogate"
    );
    assert_eq!(problem(br#""\ud800""#), SyntaxProblem::InvalidUnicodeEscape);
    assert_eq!(
        problem(br#""\udc00\ud800""#),
        SyntaxProblem::InvalidUnicodeEscape
    );
    assert_eq!(
        problem(br#""\ud800\u0041""#),
        SyntaxProblem::InvalidUnicodeEscape
    );
    assert_eq!(problem(br#""\x""#), SyntaxProblem::InvalidEscape);
    assert_eq!(problem(b"\"a\tb\""), SyntaxProblem::ControlCharacter);
    assert_eq!(problem(b"[1,]"), SyntaxProblem::ExpectedValue);
    assert_eq!(problem(b"{\"a\":1,}"), SyntaxProblem::ExpectedKey);
    assert_eq!(problem(b"[1 2]"), SyntaxProblem::ExpectedCommaOrBracket);
    assert_eq!(problem(b"01"), SyntaxProblem::TrailingCharacters);
    assert_eq!(problem(b"1.e3"), SyntaxProblem::InvalidNumber);
    assert_eq!(
        problem(b"\xef\xbb\xbf{}"),
        SyntaxProblem::ExpectedValue,
        "no BOM"
    );
    assert_eq!(
        problem(b"\x0c1"),
        SyntaxProblem::ExpectedValue,
        "form feed is not whitespace"
    );
    assert_eq!(problem(b"tru"), SyntaxProblem::Truncated);
    assert_eq!(
        parse_value(br#""\ud83d\ude00 \u00e9\/\b\f\n\r\t\"\\""#).unwrap(),
        Value::from("😀 é/\u{8}\u{c}\n\r\t\"\\")
    );
    assert_eq!(parse_value(b" \t\r\n[ ] ").unwrap(), Value::Array(vec![]));

    // Every proper prefix of a record is refused, without a panic.
    let json = record(r#"{"a":[1,-2.5e+3,"x\u00e9",{"b":null}],"c":true,"d":false}"#);
    Record::from_json(json.as_bytes()).unwrap();
    for end in 0..json.len() {
        let err = Record::from_json(&json.as_bytes()[..end]).unwrap_err();
        assert!(
            matches!(err.problem(), RecordProblem::Syntax(_)),
            "{end}: {err}"
        );
    }
}

#[test]
fn nesting_is_limited_as_before() {
    // The record object and `fields` are two levels; sonic-rs, the parser before, refused a
    // 255th level.
    let nested = |levels: usize| {
        let arrays = levels - 2;
        record(&format!(
            r#"{{"a":{}1{}}}"#,
            "[".repeat(arrays),
            "]".repeat(arrays)
        ))
    };
    Record::from_json(nested(MAX_DEPTH).as_bytes()).unwrap();
    let err = Record::from_json(nested(MAX_DEPTH + 1).as_bytes()).unwrap_err();
    assert!(
        matches!(err.problem(), RecordProblem::Syntax(e) if e.problem == SyntaxProblem::TooDeep),
        "{err}"
    );
    // sonic-rs draws the line at the same place (its serde path, as the old parser used it).
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            assert!(sonic_rs::from_slice::<Value>(nested(MAX_DEPTH).as_bytes()).is_ok());
            assert!(sonic_rs::from_slice::<Value>(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        })
        .unwrap()
        .join()
        .unwrap();
    // Far deeper input is refused as quickly, without exhausting the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        parse_value(deep.as_bytes()).unwrap_err().problem,
        SyntaxProblem::TooDeep
    );
}

#[test]
fn duplicate_keys_inside_fields_keep_the_last_value() {
    let r = Record::from_json(record(r#"{"a":1,"b":{"x":1,"x":"2"},"a":3}"#).as_bytes()).unwrap();
    assert_eq!(
        serde_json::to_string(&r.fields).unwrap(),
        r#"{"a":3,"b":{"x":"2"}}"#
    );
}

// ---- the parser against serde_json on generated documents ----

/// A generated JSON document: its text and what a parser must read from it.
#[derive(Clone, Debug)]
enum Doc {
    Null,
    Bool(bool),
    /// The literal text.
    Number(String),
    /// The string and how it is written (some characters escaped).
    String(String, String),
    Array(Vec<Doc>),
    Object(Vec<(String, String, Doc)>),
}

impl Doc {
    fn write(&self, out: &mut String, ws: &str) {
        match self {
            Doc::Null => out.push_str("null"),
            Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Doc::Number(n) => out.push_str(n),
            Doc::String(_, written) => out.push_str(written),
            Doc::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    item.write(out, ws);
                }
                out.push_str(ws);
                out.push(']');
            }
            Doc::Object(entries) => {
                out.push('{');
                for (i, (_, key, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    out.push_str(key);
                    out.push_str(ws);
                    out.push(':');
                    v.write(out, ws);
                }
                out.push('}');
            }
        }
    }
}

fn number_text() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?"
}

/// A string written with some characters escaped (`\uXXXX`, surrogate pairs included).
fn string_doc() -> impl Strategy<Value = (String, String)> {
    (any::<String>(), any::<u64>()).prop_map(|(s, seed)| {
        let mut written = String::from("\"");
        for (i, c) in s.chars().enumerate() {
            let escape = (seed >> (i % 64)) & 1 == 1;
            match c {
                '"' => written.push_str("\\\""),
                '\\' => written.push_str("\\\\"),
                c if (c as u32) < 0x20 || escape => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        written.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c => written.push(c),
            }
        }
        written.push('"');
        (s, written)
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        Just(Doc::Null),
        any::<bool>().prop_map(Doc::Bool),
        number_text().prop_map(Doc::Number),
        string_doc().prop_map(|(s, w)| Doc::String(s, w)),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Doc::Array),
            prop::collection::vec(("[a-c]{1,2}", inner), 0..8).prop_map(|entries| {
                Doc::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| {
                            let written = serde_json::to_string(&k).unwrap();
                            (k, written, v)
                        })
                        .collect(),
                )
            }),
        ]
    })
}

/// Checks that `ours` (from our parser) and `theirs` (serde_json's) read `doc` alike, and
/// that ours kept every number's text.
fn same(doc: &Doc, ours: &Value, theirs: &serde_json::Value) {
    match (doc, ours, theirs) {
        (Doc::Null, Value::Null, serde_json::Value::Null) => {}
        (Doc::Bool(a), Value::Bool(b), serde_json::Value::Bool(c)) => {
            assert!(a == b && b == c);
        }
        (Doc::Number(text), Value::Number(n), serde_json::Value::Number(m)) => {
            assert_eq!(n.as_str(), text);
            // serde_json's default float parsing may be one unit in the last place off.
            let (a, b) = (n.as_f64(), m.as_f64().unwrap());
            assert!(
                a == b || (a - b).abs() <= a.abs().max(b.abs()) * 1e-15,
                "{text}"
            );
        }
        (Doc::String(s, _), Value::String(t), serde_json::Value::String(u)) => {
            assert!(s == t && t == u);
        }
        (Doc::Array(items), Value::Array(a), serde_json::Value::Array(b)) => {
            assert!(items.len() == a.len() && a.len() == b.len());
            for ((d, x), y) in items.iter().zip(a).zip(b) {
                same(d, x, y);
            }
        }
        (Doc::Object(entries), Value::Object(m), serde_json::Value::Object(o)) => {
            assert_eq!(m.len(), o.len());
            // The last of duplicate keys wins in both.
            for (i, (k, _, d)) in entries.iter().enumerate() {
                if entries[i + 1..].iter().any(|(later, _, _)| later == k) {
                    continue;
                }
                same(d, m.get(k).unwrap(), &o[k]);
            }
            let keys: Vec<&str> = m.iter().map(|(k, _)| k).collect();
            let mut first_seen: Vec<&str> = Vec::new();
            for (k, _, _) in entries {
                if !first_seen.contains(&k.as_str()) {
                    first_seen.push(k);
                }
            }
            assert_eq!(
                keys, first_seen,
                "input order, a duplicate in its first place"
            );
        }
        _ => panic!("different structure: {doc:?} / {ours:?} / {theirs}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parses_like_serde_json_and_keeps_number_text(d in doc(), spaced in any::<bool>()) {
        let mut text = String::new();
        d.write(&mut text, if spaced { " \n\t" } else { "" });
        let ours = parse_value(text.as_bytes()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
        same(&d, &ours, &theirs);
    }

    #[test]
    fn accepts_and_refuses_what_serde_json_does(
        d in doc(),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[],:\"\\ -+.eE01x\x00\x1fatn".to_vec()),
        op in 0..3u8,
    ) {
        let mut text = String::new();
        d.write(&mut text, "");
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len() + 1);
        match op {
            0 if i < bytes.len() => { bytes.remove(i); }
            1 if i < bytes.len() => bytes[i] = byte,
            _ => bytes.insert(i, byte),
        }
        let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
        // serde_json refuses a float beyond f64's range; we keep its text.
        if let Err(e) = &theirs
            && e.to_string().contains("out of range")
        {
            return Ok(());
        }
        prop_assert_eq!(parse_value(&bytes).is_ok(), theirs.is_ok(), "{:?}", String::from_utf8_lossy(&bytes));
    }
}
