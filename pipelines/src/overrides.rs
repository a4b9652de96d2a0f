//! `DSS_` environment variables that override keys of the configuration file.
//!
//! `DSS_GATEWAY__LISTEN__CN_BEIJING=0.0.0.0:7443` sets `gateway.listen.cn-beijing`: the
//! name after `DSS_` is the key path, `__` between keys, matched without regard to case and
//! with `_` standing for `-`. A variable ending in `__FILE` takes its value from that file
//! (one trailing newline removed): `DSS_REGIONS__CN_BEIJING__STORE__FILE=/run/secrets/db`
//! keeps a password out of both the file and the environment. Variables whose first key is
//! not a top-level key of the configuration (`DSS_CONFIG`, `DSS_LOG`) are not overrides.
//!
//! The overrides are written into the YAML text itself, each on the line of the key it
//! replaces or on a line of its own, so the file is parsed and validated exactly as without
//! them and every problem keeps its file, line and column; a problem in an overriding value
//! names the variable instead (and never shows a value read from a `__FILE`).
//!
//! The configuration crate `config` layers sources the same way but hands back a merged tree
//! without positions; see `docs/architecture.md`.

use std::borrow::Cow;

use dss_policies::diag::{Diagnostic, Diagnostics};
use serde_json::Value as Schema;
use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, Span, StructureStyle};

/// The configuration text with the overrides written in, and where each line came from.
#[derive(Debug)]
pub(crate) struct Overlay {
    /// The text to parse.
    pub(crate) text: String,
    lines: Vec<Line>,
    /// Values read from files, hidden in messages.
    secrets: Vec<String>,
}

/// Where a line of the overlaid text came from.
#[derive(Clone, Debug, Default)]
struct Line {
    /// Its line in the file; `None` for a line an override added.
    file_line: Option<u32>,
    /// Values written into the line.
    edits: Vec<Edit>,
}

/// A value written into a line.
#[derive(Clone, Debug)]
struct Edit {
    /// Its columns in the overlaid line (1-based, end exclusive).
    columns: std::ops::Range<u32>,
    /// Columns it added to the line.
    added: i64,
    /// The variable it came from.
    var: String,
}

/// One override.
struct Var {
    name: String,
    keys: Vec<String>,
    value: String,
    secret: bool,
}

/// Writes the `DSS_` overrides in `env` into `text`.
pub(crate) fn apply(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Overlay, Diagnostics> {
    let schema = serde_json::to_value(schemars::schema_for!(crate::config::ConfigFile))
        .expect("a schema is JSON");
    let mut overlay = Overlay {
        text: text.to_owned(),
        lines: (1..=text.split('\n').count() as u32)
            .map(|n| Line {
                file_line: Some(n),
                edits: Vec::new(),
            })
            .collect(),
        secrets: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut vars = Vec::new();
    for (var, value) in env {
        match read_var(&schema, var, value) {
            Ok(Some(v)) => vars.push(v),
            Ok(None) => {}
            Err(d) => problems.push(d),
        }
    }
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in vars.windows(2) {
        let keys = |v: &Var| v.keys.iter().map(|k| normalize(k)).collect::<Vec<_>>();
        if keys(&pair[0]) == keys(&pair[1]) {
            problems.push(env_problem(
                &pair[1].name,
                format!("sets the same key as {}", pair[0].name),
            ));
        }
    }
    for var in &vars {
        if var.secret {
            overlay.secrets.push(var.value.clone());
        }
        // A file that does not parse is reported by the parser, with its position; the
        // overrides wait for a file that does.
        let Ok(root) = parse(&overlay.text) else {
            break;
        };
        if let Err(message) = overlay.write(&schema, &root, var) {
            problems.push(env_problem(&var.name, message));
        }
    }
    if problems.is_empty() {
        Ok(overlay)
    } else {
        Err(Diagnostics(problems))
    }
}

fn env_problem(var: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: format!("environment variable {var}"),
        line: 0,
        column: 0,
        path: String::new(),
        message,
    }
}

/// The override a variable names, if it is one.
fn read_var(schema: &Schema, name: String, value: String) -> Result<Option<Var>, Diagnostic> {
    let Some(rest) = name.strip_prefix("DSS_") else {
        return Ok(None);
    };
    let mut keys: Vec<String> = rest.split("__").map(str::to_owned).collect();
    let top = properties(schema, schema).map(|p| p.contains_key(&normalize(&keys[0])));
    if top != Some(true) {
        return Ok(None);
    }
    let secret = keys.len() > 1 && keys.last().is_some_and(|k| k == "FILE");
    let value = if secret {
        keys.pop();
        let mut text = std::fs::read_to_string(&value)
            .map_err(|e| env_problem(&name, format!("cannot read {value}: {e}")))?;
        for end in ["\n", "\r"] {
            if text.ends_with(end) {
                text.pop();
            }
        }
        text
    } else {
        value
    };
    if keys.iter().any(String::is_empty) {
        return Err(env_problem(
            &name,
            "empty key in the name (keys are separated by `__`)".into(),
        ));
    }
    Ok(Some(Var {
        name,
        keys,
        value,
        secret,
    }))
}

/// Lowercase, `-` as `_`: how a key is compared with a part of a variable's name.
fn normalize(key: &str) -> String {
    key.to_ascii_lowercase().replace('-', "_")
}

/// A YAML node with its byte span in the text.
#[derive(Debug)]
enum Node {
    Scalar {
        span: Span,
        null: bool,
        multiline: bool,
    },
    Seq {
        span: Span,
        flow: bool,
    },
    Map {
        span: Span,
        flow: bool,
        entries: Vec<(String, Span, Node)>,
    },
    Alias,
}

impl Node {
    fn span(&self) -> Option<Span> {
        match self {
            Node::Scalar { span, .. } | Node::Seq { span, .. } | Node::Map { span, .. } => {
                Some(*span)
            }
            Node::Alias => None,
        }
    }
}

type Events<'a> = Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>;

fn parse(text: &str) -> Result<Node, ()> {
    let mut events: Events<'_> = Parser::new_from_str(text);
    loop {
        match events.next() {
            Some(Ok((Event::StreamStart | Event::DocumentStart(..), _))) => {}
            Some(Ok((Event::StreamEnd, span))) => {
                return Ok(Node::Scalar {
                    span,
                    null: true,
                    multiline: false,
                });
            }
            Some(Ok(first)) => return node(first, &mut events),
            _ => return Err(()),
        }
    }
}

fn next<'a>(events: &mut Events<'a>) -> Result<(Event<'a>, Span), ()> {
    events.next().ok_or(())?.map_err(|_| ())
}

fn node<'a>(first: (Event<'a>, Span), events: &mut Events<'a>) -> Result<Node, ()> {
    Ok(match first {
        (Event::Scalar(value, style, ..), span) => Node::Scalar {
            null: style == ScalarStyle::Plain && matches!(&*value, "" | "~" | "null" | "Null"),
            multiline: span.start.line() != span.end.line(),
            span,
        },
        (Event::SequenceStart(style, ..), start) => loop {
            match next(events)? {
                (Event::SequenceEnd, end) => {
                    break Node::Seq {
                        span: Span::new(start.start, end.end),
                        flow: style == StructureStyle::Flow,
                    };
                }
                item => drop(node(item, events)?),
            }
        },
        (Event::MappingStart(style, ..), start) => {
            let mut entries = Vec::new();
            loop {
                match next(events)? {
                    (Event::MappingEnd, end) => {
                        break Node::Map {
                            span: Span::new(start.start, end.end),
                            flow: style == StructureStyle::Flow,
                            entries,
                        };
                    }
                    (Event::Scalar(key, ..), key_span) => {
                        let value = next(events)?;
                        entries.push((key.into_owned(), key_span, node(value, events)?));
                    }
                    key => {
                        // A complex key: no override can name it.
                        node(key, events)?;
                        let value = next(events)?;
                        node(value, events)?;
                    }
                }
            }
        }
        _ => Node::Alias,
    })
}

fn offset(m: Marker) -> usize {
    m.byte_offset().expect("string input has byte offsets")
}

/// The object properties of a schema node (following `$ref` and the non-null branch of
/// `anyOf`), if it is a struct.
fn properties<'s>(
    root: &'s Schema,
    node: &'s Schema,
) -> Option<&'s serde_json::Map<String, Schema>> {
    let node = resolve(root, node);
    node.get("properties").and_then(Schema::as_object)
}

/// The schema of a map's values, if the node is a map.
fn map_values<'s>(root: &'s Schema, node: &'s Schema) -> Option<&'s Schema> {
    resolve(root, node)
        .get("additionalProperties")
        .filter(|v| v.is_object())
}

fn resolve<'s>(root: &'s Schema, mut node: &'s Schema) -> &'s Schema {
    for _ in 0..8 {
        if let Some(r) = node.get("$ref").and_then(Schema::as_str) {
            match r
                .strip_prefix("#/$defs/")
                .and_then(|name| root.get("$defs")?.get(name))
            {
                Some(def) => node = def,
                None => return node,
            }
        } else if let Some(branch) = node
            .get("anyOf")
            .and_then(Schema::as_array)
            .and_then(|b| b.iter().find(|b| b.get("type") != Some(&"null".into())))
        {
            node = branch;
        } else {
            return node;
        }
    }
    node
}

impl Overlay {
    /// Writes one override into the text.
    fn write(&mut self, root_schema: &Schema, root: &Node, var: &Var) -> Result<(), String> {
        let mut schema = Some(root_schema);
        let mut node = root;
        let mut path: Vec<String> = Vec::new();
        for (i, part) in var.keys.iter().enumerate() {
            let entries = match node {
                Node::Map { entries, .. } => entries,
                Node::Scalar { null: true, .. } => {
                    // `key:` without a value (or an empty file): the rest becomes its value.
                    let keys = new_keys(root_schema, schema, &path, &var.keys[i..])?;
                    return self.replace(node, &format!("{{{}}}", nested(&keys, var)?), var);
                }
                Node::Scalar { .. } | Node::Alias => {
                    return Err(format!("`{}` is a value, not a mapping", path.join(".")));
                }
                Node::Seq { .. } => {
                    return Err(format!(
                        "`{}` is a list; set it whole, as `[a, b]`",
                        path.join(".")
                    ));
                }
            };
            let want = normalize(part);
            let mut matching = entries.iter().filter(|(k, _, _)| normalize(k) == want);
            match (matching.next(), matching.next()) {
                (Some(a), Some(b)) => {
                    return Err(format!("names both `{}` and `{}`", a.0, b.0));
                }
                (Some((key, _, child)), None) => {
                    schema = schema.and_then(|s| child_schema(root_schema, s, key));
                    path.push(key.clone());
                    node = child;
                }
                (None, _) => {
                    let keys = new_keys(root_schema, schema, &path, &var.keys[i..])?;
                    return self.insert(node, &nested(&keys, var)?, var);
                }
            }
        }
        match node {
            Node::Scalar {
                multiline: false, ..
            } => self.replace(node, &encode(var)?, var),
            Node::Seq { flow: true, span }
            | Node::Map {
                flow: true, span, ..
            } if span.start.line() == span.end.line() => self.replace(node, &encode(var)?, var),
            _ => Err(format!(
                "`{}` spans several lines in the file; set the keys under it, or edit the file",
                path.join(".")
            )),
        }
    }

    /// Replaces a node's text.
    fn replace(&mut self, node: &Node, text: &str, var: &Var) -> Result<(), String> {
        let span = node.span().expect("aliases are not replaced");
        let (start, end) = (offset(span.start), offset(span.end));
        if start < end {
            self.splice(span.start, end - start, text, var);
            return Ok(());
        }
        // An empty value is placed at the end of its key: write after the `:`, with a space.
        let rest = &self.text[start..];
        let gap = rest.len() - rest.trim_start_matches(' ').len();
        let colon = usize::from(rest[gap..].starts_with(':'));
        let skip = gap + colon;
        let at = Marker::new(
            span.start.index() + skip,
            span.start.line(),
            span.start.col() + skip,
        )
        .with_byte_offset(Some(start + skip));
        self.splice(at, 0, &format!(" {text}"), var);
        Ok(())
    }

    /// Adds `entry` (`key: value`) to a mapping.
    fn insert(&mut self, map: &Node, entry: &str, var: &Var) -> Result<(), String> {
        let Node::Map {
            span,
            flow,
            entries,
        } = map
        else {
            unreachable!("entries are inserted into mappings")
        };
        if *flow {
            // After the `{`, on its line.
            let at = Marker::new(
                span.start.index() + 1,
                span.start.line(),
                span.start.col() + 1,
            )
            .with_byte_offset(Some(offset(span.start) + 1));
            let text = if entries.is_empty() {
                entry.to_owned()
            } else {
                format!("{entry}, ")
            };
            self.splice(at, 0, &text, var);
            return Ok(());
        }
        // A line of its own before the first key, indented like it.
        let (_, first, _) = entries.first().expect("block mappings have entries");
        let key_at = offset(first.start);
        let line_start = self.text[..key_at].rfind('\n').map_or(0, |i| i + 1);
        let indent = &self.text[line_start..key_at];
        if !indent.bytes().all(|b| b == b' ') {
            return Err("its mapping starts in the middle of a line; edit the file".into());
        }
        let line = format!("{indent}{entry}\n");
        self.text.insert_str(line_start, &line);
        self.lines.insert(
            first.start.line() - 1,
            Line {
                file_line: None,
                edits: vec![Edit {
                    columns: 1..line.chars().count() as u32,
                    added: 0,
                    var: var.name.clone(),
                }],
            },
        );
        Ok(())
    }

    /// Replaces `len` bytes at `at` with `text`, within one line, and notes it.
    fn splice(&mut self, at: Marker, len: usize, text: &str, var: &Var) {
        let start = offset(at);
        let column = at.col() as u32 + 1;
        let old = self.text[start..start + len].chars().count() as u32;
        let new = text.chars().count() as u32;
        self.text.replace_range(start..start + len, text);
        let added = i64::from(new) - i64::from(old);
        let line = &mut self.lines[at.line() - 1];
        // Values written earlier move right, or grow when this one is inside them.
        for e in &mut line.edits {
            if e.columns.start >= column + old {
                e.columns.start = (i64::from(e.columns.start) + added) as u32;
                e.columns.end = (i64::from(e.columns.end) + added) as u32;
            } else if e.columns.end > column {
                e.columns.end = (i64::from(e.columns.end) + added) as u32;
            }
        }
        line.edits.push(Edit {
            columns: column..column + new,
            added,
            var: var.name.clone(),
        });
    }

    /// A problem found in the overlaid text, as it would read in the file, or naming the
    /// variable whose value it is in.
    pub(crate) fn remap(&self, file: &str, mut d: Diagnostic) -> Diagnostic {
        for secret in self.secrets.iter().filter(|s| !s.is_empty()) {
            if d.message.contains(secret.as_str()) {
                d.message = d.message.replace(secret.as_str(), "<redacted>");
            }
        }
        if d.file != file || d.line == 0 {
            return d;
        }
        let Some(line) = self.lines.get(d.line as usize - 1) else {
            return d;
        };
        // The innermost value the column is in, if any.
        let inside = line
            .edits
            .iter()
            .filter(|e| e.columns.contains(&d.column))
            .min_by_key(|e| e.columns.len());
        if let Some(e) = inside.or(line.edits.first().filter(|_| line.file_line.is_none())) {
            d.file = format!("environment variable {}", e.var);
            (d.line, d.column) = (0, 0);
            return d;
        }
        let added: i64 = (line.edits.iter())
            .filter(|e| e.columns.end <= d.column)
            .map(|e| e.added)
            .sum();
        d.line = line.file_line.unwrap_or(0);
        d.column = u32::try_from((i64::from(d.column) - added).max(1)).unwrap_or(1);
        d
    }
}

/// Keys the file does not have yet, named by `parts` under `path`: field names as the schema
/// spells them, map keys (regions, tenants, callers) lowercase with `-` for `_`.
fn new_keys<'s>(
    root: &'s Schema,
    mut schema: Option<&'s Schema>,
    path: &[String],
    parts: &[String],
) -> Result<Vec<String>, String> {
    let mut keys = path.to_vec();
    for part in parts {
        let want = normalize(part);
        let props = schema.and_then(|s| properties(root, s));
        let field = props.and_then(|p| p.keys().find(|k| normalize(k) == want));
        let key = match (field, schema.and_then(|s| map_values(root, s))) {
            (Some(k), _) => k.clone(),
            (None, Some(_)) => new_key(part),
            (None, None) => {
                let expected = props.map_or_else(String::new, |p| {
                    let names: Vec<_> = p.keys().map(String::as_str).collect();
                    format!(" (expected one of: {})", names.join(", "))
                });
                let here = match keys.is_empty() {
                    true => "the top level".to_owned(),
                    false => format!("`{}`", keys.join(".")),
                };
                return Err(format!(
                    "no key {:?} under {here}{expected}",
                    part.to_ascii_lowercase()
                ));
            }
        };
        schema = schema.and_then(|s| child_schema(root, s, &key));
        keys.push(key);
    }
    Ok(keys.split_off(path.len()))
}

/// The schema of `key`'s value in a struct or map schema.
fn child_schema<'s>(root: &'s Schema, schema: &'s Schema, key: &str) -> Option<&'s Schema> {
    properties(root, schema)
        .and_then(|p| p.get(key))
        .or_else(|| map_values(root, schema))
}

/// A new map key (a region, tenant or caller name): lowercase with `-` for `_`.
fn new_key(part: &str) -> String {
    part.to_ascii_lowercase().replace('_', "-")
}

/// `a: {b: value}` for keys `[a, b]`.
fn nested(keys: &[String], var: &Var) -> Result<String, String> {
    let mut text = encode(var)?;
    for (n, key) in keys.iter().rev().enumerate() {
        let key = plain_or_quoted(key);
        text = if n == 0 {
            format!("{key}: {text}")
        } else {
            format!("{key}: {{{text}}}")
        };
    }
    Ok(text)
}

/// The variable's value as YAML that fits on one line inside a flow mapping: numbers and
/// booleans as they are, `[…]` and `{…}` as flow collections, everything else a quoted
/// string.
fn encode(var: &Var) -> Result<String, String> {
    let v = var.value.as_str();
    if var.secret {
        return Ok(quoted(v));
    }
    let number = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && v.parse::<f64>().is_ok();
    if number || matches!(v, "true" | "false") {
        return Ok(v.to_owned());
    }
    if v.starts_with(['[', '{']) {
        if v.contains(['\n', '\r']) {
            return Err("a list or mapping value must fit on one line".into());
        }
        return Ok(v.to_owned());
    }
    Ok(quoted(v))
}

fn plain_or_quoted(key: &str) -> Cow<'_, str> {
    if key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.into()
    } else {
        quoted(key).into()
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The variables of this process, for [`apply`].
pub(crate) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("DSS_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    const FILE: &str = "\
version: 1
regions: { eu-frankfurt: {}, cn-beijing: {} }
tenants:
  eu-sales: { region: eu-frankfurt }
gateway:
  listen:
    eu-frankfurt: 127.0.0.1:7443
";

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dss.yaml");
        std::fs::write(&path, text).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_with_env(&path, env).map_err(|e| match e {
            // Without the temporary directory, so that tests can compare messages.
            ConfigError::Invalid(d) => d
                .to_string()
                .replace(&path.display().to_string(), "dss.yaml"),
            e => e.to_string(),
        })
    }

    fn addr(s: &str) -> std::net::SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_variable_replaces_a_value_and_adds_keys_to_flow_and_block_mappings() {
        let c = load(
            FILE,
            &[
                ("DSS_GATEWAY__LISTEN__EU_FRANKFURT", "0.0.0.0:9443"),
                ("DSS_GATEWAY__METRICS__EU_FRANKFURT", "127.0.0.1:9464"),
                (
                    "DSS_REGIONS__CN_BEIJING__STORE",
                    "sqlite:///var/lib/dss/cn.db",
                ),
                ("DSS_GATEWAY__RATE_LIMITS__PER_CLIENT__PER_SECOND", "40"),
            ],
        )
        .unwrap();
        assert_eq!(c.gateway.listen["eu-frankfurt"], addr("0.0.0.0:9443"));
        assert_eq!(c.gateway.metrics["eu-frankfurt"], addr("127.0.0.1:9464"));
        assert_eq!(c.regions["cn-beijing"], "sqlite:///var/lib/dss/cn.db");
        assert_eq!(c.gateway.rate_limits.per_client.unwrap().per_second, 40);
        // Untouched keys keep the file's values.
        assert!(c.regions["eu-frankfurt"].ends_with("eu-frankfurt.db"));
    }

    #[test]
    fn variables_build_a_section_the_file_does_not_have() {
        let file = FILE.split("gateway:").next().unwrap();
        let c = load(
            file,
            &[
                ("DSS_GATEWAY__LISTEN__CN_BEIJING", "127.0.0.1:7444"),
                ("DSS_GATEWAY__METRICS__CN_BEIJING", "127.0.0.1:9465"),
            ],
        )
        .unwrap();
        assert_eq!(c.gateway.listen["cn-beijing"], addr("127.0.0.1:7444"));
        assert_eq!(c.gateway.metrics["cn-beijing"], addr("127.0.0.1:9465"));
        // Both are written on one line; a problem names the variable of its value.
        for bad in [
            "DSS_GATEWAY__LISTEN__CN_BEIJING",
            "DSS_GATEWAY__METRICS__CN_BEIJING",
        ] {
            let env = [
                ("DSS_GATEWAY__LISTEN__CN_BEIJING", "127.0.0.1:7444"),
                ("DSS_GATEWAY__METRICS__CN_BEIJING", "127.0.0.1:9465"),
            ]
            .map(|(k, v)| (k, if k == bad { "nowhere" } else { v }));
            let e = load(file, &env).unwrap_err();
            assert!(
                e.starts_with(&format!("environment variable {bad}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_key_without_a_value_or_an_empty_file_gets_the_value() {
        let store = [("DSS_REGIONS__EU_FRANKFURT__STORE", "sqlite://x.db")];
        let c = load("version: 1\nregions:\n  eu-frankfurt:\n", &store).unwrap();
        assert_eq!(c.regions["eu-frankfurt"], "sqlite://x.db");
        let c = load(
            "# all from the environment\n",
            &[store[0], ("DSS_VERSION", "1")],
        )
        .unwrap();
        assert_eq!(c.regions["eu-frankfurt"], "sqlite://x.db");
    }

    #[test]
    fn a_file_variable_reads_a_secret_and_hides_it_in_messages() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("store-url");
        std::fs::write(&secret, "postgres://dss:s3cret@db.internal/dss\n").unwrap();
        let secret = secret.display().to_string();
        let c = load(FILE, &[("DSS_REGIONS__CN_BEIJING__STORE__FILE", &secret)]).unwrap();
        assert_eq!(
            c.regions["cn-beijing"],
            "postgres://dss:s3cret@db.internal/dss"
        );

        std::fs::write(&secret, "s3cret").unwrap();
        let e = load(FILE, &[("DSS_TENANTS__EU_SALES__REGION__FILE", &secret)]).unwrap_err();
        assert_eq!(
            e,
            "environment variable DSS_TENANTS__EU_SALES__REGION__FILE: tenants.eu-sales.region: \
             region \"<redacted>\" is not configured (configured: cn-beijing, eu-frankfurt)"
        );

        let e = load(FILE, &[("DSS_DATA_DIR__FILE", "/nonexistent/dss-secret")]).unwrap_err();
        assert!(
            e.starts_with(
                "environment variable DSS_DATA_DIR__FILE: cannot read /nonexistent/dss-secret"
            ),
            "{e}"
        );
    }

    #[test]
    fn problems_keep_the_file_position_or_name_the_variable() {
        let file = FILE.replace(
            "  eu-sales: { region: eu-frankfurt }\n",
            "  eu-sales: { region: eu-frankfurt }\n  hk-sales: { region: ap-hongkong }\n",
        );
        let expected = "dss.yaml:5:23: tenants.hk-sales.region: region \"ap-hongkong\" is not \
                        configured (configured: cn-beijing, eu-frankfurt)";
        assert_eq!(load(&file, &[]).unwrap_err(), expected);
        // A line added above the problem, and a value written on its line before it, move
        // nothing.
        let env = [
            ("DSS_TENANTS__CN_HQ__REGION", "cn-beijing"),
            ("DSS_TENANTS__HK_SALES__SEED__CONTACTS", "5"),
        ];
        assert_eq!(load(&file, &env).unwrap_err(), expected);
        // A problem in a value from the environment names the variable.
        let e = load(FILE, &[("DSS_GATEWAY__LISTEN__EU_FRANKFURT", "everywhere")]).unwrap_err();
        assert_eq!(
            e,
            "environment variable DSS_GATEWAY__LISTEN__EU_FRANKFURT: gateway.listen.eu-frankfurt: \
             \"everywhere\" is not an address (expected host:port, e.g. 127.0.0.1:7443)"
        );
        let var = "DSS_GATEWAY__RATE_LIMITS__PER_CLIENT__PER_SECOND";
        let e = load(FILE, &[(var, "lots")]).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "environment variable {var}: gateway.rate_limits.per_client.per_second: "
            )),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_conflicting_keys_are_errors_and_other_variables_are_not_overrides() {
        let e = load(FILE, &[("DSS_GATEWAY__LISTN__EU_FRANKFURT", "x")]).unwrap_err();
        assert!(
            e.starts_with(
                "environment variable DSS_GATEWAY__LISTN__EU_FRANKFURT: no key \"listn\" under `gateway` (expected one of: callers, listen,"
            ),
            "{e}"
        );
        let secret = tempfile::NamedTempFile::new().unwrap();
        let secret = secret.path().display().to_string();
        let e = load(
            FILE,
            &[("DSS_DATA_DIR", "a"), ("DSS_DATA_DIR__FILE", &secret)],
        )
        .unwrap_err();
        assert!(
            e.contains("DSS_DATA_DIR__FILE: sets the same key as DSS_DATA_DIR"),
            "{e}"
        );
        let e = load(FILE, &[("DSS_TENANTS", "{}")]).unwrap_err();
        assert_eq!(
            e,
            "environment variable DSS_TENANTS: `tenants` spans several lines in the file; set \
             the keys under it, or edit the file"
        );
        let e = load(FILE, &[("DSS_VERSION__MAJOR", "1")]).unwrap_err();
        assert_eq!(
            e,
            "environment variable DSS_VERSION__MAJOR: `version` is a value, not a mapping"
        );
        let c = load(
            FILE,
            &[
                ("DSS_LOG", "debug"),
                ("DSS_CONFIG", "x.yaml"),
                ("PATH_X", "y"),
            ],
        )
        .unwrap();
        assert_eq!(c.gateway.listen["eu-frankfurt"], addr("127.0.0.1:7443"));
    }

    #[test]
    fn without_variables_the_text_is_the_file() {
        let o = super::apply(FILE, Vec::new()).unwrap();
        assert_eq!(o.text, FILE);
    }
}
