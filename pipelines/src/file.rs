//! The `file` connector: JSON Lines or CSV files in and out.
//!
//! **Source.** A file is read from the top; the position of a record is its line number (CSV:
//! its row number, the header being row 0), and the pipeline's source checkpoint keeps the
//! last line read, so a run resumes where the last one stopped and a line appended later is
//! read by the next run. JSON Lines hold canonical records (`docs/records.md`). A CSV row maps
//! to a record by its header: `id` (required), `object` (default: the pipeline's object when
//! it moves one kind), `tenant` (default: the endpoint's), `version`, `updated_at`,
//! `subject.id`, `subject.country`, `subject.consent`, `subject.consent_expires`,
//! `subject.legal_basis`, `provenance` (codes separated by `;`); every other column is a
//! field, a dotted name (`address.city`) a nested one; an empty cell is an absent field.
//!
//! **Destination.** Each delivered outbox row becomes one line: JSON Lines get the record as
//! it crossed, or `{"op":"delete",…}` for a deletion; CSV gets `op` then the configured
//! columns (objects and arrays as JSON text). Delivery is exactly-once across crashes: a
//! sidecar file `<path>.dss-sink` (replaced atomically) holds the last outbox sequence written
//! and the file's length then; on start the file is cut back to that length, and rows at or
//! below that sequence are not written again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use dss_core::{ObjectKind, Record};
use dss_policies::pipeline::FileFormat;
use dss_store::outbox::OutboxRow;
use serde_json::{Map, Value, json};

/// A line of a source file.
pub(crate) struct Line {
    /// Line (JSON Lines) or row (CSV) number, from 1.
    pub(crate) number: i64,
    /// The record as canonical JSON, or why the line is not one.
    pub(crate) body: Result<String, String>,
}

/// Reads records from a JSON Lines or CSV file.
pub(crate) struct FileSource {
    path: PathBuf,
    format: FileFormat,
    defaults: Defaults,
    /// The open file and the number of the last line read from it.
    open: Option<(Reader, i64)>,
    /// The file is followed while something appends to it: a last line without its newline
    /// is still being written and waits for the next read.
    follow: bool,
}

/// What a CSV row takes from the endpoint when its columns do not say.
pub(crate) struct Defaults {
    pub(crate) tenant: String,
    pub(crate) region: String,
    pub(crate) object: Option<ObjectKind>,
}

enum Reader {
    Lines(BufReader<File>),
    Csv(Box<csv::Reader<File>>, csv::StringRecord),
}

impl FileSource {
    pub(crate) fn new(path: &str, format: FileFormat, defaults: Defaults, follow: bool) -> Self {
        Self {
            path: PathBuf::from(path),
            format,
            defaults,
            open: None,
            follow,
        }
    }

    /// Up to `max` lines after line `after`.
    pub(crate) fn read(&mut self, after: i64, max: usize) -> Result<Vec<Line>, String> {
        if self.open.as_ref().is_none_or(|(_, at)| *at != after) {
            self.open = Some((self.reopen()?, 0));
        }
        let (reader, at) = self.open.as_mut().expect("opened");
        let mut out = Vec::new();
        let mut partial = false;
        while out.len() < max {
            let Some(body) = next(
                reader,
                &self.path,
                &self.defaults,
                self.follow,
                &mut partial,
            )?
            else {
                break;
            };
            *at += 1;
            if *at > after {
                if let Some(body) = body {
                    out.push(Line { number: *at, body });
                }
            }
        }
        if partial {
            // The half-written line was consumed from the reader: read it again, whole,
            // from a fresh reader next time.
            let reached = *at;
            self.open = None;
            if out.is_empty() && reached > after {
                out.push(Line {
                    number: reached,
                    body: Ok(String::new()),
                });
            }
            return Ok(out);
        }
        // Blank lines count as lines but carry nothing: report the position reached so the
        // checkpoint moves past them.
        if out.is_empty() && *at > after {
            out.push(Line {
                number: *at,
                body: Ok(String::new()),
            });
        }
        Ok(out)
    }

    fn reopen(&self) -> Result<Reader, String> {
        let file = File::open(&self.path)
            .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?;
        Ok(match self.format {
            FileFormat::Jsonl => Reader::Lines(BufReader::new(file)),
            FileFormat::Csv => {
                let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(file);
                let header = r
                    .headers()
                    .map_err(|e| {
                        format!("{}: cannot read the CSV header: {e}", self.path.display())
                    })?
                    .clone();
                Reader::Csv(Box::new(r), header)
            }
        })
    }
}

/// The next line: `None` at the end (or, when following, at a line still being written:
/// `partial` says so), `Some(None)` for a blank line.
#[allow(clippy::type_complexity)]
fn next(
    reader: &mut Reader,
    path: &Path,
    defaults: &Defaults,
    follow: bool,
    partial: &mut bool,
) -> Result<Option<Option<Result<String, String>>>, String> {
    match reader {
        Reader::Lines(r) => {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) => Ok(None),
                Ok(_) if follow && !line.ends_with('\n') => {
                    *partial = true;
                    Ok(None)
                }
                Ok(_) => {
                    let line = line.trim_end_matches(['\n', '\r']);
                    Ok(Some((!line.trim().is_empty()).then(|| Ok(line.to_owned()))))
                }
                // Not UTF-8: the line is a dead letter, the file goes on.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    Ok(Some(Some(Err("the line is not UTF-8".into()))))
                }
                Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            }
        }
        Reader::Csv(r, header) => {
            let mut row = csv::StringRecord::new();
            match r.read_record(&mut row) {
                Ok(false) => Ok(None),
                Ok(true) => Ok(Some(Some(csv_record(header, &row, defaults)))),
                Err(e) if e.is_io_error() => Err(format!("cannot read {}: {e}", path.display())),
                Err(e) => Ok(Some(Some(Err(csv_error(&e))))),
            }
        }
    }
}

/// A CSV parse error without the row's content.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} columns, the header {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8".into(),
        _ => "invalid CSV".into(),
    }
}

/// A CSV row as a canonical record's JSON.
fn csv_record(
    header: &csv::StringRecord,
    row: &csv::StringRecord,
    defaults: &Defaults,
) -> Result<String, String> {
    let mut record = Map::new();
    let mut subject = Map::new();
    let mut fields = Map::new();
    for (name, cell) in header.iter().zip(row.iter()) {
        if cell.is_empty() {
            continue;
        }
        match name {
            "id" | "object" | "tenant" | "updated_at" => {
                record.insert(name.into(), json!(cell));
            }
            "version" => {
                let v: u64 = cell
                    .parse()
                    .map_err(|_| "column version: not a whole number".to_owned())?;
                record.insert(name.into(), json!(v));
            }
            "provenance" => {
                let codes: Vec<&str> = cell.split(';').map(str::trim).collect();
                record.insert(name.into(), json!(codes));
            }
            _ => match name.strip_prefix("subject.") {
                Some(key) => {
                    subject.insert(key.into(), json!(cell));
                }
                None => insert_path(&mut fields, name, json!(cell)),
            },
        }
    }
    if !record.contains_key("id") {
        return Err("the row has no id".into());
    }
    if !record.contains_key("object") {
        let object = defaults
            .object
            .as_ref()
            .ok_or("the row has no object column and the pipeline moves more than one kind")?;
        record.insert("object".into(), json!(object.as_str()));
    }
    record
        .entry("tenant")
        .or_insert_with(|| json!(defaults.tenant));
    record.insert("region".into(), json!(defaults.region));
    if !subject.is_empty() {
        record.insert("subject".into(), Value::Object(subject));
    }
    record.insert("fields".into(), Value::Object(fields));
    Ok(Value::Object(record).to_string())
}

/// Inserts `value` at a dotted path, making the objects on the way.
fn insert_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.into(), value);
        }
        Some((head, rest)) => {
            let child = map.entry(head).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            insert_path(child.as_object_mut().expect("object"), rest, value);
        }
    }
}

/// Where a file destination stands: the last outbox sequence written and the length then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Position {
    seq: i64,
    len: u64,
}

/// Writes delivered records to a JSON Lines or CSV file, exactly once.
pub(crate) struct FileSink {
    path: PathBuf,
    sidecar: PathBuf,
    format: FileFormat,
    columns: Vec<String>,
}

impl FileSink {
    pub(crate) fn new(path: &str, format: FileFormat, columns: Vec<String>) -> Self {
        let path = PathBuf::from(path);
        let mut sidecar = path.clone().into_os_string();
        sidecar.push(".dss-sink");
        Self {
            path,
            sidecar: sidecar.into(),
            format,
            columns,
        }
    }

    /// Appends `rows` (in outbox order) that were not written before; returns how many were.
    pub(crate) fn write(&self, rows: &[OutboxRow]) -> Result<u64, String> {
        let err = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(err)?;
        let position = match std::fs::read(&self.sidecar) {
            Ok(bytes) => serde_json::from_slice::<Position>(&bytes).map_err(|e| {
                format!(
                    "{} is damaged ({e}); remove it only if the file is complete",
                    self.sidecar.display()
                )
            })?,
            // First delivery: whatever the file holds already stays.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let p = Position {
                    seq: 0,
                    len: file.metadata().map_err(err)?.len(),
                };
                self.save(p)?;
                p
            }
            Err(e) => return Err(err(e)),
        };
        // Cut off what a crash left after the last recorded position.
        file.set_len(position.len).map_err(err)?;
        file.seek(SeekFrom::Start(position.len)).map_err(err)?;
        let mut out = std::io::BufWriter::new(&mut file);
        let mut written = 0;
        let mut last = position.seq;
        for row in rows.iter().filter(|r| r.seq > position.seq) {
            self.line(&mut out, row, position.len == 0 && written == 0)?;
            written += 1;
            last = row.seq;
        }
        out.flush().map_err(err)?;
        drop(out);
        if written > 0 {
            file.sync_all().map_err(err)?;
            let len = file.metadata().map_err(err)?.len();
            self.save(Position { seq: last, len })?;
        }
        Ok(written)
    }

    fn line(&self, out: &mut impl Write, row: &OutboxRow, first: bool) -> Result<(), String> {
        let err = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let deleted = row.op == "delete";
        match self.format {
            FileFormat::Jsonl if deleted => {
                let line = json!({"op": "delete", "object": row.object, "tenant": row.tenant,
                    "id": row.id, "version": row.version});
                writeln!(out, "{line}").map_err(err)
            }
            FileFormat::Jsonl => writeln!(out, "{}", row.body).map_err(err),
            FileFormat::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(out);
                let csv_err = |e: csv::Error| format!("{}: {e}", self.path.display());
                if first {
                    w.write_record(
                        std::iter::once("op").chain(self.columns.iter().map(String::as_str)),
                    )
                    .map_err(csv_err)?;
                }
                let record = if deleted {
                    None
                } else {
                    Some(Record::from_json(row.body.as_bytes()).map_err(|e| e.to_string())?)
                };
                let cells = self.columns.iter().map(|c| match &record {
                    Some(r) => cell(r, c),
                    None => match c.as_str() {
                        "id" => row.id.clone(),
                        "object" => row.object.clone(),
                        "tenant" => row.tenant.clone(),
                        "version" => row.version.to_string(),
                        _ => String::new(),
                    },
                });
                w.write_record(std::iter::once(row.op.clone()).chain(cells))
                    .map_err(csv_err)?;
                w.flush().map_err(err)
            }
        }
    }

    /// Records the position: write a temporary file, sync it, rename it over the sidecar.
    fn save(&self, p: Position) -> Result<(), String> {
        let err = |e: std::io::Error| format!("{}: {e}", self.sidecar.display());
        let mut tmp = self.sidecar.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = File::create(&tmp).map_err(err)?;
        f.write_all(&serde_json::to_vec(&p).expect("serializes"))
            .map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &self.sidecar).map_err(err)
    }
}

/// The text of one CSV column of a record.
fn cell(r: &Record, column: &str) -> String {
    let subject = r.subject.as_ref();
    match column {
        "id" => r.id.clone(),
        "object" => r.object.to_string(),
        "tenant" => r.tenant.to_string(),
        "region" => r.region.to_string(),
        "version" => r.version.to_string(),
        "updated_at" => r.updated_at.clone().unwrap_or_default(),
        "subject.id" => subject.and_then(|s| s.id.clone()).unwrap_or_default(),
        "subject.country" => subject.and_then(|s| s.country.clone()).unwrap_or_default(),
        path => {
            let mut parts = path.split('.');
            let first = parts.next().unwrap_or_default();
            let mut value = r.fields.get(first);
            for part in parts {
                value = match value {
                    Some(dss_core::Value::Object(m)) => m.get(part),
                    _ => None,
                };
            }
            match value {
                None | Some(dss_core::Value::Null) => String::new(),
                Some(v) => match v.scalar_text() {
                    Some(text) => text.into_owned(),
                    None => serde_json::to_string(v).expect("values serialize"),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64) -> OutboxRow {
        OutboxRow {
            seq,
            destination: "p".into(),
            pipeline: "p".into(),
            tenant: "t".into(),
            object: "contact".into(),
            id: format!("c-{seq}"),
            version: 1,
            op: if seq == 4 { "delete" } else { "upsert" }.into(),
            body: format!(r#"{{"id":"c-{seq}"}}"#),
        }
    }

    #[test]
    fn a_file_sink_writes_each_row_once_across_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let sink = FileSink::new(path.to_str().unwrap(), FileFormat::Jsonl, Vec::new());
        assert_eq!(sink.write(&[row(1), row(2), row(3)]).unwrap(), 3);
        // A crash mid-write leaves a torn line after the recorded position.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"c-4\"")
            .unwrap();
        // The restart redelivers from before the crash: rows 2 and 3 again, then 4 and 5.
        assert_eq!(sink.write(&[row(2), row(3), row(4), row(5)]).unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"id":"c-1"}"#,
                r#"{"id":"c-2"}"#,
                r#"{"id":"c-3"}"#,
                r#"{"id":"c-4","object":"contact","op":"delete","tenant":"t","version":1}"#,
                r#"{"id":"c-5"}"#,
            ]
        );
    }

    #[test]
    fn a_followed_file_waits_for_a_line_still_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"id\":1}\n{\"id\":").unwrap();
        let defaults = || Defaults {
            tenant: "t".into(),
            region: "eu-frankfurt".into(),
            object: None,
        };
        let mut source =
            FileSource::new(path.to_str().unwrap(), FileFormat::Jsonl, defaults(), true);
        let first = source.read(0, 10).unwrap();
        let bodies: Vec<_> = first.iter().map(|l| (l.number, l.body.clone())).collect();
        assert_eq!(bodies, [(1, Ok("{\"id\":1}".to_owned()))]);
        assert!(
            source.read(1, 10).unwrap().is_empty(),
            "the half line waits"
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"2}\n")
            .unwrap();
        let second = source.read(1, 10).unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(
            (second[0].number, second[0].body.clone()),
            (2, Ok("{\"id\":2}".to_owned()))
        );
        // Read once (not followed), the last line counts without its newline.
        std::fs::write(&path, "{\"id\":1}\n{\"id\":2}").unwrap();
        let mut once =
            FileSource::new(path.to_str().unwrap(), FileFormat::Jsonl, defaults(), false);
        assert_eq!(once.read(0, 10).unwrap().len(), 2);
    }

    #[test]
    fn csv_rows_become_records_with_nested_fields_and_subject() {
        let header =
            csv::StringRecord::from(vec!["id", "subject.id", "address.city", "name", "note"]);
        let row = csv::StringRecord::from(vec!["c-1", "s-1", "Berlin", "Anna", ""]);
        let defaults = Defaults {
            tenant: "eu-sales".into(),
            region: "eu-frankfurt".into(),
            object: Some(ObjectKind::Contact),
        };
        let json = csv_record(&header, &row, &defaults).unwrap();
        let r = Record::from_json(json.as_bytes()).unwrap();
        assert_eq!(r.object, ObjectKind::Contact);
        assert_eq!(r.subject.unwrap().id.as_deref(), Some("s-1"));
        assert_eq!(
            serde_json::to_string(&r.fields).unwrap(),
            r#"{"address":{"city":"Berlin"},"name":"Anna"}"#
        );
        let no_id = csv::StringRecord::from(vec!["", "s-1", "Berlin", "Anna", ""]);
        assert_eq!(
            csv_record(&header, &no_id, &defaults).unwrap_err(),
            "the row has no id"
        );
    }
}
