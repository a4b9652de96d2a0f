//! Field paths: where a value sits inside a record's fields.
//!
//! Syntax: keys separated by dots, `[*]` for every element of an array, `[N]` for one.
//! `name`, `addresses[*].email`, `lines[0].sku`. A key may hold any character but `.`, `[`
//! and `]`.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// Every element of an array (`[*]`).
    AnyIndex,
    /// One element of an array (`[N]`).
    Index(usize),
}

/// A parsed field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

/// Why a field path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    #[error("empty field path")]
    Empty,
    /// A key between dots is empty.
    #[error("empty key at byte {0}")]
    EmptyKey(usize),
    /// Something other than `*` or a number between brackets, or an unclosed bracket.
    #[error("bad index at byte {0} (expected `[*]` or `[N]`)")]
    BadIndex(usize),
    /// An index that does not follow a key or another index.
    #[error("index without a key at byte {0}")]
    IndexWithoutKey(usize),
}

impl FieldPath {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        let bytes = text.as_bytes();
        let mut segments = Vec::new();
        let mut i = 0;
        let mut key_start = 0;
        let mut after_index = false;
        loop {
            let at_end = i == bytes.len();
            let b = if at_end { b'.' } else { bytes[i] };
            match b {
                b'.' | b'[' => {
                    if i > key_start {
                        segments.push(Segment::Key(text[key_start..i].to_owned()));
                    } else if !(after_index && (b == b'[' || (b == b'.' && !at_end))) {
                        return Err(if b == b'[' && segments.is_empty() {
                            PathError::IndexWithoutKey(i)
                        } else {
                            PathError::EmptyKey(i)
                        });
                    }
                    after_index = false;
                    if at_end {
                        break;
                    }
                    if b == b'[' {
                        let close = text[i..]
                            .find(']')
                            .map(|o| i + o)
                            .ok_or(PathError::BadIndex(i))?;
                        let inner = &text[i + 1..close];
                        let seg = if inner == "*" {
                            Segment::AnyIndex
                        } else {
                            inner
                                .parse()
                                .map(Segment::Index)
                                .map_err(|_| PathError::BadIndex(i))?
                        };
                        segments.push(seg);
                        i = close + 1;
                        after_index = true;
                        if i < bytes.len() && !matches!(bytes[i], b'.' | b'[') {
                            return Err(PathError::BadIndex(i));
                        }
                        if i < bytes.len() && bytes[i] == b'.' {
                            i += 1;
                            after_index = false;
                        }
                        key_start = i;
                        if i == bytes.len() {
                            break;
                        }
                        continue;
                    }
                    key_start = i + 1;
                }
                b']' => return Err(PathError::BadIndex(i)),
                _ => {}
            }
            i += 1;
        }
        Ok(Self { segments })
    }

    /// A path of one key.
    pub fn key(key: &str) -> Self {
        Self {
            segments: vec![Segment::Key(key.to_owned())],
        }
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// A new path with `segment` appended.
    pub fn child(&self, segment: Segment) -> Self {
        let mut segments = self.segments.clone();
        segments.push(segment);
        Self { segments }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::AnyIndex => f.write_str("[*]")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for FieldPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        for text in [
            "name",
            "addresses[*].email",
            "lines[0].sku",
            "a.b.c",
            "m[*][2].x",
        ] {
            let p = FieldPath::parse(text).unwrap();
            assert_eq!(p.to_string(), text);
        }
        let p = FieldPath::parse("addresses[*].email").unwrap();
        assert_eq!(
            p.segments(),
            &[
                Segment::Key("addresses".into()),
                Segment::AnyIndex,
                Segment::Key("email".into())
            ]
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        assert_eq!(FieldPath::parse(""), Err(PathError::Empty));
        assert_eq!(FieldPath::parse("a..b"), Err(PathError::EmptyKey(2)));
        assert_eq!(FieldPath::parse("a."), Err(PathError::EmptyKey(2)));
        assert_eq!(FieldPath::parse("[0]"), Err(PathError::IndexWithoutKey(0)));
        assert_eq!(FieldPath::parse("a[x]"), Err(PathError::BadIndex(1)));
        assert_eq!(FieldPath::parse("a[1"), Err(PathError::BadIndex(1)));
        assert_eq!(FieldPath::parse("a[1]b"), Err(PathError::BadIndex(4)));
        assert!(FieldPath::parse("a]").is_err());
    }
}
