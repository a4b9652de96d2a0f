//! The dry-run engine of `dss policy check`: JSON Lines in, one decision per record out.
//!
//! A line that is not a record is reported on the error stream with its line number and
//! skipped; the rest are still checked. Nothing written here holds a raw value of a field the
//! policy transforms: the output record is the transformed one, the id is the id as it would
//! cross, and reasons name paths and classes only.

use std::io::{self, BufRead, Write};

use dss_core::json::{write_record, write_str};
use dss_core::{ObjectKind, Record};
use dss_policies::{
    ActionKind, Decision, Evaluator, Keyring, Outcome, Planner, PolicySet, Scanner,
};

use crate::render::TableWriter;

/// Bytes of JSON output gathered before each write.
const OUT_BLOCK: usize = 256 * 1024;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: one block per record, coloured on a terminal.
    Table,
    /// One JSON object per input record.
    Json,
}

/// Counts over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records read and evaluated.
    pub records: u64,
    /// Records that would cross.
    pub transferred: u64,
    /// Records blocked.
    pub blocked: u64,
    /// Lines that were not valid records for this pipeline.
    pub errors: u64,
    /// Field decisions per action, indexed like [`ActionKind::ALL`].
    pub actions: [u64; 7],
    /// Pieces of personal data found by scanning.
    pub detected: u64,
}

impl Summary {
    /// One line for people.
    pub fn describe(&self) -> String {
        let actions: Vec<String> = ActionKind::ALL
            .iter()
            .zip(self.actions)
            .filter(|(a, n)| *n > 0 && **a != ActionKind::Pass)
            .map(|(a, n)| format!("{a} {n}"))
            .collect();
        format!(
            "{} records: {} transfer, {} blocked, {} errors; field actions: {}; personal data found in free text: {}",
            self.records,
            self.transferred,
            self.blocked,
            self.errors,
            if actions.is_empty() {
                "none".to_owned()
            } else {
                actions.join(", ")
            },
            self.detected
        )
    }
}

/// Checks records of one pipeline.
pub struct Checker<'a> {
    set: &'a PolicySet,
    planner: &'a Planner,
    evaluator: Evaluator<'a>,
    objects: &'a [ObjectKind],
    pipeline: &'a str,
    outcome: Outcome,
    line: Vec<u8>,
    /// Output is serialized here (monomorphic and cheap) and handed to the writer in blocks.
    obuf: Vec<u8>,
    /// Counts so far.
    pub summary: Summary,
}

impl<'a> Checker<'a> {
    /// A checker for `pipeline`, whose route `planner` plans, accepting `objects`.
    pub fn new(
        planner: &'a Planner,
        keys: &'a Keyring,
        scanner: &'a Scanner,
        objects: &'a [ObjectKind],
        pipeline: &'a str,
        now: String,
    ) -> Self {
        Self {
            set: planner.set(),
            planner,
            evaluator: Evaluator::new(planner, keys, scanner).with_now(now),
            objects,
            pipeline,
            outcome: Outcome::default(),
            line: Vec::with_capacity(4096),
            obuf: Vec::with_capacity(OUT_BLOCK + 8192),
            summary: Summary::default(),
        }
    }

    /// List every field in JSON output, including business fields that pass unchanged.
    pub fn all_fields(self, yes: bool) -> Self {
        Self {
            evaluator: self.evaluator.report_all_fields(yes),
            ..self
        }
    }

    /// Reads every line of `input`, writes one result per record to `out` and one message
    /// per bad line to `err` (prefixed with `input_name:line`).
    pub fn run(
        &mut self,
        mut input: impl BufRead,
        input_name: &str,
        format: Format,
        out: &mut dyn Write,
        err: &mut dyn Write,
        color: bool,
    ) -> io::Result<()> {
        let mut table = TableWriter::new(color);
        let mut n: u64 = 0;
        loop {
            self.line.clear();
            if input.read_until(b'\n', &mut self.line)? == 0 {
                break;
            }
            n += 1;
            let text = trim_line(&self.line);
            if text.is_empty() {
                continue;
            }
            let mut record = match Record::from_json(text) {
                Ok(r) => r,
                Err(e) => {
                    self.summary.errors += 1;
                    writeln!(err, "{input_name}:{n}: {e}")?;
                    continue;
                }
            };
            if let Some(problem) = self.mismatch(&record) {
                self.summary.errors += 1;
                writeln!(err, "{input_name}:{n}: {problem}")?;
                continue;
            }
            self.evaluator.evaluate(&mut record, &mut self.outcome);
            self.count();
            match format {
                Format::Json => {
                    self.write_json(n, &record)?;
                    if self.obuf.len() >= OUT_BLOCK {
                        out.write_all(&self.obuf)?;
                        self.obuf.clear();
                    }
                }
                Format::Table => {
                    table.record(self.set, self.planner, n, &record, &self.outcome, out)?
                }
            }
        }
        out.write_all(&self.obuf)?;
        self.obuf.clear();
        out.flush()
    }

    fn mismatch(&self, record: &Record) -> Option<String> {
        let route = self.planner.route();
        if !self.objects.contains(&record.object) {
            let objects: Vec<&str> = self.objects.iter().map(ObjectKind::as_str).collect();
            return Some(format!(
                "object: not a kind pipeline {} moves (objects: {})",
                self.pipeline,
                objects.join(", ")
            ));
        }
        if record.region != route.from {
            return Some(format!(
                "region: not the pipeline's source region {}",
                route.from
            ));
        }
        None
    }

    fn count(&mut self) {
        self.summary.records += 1;
        match self.outcome.decision {
            Decision::Transfer => self.summary.transferred += 1,
            Decision::Block => self.summary.blocked += 1,
        }
        for d in &self.outcome.fields {
            self.summary.actions[d.action as usize] += 1;
            self.summary.detected += u64::from(d.detected);
        }
    }

    fn write_json(&mut self, line: u64, record: &Record) -> io::Result<()> {
        let route = self.planner.route();
        let (set, o, b) = (self.set, &self.outcome, &mut self.obuf);
        write!(b, "{{\"line\":{line}")?;
        kv(b, b",\"id\":", &record.id);
        kv(b, b",\"object\":", record.object.as_str());
        kv(b, b",\"route\":{\"from\":", route.from.as_str());
        kv(b, b",\"to\":", route.to.as_str());
        kv(b, b"},\"decision\":", o.decision.as_str());
        kv(b, b",\"policy_version\":", set.version());
        b.extend_from_slice(b",\"reasons\":[");
        for (i, r) in o.reasons.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            kv(b, b"{\"rule\":", set.rule_name(r.rule));
            if let Some(f) = &r.field {
                kv(b, b",\"field\":", f);
            }
            kv(b, b",\"message\":", &r.message);
            b.push(b'}');
        }
        b.extend_from_slice(b"],\"fields\":[");
        let mut first = true;
        for d in &o.fields {
            if !first {
                b.push(b',');
            }
            first = false;
            kv(b, b"{\"path\":", &d.path);
            kv(b, b",\"class\":", d.class.as_str());
            kv(b, b",\"action\":", d.action.as_str());
            kv(b, b",\"rule\":", set.rule_name(d.rule));
            if d.detected {
                b.extend_from_slice(b",\"detected\":true");
            }
            if d.by_name {
                b.extend_from_slice(b",\"by_name\":true");
            }
            b.push(b'}');
        }
        b.extend_from_slice(b"],\"record\":");
        match o.decision {
            Decision::Transfer => write_record(b, record),
            Decision::Block => b.extend_from_slice(b"null"),
        }
        b.extend_from_slice(b"}\n");
        Ok(())
    }
}

/// Appends `key` (with its punctuation) and `value` as a JSON string.
fn kv(b: &mut Vec<u8>, key: &[u8], value: &str) {
    b.extend_from_slice(key);
    write_str(b, value);
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let text = &line[..end];
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    &text[start..]
}
