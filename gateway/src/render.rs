//! The people-facing table of `dss policy check --format table` and `dss policy explain`.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use dss_core::{FieldPath, Record, Segment, Value};
use dss_policies::eval::PERSONAL_KEY;
use dss_policies::{ActionKind, Decision, Outcome, Planner, PolicySet};

/// The style of an action in tables.
pub fn action_style(action: ActionKind) -> Style {
    let color = match action {
        ActionKind::Pass => AnsiColor::BrightBlack,
        ActionKind::Mask | ActionKind::Generalize => AnsiColor::Yellow,
        ActionKind::Tokenize | ActionKind::Hash => AnsiColor::Cyan,
        ActionKind::Drop | ActionKind::Block => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into()))
}

/// Writes styled text: plain unless colour is on.
pub struct Painter {
    color: bool,
}

impl Painter {
    /// A painter; `color` turns ANSI styles on.
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    /// Writes `text` in `style`, padded to `width` characters.
    pub fn write(
        &self,
        out: &mut dyn Write,
        style: Style,
        text: &str,
        width: usize,
    ) -> io::Result<()> {
        let pad = width.saturating_sub(text.chars().count());
        if self.color {
            write!(out, "{style}{text}{style:#}{:pad$}", "")
        } else {
            write!(out, "{text}{:pad$}", "")
        }
    }
}

/// Renders records as blocks of rows.
pub struct TableWriter {
    painter: Painter,
}

impl TableWriter {
    /// A table writer.
    pub fn new(color: bool) -> Self {
        Self {
            painter: Painter::new(color),
        }
    }

    /// Writes one evaluated record.
    pub fn record(
        &mut self,
        set: &PolicySet,
        planner: &Planner,
        line: u64,
        record: &Record,
        o: &Outcome,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let p = &self.painter;
        let route = planner.route();
        let (verdict, style) = match o.decision {
            Decision::Transfer => (
                "TRANSFER",
                Style::new().bold().fg_color(Some(AnsiColor::Green.into())),
            ),
            Decision::Block => (
                "BLOCK",
                Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            ),
        };
        write!(
            out,
            "line {line}  {}  {}  {} -> {}  ",
            record.id, record.object, route.from, route.to
        )?;
        p.write(out, style, verdict, 0)?;
        writeln!(out)?;
        let width = o
            .fields
            .iter()
            .map(|d| d.path.chars().count())
            .max()
            .unwrap_or(0)
            .max(5)
            + 2;
        for d in &o.fields {
            write!(out, "  ")?;
            p.write(out, Style::new(), &d.path, width)?;
            let class = if d.detected {
                format!("{} (found)", d.class)
            } else if d.by_name {
                format!("{} (by name)", d.class)
            } else {
                d.class.to_string()
            };
            p.write(out, Style::new(), &class, 34)?;
            p.write(out, action_style(d.action), d.action.as_str(), 12)?;
            p.write(out, Style::new().dimmed(), set.rule_name(d.rule), 40)?;
            let shown = match (o.decision, d.action, &*d.path) {
                (Decision::Block, _, _) | (_, ActionKind::Drop | ActionKind::Block, _) => {
                    "-".to_owned()
                }
                (_, _, "$id") => record.id.clone(),
                _ if d.path.contains(PERSONAL_KEY) => "-".to_owned(),
                (_, _, "$subject.id") => record
                    .subject
                    .as_ref()
                    .and_then(|s| s.id.clone())
                    .unwrap_or_default(),
                _ => lookup(record, &d.path).map_or_else(|| "-".to_owned(), show),
            };
            writeln!(out, "{shown}")?;
        }
        for r in &o.reasons {
            write!(out, "  ")?;
            p.write(
                out,
                Style::new().fg_color(Some(AnsiColor::Red.into())),
                "reason",
                8,
            )?;
            writeln!(out, "{} ({})", r.message, set.rule_name(r.rule))?;
        }
        writeln!(out)
    }
}

/// The first value of the output record at a decision path (`[*]` takes the first element).
fn lookup<'r>(record: &'r Record, path: &str) -> Option<&'r Value> {
    let parsed = FieldPath::parse(path).ok()?;
    let mut segments = parsed.segments().iter();
    let Segment::Key(first) = segments.next()? else {
        return None;
    };
    let mut at = record.fields.get(first)?;
    for seg in segments {
        at = match (seg, at) {
            (Segment::Key(k), Value::Object(m)) => m.get(k)?,
            (Segment::AnyIndex, Value::Array(a)) => a.first()?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

fn show(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    if text.chars().count() > 48 {
        let mut t: String = text.chars().take(47).collect();
        t.push('…');
        t
    } else {
        text
    }
}

/// Classes the free-text scanner finds.
const SCANNED: [dss_policies::Class; 5] = [
    dss_policies::Class::Email,
    dss_policies::Class::Phone,
    dss_policies::Class::NationalId,
    dss_policies::Class::BankAccount,
    dss_policies::Class::BankCard,
];

/// Personal and sensitive classes, which an unclassified field's name may name.
fn nameable() -> impl Iterator<Item = dss_policies::Class> {
    dss_policies::Class::ALL
        .iter()
        .copied()
        .filter(|c| c.is_personal())
}

fn params(a: &dss_policies::Action) -> String {
    match a.kind {
        ActionKind::Mask => {
            let m = &a.mask;
            let mut p = Vec::new();
            if let Some(v) = m.keep_first {
                p.push(format!("keep_first={v}"));
            }
            if let Some(v) = m.keep_last {
                p.push(format!("keep_last={v}"));
            }
            if let Some(v) = m.keep_country_code {
                p.push(format!("keep_country_code={v}"));
            }
            if let Some(v) = m.keep_domain {
                p.push(format!("keep_domain={v}"));
            }
            if let Some(v) = &m.style {
                p.push(format!("style={v}"));
            }
            p.join(" ")
        }
        ActionKind::Tokenize | ActionKind::Hash => format!("scope={}", a.scope),
        ActionKind::Generalize => format!("keep={}", a.keep.join(",")),
        _ => String::new(),
    }
}

/// `dss policy explain` as a table.
pub fn explain_table(
    set: &PolicySet,
    planner: &Planner,
    plan: &dss_policies::Plan,
    names: &[String],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let p = Painter::new(color);
    let route = planner.route();
    let governing: Vec<&str> = plan
        .governing
        .iter()
        .map(|&j| set.jurisdiction(j).code.as_str())
        .collect();
    writeln!(
        out,
        "route     {} ({}) -> {} ({})",
        route.from,
        set.jurisdiction(planner.origin()).code,
        route.to,
        set.jurisdiction(planner.destination()).code
    )?;
    writeln!(out, "object    {}", plan.kind)?;
    writeln!(out, "policy    {}", set.version())?;
    if plan.untouched {
        writeln!(out, "same jurisdiction: records pass untouched")?;
        return Ok(());
    }
    writeln!(out, "governed  {}", governing.join(", "))?;
    for r in &plan.requires {
        writeln!(
            out,
            "requires  {} ({}, {})",
            r.condition,
            set.jurisdiction(r.jurisdiction).code,
            set.rule_name(r.rule)
        )?;
    }
    for b in &plan.blocks {
        writeln!(out, "blocks    {} ({})", b.reason, set.rule_name(b.rule))?;
    }
    writeln!(out)?;
    let width = plan
        .fields
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0)
        .max(22)
        + 2;
    p.write(out, Style::new().bold(), "field", width)?;
    p.write(out, Style::new().bold(), "class", 28)?;
    p.write(out, Style::new().bold(), "action", 12)?;
    p.write(out, Style::new().bold(), "rule", 40)?;
    writeln!(out, "params")?;
    let rows = plan
        .fields
        .iter()
        .map(|f| (f.path.to_string(), f))
        .chain([("(unclassified)".to_owned(), &plan.unclassified)])
        .chain(SCANNED.iter().map(|&c| {
            (
                format!(
                    "(found in text) {}",
                    c.as_str().trim_start_matches("personal.")
                ),
                &plan.detected[c.index()],
            )
        }))
        .chain(nameable().map(|c| {
            (
                format!(
                    "(named like) {}",
                    c.as_str().split('.').nth(1).unwrap_or("")
                ),
                &plan.named[c.index()],
            )
        }));
    for (path, f) in rows {
        p.write(out, Style::new(), &path, width)?;
        p.write(out, Style::new(), f.class.as_str(), 28)?;
        p.write(out, action_style(f.action.kind), f.action.kind.as_str(), 12)?;
        p.write(out, Style::new().dimmed(), set.rule_name(f.rule), 40)?;
        writeln!(out, "{}", params(&f.action))?;
    }
    if !names.is_empty() {
        writeln!(out)?;
        for name in names {
            let (class, f, how) = by_name(plan, name);
            p.write(out, Style::new(), name, width)?;
            p.write(out, Style::new(), class, 28)?;
            p.write(out, action_style(f.action.kind), f.action.kind.as_str(), 12)?;
            p.write(out, Style::new().dimmed(), set.rule_name(f.rule), 40)?;
            writeln!(out, "{how}")?;
        }
    }
    Ok(())
}

/// How an unclassified field named `name` is classified on this plan: its class, the
/// plan entry that decides it, and how the class was chosen. A name the plan classifies is
/// shown as the plan has it.
fn by_name<'p>(
    plan: &'p dss_policies::Plan,
    name: &str,
) -> (
    &'static str,
    &'p dss_policies::plan::FieldPlan,
    &'static str,
) {
    if let Some(f) = plan.fields.iter().find(|f| &*f.path == name) {
        return (f.class.as_str(), f, "declared");
    }
    let hint = dss_policies::by_name::classify_name(name);
    match hint.class {
        Some(c) => (c.as_str(), &plan.named[c.index()], "by name"),
        None if hint.business_numbers => (
            "unclassified",
            &plan.unclassified,
            "by name: holds business numbers",
        ),
        None => ("unclassified", &plan.unclassified, "no class in the name"),
    }
}

/// `dss policy explain` as JSON.
pub fn explain_json(
    set: &PolicySet,
    planner: &Planner,
    plan: &dss_policies::Plan,
    names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    let field = |f: &dss_policies::plan::FieldPlan| {
        serde_json::json!({
            "path": &*f.path,
            "class": f.class.as_str(),
            "action": f.action.kind.as_str(),
            "rule": set.rule_name(f.rule),
            "params": params(&f.action),
        })
    };
    let route = planner.route();
    let doc = serde_json::json!({
        "route": { "from": route.from.as_str(), "to": route.to.as_str() },
        "object": plan.kind.as_str(),
        "policy_version": set.version(),
        "untouched": plan.untouched,
        "governing": plan.governing.iter().map(|&j| set.jurisdiction(j).code.as_str()).collect::<Vec<_>>(),
        "requires": plan.requires.iter().map(|r| serde_json::json!({
            "condition": r.condition.as_str(),
            "jurisdiction": set.jurisdiction(r.jurisdiction).code.as_str(),
            "rule": set.rule_name(r.rule),
        })).collect::<Vec<_>>(),
        "blocks": plan.blocks.iter().map(|b| serde_json::json!({ "reason": b.reason, "rule": set.rule_name(b.rule) })).collect::<Vec<_>>(),
        "fields": plan.fields.iter().map(field).collect::<Vec<_>>(),
        "unclassified": field(&plan.unclassified),
        "found_in_text": SCANNED.iter().map(|&c| field(&plan.detected[c.index()])).collect::<Vec<_>>(),
        "classified_by_name": nameable().map(|c| field(&plan.named[c.index()])).collect::<Vec<_>>(),
        "names": names.iter().map(|n| {
            let (class, f, how) = by_name(plan, n);
            let mut row = field(f);
            row["path"] = n.as_str().into();
            row["class"] = class.into();
            row["how"] = how.into();
            row
        }).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
