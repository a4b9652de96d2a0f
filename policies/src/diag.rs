//! Diagnostics: problems in policy and pipeline files, each with file, line, column and the
//! key path, collected so that one run reports them all.

use std::fmt;

/// One problem in a YAML file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// File name as given to the loader.
    pub file: String,
    /// 1-based line; 0 if unknown.
    pub line: u32,
    /// 1-based column; 0 if unknown.
    pub column: u32,
    /// Key path, e.g. `rules[2].action`.
    pub path: String,
    /// What is wrong, lowercase, without trailing period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a set of files.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A YAML source: its name (a path, for messages) and its text.
#[derive(Clone, Debug)]
pub struct Source {
    /// Name shown in diagnostics.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

/// Parses YAML into `T`, reporting a failure with file, line, column and key path.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, Diagnostic> {
    let mut path = String::new();
    let result = serde_saphyr::with_deserializer_from_str(&source.text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
        let message = e.without_snippet().to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        let message = message.strip_prefix("error: ").unwrap_or(message);
        let message = match message.find(": ") {
            Some(i) if message.starts_with("line ") => &message[i + 2..],
            _ => message,
        };
        Diagnostic {
            file: source.name.clone(),
            line,
            column,
            path: if path == "." { String::new() } else { path },
            message: message.to_owned(),
        }
    })
}

/// Line and column of the first `key:` in `text`, for problems with map keys (whose position
/// the parser does not keep). `(0, 0)` if not found.
pub fn locate_key(text: &str, key: &str) -> (u32, u32) {
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let unquoted = trimmed.strip_prefix(key).and_then(|r| r.strip_prefix(':'));
        let quoted = trimmed
            .strip_prefix('"')
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix("\":"))
            .or_else(|| {
                trimmed
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_prefix(key))
                    .and_then(|r| r.strip_prefix("':"))
            });
        if unquoted.or(quoted).is_some() {
            return (n as u32 + 1, indent as u32 + 1);
        }
    }
    (0, 0)
}

/// Collects diagnostics for one file.
pub(crate) struct Reporter<'a> {
    pub(crate) source: &'a Source,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub(crate) fn at(
        &mut self,
        line: u32,
        column: u32,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.out.push(Diagnostic {
            file: self.source.name.clone(),
            line,
            column,
            path: path.into(),
            message: message.into(),
        });
    }

    pub(crate) fn loc<T>(
        &mut self,
        loc: &crate::loc::Loc<T>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.at(loc.line, loc.column, path, message);
    }

    pub(crate) fn key(&mut self, key: &str, path: impl Into<String>, message: impl Into<String>) {
        let (line, column) = locate_key(&self.source.text, key);
        self.at(line, column, path, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        version: u32,
        regions: std::collections::BTreeMap<String, Region>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Region {
        jurisdiction: String,
    }

    fn src(text: &str) -> Source {
        Source {
            name: "p/regions.yaml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn parse_errors_name_file_line_column_and_key_path() {
        let d = parse_yaml::<Doc>(&src(
            "version: 1\nregions:\n  cn-beijing:\n    jurisdictoin: CN\n",
        ))
        .unwrap_err();
        assert_eq!((d.line, d.column), (4, 5));
        assert_eq!(d.path, "regions.cn-beijing.jurisdictoin");
        assert!(d.message.contains("unknown field `jurisdictoin`"), "{d}");
        assert!(
            d.to_string()
                .starts_with("p/regions.yaml:4:5: regions.cn-beijing.jurisdictoin: "),
            "{d}"
        );
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let d = parse_yaml::<Doc>(&src(
            "version: 1\nregions:\n  cn-beijing: {jurisdiction: CN\n",
        ))
        .unwrap_err();
        assert_eq!(d.line, 3, "{d}");
        assert!(!d.message.is_empty(), "{d}");
    }

    #[test]
    fn locates_keys() {
        assert_eq!(locate_key("a:\n  b: 1\n  \"c\": 2\n", "b"), (2, 3));
        assert_eq!(locate_key("a:\n  b: 1\n  \"c\": 2\n", "c"), (3, 3));
        assert_eq!(locate_key("a: 1", "z"), (0, 0));
    }
}
