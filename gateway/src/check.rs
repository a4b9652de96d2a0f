//! The dry-run engine of `dss policy check`: JSON Lines in, one decision per record out.
//!
//! A line that is not a record is reported on the error stream with its line number and
//! skipped; the rest are still checked. Nothing written here holds a raw value of a field the
//! policy transforms: the output record is the transformed one, the id is the id as it would
//! cross, and reasons name paths and classes only.

use std::io::{self, BufRead, Write};

use dss_core::{ObjectKind, Record};
use dss_policies::{
    ActionKind, Decision, Evaluator, Keyring, Outcome, Planner, PolicySet, Scanner,
};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

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
    all_fields: bool,
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
            all_fields: false,
            summary: Summary::default(),
        }
    }

    /// List every field in JSON output, including business fields that pass unchanged.
    pub fn all_fields(mut self, yes: bool) -> Self {
        self.all_fields = yes;
        self
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
            // sonic-rs parses fast; its messages quote the input, so a line it refuses is
            // parsed again by serde_json, whose error is reported with values redacted.
            let parsed = sonic_rs::from_slice::<Record>(text).or_else(|_| Record::from_json(text));
            let mut record = match parsed {
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
                "object kind {} is not moved by pipeline {} (objects: {})",
                record.object,
                self.pipeline,
                objects.join(", ")
            ));
        }
        if record.region != route.from {
            return Some(format!(
                "record region {} is not the pipeline's source region {}",
                record.region, route.from
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
        let o = &self.outcome;
        let doc = JsonLine {
            line,
            id: &record.id,
            object: record.object.as_str(),
            route: RouteOut {
                from: route.from.as_str(),
                to: route.to.as_str(),
            },
            decision: o.decision.as_str(),
            policy_version: self.set.version(),
            reasons: Reasons(self.set, o),
            fields: Fields {
                set: self.set,
                outcome: o,
                all: self.all_fields,
            },
            record: (o.decision == Decision::Transfer).then_some(record),
        };
        sonic_rs::to_writer(&mut self.obuf, &doc).map_err(io::Error::other)?;
        self.obuf.push(b'\n');
        Ok(())
    }
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

#[derive(Serialize)]
struct JsonLine<'a> {
    line: u64,
    id: &'a str,
    object: &'a str,
    route: RouteOut<'a>,
    decision: &'static str,
    policy_version: &'a str,
    reasons: Reasons<'a>,
    fields: Fields<'a>,
    record: Option<&'a Record>,
}

#[derive(Serialize)]
struct RouteOut<'a> {
    from: &'a str,
    to: &'a str,
}

/// The field decisions of a record: by default those where the policy did something or
/// personal data was involved; business fields that pass unchanged only with `all`.
struct Fields<'a> {
    set: &'a PolicySet,
    outcome: &'a Outcome,
    all: bool,
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct FieldOut<'a> {
            path: &'a str,
            class: &'static str,
            action: &'static str,
            rule: &'a str,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            detected: bool,
        }
        let mut seq = s.serialize_seq(None)?;
        for d in &self.outcome.fields {
            if !self.all && d.action == ActionKind::Pass && !d.detected && !d.class.is_personal() {
                continue;
            }
            seq.serialize_element(&FieldOut {
                path: &d.path,
                class: d.class.as_str(),
                action: d.action.as_str(),
                rule: self.set.rule_name(d.rule),
                detected: d.detected,
            })?;
        }
        seq.end()
    }
}

struct Reasons<'a>(&'a PolicySet, &'a Outcome);

impl Serialize for Reasons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct ReasonOut<'a> {
            rule: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
            message: &'a str,
        }
        let mut seq = s.serialize_seq(Some(self.1.reasons.len()))?;
        for r in &self.1.reasons {
            seq.serialize_element(&ReasonOut {
                rule: self.0.rule_name(r.rule),
                field: r.field.as_deref(),
                message: &r.message,
            })?;
        }
        seq.end()
    }
}
