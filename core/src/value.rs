//! Field values of a record: a JSON-like tree whose objects keep their key order.
//!
//! Objects are small vectors of `(key, value)` pairs rather than hash maps: CRM objects have
//! tens of fields, for which a linear scan beats hashing and the order of the input is kept in
//! the output. Keys and strings are [`Text`] (compact_str): up to 24 bytes inline, so most
//! keys and field values cost no allocation. `Debug` never prints the content of a string (it
//! may be personal data).
//!
//! Numbers are [`Number`]: the number's literal text exactly as read (`12345.670` stays
//! `12345.670`, `1e2` stays `1e2`), never converted to a float. An amount in an ERP is text
//! with a meaning, and a phone number stored as a JSON number is still a phone number.

use std::fmt;

pub use compact_str::CompactString as Text;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A field value.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A JSON number, kept exactly as read.
    Number(Number),
    /// A string.
    String(Text),
    /// An array.
    Array(Vec<Value>),
    /// An object, in input order.
    Object(Map),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// True for `null`, the empty string, the empty array and the empty object: values that
    /// carry no data.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// Scalar text of a string, number or boolean; `None` for null, arrays and objects.
    pub fn scalar_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::String(s) => Some(s.as_str().into()),
            Value::Number(n) => Some(n.as_str().into()),
            Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(_) => f.write_str("<number>"),
            Value::String(s) => write!(f, "<redacted {} bytes>", s.len()),
            Value::Array(a) => f.debug_list().entries(a).finish(),
            Value::Object(m) => m.fmt(f),
        }
    }
}

/// A JSON number kept as its exact literal text (`12345.670`, `1e2`, `-0`, a 30-digit integer):
/// never rounded through a float. Equality compares the text, so `1e2 != 100`.
///
/// `Display` writes the text. `Debug` does not (a number may be personal data: a phone
/// number or an account number stored as a JSON number).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Text);

impl Number {
    /// `text` as a number; `None` unless it matches the JSON number grammar of RFC 8259
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    pub fn parse(text: &str) -> Option<Self> {
        (scan_number(text.as_bytes(), 0) == Ok(text.len())).then(|| Self(text.into()))
    }

    /// A number whose text was checked against the grammar by the caller.
    pub(crate) fn from_checked(text: &str) -> Self {
        debug_assert_eq!(scan_number(text.as_bytes(), 0), Ok(text.len()));
        Self(text.into())
    }

    /// A finite float in Rust's shortest round-trip form (`2.5`, `100.0`, `1e-7`); `None` for
    /// NaN and infinities, which JSON cannot hold.
    pub fn from_f64(f: f64) -> Option<Self> {
        // `Debug` is the shortest text that reads back as the same f64, with an exponent for
        // very large and very small magnitudes; always valid JSON for a finite float.
        f.is_finite().then(|| Self::from_checked(&format!("{f:?}")))
    }

    /// The number's text, exactly as read.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the text is an integer literal: no fraction and no exponent.
    pub fn is_integer(&self) -> bool {
        !self.0.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    /// The digits of a whole number written with a fraction or an exponent
    /// (`13812345678.0`, `1.3812345678e10`), as an integer literal without sign
    /// (`13812345678`); `None` for integer literals (their text is already that), for
    /// numbers with a fraction, and past 40 digits. A spreadsheet writes a phone number this
    /// way; scanners read these digits too.
    pub fn whole_digits(&self) -> Option<String> {
        if self.is_integer() {
            return None;
        }
        let text = self.0.strip_prefix('-').unwrap_or(&self.0);
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: String = format!("{int}{frac}");
        let point = i32::try_from(int.len()).ok()? + exp;
        if !(1..=40).contains(&point) {
            return None;
        }
        let point = point as usize;
        let whole = if point >= digits.len() {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else if digits[point..].bytes().all(|b| b == b'0') {
            digits[..point].to_owned()
        } else {
            return None;
        };
        let whole = whole.trim_start_matches('0');
        (!whole.is_empty()).then(|| whole.to_owned())
    }

    /// The value as an `i64` when the text is an integer literal in range.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value as a `u64` when the text is a non-negative integer literal in range.
    pub fn as_u64(&self) -> Option<u64> {
        if self.is_integer() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value as the nearest `f64` (lossy: for arithmetic, never for output).
    pub fn as_f64(&self) -> f64 {
        self.0
            .parse()
            .expect("the JSON number grammar is a subset of Rust's float syntax")
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Self(compact_str::ToCompactString::to_compact_string(&n))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Self(compact_str::ToCompactString::to_compact_string(&n))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<number>")
    }
}

/// The end of the JSON number that starts at `bytes[start]`, or the offset of the first byte
/// that breaks the grammar.
pub(crate) fn scan_number(bytes: &[u8], start: usize) -> Result<usize, usize> {
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i + 1),
        _ => return Err(i),
    }
    if bytes.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return Err(end);
        }
        i = end;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return Err(end);
        }
        i = end;
    }
    Ok(i)
}

impl Serialize for Number {
    /// An integer written canonically (no sign on zero, no leading zeros) that fits an `i64`
    /// or a `u64` is serialized as that integer, so every serializer sees a plain integer.
    /// Any other number is serialized as serde_json's [`RawValue`](serde_json::value::RawValue)
    /// holding the exact text: serde_json writes it verbatim (`12345.670`, `1e2`, `-0`), which
    /// no `f64` could do. DSS serializes values with serde_json only (and with the faster
    /// [`crate::json`] writer, which writes the text directly); another serializer would see
    /// serde_json's private one-field struct, and `serde_json::to_value` reads the text back
    /// as a serde_json number (rounded, as serde_json's own numbers are).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(n) = self.as_i64().filter(|n| n.to_string() == self.0.as_str()) {
            return serializer.serialize_i64(n);
        }
        if let Some(n) = self.as_u64().filter(|n| n.to_string() == self.0.as_str()) {
            return serializer.serialize_u64(n);
        }
        let raw = serde_json::value::RawValue::from_string(self.0.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Number {
    /// Integers exactly; floats in Rust's shortest round-trip form (a deserializer that
    /// hands out `f64` has already lost the text).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => Ok(n),
            _ => Err(de::Error::custom("expected a number")),
        }
    }
}

/// An object: keys in input order. Keys are unique (the parser keeps the last duplicate).
#[derive(Clone, Default, PartialEq)]
pub struct Map {
    entries: Vec<(Text, Value)>,
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an existing entry in place or appending.
    pub fn insert(&mut self, key: impl Into<Text>, value: Value) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Sets `key` to `value` while a parser builds the map, the last duplicate winning.
    /// Checking every key against every other is quadratic; `seen`, a 64-bit filter of cheap
    /// key fingerprints (start it at 0 per map), sends only possible duplicates down the
    /// checking path.
    #[inline]
    pub(crate) fn insert_parsed(&mut self, seen: &mut u64, key: Text, value: Value) {
        let bytes = key.as_bytes();
        let fingerprint = bytes.len().wrapping_mul(31)
            ^ usize::from(*bytes.first().unwrap_or(&0)).wrapping_mul(7)
            ^ usize::from(*bytes.last().unwrap_or(&0));
        let bit = 1u64 << (fingerprint & 63);
        if *seen & bit == 0 {
            *seen |= bit;
            self.entries.push((key, value));
        } else {
            self.insert(key, value);
        }
    }

    /// The entries, consumed in order.
    pub fn into_entries(self) -> impl Iterator<Item = (Text, Value)> {
        self.entries.into_iter()
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Entries in order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        self.entries.iter_mut().map(|(k, v)| (k.as_str(), v))
    }

    /// Keeps the entries for which `keep` returns true; `keep` may change the value.
    pub fn retain_mut(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Into<Text>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(a) => {
                let mut seq = serializer.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(m) => m.serialize(serializer),
        }
    }
}

impl Serialize for Map {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(ValueVisitor)
            .and_then(|v| match v {
                Value::Object(m) => Ok(m),
                _ => Err(de::Error::custom("expected an object")),
            })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_i128<E>(self, n: i128) -> Result<Value, E> {
        Ok(Value::Number(Number::from_checked(&n.to_string())))
    }

    fn visit_u128<E>(self, n: u128) -> Result<Value, E> {
        Ok(Value::Number(Number::from_checked(&n.to_string())))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity(access.size_hint().unwrap_or(16).min(64));
        // A duplicate key keeps the last value, as serde_json does.
        let mut seen: u64 = 0;
        while let Some((k, v)) = access.next_entry::<Text, Value>()? {
            map.insert_parsed(&mut seen, k, v);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_numbers_written_with_a_fraction_or_exponent_give_their_digits() {
        let w = |t: &str| Number::parse(t).unwrap().whole_digits();
        assert_eq!(w("13812345678.0").as_deref(), Some("13812345678"));
        assert_eq!(w("1.3812345678e10").as_deref(), Some("13812345678"));
        assert_eq!(w("1.3812345678E+10").as_deref(), Some("13812345678"));
        assert_eq!(w("13812345678e0").as_deref(), Some("13812345678"));
        assert_eq!(w("-8613812345678.00").as_deref(), Some("8613812345678"));
        assert_eq!(w("1e2").as_deref(), Some("100"));
        assert_eq!(w("13812345678"), None);
        assert_eq!(w("12345.67"), None);
        assert_eq!(w("1e400"), None);
        assert_eq!(w("0.0"), None);
    }

    use super::*;

    #[test]
    fn json_round_trip_keeps_key_order() {
        let text = r#"{"z":1,"a":{"b":[true,null,"x",2.5]},"m":"y"}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn debug_redacts_strings() {
        let v: Value = serde_json::from_str(r#"{"name":"Zhang Wei"}"#).unwrap();
        let shown = format!("{v:?}");
        assert!(!shown.contains("Zhang"), "{shown}");
        assert!(shown.contains("redacted 9 bytes"), "{shown}");
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let v: Value = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":2}"#);
        // Many keys, several with equal fingerprints, one duplicate.
        let text = r#"{"ab":1,"cb":2,"ax":3,"name":4,"nome":5,"cb":6,"zz":7}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"ab":1,"cb":6,"ax":3,"name":4,"nome":5,"zz":7}"#
        );
    }
}
