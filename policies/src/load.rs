//! Loading a policy set: parse every file, merge, validate, index, hash.
//!
//! All problems are collected and reported together, each as
//! `file:line:column: key.path: message`; unknown names list the valid choices.

use std::collections::BTreeMap;
use std::sync::Arc;

use dss_core::{FieldPath, JurisdictionCode, ObjectKind, RegionId, Segment};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::action::{Action, ActionKind, Condition, Export, default_keep};
use crate::class::{CLASS_COUNT, Class, ClassPattern};
use crate::diag::{Diagnostic, Diagnostics, Reporter, Source, parse_yaml};
use crate::loc::Loc;
use crate::set::{Effect, JId, Jurisdiction, Level, PolicySet, Rule, SubjectThreshold};
use crate::spec::{MaskSpec, PolicyFile, RuleSpec};
use crate::testing::PolicyTest;

/// The scope of tokens when neither a rule nor the policy names one.
const FALLBACK_SCOPE: &str = "dss";

impl PolicySet {
    /// Loads a policy set from its YAML files (their names are used in diagnostics).
    pub fn from_sources(sources: &[Source]) -> Result<PolicySet, Diagnostics> {
        let mut diags = Vec::new();
        let mut files = Vec::new();
        for source in sources {
            match parse_yaml::<PolicyFile>(source) {
                Ok(file) => files.push((source, file)),
                Err(d) => diags.push(d),
            }
        }
        let set = build(&files, &mut diags);
        if diags.is_empty() {
            Ok(set)
        } else {
            Err(Diagnostics(diags))
        }
    }
}

/// Merges the files' map sections, reporting keys defined twice.
fn merge<'a, V>(
    files: &'a [(&'a Source, PolicyFile)],
    diags: &mut Vec<Diagnostic>,
    section: &str,
    get: impl Fn(&'a PolicyFile) -> &'a BTreeMap<String, V>,
) -> BTreeMap<&'a str, (&'a Source, &'a V)> {
    let mut out: BTreeMap<&str, (&Source, &V)> = BTreeMap::new();
    for (source, file) in files {
        for (key, value) in get(file) {
            if let Some((first, _)) = out.get(key.as_str()) {
                Reporter { source, out: diags }.key(
                    key,
                    format!("{section}.{key}"),
                    format!("defined twice (first in {})", first.name),
                );
            } else {
                out.insert(key, (source, value));
            }
        }
    }
    out
}

fn build(files: &[(&Source, PolicyFile)], diags: &mut Vec<Diagnostic>) -> PolicySet {
    for (source, file) in files {
        if file.version.value != 1 {
            Reporter { source, out: diags }.loc(
                &file.version,
                "version",
                format!("unsupported version {} (expected 1)", file.version.value),
            );
        }
    }

    // Levels.
    let level_specs = merge(files, diags, "levels", |f| &f.levels);
    let mut levels = Vec::new();
    for (name, (source, spec)) in &level_specs {
        let mut r = Reporter { source, out: diags };
        let path = format!("levels.{name}");
        let export = Export::parse(&spec.export).unwrap_or_else(|| {
            r.loc(
                &spec.export,
                format!("{path}.export"),
                format!(
                    "unknown export {:?} (expected one of: free, conditional, prohibited)",
                    spec.export.value
                ),
            );
            Export::Prohibited
        });
        let requires = conditions(&mut r, &spec.requires, &format!("{path}.requires"));
        let mut chosen: [Option<(u8, ActionKind)>; CLASS_COUNT] = [None; CLASS_COUNT];
        for (pattern, action) in &spec.actions {
            let Some(p) = ClassPattern::parse(pattern) else {
                r.key(pattern, format!("{path}.actions.{pattern}"), format!("unknown class {pattern:?} (expected one of: {}, personal.*, sensitive.*, *)", Class::all_names()));
                continue;
            };
            // An unknown action was reported; count the class as decided so it is not
            // reported a second time as missing.
            let kind = action_kind(&mut r, action, &format!("{path}.actions.{pattern}"))
                .unwrap_or(ActionKind::Block);
            for &c in Class::ALL {
                if p.matches(c) && chosen[c.index()].is_none_or(|(s, _)| s < p.specificity()) {
                    chosen[c.index()] = Some((p.specificity(), kind));
                }
            }
        }
        let mut actions = [ActionKind::Block; CLASS_COUNT];
        for &c in Class::ALL {
            match chosen[c.index()] {
                Some((_, kind)) if c.is_sensitive() && kind < ActionKind::Drop => {
                    r.key(name, format!("{path}.actions"), format!("{c} gets {kind}, but sensitive data never crosses a border (use drop or block)"));
                }
                Some((_, kind)) => actions[c.index()] = kind,
                None => r.key(
                    name,
                    format!("{path}.actions"),
                    format!("no action for class {c} (add it, a class group or `*`)"),
                ),
            }
        }
        levels.push(Level {
            name: (*name).to_owned(),
            export,
            requires,
            actions,
        });
    }
    let level_names = || {
        levels
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };

    // Jurisdictions.
    let jur_specs = merge(files, diags, "jurisdictions", |f| &f.jurisdictions);
    let mut jurisdictions = Vec::new();
    let mut jurisdiction_index = FxHashMap::default();
    for (code, (source, spec)) in &jur_specs {
        let mut r = Reporter { source, out: diags };
        let path = format!("jurisdictions.{code}");
        let Some(jc) = JurisdictionCode::new(code) else {
            r.key(
                code,
                path,
                "invalid jurisdiction code (expected 2 to 8 upper-case letters, e.g. CN)",
            );
            continue;
        };
        let level = levels
            .iter()
            .position(|l| l.name == spec.level.value)
            .unwrap_or_else(|| {
                r.loc(
                    &spec.level,
                    format!("{path}.level"),
                    format!(
                        "unknown level {:?} (expected one of: {})",
                        spec.level.value,
                        level_names()
                    ),
                );
                0
            });
        let requires = match &spec.requires {
            Some(list) => conditions(&mut r, list, &format!("{path}.requires")),
            None => levels
                .get(level)
                .map(|l| l.requires.clone())
                .unwrap_or_default(),
        };
        let mut subject_thresholds = Vec::new();
        for (i, t) in spec.subject_thresholds.iter().enumerate() {
            let path = format!("{path}.subject_thresholds[{i}].requires");
            if let Some(&requires) =
                conditions(&mut r, std::slice::from_ref(&t.requires), &path).first()
            {
                subject_thresholds.push(SubjectThreshold {
                    subjects: t.subjects,
                    requires,
                    source: t.source.clone(),
                });
            }
        }
        subject_thresholds.sort_by_key(|t| t.subjects);
        jurisdiction_index.insert((*code).to_owned(), jurisdictions.len() as JId);
        jurisdictions.push(Jurisdiction {
            code: jc,
            name: spec.name.clone(),
            law: spec.law.clone(),
            level,
            requires,
            subject_thresholds,
        });
    }
    let jur_names = || {
        jurisdictions
            .iter()
            .map(|j| j.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };

    // Groups.
    let group_specs = merge(files, diags, "groups", |f| &f.groups);
    let mut groups = BTreeMap::new();
    for (name, (source, members)) in &group_specs {
        let mut r = Reporter { source, out: diags };
        if JurisdictionCode::new(name).is_none() || jurisdiction_index.contains_key(*name) {
            r.key(
                name,
                format!("groups.{name}"),
                "group names are upper-case and differ from jurisdiction codes",
            );
        }
        let mut ids = Vec::new();
        for (i, m) in members.iter().enumerate() {
            match jurisdiction_index.get(m.value.as_str()) {
                Some(&j) => ids.push(j),
                None => r.loc(
                    m,
                    format!("groups.{name}[{i}]"),
                    format!(
                        "unknown jurisdiction {:?} (expected one of: {})",
                        m.value,
                        jur_names()
                    ),
                ),
            }
        }
        groups.insert((*name).to_owned(), ids);
    }

    // Regions.
    let region_specs = merge(files, diags, "regions", |f| &f.regions);
    let mut regions = BTreeMap::new();
    for (id, (source, spec)) in &region_specs {
        let mut r = Reporter { source, out: diags };
        let Some(rid) = RegionId::new(id) else {
            r.key(
                id,
                format!("regions.{id}"),
                "invalid region id (expected lowercase letters, digits and dashes)",
            );
            continue;
        };
        match jurisdiction_index.get(spec.jurisdiction.value.as_str()) {
            Some(&j) => {
                regions.insert(rid, j);
            }
            None => r.loc(
                &spec.jurisdiction,
                format!("regions.{id}.jurisdiction"),
                format!(
                    "unknown jurisdiction {:?} (expected one of: {})",
                    spec.jurisdiction.value,
                    jur_names()
                ),
            ),
        }
    }

    // Classification.
    let mut common_classification = Vec::new();
    let mut classification: FxHashMap<ObjectKind, Vec<(FieldPath, Class)>> = FxHashMap::default();
    for (source, file) in files {
        let mut r = Reporter { source, out: diags };
        for (kind_name, fields) in &file.classification {
            let kind = if kind_name == "*" {
                None
            } else {
                match ObjectKind::parse(kind_name) {
                    Some(k) => Some(k),
                    None => {
                        r.key(kind_name, format!("classification.{kind_name}"), "invalid object kind (expected a built-in kind, a lowercase snake_case custom kind or `*`)");
                        continue;
                    }
                }
            };
            let target = match &kind {
                None => &mut common_classification,
                Some(k) => classification.entry(k.clone()).or_default(),
            };
            for (path_text, class) in fields {
                let path = format!("classification.{kind_name}.{path_text}");
                let fp = match field_path(path_text) {
                    Ok(fp) => fp,
                    Err(msg) => {
                        r.loc(class, path, msg);
                        continue;
                    }
                };
                let Some(c) = Class::parse(class) else {
                    r.loc(
                        class,
                        path,
                        format!(
                            "unknown class {:?} (expected one of: {})",
                            class.value,
                            Class::all_names()
                        ),
                    );
                    continue;
                };
                if target.iter().any(|(p, _)| *p == fp) {
                    r.loc(class, path, "classified twice");
                    continue;
                }
                target.push((fp, c));
            }
        }
    }

    // Masking defaults and tokenization.
    let mut masking = vec![MaskSpec::default(); CLASS_COUNT];
    for (source, file) in files {
        let mut r = Reporter { source, out: diags };
        for (class, spec) in &file.masking {
            match Class::parse(class) {
                Some(c) => masking[c.index()] = spec.clone(),
                None => r.key(
                    class,
                    format!("masking.{class}"),
                    format!(
                        "unknown class {class:?} (expected one of: {})",
                        Class::all_names()
                    ),
                ),
            }
            check_mask_style(&mut r, spec, &format!("masking.{class}"), class);
        }
    }
    let default_scope: Arc<str> = files
        .iter()
        .find_map(|(_, f)| f.tokenization.as_ref())
        .map_or(FALLBACK_SCOPE, |t| t.default_scope.as_str())
        .into();

    // Rules.
    let resolver = Resolver {
        index: &jurisdiction_index,
        groups: &groups,
        names: jur_names(),
    };
    let mut rules = Vec::new();
    let mut rule_ids: BTreeMap<String, String> = BTreeMap::new();
    for (source, file) in files {
        for (i, spec) in file.rules.iter().enumerate() {
            let mut r = Reporter { source, out: diags };
            let path = format!("rules[{i}]");
            if let Some(first) = rule_ids.insert(spec.id.value.clone(), source.name.clone()) {
                r.loc(
                    &spec.id,
                    format!("{path}.id"),
                    format!("rule id {:?} used twice (first in {first})", spec.id.value),
                );
            }
            if let Some(rule) = build_rule(&mut r, spec, &path, &resolver, &masking, &default_scope)
            {
                rules.push(rule);
            }
        }
    }

    for (what, empty) in [
        ("levels", levels.is_empty()),
        ("jurisdictions", jurisdictions.is_empty()),
        ("regions", regions.is_empty()),
    ] {
        if empty && diags.is_empty() {
            diags.push(Diagnostic {
                file: files
                    .first()
                    .map_or_else(String::new, |(s, _)| s.name.clone()),
                line: 0,
                column: 0,
                path: what.into(),
                message: format!("the policy set defines no {what}"),
            });
        }
    }

    let mut tests = Vec::new();
    for (source, file) in files {
        for (i, t) in file.tests.iter().enumerate() {
            tests.push(PolicyTest::from_spec(source, i, t));
        }
    }

    let level_refs = jurisdictions
        .iter()
        .map(|j| {
            format!(
                "level:{}:{}",
                levels.get(j.level).map_or("?", |l| l.name.as_str()),
                j.code
            )
        })
        .collect();
    PolicySet {
        level_refs,
        version: content_hash(files),
        levels,
        jurisdictions,
        jurisdiction_index,
        groups,
        regions,
        common_classification,
        classification,
        masking,
        default_scope,
        rules,
        tests,
    }
}

/// Hash of the normalized set: the merged sections in a canonical JSON form.
fn content_hash(files: &[(&Source, PolicyFile)]) -> String {
    let mut merged: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    let mut rules = Vec::new();
    for (_, file) in files {
        let value = serde_json::to_value(file).expect("policy files serialize");
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("rules", serde_json::Value::Array(list)) => rules.extend(list),
                    ("version" | "description", _) => {}
                    (_, serde_json::Value::Object(section)) => {
                        let entry = merged
                            .entry(section_name(&k))
                            .or_insert_with(|| serde_json::Value::Object(Default::default()));
                        if let serde_json::Value::Object(m) = entry {
                            m.extend(section);
                        }
                    }
                    (_, other) => {
                        merged.insert(section_name(&k), other);
                    }
                }
            }
        }
    }
    merged.insert("rules", serde_json::Value::Array(rules));
    let canonical = serde_json::to_vec(&merged).expect("json serializes");
    let digest = Sha256::digest(&canonical);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn section_name(k: &str) -> &'static str {
    match k {
        "levels" => "levels",
        "jurisdictions" => "jurisdictions",
        "groups" => "groups",
        "regions" => "regions",
        "classification" => "classification",
        "masking" => "masking",
        "tokenization" => "tokenization",
        _ => "other",
    }
}

struct Resolver<'a> {
    index: &'a FxHashMap<String, JId>,
    groups: &'a BTreeMap<String, Vec<JId>>,
    names: String,
}

impl Resolver<'_> {
    fn resolve(&self, r: &mut Reporter<'_>, list: &[Loc<String>], path: &str) -> Vec<JId> {
        let mut out = Vec::new();
        for (i, item) in list.iter().enumerate() {
            if let Some(&j) = self.index.get(item.value.as_str()) {
                out.push(j);
            } else if let Some(members) = self.groups.get(item.value.as_str()) {
                out.extend(members);
            } else {
                let groups: Vec<&str> = self.groups.keys().map(String::as_str).collect();
                r.loc(
                    item,
                    format!("{path}[{i}]"),
                    format!(
                        "unknown jurisdiction or group {:?} (expected one of: {}; groups: {})",
                        item.value,
                        self.names,
                        groups.join(", ")
                    ),
                );
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn build_rule(
    r: &mut Reporter<'_>,
    spec: &RuleSpec,
    path: &str,
    res: &Resolver<'_>,
    masking: &[MaskSpec],
    default_scope: &Arc<str>,
) -> Option<Rule> {
    let before = r.out.len();
    if spec.id.value.is_empty() {
        r.loc(&spec.id, format!("{path}.id"), "empty rule id");
    }
    if spec.from.is_empty() {
        r.loc(
            &spec.id,
            format!("{path}.from"),
            "a rule needs at least one jurisdiction in `from`",
        );
    }
    let from = res.resolve(r, &spec.from, &format!("{path}.from"));
    let to = spec
        .to
        .as_ref()
        .map(|t| res.resolve(r, t, &format!("{path}.to")));
    let except_to = res.resolve(r, &spec.except_to, &format!("{path}.except_to"));
    let objects = spec.objects.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let k = ObjectKind::parse(o);
                if k.is_none() {
                    r.loc(o, format!("{path}.objects[{i}]"), format!("invalid object kind {:?} (expected a built-in kind or a lowercase snake_case custom kind)", o.value));
                }
                k
            })
            .collect()
    });
    let fields = spec.fields.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, f)| {
                field_path(f)
                    .map_err(|m| r.loc(f, format!("{path}.fields[{i}]"), m))
                    .ok()
            })
            .collect::<Vec<_>>()
    });
    let classes = spec.classes.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let p = ClassPattern::parse(c);
                if p.is_none() {
                    r.loc(
                        c,
                        format!("{path}.classes[{i}]"),
                        format!(
                            "unknown class {:?} (expected one of: {}, personal.*, sensitive.*, *)",
                            c.value,
                            Class::all_names()
                        ),
                    );
                }
                p
            })
            .collect::<Vec<_>>()
    });
    let requires = conditions(r, &spec.requires, &format!("{path}.requires"));
    let effects = usize::from(spec.action.is_some())
        + usize::from(spec.block.is_some())
        + usize::from(!spec.requires.is_empty());
    if effects != 1 {
        r.loc(
            &spec.id,
            path,
            "a rule needs exactly one of `action`, `block` or `requires`",
        );
    }
    let effect = if let Some(action) = &spec.action {
        let kind = action_kind(r, action, &format!("{path}.action"))?;
        if fields.is_none() && classes.is_none() {
            r.loc(
                action,
                format!("{path}.action"),
                "a rule with `action` needs `fields` or `classes`",
            );
        }
        if spec.mask.is_some() && kind != ActionKind::Mask {
            r.loc(
                action,
                format!("{path}.mask"),
                "`mask` parameters need `action: mask`",
            );
        }
        if spec.scope.is_some() && !matches!(kind, ActionKind::Tokenize | ActionKind::Hash) {
            r.loc(
                action,
                format!("{path}.scope"),
                "`scope` needs `action: tokenize` or `hash`",
            );
        }
        if spec.keep.is_some() && kind != ActionKind::Generalize {
            r.loc(
                action,
                format!("{path}.keep"),
                "`keep` needs `action: generalize`",
            );
        }
        if let Some(m) = &spec.mask {
            check_mask_style(r, m, &format!("{path}.mask"), &spec.id);
        }
        // The rule's mask parameters are merged over the class defaults at plan time; here
        // they are kept as given.
        let _ = masking;
        Effect::Action(Action {
            kind,
            mask: spec.mask.clone().unwrap_or_default(),
            scope: spec
                .scope
                .as_deref()
                .map_or_else(|| default_scope.clone(), Arc::from),
            keep: spec.keep.clone().map_or_else(default_keep, Arc::from),
        })
    } else if let Some(reason) = &spec.block {
        if fields.is_some() {
            r.loc(
                &spec.id,
                format!("{path}.fields"),
                "a `block` rule matches `classes`, not `fields` (use `action: block` on fields)",
            );
        }
        Effect::Block(reason.clone())
    } else {
        if fields.is_some() || classes.is_some() {
            r.loc(
                &spec.id,
                path,
                "a `requires` rule applies to whole records: remove `fields` and `classes`",
            );
        }
        Effect::Require(requires)
    };
    (r.out.len() == before).then(|| Rule {
        id: spec.id.value.as_str().into(),
        from,
        to,
        except_to,
        objects,
        purposes: spec.purposes.clone(),
        transfer: spec.transfer,
        fields,
        classes,
        effect,
    })
}

fn field_path(text: &str) -> Result<FieldPath, String> {
    let fp = FieldPath::parse(text).map_err(|e| format!("invalid field path {text:?}: {e}"))?;
    if fp.segments().iter().any(|s| matches!(s, Segment::Index(_))) {
        return Err(format!(
            "invalid field path {text:?}: use `[*]` for array elements"
        ));
    }
    Ok(fp)
}

fn action_kind(r: &mut Reporter<'_>, action: &Loc<String>, path: &str) -> Option<ActionKind> {
    let kind = ActionKind::parse(action);
    if kind.is_none() {
        r.loc(
            action,
            path,
            format!(
                "unknown action {:?} (expected one of: {})",
                action.value,
                ActionKind::all_names()
            ),
        );
    }
    kind
}

fn conditions(r: &mut Reporter<'_>, list: &[Loc<String>], path: &str) -> Vec<Condition> {
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        match Condition::parse(c) {
            Some(c) => out.push(c),
            None => r.loc(
                c,
                format!("{path}[{i}]"),
                format!(
                    "unknown condition {:?} (expected one of: {})",
                    c.value,
                    Condition::all_names()
                ),
            ),
        }
    }
    out
}

fn check_mask_style(r: &mut Reporter<'_>, spec: &MaskSpec, path: &str, key: &str) {
    if let Some(style) = &spec.style
        && !matches!(style.as_str(), "initials" | "stars")
    {
        r.key(
            key,
            format!("{path}.style"),
            format!("unknown mask style {style:?} (expected one of: initials, stars)"),
        );
    }
}
